/* predictions.c — placeholder until its module is written: every route answers 404 like an unbuilt path. */
#include "handlers.h"
#include "reply.h"

int
predictions_list(struct req *r)
{
	return req_fail(r, 404, "Not found.");
}

int
predictions_create(struct req *r)
{
	return req_fail(r, 404, "Not found.");
}

int
predictions_get(struct req *r)
{
	return req_fail(r, 404, "Not found.");
}

int
predictions_patch(struct req *r)
{
	return req_fail(r, 404, "Not found.");
}

int
predictions_delete(struct req *r)
{
	return req_fail(r, 404, "Not found.");
}

int
predictions_import(struct req *r)
{
	return req_fail(r, 404, "Not found.");
}
