/* local.c — the "localfiles" connector: lists and reads regular files below a directory that must
 * lie inside the server's document root (contract in storage.h).
 *
 * Containment, in two layers. At open, the root and the path are resolved with realpath and the
 * path must be the root or below it. After that nothing is ever opened by a path string: every
 * access starts from a descriptor of the root taken at open and walks the resolved relative path,
 * then the key, one component at a time with openat(O_NOFOLLOW) (directories with O_DIRECTORY
 * too), so a symlink or a rename swapped in later cannot lead out. Symlinks below the root are
 * refused outright, even ones that stay inside: a walk that follows no link needs no second
 * resolution. Only regular files are listed or opened (a FIFO would block a worker forever; it is
 * opened O_NONBLOCK and refused after fstat).
 *
 * Listing order. A directory's entries are sorted with a directory named as "name/", so a
 * depth-first walk yields keys in global strcmp order ("a.txt" < "a/b" because '.' < '/'). That
 * makes the cursor simply the last key delivered: the next page skips every subtree whose keys all
 * sort at or before it without reading it. A directory is read whole (its names in memory) before
 * its children are visited; one descriptor is held per level.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "storage.h"

#define LOCAL_MAX_DEPTH 256
#define LOCAL_CHUNK 65536

struct local {
	int rootfd;             /* the document root, O_DIRECTORY */
	char *rel;              /* the storage's directory relative to the root, resolved: "" or "a/b" */
};

static int
local_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Is the component c[0..n) "." or "..", literally or after one more round of percent-decoding? */
static int
local_dot_component(const char *c, size_t n)
{
	size_t dots = 0;

	for (size_t i = 0; i < n; i++) {
		char ch = c[i];

		if (ch == '%' && i + 2 < n && local_hexval(c[i + 1]) >= 0 &&
		    local_hexval(c[i + 2]) >= 0) {
			ch = (char)(local_hexval(c[i + 1]) * 16 + local_hexval(c[i + 2]));
			i += 2;
		}
		if (ch != '.' || dots == 2)
			return 0;
		dots++;
	}
	return dots == 1 || dots == 2;
}

int
storage_key_ok(const char *key, size_t len, char *err, size_t errsz)
{
	const char *p, *end;

	if (key == NULL || len == 0 || key[0] == '\0')
		return storage_fail(0, err, errsz, "The key is empty.");
	if (strlen(key) != len)
		return storage_fail(0, err, errsz, "The key contains a NUL byte.");
	if (key[0] == '/')
		return storage_fail(0, err, errsz, "The key must be relative, not absolute.");
	if (strchr(key, '\\') != NULL)
		return storage_fail(0, err, errsz, "The key must not contain a backslash.");
	for (p = key; ; p = end + 1) {
		end = strchr(p, '/');
		if (end == NULL)
			end = p + strlen(p);
		if (end == p)
			return storage_fail(0, err, errsz, "The key has an empty path component.");
		if (local_dot_component(p, (size_t)(end - p)))
			return storage_fail(0, err, errsz,
			    "The key must not contain \".\" or \"..\" components.");
		if (*end == '\0')
			break;
	}
	return 1;
}

/* Opens the directory rel (a resolved, '/'-separated path, "" for itself) below dirfd, following
 * no symlink. Returns a descriptor or -1 with errno (ELOOP: a component is a symlink). */
static int
local_walk(int dirfd, const char *rel)
{
	char name[NAME_MAX + 1];
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	const char *p = rel, *end;

	while (fd >= 0 && *p != '\0') {
		int next;

		end = strchr(p, '/');
		if (end == NULL)
			end = p + strlen(p);
		if (end == p || (size_t)(end - p) > NAME_MAX) {
			close(fd);
			errno = end == p ? EINVAL : ENAMETOOLONG;
			return -1;
		}
		memcpy(name, p, (size_t)(end - p));
		name[end - p] = '\0';
		next = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0 && errno == ENOTDIR) {
			/* Linux answers ENOTDIR, not ELOOP, for a symlink under O_DIRECTORY. */
			struct stat st;

			if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
				errno = ELOOP;
			else
				errno = ENOTDIR;
		}
		{
			int saved = errno;

			close(fd);
			errno = saved;
		}
		fd = next;
		p = *end ? end + 1 : end;
	}
	return fd;
}

static const char *
local_str(struct json_object *config, const char *name)
{
	struct json_object *v;

	if (config == NULL || !json_object_object_get_ex(config, name, &v) ||
	    !json_object_is_type(v, json_type_string))
		return "";
	return json_object_get_string(v);
}

