/* users.c — users of the caller's organization, whoami, and `siali user`. */
#include <stdio.h>
#include <string.h>
#include <json-c/json.h>

#include "config.h"
#include "db.h"
#include "handlers.h"
#include "jsonx.h"
#include "password.h"
#include "rand.h"
#include "reply.h"

/* Length in bytes of the first UTF-8 character of s. */
static size_t
first_char(const char *s)
{
	size_t n = 1;

	if (*s == '\0')
		return 0;
	while (s[n] != '\0' && ((unsigned char)s[n] & 0xC0) == 0x80)
		n++;
	return n;
}

/* As Label Studio: the first letters of the names, else the start of the email (or username). */
static const char *
initials(struct req *r, const char *first, const char *last, const char *email, const char *username)
{
	if (*first && *last)
		return req_printf(r, "%.*s%.*s", (int)first_char(first), first, (int)first_char(last), last);
	if (*first)
		return req_strndup(r, first, first_char(first));
	if (*last)
		return req_strndup(r, last, first_char(last));
	const char *s = *email ? email : username;
	size_t n = first_char(s);
	return req_strndup(r, s, n + first_char(s + n));
}

struct json_object *
user_to_json(struct req *r, const struct db_row *row, int off)
{
	struct json_object *o = json_object_new_object(), *hot = NULL, *meta;
	const char *first = db_str(row, off + 3), *last = db_str(row, off + 4);

	jadd_int(o, "id", db_int(row, off + 0));
	jadd_str(o, "first_name", first);
	jadd_str(o, "last_name", last);
	jadd_str(o, "username", db_str(row, off + 1));
	jadd_str(o, "email", db_str(row, off + 2));
	jadd_str(o, "last_activity", db_str(row, off + 11));
	if (!db_null(row, off + 8))
		hot = json_tokener_parse(db_str(row, off + 8));
	json_object_object_add(o, "custom_hotkeys", hot != NULL ? hot : json_object_new_object());
	jadd_str(o, "avatar", db_null(row, off + 6) ? NULL : db_str(row, off + 6));
	jadd_str(o, "initials", initials(r, first, last, db_str(row, off + 2), db_str(row, off + 1)));
	jadd_str(o, "phone", db_str(row, off + 5));
	jadd_int_or_null(o, "active_organization", db_int(row, off + 9), db_null(row, off + 9));
	if (db_null(row, off + 9)) {
		jadd_null(o, "active_organization_meta");
	} else {
		meta = json_object_new_object();
		jadd_str(meta, "title", db_str(row, off + 12));
		jadd_str(meta, "email", db_str(row, off + 13));
		json_object_object_add(o, "active_organization_meta", meta);
	}
	if (db_null(row, off + 7))
		jadd_null(o, "allow_newsletters");
	else
		jadd_bool(o, "allow_newsletters", db_int(row, off + 7));
	jadd_str(o, "date_joined", db_str(row, off + 10));
	return o;
}

/* Loads a user of the caller's organization. 1 found, 0 not, -1 database error. */
static int
load_member(struct req *r, int64_t id, struct db_row *row)
{
	if (id <= 0)
		return 0;
	return db_row(r, row, STMT_USER_IN_ORG, "ii", r->who.org_id, id);
}

int
users_list(struct req *r)
{
	struct db_rows rows;
	struct json_object *a;

	if (db_rows(r, &rows, STMT_USERS_IN_ORG, "i", r->who.org_id) != 0)
		return req_fail_db(r);
	a = json_object_new_array_ext((int)rows.n);
	for (size_t i = 0; i < rows.n; i++)
		json_object_array_add(a, user_to_json(r, &rows.rows[i], 0));
	return reply_json(r, 200, a);
}

int
users_get(struct req *r)
{
	struct db_row row;
	int rc = load_member(r, req_param_id(r, "id"), &row);

	if (rc < 0)
		return req_fail_db(r);
	if (rc == 0)
		return req_fail(r, 404, "Not found.");
	return reply_json(r, 200, user_to_json(r, &row, 0));
}

/* The auth gate already read the caller whole. */
int
users_whoami(struct req *r)
{
	return reply_json(r, 200, user_to_json(r, r->who.user, AUTH_USER_COL));
}

/* Field validation shared by create and update: required 0 = optional, 1 = must be present and
 * not blank, 2 = may be absent but not blank. Adds messages to errs; returns how many. */
