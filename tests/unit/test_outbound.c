/* The SSRF guard: the address classifier, URL checks, the settings, and real fetches against a
 * tiny HTTP server forked by each test on 127.0.0.1 (loopback is refused by default, so the
 * positive cases list the server in outbound_allow_hosts). */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <criterion/criterion.h>

#include "config.h"
#include "outbound.h"

/* ---- the classifier ---- */

static int
class_of(const char *text)
{
	struct sockaddr_in6 s6;
	struct sockaddr_in s4;

	memset(&s4, 0, sizeof(s4));
	memset(&s6, 0, sizeof(s6));
	if (inet_pton(AF_INET, text, &s4.sin_addr) == 1) {
		s4.sin_family = AF_INET;
		return outbound_addr_private((struct sockaddr *)&s4);
	}
	cr_assert_eq(inet_pton(AF_INET6, text, &s6.sin6_addr), 1, "%s", text);
	s6.sin6_family = AF_INET6;
	return outbound_addr_private((struct sockaddr *)&s6);
}

enum { PUB = OUTBOUND_ADDR_PUBLIC, PRIV = OUTBOUND_ADDR_PRIVATE, META = OUTBOUND_ADDR_METADATA,
	RES = OUTBOUND_ADDR_RESERVED };

struct want {
	const char *addr;
	int cls;
};

static void
check_all(const struct want *w, size_t n)
{
	for (size_t i = 0; i < n; i++)
		cr_expect_eq(class_of(w[i].addr), w[i].cls, "%s: got %s, want %s", w[i].addr,
		    outbound_addr_class(class_of(w[i].addr)), outbound_addr_class(w[i].cls));
}

Test(classify, ipv4_range_edges)
{
	static const struct want w[] = {
		{ "0.0.0.0", PRIV }, { "0.255.255.255", PRIV }, { "1.0.0.0", PUB },
		{ "9.255.255.255", PUB }, { "10.0.0.0", PRIV }, { "10.255.255.255", PRIV }, { "11.0.0.0", PUB },
		{ "100.63.255.255", PUB }, { "100.64.0.0", PRIV }, { "100.127.255.255", PRIV },
		{ "100.128.0.0", PUB },
		{ "126.255.255.255", PUB }, { "127.0.0.0", PRIV }, { "127.0.0.1", PRIV },
		{ "127.255.255.255", PRIV }, { "128.0.0.0", PUB },
		{ "169.253.255.255", PUB }, { "169.254.0.0", PRIV }, { "169.254.255.255", PRIV },
		{ "169.255.0.0", PUB },
		{ "172.15.255.255", PUB }, { "172.16.0.0", PRIV }, { "172.31.255.255", PRIV },
		{ "172.32.0.0", PUB },
		{ "191.255.255.255", PUB }, { "192.0.0.0", PRIV }, { "192.0.0.255", PRIV }, { "192.0.1.0", PUB },
		{ "192.167.255.255", PUB }, { "192.168.0.0", PRIV }, { "192.168.255.255", PRIV },
		{ "192.169.0.0", PUB },
		{ "198.17.255.255", PUB }, { "198.18.0.0", PRIV }, { "198.19.255.255", PRIV },
		{ "198.20.0.0", PUB },
		{ "223.255.255.255", PUB }, { "224.0.0.0", RES }, { "239.255.255.255", RES },
		{ "240.0.0.0", RES }, { "254.255.255.255", RES }, { "255.255.255.255", RES },
		{ "8.8.8.8", PUB }, { "1.1.1.1", PUB }, { "93.184.216.34", PUB },
	};

	check_all(w, sizeof(w) / sizeof(w[0]));
}

Test(classify, metadata_addresses)
{
	static const struct want w[] = {
		{ "169.254.169.254", META }, { "169.254.169.253", PRIV }, { "169.254.169.255", PRIV },
		{ "169.254.170.2", META }, { "100.100.100.200", META }, { "100.100.100.201", PRIV },
		{ "192.0.0.192", META }, { "fd00:ec2::254", META }, { "fd00:ec2::253", PRIV },
		{ "::ffff:169.254.169.254", META }, { "64:ff9b::a9fe:a9fe", META },
	};

	check_all(w, sizeof(w) / sizeof(w[0]));
}

