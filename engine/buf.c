/* SPDX-License-Identifier: MIT */
/* buf.c: the growable byte buffer of buf.h. */
#include "buf.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

char buf_empty[1];

void buf_init(struct buf *b) {
  b->ptr = buf_empty;
  b->len = b->cap = 0;
}

void buf_release(struct buf *b) {
  if (b->cap)
    free(b->ptr);
  buf_init(b);
}

void buf_grow(struct buf *b, size_t n) {
  if (b->len + n + 1 <= b->cap)
    return;
  size_t want = b->len + n + 1;
  size_t cap = b->cap ? b->cap : 64;
  while (cap < want) {
    if (cap > SIZE_MAX / 2)
      die("buffer size overflow");
    cap *= 2;
  }
  if (b->cap) {
    b->ptr = xrealloc(b->ptr, cap);
  } else {
    b->ptr = xmalloc(cap);
    b->ptr[0] = '\0';
  }
  b->cap = cap;
}

void buf_add(struct buf *b, const void *data, size_t n) {
  if (n == 0)
    return;
  buf_grow(b, n);
  memcpy(b->ptr + b->len, data, n);
  b->len += n;
  b->ptr[b->len] = '\0';
}

void buf_adds(struct buf *b, const char *s) { buf_add(b, s, strlen(s)); }

void buf_addc(struct buf *b, char c) { buf_add(b, &c, 1); }

void buf_vprintf(struct buf *b, const char *fmt, va_list ap) {
  va_list cp;
  va_copy(cp, ap);
  int n = vsnprintf(b->ptr + b->len, b->cap ? b->cap - b->len : 0, fmt, cp);
  va_end(cp);
  if (n < 0)
    die("vsnprintf failed");
  if (b->cap == 0 || (size_t)n >= b->cap - b->len) {
    buf_grow(b, (size_t)n);
    vsnprintf(b->ptr + b->len, b->cap - b->len, fmt, ap);
  }
  b->len += (size_t)n;
}

void buf_printf(struct buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  buf_vprintf(b, fmt, ap);
  va_end(ap);
}

void buf_truncate(struct buf *b, size_t n) {
  if (n >= b->len)
    return;
  b->len = n;
  b->ptr[n] = '\0';
}

void buf_resize(struct buf *b, size_t n) {
  if (n <= b->len) {
    buf_truncate(b, n);
    return;
  }
  buf_grow(b, n - b->len);
  memset(b->ptr + b->len, 0, n - b->len);
  b->len = n;
  b->ptr[n] = '\0';
}

void buf_write_at(struct buf *b, size_t off, const void *data, size_t n) {
  if (off + n > b->len)
    buf_resize(b, off + n);
  if (n)
    memcpy(b->ptr + off, data, n);
}

char *buf_detach(struct buf *b, size_t *len) {
  char *p;
  if (len)
    *len = b->len;
  if (b->cap) {
    p = b->ptr;
  } else {
    p = xmalloc(1);
    p[0] = '\0';
  }
  buf_init(b);
  return p;
}
