/* password.h — password hashing: argon2id for new hashes (libsodium), and verification of
 * Django's pbkdf2_sha256 hashes so users moved over from Label Studio keep their passwords. */
#ifndef SIALI_PASSWORD_H
#define SIALI_PASSWORD_H

#include <stddef.h>

#define PASSWORD_HASH_MAX 256

/* Initialises libsodium; 0 on success. Call once before forking. */
int password_init(void);

/* Hashes pw with argon2id into out (NUL-terminated, out needs crypto_pwhash_STRBYTES);
 * 0 on success, -1 on failure (out of memory). */
int password_hash(const char *pw, char *out, size_t outsz);

/* 1 when pw matches hash (argon2id "$argon2id$…" or Django "pbkdf2_sha256$iter$salt$b64"). */
int password_verify(const char *pw, const char *hash);

/* 1 when hash should be replaced by a fresh password_hash() at the next successful login. */
int password_needs_rehash(const char *hash);

#endif