Test(classify, ipv6_ranges)
{
	static const struct want w[] = {
		{ "::", PRIV }, { "::1", PRIV }, { "::2", RES }, { "::127.0.0.1", RES },
		{ "::ffff:127.0.0.1", PRIV }, { "::ffff:10.1.2.3", PRIV }, { "::ffff:8.8.8.8", PUB },
		{ "::ffff:0.0.0.0", PRIV }, { "::ffff:255.255.255.255", RES },
		{ "::ffff:0:10.0.0.1", PRIV }, { "::ffff:0:8.8.8.8", PUB },
		{ "64:ff9b::10.0.0.1", PRIV }, { "64:ff9b::7f00:1", PRIV }, { "64:ff9b::8.8.8.8", PUB },
		{ "64:ff9b::c0a8:101", PRIV }, { "64:ff9b:1::1", PRIV }, { "64:ff9b:2::1", PUB },
		{ "2002:7f00:1::", PRIV }, { "2002:a00:1::1", PRIV }, { "2002:808:808::1", PUB },
		{ "100::1", RES }, { "100:0:0:1::1", PUB },
		{ "2001::1", RES }, { "2001:0:ffff:ffff::", RES }, { "2001:1::1", PUB },
		{ "2001:db8::1", RES }, { "2001:db9::1", PUB },
		{ "2001:4860:4860::8888", PUB }, { "2606:4700:4700::1111", PUB },
		{ "fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", PUB }, { "fc00::", PRIV }, { "fd12:3456::1", PRIV },
		{ "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", PRIV }, { "fe00::", PUB },
		{ "fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", PUB }, { "fe80::", PRIV }, { "fe80::1", PRIV },
		{ "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", PRIV }, { "fec0::1", PRIV },
		{ "feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", PRIV }, { "ff00::", RES }, { "ff02::1", RES },
		{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", RES },
	};

	check_all(w, sizeof(w) / sizeof(w[0]));
}

Test(classify, other_families_are_reserved)
{
	struct sockaddr_un un;

	memset(&un, 0, sizeof(un));
	un.sun_family = AF_UNIX;
	cr_assert_eq(outbound_addr_private((struct sockaddr *)&un), RES);
}

/* getaddrinfo accepts inet_aton's spellings; the check runs on what it returns. */
Test(classify, numeric_tricks_through_getaddrinfo)
{
	static const char *tricks[] = {
		"0x7f.1", "2130706433", "127.1", "0177.0.0.1", "0x7f000001", "017700000001", "127.0.1",
		"0", "10.1", "0xa.0x1", "167772161", "0xA9.0xFE.0xA9.0xFE",
	};

	for (size_t i = 0; i < sizeof(tricks) / sizeof(tricks[0]); i++) {
		struct addrinfo hints, *res;

		memset(&hints, 0, sizeof(hints));
		hints.ai_family = AF_UNSPEC;
		hints.ai_socktype = SOCK_STREAM;
		cr_assert_eq(getaddrinfo(tricks[i], NULL, &hints, &res), 0, "%s", tricks[i]);
		for (struct addrinfo *ai = res; ai; ai = ai->ai_next)
			cr_expect_neq(outbound_addr_private(ai->ai_addr), PUB, "%s", tricks[i]);
		freeaddrinfo(res);
	}
}

/* ---- URL checks (no network: literals and localhost only) ---- */

static char err[512];

static void
refused(const char *url, const char *needle)
{
	err[0] = '\0';
	cr_expect_eq(outbound_url_allowed(url, err, sizeof(err)), OUTBOUND_REFUSED, "%s was allowed", url);
	cr_expect_not_null(strstr(err, needle), "%s: \"%s\" lacks \"%s\"", url, err, needle);
}

static void
allowed(const char *url)
{
	err[0] = '\0';
	cr_expect_eq(outbound_url_allowed(url, err, sizeof(err)), OUTBOUND_OK, "%s: %s", url, err);
}

static void
defaults(void)
{
	config_defaults(&cfg);
}

TestSuite(url, .init = defaults);

Test(url, schemes_other_than_http_are_refused)
{
	refused("file:///etc/passwd", "scheme \"file\" is not allowed");
	refused("FILE:///etc/passwd", "is not allowed");
	refused("gopher://8.8.8.8:70/_x", "scheme \"gopher\"");
	refused("ftp://8.8.8.8/", "scheme \"ftp\"");
	refused("dict://8.8.8.8:11211/stat", "scheme \"dict\"");
	refused("ldap://8.8.8.8/", "scheme \"ldap\"");
	refused("javascript:alert(1)", "");
	refused("8.8.8.8/path", "must start with http:// or https://");
	refused("//8.8.8.8/path", "must start with http:// or https://");
	refused("", "URL is empty");
}

Test(url, uppercase_schemes_and_hosts_are_http)
{
	allowed("HTTP://8.8.8.8/");
	allowed("HtTpS://8.8.8.8:8443/a?b#c");
	refused("HTTP://LOCALHOST/", "private address");
	refused("HTTPS://[::1]:8443/", "private address (::1)");
}

Test(url, userinfo_is_refused)
{
	refused("http://user:pw@8.8.8.8/", "user name or password");
	refused("http://user@8.8.8.8/", "user name or password");
	refused("http://:pw@8.8.8.8/", "user name or password");
	refused("http://8.8.8.8@127.0.0.1/", "user name or password");
	refused("https://a%40b:c@8.8.8.8/", "user name or password");
}

Test(url, ports)
{
	allowed("http://8.8.8.8:1/");
	allowed("http://8.8.8.8:65535/");
	allowed("http://8.8.8.8:9090/predict");
	refused("http://8.8.8.8:0/", "port");
	refused("http://8.8.8.8:65536/", "port");
	refused("http://8.8.8.8:http/", "port");
	refused("http://8.8.8.8:-1/", "port");
}

Test(url, hosts_and_ipv6_literals)
{
	allowed("http://[2001:4860:4860::8888]/");
	allowed("https://[2001:4860:4860::8888]:443/x");
	refused("http://[::1]/", "private address (::1)");
	refused("http://[::ffff:127.0.0.1]/", "private address");
	refused("http://[::ffff:7f00:1]:80/", "private address");
	refused("http://[64:ff9b::a00:5]/", "private address");
	refused("http://[fe80::1%25eth0]/", "");
	refused("http://[::1/", "not a valid");
	refused("http://[zz::1]/", "not a valid");
	refused("http:///path", "host");
	refused("http://exa mple.com/", "");
	refused("http://[ff02::1]/", "reserved address");
	refused("http://224.0.0.1/", "reserved address (224.0.0.1)");
	refused("http://255.255.255.255/", "reserved address");
	refused("http://no-such-host.invalid/", "cannot resolve");
}

Test(url, private_addresses_and_numeric_tricks)
{
	refused("http://127.0.0.1/", "URL host resolves to a private address (127.0.0.1), which is not "
	    "allowed (setting outbound_allow_private)");
	refused("http://10.0.0.5/", "private address (10.0.0.5)");
	refused("http://localhost:8080/", "private address");
	refused("http://0x7f.1/", "private address (127.0.0.1)");
	refused("http://2130706433/", "private address (127.0.0.1)");
	refused("http://127.1/", "private address (127.0.0.1)");
	refused("http://0177.0.0.1/", "private address (127.0.0.1)");
	refused("http://0/", "private address (0.0.0.0)");
	refused("http://0.0.0.0:9000/", "private address");
	refused("http://100.64.1.1/", "private address");
	refused("http://[::]/", "private address");
	refused("http://169.254.169.254/latest/meta-data/", "cloud metadata address (169.254.169.254)");
	refused("http://[fd00:ec2::254]/", "cloud metadata address");
	refused("http://0xA9FEA9FE/", "cloud metadata address");
	refused("http://0300.0250.0.1/", "private address (192.168.0.1)");
	refused("http://127.0.0.%31/", "private address (127.0.0.1)");
	refused("http://%6c%6fcalhost/", "private address (127.0.0.1)");
	refused("http://[::ffff:a00:5]/", "private address (::ffff:10.0.0.5)");
	refused("http://lo%0acalhost/", "not a valid host");
	/* Parser confusion: we judge the host curl will connect to, whatever the spelling. */
	refused("http://8.8.8.8\\@127.0.0.1/", "user name or password");
	refused("http://127.0.0.1%2f@8.8.8.8/", "user name or password");
	allowed("http://8.8.8.8#@127.0.0.1/");
	allowed("http://8.8.8.8?@127.0.0.1/");
}

Test(url, allow_private)
{
	cfg.outbound_allow_private = 1;
	allowed("http://10.0.0.5/");
	allowed("http://127.0.0.1:9090/");
	allowed("http://[fd12::1]/");
	allowed("http://localhost/");
	refused("http://169.254.169.254/", "outbound_allow_hosts");
	refused("http://224.0.0.1/", "reserved");
}

Test(url, allow_hosts)
{
	snprintf(cfg.outbound_allow_hosts, sizeof(cfg.outbound_allow_hosts),
	    " 127.0.0.1:8080 ,LOCALHOST., [::1]:9000, 169.254.169.254");
	allowed("http://127.0.0.1:8080/x");
	refused("http://127.0.0.1:8081/x", "private address");
	refused("http://127.0.0.1/x", "private address");
	allowed("http://localhost/");
	allowed("https://localhost:1234/");
	allowed("http://[::1]:9000/");
	allowed("http://[0:0::0:1]:9000/");
	refused("http://[::1]:9001/", "private address");
	allowed("http://169.254.169.254/latest/");
	refused("http://10.0.0.5/", "private address");
}

/* ---- settings ---- */

Test(settings, defaults_and_parsing)
{
	struct config c;
	char errs[1024] = "";

	config_defaults(&c);
	cr_assert_eq(c.outbound_allow_private, 0);
	cr_assert_str_eq(c.outbound_allow_hosts, "");
	cr_assert_eq(c.outbound_timeout, 30);
	cr_assert_eq(c.outbound_max_redirects, 5);
	cr_assert_eq(c.outbound_max_bytes, 0);
	cr_assert_eq(config_parse(&c, "outbound_allow_private = yes\noutbound_timeout = 5\n"
	    "outbound_max_bytes = 10M\noutbound_max_redirects = 0\n"
	    "outbound_allow_hosts = ml.local:9090, [::1], s3.internal\n", "t", errs, sizeof(errs)), 0,
	    "%s", errs);
	cr_assert_eq(c.outbound_allow_private, 1);
	cr_assert_eq(c.outbound_timeout, 5);
	cr_assert_eq(c.outbound_max_bytes, 10 << 20);
	cr_assert_eq(c.outbound_max_redirects, 0);
	cr_assert_str_eq(c.outbound_allow_hosts, "ml.local:9090, [::1], s3.internal");
	cr_assert_eq(config_parse(&c, "outbound_timeout = 0\noutbound_max_redirects = 21\n", "t", errs,
	    sizeof(errs)), 2);
}

Test(settings, max_bytes_follows_max_body_size)
{
	struct config c;
	char errs[1024];

	setenv("SIALI_MAX_BODY_SIZE", "1M", 1);
	cr_assert_eq(config_load(&c, "/nonexistent/siali.conf", 1, errs, sizeof(errs)), 0, "%s", errs);
	cr_assert_eq(c.outbound_max_bytes, 1 << 20);
	setenv("SIALI_OUTBOUND_MAX_BYTES", "64K", 1);
	cr_assert_eq(config_load(&c, "/nonexistent/siali.conf", 1, errs, sizeof(errs)), 0, "%s", errs);
	cr_assert_eq(c.outbound_max_bytes, 64 << 10);
	unsetenv("SIALI_OUTBOUND_MAX_BYTES");
	unsetenv("SIALI_MAX_BODY_SIZE");
}

Test(settings, check_config_reports_bad_host_lists)
{
	static const struct {
		const char *list;
		int problems;
	} cases[] = {
		{ "", 0 }, { "a.example", 0 }, { "a.example:80, b_c-d.example ,[::1]:443,[fe80::1]", 0 },
		{ "10.0.0.5", 0 },
		{ "a.example:", 1 }, { "a.example:0", 1 }, { "a.example:99999", 1 }, { "a.example:x", 1 },
		{ "::1", 1 }, { "[::1", 1 }, { "[::1]x", 1 }, { "[]", 1 }, { ":80", 1 }, { "a,,b", 1 },
		{ "http://a.example/", 1 }, { "a/b", 1 }, { "a b", 1 }, { "x:1, y:2:3, [z", 2 },
	};
	struct config c;
	char errs[1024];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		setenv("SIALI_OUTBOUND_ALLOW_HOSTS", cases[i].list, 1);
		cr_expect_eq(config_load(&c, "/nonexistent/siali.conf", 1, errs, sizeof(errs)),
		    cases[i].problems, "`%s`: %s", cases[i].list, errs);
		if (cases[i].problems)
			cr_expect_not_null(strstr(errs, "outbound_allow_hosts"), "%s", errs);
	}
	unsetenv("SIALI_OUTBOUND_ALLOW_HOSTS");
}

