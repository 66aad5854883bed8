/* reply.h — everything a handler sends: JSON replies and the one error envelope.
 *
 * Each function writes a complete response and returns the HTTP status it sent, so handlers end
 * with `return reply_json(...)` or `return req_fail(...)`. Error bodies always have Label Studio's
 * envelope {"id","status_code","version","detail","exc_info":null[,"validation_errors"]}; their
 * detail is ours, never a MariaDB, curl or OpenSSL message (those go to the log).
 */
#ifndef SIALI_REPLY_H
#define SIALI_REPLY_H

#include <stddef.h>
#include "req.h"

struct json_object;

/* Sends obj as JSON (takes ownership of obj). 204 sends no body. */
int reply_json(struct req *r, int status, struct json_object *obj);
/* Sends a bodiless response (204, or 201 with nothing to say). */
int reply_empty(struct req *r, int status);
/* Sends raw bytes with a content type. */
int reply_raw(struct req *r, int status, const char *content_type, const char *body, size_t len);
/* Adds a response header before the body is sent (e.g. "Allow", "WWW-Authenticate"). At most 8. */
void reply_header(struct req *r, const char *name, const char *value);

/* The error envelope with a formatted detail. */
int req_fail(struct req *r, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* 400 "Validation error" with validation_errors = errors (takes ownership; a json object
 * {field: [messages]}). */
int req_fail_validation(struct req *r, struct json_object *errors);
/* 400 with validation_errors {field: [msg]} for a single field. */
int req_fail_field(struct req *r, const char *field, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Maps the last database failure to 503 (connection) or 500 (anything else), logging the cause. */
int req_fail_db(struct req *r);

/* Streaming (large replies): headers first, then chunks. Returns 0, or -1 once the client is gone. */
int reply_start(struct req *r, int status, const char *content_type);
int reply_write(struct req *r, const void *buf, size_t len);

/* The reason phrase of a status ("Not Found"). */
const char *reply_reason(int status);

#endif
