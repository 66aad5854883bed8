/* rand.h — random bytes from the kernel (libsodium's randombytes). */
#ifndef SIALI_RAND_H
#define SIALI_RAND_H

#include <stddef.h>

/* Fills buf with n random bytes; 0 on success, -1 when libsodium cannot initialise. */
int rand_bytes(void *buf, size_t n);

/* Writes 2 * nbytes lowercase hex digits and a NUL into out (size 2 * nbytes + 1). */
int rand_hex(char *out, size_t nbytes);

#endif
