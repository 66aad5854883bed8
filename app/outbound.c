/* outbound.c — outbound HTTP behind the SSRF guard (see outbound.h). */
#include <arpa/inet.h>
#include <ctype.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>

#include "config.h"
#include "log.h"
#include "outbound.h"
#include "version.h"

#define MAX_ADDRS 16                    /* addresses of one host we check and pin */
#define MAX_LOCATION 8192               /* longest Location we follow */

/* Address ranges as data: first match wins, so exceptions come before their enclosing range.
 * EMBED_* entries carry an IPv4 address that is judged instead of the IPv6 one. */
enum { EMBED_LAST32 = 100, EMBED_6TO4 };

struct range {
	const char *net;
	int bits;
	int cls;
};

static const struct range v4_ranges[] = {
	{ "169.254.169.254", 32, OUTBOUND_ADDR_METADATA },  /* AWS, GCP, Azure, OpenStack… */
	{ "169.254.170.2", 32, OUTBOUND_ADDR_METADATA },    /* AWS ECS task credentials */
	{ "100.100.100.200", 32, OUTBOUND_ADDR_METADATA },  /* Alibaba Cloud */
	{ "192.0.0.192", 32, OUTBOUND_ADDR_METADATA },      /* Oracle Cloud */
	{ "0.0.0.0", 8, OUTBOUND_ADDR_PRIVATE },            /* "this network": 0.0.0.0 reaches localhost */
	{ "10.0.0.0", 8, OUTBOUND_ADDR_PRIVATE },
	{ "100.64.0.0", 10, OUTBOUND_ADDR_PRIVATE },        /* CGNAT */
	{ "127.0.0.0", 8, OUTBOUND_ADDR_PRIVATE },
	{ "169.254.0.0", 16, OUTBOUND_ADDR_PRIVATE },       /* link-local */
	{ "172.16.0.0", 12, OUTBOUND_ADDR_PRIVATE },
	{ "192.0.0.0", 24, OUTBOUND_ADDR_PRIVATE },         /* IETF protocol assignments */
	{ "192.168.0.0", 16, OUTBOUND_ADDR_PRIVATE },
	{ "198.18.0.0", 15, OUTBOUND_ADDR_PRIVATE },        /* benchmarking, used inside networks */
	{ "224.0.0.0", 4, OUTBOUND_ADDR_RESERVED },         /* multicast */
	{ "240.0.0.0", 4, OUTBOUND_ADDR_RESERVED },         /* class E and 255.255.255.255 */
};

static const struct range v6_ranges[] = {
	{ "fd00:ec2::254", 128, OUTBOUND_ADDR_METADATA },   /* AWS over IPv6 */
	{ "::", 128, OUTBOUND_ADDR_PRIVATE },               /* unspecified: reaches localhost */
	{ "::1", 128, OUTBOUND_ADDR_PRIVATE },
	{ "::ffff:0:0", 96, EMBED_LAST32 },                 /* IPv4-mapped */
	{ "::ffff:0:0:0", 96, EMBED_LAST32 },               /* IPv4-translated (SIIT) */
	{ "::", 96, OUTBOUND_ADDR_RESERVED },               /* IPv4-compatible, deprecated */
	{ "64:ff9b::", 96, EMBED_LAST32 },                  /* NAT64 well-known prefix */
	{ "64:ff9b:1::", 48, OUTBOUND_ADDR_PRIVATE },       /* NAT64 local use */
	{ "100::", 64, OUTBOUND_ADDR_RESERVED },            /* discard-only */
	{ "2001:db8::", 32, OUTBOUND_ADDR_RESERVED },       /* documentation */
	{ "2001::", 32, OUTBOUND_ADDR_RESERVED },           /* Teredo: hides its IPv4 endpoint */
	{ "2002::", 16, EMBED_6TO4 },                       /* 6to4 */
	{ "fc00::", 7, OUTBOUND_ADDR_PRIVATE },             /* unique local */
	{ "fe80::", 10, OUTBOUND_ADDR_PRIVATE },            /* link-local */
	{ "fec0::", 10, OUTBOUND_ADDR_PRIVATE },            /* site-local, deprecated */
	{ "ff00::", 8, OUTBOUND_ADDR_RESERVED },            /* multicast */
};

