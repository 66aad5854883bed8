/* jwt.h — HS256 JSON Web Tokens for personal access tokens (refresh) and their access tokens.
 *
 * The claims are those of Label Studio's tokens (djangorestframework-simplejwt): token_type,
 * exp, iat, jti and user_id. Only HS256 is accepted; "none" and every other alg are invalid. */
#ifndef SIALI_JWT_H
#define SIALI_JWT_H

#include <stddef.h>
#include <stdint.h>

#define JWT_MAX 1024 /* bytes, NUL included, of any token we sign or accept */

enum { JWT_OK = 0, JWT_INVALID = 1, JWT_EXPIRED = 2 };

struct jwt_claims {
	char token_type[16]; /* "refresh" or "access" */
	char jti[33];        /* 32 hex digits */
	int64_t user_id;
	int64_t iat, exp;    /* unix seconds */
};

/* Signs c with key into out (NUL-terminated); 0 on success, -1 if it does not fit. */
int jwt_sign(const struct jwt_claims *c, const void *key, size_t keylen, char *out, size_t outsz);

/* Checks the signature, the algorithm, the claims and exp against now; fills c on JWT_OK. */
int jwt_verify(const char *tok, size_t len, const void *key, size_t keylen, int64_t now,
    struct jwt_claims *c);

/* Decodes the claims of "header.payload[.signature]" without checking the signature or exp:
 * only for finding a token on record, which is then compared byte for byte. */
int jwt_peek(const char *tok, size_t len, struct jwt_claims *c);

/* Length of the signed part "header.payload" of a three-part token; 0 if tok is not one. */
size_t jwt_unsigned_len(const char *tok, size_t len);

/* base64url without padding. encode returns the length written (out needs 4*ceil(n/3)+1);
 * decode returns the decoded length or -1 (padding, bad characters, or too long). */
size_t b64url_encode(const void *in, size_t n, char *out, size_t outsz);
long b64url_decode(const char *in, size_t n, void *out, size_t outsz);

#endif
