/* jsonstream.h — splits a JSON import body into its top-level items without building a tree, so a
 * 100 MB body is parsed item by item (each one with json-c by the caller) and never held whole.
 *
 * Accepted shapes, decided by the first byte that is not whitespace (a UTF-8 BOM is skipped):
 *   '['  a list: each element of the list is an item (scalars included; the caller judges them);
 *   '{'  one object, or JSON Lines when another value follows it on a later line (each line's
 *        value is an item; values must be separated by a newline; blank lines are allowed).
 * Anything else is an error. The splitter tracks strings, escapes and the nesting of brackets
 * (a ']' closing a '{' is an error, and so is a single quote outside strings, which json-c
 * would take and Python's json refuses); it does not check numbers, literals or the ':' and ','
 * inside an item: js_parse does that (json-c, strict) when the caller parses the span.
 *
 * Errors do not depend on how the input is cut into chunks: the same bytes give the same items
 * and the same message whatever the chunk sizes (an item over the size limit is reported as such
 * even where a later byte of it is malformed).
 *
 * Memory: a span that lies inside the chunk being fed is handed out in place; a span that crosses
 * chunks is copied into one growing buffer, bounded by the max_element limit. The bracket stack is
 * one byte per level, bounded by max_depth. Nothing else grows with the input.
 *
 * Depth counts the levels of the whole document as json-c does: in a list, the list is level 1 and
 * an item's own braces are level 2. A caller parsing an item with json_tokener_new_ex can use
 * max_depth as the tokener depth: the splitter has already refused anything deeper.
 *
 * Errors name the byte offset from the start of the stream (BOM included) and, for limits, the
 * setting the caller names. */
#ifndef SIALI_JSONSTREAM_H
#define SIALI_JSONSTREAM_H

#include <stddef.h>

struct jsonstream;

struct js_limits {
	size_t max_depth;           /* nesting levels of the document; 0 = no limit */
	const char *depth_setting;  /* named in the error, e.g. "max_json_depth"; NULL = not named */
	size_t max_element;         /* bytes of one item; 0 = no limit */
	const char *element_setting;
};

enum js_mode {
	JS_UNKNOWN,  /* nothing seen yet */
	JS_ARRAY,    /* a list */
	JS_OBJECT,   /* one object (so far: becomes JS_LINES when a second value starts) */
	JS_LINES,    /* JSON Lines */
};

/* Called once per item: p..p+n is the item's exact text (no surrounding whitespace, not
 * NUL-terminated), valid only during the call; index counts items from 0. Return 0 to go on,
 * non-zero to stop: the feed then returns 1 and every later call returns 1. */
typedef int js_element_fn(void *ctx, const char *p, size_t n, size_t index);

/* New splitter; the limits are copied (the setting names are not: they must outlive it).
 * NULL only when out of memory. Free with js_free. */
struct jsonstream *js_new(const struct js_limits *lim, js_element_fn *on_element, void *ctx);
void js_free(struct jsonstream *js);

/* Feeds the next n bytes. Returns 0 (go on), -1 (malformed input or a limit: js_error says which;
 * sticky) or 1 (stopped by the callback; sticky). Items complete inside the chunk are delivered
 * before it returns. */
int js_feed(struct jsonstream *js, const char *buf, size_t n);

/* End of input: delivers a last JSON Lines scalar that ends the stream, and checks that the
 * document is complete (a list closed, no item cut). Returns 0, -1 or 1 as js_feed. An empty (or
 * blank) stream is an error. */
int js_finish(struct jsonstream *js);

/* The message of the last -1 ("" before any error). Lives as long as js. */
const char *js_error(const struct jsonstream *js);

enum js_mode js_mode(const struct jsonstream *js);
size_t js_count(const struct jsonstream *js);   /* items delivered so far */

/* During on_element: the stream offset of the item's first byte (for js_parse's messages). */
size_t js_item_offset(const struct jsonstream *js);

/* Parses one item span with json-c in strict mode (no comments, single quotes, NaN...), as
 * Python's json would accept it, ending bare numbers and literals (json-c waits for more input
 * after "12" or "true" unless it sees a terminator) and requiring the whole span to be one value.
 * max_depth as in js_limits (0 = json-c's default, 32). Returns a new object (caller owns), or
 * NULL with "Invalid JSON at byte N: <what>" in err, N counted from offset (js_item_offset).
 * The JSON null item is returned as NULL with err set to "" (check err[0]). */
struct json_object *js_parse(const char *p, size_t n, size_t offset, size_t max_depth, char *err,
    size_t errsz);

#endif
