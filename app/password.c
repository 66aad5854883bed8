/* password.c — argon2id via crypto_pwhash_str; Django pbkdf2_sha256 via OpenSSL's PBKDF2. */
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <sodium.h>

#include "password.h"

/* libsodium's interactive limits: 2 passes over 64 MiB, about 0.1 s on one core. */
#define OPS crypto_pwhash_OPSLIMIT_INTERACTIVE
#define MEM crypto_pwhash_MEMLIMIT_INTERACTIVE

#define DJANGO_PREFIX "pbkdf2_sha256$"

int
password_init(void)
{
	return sodium_init() < 0 ? -1 : 0;
}

int
password_hash(const char *pw, char *out, size_t outsz)
{
	char buf[crypto_pwhash_STRBYTES];

	if (outsz < sizeof(buf) || sodium_init() < 0 ||
	    crypto_pwhash_str_alg(buf, pw, strlen(pw), OPS, MEM, crypto_pwhash_ALG_ARGON2ID13) != 0)
		return -1;
	memcpy(out, buf, sizeof(buf));
	return 0;
}

/* pbkdf2_sha256$<iterations>$<salt>$<base64 of the 32-byte derived key> */
static int
verify_django(const char *pw, const char *hash)
{
	const char *it = hash + strlen(DJANGO_PREFIX), *salt, *b64;
	unsigned char want[64], got[32];
	size_t wantlen = 0;
	char *end;
	long iter;

	iter = strtol(it, &end, 10);
	if (end == it || *end != '$' || iter < 1 || iter > 10000000)
		return 0;
	salt = end + 1;
	b64 = strchr(salt, '$');
	if (b64 == NULL || b64 == salt)
		return 0;
	b64++;
	if (sodium_base642bin(want, sizeof(want), b64, strlen(b64), NULL, &wantlen, NULL,
	        sodium_base64_VARIANT_ORIGINAL) != 0 || wantlen != sizeof(got))
		return 0;
	if (PKCS5_PBKDF2_HMAC(pw, (int)strlen(pw), (const unsigned char *)salt, (int)(b64 - 1 - salt),
	        (int)iter, EVP_sha256(), (int)sizeof(got), got) != 1)
		return 0;
	return sodium_memcmp(want, got, sizeof(got)) == 0;
}

int
password_verify(const char *pw, const char *hash)
{
	if (pw == NULL || hash == NULL || sodium_init() < 0)
		return 0;
	if (strncmp(hash, "$argon2id$", 10) == 0)
		return crypto_pwhash_str_verify(hash, pw, strlen(pw)) == 0;
	if (strncmp(hash, DJANGO_PREFIX, strlen(DJANGO_PREFIX)) == 0)
		return verify_django(pw, hash);
	return 0; /* unusable ("!" as Django marks it) or unknown: never matches */
}

int
password_needs_rehash(const char *hash)
{
	if (hash == NULL || strncmp(hash, "$argon2id$", 10) != 0)
		return 1;
	return crypto_pwhash_str_needs_rehash(hash, OPS, MEM) != 0;
}