static int
local_open(struct storage *s, struct json_object *config, char *err, size_t errsz)
{
	const char *root = local_str(config, "root"), *path = local_str(config, "path");
	char *rroot = NULL, *rpath = NULL, *joined = NULL;
	struct local *l = NULL;
	int rc = STORAGE_REFUSED, fd;
	size_t rlen;

	if (*root == '\0')
		return storage_fail(STORAGE_REFUSED, err, errsz, "Local files are off: set "
		    "local_files_root to the directory they may be served from.");
	if ((rroot = realpath(root, NULL)) == NULL) {
		storage_fail(STORAGE_REFUSED, err, errsz,
		    "local_files_root does not exist or cannot be read.");
		goto out;
	}
	if (*path == '\0') {
		storage_fail(STORAGE_REFUSED, err, errsz, "Set the path of the local storage.");
		goto out;
	}
	if (path[0] != '/') {
		size_t n = strlen(rroot) + strlen(path) + 2;

		if ((joined = malloc(n)) == NULL) {
			rc = storage_fail(STORAGE_NOMEM, err, errsz, "Out of memory.");
			goto out;
		}
		snprintf(joined, n, "%s/%s", rroot, path);
		path = joined;
	}
	if ((rpath = realpath(path, NULL)) == NULL) {
		storage_fail(STORAGE_REFUSED, err, errsz,
		    "The path \"%.200s\" does not exist or cannot be read.", path);
		goto out;
	}
	rlen = strlen(rroot);
	if (strcmp(rroot, "/") == 0)
		rlen = 0;
	else if (strncmp(rpath, rroot, rlen) != 0 || (rpath[rlen] != '\0' && rpath[rlen] != '/')) {
		storage_fail(STORAGE_REFUSED, err, errsz, "The path \"%.200s\" is not inside "
		    "local_files_root (after resolving symlinks).", path);
		goto out;
	}
	if ((l = calloc(1, sizeof(*l))) == NULL ||
	    (l->rel = strdup(rpath + rlen + (rpath[rlen] == '/'))) == NULL) {
		rc = storage_fail(STORAGE_NOMEM, err, errsz, "Out of memory.");
		goto out;
	}
	if ((l->rootfd = open(rroot, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		storage_fail(STORAGE_REFUSED, err, errsz,
		    "local_files_root is not a readable directory.");
		goto out;
	}
	/* The resolved path has no symlink in it, so the O_NOFOLLOW walk must get there. */
	if ((fd = local_walk(l->rootfd, l->rel)) < 0) {
		storage_fail(STORAGE_REFUSED, err, errsz,
		    "The path \"%.200s\" is not a readable directory.", path);
		close(l->rootfd);
		goto out;
	}
	close(fd);
	s->impl = l;
	l = NULL;
	rc = STORAGE_OK;
out:
	if (l != NULL) {
		free(l->rel);
		free(l);
	}
	free(rroot);
	free(rpath);
	free(joined);
	return rc;
}

static void
local_close(struct storage *s)
{
	struct local *l = s->impl;

	close(l->rootfd);
	free(l->rel);
	free(l);
	s->impl = NULL;
}

/* Opens key (already checked) for reading. Returns the descriptor or a negative storage_result. */
static int
local_open_key(struct local *l, const char *key, char *err, size_t errsz)
{
	const char *slash = strrchr(key, '/');
	char *dir = NULL;
	int dfd, fd, base, saved = 0;
	struct stat st;

	/* The storage's directory, then the key's own directories. */
	if ((base = local_walk(l->rootfd, l->rel)) < 0)
		return storage_fail(STORAGE_FAILED, err, errsz,
		    "The storage's directory cannot be opened.");
	if (slash != NULL) {
		if ((dir = strndup(key, (size_t)(slash - key))) == NULL) {
			close(base);
			return storage_fail(STORAGE_NOMEM, err, errsz, "Out of memory.");
		}
		dfd = local_walk(base, dir);
		saved = errno;
		free(dir);
		close(base);
		if (dfd < 0)
			goto fail;
	} else
		dfd = base;
	fd = openat(dfd, slash ? slash + 1 : key, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	saved = errno;
	close(dfd);
	if (fd < 0)
		goto fail;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return storage_fail(STORAGE_REFUSED, err, errsz, "The key is not a regular file.");
	}
	if (fcntl(fd, F_SETFL, 0) != 0) {
		close(fd);
		return storage_fail(STORAGE_FAILED, err, errsz, "The file cannot be read.");
	}
	return fd;
fail:
	errno = saved;
	if (errno == ELOOP)
		return storage_fail(STORAGE_REFUSED, err, errsz,
		    "The key goes through a symlink; symlinks are not served.");
	if (errno == ENOENT || errno == ENOTDIR)
		return storage_fail(STORAGE_NOT_FOUND, err, errsz, "No such file.");
	if (errno == EACCES || errno == EPERM)
		return storage_fail(STORAGE_REFUSED, err, errsz,
		    "The file is not readable by the server.");
	return storage_fail(STORAGE_FAILED, err, errsz, "The file cannot be opened.");
}

static int
local_get(struct storage *s, const char *key, int (*on_data)(void *ctx, const char *p, size_t n),
    void *ctx, char *err, size_t errsz)
{
	struct local *l = s->impl;
	char *buf;
	int fd, rc = STORAGE_OK;
	ssize_t n;

	if (key == NULL || !storage_key_ok(key, strlen(key), err, errsz))
		return STORAGE_REFUSED;
	if ((fd = local_open_key(l, key, err, errsz)) < 0)
		return fd;
	if ((buf = malloc(LOCAL_CHUNK)) == NULL) {
		close(fd);
		return storage_fail(STORAGE_NOMEM, err, errsz, "Out of memory.");
	}
	for (;;) {
		n = read(fd, buf, LOCAL_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = storage_fail(STORAGE_FAILED, err, errsz, "Reading the file failed.");
			break;
		}
		if (n == 0)
			break;
		if (on_data(ctx, buf, (size_t)n) != 0) {
			rc = storage_fail(STORAGE_ABORTED, err, errsz, "The read was stopped.");
			break;
		}
	}
	free(buf);
	close(fd);
	return rc;
}

/* ---- listing ---- */

struct local_entry {
	char *sortname;         /* the name, with a '/' appended for a directory */
	int isdir;
};

struct local_lister {
	const char *prefix;
	size_t plen;
	int recursive;
	const char *cursor;     /* "" for the first page */
	size_t max, n;
	int (*on_object)(void *ctx, const struct storage_object *o);
	void *ctx;
	char *last;             /* the last key delivered, malloc'd */
	int full;               /* the page is full: stop everywhere */
	char *err;
	size_t errsz;
};

static int
local_entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct local_entry *)a)->sortname,
	    ((const struct local_entry *)b)->sortname);
}

