/* scope.c — org-scoped lookups of projects and tasks, and the project's parsed config. */
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "labelconfig.h"
#include "log.h"
#include "reply.h"
#include "shared.h"

static void
ref_from_row(struct project_ref *ref, const struct db_row *row)
{
	ref->id = db_int(row, 0);
	ref->organization_id = db_int(row, 1);
	ref->title = db_str(row, 2);
	ref->label_config = db_str(row, 3);
	ref->maximum_annotations = (int)db_int(row, 4);
	ref->sampling = db_str(row, 5);
	ref->skip_queue = db_str(row, 6);
	ref->show_ground_truth_first = (int)db_int(row, 7);
	ref->show_overlap_first = (int)db_int(row, 8);
	ref->overlap_cohort_percentage = (int)db_int(row, 9);
	ref->model_version = db_str(row, 10);
}

static int
scope_lookup(struct req *r, enum stmt_id id, int64_t key, struct project_ref *ref)
{
	struct db_row row;
	int rc;

	memset(ref, 0, sizeof(*ref));
	if (key <= 0 || r->who.org_id <= 0)
		return 0;
	rc = db_row(r, &row, id, "ii", key, r->who.org_id);
	if (rc == 1)
		ref_from_row(ref, &row);
	return rc;
}

int
scope_project(struct req *r, int64_t id, struct project_ref *ref)
{
	return scope_lookup(r, STMT_SCOPE_PROJECT, id, ref);
}

int
scope_task(struct req *r, int64_t task_id, struct project_ref *ref)
{
	return scope_lookup(r, STMT_SCOPE_TASK, task_id, ref);
}

static void
config_free(void *c)
{
	lc_free(c);
}

/* Parsed configs are kept per worker process, keyed by project and checked against the stored
 * text, so the labeling hot path (an annotation checked against its config) does not parse XML
 * on every request. A slot's config is replaced when the project's text changed; the old one is
 * freed at the end of the request that replaced it, since that request may still hold it. */
#define CONFIG_SLOTS 16

static struct {
	int64_t project_id;
	char *xml;
	struct labelconfig *c;
	unsigned long used;                 /* for eviction: least recently used goes */
} configs[CONFIG_SLOTS];
static unsigned long config_clock;

const struct labelconfig *
scope_config(struct req *r, const struct project_ref *ref)
{
	char err[512];
	struct labelconfig *c;
	char *xml;
	size_t slot = CONFIG_SLOTS;         /* this project's stale slot, else the least recent */

	if (ref->label_config == NULL)
		return NULL;
	for (size_t i = 0; i < CONFIG_SLOTS; i++) {
		if (configs[i].c == NULL || configs[i].project_id != ref->id)
			continue;
		if (strcmp(configs[i].xml, ref->label_config) == 0) {
			configs[i].used = ++config_clock;
			return configs[i].c;
		}
		slot = i;
	}
	if (slot == CONFIG_SLOTS) {
		slot = 0;
		for (size_t i = 1; i < CONFIG_SLOTS; i++)
			if (configs[i].used < configs[slot].used)
				slot = i;
	}
	c = lc_parse(ref->label_config, strlen(ref->label_config), err, sizeof(err));
	if (c == NULL) {
		log_error("project %lld: stored label_config does not parse: %s", (long long)ref->id, err);
		return NULL;
	}
	if ((xml = strdup(ref->label_config)) == NULL) {
		req_defer(r, config_free, c);           /* no room to keep it: this request only */
		return c;
	}
	if (configs[slot].c != NULL)
		req_defer(r, config_free, configs[slot].c);
	free(configs[slot].xml);
	configs[slot].project_id = ref->id;
	configs[slot].xml = xml;
	configs[slot].c = c;
	configs[slot].used = ++config_clock;
	return c;
}

int
scope_reply_row(struct req *r, int status, enum stmt_id stmt, int64_t id,
    struct json_object *(*to_json)(struct req *r, const struct db_row *row))
{
	struct db_row row;
	int rc = db_row(r, &row, stmt, "i", id);

	if (rc < 0)
		return req_fail_db(r);
	if (rc == 0)
		return req_fail(r, 404, "Not found.");
	return reply_json(r, status, to_json(r, &row));
}
