/* reply.c — JSON replies and the one error envelope (see reply.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <json-c/json.h>

#include "db.h"
#include "fcgi.h"
#include "log.h"
#include "reply.h"
#include "version.h"

const char *
reply_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 206: return "Partial Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 415: return "Unsupported Media Type";
	case 416: return "Range Not Satisfiable";
	case 422: return "Unprocessable Content";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "Unknown";
	}
}

static int
out(struct req *r, const void *buf, size_t len)
{
	if (r->fcgi == NULL)
		return write(STDOUT_FILENO, buf, len) == (ssize_t)len ? 0 : -1;
	if (fcgi_write(r->fcgi, buf, len) != 0)
		return -1;
	r->bytes_out += len;
	return 0;
}

void
reply_header(struct req *r, const char *name, const char *value)
{
	if (r->nheaders < (int)(sizeof(r->headers) / sizeof(r->headers[0])))
		r->headers[r->nheaders++] = req_printf(r, "%s: %s", name, value);
}

/* Writes the status line and headers; len < 0 means no Content-Length (streaming). */
static int
send_headers(struct req *r, int status, const char *ctype, long long len)
{
	char head[2048];
	int n;

	if (r->headers_sent)
		return 0;
	r->headers_sent = 1;
	r->status = status;
	if (r->fcgi == NULL)
		return 0;
	n = snprintf(head, sizeof(head), "Status: %d %s\r\n", status, reply_reason(status));
	if (ctype != NULL)
		n += snprintf(head + n, sizeof(head) - (size_t)n, "Content-Type: %s\r\n", ctype);
	if (len >= 0)
		n += snprintf(head + n, sizeof(head) - (size_t)n, "Content-Length: %lld\r\n", len);
	for (int i = 0; i < r->nheaders && (size_t)n < sizeof(head); i++)
		n += snprintf(head + n, sizeof(head) - (size_t)n, "%s\r\n", r->headers[i]);
	if ((size_t)n >= sizeof(head) - 3)
		n = (int)sizeof(head) - 3;
	head[n++] = '\r';
	head[n++] = '\n';
	return out(r, head, (size_t)n);
}

int
reply_raw(struct req *r, int status, const char *content_type, const char *body, size_t len)
{
	if (r->headers_sent)
		return r->status;
	if (status == 204 || status == 304) {
		send_headers(r, status, NULL, -1);
		return status;
	}
	send_headers(r, status, content_type, (long long)len);
	if (!r->head && len > 0)
		out(r, body, len);
	return status;
}

int
reply_json(struct req *r, int status, struct json_object *obj)
{
	size_t len = 0;
	const char *s;

	req_own(r, obj);
	if (obj == NULL && status != 204)
		obj = req_own(r, json_object_new_object());
	s = status == 204 ? "" : json_object_to_json_string_length(obj,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	return reply_raw(r, status, "application/json", s, len);
}

int
reply_empty(struct req *r, int status)
{
	return reply_raw(r, status, "application/json", "", 0);
}

int
reply_start(struct req *r, int status, const char *content_type)
{
	return send_headers(r, status, content_type, -1);
}

int
reply_write(struct req *r, const void *buf, size_t len)
{
	if (r->head)
		return 0;
	return out(r, buf, len);
}

static struct json_object *
envelope(struct req *r, int status, const char *detail)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_string(r->request_id ? r->request_id : ""));
	json_object_object_add(o, "status_code", json_object_new_int(status));
	json_object_object_add(o, "version", json_object_new_string(SIALI_VERSION));
	json_object_object_add(o, "detail", json_object_new_string(detail));
	json_object_object_add(o, "exc_info", NULL);
	return o;
}

int
req_fail(struct req *r, int status, const char *fmt, ...)
{
	va_list ap;
	char *detail;

	va_start(ap, fmt);
	detail = req_vprintf(r, fmt, ap);
	va_end(ap);
	return reply_json(r, status, envelope(r, status, detail));
}

int
req_fail_validation(struct req *r, struct json_object *errors)
{
	struct json_object *o = envelope(r, 400, "Validation error");

	json_object_object_add(o, "validation_errors", errors);
	return reply_json(r, 400, o);
}

int
req_fail_field(struct req *r, const char *field, const char *fmt, ...)
{
	va_list ap;
	char *msg;
	struct json_object *errs = json_object_new_object(), *list = json_object_new_array();

	va_start(ap, fmt);
	msg = req_vprintf(r, fmt, ap);
	va_end(ap);
	json_object_array_add(list, json_object_new_string(msg));
	json_object_object_add(errs, field, list);
	return req_fail_validation(r, errs);
}

int
req_fail_db(struct req *r)
{
	switch (db_last_error()) {
	case DB_ERR_CONN:
		return req_fail(r, 503, "Service temporarily unavailable: the database cannot be reached.");
	case DB_ERR_TIMEOUT:
		return req_fail(r, 503, "Service temporarily unavailable: the database is busy, try again.");
	default:
		return req_fail(r, 500, "Internal server error.");
	}
}
