/* handlers.h — every handler of the API, named <resource>_<action>. A handler runs after the
 * router's gates (so the caller is known and the JSON body parsed), talks to MariaDB through
 * named statements, and returns the status it sent. Each one lists the statuses it can answer. */
#ifndef SIALI_HANDLERS_H
#define SIALI_HANDLERS_H

#include <stdint.h>
#include "req.h"

struct json_object;
struct db_row;

/* misc.c */
int misc_health(struct req *r);             /* 200 {"status":"UP"} */
int misc_api_health(struct req *r);         /* 200 {"status":"up"} (0.8 clients) */
int misc_version(struct req *r);            /* 200 */

/* users.c */
int users_list(struct req *r);              /* 200 */
int users_create(struct req *r);            /* 201, 400 */
int users_get(struct req *r);               /* 200, 404 */
int users_patch(struct req *r);             /* 200, 400, 403, 404, 405 (email) */
int users_delete(struct req *r);            /* 204, 403, 404, 405 (yourself) */
int users_whoami(struct req *r);            /* 200 */
/* The user object from a row of USER_COLS starting at column off. */
struct json_object *user_to_json(struct req *r, const struct db_row *row, int off);
/* `siali user`: prints the user (creating it first with create) with its token. Exit code. */
int users_cli(const char *username, int create, const char *password, const char *email,
    const char *new_org);

/* organizations.c */
int orgs_list(struct req *r);               /* 200 */
int orgs_get(struct req *r);                /* 200, 404 */
int orgs_patch(struct req *r);              /* 200, 400, 404 */
int orgs_memberships(struct req *r);        /* 200, 404 */

/* tokens.c */
int tokens_legacy_get(struct req *r);       /* 200 */
int tokens_legacy_reset(struct req *r);     /* 201 */
int tokens_pat_list(struct req *r);         /* 200 */
int tokens_pat_create(struct req *r);       /* 201, 403 (disabled), 409 (one is live) */
int tokens_pat_refresh(struct req *r);      /* 200, 400, 401 */
int tokens_pat_blacklist(struct req *r);    /* 204, 400, 404 */
int tokens_pat_rotate(struct req *r);       /* 200, 400 */
int tokens_settings_get(struct req *r);     /* 200 */
int tokens_settings_set(struct req *r);     /* 200, 400, 403 */
/* Returns the user's legacy key, creating one when missing (arena-owned), or NULL on error. */
const char *tokens_legacy_key(struct req *r, int64_t user_id);

/* projects.c */
int projects_list(struct req *r);           /* 200 */
int projects_create(struct req *r);         /* 201, 400 */
int projects_counts(struct req *r);         /* 200 */
int projects_validate_config(struct req *r); /* 204, 400 {"label_config": [...]} (no auth) */
int projects_get(struct req *r);            /* 200, 404 */
int projects_patch(struct req *r);          /* 200, 400, 404 */
int projects_delete(struct req *r);         /* 204, 404 */
int projects_validate(struct req *r);       /* 200, 400, 404 (strict check against the data) */
int projects_summary(struct req *r);        /* 200, 404 */
int projects_summary_reset(struct req *r);  /* 200, 404 (recomputes the counters) */
int projects_sample_task(struct req *r);    /* 200, 400, 404 */
int projects_model_versions(struct req *r); /* 200, 404 */
int projects_model_versions_delete(struct req *r); /* 200, 400, 404 */
int projects_annotators(struct req *r);     /* 200, 404 */

/* tasks.c */
int tasks_list(struct req *r);              /* 200, 400, 404 */
int tasks_create(struct req *r);            /* 201, 400, 404 */
int tasks_get(struct req *r);               /* 200, 404 */
int tasks_patch(struct req *r);             /* 200, 400, 404 */
int tasks_delete(struct req *r);            /* 204, 404 */
int projects_tasks_list(struct req *r);     /* 200, 404 */
int projects_tasks_create(struct req *r);   /* 201, 400, 404 */
int projects_tasks_delete(struct req *r);   /* 204, 404 */
int projects_next(struct req *r);           /* 200, 404 */

/* import.c */
int import_tasks(struct req *r);            /* 201, 400, 404, 413, 415 */
int import_reimport(struct req *r);         /* 200, 201, 400, 404 */

