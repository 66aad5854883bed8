/* stmts.c — the statement table, expanded from STMT_LIST (see stmts.h). */
#include "stmts.h"

#define STMT_DEF(id, np, nc, sql) [STMT_##id] = { #id, np, nc, sql },
const struct stmt_def stmt_defs[STMT__COUNT] = { STMT_LIST(STMT_DEF) };
#undef STMT_DEF