static int
prefix_match(const unsigned char *a, const unsigned char *net, int bits)
{
	int whole = bits / 8, rest = bits % 8;

	if (memcmp(a, net, (size_t)whole) != 0)
		return 0;
	if (rest == 0)
		return 1;
	unsigned char mask = (unsigned char)(0xff << (8 - rest));
	return (a[whole] & mask) == (net[whole] & mask);
}

static int
v4_class(const unsigned char a[4])
{
	for (size_t i = 0; i < sizeof(v4_ranges) / sizeof(v4_ranges[0]); i++) {
		unsigned char net[4];

		if (inet_pton(AF_INET, v4_ranges[i].net, net) == 1 && prefix_match(a, net, v4_ranges[i].bits))
			return v4_ranges[i].cls;
	}
	return OUTBOUND_ADDR_PUBLIC;
}

static int
v6_class(const unsigned char a[16])
{
	for (size_t i = 0; i < sizeof(v6_ranges) / sizeof(v6_ranges[0]); i++) {
		unsigned char net[16];

		if (inet_pton(AF_INET6, v6_ranges[i].net, net) != 1 || !prefix_match(a, net, v6_ranges[i].bits))
			continue;
		if (v6_ranges[i].cls == EMBED_LAST32)
			return v4_class(a + 12);
		if (v6_ranges[i].cls == EMBED_6TO4)
			return v4_class(a + 2);
		return v6_ranges[i].cls;
	}
	return OUTBOUND_ADDR_PUBLIC;
}

