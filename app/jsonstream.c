/* jsonstream.c — the top-level splitter of jsonstream.h: one byte loop with the state kept in the
 * struct between chunks; strings are skipped with a tight inner loop, so the cost per byte is a
 * load and a few compares. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <json-c/json.h>

#include "jsonstream.h"

enum js_state {
	S_BOM,        /* at the start: matching a UTF-8 BOM */
	S_START,      /* before the first value */
	S_ARR_FIRST,  /* after '[': an item or ']' */
	S_ARR_NEXT,   /* after ',': an item */
	S_ARR_AFTER,  /* after an item: ',' or ']' */
	S_DONE,       /* after the closing ']': whitespace only */
	S_AFTER,      /* object / JSON Lines: after a value */
	S_VALUE,      /* inside an item's brackets, outside strings */
	S_STRING,     /* inside a string (of an item, or an item that is a string) */
	S_SCALAR,     /* an item that is a number or literal */
};

struct jsonstream {
	struct js_limits lim;
	js_element_fn *fn;
	void *ctx;
	enum js_state state;
	enum js_mode mode;
	int status;             /* 0, -1 (error), 1 (stopped) */
	int esc;                /* in a string, after a backslash */
	int newline;            /* JSON Lines: a newline since the last value */
	size_t bom;             /* BOM bytes matched */
	size_t off;             /* stream offset of the chunk being fed */
	size_t item_off;        /* stream offset where the current item starts */
	size_t index;           /* items delivered */
	size_t depth;           /* brackets open inside the current item */
	unsigned char *stack;   /* the open brackets, '{' or '[' */
	size_t stack_cap;
	char *buf;              /* the current item, when it crosses chunks */
	size_t len, cap;
	int buffering;
	char err[256];
};

static const unsigned char bom[3] = { 0xEF, 0xBB, 0xBF };

__attribute__((format(printf, 2, 3)))
static int
js_fail(struct jsonstream *js, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(js->err, sizeof(js->err), fmt, ap);
	va_end(ap);
	js->status = -1;
	return -1;
}

static int
js_syntax(struct jsonstream *js, size_t at, const char *what)
{
	return js_fail(js, "Invalid JSON at byte %zu: %s", at, what);
}

static int
js_too_deep(struct jsonstream *js, size_t at)
{
	const char *s = js->lim.depth_setting;

	return js_fail(js, "JSON nesting deeper than %zu%s%s%s at byte %zu", js->lim.max_depth,
	    s ? " (setting " : "", s ? s : "", s ? ")" : "", at);
}

static int
js_too_big(struct jsonstream *js)
{
	const char *s = js->lim.element_setting;

	return js_fail(js, "JSON item at byte %zu is larger than %zu bytes%s%s%s", js->item_off,
	    js->lim.max_element, s ? " (setting " : "", s ? s : "", s ? ")" : "");
}

struct jsonstream *
js_new(const struct js_limits *lim, js_element_fn *on_element, void *ctx)
{
	struct jsonstream *js = calloc(1, sizeof(*js));

	if (js == NULL)
		return NULL;
	if (lim)
		js->lim = *lim;
	js->fn = on_element;
	js->ctx = ctx;
	js->state = S_BOM;
	js->mode = JS_UNKNOWN;
	return js;
}

void
js_free(struct jsonstream *js)
{
	if (js == NULL)
		return;
	free(js->stack);
	free(js->buf);
	free(js);
}

const char *
js_error(const struct jsonstream *js)
{
	return js->err;
}

enum js_mode
js_mode(const struct jsonstream *js)
{
	return js->mode;
}

size_t
js_count(const struct jsonstream *js)
{
	return js->index;
}

size_t
js_item_offset(const struct jsonstream *js)
{
	return js->item_off;
}

struct json_object *
js_parse(const char *p, size_t n, size_t offset, size_t max_depth, char *err, size_t errsz)
{
	int depth = max_depth == 0 ? JSON_TOKENER_DEFAULT_DEPTH :
	    max_depth > 100000 ? 100000 : (int)max_depth;
	struct json_tokener *tok;
	struct json_object *o;
	enum json_tokener_error e;
	size_t end;

	if (errsz > 0)
		err[0] = '\0';
	if (n > INT_MAX - 1) {
		snprintf(err, errsz, "Invalid JSON at byte %zu: item too large", offset);
		return NULL;
	}
	if ((tok = json_tokener_new_ex(depth)) == NULL) {
		snprintf(err, errsz, "Out of memory while reading JSON");
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, p, (int)n);
	e = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	if (o == NULL && e == json_tokener_continue && end == n) {
		/* a bare number or literal: a NUL ends it */
		o = json_tokener_parse_ex(tok, "", 1);
		e = json_tokener_get_error(tok);
		if (e == json_tokener_success)
			end = n;
	}
	if (e == json_tokener_success && end != n) {
		json_object_put(o);
		o = NULL;
		e = json_tokener_error_parse_unexpected;
	}
	if (e != json_tokener_success)
		snprintf(err, errsz, "Invalid JSON at byte %zu: %s", offset + end,
		    e == json_tokener_continue ? "unexpected end of data" : json_tokener_error_desc(e));
	json_tokener_free(tok);
	return o;
}

