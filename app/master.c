/* master.c — supervision (see master.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "db.h"
#include "fcgi.h"
#include "log.h"
#include "master.h"
#include "migrate.h"
#include "router.h"
#include "worker.h"

#define MAX_WORKERS 512
#define SD_LISTEN_FDS_START 3

struct child {
	pid_t pid;
	unsigned gen;           /* config generation it runs */
	time_t started;
};

static struct child kids[MAX_WORKERS * 2];
static int nkids;
static unsigned generation;
static int listen_fd = -1;
static int own_socket;          /* we bound it, so we unlink it */

/* The socket: systemd's (LISTEN_FDS), spawn-fcgi's (fd 0), or our own. */
static int
open_socket(void)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	struct sockaddr_un sa;
	int fd;

	if (pid != NULL && fds != NULL && atoi(pid) == (int)getpid() && atoi(fds) >= 1) {
		unsetenv("LISTEN_PID");
		unsetenv("LISTEN_FDS");
		unsetenv("LISTEN_FDNAMES");
		log_info("using the socket passed by systemd");
		return SD_LISTEN_FDS_START;
	}
	if (fcgi_is_listening(0)) {
		log_info("using the listening socket on fd 0");
		fd = dup(0);
		int devnull = open("/dev/null", O_RDONLY);
		if (devnull >= 0) {
			dup2(devnull, 0);
			close(devnull);
		}
		return fd;
	}
	if (strlen(cfg.socket) >= sizeof(sa.sun_path)) {
		log_error("socket path %s is too long", cfg.socket);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, cfg.socket, strlen(cfg.socket) + 1);
	/* A stale socket from a crash is replaced; a live one (another serve) is not. */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		log_error("%s: another server is already listening there", cfg.socket);
		close(fd);
		return -1;
	}
	unlink(cfg.socket);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || chmod(cfg.socket, (mode_t)cfg.socket_mode) != 0 ||
	    listen(fd, 1024) != 0) {
		log_error("%s: cannot listen: %s", cfg.socket, strerror(errno));
		close(fd);
		return -1;
	}
	own_socket = 1;
	log_info("listening on %s", cfg.socket);
	return fd;
}

static pid_t
spawn(void)
{
	pid_t pid = fork();

	if (pid < 0) {
		log_error("fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		_exit(worker_main(listen_fd));
	}
	kids[nkids].pid = pid;
	kids[nkids].gen = generation;
	kids[nkids].started = time(NULL);
	nkids++;
	return pid;
}

static int
count_gen(unsigned gen)
{
	int n = 0;

	for (int i = 0; i < nkids; i++)
		n += kids[i].gen == gen;
	return n;
}

/* Reaps exited children; returns how many died that were not asked to (they get replaced). */
static int
reap(pid_t *last)
{
	int status, unexpected = 0;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (int i = 0; i < nkids; i++) {
			if (kids[i].pid != pid)
				continue;
			if (kids[i].gen == generation) {
				if (WIFSIGNALED(status))
					log_warn("worker %d died with signal %d; replacing it", (int)pid, WTERMSIG(status));
				else
					log_warn("worker %d exited with %d; replacing it", (int)pid, WEXITSTATUS(status));
				unexpected++;
			}
			kids[i] = kids[--nkids];
			break;
		}
		if (last != NULL)
			*last = pid;
	}
	return unexpected;
}

/* Keeps cfg.workers workers of the current generation; a crash loop is slowed to one spawn a second. */
static void
fill(void)
{
	static time_t last_burst;
	static int burst;

	while (count_gen(generation) < cfg.workers && nkids < (int)(sizeof(kids) / sizeof(kids[0]))) {
		time_t now = time(NULL);

		if (now != last_burst) {
			last_burst = now;
			burst = 0;
		}
		if (burst++ > cfg.workers * 2) {
			sleep(1);
			continue;
		}
		if (spawn() < 0) {
			sleep(1);
			return;
		}
	}
}

/* Waits until the given pid has exited (or every child when pid is 0), up to the drain timeout,
 * then kills. Other signals stay pending for the main loop. */
static void
wait_exit(pid_t pid, const sigset_t *set)
{
	struct timespec deadline, now;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += cfg.drain_timeout;
	for (;;) {
		int alive = 0;

		reap(NULL);
		for (int i = 0; i < nkids; i++)
			alive |= pid == 0 || kids[i].pid == pid;
		if (!alive)
			return;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec >= deadline.tv_sec) {
			log_warn("drain timeout (%ds): killing what is left", cfg.drain_timeout);
			for (int i = 0; i < nkids; i++)
				if (pid == 0 || kids[i].pid == pid)
					kill(kids[i].pid, SIGKILL);
			deadline.tv_sec = now.tv_sec + 5;
		}
		sigset_t chld;
		struct timespec tick = { 0, 100 * 1000000L };
		sigemptyset(&chld);
		sigaddset(&chld, SIGCHLD);
		(void)set;
		sigtimedwait(&chld, NULL, &tick);
	}
}

