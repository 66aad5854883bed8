/* zipout.h — a zip archive written to a file with libzip, with reproducible bytes: entries in
 * the order they are added, every entry dated 1980-01-01 00:00 (DOS time, no time zone), no
 * extra fields, fixed permissions. Entries come from files on disk (read when the archive is
 * closed), so building an archive of any size keeps only a small record per entry in memory.
 *
 * Usage: zipout_open, zipout_dir / zipout_file ..., zipout_close (which writes the archive) or
 * zipout_discard. Every function returns 0, or -1 (the archive is unusable: discard it). */
#ifndef SIALI_ZIPOUT_H
#define SIALI_ZIPOUT_H

struct zipout;

/* Creates the archive at path (truncated if it exists). NULL on error. */
struct zipout *zipout_open(const char *path);
/* A directory entry ("images/"; the slash is added when missing). */
int zipout_dir(struct zipout *z, const char *name);
/* A file entry read from path when the archive is closed. */
int zipout_file(struct zipout *z, const char *name, const char *path);
/* Writes the archive and frees z. */
int zipout_close(struct zipout *z);
/* Frees z without writing anything. */
void zipout_discard(struct zipout *z);

#endif
