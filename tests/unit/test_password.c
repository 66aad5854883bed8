/* Password hashing: argon2id for new hashes, Django pbkdf2_sha256 accepted for old ones. */
#include <string.h>
#include <criterion/criterion.h>

#include "password.h"

Test(password, argon2id_roundtrip)
{
	char h1[PASSWORD_HASH_MAX], h2[PASSWORD_HASH_MAX];

	cr_assert_eq(password_init(), 0);
	cr_assert_eq(password_hash("s3cret pass", h1, sizeof(h1)), 0);
	cr_assert_eq(password_hash("s3cret pass", h2, sizeof(h2)), 0);
	cr_assert_eq(strncmp(h1, "$argon2id$", 10), 0);
	cr_assert_str_neq(h1, h2, "salted: two hashes of one password differ");
	cr_assert(password_verify("s3cret pass", h1));
	cr_assert_not(password_verify("s3cret pas", h1));
	cr_assert_not(password_verify("", h1));
	cr_assert_not(password_needs_rehash(h1));
}

Test(password, django_pbkdf2)
{
	/* hashlib.pbkdf2_hmac('sha256', b'correct horse', b'pepper', 1000), base64 */
	const char *h = "pbkdf2_sha256$1000$pepper$gQV4o8bSAk9lLV90oJ74VRcTZ9w9mWIZJC4kEwODp3Y=";

	cr_assert(password_verify("correct horse", h));
	cr_assert_not(password_verify("correct horsf", h));
	cr_assert(password_needs_rehash(h));
	cr_assert_not(password_verify("correct horse", "pbkdf2_sha256$0$pepper$gQV4o8bSAk9lLV90oJ74VRcTZ9w9mWIZJC4kEwODp3Y="));
	cr_assert_not(password_verify("correct horse", "pbkdf2_sha256$1000$pepper$bad"));
	cr_assert_not(password_verify("correct horse", "pbkdf2_sha256$1000"));
}

Test(password, unusable_and_unknown)
{
	cr_assert_not(password_verify("x", "!"));
	cr_assert_not(password_verify("x", ""));
	cr_assert_not(password_verify("x", "md5$abc$def"));
	cr_assert_not(password_verify(NULL, "$argon2id$"));
	cr_assert(password_needs_rehash("!"));
}

Test(password, small_buffer_refused)
{
	char h[16];

	cr_assert_eq(password_hash("x", h, sizeof(h)), -1);
}