static int
reload(const sigset_t *set)
{
	struct config next;
	char errs[4096], err[256];
	unsigned old;

	if (config_load(&next, cfg.path[0] ? cfg.path : NULL, 1, errs, sizeof(errs)) != 0) {
		log_error("reload refused, the config has problems; still running the old one:\n%s", errs);
		return -1;
	}
	if (config_load_secret(&next, 0, err, sizeof(err)) != 0) {
		log_error("reload refused: %s", err);
		return -1;
	}
	if (strcmp(next.socket, cfg.socket) != 0)
		log_warn("the socket changed to %s: that takes a restart; keeping %s", next.socket, cfg.socket);
	snprintf(next.socket, sizeof(next.socket), "%s", cfg.socket);
	cfg = next;
	db_configure(&cfg);
	old = generation++;
	log_info("reloading: replacing workers one by one");
	/* One new worker up before each old one leaves, so capacity never drops. */
	for (;;) {
		pid_t victim = 0;

		for (int i = 0; i < nkids; i++)
			if (kids[i].gen == old) {
				victim = kids[i].pid;
				break;
			}
		if (victim == 0)
			break;
		if (count_gen(generation) < cfg.workers)
			spawn();
		kill(victim, SIGTERM);
		wait_exit(victim, set);
	}
	fill();
	log_info("reload done: %d workers", count_gen(generation));
	return 0;
}

static int
write_pidfile(void)
{
	FILE *f;

	if (cfg.pidfile[0] == '\0')
		return 0;
	f = fopen(cfg.pidfile, "w");
	if (f == NULL) {
		log_error("%s: cannot write the pid file: %s", cfg.pidfile, strerror(errno));
		return -1;
	}
	fprintf(f, "%d\n", (int)getpid());
	fclose(f);
	return 0;
}

/* Refuses to serve a schema that is not migrated or statements that do not fit it. */
static int
check_database(void)
{
	int pending, bad;

	db_configure(&cfg);
	if (db_connect() != 0) {
		log_warn("the database cannot be reached now; workers answer 503 until it can");
		return 0;
	}
	pending = migrate_pending();
	if (pending != 0) {
		if (pending > 0)
			log_error("the database schema is not up to date (%d migration(s) pending): "
			    "run `siali migrate` first", pending);
		db_close();
		return -1;
	}
	bad = db_prepare_all();
	db_close();
	if (bad != 0) {
		log_error("%d statement(s) do not fit the schema", bad);
		return -1;
	}
	return 0;
}

int
master_main(void)
{
	char err[256];
	sigset_t set;
	int stopping = 0;

	log_set_role("master");
	if (router_check(routes, routes_count) != 0) {
		log_error("the route table is invalid; refusing to start");
		return 1;
	}
	if (config_load_secret(&cfg, 0, err, sizeof(err)) != 0) {
		log_error("%s", err);
		return 1;
	}
	if (check_database() != 0)
		return 1;
	if (fcgi_init() != 0)
		return 1;
	listen_fd = open_socket();
	if (listen_fd < 0)
		return 1;
	/* Non-blocking: a worker woken for a connection another one took goes back to waiting. */
	fcntl(listen_fd, F_SETFL, fcntl(listen_fd, F_GETFL) | O_NONBLOCK);
	if (write_pidfile() != 0)
		return 1;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGQUIT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	log_info("serving with %d workers", cfg.workers);
	fill();
	while (!stopping) {
		struct timespec tick = { 1, 0 };
		int sig = sigtimedwait(&set, NULL, &tick);

		switch (sig) {
		case SIGCHLD:
			reap(NULL);
			break;
		case SIGHUP:
			reload(&set);
			break;
		case SIGTERM:
		case SIGINT:
		case SIGQUIT:
			stopping = 1;
			break;
		default:
			reap(NULL);
			break;
		}
		if (!stopping)
			fill();
	}
	log_info("draining %d workers", nkids);
	for (int i = 0; i < nkids; i++)
		kill(kids[i].pid, SIGTERM);
	wait_exit(0, &set);
	if (own_socket)
		unlink(cfg.socket);
	if (cfg.pidfile[0] != '\0')
		unlink(cfg.pidfile);
	log_info("stopped");
	return 0;
}
