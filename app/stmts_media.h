/* stmts_media.h — the statements of handlers/presign.c: serving storage objects (presign,
 * local files) and resolving storage URIs in task data (see stmts.h for the form). */
#ifndef SIALI_STMTS_MEDIA_H
#define SIALI_STMTS_MEDIA_H

#define STMT_LIST_MEDIA(STMT) \
	/* --- storage media --- */ \
	STMT(MEDIA_NOTHING_YET, 0, 1, "SELECT 1")

#endif