/* uploads.c: files received by the import, kept under the media root */
int uploads_list(struct req *r);            /* 200, 404 */
int uploads_delete(struct req *r);          /* 200, 400, 404 */
int uploads_get(struct req *r);             /* 200, 404 */
int uploads_replace(struct req *r);         /* 200, 400, 404 */
int uploads_delete_one(struct req *r);      /* 204, 404 */
int uploads_serve(struct req *r);           /* 200, 206, 404, 416 (the file's bytes) */

/* annotations.c */
int annotations_list(struct req *r);        /* 200, 404 */
int annotations_create(struct req *r);      /* 201, 400, 404 */
int annotations_get(struct req *r);         /* 200, 404 */
int annotations_patch(struct req *r);       /* 200, 400, 404 */
int annotations_delete(struct req *r);      /* 204, 404 */
int annotations_to_draft(struct req *r);    /* 201, 404 */

/* drafts.c */
int drafts_list(struct req *r);             /* 200, 404 */
int drafts_create(struct req *r);           /* 201, 400, 404 */
int drafts_get(struct req *r);              /* 200, 404 */
int drafts_patch(struct req *r);            /* 200, 400, 404 */
int drafts_delete(struct req *r);           /* 204, 404 */

/* predictions.c */
int predictions_list(struct req *r);        /* 200, 400 */
int predictions_create(struct req *r);      /* 201, 400, 404 */
int predictions_get(struct req *r);         /* 200, 404 */
int predictions_patch(struct req *r);       /* 200, 400, 404 */
int predictions_delete(struct req *r);      /* 204, 404 */
int predictions_import(struct req *r);      /* 201, 400, 404 */

/* export.c */
int export_formats(struct req *r);          /* 200, 404 */
int export_download(struct req *r);         /* 200 (streamed), 400, 404 */

/* exports.c: export snapshots, built by `siali worker` */
int exports_list(struct req *r);            /* 200, 404 */
int exports_create(struct req *r);          /* 201, 400, 404 */
int exports_get(struct req *r);             /* 200, 404 */
int exports_delete(struct req *r);          /* 204, 404 */
int exports_download(struct req *r);        /* 200 (streamed), 400, 404 */
int exports_convert(struct req *r);         /* 200, 400, 404 */
/* The "export.snapshot" job (a job_fn of app/jobs.h, in its job table): payload {"export_id": N}. */
int exports_job_snapshot(struct req *r, int64_t job_id, struct json_object *payload, char *err,
    size_t errsz);

/* storages.c: the storage API; import routes under /api/storages, export ones under
 * /api/storages/export (the handler tells them apart by the route's pattern) */
int storages_list_all(struct req *r);       /* 200, 400 (project missing), 404 */
int storages_types(struct req *r);          /* 200 */
int storages_list(struct req *r);           /* 200, 400, 404 */
int storages_create(struct req *r);         /* 201, 400, 404 */
int storages_validate(struct req *r);       /* 200, 400, 404 */
int storages_files(struct req *r);          /* 200, 400, 404 */
int storages_get(struct req *r);            /* 200, 404 */
int storages_patch(struct req *r);          /* 200, 400, 404 */
int storages_delete(struct req *r);         /* 204, 404 */
int storages_sync(struct req *r);           /* 200, 400 (not synchronizable), 404 */

/* storage_sync.c: the jobs run by `siali worker` */
struct json_object;
int storage_job_sync(struct req *r, int64_t job_id, struct json_object *payload, char *err, size_t errsz);
int storage_job_export(struct req *r, int64_t job_id, struct json_object *payload, char *err, size_t errsz);
/* Queues a "storage.export" job for each export storage of the project (in the caller's
 * transaction) after annotation_id was created, updated (deleted 0) or deleted (deleted 1).
 * 0, or -1 (database error). */
int storage_export_enqueue(struct req *r, int64_t project_id, int64_t annotation_id, int deleted);

/* presign.c: serving storage objects */
int presign_task(struct req *r);            /* 200 (streamed), 302, 400, 403, 404 */
int presign_project(struct req *r);         /* 200 (streamed), 302, 400, 403, 404 */
int local_files_serve(struct req *r);       /* 200, 206, 304, 403, 404, 416 */

#endif
