/* routes.c — every route on one screen: what it is, who may call it, what body it takes.
 * Patterns carry no trailing slash; the router accepts both forms for every method. */
#include "handlers.h"
#include "router.h"

#define P AUTH_PUBLIC
#define U AUTH_USER

const struct route routes[] = {
	/* health and version (no auth: probes and client handshakes) */
	{ "GET",    "/health",                              misc_health,          P, BODY_NONE, "health" },
	{ "GET",    "/api/health",                          misc_api_health,      P, BODY_NONE, "health.legacy" },
	{ "GET",    "/api/version",                         misc_version,         P, BODY_NONE, "version" },
	{ "GET",    "/version",                             misc_version,         P, BODY_NONE, "version.legacy" },

	/* the current user and their tokens */
	{ "GET",    "/api/current-user/whoami",             users_whoami,         U, BODY_NONE, "users.whoami" },
	{ "GET",    "/api/current-user/token",              tokens_legacy_get,    U, BODY_NONE, "tokens.legacy.get" },
	{ "POST",   "/api/current-user/reset-token",        tokens_legacy_reset,  U, BODY_NONE, "tokens.legacy.reset" },
	{ "GET",    "/api/token",                           tokens_pat_list,      U, BODY_NONE, "tokens.pat.list" },
	{ "POST",   "/api/token",                           tokens_pat_create,    U, BODY_NONE, "tokens.pat.create" },
	{ "POST",   "/api/token/refresh",                   tokens_pat_refresh,   P, BODY_JSON, "tokens.pat.refresh" },
	{ "POST",   "/api/token/blacklist",                 tokens_pat_blacklist, U, BODY_JSON, "tokens.pat.blacklist" },
	{ "POST",   "/api/token/rotate",                    tokens_pat_rotate,    U, BODY_JSON, "tokens.pat.rotate" },
	{ "GET",    "/api/jwt/settings",                    tokens_settings_get,  U, BODY_NONE, "tokens.settings.get" },
	{ "POST",   "/api/jwt/settings",                    tokens_settings_set,  U, BODY_JSON, "tokens.settings.set" },

	/* users of the caller's organization */
	{ "GET",    "/api/users",                           users_list,           U, BODY_NONE, "users.list" },
	{ "POST",   "/api/users",                           users_create,         U, BODY_JSON, "users.create" },
	{ "GET",    "/api/users/:id",                       users_get,            U, BODY_NONE, "users.get" },
	{ "PATCH",  "/api/users/:id",                       users_patch,          U, BODY_JSON, "users.patch" },
	{ "DELETE", "/api/users/:id",                       users_delete,         U, BODY_NONE, "users.delete" },

	/* organizations */
	{ "GET",    "/api/organizations",                   orgs_list,            U, BODY_NONE, "orgs.list" },
	{ "GET",    "/api/organizations/:id",               orgs_get,             U, BODY_NONE, "orgs.get" },
	{ "PATCH",  "/api/organizations/:id",               orgs_patch,           U, BODY_JSON, "orgs.patch" },
	{ "GET",    "/api/organizations/:id/memberships",   orgs_memberships,     U, BODY_NONE, "orgs.memberships" },
	/* projects (handlers/projects.c); literal segments come before ":id" */
	{ "GET",    "/api/projects",                        projects_list,        U, BODY_NONE, "projects.list" },
	{ "POST",   "/api/projects",                        projects_create,      U, BODY_JSON, "projects.create" },
	{ "GET",    "/api/projects/counts",                 projects_counts,      U, BODY_NONE, "projects.counts" },
	{ "POST",   "/api/projects/validate",               projects_validate_config, P, BODY_JSON, "projects.validate" },
	{ "GET",    "/api/projects/:id",                    projects_get,         U, BODY_NONE, "projects.get" },
	{ "PATCH",  "/api/projects/:id",                    projects_patch,       U, BODY_JSON, "projects.patch" },
	{ "PUT",    "/api/projects/:id",                    projects_patch,       U, BODY_JSON, "projects.put" },
	{ "DELETE", "/api/projects/:id",                    projects_delete,      U, BODY_NONE, "projects.delete" },
	{ "POST",   "/api/projects/:id/validate",           projects_validate,    U, BODY_JSON, "projects.validate_existing" },
	{ "GET",    "/api/projects/:id/summary",            projects_summary,     U, BODY_NONE, "projects.summary" },
	{ "POST",   "/api/projects/:id/summary/reset",      projects_summary_reset, U, BODY_NONE, "projects.summary.reset" },
	{ "POST",   "/api/projects/:id/sample-task",        projects_sample_task, U, BODY_JSON, "projects.sample_task" },
	{ "GET",    "/api/projects/:id/model-versions",     projects_model_versions, U, BODY_NONE, "projects.model_versions" },
	{ "DELETE", "/api/projects/:id/model-versions",     projects_model_versions_delete, U, BODY_NONE, "projects.model_versions.delete" },
	{ "GET",    "/api/projects/:id/annotators",         projects_annotators,  U, BODY_NONE, "projects.annotators" },
	/* tasks, the labeling stream and the JSON import (handlers/tasks.c, handlers/import.c) */
	{ "GET",    "/api/projects/:id/tasks",              projects_tasks_list,  U, BODY_NONE, "projects.tasks.list" },
	{ "POST",   "/api/projects/:id/tasks",              projects_tasks_create, U, BODY_JSON, "projects.tasks.create" },
	{ "DELETE", "/api/projects/:id/tasks",              projects_tasks_delete, U, BODY_NONE, "projects.tasks.delete" },
	{ "GET",    "/api/projects/:id/next",               projects_next,        U, BODY_NONE, "projects.next" },
	{ "POST",   "/api/projects/:id/import",             import_tasks,         U, BODY_BULK, "import.tasks" },
	{ "POST",   "/api/projects/:id/tasks/bulk",         import_tasks,         U, BODY_BULK, "import.tasks.bulk" },
	{ "POST",   "/api/projects/:id/reimport",           import_reimport,      U, BODY_JSON, "import.reimport" },
	{ "GET",    "/api/projects/:id/file-uploads",       uploads_list,         U, BODY_NONE, "uploads.list" },
	{ "DELETE", "/api/projects/:id/file-uploads",       uploads_delete,       U, BODY_JSON, "uploads.delete" },
	{ "GET",    "/api/import/file-upload/:id",          uploads_get,          U, BODY_NONE, "uploads.get" },
	{ "PATCH",  "/api/import/file-upload/:id",          uploads_replace,      U, BODY_BULK, "uploads.replace" },
	{ "DELETE", "/api/import/file-upload/:id",          uploads_delete_one,   U, BODY_NONE, "uploads.delete_one" },
	{ "GET",    "/data/upload/:project/:file",          uploads_serve,        U, BODY_NONE, "uploads.serve" },
	{ "POST",   "/api/projects/:id/import/predictions", predictions_import,   U, BODY_BULK, "import.predictions" },
	/* export (handlers/export.c) */
	{ "GET",    "/api/projects/:id/export/formats",     export_formats,       U, BODY_NONE, "export.formats" },
	{ "GET",    "/api/projects/:id/exports",            exports_list,         U, BODY_NONE, "exports.list" },
	{ "POST",   "/api/projects/:id/exports",            exports_create,       U, BODY_JSON, "exports.create" },
	{ "GET",    "/api/projects/:id/exports/:export_id", exports_get,          U, BODY_NONE, "exports.get" },
	{ "DELETE", "/api/projects/:id/exports/:export_id", exports_delete,       U, BODY_NONE, "exports.delete" },
	{ "GET",    "/api/projects/:id/exports/:export_id/download", exports_download, U, BODY_NONE, "exports.download" },
	{ "POST",   "/api/projects/:id/exports/:export_id/convert", exports_convert, U, BODY_JSON, "exports.convert" },
	{ "GET",    "/api/projects/:id/export",             export_download,      U, BODY_NONE, "export.download" },
	{ "GET",    "/api/tasks",                           tasks_list,           U, BODY_NONE, "tasks.list" },
	{ "POST",   "/api/tasks",                           tasks_create,         U, BODY_JSON, "tasks.create" },
	{ "GET",    "/api/tasks/:id",                       tasks_get,            U, BODY_NONE, "tasks.get" },
	{ "PATCH",  "/api/tasks/:id",                       tasks_patch,          U, BODY_JSON, "tasks.patch" },
	{ "PUT",    "/api/tasks/:id",                       tasks_patch,          U, BODY_JSON, "tasks.put" },
	{ "DELETE", "/api/tasks/:id",                       tasks_delete,         U, BODY_NONE, "tasks.delete" },
	/* annotations and drafts (handlers/annotations.c, handlers/drafts.c) */
	{ "GET",    "/api/tasks/:id/annotations",           annotations_list,     U, BODY_NONE, "annotations.list" },
	{ "POST",   "/api/tasks/:id/annotations",           annotations_create,   U, BODY_JSON, "annotations.create" },
	{ "GET",    "/api/annotations/:id",                 annotations_get,      U, BODY_NONE, "annotations.get" },
	{ "PATCH",  "/api/annotations/:id",                 annotations_patch,    U, BODY_JSON, "annotations.patch" },
	{ "PUT",    "/api/annotations/:id",                 annotations_patch,    U, BODY_JSON, "annotations.put" },
	{ "DELETE", "/api/annotations/:id",                 annotations_delete,   U, BODY_NONE, "annotations.delete" },
	{ "POST",   "/api/annotations/:id/convert-to-draft", annotations_to_draft, U, BODY_NONE, "annotations.to_draft" },
	{ "GET",    "/api/tasks/:id/drafts",                drafts_list,          U, BODY_NONE, "drafts.list" },
	{ "POST",   "/api/tasks/:id/drafts",                drafts_create,        U, BODY_JSON, "drafts.create" },
	{ "GET",    "/api/tasks/:id/annotations/:annotation_id/drafts", drafts_list, U, BODY_NONE, "drafts.list.annotation" },
	{ "POST",   "/api/tasks/:id/annotations/:annotation_id/drafts", drafts_create, U, BODY_JSON, "drafts.create.annotation" },
	{ "GET",    "/api/drafts/:id",                      drafts_get,           U, BODY_NONE, "drafts.get" },
	{ "PATCH",  "/api/drafts/:id",                      drafts_patch,         U, BODY_JSON, "drafts.patch" },
	{ "PUT",    "/api/drafts/:id",                      drafts_patch,         U, BODY_JSON, "drafts.put" },
	{ "DELETE", "/api/drafts/:id",                      drafts_delete,        U, BODY_NONE, "drafts.delete" },
	/* predictions (handlers/predictions.c) */
	{ "GET",    "/api/predictions",                     predictions_list,     U, BODY_NONE, "predictions.list" },
	{ "POST",   "/api/predictions",                     predictions_create,   U, BODY_JSON, "predictions.create" },
	{ "GET",    "/api/predictions/:id",                 predictions_get,      U, BODY_NONE, "predictions.get" },
	{ "PATCH",  "/api/predictions/:id",                 predictions_patch,    U, BODY_JSON, "predictions.patch" },
	{ "PUT",    "/api/predictions/:id",                 predictions_patch,    U, BODY_JSON, "predictions.put" },
	{ "DELETE", "/api/predictions/:id",                 predictions_delete,   U, BODY_NONE, "predictions.delete" },
};

const size_t routes_count = sizeof(routes) / sizeof(routes[0]);
