/* worker.c — the accept loop (see worker.h). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "db.h"
#include "fcgi.h"
#include "log.h"
#include "rand.h"
#include "req.h"
#include "router.h"

static volatile sig_atomic_t stopping;

static void
on_term(int sig)
{
	(void)sig;
	stopping = 1;
}

/* Fills the request fields from the FastCGI parameters nginx sent. */
static void
req_from_fcgi(struct req *r, void *h)
{
	const char *v, *uri;
	char *path;
	size_t n;

	r->fcgi = h;
	v = fcgi_param(h, "REQUEST_METHOD");
	r->method = req_strdup(r, v != NULL ? v : "GET");
	if (strcmp(r->method, "HEAD") == 0)
		r->head = 1;
	v = fcgi_param(h, "QUERY_STRING");
	r->query = v != NULL ? v : "";
	v = fcgi_param(h, "CONTENT_TYPE");
	r->content_type = v != NULL ? v : "";
	v = fcgi_param(h, "CONTENT_LENGTH");
	if (v != NULL && *v != '\0') {
		char *end;
		long long cl = strtoll(v, &end, 10);
		r->content_length = *end == '\0' && cl >= 0 ? cl : -1;
	}
	v = fcgi_param(h, "REQUEST_ID");
	if (v != NULL && *v != '\0') {
		r->request_id = req_strdup(r, v);
	} else {
		char *id = req_alloc(r, 33);
		rand_hex(id, 16);
		r->request_id = id;
	}
	uri = fcgi_param(h, "REQUEST_URI");
	r->raw_path = req_strndup(r, uri ? uri : "/", uri ? strcspn(uri, "?") : 1);
	/* nginx's DOCUMENT_URI is already decoded and normalised; REQUEST_URI is the fallback. */
	uri = fcgi_param(h, "DOCUMENT_URI");
	if (uri != NULL && *uri != '\0') {
		path = req_strdup(r, uri);
	} else {
		uri = fcgi_param(h, "REQUEST_URI");
		if (uri == NULL || *uri == '\0')
			uri = "/";
		path = req_urldecode(r, uri, strcspn(uri, "?"), 0);
	}
	n = strlen(path);
	if (n > 1 && path[n - 1] == '/')
		path[n - 1] = '\0';
	r->path = path;
}

int
worker_main(int listen_fd)
{
	struct sigaction sa;
	sigset_t block, waitmask;
	struct epoll_event ev, got;
	struct req r = {0};
	void *h;
	int ep;

	prctl(PR_SET_PDEATHSIG, SIGTERM);
	log_set_role("worker");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGCHLD, SIG_DFL);
	/* Signals stay blocked while a request runs, so a drain never interrupts one; they are let
	 * in only while waiting for the next connection (epoll_pwait swaps the mask atomically). */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_SETMASK, &block, &waitmask);
	sigdelset(&waitmask, SIGTERM);
	sigdelset(&waitmask, SIGINT);

	if (getppid() == 1)
		return 0;
	h = fcgi_request_new(listen_fd);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (h == NULL || ep < 0) {
		log_error("cannot set up the worker");
		return 1;
	}
	/* EPOLLEXCLUSIVE wakes one waiting worker per connection, not the whole pool. */
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLEXCLUSIVE;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, listen_fd, &ev) != 0) {
		log_error("epoll_ctl: %s", strerror(errno));
		return 1;
	}
	db_configure(&cfg);
	while (!stopping) {
		struct timespec end;
		int n = epoll_pwait(ep, &got, 1, -1, &waitmask);

		if (n <= 0 || stopping)
			continue;
		/* Another worker may have taken it: the socket is non-blocking, so this returns. */
		if (fcgi_accept(h) != 0)
			continue;
		req_begin(&r);
		req_from_fcgi(&r, h);
		router_dispatch(&r);
		fcgi_finish(h);
		clock_gettime(CLOCK_MONOTONIC, &end);
		if (cfg.log_requests)
			log_request(r.request_id, r.method, r.path, r.status,
			    (end.tv_sec - r.started.tv_sec) * 1000000L + (end.tv_nsec - r.started.tv_nsec) / 1000);
		req_end(&r);
	}
	req_release(&r);
	db_close();
	close(ep);
	return 0;
}
