/* SPDX-License-Identifier: MIT */
/* sha256.h: the SHA-256 hash (FIPS 180-4), for telling whether a file of
 * a folder checkout changed and for naming the texts kept as bases. Pure
 * computation: no I/O, no allocation. */
#ifndef TASKCTL_SHA256_H
#define TASKCTL_SHA256_H

#include <stddef.h>
#include <stdint.h>

/* A hash being computed; fill it with sha256_init, then any number of
 * sha256_update calls, then sha256_final. */
struct sha256 {
  uint32_t h[8];
  uint64_t bytes;
  unsigned char block[64];
  size_t fill;
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t n);
/* Writes the 32 bytes of the hash; s must be initialised again to be
 * used once more. */
void sha256_final(struct sha256 *s, unsigned char out[32]);

/* The hash of data as 64 lower-case hex digits and a NUL. */
#define SHA256_HEX 65
void sha256_hex(const void *data, size_t n, char out[SHA256_HEX]);

#endif