int
outbound_addr_private(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return v4_class((const unsigned char *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr);
	if (sa->sa_family == AF_INET6)
		return v6_class(((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr);
	return OUTBOUND_ADDR_RESERVED;
}

const char *
outbound_addr_class(int cls)
{
	switch (cls) {
	case OUTBOUND_ADDR_PUBLIC: return "public";
	case OUTBOUND_ADDR_PRIVATE: return "private";
	case OUTBOUND_ADDR_METADATA: return "cloud metadata";
	default: return "reserved";
	}
}

static int
fail(char *err, size_t errsz, int code, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int
fail(char *err, size_t errsz, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
	return code;
}

static void
addr_text(const struct sockaddr_storage *ss, char *buf, size_t bufsz)
{
	const void *a = ss->ss_family == AF_INET
	    ? (const void *)&((const struct sockaddr_in *)(const void *)ss)->sin_addr
	    : (const void *)&((const struct sockaddr_in6 *)(const void *)ss)->sin6_addr;

	if (inet_ntop(ss->ss_family, a, buf, (socklen_t)bufsz) == NULL)
		snprintf(buf, bufsz, "?");
}

/* One hop's destination: parsed, then resolved and checked. */
struct target {
	CURLU *u;                       /* owned */
	char scheme[8];                 /* "http" or "https" */
	char host[260];                 /* lowercase, as in the URL: IPv6 in brackets */
	char name[260];                 /* for getaddrinfo: no brackets */
	int port;
	int literal;                    /* the host is an IP address */
	struct sockaddr_storage addr[MAX_ADDRS];
	int naddr;
};

static void
target_release(struct target *t)
{
	curl_url_cleanup(t->u);
	t->u = NULL;
}

static int
url_parse(CURLU *u, const char *url, char *err, size_t errsz)
{
	CURLUcode rc;

	if (url == NULL || *url == '\0')
		return fail(err, errsz, OUTBOUND_REFUSED, "URL is empty");
	rc = curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME);
	switch (rc) {
	case CURLUE_OK:
		return OUTBOUND_OK;
	case CURLUE_BAD_SCHEME:
	case CURLUE_NO_SCHEME:
		return fail(err, errsz, OUTBOUND_REFUSED, "URL must start with http:// or https://");
	case CURLUE_BAD_PORT_NUMBER:
		return fail(err, errsz, OUTBOUND_REFUSED, "URL has a bad port number");
	case CURLUE_NO_HOST:
		return fail(err, errsz, OUTBOUND_REFUSED, "URL has no host");
	case CURLUE_BAD_HOSTNAME:
	case CURLUE_BAD_IPV6:
		return fail(err, errsz, OUTBOUND_REFUSED, "URL host is not a valid host name or address");
	case CURLUE_BAD_LOGIN:
	case CURLUE_BAD_USER:
	case CURLUE_BAD_PASSWORD:
		return fail(err, errsz, OUTBOUND_REFUSED, "URL must not contain a user name or password");
	default:
		return fail(err, errsz, OUTBOUND_REFUSED, "URL is not valid");
	}
}

/* Checks what the URL of t->u says, before any name is resolved. */
static int
target_init(struct target *t, CURLU *u, char *err, size_t errsz)
{
	static const CURLUPart login[] = { CURLUPART_USER, CURLUPART_PASSWORD, CURLUPART_OPTIONS };
	char *s = NULL;
	size_t n;

	memset(t, 0, sizeof(*t));
	t->u = u;
	if (curl_url_get(u, CURLUPART_SCHEME, &s, 0) != CURLUE_OK)
		return fail(err, errsz, OUTBOUND_REFUSED, "URL must start with http:// or https://");
	if (strcasecmp(s, "http") != 0 && strcasecmp(s, "https") != 0) {
		for (char *c = s; *c; c++)
			if (!isalnum((unsigned char)*c) && *c != '+' && *c != '-' && *c != '.')
				*c = '?';
		fail(err, errsz, OUTBOUND_REFUSED, "URL scheme \"%.20s\" is not allowed: only http and https",
		    s);
		curl_free(s);
		return OUTBOUND_REFUSED;
	}
	for (n = 0; s[n] != '\0'; n++)
		t->scheme[n] = (char)tolower((unsigned char)s[n]);
	t->scheme[n] = '\0';
	curl_free(s);
	if (curl_url_set(u, CURLUPART_SCHEME, t->scheme, 0) != CURLUE_OK)
		return fail(err, errsz, OUTBOUND_FAILED, "out of memory");

	/* Refused rather than stripped: stripping silently changes what the user asked for (a site
	 * that needs the login answers 401 and nobody knows why), and a URL with a login is either a
	 * secret about to be stored in the clear or an "http://trusted@evil/" trick. */
	for (size_t i = 0; i < sizeof(login) / sizeof(login[0]); i++)
		if (curl_url_get(u, login[i], &s, 0) == CURLUE_OK) {
			curl_free(s);
			return fail(err, errsz, OUTBOUND_REFUSED, "URL must not contain a user name or password "
			    "(send credentials in a header)");
		}
	if (curl_url_get(u, CURLUPART_ZONEID, &s, 0) == CURLUE_OK) {
		curl_free(s);
		return fail(err, errsz, OUTBOUND_REFUSED, "URL host must not carry an IPv6 zone");
	}

	if (curl_url_get(u, CURLUPART_HOST, &s, CURLU_PUNYCODE) != CURLUE_OK)
		return fail(err, errsz, OUTBOUND_REFUSED, "URL has no valid host");
	n = strlen(s);
	if (n == 0 || n >= sizeof(t->host)) {
		curl_free(s);
		return fail(err, errsz, OUTBOUND_REFUSED, "URL has no valid host");
	}
	for (size_t i = 0; i <= n; i++) {
		if (s[i] != '\0' && ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)) {
			curl_free(s);
			return fail(err, errsz, OUTBOUND_REFUSED, "URL host is not a valid host name or address");
		}
		t->host[i] = (char)tolower((unsigned char)s[i]);
	}
	curl_free(s);
	/* curl must connect to the very name we resolve (lowercase, punycode). */
	if (curl_url_set(u, CURLUPART_HOST, t->host, 0) != CURLUE_OK)
		return fail(err, errsz, OUTBOUND_REFUSED, "URL host is not a valid host name or address");
	if (t->host[0] == '[') {
		snprintf(t->name, sizeof(t->name), "%.*s", (int)(n - 2), t->host + 1);
		t->literal = 1;
	} else {
		unsigned char tmp[4];

		snprintf(t->name, sizeof(t->name), "%s", t->host);
		t->literal = inet_pton(AF_INET, t->name, tmp) == 1;
	}

	if (curl_url_get(u, CURLUPART_PORT, &s, CURLU_DEFAULT_PORT) != CURLUE_OK)
		return fail(err, errsz, OUTBOUND_REFUSED, "URL has a bad port number");
	t->port = atoi(s);
	curl_free(s);
	if (t->port < 1 || t->port > 65535)
		return fail(err, errsz, OUTBOUND_REFUSED, "URL has a bad port number");
	return OUTBOUND_OK;
}

static int
same_host(const char *entry, size_t len, const char *host)
{
	char a[300], b[300];
	size_t hl = strlen(host);

	if (len >= sizeof(a) || hl >= sizeof(b))
		return 0;
	/* Bracketed IPv6: compare the addresses, not their spellings. */
	if (len > 2 && entry[0] == '[' && host[0] == '[') {
		unsigned char x[16], y[16];

		snprintf(a, sizeof(a), "%.*s", (int)(len - 2), entry + 1);
		snprintf(b, sizeof(b), "%.*s", (int)(hl - 2), host + 1);
		return inet_pton(AF_INET6, a, x) == 1 && inet_pton(AF_INET6, b, y) == 1 && !memcmp(x, y, 16);
	}
	/* "example.com." and "example.com" are one host. */
	if (len > 0 && entry[len - 1] == '.')
		len--;
	if (hl > 0 && host[hl - 1] == '.')
		hl--;
	return len == hl && strncasecmp(entry, host, len) == 0;
}

/* Is the URL's host (as written, with its port) listed in outbound_allow_hosts? The list names
 * hosts, not addresses: a name that merely resolves to a listed address is not listed. */
static int
host_listed(const struct target *t)
{
	const char *p = cfg.outbound_allow_hosts;

	while (*p != '\0') {
		size_t len = strcspn(p, ",");
		const char *b = p, *e = p + len, *colon;

		while (b < e && isspace((unsigned char)*b))
			b++;
		while (e > b && isspace((unsigned char)e[-1]))
			e--;
		if (*b == '[') {
			const char *rb = memchr(b, ']', (size_t)(e - b));
			colon = rb != NULL && rb + 1 < e && rb[1] == ':' ? rb + 1 : NULL;
		} else {
			colon = memchr(b, ':', (size_t)(e - b));
		}
		if (same_host(b, (size_t)((colon ? colon : e) - b), t->host) &&
		    (colon == NULL || atoi(colon + 1) == t->port))
			return 1;
		p += len;
		if (*p == ',')
			p++;
	}
	return 0;
}

/* Resolves the host once and judges every address; what passes is what curl may connect to. */
static int
target_check(struct target *t, char *err, size_t errsz)
{
	struct addrinfo hints, *res = NULL;
	int rc, listed = host_listed(t);

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	if (t->literal)
		hints.ai_flags = AI_NUMERICHOST;
	rc = getaddrinfo(t->name, NULL, &hints, &res);
	if (rc != 0) {
		log_warn("outbound: cannot resolve %s: %s", t->host, gai_strerror(rc));
		return fail(err, errsz, OUTBOUND_FAILED, "cannot resolve the URL host %.200s", t->host);
	}
	t->naddr = 0;
	for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
		struct sockaddr_storage ss;
		int cls, dup = 0;

		if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) || ai->ai_addrlen > sizeof(ss))
			continue;
		memset(&ss, 0, sizeof(ss));
		memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
		cls = outbound_addr_private((const struct sockaddr *)&ss);
		if (!listed && cls != OUTBOUND_ADDR_PUBLIC &&
		    !(cls == OUTBOUND_ADDR_PRIVATE && cfg.outbound_allow_private)) {
			char a[INET6_ADDRSTRLEN];

			addr_text(&ss, a, sizeof(a));
			freeaddrinfo(res);
			log_warn("outbound: refused %s: resolves to %s address %s", t->host,
			    outbound_addr_class(cls), a);
			if (cls == OUTBOUND_ADDR_PRIVATE)
				return fail(err, errsz, OUTBOUND_REFUSED, "URL host resolves to a private address "
				    "(%s), which is not allowed (setting outbound_allow_private)", a);
			return fail(err, errsz, OUTBOUND_REFUSED, "URL host resolves to a %s address (%s), "
			    "which is not allowed (only hosts listed in setting outbound_allow_hosts may)",
			    outbound_addr_class(cls), a);
		}
		if (ss.ss_family == AF_INET)
			((struct sockaddr_in *)(void *)&ss)->sin_port = htons((uint16_t)t->port);
		else
			((struct sockaddr_in6 *)(void *)&ss)->sin6_port = htons((uint16_t)t->port);
		for (int i = 0; i < t->naddr; i++)
			dup |= memcmp(&t->addr[i], &ss, sizeof(ss)) == 0;
		if (!dup && t->naddr < MAX_ADDRS)
			t->addr[t->naddr++] = ss;
	}
	freeaddrinfo(res);
	if (t->naddr == 0)
		return fail(err, errsz, OUTBOUND_FAILED, "the URL host %.200s has no address", t->host);
	return OUTBOUND_OK;
}

