/* sign.h — request signers for the storage connectors: AWS Signature V4 (S3 headers and presigned
 * URLs), Azure Blob SharedKey and service SAS URLs, Google Cloud Storage service-account JWTs
 * (RS256) and V4 signed URLs; plus the shared pieces other connectors reuse (RFC 3986 encoding,
 * hex, SHA-256, HMAC-SHA-256).
 *
 * Everything here is pure: no network, no clock (every signer takes its time as a time_t), no
 * global state. Inputs are raw (decoded) strings; the signers do all percent-encoding, so the
 * URL a connector sends must be built with sign_request_url() (or sign_uri_encode()) to match
 * what was signed.
 *
 * Ownership: a char * result is malloc'd and the caller frees it; a struct sign_headers is
 * filled by the signer and released with sign_headers_release(). On error a signer returns NULL
 * or -1, leaves nothing to free, and writes a one-line reason into err (when errsz > 0); the
 * reason never contains key material. */
#ifndef SIALI_SIGN_H
#define SIALI_SIGN_H

#include <stddef.h>
#include <time.h>

/* A name/value pair: a query parameter or a header. For a query parameter a NULL value means
 * a bare name ("?uploads"), which signs as "uploads=". */
struct sign_kv {
	const char *name;
	const char *value;
};

/* Headers a signer adds to the request; names are static strings, values are owned. */
#define SIGN_HEADERS_MAX 4
struct sign_header {
	const char *name;
	char *value;
};
struct sign_headers {
	size_t n;
	struct sign_header h[SIGN_HEADERS_MAX];
};

/* Value of the header called name (case-insensitive), or NULL. */
const char *sign_headers_get(const struct sign_headers *sh, const char *name);
/* Frees the values and empties sh; safe on a zeroed or already released struct. */
void sign_headers_release(struct sign_headers *sh);

/* ---- shared helpers ---- */

/* Percent-encodes s per RFC 3986: everything but A-Z a-z 0-9 - . _ ~ (and '/' when keep_slash)
 * becomes %XX with upper-case hex; space is %20, never '+'. Returns a malloc'd string, or NULL
 * when out of memory. */
char *sign_uri_encode(const char *s, int keep_slash);

/* scheme://host<encoded path>[?k=v&...] with the path encoded keeping '/', and the query (in the
 * given order) fully encoded. An empty path becomes "/". malloc'd, NULL when out of memory. */
char *sign_request_url(const char *scheme, const char *host, const char *path,
    const struct sign_kv *query, size_t nquery);

/* Lower-case hex of n bytes into out, which must hold 2n+1 bytes. */
void sign_hex(const void *in, size_t n, char *out);
/* Lower-case hex SHA-256 of data into out[65]. */
void sign_sha256_hex(const void *data, size_t n, char out[65]);
/* HMAC-SHA-256 of msg under key into mac[32]; 0, or -1 if libcrypto fails. */
int sign_hmac_sha256(const void *key, size_t keylen, const void *msg, size_t n,
    unsigned char mac[32]);

/* ---- AWS Signature V4 (S3) ---- */

#define SIGN_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"
#define SIGN_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define SIGN_S3_PRESIGN_MAX 604800 /* seconds: SigV4 refuses longer presigned URLs */

struct s3_sign_in {
	const char *method;   /* "GET", "PUT", ... */
	const char *scheme;   /* "https" or "http"; used only to build URLs */
	const char *host;     /* the Host header exactly as sent: "bucket.s3.us-east-1.amazonaws.com"
	                       * (virtual-hosted) or "minio.local:9000" (path-style, port included
	                       * when it is not the scheme's default) */
	const char *path;     /* raw object path from the root, '/'-separated: "/key with space" or,
	                       * path-style, "/bucket/key"; each segment is encoded once, never twice */
	const struct sign_kv *query; /* raw names and values, any order */
	size_t nquery;
	const struct sign_kv *headers; /* extra headers to sign and send (Content-Type, Range,
	                                * x-amz-server-side-encryption, ...); not host, x-amz-date,
	                                * x-amz-content-sha256 or x-amz-security-token */
	size_t nheaders;
	const char *payload_hash; /* hex SHA-256 of the body, or SIGN_UNSIGNED_PAYLOAD; NULL means
	                           * the empty body (SIGN_EMPTY_SHA256) */
	const char *region;       /* "us-east-1" */
	const char *service;      /* "s3"; NULL means "s3" */
	const char *access_key;
	const char *secret_key;
	const char *session_token; /* NULL or "" when the credentials are not temporary */
	time_t when;               /* the signing time (UTC seconds) */
};

/* Signs a request with headers. Fills out with Authorization, x-amz-date, x-amz-content-sha256
 * and, with a session token, x-amz-security-token, all of which must be sent along with the
 * caller's extra headers. 0 on success; -1 on bad input or out of memory (out left empty). */
int sign_s3_headers(const struct s3_sign_in *in, struct sign_headers *out, char *err,
    size_t errsz);

