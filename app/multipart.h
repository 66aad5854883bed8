/* multipart.h — a streaming multipart/form-data parser (RFC 7578 on RFC 2046's framing): the body
 * is fed chunk by chunk and each part's content goes to the caller as it arrives, so an upload of
 * any size is never held whole.
 *
 * Framing: the preamble before the first boundary line and the epilogue after the final one are
 * ignored; a boundary line is CRLF "--" boundary, optional spaces/tabs, CRLF (the first one may
 * start the body without the CRLF); the final one is CRLF "--" boundary "--". A part is header
 * lines (CRLF-terminated, no folding), an empty line, then content. Headers: Content-Disposition
 * must be there, of type form-data, with a name; filename*=charset''percent-encoded (RFC 5987,
 * UTF-8 or ISO-8859-1) wins over filename=; quoted values may use backslash escapes; other
 * headers (Content-Transfer-Encoding...) are ignored. The filename is passed on as sent: the
 * caller must strip directories from it before using it as a path. Names are not checked for
 * valid UTF-8.
 *
 * Memory: the header block of one part (bounded by max_header_bytes) and the tail of a chunk
 * that may begin a boundary (at most the boundary's length + 4 bytes). */
#ifndef SIALI_MULTIPART_H
#define SIALI_MULTIPART_H

#include <stddef.h>

struct multipart;

#define MP_MAX_BOUNDARY 70   /* RFC 2046 */

struct mp_limits {
	size_t max_parts;              /* parts in the body; 0 = no limit */
	const char *parts_setting;     /* named in the error; NULL = not named */
	size_t max_files;              /* parts with a filename; 0 = no limit */
	const char *files_setting;
	size_t max_header_bytes;       /* one part's header block, CRLFs included; 0 = no limit */
	const char *header_setting;
};

/* A part as its headers describe it. The strings are NUL-terminated (a decoded filename* holding
 * a NUL byte is refused), owned by the parser, and valid until on_part_end returns. */
struct mp_part {
	const char *name;
	const char *filename;          /* NULL when the part has none (a plain field) */
	const char *content_type;      /* NULL when absent (RFC 7578: text/plain) */
	size_t index;                  /* parts from 0 */
};

/* Each returns 0 to go on, non-zero to stop: the feed then returns 1, as does every later call.
 * on_part_data may be called any number of times per part (never with n == 0); the bytes are
 * valid only during the call. Any callback may be NULL. A part is complete only when
 * on_part_end is called: after an error or a stop, the open part gets no on_part_end (the caller
 * drops what it began). */
struct mp_callbacks {
	int (*on_part_begin)(void *ctx, const struct mp_part *part);
	int (*on_part_data)(void *ctx, const struct mp_part *part, const char *p, size_t n);
	int (*on_part_end)(void *ctx, const struct mp_part *part);
};

/* A parser for a body sent with this Content-Type header value (the boundary is taken from it,
 * quoted or not). NULL with the reason in err (NUL-terminated, truncated to errsz) when the type
 * is not multipart/..., has no boundary, or the boundary is empty, longer than 70 characters or
 * has characters RFC 2046 does not allow; also when out of memory. Limits and callbacks are
 * copied (the setting names must outlive the parser). Free with mp_free. */
struct multipart *mp_new(const char *content_type, const struct mp_limits *lim,
    const struct mp_callbacks *cb, void *ctx, char *err, size_t errsz);
void mp_free(struct multipart *m);

/* Feeds the next n bytes. Returns 0, -1 (malformed body or a limit: mp_error says which;
 * sticky) or 1 (stopped by a callback; sticky). */
int mp_feed(struct multipart *m, const char *buf, size_t n);

/* End of input: an error unless the final boundary was seen. Returns 0, -1 or 1. */
int mp_finish(struct multipart *m);

const char *mp_error(const struct multipart *m);   /* "" before any error */
size_t mp_count(const struct multipart *m);        /* parts begun so far */

#endif
