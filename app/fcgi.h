/* fcgi.h — the FastCGI boundary. fcgi.c is the only file that includes libfcgi's header; the rest
 * of the server sees an opaque request handle. */
#ifndef SIALI_FCGI_H
#define SIALI_FCGI_H

#include <stddef.h>

/* Once per process. 0 ok. */
int fcgi_init(void);
/* A request handle bound to a listening socket (owned by the caller until exit). */
void *fcgi_request_new(int listen_fd);
/* Accepts the next request. 0 ok; -1 nothing to accept now (EAGAIN, EINTR) or an error. */
int fcgi_accept(void *h);
/* Flushes and ends the current request (closes the connection: no keep-alive by design). */
void fcgi_finish(void *h);
/* A FastCGI parameter (REQUEST_METHOD, HTTP_AUTHORIZATION...), NULL if absent. */
const char *fcgi_param(void *h, const char *name);
/* Reads up to n body bytes. Returns the number read (0 at the end), -1 on error. */
long fcgi_read(void *h, char *buf, size_t n);
/* Writes bytes to the client. 0 ok, -1 once the client is gone. */
int fcgi_write(void *h, const void *buf, size_t n);
/* 1 if fd is a listening socket (for the spawn-fcgi convention of a socket on fd 0). */
int fcgi_is_listening(int fd);

#endif
