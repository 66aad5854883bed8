/* JWT sign and verify; the expected token was computed independently (Python's hmac). */
#include <string.h>
#include <criterion/criterion.h>

#include "jwt.h"

#define KEY "k3y"
#define GOOD "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9." \
	"eyJ0b2tlbl90eXBlIjoicmVmcmVzaCIsImV4cCI6MTkwMDAwMDAwMCwiaWF0IjoxODAwMDAwMDAwLCJqdGkiOiIwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZiIsInVzZXJfaWQiOjd9" \
	".YeHjsvEnBs5r7ohrMNlfQqFsLqZ5X1o10aagKJBUPfE"

static struct jwt_claims
sample(void)
{
	struct jwt_claims c;

	memset(&c, 0, sizeof(c));
	strcpy(c.token_type, "refresh");
	strcpy(c.jti, "0123456789abcdef0123456789abcdef");
	c.user_id = 7;
	c.iat = 1800000000;
	c.exp = 1900000000;
	return c;
}

static int
verify(const char *tok, int64_t now, struct jwt_claims *c)
{
	return jwt_verify(tok, strlen(tok), KEY, 3, now, c);
}

Test(jwt, sign_matches_reference)
{
	struct jwt_claims c = sample();
	char tok[JWT_MAX];

	cr_assert_eq(jwt_sign(&c, KEY, 3, tok, sizeof(tok)), 0);
	cr_assert_str_eq(tok, GOOD);
}

Test(jwt, verify_roundtrip_and_expiry)
{
	struct jwt_claims c;

	cr_assert_eq(verify(GOOD, 1850000000, &c), JWT_OK);
	cr_assert_str_eq(c.token_type, "refresh");
	cr_assert_str_eq(c.jti, "0123456789abcdef0123456789abcdef");
	cr_assert_eq(c.user_id, 7);
	cr_assert_eq(c.iat, 1800000000);
	cr_assert_eq(c.exp, 1900000000);
	cr_assert_eq(verify(GOOD, 1900000000, &c), JWT_EXPIRED);
}

Test(jwt, rejects_tampering)
{
	struct jwt_claims c;
	char tok[JWT_MAX];
	size_t n = strlen(GOOD);

	cr_assert_eq(jwt_verify(GOOD, n, "k3z", 3, 1850000000, &c), JWT_INVALID);
	strcpy(tok, GOOD);
	tok[n - 1] = tok[n - 1] == 'E' ? 'F' : 'E'; /* last signature character */
	cr_assert_eq(verify(tok, 1850000000, &c), JWT_INVALID);
	strcpy(tok, GOOD);
	tok[40] ^= 1; /* a payload character */
	cr_assert_eq(verify(tok, 1850000000, &c), JWT_INVALID);
	strcpy(tok, GOOD);
	strcat(tok, "=");
	cr_assert_eq(verify(tok, 1850000000, &c), JWT_INVALID);
	cr_assert_eq(verify("", 1850000000, &c), JWT_INVALID);
	cr_assert_eq(verify("a.b", 1850000000, &c), JWT_INVALID);
	cr_assert_eq(verify("a.b.c.d", 1850000000, &c), JWT_INVALID);
}

Test(jwt, rejects_alg_none_and_others)
{
	struct jwt_claims c;
	/* {"alg":"none"} with the valid payload and an empty signature */
	const char *none = "eyJhbGciOiJub25lIn0."
	    "eyJ0b2tlbl90eXBlIjoicmVmcmVzaCIsImV4cCI6MTkwMDAwMDAwMCwiaWF0IjoxODAwMDAwMDAwLCJqdGkiOiIwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZiIsInVzZXJfaWQiOjd9.";
	/* {"alg":"HS512","typ":"JWT"} with the same payload, correctly HMAC-SHA-256-signed with KEY
	 * (Python's hmac): only the alg check can refuse it. */
	const char *hs512 = "eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9."
	    "eyJ0b2tlbl90eXBlIjoicmVmcmVzaCIsImV4cCI6MTkwMDAwMDAwMCwiaWF0IjoxODAwMDAwMDAwLCJqdGkiOiIwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZiIsInVzZXJfaWQiOjd9"
	    ".2jWremBmES-Uw3OeRio5FOPUJ92BhGlKl4-Z9vhzwdo";

	cr_assert_eq(verify(none, 1850000000, &c), JWT_INVALID);
	cr_assert_eq(verify(hs512, 1850000000, &c), JWT_INVALID);
}

Test(jwt, peek_and_unsigned_len)
{
	struct jwt_claims c;
	size_t u = jwt_unsigned_len(GOOD, strlen(GOOD));

	cr_assert_eq(u, (size_t)(strrchr(GOOD, '.') - GOOD));
	cr_assert_eq(jwt_peek(GOOD, u, &c), JWT_OK);
	cr_assert_eq(c.user_id, 7);
	cr_assert_eq(jwt_unsigned_len("abc", 3), 0);
	cr_assert_eq(jwt_unsigned_len("a.b", 3), 0);
	cr_assert_eq(jwt_unsigned_len("a.b.c.d", 7), 0);
}

Test(jwt, sign_refuses_small_buffer)
{
	struct jwt_claims c = sample();
	char tok[64];

	cr_assert_eq(jwt_sign(&c, KEY, 3, tok, sizeof(tok)), -1);
	cr_assert_str_eq(tok, "");
}

Test(b64url, roundtrip_and_strictness)
{
	char enc[16];
	unsigned char dec[16];

	cr_assert_eq(b64url_encode("\xfb\xff", 2, enc, sizeof(enc)), 3);
	cr_assert_str_eq(enc, "-_8");
	cr_assert_eq(b64url_decode("-_8", 3, dec, sizeof(dec)), 2);
	cr_assert_eq(memcmp(dec, "\xfb\xff", 2), 0);
	cr_assert_eq(b64url_decode("-_8=", 4, dec, sizeof(dec)), -1);
	cr_assert_eq(b64url_decode("+/8", 3, dec, sizeof(dec)), -1);
}
