/* csvrows.c — csvrows.h on libcsv. Input is handed to csv_parse in pieces that end at a line end
 * (or after CSVROWS_PIECE bytes), so the callbacks always know the physical line, a row's first
 * line is known before libcsv sees it, and a runaway field is caught within one piece of the limit
 * (libcsv cannot be stopped from a callback: after an error the callbacks only return). */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <csv.h>
#include <json-c/json.h>

#include "csvrows.h"

#define CSVROWS_PIECE  (64 * 1024)  /* most bytes given to csv_parse at once */
#define CSVROWS_DETECT (64 * 1024)  /* most bytes of the first line read to detect the separator */

struct csvrows {
	struct csv_parser p;
	struct csvrows_limits lim;
	csvrows_row_fn *fn;
	void *ctx;
	char sep;
	int status;
	char err[256];

	size_t bom;             /* BOM bytes matched, 3 once done with it (or past it) */
	int detecting;
	char *head;             /* input held while the separator is detected */
	size_t head_len, head_cap;
	size_t head_scan;       /* csvrows_head_done's progress through head */
	size_t head_skip;       /* blank-line bytes at its start */
	int head_seen, head_quoted;

	size_t line;            /* the line of the piece being parsed */
	int prev_cr;            /* the last byte was CR (an LF after it ends no new line) */
	int row_open;           /* a row has started and not ended */
	size_t row_line;

	struct json_object *row;
	size_t nfields;
	int blank;              /* the row's only field so far is spaces/tabs */

	char **cols;
	size_t ncols;
	int have_header;
	size_t index;
};

static const unsigned char bom[3] = { 0xEF, 0xBB, 0xBF };

__attribute__((format(printf, 2, 3)))
static void
csvrows_fail(struct csvrows *c, const char *fmt, ...)
{
	va_list ap;

	if (c->status)
		return;
	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	c->status = -1;
}

static void
csvrows_limit(struct csvrows *c, const char *what, size_t limit, const char *setting)
{
	csvrows_fail(c, "CSV line %zu %s %zu%s%s%s", c->row_line, what, limit,
	    setting ? " (setting " : "", setting ? setting : "", setting ? ")" : "");
}

/* Strict UTF-8 (no overlongs, surrogates or code points past U+10FFFF). */
static int
csvrows_utf8(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char b = s[i];
		size_t k;
		unsigned int cp, min;

		if (b < 0x80) {
			i++;
			continue;
		}
		if ((b & 0xE0) == 0xC0) {
			k = 1, cp = b & 0x1F, min = 0x80;
		} else if ((b & 0xF0) == 0xE0) {
			k = 2, cp = b & 0x0F, min = 0x800;
		} else if ((b & 0xF8) == 0xF0) {
			k = 3, cp = b & 0x07, min = 0x10000;
		} else {
			return 0;
		}
		if (n - i <= k)
			return 0;
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xC0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + j] & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
		i += k + 1;
	}
	return 1;
}

static int
csvrows_nospace(unsigned char ch)
{
	(void)ch;
	return 0;
}

static int
csvrows_blank(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t')
			return 0;
	return 1;
}

