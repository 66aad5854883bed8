/* multipart.c — multipart.h. Content is scanned for the delimiter CRLF "--" boundary with memchr
 * on CR and one compare; a delimiter cut by a chunk end is kept in a small hold buffer and
 * completed (or given back as content) by the next chunk. The body is parsed as if it were
 * preceded by CRLF, so a first boundary line at the very start is found like any other. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "multipart.h"

enum mp_state {
	MP_PREAMBLE,    /* looking for the first delimiter; bytes are dropped */
	MP_DATA,        /* a part's content */
	MP_LINE,        /* after a delimiter: padding, then CRLF or "--" */
	MP_LINE_DASH,   /* after a delimiter and one '-' */
	MP_LINE_CR,     /* after a delimiter line's CR */
	MP_HEADERS,     /* a part's header block */
	MP_EPILOGUE,    /* after the final delimiter; bytes are dropped */
};

#define MP_DELIM_MAX (MP_MAX_BOUNDARY + 4)

struct multipart {
	struct mp_limits lim;
	struct mp_callbacks cb;
	void *ctx;
	enum mp_state state;
	int status;
	char err[256];

	char delim[MP_DELIM_MAX + 1];   /* CRLF "--" boundary */
	size_t dlen;
	char hold[MP_DELIM_MAX];        /* a proper prefix of delim seen at a chunk's end */
	size_t hold_len;

	char *hdr;                      /* the current part's header block */
	size_t hdr_len, hdr_cap;

	struct mp_part part;
	char *name, *filename, *ctype;
	size_t nparts, nfiles;
	int in_part;
};

__attribute__((format(printf, 2, 3)))
static int
mp_fail(struct multipart *m, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m->err, sizeof(m->err), fmt, ap);
	va_end(ap);
	m->status = -1;
	return -1;
}

static int
mp_limit(struct multipart *m, const char *what, size_t limit, const char *setting)
{
	return mp_fail(m, "%s %zu%s%s%s", what, limit, setting ? " (setting " : "",
	    setting ? setting : "", setting ? ")" : "");
}

static int
mp_tchar(unsigned char c)
{
	return c > 32 && c < 127 && strchr("()<>@,;:\\\"/[]?={}", c) == NULL;
}

static int
mp_bchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c != 0 && strchr("'()+_,-./:=? ", c) != NULL);
}

static const char *
mp_skip_ows(const char *s, const char *end)
{
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	return s;
}

/* Reads a parameter value (token or quoted-string) at *sp into a new string; NULL when malformed
 * or out of memory (*oom tells). */
static char *
mp_param_value(const char **sp, const char *end, int *oom)
{
	const char *s = *sp;
	char *out, *o;

	if (s < end && *s == '"') {
		if ((out = o = malloc((size_t)(end - s))) == NULL)
			return *oom = 1, NULL;
		for (s++; s < end && *s != '"'; s++) {
			if (*s == '\\' && s + 1 < end)
				s++;
			*o++ = *s;
		}
		if (s == end) {
			free(out);
			return NULL;
		}
		*o = '\0';
		*sp = s + 1;
		return out;
	}
	while (s < end && mp_tchar((unsigned char)*s))
		s++;
	if (s == *sp)
		return NULL;
	if ((out = strndup(*sp, (size_t)(s - *sp))) == NULL)
		return *oom = 1, NULL;
	*sp = s;
	return out;
}

/* Walks "; name=value" parameters of a header value after its first token; calls fn for each.
 * Returns 0, -1 when malformed, -2 when out of memory or fn failed. */