/* ---- live fetches ---- */

static pid_t srv_pid;
static int srv_port;

static void
say(int c, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = write(c, s, n);

		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

static void
sayf(int c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
sayf(int c, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)
		say(c, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

static void
header_value(const char *req, const char *name, char *out, size_t outsz)
{
	const char *p = req;
	size_t n = strlen(name);

	snprintf(out, outsz, "-");
	while ((p = strchr(p, '\n')) != NULL) {
		p++;
		if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
			const char *v = p + n + 1, *e = strpbrk(v, "\r\n");

			while (*v == ' ')
				v++;
			snprintf(out, outsz, "%.*s", (int)(e ? e - v : (long)strlen(v)), v);
			return;
		}
	}
}

static void
redirect(int c, int code, const char *location)
{
	sayf(c, "HTTP/1.1 %d Moved\r\nLocation: %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
	    code, location);
}

static void
body(int c, int code, const char *text)
{
	sayf(c, "HTTP/1.1 %d X\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\nConnection: close\r\n"
	    "\r\n%s", code, strlen(text), text);
}

static void
serve(int c)
{
	char req[16384], method[16], path[256], auth[256], keep[64], ctype[128], clen[32], loc[256];
	char *end, *reqbody;
	size_t got = 0;
	long want;
	int n;

	while (got < sizeof(req) - 1) {
		ssize_t r = read(c, req + got, sizeof(req) - 1 - got);

		if (r <= 0)
			return;
		got += (size_t)r;
		req[got] = '\0';
		if ((end = strstr(req, "\r\n\r\n")) != NULL)
			break;
	}
	if (end == NULL || sscanf(req, "%15s %255s", method, path) != 2)
		return;
	*end = '\0';
	reqbody = end + 4;
	header_value(req, "Authorization", auth, sizeof(auth));
	header_value(req, "X-Keep", keep, sizeof(keep));
	header_value(req, "Content-Type", ctype, sizeof(ctype));
	header_value(req, "Content-Length", clen, sizeof(clen));
	want = strcmp(clen, "-") ? atol(clen) : 0;
	while ((long)(got - (size_t)(reqbody - req)) < want && got < sizeof(req) - 1) {
		ssize_t r = read(c, req + got, sizeof(req) - 1 - got);

		if (r <= 0)
			break;
		got += (size_t)r;
		req[got] = '\0';
	}

	if (!strcmp(path, "/ok")) {
		body(c, 200, "hello");
	} else if (!strcmp(path, "/missing")) {
		body(c, 404, "nope");
	} else if (!strcmp(path, "/echo")) {
		sayf(c, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nmethod=%s auth=%s keep=%s ctype=%s "
		    "body=%s", method, auth, keep, ctype, reqbody);
	} else if (!strcmp(path, "/headers")) {
		sayf(c, "HTTP/1.1 200 OK\r\nX-Test: yes\r\nContent-Type: application/json\r\n"
		    "Content-Length: 2\r\nConnection: close\r\n\r\n{}");
	} else if (!strcmp(path, "/to-private")) {
		redirect(c, 302, "http://10.0.0.5/x");
	} else if (!strcmp(path, "/to-metadata")) {
		redirect(c, 301, "http://169.254.169.254/latest/meta-data/");
	} else if (!strcmp(path, "/to-file")) {
		redirect(c, 302, "file:///etc/passwd");
	} else if (!strcmp(path, "/to-gopher")) {
		redirect(c, 302, "gopher://127.0.0.1:6379/_FLUSHALL");
	} else if (!strcmp(path, "/to-userinfo")) {
		snprintf(loc, sizeof(loc), "http://u:p@127.0.0.1:%d/ok", srv_port);
		redirect(c, 302, loc);
	} else if (!strcmp(path, "/to-localhost")) {
		snprintf(loc, sizeof(loc), "http://localhost:%d/echo", srv_port);
		redirect(c, 307, loc);
	} else if (!strcmp(path, "/to-self")) {
		redirect(c, 307, "/echo");
	} else if (!strcmp(path, "/rel/a/b")) {
		redirect(c, 302, "../../ok");
	} else if (sscanf(path, "/chain/%d", &n) == 1) {
		if (n <= 0) {
			body(c, 200, "end");
		} else {
			snprintf(loc, sizeof(loc), "/chain/%d", n - 1);
			redirect(c, 302, loc);
		}
	} else if (sscanf(path, "/code/%d", &n) == 1) {
		redirect(c, n, "/echo");
	} else if (!strcmp(path, "/no-location")) {
		body(c, 302, "stay");
	} else if (!strcmp(path, "/big") || !strcmp(path, "/big-stream") || !strcmp(path, "/redirect-big")) {
		static char chunk[8192];

		memset(chunk, 'x', sizeof(chunk));
		if (!strcmp(path, "/big"))
			sayf(c, "HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\nConnection: close\r\n\r\n");
		else if (!strcmp(path, "/big-stream"))
			sayf(c, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
		else
			sayf(c, "HTTP/1.1 302 Found\r\nLocation: /ok\r\nConnection: close\r\n\r\n");
		for (int i = 0; i < 128; i++)
			say(c, chunk, sizeof(chunk));
		if (!strcmp(path, "/redirect-big"))
			sleep(10);      /* a body nobody should wait for */
	} else if (!strcmp(path, "/slow")) {
		sayf(c, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\nConnection: close\r\n\r\nab");
		sleep(10);
	} else {
		body(c, 404, "unknown");
	}
}

/* Forks the server on 127.0.0.1 (or ::1) and a free port; 0, or -1 when the family is missing. */
static int
srv_listen(int family)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int s, one = 1;

	config_defaults(&cfg);
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = (sa_family_t)family;
	if (family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else
		((struct sockaddr_in6 *)&ss)->sin6_addr = in6addr_loopback;
	s = socket(family, SOCK_STREAM, 0);
	if (s < 0)
		return -1;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s, (struct sockaddr *)&ss, family == AF_INET ? sizeof(struct sockaddr_in)
	    : sizeof(struct sockaddr_in6)) != 0) {
		close(s);
		return -1;
	}
	cr_assert_eq(listen(s, 16), 0);
	cr_assert_eq(getsockname(s, (struct sockaddr *)&ss, &len), 0);
	srv_port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
	    : ((struct sockaddr_in6 *)&ss)->sin6_port);
	srv_pid = fork();
	cr_assert_geq(srv_pid, 0);
	if (srv_pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		signal(SIGPIPE, SIG_IGN);
		signal(SIGCHLD, SIG_IGN);
		for (;;) {
			int c = accept(s, NULL, NULL);

			if (c < 0)
				continue;
			if (fork() == 0) {      /* one process per connection: slow answers block nobody */
				prctl(PR_SET_PDEATHSIG, SIGKILL);
				serve(c);
				_exit(0);
			}
			close(c);
		}
	}
	close(s);
	return 0;
}

static void
srv_start(void)
{
	cr_assert_eq(srv_listen(AF_INET), 0);
}

static void
srv_stop(void)
{
	if (srv_pid > 0) {
		kill(srv_pid, SIGKILL);
		waitpid(srv_pid, NULL, 0);
	}
}

static void
allow_server(void)
{
	snprintf(cfg.outbound_allow_hosts, sizeof(cfg.outbound_allow_hosts), "127.0.0.1:%d,localhost:%d",
	    srv_port, srv_port);
}

struct sink {
	char buf[4096];
	size_t len;
	size_t total;
	int calls;
	int stop_after;         /* abort on this call (0: never) */
	char headers[1024];
};

static int
sink_data(void *ctx, const char *p, size_t n)
{
	struct sink *s = ctx;
	size_t room = sizeof(s->buf) - 1 - s->len;

	s->calls++;
	if (s->stop_after && s->calls >= s->stop_after)
		return 1;
	memcpy(s->buf + s->len, p, n < room ? n : room);
	s->len += n < room ? n : room;
	s->buf[s->len] = '\0';
	s->total += n;
	return 0;
}

static int
sink_header(void *ctx, const char *name, const char *value)
{
	struct sink *s = ctx;
	size_t used = strlen(s->headers);

	snprintf(s->headers + used, sizeof(s->headers) - used, "%s=%s;", name, value);
	return 0;
}

static char url[512];

static const char *
at(const char *path)
{
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", srv_port, path);
	return url;
}

static int
get(const char *path, struct sink *s, long *status)
{
	struct outbound_req q = { .url = at(path), .on_data = sink_data, .ctx = s };

	err[0] = '\0';
	return outbound_fetch(&q, status, err, sizeof(err));
}

TestSuite(fetch, .init = srv_start, .fini = srv_stop, .timeout = 30);

Test(fetch, loopback_is_refused_by_default)
{
	struct sink s = {0};
	long status = -1;

	cr_assert_eq(get("/ok", &s, &status), OUTBOUND_REFUSED);
	cr_assert_eq(status, 0);
	cr_assert_eq(s.calls, 0);
	cr_assert_str_eq(err, "URL host resolves to a private address (127.0.0.1), which is not "
	    "allowed (setting outbound_allow_private)");
}

Test(fetch, allowed_host_is_fetched)
{
	struct sink s = {0};
	long status = 0;

	allow_server();
	cr_assert_eq(get("/ok", &s, &status), OUTBOUND_OK, "%s", err);
	cr_assert_eq(status, 200);
	cr_assert_str_eq(s.buf, "hello");
}

Test(fetch, allow_private_lets_loopback_through)
{
	struct sink s = {0};
	long status = 0;

	cfg.outbound_allow_private = 1;
	cr_assert_eq(get("/ok", &s, &status), OUTBOUND_OK, "%s", err);
	cr_assert_str_eq(s.buf, "hello");
}

Test(fetch, listed_host_on_another_port_is_refused)
{
	struct sink s = {0};
	long status = 0;

	snprintf(cfg.outbound_allow_hosts, sizeof(cfg.outbound_allow_hosts), "127.0.0.1:%d",
	    srv_port == 65535 ? 1 : srv_port + 1);
	cr_assert_eq(get("/ok", &s, &status), OUTBOUND_REFUSED);
}

Test(fetch, error_statuses_are_responses)
{
	struct sink s = {0};
	long status = 0;

	allow_server();
	cr_assert_eq(get("/missing", &s, &status), OUTBOUND_OK, "%s", err);
	cr_assert_eq(status, 404);
	cr_assert_str_eq(s.buf, "nope");
}

Test(fetch, headers_of_the_final_response)
{
	struct sink s = {0};
	struct outbound_req q = { .url = at("/headers"), .on_data = sink_data, .on_header = sink_header,
		.ctx = &s };
	long status = 0;

	allow_server();
	cr_assert_eq(outbound_fetch(&q, &status, err, sizeof(err)), OUTBOUND_OK, "%s", err);
	cr_assert_not_null(strstr(s.headers, "X-Test=yes;"), "%s", s.headers);
	cr_assert_not_null(strstr(s.headers, "Content-Type=application/json;"), "%s", s.headers);
	cr_assert_str_eq(s.buf, "{}");
}

Test(fetch, post_with_body_and_headers)
{
	static const char *const headers[] = { "Content-Type: application/json", "X-Keep: 1",
		"Authorization: Token abc", NULL };
	struct sink s = {0};
	struct outbound_req q = { .method = "POST", .url = at("/echo"), .headers = headers,
		.body = "{\"a\":1}", .body_len = 7, .on_data = sink_data, .ctx = &s };
	long status = 0;

	allow_server();
	cr_assert_eq(outbound_fetch(&q, &status, err, sizeof(err)), OUTBOUND_OK, "%s", err);
	cr_assert_str_eq(s.buf, "method=POST auth=Token abc keep=1 ctype=application/json body={\"a\":1}");
}

Test(fetch, other_methods)
{
	struct sink s = {0};
	struct outbound_req q = { .method = "DELETE", .url = at("/echo"), .on_data = sink_data, .ctx = &s };
	long status = 0;

	allow_server();
	cr_assert_eq(outbound_fetch(&q, &status, err, sizeof(err)), OUTBOUND_OK, "%s", err);
	cr_assert_eq(strncmp(s.buf, "method=DELETE ", 14), 0, "%s", s.buf);

	memset(&s, 0, sizeof(s));
	q.method = "PUT";
	q.body = "x";
	q.body_len = 1;
	cr_assert_eq(outbound_fetch(&q, &status, err, sizeof(err)), OUTBOUND_OK, "%s", err);
	cr_assert_eq(strncmp(s.buf, "method=PUT ", 11), 0, "%s", s.buf);
	cr_assert_not_null(strstr(s.buf, "body=x"), "%s", s.buf);

	memset(&s, 0, sizeof(s));
	q.method = "HEAD";
	q.url = at("/ok");
	cr_assert_eq(outbound_fetch(&q, &status, err, sizeof(err)), OUTBOUND_OK, "%s", err);
	cr_assert_eq(status, 200);
	cr_assert_eq(s.calls, 0);
}

Test(fetch, bad_methods_and_headers_are_refused)
{
	static const char *const crlf[] = { "X-A: 1\r\nX-Injected: 1", NULL };
	static const char *const nocolon[] = { "X-A 1", NULL };
	struct outbound_req q = { .method = "get", .url = at("/ok") };
	long status = 0;

	allow_server();
	cr_assert_eq(outbound_fetch(&q, &status, err, sizeof(err)), OUTBOUND_REFUSED);
	q.method = "GET /x HTTP/1.1\r\n";
	cr_assert_eq(outbound_fetch(&q, &status, err, sizeof(err)), OUTBOUND_REFUSED);
	q.method = "GET";
	q.headers = crlf;
	cr_assert_eq(outbound_fetch(&q, &status, err, sizeof(err)), OUTBOUND_REFUSED);
	cr_assert_not_null(strstr(err, "header"));
	q.headers = nocolon;
	cr_assert_eq(outbound_fetch(&q, &status, err, sizeof(err)), OUTBOUND_REFUSED);
}

Test(fetch, redirect_to_a_private_address_is_refused)
{
	struct sink s = {0};
	long status = 0;

	allow_server();
	cr_assert_eq(get("/to-private", &s, &status), OUTBOUND_REFUSED);
	cr_assert_str_eq(err, "redirect refused: URL host resolves to a private address (10.0.0.5), "
	    "which is not allowed (setting outbound_allow_private)");
	cr_assert_eq(s.calls, 0);
	cr_assert_eq(get("/to-metadata", &s, &status), OUTBOUND_REFUSED);
	cr_assert_not_null(strstr(err, "cloud metadata address (169.254.169.254)"), "%s", err);
}

Test(fetch, redirect_to_other_schemes_or_logins_is_refused)
{
	struct sink s = {0};
	long status = 0;

	allow_server();
	cr_assert_eq(get("/to-file", &s, &status), OUTBOUND_REFUSED);
	cr_assert_str_eq(err, "redirect refused: URL scheme \"file\" is not allowed: only http and https");
	cr_assert_eq(get("/to-gopher", &s, &status), OUTBOUND_REFUSED);
	cr_assert_not_null(strstr(err, "gopher"), "%s", err);
	cr_assert_eq(get("/to-userinfo", &s, &status), OUTBOUND_REFUSED);
	cr_assert_not_null(strstr(err, "user name or password"), "%s", err);
	cr_assert_eq(s.calls, 0);
}

Test(fetch, redirect_into_loopback_from_an_allowed_host_is_refused)
{
	struct sink s = {0};
	long status = 0;

	/* Only the IP form is listed: the redirect to localhost:port must be judged on its own. */
	snprintf(cfg.outbound_allow_hosts, sizeof(cfg.outbound_allow_hosts), "127.0.0.1:%d", srv_port);
	cr_assert_eq(get("/to-localhost", &s, &status), OUTBOUND_REFUSED);
	cr_assert_not_null(strstr(err, "redirect refused: URL host resolves to a private address"), "%s",
	    err);
}

Test(fetch, redirect_chains_up_to_the_limit)
{
	struct sink s = {0};
	long status = 0;

	allow_server();
	cr_assert_eq(get("/chain/5", &s, &status), OUTBOUND_OK, "%s", err);
	cr_assert_eq(status, 200);
	cr_assert_str_eq(s.buf, "end");

	memset(&s, 0, sizeof(s));
	cr_assert_eq(get("/chain/6", &s, &status), OUTBOUND_FAILED);
	cr_assert_str_eq(err, "too many redirects (more than 5; setting outbound_max_redirects)");
	cr_assert_eq(s.calls, 0, "no redirect body is delivered");
	cr_assert_eq(status, 0);

	cfg.outbound_max_redirects = 0;
	cr_assert_eq(get("/chain/1", &s, &status), OUTBOUND_FAILED);
	cr_assert_eq(get("/chain/0", &s, &status), OUTBOUND_OK, "%s", err);
}

Test(fetch, no_redirects_answers_the_3xx)
{
	struct sink s = {0};
	struct outbound_req q = { .url = at("/to-private"), .on_data = sink_data, .ctx = &s,
		.no_redirects = 1 };
	long status = 0;

	allow_server();
	cr_assert_eq(outbound_fetch(&q, &status, err, sizeof(err)), OUTBOUND_OK, "%s", err);
	cr_assert_eq(status, 302);
}

Test(fetch, redirect_without_location_is_final)
{
	struct sink s = {0};
	long status = 0;

	allow_server();
	cr_assert_eq(get("/no-location", &s, &status), OUTBOUND_OK, "%s", err);
	cr_assert_eq(status, 302);
	cr_assert_str_eq(s.buf, "stay");
}

Test(fetch, relative_locations_resolve_against_the_current_url)
{
	struct sink s = {0};
	long status = 0;

	allow_server();
	cr_assert_eq(get("/rel/a/b", &s, &status), OUTBOUND_OK, "%s", err);
	cr_assert_str_eq(s.buf, "hello");
}

Test(fetch, redirect_body_is_not_read)
{
	struct sink s = {0};
	long status = 0;
	struct timespec t0, t1;

	allow_server();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert_eq(get("/redirect-big", &s, &status), OUTBOUND_OK, "%s", err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	cr_assert_str_eq(s.buf, "hello");
	cr_assert_lt(t1.tv_sec - t0.tv_sec, 5, "waited for a redirect's body");
}

static void
post_redirect(int code, const char *want)
{
	static const char *const headers[] = { "Content-Type: application/json", "X-Keep: 1", NULL };
	struct sink s = {0};
	char path[32];
	long status = 0;

	snprintf(path, sizeof(path), "/code/%d", code);
	struct outbound_req q = { .method = "POST", .url = at(path), .headers = headers, .body = "{}",
		.body_len = 2, .on_data = sink_data, .ctx = &s };
	cr_assert_eq(outbound_fetch(&q, &status, err, sizeof(err)), OUTBOUND_OK, "%d: %s", code, err);
	cr_assert_str_eq(s.buf, want, "%d", code);
}

Test(fetch, post_redirects_change_method_as_browsers_do)
{
	allow_server();
	post_redirect(301, "method=GET auth=- keep=1 ctype=- body=");
	post_redirect(302, "method=GET auth=- keep=1 ctype=- body=");
	post_redirect(303, "method=GET auth=- keep=1 ctype=- body=");
	post_redirect(307, "method=POST auth=- keep=1 ctype=application/json body={}");
	post_redirect(308, "method=POST auth=- keep=1 ctype=application/json body={}");
}

Test(fetch, credentials_do_not_follow_a_redirect_to_another_origin)
{
	static const char *const headers[] = { "Authorization: Token secret", "Cookie: a=b", "X-Keep: 1",
		NULL };
	struct sink s = {0};
	struct outbound_req q = { .url = at("/to-self"), .headers = headers, .on_data = sink_data,
		.ctx = &s };
	long status = 0;

	allow_server();
	cr_assert_eq(outbound_fetch(&q, &status, err, sizeof(err)), OUTBOUND_OK, "%s", err);
	cr_assert_str_eq(s.buf, "method=GET auth=Token secret keep=1 ctype=- body=");

	memset(&s, 0, sizeof(s));
	q.url = at("/to-localhost");
	cr_assert_eq(outbound_fetch(&q, &status, err, sizeof(err)), OUTBOUND_OK, "%s", err);
	cr_assert_str_eq(s.buf, "method=GET auth=- keep=1 ctype=- body=");
}

Test(fetch, body_with_a_length_over_the_cap)
{
	struct sink s = {0};
	long status = 0;

	allow_server();
	cfg.outbound_max_bytes = 64 << 10;
	cr_assert_eq(get("/big", &s, &status), OUTBOUND_TOO_BIG);
	cr_assert_str_eq(err, "the response is larger than 65536 bytes (setting outbound_max_bytes)");
	cr_assert_leq(s.total, 64 << 10);
	cr_assert_eq(status, 0);
}

Test(fetch, streamed_body_over_the_cap)
{
	struct sink s = {0};
	struct outbound_req q = { .url = at("/big-stream"), .on_data = sink_data, .ctx = &s,
		.max_bytes = 100000 };
	long status = 0;

	allow_server();
	cr_assert_eq(outbound_fetch(&q, &status, err, sizeof(err)), OUTBOUND_TOO_BIG);
	cr_assert_str_eq(err, "the response is larger than 100000 bytes");
	cr_assert_leq(s.total, 100000);
	cr_assert_gt(s.total, 0);

	memset(&s, 0, sizeof(s));
	q.max_bytes = 1 << 20;          /* exactly the body: fits */
	cr_assert_eq(outbound_fetch(&q, &status, err, sizeof(err)), OUTBOUND_OK, "%s", err);
	cr_assert_eq(s.total, 1 << 20);
}

Test(fetch, slow_body_times_out)
{
	struct sink s = {0};
	long status = 0;
	struct timespec t0, t1;

	allow_server();
	cfg.outbound_timeout = 1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert_eq(get("/slow", &s, &status), OUTBOUND_TIMEOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	cr_assert_str_eq(err, "no complete response from 127.0.0.1 within 1 s (setting outbound_timeout)");
	cr_assert_lt(t1.tv_sec - t0.tv_sec, 4);
}

Test(fetch, receiver_can_stop)
{
	struct sink s = { .stop_after = 1 };
	struct outbound_req q = { .url = at("/big-stream"), .on_data = sink_data, .ctx = &s };
	long status = 0;

	allow_server();
	cr_assert_eq(outbound_fetch(&q, &status, err, sizeof(err)), OUTBOUND_ABORTED);
	cr_assert_eq(s.calls, 1);
}

Test(fetch, connection_refused_is_our_message)
{
	struct sink s = {0};
	long status = 0;
	int port;

	srv_stop();
	port = srv_port;
	srv_pid = 0;
	snprintf(cfg.outbound_allow_hosts, sizeof(cfg.outbound_allow_hosts), "127.0.0.1:%d", port);
	cr_assert_eq(get("/ok", &s, &status), OUTBOUND_FAILED);
	snprintf(url, sizeof(url), "could not connect to 127.0.0.1 port %d", port);
	cr_assert_str_eq(err, url);
}

Test(fetch, proxy_environment_is_ignored)
{
	struct sink s = {0};
	long status = 0;

	setenv("http_proxy", "http://10.255.255.1:3128", 1);
	setenv("HTTP_PROXY", "http://10.255.255.1:3128", 1);
	setenv("ALL_PROXY", "http://10.255.255.1:3128", 1);
	allow_server();
	cr_assert_eq(get("/ok", &s, &status), OUTBOUND_OK, "%s", err);
	cr_assert_str_eq(s.buf, "hello");
}

Test(fetch, ipv6_literal_is_pinned_and_fetched)
{
	struct sink s = {0};
	long status = 0;

	srv_stop();
	srv_pid = 0;
	if (srv_listen(AF_INET6) != 0)
		cr_skip_test("no IPv6 loopback here");
	snprintf(url, sizeof(url), "http://[::1]:%d/ok", srv_port);
	struct outbound_req q = { .url = url, .on_data = sink_data, .ctx = &s };
	cr_assert_eq(outbound_fetch(&q, &status, err, sizeof(err)), OUTBOUND_REFUSED);
	cr_assert_str_eq(err, "URL host resolves to a private address (::1), which is not allowed "
	    "(setting outbound_allow_private)");
	snprintf(cfg.outbound_allow_hosts, sizeof(cfg.outbound_allow_hosts), "[0::1]:%d", srv_port);
	cr_assert_eq(outbound_fetch(&q, &status, err, sizeof(err)), OUTBOUND_OK, "%s", err);
	cr_assert_str_eq(s.buf, "hello");
}
