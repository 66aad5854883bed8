/* stmts_annotations.h — the statements of handlers/annotations.c, drafts.c and predictions.c (see stmts.h for the form). */
#ifndef SIALI_STMTS_ANNOTATIONS_H
#define SIALI_STMTS_ANNOTATIONS_H

#define STMT_LIST_ANNOTATIONS(STMT)

#endif
