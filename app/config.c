/* config.c — the settings table (see config.h). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "rand.h"

#ifndef SIALI_DEFAULT_CONFIG
#define SIALI_DEFAULT_CONFIG "/etc/siali/siali.conf"
#endif

struct config cfg;

enum ctype { C_STR, C_INT, C_BOOL, C_SIZE, C_OCTAL };

#define SECRET 1

struct setting {
	const char *name;
	enum ctype type;
	size_t off;
	size_t size;            /* C_STR: buffer size */
	const char *def;
	int64_t min, max;       /* numbers */
	int flags;
	const char *help;
};

#define S(name, def, help) { #name, C_STR, offsetof(struct config, name), \
	sizeof(((struct config *)0)->name), def, 0, 0, 0, help }
#define SS(name, def, help) { #name, C_STR, offsetof(struct config, name), \
	sizeof(((struct config *)0)->name), def, 0, 0, SECRET, help }
#define N(type, name, def, min, max, help) { #name, type, offsetof(struct config, name), 0, def, \
	min, max, 0, help }

static const struct setting settings[] = {
	S(socket, "/run/siali/siali.sock", "unix socket the FastCGI pool listens on"),
	N(C_OCTAL, socket_mode, "0660", 0, 0777, "permissions of the socket"),
	N(C_INT, workers, "0", 0, 512, "FastCGI worker processes; 0 = 2 x cores"),
	S(pidfile, "", "where serve writes its pid (empty: nowhere)"),
	S(db_host, "localhost", "MariaDB host"),
	N(C_INT, db_port, "3306", 1, 65535, "MariaDB port"),
	S(db_socket, "", "MariaDB unix socket (used when set)"),
	S(db_user, "siali", "MariaDB user"),
	SS(db_password, "", "MariaDB password"),
	S(db_name, "siali", "MariaDB database"),
	S(secret_key_file, "/var/lib/siali/secret_key", "the install secret (mode 0600; made by migrate)"),
	N(C_SIZE, max_body_size, "250M", 1024, (int64_t)64 << 30, "largest upload (keep nginx client_max_body_size equal)"),
	N(C_SIZE, max_json_size, "10M", 1024, (int64_t)1 << 30, "largest JSON body of ordinary API calls"),
	N(C_INT, drain_timeout, "30", 1, 3600, "seconds in-flight requests get on stop and reload"),
	N(C_BOOL, legacy_tokens, "true", 0, 1, "legacy Token auth enabled for new organizations"),
	N(C_INT, access_token_ttl, "300", 30, 86400, "lifetime of JWT access tokens in seconds"),
	N(C_BOOL, log_requests, "true", 0, 1, "one log line per request"),
	N(C_BOOL, outbound_allow_private, "false", 0, 1,
	    "URLs may reach private, loopback, link-local, CGNAT and ULA addresses"),
	S(outbound_allow_hosts, "", "comma list of host or host:port fetched whatever they resolve to"),
	N(C_INT, outbound_timeout, "30", 1, 3600, "seconds an outbound fetch may take, redirects included"),
	N(C_SIZE, outbound_max_bytes, "0", 0, (int64_t)64 << 30,
	    "largest response fetched from a URL; 0 = max_body_size"),
	N(C_INT, outbound_max_redirects, "5", 0, 20, "redirects an outbound fetch follows"),
	N(C_INT, job_stale_after, "300", 10, 86400,
	    "seconds without a heartbeat before a running job is taken by another worker"),
	S(media_root, "/var/lib/siali/media", "uploaded files and export snapshots live under it"),
	S(local_files_root, "", "local-files storages may only use directories under it; empty: off"),
	N(C_INT, max_files_per_import, "100", 1, 100000, "files in one multipart import request"),
	N(C_INT, max_tasks_per_import, "1000000", 1, 100000000, "tasks one import may create"),
	N(C_INT, max_json_depth, "64", 4, 10000, "nesting levels of an imported JSON document"),
};