static int
addr_pinned(const struct target *t, const struct sockaddr *sa)
{
	for (int i = 0; i < t->naddr; i++) {
		const struct sockaddr_storage *p = &t->addr[i];

		if (p->ss_family != sa->sa_family)
			continue;
		if (sa->sa_family == AF_INET) {
			const struct sockaddr_in *x = (const void *)p, *y = (const void *)sa;

			if (x->sin_addr.s_addr == y->sin_addr.s_addr && x->sin_port == y->sin_port)
				return 1;
		} else if (sa->sa_family == AF_INET6) {
			const struct sockaddr_in6 *x = (const void *)p, *y = (const void *)sa;

			if (!memcmp(&x->sin6_addr, &y->sin6_addr, 16) && x->sin6_port == y->sin6_port)
				return 1;
		}
	}
	return 0;
}

static int
curl_ready(void)
{
	static int done;

	if (!done && curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK)
		done = 1;
	return done;
}

int
outbound_url_allowed(const char *url, char *err, size_t errsz)
{
	struct target t;
	CURLU *u;
	int rc;

	err[0] = '\0';
	if (!curl_ready() || (u = curl_url()) == NULL)
		return fail(err, errsz, OUTBOUND_REFUSED, "out of memory");
	if ((rc = url_parse(u, url, err, errsz)) != OUTBOUND_OK) {
		curl_url_cleanup(u);
		return rc;
	}
	rc = target_init(&t, u, err, errsz);
	if (rc == OUTBOUND_OK)
		rc = target_check(&t, err, errsz);
	target_release(&t);
	return rc == OUTBOUND_OK ? OUTBOUND_OK : OUTBOUND_REFUSED;
}

