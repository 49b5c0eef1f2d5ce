/* SPDX-License-Identifier: MIT */
/* buf.h: a growable byte buffer, always NUL-terminated.
 * Owns its bytes; knows nothing of files, SQL or markdown. */
#ifndef TASKFS_BUF_H
#define TASKFS_BUF_H

#include <stdarg.h>
#include <stddef.h>

/*
 * Invariants: ptr is never NULL (an empty buffer points at a static ""),
 * ptr[len] == '\0', and cap == 0 exactly when ptr is that static "".
 * Appends grow the capacity geometrically, so n appends cost O(n).
 * Out of memory aborts the process with a message.
 */
struct buf {
  char *ptr;
  size_t len, cap;
};

extern char buf_empty[];
#define BUF_INIT                                                               \
  { buf_empty, 0, 0 }

void buf_init(struct buf *b);
/* Frees the bytes and leaves b empty and reusable. */
void buf_release(struct buf *b);
/* Makes room for at least n more bytes after len. */
void buf_grow(struct buf *b, size_t n);
void buf_add(struct buf *b, const void *data, size_t n);
void buf_adds(struct buf *b, const char *s);
void buf_addc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Sets len to n (n <= len); the bytes after n are dropped. */
void buf_truncate(struct buf *b, size_t n);
/* Sets len to n, zero-filling any new bytes (as ftruncate does). */
void buf_resize(struct buf *b, size_t n);
/* Overwrites or extends the buffer at off with n bytes, zero-filling any
 * gap between len and off (as pwrite past the end does). */
void buf_write_at(struct buf *b, size_t off, const void *data, size_t n);
/* Hands the bytes to the caller, who frees them with free(); b is left
 * empty. Never returns NULL. If len is non-NULL it receives the length. */
char *buf_detach(struct buf *b, size_t *len);

#endif