static void
problem(char *errs, size_t errsz, int *count, const char *fmt, ...)
{
	size_t used = strlen(errs);
	va_list ap;

	(*count)++;
	if (used + 2 >= errsz)
		return;
	va_start(ap, fmt);
	vsnprintf(errs + used, errsz - used - 1, fmt, ap);
	va_end(ap);
	used = strlen(errs);
	if (used + 1 < errsz) {
		errs[used] = '\n';
		errs[used + 1] = '\0';
	}
}

static int
parse_size(const char *v, int64_t *out)
{
	char *end;
	long long n;

	errno = 0;
	n = strtoll(v, &end, 10);
	if (end == v || errno != 0 || n < 0)
		return -1;
	switch (toupper((unsigned char)*end)) {
	case 'K': n <<= 10; end++; break;
	case 'M': n <<= 20; end++; break;
	case 'G': n <<= 30; end++; break;
	default: break;
	}
	if (toupper((unsigned char)*end) == 'B' || toupper((unsigned char)*end) == 'I')
		end++;
	if (*end != '\0')
		return -1;
	*out = n;
	return 0;
}

/* Sets one setting from text. Returns NULL, or a description of what is wrong. */
static const char *
set_value(struct config *c, const struct setting *s, const char *v)
{
	char *p = (char *)c + s->off;
	char *end;
	long long n;
	int64_t sz;

	switch (s->type) {
	case C_STR:
		if (strlen(v) >= s->size)
			return "is too long";
		memcpy(p, v, strlen(v) + 1);
		return NULL;
	case C_BOOL:
		if (!strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on") || !strcmp(v, "1"))
			*(int *)p = 1;
		else if (!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off") || !strcmp(v, "0"))
			*(int *)p = 0;
		else
			return "must be true or false";
		return NULL;
	case C_INT:
	case C_OCTAL:
		errno = 0;
		n = strtoll(v, &end, s->type == C_OCTAL ? 8 : 10);
		if (*v == '\0' || *end != '\0' || errno != 0)
			return s->type == C_OCTAL ? "must be an octal number" : "must be an integer";
		if (n < s->min || n > s->max)
			return "is out of range";
		*(int *)p = (int)n;
		return NULL;
	case C_SIZE:
		if (parse_size(v, &sz) != 0)
			return "must be a size in bytes (suffixes K, M, G)";
		if (sz < s->min || sz > s->max)
			return "is out of range";
		*(int64_t *)p = sz;
		return NULL;
	}
	return "has an unknown type";
}

void
config_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]); i++)
		set_value(c, &settings[i], settings[i].def);
}

static const struct setting *
find(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]); i++)
		if (strlen(settings[i].name) == len && memcmp(settings[i].name, name, len) == 0)
			return &settings[i];
	return NULL;
}

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

int
config_parse(struct config *c, const char *text, const char *origin, char *errs, size_t errsz)
{
	int count = 0, lineno = 0;
	const char *p = text;

	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char line[1024], *l, *eq, *name, *val;
		const struct setting *s;
		const char *why;

		lineno++;
		if (len >= sizeof(line)) {
			problem(errs, errsz, &count, "%s:%d: line too long", origin, lineno);
			goto next;
		}
		memcpy(line, p, len);
		line[len] = '\0';
		l = trim(line);
		if (*l == '\0' || *l == '#')
			goto next;
		eq = strchr(l, '=');
		if (eq == NULL) {
			problem(errs, errsz, &count, "%s:%d: expected `name = value`", origin, lineno);
			goto next;
		}
		*eq = '\0';
		name = trim(l);
		val = trim(eq + 1);
		if (strlen(val) >= 2 && (val[0] == '"' || val[0] == '\'') && val[strlen(val) - 1] == val[0]) {
			val[strlen(val) - 1] = '\0';
			val++;
		}
		s = find(name, strlen(name));
		if (s == NULL) {
			problem(errs, errsz, &count, "%s:%d: unknown setting `%s`", origin, lineno, name);
			goto next;
		}
		if ((why = set_value(c, s, val)) != NULL)
			problem(errs, errsz, &count, "%s:%d: %s %s", origin, lineno, name, why);
next:
		p += len;
		if (*p == '\n')
			p++;
	}
	return count;
}