static void
csvrows_on_field(void *s, size_t len, void *data)
{
	struct csvrows *c = data;
	struct json_object *v;

	if (c->status)
		return;
	if (s == NULL)
		s = "";
	/* the size first: a chunk end may already have refused this field while it was read */
	if (c->lim.max_field && len > c->lim.max_field) {
		csvrows_limit(c, "has a field larger than", c->lim.max_field, c->lim.field_setting);
		return;
	}
	c->nfields++;
	if (c->lim.max_columns && c->nfields > c->lim.max_columns) {
		csvrows_limit(c, "has more columns than", c->lim.max_columns, c->lim.columns_setting);
		return;
	}
	if (len > INT_MAX) { /* json-c's string length is an int */
		csvrows_limit(c, "has a field larger than", (size_t)INT_MAX, NULL);
		return;
	}
	if (!csvrows_utf8(s, len)) {
		csvrows_fail(c, "CSV line %zu is not valid UTF-8", c->row_line);
		return;
	}
	c->blank = c->nfields == 1 && csvrows_blank(s, len);
	if (!c->have_header) {
		char **nc;

		if (memchr(s, '\0', len) != NULL) {
			csvrows_fail(c, "CSV header (line %zu) has a NUL byte", c->row_line);
			return;
		}
		if ((nc = realloc(c->cols, (c->ncols + 1) * sizeof(*nc))) == NULL) {
			csvrows_fail(c, "Out of memory while reading CSV");
			return;
		}
		c->cols = nc;
		if ((c->cols[c->ncols] = strndup(s, len)) == NULL) {
			csvrows_fail(c, "Out of memory while reading CSV");
			return;
		}
		c->ncols++;
		return;
	}
	if (c->nfields > c->ncols)
		return; /* counted; the row end reports it */
	if (c->row == NULL && (c->row = json_object_new_object()) == NULL) {
		csvrows_fail(c, "Out of memory while reading CSV");
		return;
	}
	if ((v = json_object_new_string_len(s, (int)len)) == NULL ||
	    json_object_object_add_ex(c->row, c->cols[c->nfields - 1], v,
	    JSON_C_OBJECT_ADD_KEY_IS_NEW) != 0) {
		json_object_put(v);
		csvrows_fail(c, "Out of memory while reading CSV");
	}
}

static int
csvrows_has_col(const struct csvrows *c, size_t upto, const char *name)
{
	for (size_t i = 0; i < upto; i++)
		if (strcmp(c->cols[i], name) == 0)
			return 1;
	return 0;
}

/* pandas' names: "" -> "Unnamed: i"; a repeat of x -> "x.1", "x.2", ... (skipping taken ones). */
static int
csvrows_name_columns(struct csvrows *c)
{
	for (size_t i = 0; i < c->ncols; i++) {
		char *name = c->cols[i], *alt;
		size_t k = 1, sz;

		if (name[0] == '\0') {
			free(name);
			if (asprintf(&c->cols[i], "Unnamed: %zu", i) < 0)
				return c->cols[i] = NULL, -1;
			name = c->cols[i];
		}
		if (!csvrows_has_col(c, i, name))
			continue;
		sz = strlen(name) + 24;
		if ((alt = malloc(sz)) == NULL)
			return -1;
		do
			snprintf(alt, sz, "%s.%zu", name, k++);
		while (csvrows_has_col(c, i, alt));
		free(name);
		c->cols[i] = alt;
	}
	return 0;
}

static void
csvrows_on_row(int term, void *data)
{
	struct csvrows *c = data;
	struct json_object *row;
	size_t n = c->nfields;
	int rc;

	(void)term;
	c->row_open = 0;
	c->nfields = 0;
	if (c->status)
		return;
	if (!c->have_header) {
		if (n == 1 && c->blank) {
			free(c->cols[--c->ncols]);
			return;
		}
		c->have_header = 1;
		if (csvrows_name_columns(c) != 0)
			csvrows_fail(c, "Out of memory while reading CSV");
		return;
	}
	row = c->row;
	c->row = NULL;
	if (n == 1 && c->blank) {
		json_object_put(row);
		return;
	}
	if (n != c->ncols) {
		json_object_put(row);
		csvrows_fail(c, "Expected %zu fields in line %zu, saw %zu", c->ncols, c->row_line, n);
		return;
	}
	rc = c->fn(c->ctx, row, c->index++, c->row_line);
	if (rc != 0)
		c->status = 1;
}

