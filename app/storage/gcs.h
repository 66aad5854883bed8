/* gcs.h — the "gcs" connector (contract in storage.h; implementation notes in gcs.c).
 *
 * Config (Label Studio's field names, plus two of ours): {"bucket", "prefix" (a folder: "" or
 * "a/b", a trailing '/' is added; leading '/' dropped), "google_application_credentials" (the
 * service-account JSON key as a string; required: anonymous access is not supported),
 * "google_project_id" (optional, unused by these calls), "presign_ttl" (minutes, default 15: used
 * when storage_presign is given a ttl <= 0), "endpoint" (ours: http(s)://host[:port][/path] of the
 * JSON API, default https://storage.googleapis.com; signed URLs use its scheme and host)}. The
 * OAuth token endpoint is the key's own "token_uri" (default https://oauth2.googleapis.com/token).
 *
 * Keys are full object names, the configured prefix included (like S3 keys); get/put/del/presign
 * refuse a key outside the prefix, with a "." or ".." segment, or with control characters.
 * Listing yields names in GCS's order, skips folder markers (names ending in '/') and, when not
 * recursive, the prefixes; the cursor is GCS's pageToken.
 *
 * open only parses and checks the config (the key must parse and carry client_email and
 * private_key): no request is made (validate with a one-key list). The OAuth token is fetched on
 * the first request and cached per process until a minute before it expires. Every request goes
 * through outbound_fetch (SSRF guard, outbound_timeout); an endpoint or token_uri the guard
 * refuses answers STORAGE_REFUSED. */
#ifndef SIALI_GCS_H
#define SIALI_GCS_H

#include "storage.h"

extern const struct storage_ops storage_gcs_ops;

#endif
