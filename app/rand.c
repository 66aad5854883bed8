/* rand.c — random bytes and hex strings for keys, token ids and request ids. */
#include <sodium.h>

#include "rand.h"

int
rand_bytes(void *buf, size_t n)
{
	if (sodium_init() < 0)
		return -1;
	randombytes_buf(buf, n);
	return 0;
}

int
rand_hex(char *out, size_t nbytes)
{
	unsigned char buf[64];

	if (nbytes > sizeof(buf) || rand_bytes(buf, nbytes) != 0)
		return -1;
	sodium_bin2hex(out, nbytes * 2 + 1, buf, nbytes);
	sodium_memzero(buf, sizeof(buf));
	return 0;
}