static int
js_ws(unsigned char c)
{
	return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

/* Appends to the crossing-item buffer; the limit is checked before anything grows. */
static int
js_keep(struct jsonstream *js, const unsigned char *p, size_t n)
{
	if (js->lim.max_element && (js->len + n > js->lim.max_element || js->len + n < js->len))
		return js_too_big(js);
	if (js->len + n > js->cap) {
		size_t cap = js->cap ? js->cap : 4096;
		char *nb;

		while (cap < js->len + n)
			cap *= 2;
		if ((nb = realloc(js->buf, cap)) == NULL)
			return js_fail(js, "Out of memory while reading JSON");
		js->buf = nb;
		js->cap = cap;
	}
	memcpy(js->buf + js->len, p, n);
	js->len += n;
	js->buffering = 1;
	return 0;
}

/* The item that began at p[start] (or earlier, in the buffer) ends before p[end]. */
static int
js_deliver(struct jsonstream *js, const unsigned char *p, size_t start, size_t end)
{
	int rc;

	if (js->buffering) {
		if (js_keep(js, p + start, end - start) != 0)
			return -1;
		rc = js->fn(js->ctx, js->buf, js->len, js->index);
		js->buffering = 0;
		js->len = 0;
	} else {
		if (js->lim.max_element && end - start > js->lim.max_element)
			return js_too_big(js);
		rc = js->fn(js->ctx, (const char *)p + start, end - start, js->index);
	}
	js->index++;
	js->state = js->mode == JS_ARRAY ? S_ARR_AFTER : S_AFTER;
	js->newline = 0;
	if (rc != 0) {
		js->status = 1;
		return 1;
	}
	return 0;
}

/* An error inside an item at p[i]: when the item is already over the size limit there, that is
 * the error, so that the message does not depend on where the chunks were cut (a chunk end checks
 * the size of what it holds). */
static int
js_item_error(struct jsonstream *js, size_t start, size_t i, const char *what)
{
	if (js->lim.max_element && (js->buffering ? js->len : 0) + (i + 1 - start) > js->lim.max_element)
		return js_too_big(js);
	if (what == NULL)
		return js_too_deep(js, js->off + i);
	return js_syntax(js, js->off + i, what);
}

static int
js_push(struct jsonstream *js, unsigned char c, size_t at)
{
	size_t base = js->mode == JS_ARRAY ? 1 : 0;

	if (js->lim.max_depth && base + js->depth + 1 > js->lim.max_depth)
		return js_too_deep(js, at);
	if (js->depth == js->stack_cap) {
		size_t cap = js->stack_cap ? js->stack_cap * 2 : 64;
		unsigned char *ns = realloc(js->stack, cap);

		if (ns == NULL)
			return js_fail(js, "Out of memory while reading JSON");
		js->stack = ns;
		js->stack_cap = cap;
	}
	js->stack[js->depth++] = c;
	return 0;
}

/* An item starts with c at stream offset at. */
static int
js_begin(struct jsonstream *js, unsigned char c, size_t at)
{
	js->item_off = at;
	js->depth = 0;
	js->esc = 0;
	js->buffering = 0;
	js->len = 0;
	if (c == '{' || c == '[') {
		js->state = S_VALUE;
		return js_push(js, c, at);
	}
	if (c == '"') {
		js->state = S_STRING;
		return 0;
	}
	/* N and I: NaN and Infinity, which Python's json (hence Label Studio) reads */
	if (c == '-' || (c >= '0' && c <= '9') || c == 't' || c == 'f' || c == 'n' || c == 'N' ||
	    c == 'I') {
		js->state = S_SCALAR;
		return 0;
	}
	return js_syntax(js, at, "expected a value");
}

int
js_feed(struct jsonstream *js, const char *chunk, size_t n)
{
	const unsigned char *p = (const unsigned char *)chunk;
	size_t i = 0, start = 0;
	unsigned char c;

	if (js->status)
		return js->status;
	if (n == 0)
		return 0;
	while (i < n) {
		switch (js->state) {
		case S_BOM:
			if (p[i] == bom[js->bom]) {
				i++;
				if (++js->bom == sizeof(bom))
					js->state = S_START;
				continue;
			}
			if (js->bom > 0)
				return js_syntax(js, js->off + i, "expected a list or an object");
			js->state = S_START;
			continue;
		case S_START:
			c = p[i];
			if (js_ws(c)) {
				i++;
				continue;
			}
			if (c == '[') {
				js->mode = JS_ARRAY;
				js->state = S_ARR_FIRST;
				i++;
				continue;
			}
			if (c != '{')
				return js_syntax(js, js->off + i, "expected a list or an object");
			js->mode = JS_OBJECT;
			if (js_begin(js, c, js->off + i) != 0)
				return -1;
			start = i++;
			continue;
		case S_ARR_FIRST:
		case S_ARR_NEXT:
			c = p[i];
			if (js_ws(c)) {
				i++;
				continue;
			}
			if (c == ']' && js->state == S_ARR_FIRST) {
				js->state = S_DONE;
				i++;
				continue;
			}
			if (js_begin(js, c, js->off + i) != 0)
				return -1;
			start = i++;
			continue;
		case S_ARR_AFTER:
			c = p[i];
			if (js_ws(c)) {
				i++;
				continue;
			}
			if (c == ',')
				js->state = S_ARR_NEXT;
			else if (c == ']')
				js->state = S_DONE;
			else
				return js_syntax(js, js->off + i, "expected ',' or ']' after a list item");
			i++;
			continue;
		case S_DONE:
			if (!js_ws(p[i]))
				return js_syntax(js, js->off + i, "unexpected data after the end of the list");
			i++;
			continue;
		case S_AFTER:
			c = p[i];
			if (js_ws(c)) {
				if (c == '\n')
					js->newline = 1;
				i++;
				continue;
			}
			if (!js->newline)
				return js_syntax(js, js->off + i, js->mode == JS_OBJECT ?
				    "unexpected data after the object" :
				    "expected a newline between JSON Lines values");
			js->mode = JS_LINES;
			if (js_begin(js, c, js->off + i) != 0)
				return -1;
			start = i++;
			continue;
		case S_VALUE:
			while (i < n) {
				c = p[i++];
				if (c == '"') {
					js->state = S_STRING;
					break;
				}
				if (c == '{' || c == '[') {
					if (js->lim.max_depth && (js->mode == JS_ARRAY) + js->depth + 1 >
					    js->lim.max_depth)
						return js_item_error(js, start, i - 1, NULL);
					if (js_push(js, c, js->off + i - 1) != 0)
						return -1;
				} else if (c == '\'') {
					/* json-c takes 'strings'; Python's json, like RFC 8259, does not */
					return js_item_error(js, start, i - 1, "unexpected character \"'\"");
				} else if (c == '}' || c == ']') {
					if (js->stack[js->depth - 1] != (c == '}' ? '{' : '['))
						return js_item_error(js, start, i - 1, c == '}' ?
						    "'}' closes a list" : "']' closes an object");
					if (--js->depth == 0) {
						int rc = js_deliver(js, p, start, i);

						if (rc != 0)
							return rc;
						break;
					}
				}
			}
			continue;
		case S_STRING:
			while (i < n) {
				c = p[i++];
				if (js->esc) {
					js->esc = 0;
				} else if (c == '\\') {
					js->esc = 1;
				} else if (c == '"') {
					if (js->depth == 0) {
						int rc = js_deliver(js, p, start, i);

						if (rc != 0)
							return rc;
					} else {
						js->state = S_VALUE;
					}
					break;
				}
			}
			continue;
		case S_SCALAR:
			while (i < n) {
				c = p[i];
				if (js_ws(c) || c == ',' || c == ']' || c == '}') {
					int rc = js_deliver(js, p, start, i);

					if (rc != 0)
						return rc;
					break;
				}
				i++;
			}
			continue;
		}
	}
	if ((js->state == S_VALUE || js->state == S_STRING || js->state == S_SCALAR) &&
	    js_keep(js, p + start, n - start) != 0)
		return -1;
	js->off += n;
	return 0;
}

int
js_finish(struct jsonstream *js)
{
	if (js->status)
		return js->status;
	switch (js->state) {
	case S_BOM:
	case S_START:
		if (js->bom > 0 && js->bom < sizeof(bom))
			return js_syntax(js, js->off, "expected a list or an object");
		return js_fail(js, "Invalid JSON: the document is empty");
	case S_ARR_FIRST:
	case S_ARR_NEXT:
	case S_ARR_AFTER:
		return js_syntax(js, js->off, "the list is not closed (missing ']')");
	case S_VALUE:
	case S_STRING:
		return js_syntax(js, js->item_off, js->state == S_STRING ?
		    "the value starting here ends inside a string" :
		    "the value starting here is not closed");
	case S_SCALAR:
		if (js->mode == JS_ARRAY)
			return js_syntax(js, js->off, "the list is not closed (missing ']')");
		return js_deliver(js, (const unsigned char *)"", 0, 0);
	case S_DONE:
	case S_AFTER:
		break;
	}
	return 0;
}
