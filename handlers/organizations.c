/* organizations.c — the caller's organizations and their memberships. Every lookup goes through
 * a live membership of the caller, so another organization answers 404. */
#include <string.h>
#include <json-c/json.h>

#include "db.h"
#include "handlers.h"
#include "jsonx.h"
#include "page.h"
#include "reply.h"

/* Loads an organization the caller belongs to (ORG_COLS). 1 found, 0 not, -1 database error. */
static int
load_org(struct req *r, int64_t id, struct db_row *row)
{
	if (id <= 0)
		return 0;
	return db_row(r, row, STMT_ORG_OF_MEMBER, "ii", r->who.user_id, id);
}

static struct json_object *
org_to_json(struct req *r, const struct db_row *row, const struct db_rows *members)
{
	struct json_object *o = json_object_new_object(), *users = json_object_new_array();

	(void)r;
	jadd_int(o, "id", db_int(row, 0));
	jadd_str(o, "title", db_str(row, 1));
	jadd_str(o, "token", db_str(row, 2));
	jadd_str(o, "created_at", db_str(row, 3));
	jadd_str(o, "updated_at", db_str(row, 4));
	jadd_str(o, "contact_info", db_null(row, 5) ? NULL : db_str(row, 5));
	jadd_int_or_null(o, "created_by", db_int(row, 6), db_null(row, 6));
	for (size_t i = 0; i < members->n; i++)
		json_object_array_add(users, json_object_new_int64(db_int(&members->rows[i], 0)));
	json_object_object_add(o, "users", users);
	return o;
}

static int
reply_org(struct req *r, int64_t id)
{
	struct db_row row;
	struct db_rows members;
	int rc = load_org(r, id, &row);

	if (rc < 0)
		return req_fail_db(r);
	if (rc == 0)
		return req_fail(r, 404, "Not found.");
	if (db_rows(r, &members, STMT_ORG_MEMBER_IDS, "i", id) != 0)
		return req_fail_db(r);
	return reply_json(r, 200, org_to_json(r, &row, &members));
}

int
orgs_list(struct req *r)
{
	struct db_rows rows;
	struct json_object *a;

	if (db_rows(r, &rows, STMT_ORGS_OF_USER, "i", r->who.user_id) != 0)
		return req_fail_db(r);
	a = json_object_new_array_ext((int)rows.n);
	for (size_t i = 0; i < rows.n; i++) {
		struct json_object *o = json_object_new_object();
		const struct db_row *row = &rows.rows[i];

		jadd_int(o, "id", db_int(row, 0));
		jadd_str(o, "title", db_str(row, 1));
		jadd_str(o, "contact_info", db_null(row, 2) ? NULL : db_str(row, 2));
		jadd_str(o, "created_at", db_str(row, 3));
		json_object_array_add(a, o);
	}
	return reply_json(r, 200, a);
}

int
orgs_get(struct req *r)
{
	return reply_org(r, req_param_id(r, "id"));
}

int
orgs_patch(struct req *r)
{
	int64_t id = req_param_id(r, "id");
	struct db_row row;
	const char *title, *contact;
	int rc = load_org(r, id, &row);

	if (rc < 0)
		return req_fail_db(r);
	if (rc == 0)
		return req_fail(r, 404, "Not found.");
	title = db_str(&row, 1);
	contact = db_null(&row, 5) ? NULL : db_str(&row, 5);
	rc = jget_str(r->json, "title", &title);
	if (rc < 0 || (rc == 1 && (*title == '\0' || strlen(title) > 1000)))
		return req_fail_field(r, "title", rc < 0 ? "Not a valid string." : *title == '\0' ?
		    "This field may not be blank." : "Ensure this field has no more than 1000 characters.");
	rc = jget_str_or_null(r->json, "contact_info", &contact);
	if (rc < 0 || (rc == 1 && contact != NULL && strlen(contact) > 254))
		return req_fail_field(r, "contact_info", rc < 0 ? "Not a valid string." :
		    "Ensure this field has no more than 254 characters.");
	if (contact != NULL && *contact != '\0' && strchr(contact, '@') == NULL)
		return req_fail_field(r, "contact_info", "Enter a valid email address.");
	if (db_exec(r, STMT_ORG_UPDATE, "ssi", title, contact, id) < 0)
		return req_fail_db(r);
	return reply_org(r, id);
}

int
orgs_memberships(struct req *r)
{
	int64_t id = req_param_id(r, "id");
	struct db_row row, count;
	struct db_rows rows;
	struct page p;
	struct json_object *results;
	int rc = load_org(r, id, &row);

	if (rc < 0)
		return req_fail_db(r);
	if (rc == 0)
		return req_fail(r, 404, "Not found.");
	if ((rc = page_parse(r, &p, 20, 1000, 1)) != 0)
		return rc;
	if (db_row(r, &count, STMT_MEMBERSHIP_COUNT, "i", id) != 1)
		return req_fail_db(r);
	if ((rc = page_check(r, &p, db_int(&count, 0))) != 0)
		return rc;
	if (db_rows(r, &rows, STMT_MEMBERSHIP_PAGE, "iii", id, p.size, p.offset) != 0)
		return req_fail_db(r);
	results = json_object_new_array_ext((int)rows.n);
	for (size_t i = 0; i < rows.n; i++) {
		struct json_object *m = json_object_new_object();

		jadd_int(m, "id", db_int(&rows.rows[i], 0));
		jadd_int(m, "organization", id);
		json_object_object_add(m, "user", user_to_json(r, &rows.rows[i], 1));
		json_object_array_add(results, m);
	}
	return reply_json(r, 200, page_envelope(r, &p, db_int(&count, 0), results));
}
