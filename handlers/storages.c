/* storages.c — TEMPORARY: replaced by the storage API. Every route answers 404 until built. */
#include "handlers.h"
#include "req.h"
#include "reply.h"
int storages_list_all(struct req *r) { return req_fail(r, 404, "Not found."); }
int storages_types(struct req *r) { return req_fail(r, 404, "Not found."); }
int storages_list(struct req *r) { return req_fail(r, 404, "Not found."); }
int storages_create(struct req *r) { return req_fail(r, 404, "Not found."); }
int storages_validate(struct req *r) { return req_fail(r, 404, "Not found."); }
int storages_files(struct req *r) { return req_fail(r, 404, "Not found."); }
int storages_get(struct req *r) { return req_fail(r, 404, "Not found."); }
int storages_patch(struct req *r) { return req_fail(r, 404, "Not found."); }
int storages_delete(struct req *r) { return req_fail(r, 404, "Not found."); }
int storages_sync(struct req *r) { return req_fail(r, 404, "Not found."); }