static int
mp_params(const char *s, const char *end, int (*fn)(void *, const char *, size_t, char *),
    void *arg)
{
	for (;;) {
		const char *name;
		size_t nlen;
		char *value;
		int oom = 0;

		s = mp_skip_ows(s, end);
		if (s == end)
			return 0;
		if (*s != ';')
			return -1;
		s = mp_skip_ows(s + 1, end);
		if (s == end)
			return 0; /* a trailing ';' */
		name = s;
		while (s < end && mp_tchar((unsigned char)*s) && *s != '=')
			s++;
		nlen = (size_t)(s - name);
		s = mp_skip_ows(s, end);
		if (nlen == 0 || s == end || *s != '=')
			return -1;
		s = mp_skip_ows(s + 1, end);
		if ((value = mp_param_value(&s, end, &oom)) == NULL)
			return oom ? -2 : -1;
		if (fn(arg, name, nlen, value) != 0)
			return -2;
	}
}

struct mp_boundary {
	char *boundary;
};

static int
mp_boundary_param(void *arg, const char *name, size_t nlen, char *value)
{
	struct mp_boundary *b = arg;

	if (nlen == 8 && strncasecmp(name, "boundary", 8) == 0 && b->boundary == NULL) {
		b->boundary = value;
		return 0;
	}
	free(value);
	return 0;
}

struct multipart *
mp_new(const char *content_type, const struct mp_limits *lim, const struct mp_callbacks *cb,
    void *ctx, char *err, size_t errsz)
{
	const char *s = content_type ? content_type : "", *end = s + strlen(s);
	struct mp_boundary b = { NULL };
	struct multipart *m;
	const char *msg = NULL;
	size_t blen;
	int rc;

	s = mp_skip_ows(s, end);
	if (strncasecmp(s, "multipart/", 10) != 0) {
		msg = "Content type is not multipart";
		goto fail;
	}
	s += 10;
	while (s < end && mp_tchar((unsigned char)*s))
		s++;
	rc = mp_params(s, end, mp_boundary_param, &b);
	if (rc == -2) {
		msg = "Out of memory";
		goto fail;
	}
	if (rc == -1) {
		msg = "Malformed multipart content type";
		goto fail;
	}
	if (b.boundary == NULL) {
		msg = "Multipart content type has no boundary";
		goto fail;
	}
	blen = strlen(b.boundary);
	if (blen == 0 || blen > MP_MAX_BOUNDARY) {
		msg = "Multipart boundary must be 1 to 70 characters long";
		goto fail;
	}
	for (size_t i = 0; i < blen; i++)
		if (!mp_bchar((unsigned char)b.boundary[i]) || (i == blen - 1 && b.boundary[i] == ' ')) {
			msg = "Multipart boundary has a character RFC 2046 does not allow";
			goto fail;
		}
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		msg = "Out of memory";
		goto fail;
	}
	memcpy(m->delim, "\r\n--", 4);
	memcpy(m->delim + 4, b.boundary, blen);
	m->dlen = blen + 4;
	free(b.boundary);
	if (lim)
		m->lim = *lim;
	if (cb)
		m->cb = *cb;
	m->ctx = ctx;
	m->state = MP_PREAMBLE;
	memcpy(m->hold, "\r\n", 2); /* as if the body followed a line end */
	m->hold_len = 2;
	return m;
fail:
	free(b.boundary);
	if (errsz > 0)
		snprintf(err, errsz, "%s", msg);
	return NULL;
}

static void
mp_clear_part(struct multipart *m)
{
	free(m->name);
	free(m->filename);
	free(m->ctype);
	m->name = m->filename = m->ctype = NULL;
	memset(&m->part, 0, sizeof(m->part));
	m->in_part = 0;
}

void
mp_free(struct multipart *m)
{
	if (m == NULL)
		return;
	mp_clear_part(m);
	free(m->hdr);
	free(m);
}

const char *
mp_error(const struct multipart *m)
{
	return m->err;
}

size_t
mp_count(const struct multipart *m)
{
	return m->nparts;
}

static int
mp_stopped(struct multipart *m, int rc)
{
	if (rc != 0) {
		m->status = 1;
		return 1;
	}
	return 0;
}