const char *
config_path(void)
{
	const char *p = getenv("SIALI_CONFIG");

	return p != NULL && *p != '\0' ? p : SIALI_DEFAULT_CONFIG;
}

static void
apply_env(struct config *c, char *errs, size_t errsz, int *count)
{
	for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]); i++) {
		char var[64];
		const char *v, *why;
		size_t j;

		memcpy(var, "SIALI_", 6);
		for (j = 0; settings[i].name[j] != '\0' && j + 7 < sizeof(var); j++)
			var[6 + j] = (char)toupper((unsigned char)settings[i].name[j]);
		var[6 + j] = '\0';
		if ((v = getenv(var)) == NULL)
			continue;
		if ((why = set_value(c, &settings[i], v)) != NULL)
			problem(errs, errsz, count, "environment %s: %s %s", var, settings[i].name, why);
	}
}

/* A host list is "entry, entry, …" with entry = host | host:port | [v6] | [v6]:port; outbound.c
 * reads the same shape. Checked here so check-config reports a typo instead of a silent refusal. */
static void
check_host_list(const char *list, const char *name, char *errs, size_t errsz, int *count)
{
	const char *p = list;

	while (*p != '\0') {
		size_t len = strcspn(p, ",");
		const char *e = p + len, *port = NULL, *h;
		char entry[300];

		while (p < e && isspace((unsigned char)*p))
			p++;
		while (e > p && isspace((unsigned char)e[-1]))
			e--;
		if (p == e || (size_t)(e - p) >= sizeof(entry)) {
			problem(errs, errsz, count, "%s: empty or overlong entry", name);
			goto next;
		}
		memcpy(entry, p, (size_t)(e - p));
		entry[e - p] = '\0';
		if (entry[0] == '[') {
			char *rb = strchr(entry, ']');

			if (rb == NULL || rb == entry + 1 || (rb[1] != '\0' && rb[1] != ':')) {
				problem(errs, errsz, count, "%s: `%s` is not [ipv6] or [ipv6]:port", name, entry);
				goto next;
			}
			port = rb[1] == ':' ? rb + 2 : NULL;
		} else {
			char *colon = strchr(entry, ':');

			if (colon != NULL && strchr(colon + 1, ':') != NULL) {
				problem(errs, errsz, count, "%s: `%s`: write IPv6 addresses in brackets", name, entry);
				goto next;
			}
			if (colon == entry) {
				problem(errs, errsz, count, "%s: `%s` has no host", name, entry);
				goto next;
			}
			port = colon != NULL ? colon + 1 : NULL;
			for (h = entry; h < (colon ? colon : entry + strlen(entry)); h++)
				if (!isalnum((unsigned char)*h) && *h != '.' && *h != '-' && *h != '_') {
					problem(errs, errsz, count, "%s: `%s` is not a host name", name, entry);
					goto next;
				}
		}
		if (port != NULL) {
			char *end;
			long n = strtol(port, &end, 10);

			if (*port == '\0' || *end != '\0' || n < 1 || n > 65535)
				problem(errs, errsz, count, "%s: `%s` has a bad port", name, entry);
		}
next:
		p += len;
		if (*p == ',')
			p++;
	}
}