static int
check_text(struct json_object *errs, struct json_object *body, const char *key, size_t max,
    int required, const char **out)
{
	int rc = jget_str(body, key, out);
	const char *msg = NULL;
	char buf[96];

	if (rc < 0)
		msg = "Not a valid string.";
	else if (rc == 0 && required == 1)
		msg = "This field is required.";
	else if (rc == 1 && required != 0 && **out == '\0')
		msg = "This field may not be blank.";
	else if (rc == 1 && strlen(*out) > max) {
		snprintf(buf, sizeof(buf), "Ensure this field has no more than %zu characters.", max);
		msg = buf;
	}
	if (msg == NULL)
		return 0;
	struct json_object *l = json_object_new_array();
	json_object_array_add(l, json_object_new_string(msg));
	json_object_object_add(errs, key, l);
	return 1;
}

static void
add_error(struct json_object *errs, const char *key, const char *msg)
{
	struct json_object *l = json_object_new_array();

	json_object_array_add(l, json_object_new_string(msg));
	json_object_object_add(errs, key, l);
}

/* A plausible address: one '@', something before it, a dot after it, no spaces. */
static int
valid_email(const char *e)
{
	const char *at = strchr(e, '@');

	return at != NULL && at != e && strchr(at + 1, '@') == NULL && strchr(at + 1, '.') != NULL &&
	    at[1] != '.' && e[strlen(e) - 1] != '.' && strpbrk(e, " \t\r\n<>,;") == NULL;
}

/* Creates a user inside the current transaction: the row, the membership, the legacy key.
 * With org_title set, the user also founds a new organization. Returns the id, or -1 (database). */
static int64_t
create_user(struct req *r, const char *username, const char *email, const char *hash,
    const char *first, const char *last, const char *phone, int newsletters, int64_t org_id,
    const char *org_title)
{
	int64_t uid;
	char token[41], invite[41];

	if (db_exec(r, STMT_USER_INSERT, "ssssssb", username, email, hash, first, last, phone,
	    newsletters) < 0)
		return -1;
	uid = db_insert_id();
	if (org_title != NULL) {
		if (rand_hex(invite, 20) != 0 ||
		    db_exec(r, STMT_ORG_INSERT, "ssbi", org_title, invite, cfg.legacy_tokens, uid) != 1)
			return -1;
		org_id = db_insert_id();
	}
	if (db_exec(r, STMT_MEMBERSHIP_INSERT, "ii", org_id, uid) < 0 ||
	    db_exec(r, STMT_USER_SET_ACTIVE_ORG, "ii", org_id, uid) < 0 ||
	    rand_hex(token, 20) != 0 ||
	    db_exec(r, STMT_APITOKEN_SET, "si", token, uid) < 0)
		return -1;
	return uid;
}

int
users_create(struct req *r)
{
	struct json_object *errs = req_own(r, json_object_new_object());
	const char *username = NULL, *email = NULL, *first = "", *last = "", *phone = "", *pw = NULL;
	int newsletters = 0, bad = 0, has_nl;
	char hash[PASSWORD_HASH_MAX] = "";
	struct db_row row;
	int64_t uid;

	bad += check_text(errs, r->json, "username", 256, 0, &username);
	bad += check_text(errs, r->json, "email", 254, 0, &email);
	bad += check_text(errs, r->json, "first_name", 256, 0, &first);
	bad += check_text(errs, r->json, "last_name", 256, 0, &last);
	bad += check_text(errs, r->json, "phone", 256, 0, &phone);
	bad += check_text(errs, r->json, "password", 128, 0, &pw);
	has_nl = jget_bool(r->json, "allow_newsletters", &newsletters);
	if (has_nl < 0) {
		add_error(errs, "allow_newsletters", "Must be a valid boolean.");
		bad++;
	}
	if (email != NULL && *email == '\0')
		email = NULL;
	if (email != NULL && !valid_email(email)) {
		add_error(errs, "email", "Enter a valid email address.");
		bad++;
	}
	if ((username == NULL || *username == '\0') && email == NULL) {
		add_error(errs, "username", "This field is required.");
		bad++;
	}
	if (pw != NULL && strlen(pw) < 8) {
		add_error(errs, "password", "This password is too short. It must contain at least 8 characters.");
		bad++;
	}
	if (bad)
		return req_fail_validation(r, json_object_get(errs));
	if (username == NULL || *username == '\0')
		username = email;
	if (db_row(r, &row, STMT_USER_ID_BY_USERNAME, "s", username) != 0)
		return db_last_error() != DB_OK ? req_fail_db(r) :
		    req_fail_field(r, "username", "A user with that username already exists.");
	if (email != NULL && db_row(r, &row, STMT_USER_ID_BY_EMAIL, "s", email) != 0)
		return db_last_error() != DB_OK ? req_fail_db(r) :
		    req_fail_field(r, "email", "User with this email address already exists.");
	if (pw != NULL && password_hash(pw, hash, sizeof(hash)) != 0)
		return req_fail(r, 500, "Internal server error.");
	if (db_begin(r) != 0)
		return req_fail_db(r);
	uid = create_user(r, username, email, hash, first, last, phone, newsletters, r->who.org_id, NULL);
	if (uid < 0) {
		if (db_last_error() == DB_ERR_DUP)
			return req_fail_field(r, "username", "A user with that username or email already exists.");
		return req_fail_db(r);
	}
	if (db_commit(r) != 0)
		return req_fail_db(r);
	if (load_member(r, uid, &row) != 1)
		return req_fail_db(r);
	return reply_json(r, 201, user_to_json(r, &row, 0));
}