/* One request/response exchange with a checked target. */
struct hop {
	const struct outbound_req *q;
	const struct target *t;
	CURL *h;
	int64_t max, got;
	int follow;                     /* a redirect we follow: its body is not read */
	char *location;                 /* malloc'd, when follow */
	int too_big, aborted, unpinned, cut;
};

static int
is_redirect(long status)
{
	return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

static size_t
on_header_line(char *buf, size_t size, size_t n, void *ud)
{
	struct hop *hp = ud;
	size_t len = size * n;
	long status = 0;

	if (!(len == 2 && buf[0] == '\r') && !(len == 1 && buf[0] == '\n'))
		return len;
	/* The end of one response's header block. */
	curl_easy_getinfo(hp->h, CURLINFO_RESPONSE_CODE, &status);
	if (status < 200)
		return len;
	if (is_redirect(status) && !hp->q->no_redirects) {
		struct curl_header *loc;

		if (curl_easy_header(hp->h, "Location", 0, CURLH_HEADER, -1, &loc) == CURLHE_OK &&
		    loc->value[0] != '\0') {
			if (strlen(loc->value) > MAX_LOCATION || (hp->location = strdup(loc->value)) == NULL)
				return 0;
			hp->follow = 1;
			return len;
		}
	}
	if (hp->q->on_header != NULL) {
		struct curl_header *prev = NULL, *hh;

		while ((hh = curl_easy_nextheader(hp->h, CURLH_HEADER, -1, prev)) != NULL) {
			if (hp->q->on_header(hp->q->ctx, hh->name, hh->value) != 0) {
				hp->aborted = 1;
				return 0;
			}
			prev = hh;
		}
	}
	return len;
}

static size_t
on_body(char *p, size_t size, size_t n, void *ud)
{
	struct hop *hp = ud;
	size_t len = size * n;

	if (len == 0)
		return 0;
	if (hp->follow) {
		hp->cut = 1;            /* nobody reads a redirect's body: stop here */
		return CURL_WRITEFUNC_ERROR;
	}
	if ((int64_t)len > hp->max - hp->got) {
		hp->too_big = 1;
		return CURL_WRITEFUNC_ERROR;
	}
	hp->got += (int64_t)len;
	if (hp->q->on_data != NULL && hp->q->on_data(hp->q->ctx, p, len) != 0) {
		hp->aborted = 1;
		return CURL_WRITEFUNC_ERROR;
	}
	return len;
}

/* Every socket curl opens must go to an address target_check judged. */
static curl_socket_t
open_socket(void *ud, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct hop *hp = ud;

	if (purpose != CURLSOCKTYPE_IPCXN || !addr_pinned(hp->t, &a->addr)) {
		struct sockaddr_storage ss;
		char text[INET6_ADDRSTRLEN] = "?";

		memset(&ss, 0, sizeof(ss));
		if (a->addrlen <= sizeof(ss)) {
			memcpy(&ss, &a->addr, a->addrlen);
			if (ss.ss_family == AF_INET || ss.ss_family == AF_INET6)
				addr_text(&ss, text, sizeof(text));
		}
		log_warn("outbound: refused a socket to %s for %s: not an address that was checked", text,
		    hp->t->host);
		hp->unpinned = 1;
		return CURL_SOCKET_BAD;
	}
	return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct exchange {
	const char *method;
	const char *body;
	size_t body_len;
	int send_body;
	struct curl_slist *headers;
	int64_t timeout_ms;
};

static int
hop_run(struct hop *hp, const struct exchange *x, long *status, char *err, size_t errsz)
{
	const struct target *t = hp->t;
	const struct outbound_req *q = hp->q;
	struct curl_slist *resolve = NULL;
	char errbuf[CURL_ERROR_SIZE] = "";
	CURLcode res;
	CURL *h;
	int rc;

	if ((h = curl_easy_init()) == NULL)
		return fail(err, errsz, OUTBOUND_FAILED, "out of memory");
	hp->h = h;
	if (!t->literal) {
		char line[sizeof(t->host) + 16 + MAX_ADDRS * (INET6_ADDRSTRLEN + 3)];
		size_t used = (size_t)snprintf(line, sizeof(line), "%s:%d:", t->host, t->port);

		for (int i = 0; i < t->naddr && used < sizeof(line); i++) {
			char a[INET6_ADDRSTRLEN];

			addr_text(&t->addr[i], a, sizeof(a));
			used += (size_t)snprintf(line + used, sizeof(line) - used, t->addr[i].ss_family ==
			    AF_INET6 ? "%s[%s]" : "%s%s", i ? "," : "", a);
		}
		resolve = curl_slist_append(NULL, line);
	}
	curl_easy_setopt(h, CURLOPT_CURLU, t->u);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_PROXY, "");
	curl_easy_setopt(h, CURLOPT_NETRC, (long)CURL_NETRC_IGNORED);
	/* No alarm() around name lookups; SIGPIPE is ignored by every siali process. */
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)x->timeout_ms);
	curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)hp->max);
	curl_easy_setopt(h, CURLOPT_RESOLVE, resolve);
	curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, open_socket);
	curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, hp);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header_line);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, hp);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, hp);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "Siali-Label/" SIALI_VERSION);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, x->headers);
	if (strcmp(x->method, "HEAD") == 0) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (x->send_body) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)x->body_len);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, x->body != NULL ? x->body : "");
		if (strcmp(x->method, "POST") != 0)
			curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, x->method);
	} else if (strcmp(x->method, "GET") == 0) {
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	} else {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, x->method);
	}

	res = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);

	if (hp->follow && (res == CURLE_OK || (res == CURLE_WRITE_ERROR && hp->cut)))
		rc = OUTBOUND_OK;
	else if (hp->unpinned)
		rc = fail(err, errsz, OUTBOUND_REFUSED, "the connection to %.200s went to an address that "
		    "was not checked, and was refused", t->host);
	else if (hp->too_big || res == CURLE_FILESIZE_EXCEEDED)
		rc = q->max_bytes > 0
		    ? fail(err, errsz, OUTBOUND_TOO_BIG, "the response is larger than %lld bytes",
			(long long)hp->max)
		    : fail(err, errsz, OUTBOUND_TOO_BIG, "the response is larger than %lld bytes "
			"(setting outbound_max_bytes)", (long long)hp->max);
	else if (hp->aborted)
		rc = fail(err, errsz, OUTBOUND_ABORTED, "the response was not accepted");
	else switch (res) {
	case CURLE_OK:
		rc = OUTBOUND_OK;
		break;
	case CURLE_OPERATION_TIMEDOUT:
		rc = q->timeout > 0
		    ? fail(err, errsz, OUTBOUND_TIMEOUT, "no complete response from %.200s within %d s",
			t->host, q->timeout)
		    : fail(err, errsz, OUTBOUND_TIMEOUT, "no complete response from %.200s within %d s "
			"(setting outbound_timeout)", t->host, cfg.outbound_timeout);
		break;
	case CURLE_COULDNT_CONNECT:
		rc = fail(err, errsz, OUTBOUND_FAILED, "could not connect to %.200s port %d", t->host, t->port);
		break;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
		rc = fail(err, errsz, OUTBOUND_FAILED, "the TLS connection to %.200s failed "
		    "(is its certificate valid?)", t->host);
		break;
	default:
		rc = fail(err, errsz, OUTBOUND_FAILED, "the request to %.200s failed (no valid HTTP "
		    "response)", t->host);
		break;
	}
	if (rc != OUTBOUND_OK)
		log_warn("outbound: %s %s://%s:%d: %s (%s)", x->method, t->scheme, t->host, t->port,
		    curl_easy_strerror(res), errbuf[0] ? errbuf : "-");
	if (rc != OUTBOUND_OK)
		*status = 0;
	curl_easy_cleanup(h);
	hp->h = NULL;
	curl_slist_free_all(resolve);
	return rc;
}

