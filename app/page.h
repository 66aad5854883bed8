/* page.h — Django REST framework's page-number pagination: ?page=&page_size=, a
 * {"count","next","previous","results"} envelope with absolute links, 404 "Invalid page." past
 * the end. Page sizes are capped, so no request can ask for an unbounded page. */
#ifndef SIALI_PAGE_H
#define SIALI_PAGE_H

#include <stdint.h>
#include "req.h"

struct json_object;

struct page {
	int64_t number;         /* 1-based */
	int64_t size;
	int64_t offset;
};

/* Reads page and page_size (page_size -1 means "all" when allow_all). A bad page_size falls back
 * to the default, as DRF does; a bad page answers 404. Returns 0, or the status sent. */
int page_parse(struct req *r, struct page *p, int64_t def_size, int64_t max_size, int allow_all);
/* 0 if the page exists for count items, else answers 404 "Invalid page." and returns 404. */
int page_check(struct req *r, const struct page *p, int64_t count);
/* Builds the envelope around results (takes ownership of results). */
struct json_object *page_envelope(struct req *r, const struct page *p, int64_t count,
    struct json_object *results);

#endif