int
users_patch(struct req *r)
{
	struct json_object *errs = req_own(r, json_object_new_object()), *hot;
	int64_t id = req_param_id(r, "id");
	struct db_row row;
	const char *username, *first, *last, *phone, *hotkeys = NULL;
	int newsletters, nl_null, bad = 0, rc;

	rc = load_member(r, id, &row);
	if (rc < 0)
		return req_fail_db(r);
	if (rc == 0)
		return req_fail(r, 404, "Not found.");
	/* Label Studio lets any member edit anyone; we let you edit yourself, and the owner edit all. */
	if (id != r->who.user_id && !r->who.is_owner)
		return req_fail(r, 403, "You do not have permission to perform this action.");
	if (json_object_object_get_ex(r->json, "email", NULL))
		return req_fail(r, 405, "Cannot update read-only field: email.");
	username = db_str(&row, 1);
	first = db_str(&row, 3);
	last = db_str(&row, 4);
	phone = db_str(&row, 5);
	nl_null = db_null(&row, 7);
	newsletters = (int)db_int(&row, 7);
	if (!db_null(&row, 8))
		hotkeys = db_str(&row, 8);
	bad += check_text(errs, r->json, "username", 256, 2, &username);
	bad += check_text(errs, r->json, "first_name", 256, 0, &first);
	bad += check_text(errs, r->json, "last_name", 256, 0, &last);
	bad += check_text(errs, r->json, "phone", 256, 0, &phone);
	rc = jget_bool(r->json, "allow_newsletters", &newsletters);
	if (rc < 0) {
		add_error(errs, "allow_newsletters", "Must be a valid boolean.");
		bad++;
	} else if (rc == 1) {
		nl_null = 0;
	}
	if (json_object_object_get_ex(r->json, "custom_hotkeys", &hot)) {
		if (!json_object_is_type(hot, json_type_object)) {
			add_error(errs, "custom_hotkeys", "Expected a dictionary of items.");
			bad++;
		} else {
			hotkeys = json_object_to_json_string_ext(hot, JSON_C_TO_STRING_PLAIN);
		}
	}
	if (bad)
		return req_fail_validation(r, json_object_get(errs));
	if (strcmp(username, db_str(&row, 1)) != 0) {
		struct db_row other;
		rc = db_row(r, &other, STMT_USER_ID_BY_USERNAME, "s", username);
		if (rc < 0)
			return req_fail_db(r);
		if (rc == 1)
			return req_fail_field(r, "username", "A user with that username already exists.");
	}
	if (db_exec(r, STMT_USER_UPDATE, "ssssisi", username, first, last, phone,
	    nl_null ? (int64_t)-1 : (int64_t)newsletters, hotkeys, id) < 0) {
		if (db_last_error() == DB_ERR_DUP)
			return req_fail_field(r, "username", "A user with that username already exists.");
		return req_fail_db(r);
	}
	if (load_member(r, id, &row) != 1)
		return req_fail_db(r);
	return reply_json(r, 200, user_to_json(r, &row, 0));
}