struct csvrows *
csvrows_new(char sep, const struct csvrows_limits *lim, csvrows_row_fn *on_row, void *ctx)
{
	struct csvrows *c;

	if (sep == '"' || sep == '\r' || sep == '\n')
		return NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if (csv_init(&c->p, 0) != 0) {
		free(c);
		return NULL;
	}
	csv_set_space_func(&c->p, csvrows_nospace);
	csv_set_blk_size(&c->p, 16384);
	if (lim)
		c->lim = *lim;
	c->fn = on_row;
	c->ctx = ctx;
	c->sep = sep;
	c->detecting = sep == 0;
	if (sep)
		csv_set_delim(&c->p, (unsigned char)sep);
	c->line = 1;
	return c;
}

void
csvrows_free(struct csvrows *c)
{
	if (c == NULL)
		return;
	csv_free(&c->p);
	json_object_put(c->row);
	for (size_t i = 0; i < c->ncols; i++)
		free(c->cols[i]);
	free(c->cols);
	free(c->head);
	free(c);
}

const char *
csvrows_error(const struct csvrows *c)
{
	return c->err;
}

size_t
csvrows_ncolumns(const struct csvrows *c)
{
	return c->have_header ? c->ncols : 0;
}

const char *
csvrows_column(const struct csvrows *c, size_t i)
{
	return c->have_header && i < c->ncols ? c->cols[i] : NULL;
}

char
csvrows_sep(const struct csvrows *c)
{
	return c->detecting ? 0 : c->sep;
}

size_t
csvrows_count(const struct csvrows *c)
{
	return c->index;
}

/* Parses bytes whose separator is known, a piece at a time. */
static int
csvrows_parse(struct csvrows *c, const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && c->status == 0) {
		size_t lim = n - i < CSVROWS_PIECE ? n - i : CSVROWS_PIECE, e = 0;
		unsigned char last;

		while (e < lim && s[i + e] != '\n' && s[i + e] != '\r')
			e++;
		if (e < lim)
			e++; /* the piece ends with its line end */
		last = (unsigned char)s[i + e - 1];
		if (!c->row_open && (e > 1 || (last != '\n' && last != '\r'))) {
			c->row_open = 1;
			c->row_line = c->line;
		}
		if (csv_parse(&c->p, s + i, e, csvrows_on_field, csvrows_on_row, c) != e) {
			csvrows_fail(c, "Out of memory while reading CSV");
			break;
		}
		if (c->status)
			break;
		/* a field being read: libcsv's buffer may hold its closing quote until the next
		 * byte shows whether it is "" (an escaped quote), hence the + 1 */
		if (c->lim.max_field && c->p.entry_pos > c->lim.max_field + 1) {
			csvrows_limit(c, "has a field larger than", c->lim.max_field,
			    c->lim.field_setting);
			break;
		}
		if (last == '\r') {
			c->line++;
			c->prev_cr = 1;
		} else {
			/* an LF ends no new line only right after a CR (CRLF) */
			if (last == '\n' && !(c->prev_cr && e == 1))
				c->line++;
			c->prev_cr = 0;
		}
		i += e;
	}
	return c->status;
}

/* The separator from the first line of head: the most frequent candidate outside quotes. */
static void
csvrows_detect(struct csvrows *c)
{
	static const char cand[] = { ',', ';', '\t', '|' };
	size_t count[sizeof(cand)] = { 0 }, best = 0;
	int quoted = 0;

	/* at most CSVROWS_DETECT bytes, however much head holds: the same answer for any chunking */
	for (size_t i = 0; i < c->head_len && i < CSVROWS_DETECT; i++) {
		char ch = c->head[i];

		if (ch == '"')
			quoted = !quoted;
		else if (!quoted && (ch == '\n' || ch == '\r'))
			break;
		else if (!quoted)
			for (size_t k = 0; k < sizeof(cand); k++)
				count[k] += ch == cand[k];
	}
	for (size_t k = 1; k < sizeof(cand); k++)
		if (count[k] > count[best])
			best = k;
	c->sep = cand[best];
	csv_set_delim(&c->p, (unsigned char)c->sep);
	c->detecting = 0;
}

