/* fcgi.c — libfcgi behind a small interface (see fcgi.h). */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <fcgiapp.h>

#include "fcgi.h"

int
fcgi_init(void)
{
	return FCGX_Init();
}

void *
fcgi_request_new(int listen_fd)
{
	FCGX_Request *q = calloc(1, sizeof(*q));

	if (q == NULL)
		return NULL;
	/* FCGI_FAIL_ACCEPT_ON_INTR: a signal must interrupt accept so that the worker can drain. */
	if (FCGX_InitRequest(q, listen_fd, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
		free(q);
		return NULL;
	}
	return q;
}

int
fcgi_accept(void *h)
{
	return FCGX_Accept_r(h) == 0 ? 0 : -1;
}

void
fcgi_finish(void *h)
{
	FCGX_Finish_r(h);
}

const char *
fcgi_param(void *h, const char *name)
{
	FCGX_Request *q = h;

	return FCGX_GetParam(name, q->envp);
}

long
fcgi_read(void *h, char *buf, size_t n)
{
	FCGX_Request *q = h;
	int want = n > (1 << 30) ? (1 << 30) : (int)n;
	int got = FCGX_GetStr(buf, want, q->in);

	if (got < 0 || FCGX_GetError(q->in) != 0)
		return -1;
	return got;
}

int
fcgi_write(void *h, const void *buf, size_t n)
{
	FCGX_Request *q = h;
	const char *p = buf;

	while (n > 0) {
		int chunk = n > (1 << 30) ? (1 << 30) : (int)n;

		if (FCGX_PutStr(p, chunk, q->out) != chunk)
			return -1;
		p += chunk;
		n -= (size_t)chunk;
	}
	return 0;
}

int
fcgi_is_listening(int fd)
{
	int v = 0;
	socklen_t len = sizeof(v);

	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) != 0)
		return 0;
	return v != 0;
}
