/* Fuzz target: a bearer token or PAT as a client sends it, through everything that reads one
 * before the database is asked: jwt_unsigned_len, jwt_peek, jwt_verify. */
#include <stdint.h>
#include <string.h>

#include "jwt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char key[] = "fuzz-key";
	struct jwt_claims c;
	char tok[JWT_MAX + 8];
	size_t ulen;

	if (size >= sizeof(tok))
		size = sizeof(tok) - 1;
	memcpy(tok, data, size);
	tok[size] = '\0';
	ulen = jwt_unsigned_len(tok, size);
	if (ulen > size)
		__builtin_trap();
	jwt_peek(tok, ulen ? ulen : size, &c);
	if (jwt_verify(tok, size, key, sizeof(key) - 1, 1700000000, &c) == JWT_OK &&
	    (c.user_id <= 0 || strlen(c.jti) != 32))
		__builtin_trap();
	return 0;
}