/* Does head hold a whole first line (a line end outside quotes, after any blank lines), or the
 * CSVROWS_DETECT bytes of it that csvrows_detect reads? Incremental: each byte is looked at once. */
static int
csvrows_head_done(struct csvrows *c)
{
	for (; c->head_scan < c->head_len; c->head_scan++) {
		char ch = c->head[c->head_scan];

		if (!c->head_seen) {
			if (ch == '\n' || ch == '\r') {
				c->head_skip++;
				continue;
			}
			c->head_seen = 1;
		}
		if (ch == '"')
			c->head_quoted = !c->head_quoted;
		else if (!c->head_quoted && (ch == '\n' || ch == '\r'))
			return 1;
		if (c->head_scan + 1 - c->head_skip >= CSVROWS_DETECT)
			return 1;
	}
	return 0;
}

static int
csvrows_flush_head(struct csvrows *c)
{
	size_t skip = 0;

	/* blank lines before the header do not count as the first line */
	while (skip < c->head_len && (c->head[skip] == '\n' || c->head[skip] == '\r'))
		skip++;
	if (skip < c->head_len) {
		char *saved = c->head;

		c->head += skip;
		c->head_len -= skip;
		csvrows_detect(c);
		c->head = saved;
		c->head_len += skip;
	} else {
		c->detecting = 0;
		c->sep = ',';
	}
	csvrows_parse(c, c->head, c->head_len);
	free(c->head);
	c->head = NULL;
	c->head_len = c->head_cap = 0;
	return c->status;
}

static int
csvrows_input(struct csvrows *c, const char *s, size_t n)
{
	if (!c->detecting)
		return csvrows_parse(c, s, n);
	if (c->head_len + n > c->head_cap) {
		size_t cap = c->head_cap ? c->head_cap : 4096;
		char *nh;

		while (cap < c->head_len + n)
			cap *= 2;
		if ((nh = realloc(c->head, cap)) == NULL) {
			csvrows_fail(c, "Out of memory while reading CSV");
			return -1;
		}
		c->head = nh;
		c->head_cap = cap;
	}
	memcpy(c->head + c->head_len, s, n);
	c->head_len += n;
	return csvrows_head_done(c) ? csvrows_flush_head(c) : 0;
}

int
csvrows_feed(struct csvrows *c, const char *buf, size_t n)
{
	size_t i = 0;

	if (c->status)
		return c->status;
	while (c->bom < sizeof(bom) && i < n) {
		if ((unsigned char)buf[i] == bom[c->bom]) {
			c->bom++;
			i++;
			continue;
		}
		/* not a BOM after all: the bytes matched so far are data */
		if (c->bom > 0 && csvrows_input(c, (const char *)bom, c->bom) != 0)
			return c->status;
		c->bom = sizeof(bom) + 1;
	}
	if (i < n)
		csvrows_input(c, buf + i, n - i);
	return c->status;
}

int
csvrows_finish(struct csvrows *c)
{
	if (c->status)
		return c->status;
	if (c->bom > 0 && c->bom < sizeof(bom) && csvrows_input(c, (const char *)bom, c->bom) != 0)
		return c->status;
	c->bom = sizeof(bom) + 1;
	if (c->detecting && csvrows_flush_head(c) != 0)
		return c->status;
	/* strict only for the end: a quoted field still open is an error, not a value */
	csv_set_opts(&c->p, CSV_STRICT | CSV_STRICT_FINI);
	if (csv_fini(&c->p, csvrows_on_field, csvrows_on_row, c) != 0) {
		csvrows_fail(c, "CSV line %zu: a quoted field is not closed", c->row_line);
		return c->status;
	}
	if (c->status)
		return c->status;
	if (!c->have_header)
		csvrows_fail(c, "The CSV file is empty");
	return c->status;
}