static int
mp_emit(struct multipart *m, const char *p, size_t n)
{
	if (n == 0 || m->state != MP_DATA || m->cb.on_part_data == NULL)
		return 0;
	return mp_stopped(m, m->cb.on_part_data(m->ctx, &m->part, p, n));
}

/* Scans content for the delimiter. Returns 1 when found (*used: bytes of p up to the delimiter's
 * end), 0 when p is all content (or held), or the status when a callback stopped. */
static int
mp_scan(struct multipart *m, const char *p, size_t n, size_t *used)
{
	const char *d = m->delim;
	size_t dl = m->dlen, pos = 0;

	if (m->hold_len > 0) {
		char s[2 * MP_DELIM_MAX];
		size_t k = m->hold_len, take = n < dl ? n : dl, sl = k + take;

		memcpy(s, m->hold, k);
		memcpy(s + k, p, take);
		for (size_t i = 0; i < k; i++) {
			size_t avail = sl - i;

			if (avail >= dl ? memcmp(s + i, d, dl) != 0 : memcmp(s + i, d, avail) != 0)
				continue;
			m->hold_len = 0;
			if (mp_emit(m, s, i))
				return m->status;
			if (avail >= dl) {
				*used = i + dl - k;
				return 1;
			}
			/* still a prefix, and all of p is in it: keep holding */
			memcpy(m->hold, s + i, avail);
			m->hold_len = avail;
			*used = n;
			return 0;
		}
		m->hold_len = 0;
		if (mp_emit(m, s, k))
			return m->status;
	}
	while (pos < n) {
		const char *q = memchr(p + pos, '\r', n - pos);
		size_t i, avail;

		if (q == NULL)
			break;
		i = (size_t)(q - p);
		avail = n - i;
		if (avail >= dl ? memcmp(q, d, dl) == 0 : memcmp(q, d, avail) == 0) {
			if (mp_emit(m, p, i))
				return m->status;
			if (avail >= dl) {
				*used = i + dl;
				return 1;
			}
			memcpy(m->hold, q, avail);
			m->hold_len = avail;
			*used = n;
			return 0;
		}
		pos = i + 1;
	}
	if (mp_emit(m, p, n))
		return m->status;
	*used = n;
	return 0;
}

static int
mp_set(char **dst, char *value)
{
	free(*dst);
	*dst = value;
	return 0;
}

struct mp_disp {
	char *name, *filename, *filename_ext;
};

static int
mp_disp_param(void *arg, const char *name, size_t nlen, char *value)
{
	struct mp_disp *d = arg;

	if (nlen == 4 && strncasecmp(name, "name", 4) == 0)
		return mp_set(&d->name, value);
	if (nlen == 8 && strncasecmp(name, "filename", 8) == 0)
		return mp_set(&d->filename, value);
	if (nlen == 9 && strncasecmp(name, "filename*", 9) == 0)
		return mp_set(&d->filename_ext, value);
	free(value);
	return 0;
}

