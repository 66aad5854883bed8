/* s3.h — the "s3" connector (contract in storage.h; implementation notes in s3.c).
 *
 * Config (Label Studio's field names): {"bucket", "prefix" (a folder: "" or "a/b", a trailing '/'
 * is added; leading '/' dropped), "aws_access_key_id", "aws_secret_access_key" (both, or neither
 * for anonymous access to a public bucket), "aws_session_token" (optional), "region_name"
 * (default "us-east-1"), "s3_endpoint" (optional: http(s)://host[:port][/path], addressed
 * path-style as endpoint/bucket/key; missing: AWS virtual-hosted https://bucket.s3.REGION.
 * amazonaws.com/key), "presign_ttl" (minutes, default 15: used when storage_presign is given a
 * ttl <= 0), "aws_sse_kms_key_id" (optional: put asks for SSE-KMS with this key)}.
 *
 * Keys are full S3 keys, the configured prefix included (like Redis keys); get/put/del/presign
 * refuse a key outside the prefix, and any key with a "." or ".." segment (URL normalisation
 * would send it elsewhere than signed). Listing yields keys in S3's order (UTF-8 byte order),
 * skips folder markers (keys ending in '/') and, when not recursive, the common prefixes; the
 * cursor is S3's continuation token.
 *
 * open only parses and checks the config: no request is made (validate with a one-key list).
 * Every request goes through outbound_fetch (SSRF guard, outbound_timeout); an endpoint the
 * guard refuses answers STORAGE_REFUSED. */
#ifndef SIALI_S3_H
#define SIALI_S3_H

#include "storage.h"

extern const struct storage_ops storage_s3_ops;

/* One ListObjectsV2 answer (xml, n bytes, from the server: untrusted) read into objects whose key
 * starts with full (prefix included), and *next_cursor (malloc'd) when the listing goes on. A
 * storage_result. What s3_list does with the answer; exposed for the fuzz target. */
int storage_s3_parse_list(const char *xml, size_t n, const char *full,
    int (*on_object)(void *ctx, const struct storage_object *o), void *ctx, char **next_cursor,
    char *err, size_t errsz);

#endif
