/* outbound.h — every HTTP request Siali makes to a URL someone gave it (URL imports, webhooks, ML
 * backends, storage endpoints) goes through here, behind the SSRF guard:
 *
 *   - only http and https; URLs carrying a user name or password are refused (credentials in a
 *     URL end up in logs and stored task data, and "http://good.example@evil.example/" is the
 *     classic way to fool a reader; callers put credentials in headers);
 *   - the host is resolved once, here, and every address it resolves to is classified: private,
 *     loopback, link-local, CGNAT, ULA and the like are refused unless outbound_allow_private;
 *     cloud metadata and reserved (multicast, class E, documentation…) addresses are refused even
 *     then; a host listed in outbound_allow_hosts is fetched whatever it resolves to;
 *   - the connection is pinned to the checked addresses (CURLOPT_RESOLVE), and a socket to any
 *     other address is refused when curl opens it, so DNS rebinding cannot slip in between;
 *   - redirects are followed here, not by curl (at most outbound_max_redirects), each Location
 *     resolved against the current URL and checked like the first; Authorization, Cookie and
 *     Proxy-Authorization are dropped when a redirect leaves the origin;
 *   - the response is streamed to the caller and cut at outbound_max_bytes; the whole fetch,
 *     redirects included, has outbound_timeout seconds; bodies are never decompressed;
 *   - proxy environment variables, cookies and .netrc are ignored.
 *
 * Error messages are ours, fit for a client (they name the setting that decides); curl's own text
 * goes to the log only, with the URL reduced to scheme://host:port (queries carry signatures).
 * Name resolution (getaddrinfo) is not covered by the timeout: the system resolver's own limits
 * apply. Blocking: callers on the web path use it only for the client's own synchronous work.
 */
#ifndef SIALI_OUTBOUND_H
#define SIALI_OUTBOUND_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* What outbound_addr_private says about an address. */
enum outbound_addr {
	OUTBOUND_ADDR_PUBLIC = 0,
	OUTBOUND_ADDR_PRIVATE,          /* allowed by outbound_allow_private */
	OUTBOUND_ADDR_METADATA,         /* cloud instance metadata: only via outbound_allow_hosts */
	OUTBOUND_ADDR_RESERVED,         /* never a unicast destination: only via outbound_allow_hosts */
};

/* Results of outbound_fetch and outbound_url_allowed; every failure is negative, so callers may
 * just test `!= 0`. Suggested answers: REFUSED 400, FAILED 502, TIMEOUT 504, TOO_BIG 413. */
enum outbound_result {
	OUTBOUND_OK = 0,
	OUTBOUND_REFUSED = -1,          /* the URL or an address it resolves to is not allowed */
	OUTBOUND_FAILED = -2,           /* resolution, connection, TLS or protocol failure */
	OUTBOUND_TIMEOUT = -3,          /* outbound_timeout (or q->timeout) passed */
	OUTBOUND_TOO_BIG = -4,          /* the body passed outbound_max_bytes (or q->max_bytes) */
	OUTBOUND_ABORTED = -5,          /* on_data or on_header asked to stop */
};

struct outbound_req {
	const char *method;             /* NULL: GET. HEAD sends no body and receives none */
	const char *url;
	const char *const *headers;     /* NULL-terminated "Name: value" lines, or NULL */
	const char *body;               /* sent when set (or for POST/PUT/PATCH, empty) */
	size_t body_len;
	/* The final response's body, as it arrives; nonzero stops the fetch (OUTBOUND_ABORTED).
	 * Bodies of redirects followed are not delivered. NULL: the body is read and dropped. */
	int (*on_data)(void *ctx, const char *p, size_t n);
	/* The final response's headers, once, before its first byte of body: one call per header
	 * (names as sent). Nonzero stops the fetch. Optional. */
	int (*on_header)(void *ctx, const char *name, const char *value);
	void *ctx;
	int timeout;                    /* seconds; 0: outbound_timeout */
	int64_t max_bytes;              /* 0: outbound_max_bytes */
	int no_redirects;               /* answer a 3xx as the final response instead of following */
};

/* Fetches q->url. On OUTBOUND_OK, *status is the final response's HTTP status (any status: a 404
 * is a successful fetch) and its body went to on_data. Otherwise returns a negative
 * enum outbound_result with a client-fit message in err; *status is then 0. The request owns
 * nothing after it returns. */
int outbound_fetch(const struct outbound_req *q, long *status, char *err, size_t errsz);

/* The guard alone, for URLs saved now and fetched later (webhooks, ML backends, storages):
 * parses, checks scheme and user info, resolves the host and checks every address.
 * OUTBOUND_OK, or OUTBOUND_REFUSED with the reason in err. A host that does not resolve is
 * refused (the reason says so). */
int outbound_url_allowed(const char *url, char *err, size_t errsz);

/* Classifies one IPv4 or IPv6 address (enum outbound_addr); IPv4-mapped, NAT64 (64:ff9b::/96)
 * and 6to4 addresses are judged by the IPv4 address they carry. Other families: RESERVED. */
int outbound_addr_private(const struct sockaddr *sa);

/* A word for the class in messages: "public", "private", "cloud metadata", "reserved". */
const char *outbound_addr_class(int cls);

#endif
