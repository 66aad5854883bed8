/* drafts.c — placeholder until its module is written: every route answers 404 like an unbuilt path. */
#include "handlers.h"
#include "reply.h"

int
drafts_list(struct req *r)
{
	return req_fail(r, 404, "Not found.");
}

int
drafts_create(struct req *r)
{
	return req_fail(r, 404, "Not found.");
}

int
drafts_get(struct req *r)
{
	return req_fail(r, 404, "Not found.");
}

int
drafts_patch(struct req *r)
{
	return req_fail(r, 404, "Not found.");
}

int
drafts_delete(struct req *r)
{
	return req_fail(r, 404, "Not found.");
}
