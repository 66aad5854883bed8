/* log.h — one line per event on stderr, written with a single write(2) so lines from many
 * workers never interleave. Request lines: request id, method, path, status, microseconds. */
#ifndef SIALI_LOG_H
#define SIALI_LOG_H

void log_set_role(const char *role);      /* "master", "worker", "jobs", "cli" */
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* rid may be NULL. */
void log_request(const char *rid, const char *method, const char *path, int status, long usec);

#endif