/* A presigned URL for in (normally a GET): in->query in its order, then X-Amz-Algorithm,
 * X-Amz-Credential, X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders=host, X-Amz-Security-Token
 * (with a session token) and X-Amz-Signature. Only host is signed; in->headers and
 * in->payload_hash are ignored (the payload is UNSIGNED-PAYLOAD). expires is 1..604800 seconds.
 * Returns the malloc'd URL, or NULL. */
char *sign_s3_presign(const struct s3_sign_in *in, long expires, char *err, size_t errsz);

/* ---- Azure Blob ---- */

#define SIGN_AZURE_VERSION "2021-08-06"     /* x-ms-version sent with SharedKey requests */
#define SIGN_AZURE_SAS_VERSION "2020-12-06" /* sv of the SAS string-to-sign implemented here */

struct azure_sign_in {
	const char *method;
	const char *account;  /* storage account name */
	const char *key;      /* the account key, base64 as the portal shows it */
	const char *path;     /* raw URL path: "/container/blob name" or, against azurite's
	                       * path-style endpoint, "/devstoreaccount1/container/blob name" */
	const struct sign_kv *query; /* raw; repeated names are signed as one comma-joined list */
	size_t nquery;
	const struct sign_kv *headers; /* every other header sent: Content-Length, Content-Type,
	                                * Range, If-*, x-ms-blob-type, x-ms-meta-*, ...; not
	                                * x-ms-date / x-ms-version */
	size_t nheaders;
	const char *version;  /* x-ms-version; NULL means SIGN_AZURE_VERSION */
	time_t when;          /* x-ms-date */
};

/* SharedKey (version 2009-09-19 and later string-to-sign; Date left empty in favour of x-ms-date;
 * Content-Length empty when "0"). Fills out with Authorization ("SharedKey account:sig"),
 * x-ms-date and x-ms-version. 0, or -1 (bad key, bad input, out of memory). */
int sign_azure_sharedkey(const struct azure_sign_in *in, struct sign_headers *out, char *err,
    size_t errsz);

struct azure_sas_in {
	const char *endpoint;    /* "https://account.blob.core.windows.net", or azurite's
	                          * "http://127.0.0.1:10000/devstoreaccount1"; no trailing '/' */
	const char *account;
	const char *key;         /* base64 account key */
	const char *container;
	const char *blob;        /* raw blob name, may contain '/' */
	const char *permissions; /* sp, e.g. "r"; NULL means "r" */
	time_t start;            /* st; 0 leaves it out (valid from the moment of the request) */
	time_t expiry;           /* se; required */
	const char *protocol;    /* spr; NULL means "https,http" */
	const char *version;     /* sv; NULL means SIGN_AZURE_SAS_VERSION */
};

/* Service SAS URL for one blob (sr=b): endpoint/container/blob?sp&st&se&spr&sv&sr&sig.
 * Returns the malloc'd URL, or NULL. */
char *sign_azure_sas(const struct azure_sas_in *in, char *err, size_t errsz);

/* ---- Google Cloud Storage ---- */

#define SIGN_GCS_TOKEN_URI "https://oauth2.googleapis.com/token"
#define SIGN_GCS_HOST "storage.googleapis.com"

/* The parts of a service-account JSON key file that the signers use. */
struct gcs_sa {
	char *client_email;
	char *private_key; /* PEM */
	char *token_uri;   /* SIGN_GCS_TOKEN_URI when the file has none */
};

/* Parses a service-account JSON; 0 or -1. Release with sign_gcs_sa_release() on success. */
int sign_gcs_sa_parse(const char *sa_json, struct gcs_sa *sa, char *err, size_t errsz);
void sign_gcs_sa_release(struct gcs_sa *sa);

/* The RS256 JWT assertion for the OAuth token exchange (grant_type
 * urn:ietf:params:oauth:grant-type:jwt-bearer, POSTed to the key's token_uri): header
 * {"alg":"RS256","typ":"JWT"}, claims {"iss","scope","aud"=token_uri,"iat"=now,"exp"=now+3600}.
 * Returns the malloc'd token, or NULL. */
char *sign_gcs_jwt(const char *sa_json, const char *scope, time_t now, char *err, size_t errsz);

struct gcs_url_in {
	const char *sa_json;
	const char *scheme; /* NULL means "https" */
	const char *host;   /* NULL means SIGN_GCS_HOST; a test double's "127.0.0.1:port" */
	const char *bucket;
	const char *object; /* raw object name */
	time_t when;
	long expires;       /* 1..604800 seconds */
};

/* V4 signed GET URL (GOOG4-RSA-SHA256, path-style, only host signed, UNSIGNED-PAYLOAD):
 * scheme://host/bucket/object?<sorted X-Goog-* params>&X-Goog-Signature=<hex>.
 * Returns the malloc'd URL, or NULL. */
char *sign_gcs_url(const struct gcs_url_in *in, char *err, size_t errsz);

#endif
