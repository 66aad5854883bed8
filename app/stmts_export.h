/* stmts_export.h — the statements of handlers/export.c (see stmts.h for the form). */
#ifndef SIALI_STMTS_EXPORT_H
#define SIALI_STMTS_EXPORT_H

#define STMT_LIST_EXPORT(STMT)

#endif
