/* tasks.c — placeholder until its module is written: every route answers 404 like an unbuilt path. */
#include "handlers.h"
#include "reply.h"

int
tasks_list(struct req *r)
{
	return req_fail(r, 404, "Not found.");
}

int
tasks_create(struct req *r)
{
	return req_fail(r, 404, "Not found.");
}

int
tasks_get(struct req *r)
{
	return req_fail(r, 404, "Not found.");
}

int
tasks_patch(struct req *r)
{
	return req_fail(r, 404, "Not found.");
}

int
tasks_delete(struct req *r)
{
	return req_fail(r, 404, "Not found.");
}

int
projects_tasks_list(struct req *r)
{
	return req_fail(r, 404, "Not found.");
}

int
projects_tasks_create(struct req *r)
{
	return req_fail(r, 404, "Not found.");
}

int
projects_tasks_delete(struct req *r)
{
	return req_fail(r, 404, "Not found.");
}

int
projects_next(struct req *r)
{
	return req_fail(r, 404, "Not found.");
}