int
users_delete(struct req *r)
{
	int64_t id = req_param_id(r, "id");
	struct db_row row;
	int rc = load_member(r, id, &row);

	if (rc < 0)
		return req_fail_db(r);
	if (rc == 0)
		return req_fail(r, 404, "Not found.");
	if (id == r->who.user_id)
		return req_fail(r, 405, "You cannot delete yourself.");
	if (!r->who.is_owner)
		return req_fail(r, 403, "You do not have permission to perform this action.");
	/* The user leaves this organization; an account that belongs nowhere any more is closed
	 * (its tokens die with it). A user of several organizations keeps the others. */
	if (db_begin(r) != 0 ||
	    db_exec(r, STMT_MEMBERSHIP_REMOVE, "ii", r->who.org_id, id) < 0)
		return req_fail_db(r);
	rc = db_row(r, &row, STMT_USER_OTHER_ORG, "i", id);
	if (rc < 0)
		return req_fail_db(r);
	if (rc == 1) {
		if (db_exec(r, STMT_USER_MOVE_ACTIVE_ORG, "iii", db_int(&row, 0), id, r->who.org_id) < 0)
			return req_fail_db(r);
	} else if (db_exec(r, STMT_USER_DEACTIVATE, "i", id) < 0 ||
	    db_exec(r, STMT_APITOKEN_DELETE, "i", id) < 0 ||
	    db_exec(r, STMT_JWT_BLACKLIST_USER, "i", id) < 0) {
		return req_fail_db(r);
	}
	if (db_commit(r) != 0)
		return req_fail_db(r);
	return reply_empty(r, 204);
}

int
users_cli(const char *username, int create, const char *password, const char *email,
    const char *new_org)
{
	struct req r = {0};
	struct db_row row;
	struct json_object *o;
	const char *token;
	int rc, code = 1;

	req_begin(&r);
	rc = db_row(&r, &row, STMT_USER_BY_USERNAME, "s", username);
	if (rc < 0) {
		fprintf(stderr, "siali user: the database cannot be read (see the log above)\n");
		goto out;
	}
	if (rc == 0 && !create) {
		fprintf(stderr, "siali user: no user named %s (add --create to make one)\n", username);
		goto out;
	}
	if (rc == 0) {
		char hash[PASSWORD_HASH_MAX] = "";
		struct db_row first;
		int64_t org = 0;
		const char *title = new_org;

		if (email != NULL && *email != '\0' && !valid_email(email)) {
			fprintf(stderr, "siali user: %s is not a valid email address\n", email);
			goto out;
		}
		if (password != NULL && *password != '\0' && password_hash(password, hash, sizeof(hash)) != 0)
			goto out;
		/* The first user founds the organization; later ones join the oldest, unless asked
		 * to found their own. */
		rc = db_row(&r, &first, STMT_ORG_FIRST, "");
		if (rc < 0)
			goto out;
		if (rc == 1 && title == NULL)
			org = db_int(&first, 0);
		else if (title == NULL)
			title = "Siali Label";
		if (db_begin(&r) != 0 ||
		    create_user(&r, username, email && *email ? email : NULL, hash, "", "", "", 0, org, title) < 0 ||
		    db_commit(&r) != 0) {
			fprintf(stderr, "siali user: cannot create %s\n", username);
			goto out;
		}
		if (db_row(&r, &row, STMT_USER_BY_USERNAME, "s", username) != 1)
			goto out;
	} else if (password != NULL && *password != '\0') {
		char hash[PASSWORD_HASH_MAX];
		struct db_row pw;

		/* An existing user keeps its password unless it was asked for and differs. */
		if (db_row(&r, &pw, STMT_USER_PASSWORD, "i", db_int(&row, 0)) == 1 &&
		    !password_verify(password, db_str(&pw, 0))) {
			if (password_hash(password, hash, sizeof(hash)) != 0 ||
			    db_exec(&r, STMT_USER_SET_PASSWORD, "si", hash, db_int(&row, 0)) < 0)
				goto out;
		}
	}
	token = tokens_legacy_key(&r, db_int(&row, 0));
	if (token == NULL)
		goto out;
	o = req_own(&r, user_to_json(&r, &row, 0));
	json_object_object_add(o, "token", json_object_new_string(token));
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	code = 0;
out:
	req_release(&r);
	return code;
}
