/* exports.c — placeholder until its module is written: every route answers 404 like an unbuilt path. */
#include "handlers.h"
#include "reply.h"

int
exports_list(struct req *r)
{
	return req_fail(r, 404, "Not found.");
}

int
exports_create(struct req *r)
{
	return req_fail(r, 404, "Not found.");
}

int
exports_get(struct req *r)
{
	return req_fail(r, 404, "Not found.");
}

int
exports_delete(struct req *r)
{
	return req_fail(r, 404, "Not found.");
}

int
exports_download(struct req *r)
{
	return req_fail(r, 404, "Not found.");
}

int
exports_convert(struct req *r)
{
	return req_fail(r, 404, "Not found.");
}