static int
header_named(const char *line, const char *name)
{
	size_t n = strlen(name);

	return strncasecmp(line, name, n) == 0 && (line[n] == ':' || line[n] == ';');
}

/* The request headers of one hop: the caller's, less credentials once the fetch has left the
 * first origin, less the body's headers once a redirect turned the request into a GET. */
static int
build_headers(const struct outbound_req *q, int strip_auth, int drop_body, struct curl_slist **out,
    char *err, size_t errsz)
{
	struct curl_slist *l = NULL, *n;

	for (size_t i = 0; q->headers != NULL && q->headers[i] != NULL; i++) {
		const char *hl = q->headers[i];

		if (strpbrk(hl, "\r\n") != NULL || strchr(hl, ':') == NULL || hl[0] == ':') {
			curl_slist_free_all(l);
			return fail(err, errsz, OUTBOUND_REFUSED, "a request header is not a `Name: value` line");
		}
		if (strip_auth && (header_named(hl, "Authorization") || header_named(hl, "Cookie") ||
		    header_named(hl, "Proxy-Authorization")))
			continue;
		if (drop_body && (header_named(hl, "Content-Type") || header_named(hl, "Content-Length")))
			continue;
		if ((n = curl_slist_append(l, hl)) == NULL)
			goto oom;
		l = n;
	}
	/* No "Expect: 100-continue" pause before bodies: not every server answers it. */
	if ((n = curl_slist_append(l, "Expect:")) == NULL)
		goto oom;
	*out = n;
	return OUTBOUND_OK;
oom:
	curl_slist_free_all(l);
	return fail(err, errsz, OUTBOUND_FAILED, "out of memory");
}

