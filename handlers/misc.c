/* misc.c — health and version. */
#include <json-c/json.h>

#include "handlers.h"
#include "jsonx.h"
#include "reply.h"
#include "version.h"

/* A probe must not depend on MariaDB: nginx and systemd use it to see that the pool is up. */
int
misc_health(struct req *r)
{
	static const char body[] = "{\"status\":\"UP\"}";

	return reply_raw(r, 200, "application/json", body, sizeof(body) - 1);
}

int
misc_api_health(struct req *r)
{
	static const char body[] = "{\"status\":\"up\"}";

	return reply_raw(r, 200, "application/json", body, sizeof(body) - 1);
}

/* Label Studio's version object, filled with Siali Label's own version. */
int
misc_version(struct req *r)
{
	struct json_object *o = json_object_new_object(), *pkg = json_object_new_object();
	struct json_object *backend = json_object_new_object();

	jadd_str(pkg, "version", SIALI_VERSION);
	jadd_str(pkg, "short_version", SIALI_SHORT_VERSION);
	jadd_null(pkg, "latest_version_from_pypi");
	jadd_null(pkg, "latest_version_upload_time");
	jadd_bool(pkg, "current_version_is_outdated", 0);
	jadd_str(backend, "message", "Siali Label");
	jadd_str(backend, "commit", SIALI_GIT_COMMIT);
	jadd_str(backend, "date", "");
	jadd_str(backend, "branch", "");
	jadd_str(backend, "version", SIALI_VERSION);
	jadd_str(o, "release", SIALI_VERSION);
	json_object_object_add(o, "label-studio-os-package", pkg);
	json_object_object_add(o, "label-studio-os-backend", backend);
	json_object_object_add(o, "label-studio-frontend", json_object_new_object());
	json_object_object_add(o, "dm2", json_object_new_object());
	json_object_object_add(o, "label-studio-converter", json_object_new_object());
	jadd_str(o, "edition", "Community");
	jadd_str(o, "server", "Siali Label");
	return reply_json(r, 200, o);
}
