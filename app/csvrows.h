/* csvrows.h — CSV / TSV import bodies to one JSON object per row, streaming (libcsv underneath),
 * so a large file is read chunk by chunk and never held whole.
 *
 * What Label Studio does (data_import/models.py): pandas.read_csv(sep=...).fillna('') with the
 * default header='infer', i.e. the first row is ALWAYS the header; the CSV separator is ';' when
 * the first line has more ';' than ',', else ','; TSV is '\t'. We follow that, with these choices:
 *   - header: always the first non-blank row, as pandas does (the "column1..N for header-less
 *     files" of older docs is not what the code does). Names as pandas makes them: an empty name
 *     becomes "Unnamed: i" (i = 0-based column), a repeated one "name.1", "name.2"...
 *   - separator detection (sep 0): the most frequent of ',' ';' '\t' '|' outside quotes in the
 *     first line, ties going to that order, ',' when none occurs. Same answer as Label Studio
 *     whenever the file only uses ',' or ';'.
 *   - values are strings, exactly as in the file ("" for an empty cell, as fillna('') gives).
 *     pandas would turn all-numeric columns into numbers and "NA"/"null"/... into ""; that needs
 *     the whole column before the first row and guesses; strings are predictable and every object
 *     tag Label Studio checks accepts a string.
 *   - a row with more or fewer fields than the header is an error naming its line (pandas errors
 *     on more and fills fewer with ""; we refuse both rather than import a shifted row).
 *   - blank lines, and lines holding only spaces/tabs, are skipped (pandas' skip_blank_lines).
 *   - a UTF-8 BOM is skipped; CRLF, LF and CR line ends; quoted fields may hold separators,
 *     newlines and "" for a quote; spaces are kept (no trimming); every field must be valid UTF-8;
 *     a quoted field still open at the end of input is an error. An empty file is an error.
 *
 * Line numbers are physical lines from 1 (the header is line 1 unless blank lines precede it),
 * counting CRLF, LF and lone CR as one line end; a row's line is the one it starts on.
 * Memory: one row object at a time plus libcsv's field buffer, bounded by max_field. */
#ifndef SIALI_CSVROWS_H
#define SIALI_CSVROWS_H

#include <stddef.h>

struct csvrows;
struct json_object;

struct csvrows_limits {
	size_t max_field;            /* bytes of one field; 0 = no limit */
	const char *field_setting;   /* named in the error; NULL = not named */
	size_t max_columns;          /* fields in one row (header included); 0 = no limit */
	const char *columns_setting;
};

/* Called once per data row with a new object {header name: "value", ...} in column order; the
 * callee owns row (json_object_put) whatever it returns. index counts data rows from 0; line is
 * where the row starts. Return 0 to go on, non-zero to stop: the feed then returns 1, as does
 * every later call. */
typedef int csvrows_row_fn(void *ctx, struct json_object *row, size_t index, size_t line);

/* sep: ',', ';', '\t', '|' (or any other byte than '"', CR and LF), or 0 to detect from the first
 * line. The limits are copied (the setting names must outlive the parser). NULL when out of
 * memory or sep is '"', CR or LF. Free with csvrows_free. */
struct csvrows *csvrows_new(char sep, const struct csvrows_limits *lim, csvrows_row_fn *on_row,
    void *ctx);
void csvrows_free(struct csvrows *c);

/* Feeds the next n bytes. Returns 0, -1 (bad input or a limit: csvrows_error says which; sticky)
 * or 1 (stopped by the callback; sticky). Rows complete inside the chunk are delivered before it
 * returns (while the separator is being detected, rows wait for the end of the first line). */
int csvrows_feed(struct csvrows *c, const char *buf, size_t n);

/* End of input: delivers a last row without a line end, and checks the file was complete.
 * Returns 0, -1 or 1 as csvrows_feed. */
int csvrows_finish(struct csvrows *c);

const char *csvrows_error(const struct csvrows *c);   /* "" before any error */

/* The header, once its row has been read (0 columns before that). Names live as long as c. */
size_t csvrows_ncolumns(const struct csvrows *c);
const char *csvrows_column(const struct csvrows *c, size_t i);
char csvrows_sep(const struct csvrows *c);            /* the separator in use; 0 while detecting */
size_t csvrows_count(const struct csvrows *c);        /* data rows delivered */

#endif
