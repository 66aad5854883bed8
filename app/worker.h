/* worker.h — one FastCGI worker process: accept → req_begin → router → req_end, until told to
 * stop. It finishes the request in hand before it exits (SIGTERM), and exits with its parent. */
#ifndef SIALI_WORKER_H
#define SIALI_WORKER_H

/* Serves requests from listen_fd. Never returns to the caller's loop: returns the exit code. */
int worker_main(int listen_fd);

#endif
