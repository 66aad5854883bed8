/* master.h — `siali serve`: the prefork master. It opens (or inherits) the socket, checks the
 * schema, forks the workers and supervises them: respawns one that dies, drains them on SIGTERM,
 * replaces them one by one with the reloaded config on SIGHUP. It never serves a request. */
#ifndef SIALI_MASTER_H
#define SIALI_MASTER_H

/* Returns the process exit code. */
int master_main(void);

#endif
