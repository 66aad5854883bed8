/* main.c — the `siali` command: serve, worker, migrate, user, check-config. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <mysql.h>

#include "config.h"
#include "db.h"
#include "handlers.h"
#include "jobs.h"
#include "log.h"
#include "master.h"
#include "migrate.h"
#include "password.h"
#include "version.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: siali <command> [options]\n"
	    "\n"
	    "  serve                 run the FastCGI worker pool (foreground)\n"
	    "  worker [--once]       run background jobs (foreground; --once: until none is ready)\n"
	    "  migrate               apply database migrations; create the secret key if missing\n"
	    "  user --username NAME [--create] [--password PW] [--email EMAIL] [--new-org TITLE]\n"
	    "                        print a user and its API token as JSON (--create makes it first)\n"
	    "  check-config [-v]     report every configuration problem (-v: print the settings)\n"
	    "  version               print the version\n"
	    "\n"
	    "The config file is $SIALI_CONFIG, else %s;\n"
	    "every setting can be overridden with SIALI_<NAME>.\n", config_path());
}

/* Loads the config; prints the problems and returns -1 when there are any. */
static int
load(void)
{
	char errs[8192];
	int allow_missing = getenv("SIALI_CONFIG") == NULL;

	if (config_load(&cfg, NULL, allow_missing, errs, sizeof(errs)) != 0) {
		fprintf(stderr, "siali: configuration problems:\n%s", errs);
		return -1;
	}
	db_configure(&cfg);
	return 0;
}

static int
cmd_check_config(int argc, char **argv)
{
	char errs[8192], err[512];
	int problems, verbose = argc > 1 && strcmp(argv[1], "-v") == 0;

	problems = config_load(&cfg, NULL, getenv("SIALI_CONFIG") == NULL, errs, sizeof(errs));
	if (config_load_secret(&cfg, 0, err, sizeof(err)) != 0) {
		size_t n = strlen(errs);
		snprintf(errs + n, sizeof(errs) - n, "%s\n", err);
		problems++;
	}
	db_configure(&cfg);
	if (db_connect() != 0) {
		size_t n = strlen(errs);
		snprintf(errs + n, sizeof(errs) - n, "database: cannot connect with these settings\n");
		problems++;
	} else {
		int pending = migrate_pending();
		if (pending != 0) {
			size_t n = strlen(errs);
			snprintf(errs + n, sizeof(errs) - n, "database: schema not up to date (%d pending): "
			    "run `siali migrate`\n", pending);
			problems++;
		}
		db_close();
	}
	if (verbose) {
		printf("# %s\n", cfg.path[0] ? cfg.path : "(no config file; defaults and environment)");
		fflush(stdout);
		config_dump(&cfg, STDOUT_FILENO);
	}
	if (problems) {
		fprintf(stderr, "%s%d problem(s)\n", errs, problems);
		return 1;
	}
	printf("configuration OK (%s)\n", cfg.path[0] ? cfg.path : "defaults and environment");
	return 0;
}

static int
cmd_migrate(void)
{
	char err[512];

	if (load() != 0)
		return 1;
	if (config_load_secret(&cfg, 1, err, sizeof(err)) != 0) {
		fprintf(stderr, "siali migrate: %s\n", err);
		return 1;
	}
	if (db_connect() != 0 || migrate_run() != 0) {
		fprintf(stderr, "siali migrate: failed (see above)\n");
		return 1;
	}
	db_close();
	printf("database schema up to date (%zu migrations)\n", migrations_count);
	return 0;
}

static int
cmd_user(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "username", required_argument, NULL, 'u' },
		{ "create", no_argument, NULL, 'c' },
		{ "password", required_argument, NULL, 'p' },
		{ "email", required_argument, NULL, 'e' },
		{ "new-org", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	const char *username = NULL, *password = NULL, *email = NULL, *org = NULL;
	int create = 0, c, rc;
	char err[512];

	while ((c = getopt_long(argc, argv, "u:cp:e:o:", opts, NULL)) != -1) {
		switch (c) {
		case 'u': username = optarg; break;
		case 'c': create = 1; break;
		case 'p': password = optarg; break;
		case 'e': email = optarg; break;
		case 'o': org = optarg; break;
		default: usage(stderr); return 2;
		}
	}
	if (username == NULL || *username == '\0') {
		fprintf(stderr, "siali user: --username is required\n");
		return 2;
	}
	if (load() != 0 || password_init() != 0)
		return 1;
	if (config_load_secret(&cfg, 0, err, sizeof(err)) != 0) {
		fprintf(stderr, "siali user: %s\n", err);
		return 1;
	}
	if (db_connect() != 0) {
		fprintf(stderr, "siali user: the database cannot be reached\n");
		return 1;
	}
	rc = users_cli(username, create, password, email, org);
	db_close();
	return rc;
}

int
main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";
	int rc;

	log_set_role("siali");
	if (mysql_library_init(0, NULL, NULL) != 0) {
		fprintf(stderr, "siali: cannot initialise the MariaDB client library\n");
		return 1;
	}
	if (strcmp(cmd, "serve") == 0) {
		if (load() != 0 || password_init() != 0)
			return 1;
		rc = master_main();
	} else if (strcmp(cmd, "worker") == 0) {
		char err[512];
		if (load() != 0)
			return 1;
		if (config_load_secret(&cfg, 0, err, sizeof(err)) != 0) {
			fprintf(stderr, "siali worker: %s\n", err);
			return 1;
		}
		log_set_role("jobs");
		rc = jobs_main(argc > 2 && strcmp(argv[2], "--once") == 0);
	} else if (strcmp(cmd, "migrate") == 0) {
		rc = cmd_migrate();
	} else if (strcmp(cmd, "user") == 0) {
		rc = cmd_user(argc - 1, argv + 1);
	} else if (strcmp(cmd, "check-config") == 0) {
		rc = cmd_check_config(argc - 1, argv + 1);
	} else if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
		printf("siali %s\n", SIALI_VERSION);
		rc = 0;
	} else if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
		usage(stdout);
		rc = 0;
	} else {
		usage(stderr);
		rc = 2;
	}
	mysql_library_end();
	return rc;
}