/* Can the directory whose keys all start with dkey ("x/y/") hold a key this page wants? */
static int
local_dir_wanted(const struct local_lister *ls, const char *dkey)
{
	size_t dlen = strlen(dkey);

	if (ls->recursive) {
		size_t m = dlen < ls->plen ? dlen : ls->plen;

		if (strncmp(dkey, ls->prefix, m) != 0)
			return 0;
	} else if (dlen > ls->plen || strncmp(dkey, ls->prefix, dlen) != 0)
		return 0;
	/* Every key below sorts after dkey; they all sort before the cursor unless dkey does not
	 * or the cursor itself lies below. */
	return ls->cursor[0] == '\0' || strcmp(dkey, ls->cursor) > 0 ||
	    strncmp(ls->cursor, dkey, dlen) == 0;
}

static int
local_file_wanted(const struct local_lister *ls, const char *key)
{
	if (strncmp(key, ls->prefix, ls->plen) != 0)
		return 0;
	if (!ls->recursive && strchr(key + ls->plen, '/') != NULL)
		return 0;
	if (ls->cursor[0] != '\0' && strcmp(key, ls->cursor) <= 0)
		return 0;
	return storage_key_ok(key, strlen(key), NULL, 0);
}

static void
local_entries_free(struct local_entry *e, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(e[i].sortname);
	free(e);
}

/* Reads the names of dirfd (which stays open and owned by the caller), directories and regular
 * files only, sorted. Returns 0 or a storage_result. */