static int
mp_hex(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* RFC 5987 ext-value: charset'language'pct-encoded, decoded in place to UTF-8. 0 or -1. */
static int
mp_ext_value(char *v)
{
	char *q1 = strchr(v, '\''), *q2, *src, *o;
	int latin1;

	if (q1 == NULL || (q2 = strchr(q1 + 1, '\'')) == NULL)
		return -1;
	if ((size_t)(q1 - v) == 5 && strncasecmp(v, "UTF-8", 5) == 0)
		latin1 = 0;
	else if ((size_t)(q1 - v) == 10 && strncasecmp(v, "ISO-8859-1", 10) == 0)
		latin1 = 1;
	else
		return -1;
	/* in place: the output starts before the input, and only %XX (3 bytes) may give 2 bytes;
	 * a raw byte above 0x7F is not an attr-char (RFC 5987) and is refused */
	for (src = q2 + 1, o = v; *src; src++) {
		unsigned char c = (unsigned char)*src;

		if (c >= 0x80)
			return -1;
		if (c == '%') {
			int hi = mp_hex((unsigned char)src[1]), lo = hi < 0 ? -1 : mp_hex((unsigned char)src[2]);

			if (lo < 0)
				return -1;
			c = (unsigned char)(hi << 4 | lo);
			src += 2;
			if (c == 0)
				return -1;
		}
		if (latin1 && c >= 0x80) {
			*o++ = (char)(0xC0 | c >> 6);
			*o++ = (char)(0x80 | (c & 0x3F));
		} else {
			*o++ = (char)c;
		}
	}
	*o = '\0';
	return 0;
}

/* Parses the header block (without its final empty line) into the part. */
static int
mp_headers(struct multipart *m)
{
	const char *s = m->hdr, *end = m->hdr + m->hdr_len;
	int disposition = 0;
	size_t idx = m->nparts;

	while (s < end) {
		const char *eol = memchr(s, '\r', (size_t)(end - s)), *colon, *v, *ve;

		/* the block ends with CRLF, and a CR is only accepted before LF */
		if (eol == NULL || eol + 1 >= end || eol[1] != '\n')
			return mp_fail(m, "Malformed headers in multipart part %zu", idx);
		colon = s;
		while (colon < eol && mp_tchar((unsigned char)*colon))
			colon++;
		if (colon == s || colon == eol || *colon != ':')
			return mp_fail(m, "Malformed headers in multipart part %zu", idx);
		v = mp_skip_ows(colon + 1, eol);
		ve = eol;
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		if (memchr(v, '\0', (size_t)(ve - v)) != NULL || memchr(v, '\n', (size_t)(ve - v)) != NULL)
			return mp_fail(m, "Malformed headers in multipart part %zu", idx);
		if ((size_t)(colon - s) == 19 && strncasecmp(s, "Content-Disposition", 19) == 0) {
			struct mp_disp d = { NULL, NULL, NULL };
			const char *t = v;
			int rc;

			if (disposition)
				return mp_fail(m, "Multipart part %zu has two Content-Disposition headers", idx);
			disposition = 1;
			while (t < ve && mp_tchar((unsigned char)*t))
				t++;
			if ((size_t)(t - v) != 9 || strncasecmp(v, "form-data", 9) != 0)
				return mp_fail(m, "Multipart part %zu is not form-data", idx);
			rc = mp_params(t, ve, mp_disp_param, &d);
			if (rc == 0 && d.filename_ext) {
				if (mp_ext_value(d.filename_ext) == 0) {
					free(d.filename);
					d.filename = d.filename_ext;
				} else {
					free(d.filename_ext);
					if (d.filename == NULL)
						rc = -1;
				}
				d.filename_ext = NULL;
			}
			free(d.filename_ext);
			m->name = d.name;
			m->filename = d.filename;
			if (rc == -2)
				return mp_fail(m, "Out of memory while reading multipart");
			if (rc == -1)
				return mp_fail(m, "Malformed Content-Disposition in multipart part %zu", idx);
		} else if ((size_t)(colon - s) == 12 && strncasecmp(s, "Content-Type", 12) == 0) {
			free(m->ctype);
			if ((m->ctype = strndup(v, (size_t)(ve - v))) == NULL)
				return mp_fail(m, "Out of memory while reading multipart");
		}
		s = eol + 2;
	}
	if (!disposition)
		return mp_fail(m, "Multipart part %zu has no Content-Disposition header", idx);
	if (m->name == NULL)
		return mp_fail(m, "Multipart part %zu has no name", idx);
	return 0;
}

/* Appends one header byte; 1 when the block is complete. */
static int
mp_header_byte(struct multipart *m, char c)
{
	if (m->lim.max_header_bytes && m->hdr_len + 1 > m->lim.max_header_bytes)
		return mp_limit(m, "Multipart part headers larger than", m->lim.max_header_bytes,
		    m->lim.header_setting);
	if (m->hdr_len == m->hdr_cap) {
		size_t cap = m->hdr_cap ? m->hdr_cap * 2 : 512;
		char *nh = realloc(m->hdr, cap);

		if (nh == NULL)
			return mp_fail(m, "Out of memory while reading multipart");
		m->hdr = nh;
		m->hdr_cap = cap;
	}
	m->hdr[m->hdr_len++] = c;
	if (c != '\n' || m->hdr_len < 2 || m->hdr[m->hdr_len - 2] != '\r')
		return 0;
	return m->hdr_len == 2 || (m->hdr_len >= 4 && memcmp(m->hdr + m->hdr_len - 4, "\r\n\r\n", 4) == 0);
}

static int
mp_begin_part(struct multipart *m)
{
	/* the block without its empty line: "" or lines each ending CRLF */
	m->hdr_len -= 2;
	if (mp_headers(m) != 0)
		return -1;
	if (m->filename && m->lim.max_files && ++m->nfiles > m->lim.max_files)
		return mp_limit(m, "Too many files in one request: more than", m->lim.max_files,
		    m->lim.files_setting);
	m->part.name = m->name;
	m->part.filename = m->filename;
	m->part.content_type = m->ctype;
	m->part.index = m->nparts++;
	m->in_part = 1;
	m->state = MP_DATA;
	m->hdr_len = 0;
	if (m->cb.on_part_begin)
		return mp_stopped(m, m->cb.on_part_begin(m->ctx, &m->part));
	return 0;
}

int
mp_feed(struct multipart *m, const char *buf, size_t n)
{
	size_t i = 0;

	if (m->status)
		return m->status;
	while (i < n) {
		size_t used;
		int rc;
		char c;

		switch (m->state) {
		case MP_PREAMBLE:
		case MP_DATA:
			rc = mp_scan(m, buf + i, n - i, &used);
			if (rc < 0 || m->status)
				return m->status;
			i += used;
			if (rc == 1) {
				if (m->in_part) {
					int stop = m->cb.on_part_end ?
					    m->cb.on_part_end(m->ctx, &m->part) : 0;

					mp_clear_part(m);
					if (mp_stopped(m, stop))
						return 1;
				}
				m->state = MP_LINE;
			}
			continue;
		case MP_LINE:
			c = buf[i++];
			if (c == ' ' || c == '\t')
				continue;
			if (c == '-') {
				m->state = MP_LINE_DASH;
			} else if (c == '\r') {
				m->state = MP_LINE_CR;
			} else {
				return mp_fail(m, "Malformed multipart boundary line");
			}
			continue;
		case MP_LINE_DASH:
			if (buf[i++] != '-')
				return mp_fail(m, "Malformed multipart boundary line");
			m->state = MP_EPILOGUE;
			continue;
		case MP_LINE_CR:
			if (buf[i++] != '\n')
				return mp_fail(m, "Malformed multipart boundary line");
			if (m->lim.max_parts && m->nparts >= m->lim.max_parts)
				return mp_limit(m, "Too many parts in the multipart body: more than",
				    m->lim.max_parts, m->lim.parts_setting);
			m->state = MP_HEADERS;
			m->hdr_len = 0;
			continue;
		case MP_HEADERS:
			while (i < n) {
				rc = mp_header_byte(m, buf[i++]);
				if (rc < 0)
					return -1;
				if (rc == 1) {
					if (mp_begin_part(m) != 0)
						return m->status;
					break;
				}
			}
			continue;
		case MP_EPILOGUE:
			return 0;
		}
	}
	return 0;
}

int
mp_finish(struct multipart *m)
{
	if (m->status)
		return m->status;
	if (m->state == MP_EPILOGUE)
		return 0;
	if (m->state == MP_PREAMBLE)
		return mp_fail(m, "Multipart body has no boundary line");
	return mp_fail(m, "Multipart body ends without the final boundary");
}
