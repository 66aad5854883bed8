/* stmts_annotations.h — the statements of handlers/tasks.c and import.c (see stmts.h for the form). */
#ifndef SIALI_STMTS_TASKS_H
#define SIALI_STMTS_TASKS_H

#define STMT_LIST_TASKS(STMT)

#endif