int
config_load(struct config *c, const char *path, int allow_missing, char *errs, size_t errsz)
{
	int count = 0;
	FILE *f;

	if (errsz > 0)
		errs[0] = '\0';
	config_defaults(c);
	if (path == NULL)
		path = config_path();
	snprintf(c->path, sizeof(c->path), "%s", path);
	f = fopen(path, "r");
	if (f == NULL) {
		if (!allow_missing || errno != ENOENT)
			problem(errs, errsz, &count, "%s: cannot read the config file (%s)", path, strerror(errno));
		c->path[0] = '\0';
	} else {
		char *text = NULL;
		size_t cap = 0, len = 0, got;
		char buf[4096];

		while ((got = fread(buf, 1, sizeof(buf), f)) > 0) {
			if (len + got + 1 > cap) {
				cap = (len + got + 1) * 2;
				char *t = realloc(text, cap);
				if (t == NULL) {
					free(text);
					fclose(f);
					problem(errs, errsz, &count, "%s: out of memory", path);
					return count;
				}
				text = t;
			}
			memcpy(text + len, buf, got);
			len += got;
		}
		fclose(f);
		if (text != NULL) {
			text[len] = '\0';
			count += config_parse(c, text, path, errs, errsz);
			free(text);
		}
	}
	apply_env(c, errs, errsz, &count);
	if (c->workers == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		c->workers = (int)(n > 0 ? 2 * n : 2);
	}
	if (c->outbound_max_bytes == 0)
		c->outbound_max_bytes = c->max_body_size;
	check_host_list(c->outbound_allow_hosts, "outbound_allow_hosts", errs, errsz, &count);
	if (c->socket[0] == '\0')
		problem(errs, errsz, &count, "socket must be set");
	return count;
}

int
config_load_secret(struct config *c, int create, char *err, size_t errsz)
{
	struct stat st;
	char buf[256];
	ssize_t n;
	int fd;

	err[0] = '\0';
	if (c->secret_key_file[0] == '\0') {
		snprintf(err, errsz, "secret_key_file is not set");
		return -1;
	}
	fd = open(c->secret_key_file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && create) {
		char hex[65];

		if (rand_hex(hex, 32) != 0) {
			snprintf(err, errsz, "no randomness for the secret key");
			return -1;
		}
		fd = open(c->secret_key_file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0 || write(fd, hex, 64) != 64 || write(fd, "\n", 1) != 1) {
			snprintf(err, errsz, "%s: cannot create the secret key file (%s)",
			    c->secret_key_file, strerror(errno));
			if (fd >= 0)
				close(fd);
			return -1;
		}
		close(fd);
		fd = open(c->secret_key_file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0) {
		snprintf(err, errsz, "%s: no secret key (%s); run `siali migrate` to create one",
		    c->secret_key_file, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || (st.st_mode & 077) != 0) {
		close(fd);
		snprintf(err, errsz, "%s: the secret key file must be readable by its owner only (chmod 600)",
		    c->secret_key_file);
		return -1;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		n = 0;
	buf[n] = '\0';
	char *key = trim(buf);
	if (strlen(key) < 32) {
		snprintf(err, errsz, "%s: the secret key is shorter than 32 characters", c->secret_key_file);
		return -1;
	}
	c->secret_len = strlen(key) > sizeof(c->secret) ? sizeof(c->secret) : strlen(key);
	memcpy(c->secret, key, c->secret_len);
	return 0;
}

void
config_dump(const struct config *c, int fd)
{
	for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]); i++) {
		const struct setting *s = &settings[i];
		const char *p = (const char *)c + s->off;

		if (s->flags & SECRET)
			dprintf(fd, "%s = %s\n", s->name, *p ? "(set)" : "(empty)");
		else if (s->type == C_STR)
			dprintf(fd, "%s = %s\n", s->name, p);
		else if (s->type == C_SIZE)
			dprintf(fd, "%s = %lld\n", s->name, (long long)*(const int64_t *)p);
		else if (s->type == C_OCTAL)
			dprintf(fd, "%s = %04o\n", s->name, (unsigned)*(const int *)p);
		else if (s->type == C_BOOL)
			dprintf(fd, "%s = %s\n", s->name, *(const int *)p ? "true" : "false");
		else
			dprintf(fd, "%s = %d\n", s->name, *(const int *)p);
	}
}