static void
prefix_error(char *err, size_t errsz, const char *prefix)
{
	size_t p = strlen(prefix), e = strlen(err);

	if (p + 1 >= errsz)
		return;
	if (p + e + 1 > errsz)
		e = errsz - p - 1;
	memmove(err + p, err, e);
	memcpy(err, prefix, p);
	err[p + e] = '\0';
}

int
outbound_fetch(const struct outbound_req *q, long *status, char *err, size_t errsz)
{
	char method[16], origin[300] = "";
	struct exchange x;
	struct target t;
	int64_t deadline;
	int strip_auth = 0, drop_body = 0, rc, timeout;
	CURLU *u;

	*status = 0;
	err[0] = '\0';
	timeout = q->timeout > 0 ? q->timeout : cfg.outbound_timeout > 0 ? cfg.outbound_timeout : 30;
	deadline = now_ms() + (int64_t)timeout * 1000;
	snprintf(method, sizeof(method), "%s", q->method != NULL ? q->method : "GET");
	if (method[0] == '\0' || strspn(method, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != strlen(method) ||
	    (q->method != NULL && strlen(q->method) >= sizeof(method)))
		return fail(err, errsz, OUTBOUND_REFUSED, "the request method is not valid");
	memset(&x, 0, sizeof(x));
	x.method = method;
	x.body = q->body;
	x.body_len = q->body != NULL ? q->body_len : 0;
	x.send_body = q->body != NULL || !strcmp(method, "POST") || !strcmp(method, "PUT") ||
	    !strcmp(method, "PATCH");
	if (!curl_ready() || (u = curl_url()) == NULL)
		return fail(err, errsz, OUTBOUND_FAILED, "out of memory");
	if ((rc = url_parse(u, q->url, err, errsz)) != OUTBOUND_OK) {
		curl_url_cleanup(u);
		return rc;
	}

	for (int hops = 0;; hops++) {
		struct hop hp;
		char here[300];
		long code = 0;
		CURLU *next;

		rc = target_init(&t, u, err, errsz);
		if (rc == OUTBOUND_OK)
			rc = target_check(&t, err, errsz);
		if (rc != OUTBOUND_OK) {
			if (hops > 0)
				prefix_error(err, errsz, rc == OUTBOUND_REFUSED ? "redirect refused: " : "redirect: ");
			target_release(&t);
			return rc;
		}
		snprintf(here, sizeof(here), "%s://%s:%d", t.scheme, t.host, t.port);
		if (hops > 0 && strcmp(here, origin) != 0)
			strip_auth = 1;         /* sticky: a later hop back home does not get them back */
		if (hops == 0)
			snprintf(origin, sizeof(origin), "%s", here);

		x.timeout_ms = deadline - now_ms();
		if (x.timeout_ms <= 0) {
			target_release(&t);
			return fail(err, errsz, OUTBOUND_TIMEOUT, "no complete response within %d s%s", timeout,
			    q->timeout > 0 ? "" : " (setting outbound_timeout)");
		}
		if ((rc = build_headers(q, strip_auth, drop_body, &x.headers, err, errsz)) != OUTBOUND_OK) {
			target_release(&t);
			return rc;
		}
		memset(&hp, 0, sizeof(hp));
		hp.q = q;
		hp.t = &t;
		hp.max = q->max_bytes > 0 ? q->max_bytes : cfg.outbound_max_bytes > 0 ? cfg.outbound_max_bytes
		    : cfg.max_body_size > 0 ? cfg.max_body_size : (int64_t)250 << 20;
		rc = hop_run(&hp, &x, &code, err, errsz);
		curl_slist_free_all(x.headers);
		x.headers = NULL;
		if (rc != OUTBOUND_OK || !hp.follow) {
			free(hp.location);
			target_release(&t);
			if (rc == OUTBOUND_OK)
				*status = code;
			return rc;
		}

		if (hops >= cfg.outbound_max_redirects) {
			free(hp.location);
			target_release(&t);
			return fail(err, errsz, OUTBOUND_FAILED, "too many redirects (more than %d; setting "
			    "outbound_max_redirects)", cfg.outbound_max_redirects);
		}
		/* A relative Location is resolved against the URL that answered. */
		next = curl_url_dup(t.u);
		rc = next == NULL ? fail(err, errsz, OUTBOUND_FAILED, "out of memory")
		    : url_parse(next, hp.location, err, errsz);
		free(hp.location);
		target_release(&t);
		if (rc != OUTBOUND_OK) {
			curl_url_cleanup(next);
			prefix_error(err, errsz, "redirect refused: ");
			return rc;
		}
		/* What browsers and curl do: 303 always, and 301/302 after a POST, continue as GET. */
		if ((code == 303 && strcmp(method, "HEAD") != 0) ||
		    ((code == 301 || code == 302) && strcmp(method, "POST") == 0)) {
			snprintf(method, sizeof(method), "GET");
			x.body = NULL;
			x.body_len = 0;
			x.send_body = 0;
			drop_body = 1;
		}
		u = next;
	}
}
