/* hello.c — the ceiling of the benchmarks: the least a libfcgi prefork pool can do.
 *
 *   hello SOCKET WORKERS
 *
 * Binds SOCKET (a unix socket path, mode 0666), forks WORKERS processes that share it, like
 * `siali serve` does, and answers every request with the bytes siali's GET /health sends:
 * 200, application/json, {"status":"UP"}. No routing, no logging, no database: whatever siali
 * spends above this is its own cost. SIGTERM or SIGINT stops the pool and removes the socket.
 *
 * Built by tests/bench/bench.sh:  cc -O2 -Wall -Wextra -Werror hello.c -o hello -lfcgi
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <fcgiapp.h>

#define MAX_WORKERS 512

static const char reply[] =
	"Status: 200 OK\r\n"
	"Content-Type: application/json\r\n"
	"Content-Length: 15\r\n"
	"\r\n"
	"{\"status\":\"UP\"}";

static volatile sig_atomic_t stopping;

static void
on_term(int sig)
{
	(void)sig;
	stopping = 1;
}

static int
worker(int fd)
{
	FCGX_Request q;

	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() == 1)
		return 0;
	signal(SIGPIPE, SIG_IGN);
	/* Blocking accept in every worker: the kernel hands each connection to one waiter. */
	if (FCGX_InitRequest(&q, fd, FCGI_FAIL_ACCEPT_ON_INTR) != 0)
		return 1;
	while (!stopping && FCGX_Accept_r(&q) == 0) {
		FCGX_PutStr(reply, (int)sizeof(reply) - 1, q.out);
		FCGX_Finish_r(&q);
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static pid_t kids[MAX_WORKERS];
	struct sigaction sa;
	sigset_t set, old;
	char *end;
	long n;
	int fd, running = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: %s SOCKET WORKERS\n", argv[0]);
		return 2;
	}
	n = strtol(argv[2], &end, 10);
	if (*end != '\0' || n < 1 || n > MAX_WORKERS) {
		fprintf(stderr, "hello: WORKERS must be 1-%d\n", MAX_WORKERS);
		return 2;
	}
	if (FCGX_Init() != 0) {
		fprintf(stderr, "hello: FCGX_Init failed\n");
		return 1;
	}
	unlink(argv[1]);
	fd = FCGX_OpenSocket(argv[1], 1024);    /* the backlog siali uses */
	if (fd < 0 || chmod(argv[1], 0666) != 0) {
		fprintf(stderr, "hello: cannot listen on %s: %s\n", argv[1], strerror(errno));
		return 1;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	/* Block them in the master until the pool is up, so a stop during startup is not lost. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, &old);
	for (long i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid < 0) {
			fprintf(stderr, "hello: fork: %s\n", strerror(errno));
			stopping = 1;
			break;
		}
		if (pid == 0) {
			sigprocmask(SIG_SETMASK, &old, NULL);
			_exit(worker(fd));
		}
		kids[running++] = pid;
	}
	fprintf(stderr, "hello: %d workers on %s\n", running, argv[1]);

	/* Wait for a stop (or a worker dying: the ceiling is void then), then stop the pool. */
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	while (!stopping) {
		int sig;

		if (sigwait(&set, &sig) != 0 || sig != SIGCHLD) {
			stopping = 1;
		} else if (waitpid(-1, NULL, WNOHANG) > 0) {
			fprintf(stderr, "hello: a worker died; stopping\n");
			stopping = 1;
		}
	}
	for (int i = 0; i < running; i++)
		kill(kids[i], SIGTERM);
	while (wait(NULL) > 0 || errno == EINTR)
		;
	unlink(argv[1]);
	return 0;
}
