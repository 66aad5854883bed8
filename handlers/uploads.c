/* uploads.c — placeholder until its module is written: every route answers 404 like an unbuilt path. */
#include "handlers.h"
#include "reply.h"

int
uploads_list(struct req *r)
{
	return req_fail(r, 404, "Not found.");
}

int
uploads_delete(struct req *r)
{
	return req_fail(r, 404, "Not found.");
}

int
uploads_get(struct req *r)
{
	return req_fail(r, 404, "Not found.");
}

int
uploads_replace(struct req *r)
{
	return req_fail(r, 404, "Not found.");
}

int
uploads_delete_one(struct req *r)
{
	return req_fail(r, 404, "Not found.");
}

int
uploads_serve(struct req *r)
{
	return req_fail(r, 404, "Not found.");
}
