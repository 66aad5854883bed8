/* auth.h — who is calling. The router's auth gate calls auth_authenticate for every AUTH_USER
 * route; handlers never parse credentials themselves.
 *
 * Accepted, in Label Studio's order: `X-Api-Key: <key>` (same as a legacy token),
 * `Authorization: Token <40-hex key>` (legacy, switchable per organization) and
 * `Authorization: Bearer <access JWT>` (from a personal access token). */
#ifndef SIALI_AUTH_H
#define SIALI_AUTH_H

#include "req.h"

/* Fills r->who and returns 0, or answers 401 (or 503 when the database is down) and returns the
 * status sent. */
int auth_authenticate(struct req *r);

#endif