static int
local_read_dir(struct local_lister *ls, int dirfd, struct local_entry **out, size_t *nout)
{
	struct local_entry *e = NULL, *grown;
	size_t n = 0, cap = 0;
	struct dirent *d;
	DIR *dir;
	int fd = dup(dirfd);

	if (fd < 0 || (dir = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return storage_fail(STORAGE_FAILED, ls->err, ls->errsz,
		    "A directory of the storage cannot be read.");
	}
	rewinddir(dir);
	while ((errno = 0, d = readdir(dir)) != NULL) {
		unsigned char type = d->d_type;
		size_t len;

		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		if (type == DT_UNKNOWN) {
			struct stat st;

			if (fstatat(dirfd, d->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
				continue;
			type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_UNKNOWN;
		}
		if (type != DT_DIR && type != DT_REG)
			continue;       /* symlinks, FIFOs, sockets, devices */
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			if ((grown = realloc(e, cap * sizeof(*e))) == NULL)
				goto nomem;
			e = grown;
		}
		len = strlen(d->d_name);
		if ((e[n].sortname = malloc(len + 2)) == NULL)
			goto nomem;
		memcpy(e[n].sortname, d->d_name, len);
		e[n].isdir = type == DT_DIR;
		e[n].sortname[len] = e[n].isdir ? '/' : '\0';
		e[n].sortname[len + 1] = '\0';
		n++;
	}
	if (errno != 0) {
		closedir(dir);
		local_entries_free(e, n);
		return storage_fail(STORAGE_FAILED, ls->err, ls->errsz,
		    "A directory of the storage cannot be read.");
	}
	closedir(dir);
	if (n > 1)
		qsort(e, n, sizeof(*e), local_entry_cmp);
	*out = e;
	*nout = n;
	return STORAGE_OK;
nomem:
	closedir(dir);
	local_entries_free(e, n);
	return storage_fail(STORAGE_NOMEM, ls->err, ls->errsz, "Out of memory.");
}

static int
local_visit(struct local_lister *ls, int dirfd, const char *dkey, int depth)
{
	struct local_entry *e = NULL;
	size_t n = 0, dlen = strlen(dkey);
	int rc;

	if (depth > LOCAL_MAX_DEPTH)
		return storage_fail(STORAGE_FAILED, ls->err, ls->errsz,
		    "The storage's directories are nested too deep.");
	if ((rc = local_read_dir(ls, dirfd, &e, &n)) != STORAGE_OK)
		return rc;
	for (size_t i = 0; i < n && rc == STORAGE_OK && !ls->full; i++) {
		size_t klen = dlen + strlen(e[i].sortname);
		char *key = malloc(klen + 1);

		if (key == NULL) {
			rc = storage_fail(STORAGE_NOMEM, ls->err, ls->errsz, "Out of memory.");
			break;
		}
		memcpy(key, dkey, dlen);
		memcpy(key + dlen, e[i].sortname, klen - dlen + 1);
		if (e[i].isdir) {
			if (local_dir_wanted(ls, key)) {
				char *name = e[i].sortname;
				int sub;

				name[strlen(name) - 1] = '\0';
				sub = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
				if (sub >= 0) {
					rc = local_visit(ls, sub, key, depth + 1);
					close(sub);
				} else if (errno != ELOOP && errno != ENOENT && errno != ENOTDIR)
					/* ELOOP/ENOENT/ENOTDIR: swapped or removed since readdir */
					rc = storage_fail(STORAGE_FAILED, ls->err, ls->errsz,
					    "A directory of the storage cannot be read: \"%.200s\".", key);
			}
		} else if (local_file_wanted(ls, key)) {
			struct storage_object o = { .key = key, .size = -1 };
			struct stat st;
			char etag[64];

			/* Gone or swapped for something else since readdir: skip. */
			if (fstatat(dirfd, e[i].sortname, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			    S_ISREG(st.st_mode)) {
				o.size = (int64_t)st.st_size;
				o.mtime = (int64_t)st.st_mtim.tv_sec;
				snprintf(etag, sizeof(etag), "%lld.%09ld-%lld",
				    (long long)st.st_mtim.tv_sec, (long)st.st_mtim.tv_nsec,
				    (long long)st.st_size);
				o.etag = etag;
				if (ls->on_object(ls->ctx, &o) != 0)
					rc = storage_fail(STORAGE_ABORTED, ls->err, ls->errsz,
					    "The listing was stopped.");
				free(ls->last);
				ls->last = key;
				key = NULL;
				if (++ls->n >= ls->max)
					ls->full = 1;
			}
		}
		free(key);
	}
	local_entries_free(e, n);
	return rc;
}

static int
local_list(struct storage *s, const char *prefix, int recursive, const char *cursor, size_t max,
    int (*on_object)(void *ctx, const struct storage_object *o), void *ctx, char **next_cursor,
    char *err, size_t errsz)
{
	struct local *l = s->impl;
	struct local_lister ls = {
		.prefix = prefix, .plen = strlen(prefix), .recursive = recursive,
		.cursor = cursor ? cursor : "", .max = max, .on_object = on_object, .ctx = ctx,
		.err = err, .errsz = errsz,
	};
	int fd, rc;

	*next_cursor = NULL;
	if ((fd = local_walk(l->rootfd, l->rel)) < 0)
		return storage_fail(STORAGE_FAILED, err, errsz,
		    "The storage's directory cannot be opened.");
	rc = local_visit(&ls, fd, "", 0);
	close(fd);
	if (rc == STORAGE_OK && ls.full) {
		*next_cursor = ls.last;
		ls.last = NULL;
	}
	free(ls.last);
	return rc;
}

const struct storage_ops storage_local_ops = {
	.kind = "localfiles",
	.open = local_open,
	.list = local_list,
	.get = local_get,
	.put = NULL,            /* export to local files: later */
	.del = NULL,
	.presign = NULL,        /* served by the app (/data/local-files/?d=) */
	.close = local_close,
};
