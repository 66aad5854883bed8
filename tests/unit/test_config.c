/* The settings table: defaults, parsing, bounds, env overrides, every problem reported at once. */
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>

#include "config.h"

Test(config, defaults)
{
	struct config c;

	config_defaults(&c);
	cr_assert_str_eq(c.socket, "/run/siali/siali.sock");
	cr_assert_eq(c.max_body_size, 250LL << 20);
	cr_assert_eq(c.socket_mode, 0660);
	cr_assert_eq(c.legacy_tokens, 1);
	cr_assert_eq(c.access_token_ttl, 300);
}

Test(config, parses_values)
{
	struct config c;
	char errs[1024] = "";
	const char *text =
	    "# comment\n"
	    "socket = /tmp/x.sock\n"
	    "  workers=3  \n"
	    "max_body_size = 1G\n"
	    "max_json_size = 512K\n"
	    "socket_mode = 0666\n"
	    "legacy_tokens = off\n"
	    "db_password = \"p w\"\n";

	config_defaults(&c);
	cr_assert_eq(config_parse(&c, text, "t", errs, sizeof(errs)), 0, "%s", errs);
	cr_assert_str_eq(c.socket, "/tmp/x.sock");
	cr_assert_eq(c.workers, 3);
	cr_assert_eq(c.max_body_size, 1LL << 30);
	cr_assert_eq(c.max_json_size, 512 << 10);
	cr_assert_eq(c.socket_mode, 0666);
	cr_assert_eq(c.legacy_tokens, 0);
	cr_assert_str_eq(c.db_password, "p w");
}

Test(config, reports_every_problem)
{
	struct config c;
	char errs[2048] = "";
	const char *text =
	    "nonsense = 1\n"
	    "workers = many\n"
	    "db_port = 70000\n"
	    "no equals sign\n"
	    "max_body_size = 12Q\n";

	config_defaults(&c);
	cr_assert_eq(config_parse(&c, text, "t.conf", errs, sizeof(errs)), 5);
	cr_assert_not_null(strstr(errs, "t.conf:1: unknown setting `nonsense`"));
	cr_assert_not_null(strstr(errs, "t.conf:2: workers must be an integer"));
	cr_assert_not_null(strstr(errs, "t.conf:3: db_port is out of range"));
	cr_assert_not_null(strstr(errs, "t.conf:4:"));
	cr_assert_not_null(strstr(errs, "t.conf:5: max_body_size"));
}

Test(config, environment_overrides_the_file)
{
	struct config c;
	char errs[1024];

	setenv("SIALI_DB_NAME", "from_env", 1);
	setenv("SIALI_WORKERS", "0", 1);
	cr_assert_eq(config_load(&c, "/nonexistent/siali.conf", 1, errs, sizeof(errs)), 0, "%s", errs);
	cr_assert_str_eq(c.db_name, "from_env");
	cr_assert_gt(c.workers, 0, "workers = 0 resolves to 2 x cores");
	setenv("SIALI_DRAIN_TIMEOUT", "-5", 1);
	cr_assert_eq(config_load(&c, "/nonexistent/siali.conf", 1, errs, sizeof(errs)), 1);
	cr_assert_not_null(strstr(errs, "SIALI_DRAIN_TIMEOUT"));
	unsetenv("SIALI_DRAIN_TIMEOUT");
	unsetenv("SIALI_DB_NAME");
	unsetenv("SIALI_WORKERS");
}

Test(config, missing_file_is_a_problem_unless_allowed)
{
	struct config c;
	char errs[1024];

	cr_assert_eq(config_load(&c, "/nonexistent/siali.conf", 0, errs, sizeof(errs)), 1);
	cr_assert_eq(config_load(&c, "/nonexistent/siali.conf", 1, errs, sizeof(errs)), 0);
}
