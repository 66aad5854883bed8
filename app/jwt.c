/* jwt.c — HS256 sign/verify with libsodium's HMAC-SHA-256 and base64url, claims via json-c. */
#include <string.h>
#include <json-c/json.h>
#include <sodium.h>

#include "jwt.h"

#define JWT_HEADER "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"

size_t
b64url_encode(const void *in, size_t n, char *out, size_t outsz)
{
	size_t need = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);

	if (need > outsz)
		return 0;
	sodium_bin2base64(out, outsz, in, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return strlen(out);
}

long
b64url_decode(const char *in, size_t n, void *out, size_t outsz)
{
	size_t got = 0;
	const char *end = NULL;

	if (sodium_base642bin(out, outsz, in, n, NULL, &got, &end,
	        sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 || end != in + n)
		return -1;
	return (long)got;
}

static void
hmac(const void *key, size_t keylen, const char *msg, size_t n, unsigned char mac[32])
{
	crypto_auth_hmacsha256_state st;

	crypto_auth_hmacsha256_init(&st, key, keylen);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)msg, n);
	crypto_auth_hmacsha256_final(&st, mac);
}

int
jwt_sign(const struct jwt_claims *c, const void *key, size_t keylen, char *out, size_t outsz)
{
	struct json_object *p = json_object_new_object();
	const char *payload;
	unsigned char mac[32];
	size_t n, m;

	if (sodium_init() < 0) {
		json_object_put(p);
		return -1;
	}
	json_object_object_add(p, "token_type", json_object_new_string(c->token_type));
	json_object_object_add(p, "exp", json_object_new_int64(c->exp));
	json_object_object_add(p, "iat", json_object_new_int64(c->iat));
	json_object_object_add(p, "jti", json_object_new_string(c->jti));
	json_object_object_add(p, "user_id", json_object_new_int64(c->user_id));
	payload = json_object_to_json_string_ext(p, JSON_C_TO_STRING_PLAIN);

	n = b64url_encode(JWT_HEADER, strlen(JWT_HEADER), out, outsz);
	if (n == 0 || n + 1 >= outsz)
		goto fail;
	out[n++] = '.';
	m = b64url_encode(payload, strlen(payload), out + n, outsz - n);
	if (m == 0)
		goto fail;
	n += m;
	hmac(key, keylen, out, n, mac);
	if (n + 1 >= outsz)
		goto fail;
	out[n++] = '.';
	if (b64url_encode(mac, sizeof(mac), out + n, outsz - n) == 0)
		goto fail;
	json_object_put(p);
	return 0;
fail:
	json_object_put(p);
	if (outsz > 0)
		out[0] = '\0';
	return -1;
}

size_t
jwt_unsigned_len(const char *tok, size_t len)
{
	const char *a = memchr(tok, '.', len), *b;

	if (a == NULL)
		return 0;
	b = memchr(a + 1, '.', len - (size_t)(a + 1 - tok));
	if (b == NULL || memchr(b + 1, '.', len - (size_t)(b + 1 - tok)) != NULL)
		return 0;
	return (size_t)(b - tok);
}

/* Decodes one base64url JSON object segment; NULL if it is not one. */
static struct json_object *
segment(const char *s, size_t n)
{
	char buf[JWT_MAX];
	long m = b64url_decode(s, n, buf, sizeof(buf) - 1);
	struct json_tokener *tk;
	struct json_object *o;

	if (m <= 0)
		return NULL;
	tk = json_tokener_new_ex(8);
	if (tk == NULL)
		return NULL;
	o = json_tokener_parse_ex(tk, buf, (int)m);
	if (o != NULL && (json_tokener_get_error(tk) != json_tokener_success ||
	        tk->char_offset != (int)m || !json_object_is_type(o, json_type_object))) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tk);
	return o;
}

static int
claims(struct json_object *p, struct jwt_claims *c)
{
	struct json_object *v;
	const char *s;

	memset(c, 0, sizeof(*c));
	if (!json_object_object_get_ex(p, "token_type", &v) || !json_object_is_type(v, json_type_string) ||
	    json_object_get_string_len(v) >= (int)sizeof(c->token_type))
		return JWT_INVALID;
	memcpy(c->token_type, json_object_get_string(v), (size_t)json_object_get_string_len(v) + 1);
	if (!json_object_object_get_ex(p, "jti", &v) || !json_object_is_type(v, json_type_string) ||
	    json_object_get_string_len(v) != 32)
		return JWT_INVALID;
	s = json_object_get_string(v);
	for (int i = 0; i < 32; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return JWT_INVALID;
	memcpy(c->jti, s, 33);
	if (!json_object_object_get_ex(p, "user_id", &v) || !json_object_is_type(v, json_type_int) ||
	    (c->user_id = json_object_get_int64(v)) <= 0)
		return JWT_INVALID;
	if (!json_object_object_get_ex(p, "exp", &v) || !json_object_is_type(v, json_type_int))
		return JWT_INVALID;
	c->exp = json_object_get_int64(v);
	if (json_object_object_get_ex(p, "iat", &v)) {
		if (!json_object_is_type(v, json_type_int))
			return JWT_INVALID;
		c->iat = json_object_get_int64(v);
	}
	return JWT_OK;
}

int
jwt_peek(const char *tok, size_t len, struct jwt_claims *c)
{
	const char *dot = memchr(tok, '.', len), *end;
	struct json_object *p;
	int rc;

	if (len >= JWT_MAX || dot == NULL)
		return JWT_INVALID;
	end = memchr(dot + 1, '.', len - (size_t)(dot + 1 - tok));
	if (end == NULL)
		end = tok + len;
	p = segment(dot + 1, (size_t)(end - dot - 1));
	if (p == NULL)
		return JWT_INVALID;
	rc = claims(p, c);
	json_object_put(p);
	return rc;
}

int
jwt_verify(const char *tok, size_t len, const void *key, size_t keylen, int64_t now,
    struct jwt_claims *c)
{
	size_t ulen = jwt_unsigned_len(tok, len);
	unsigned char mac[32], sig[33];
	struct json_object *h, *v;
	int ok, rc;

	if (len >= JWT_MAX || ulen == 0 || sodium_init() < 0)
		return JWT_INVALID;
	/* The header must name HS256: never "none", never an asymmetric alg with our key. */
	h = segment(tok, (size_t)((const char *)memchr(tok, '.', len) - tok));
	if (h == NULL)
		return JWT_INVALID;
	ok = json_object_object_get_ex(h, "alg", &v) && json_object_is_type(v, json_type_string) &&
	    strcmp(json_object_get_string(v), "HS256") == 0;
	json_object_put(h);
	if (!ok)
		return JWT_INVALID;
	if (b64url_decode(tok + ulen + 1, len - ulen - 1, sig, sizeof(sig)) != 32)
		return JWT_INVALID;
	hmac(key, keylen, tok, ulen, mac);
	if (sodium_memcmp(mac, sig, 32) != 0)
		return JWT_INVALID;
	rc = jwt_peek(tok, ulen, c);
	if (rc != JWT_OK)
		return rc;
	return c->exp <= now ? JWT_EXPIRED : JWT_OK;
}
