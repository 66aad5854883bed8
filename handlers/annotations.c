/* annotations.c — placeholder until its module is written: every route answers 404 like an unbuilt path. */
#include "handlers.h"
#include "reply.h"

int
annotations_list(struct req *r)
{
	return req_fail(r, 404, "Not found.");
}

int
annotations_create(struct req *r)
{
	return req_fail(r, 404, "Not found.");
}

int
annotations_get(struct req *r)
{
	return req_fail(r, 404, "Not found.");
}

int
annotations_patch(struct req *r)
{
	return req_fail(r, 404, "Not found.");
}

int
annotations_delete(struct req *r)
{
	return req_fail(r, 404, "Not found.");
}

int
annotations_to_draft(struct req *r)
{
	return req_fail(r, 404, "Not found.");
}
