/* SPDX-License-Identifier: MIT */
/* test_buf.c: the growable buffer of buf.h, with its invariants checked
 * after every step: ptr never NULL, ptr[len] == '\0', cap == 0 exactly
 * when ptr is the static empty string. */
#include "buf.h"
#include "harness.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* The invariants of buf.h, reported at the caller's line. */
#define BUF_OK(b)                                                              \
  do {                                                                         \
    const struct buf *b_ = (b);                                                \
    OK(b_->ptr != NULL, "ptr is NULL");                                        \
    if (b_->ptr) {                                                             \
      OK(b_->ptr[b_->len] == '\0', "ptr[%zu] is not NUL", b_->len);            \
      OK((b_->cap == 0) == (b_->ptr == buf_empty),                             \
         "cap %zu but ptr %s the static empty string", b_->cap,                \
         b_->ptr == buf_empty ? "is" : "is not");                              \
      OK(b_->cap == 0 || b_->len < b_->cap, "len %zu, cap %zu", b_->len,       \
         b_->cap);                                                             \
    }                                                                          \
  } while (0)

/* len and the bytes, NULs included. */
#define BYTES_EQ(b, want, n)                                                   \
  do {                                                                         \
    INT_EQ((b)->len, (n));                                                     \
    OK((b)->len == (n) && memcmp((b)->ptr, (want), (n)) == 0, "bytes differ"); \
  } while (0)

static void test_init_release(void) {
  struct buf b = BUF_INIT;
  BUF_OK(&b);
  OK(b.ptr == buf_empty, "BUF_INIT points at buf_empty");
  INT_EQ(b.len, 0);
  INT_EQ(b.cap, 0);
  STR_EQ(b.ptr, "");

  /* buf_init on garbage gives the same empty buffer. */
  struct buf g;
  memset(&g, 0xa5, sizeof g);
  buf_init(&g);
  BUF_OK(&g);
  OK(g.ptr == buf_empty && g.len == 0 && g.cap == 0, "buf_init");

  /* Releasing an empty buffer frees nothing and keeps it usable. */
  buf_release(&b);
  BUF_OK(&b);
  OK(b.ptr == buf_empty, "still static");
  buf_adds(&b, "abc");
  BUF_OK(&b);
  OK(b.ptr != buf_empty, "heap after an append");
  STR_EQ(b.ptr, "abc");
  buf_release(&b);
  BUF_OK(&b);
  OK(b.ptr == buf_empty && b.len == 0 && b.cap == 0, "released");
  /* Reusable after release. */
  buf_adds(&b, "again");
  BUF_OK(&b);
  STR_EQ(b.ptr, "again");
  INT_EQ(b.len, 5);
  buf_release(&b);
  BUF_OK(&b);
  /* The static empty string was never written to. */
  INT_EQ(buf_empty[0], 0);
}

static void test_grow(void) {
  struct buf b = BUF_INIT;
  /* Growing by nothing still leaves a valid buffer. */
  buf_grow(&b, 0);
  BUF_OK(&b);
  INT_EQ(b.len, 0);
  buf_release(&b);

  buf_grow(&b, 100);
  BUF_OK(&b);
  INT_EQ(b.len, 0);
  OK(b.cap >= 101, "cap %zu for 100 bytes and the NUL", b.cap);
  STR_EQ(b.ptr, "");
  /* Room already there: no reallocation. */
  char *p = b.ptr;
  size_t cap = b.cap;
  buf_grow(&b, 50);
  BUF_OK(&b);
  OK(b.ptr == p && b.cap == cap, "grow within capacity reallocated");
  /* The room is usable without another grow. */
  memset(b.ptr, 'x', 100);
  b.len = 100;
  b.ptr[100] = '\0';
  BUF_OK(&b);
  buf_grow(&b, 1000);
  BUF_OK(&b);
  OK(b.cap >= 1101, "cap %zu", b.cap);
  INT_EQ(b.len, 100);
  OK(b.ptr[0] == 'x' && b.ptr[99] == 'x', "content kept by grow");
  buf_release(&b);
}

static void test_add(void) {
  struct buf b = BUF_INIT;
  /* Adding nothing keeps the static empty string. */
  buf_add(&b, "ignored", 0);
  BUF_OK(&b);
  OK(b.ptr == buf_empty, "empty add allocated");
  buf_adds(&b, "");
  BUF_OK(&b);
  OK(b.ptr == buf_empty, "empty adds allocated");

  buf_add(&b, "hello", 5);
  BUF_OK(&b);
  BYTES_EQ(&b, "hello", 5);
  buf_addc(&b, ',');
  BUF_OK(&b);
  buf_adds(&b, " world");
  BUF_OK(&b);
  STR_EQ(b.ptr, "hello, world");
  INT_EQ(b.len, 12);

  /* Embedded NUL bytes count. */
  buf_add(&b, "a\0b", 3);
  BUF_OK(&b);
  BYTES_EQ(&b, "hello, worlda\0b", 15);
  buf_addc(&b, '\0');
  BUF_OK(&b);
  BYTES_EQ(&b, "hello, worlda\0b\0", 16);
  buf_release(&b);
}

static void vp(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void vp(struct buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  buf_vprintf(b, fmt, ap);
  va_end(ap);
}

static void test_printf(void) {
  struct buf b = BUF_INIT;
  /* An empty result on the static buffer. */
  buf_printf(&b, "%s", "");
  BUF_OK(&b);
  INT_EQ(b.len, 0);
  STR_EQ(b.ptr, "");

  buf_printf(&b, "%d-%s-%c", 42, "x", 'y');
  BUF_OK(&b);
  STR_EQ(b.ptr, "42-x-y");
  INT_EQ(b.len, 6);
  vp(&b, "|%05.1f|%zu", 3.14159, (size_t)7);
  BUF_OK(&b);
  STR_EQ(b.ptr, "42-x-y|003.1|7");
  INT_EQ(b.len, 14);
  buf_release(&b);

  /* Output that needs a larger buffer than the first allocation. */
  char big[300];
  memset(big, 'q', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  buf_adds(&b, "<");
  buf_printf(&b, "%s>", big);
  BUF_OK(&b);
  INT_EQ(b.len, 301);
  OK(b.ptr[0] == '<' && b.ptr[1] == 'q' && b.ptr[299] == 'q' &&
         b.ptr[300] == '>',
     "long printf content");
  buf_release(&b);

  /* At the capacity boundary: output exactly filling the room left and
   * output one byte larger. */
  for (int extra = -1; extra <= 1; extra++) {
    buf_adds(&b, "ab");
    size_t room = b.cap - b.len - 1; /* bytes that fit beside the NUL */
    int n = (int)room + extra;
    buf_printf(&b, "%*s", n, "z");
    BUF_OK(&b);
    INT_EQ(b.len, 2 + (size_t)n);
    OK(b.ptr[2 + n - 1] == 'z' && b.ptr[2] == (n > 1 ? ' ' : 'z'),
       "padded output at extra %d", extra);
    buf_release(&b);
  }
  /* vprintf with a long result on a fresh buffer. */
  vp(&b, "%0200d", 7);
  BUF_OK(&b);
  INT_EQ(b.len, 200);
  OK(b.ptr[0] == '0' && b.ptr[199] == '7', "vprintf long");
  buf_release(&b);
}

static void test_truncate_resize(void) {
  struct buf b = BUF_INIT;
  /* Truncating the static buffer to 0 leaves it alone. */
  buf_truncate(&b, 0);
  BUF_OK(&b);
  OK(b.ptr == buf_empty, "truncate static");
  buf_resize(&b, 0);
  BUF_OK(&b);
  OK(b.ptr == buf_empty, "resize static to 0");

  buf_adds(&b, "abcdef");
  buf_truncate(&b, 3);
  BUF_OK(&b);
  STR_EQ(b.ptr, "abc");
  INT_EQ(b.len, 3);
  /* n >= len changes nothing. */
  buf_truncate(&b, 3);
  BUF_OK(&b);
  buf_truncate(&b, 10);
  BUF_OK(&b);
  STR_EQ(b.ptr, "abc");
  INT_EQ(b.len, 3);
  buf_truncate(&b, 0);
  BUF_OK(&b);
  STR_EQ(b.ptr, "");
  INT_EQ(b.len, 0);

  /* Resize up zero-fills, down cuts. */
  buf_adds(&b, "xy");
  buf_resize(&b, 6);
  BUF_OK(&b);
  BYTES_EQ(&b, "xy\0\0\0\0", 6);
  buf_resize(&b, 1);
  BUF_OK(&b);
  BYTES_EQ(&b, "x", 1);
  /* Bytes beyond len are zeroed again on the next resize, not revived. */
  buf_resize(&b, 4);
  BUF_OK(&b);
  BYTES_EQ(&b, "x\0\0\0", 4);
  buf_release(&b);

  /* Resize of the static buffer allocates and zero-fills. */
  buf_resize(&b, 1000);
  BUF_OK(&b);
  INT_EQ(b.len, 1000);
  size_t zeros = 0;
  for (size_t i = 0; i < b.len; i++)
    zeros += b.ptr[i] == '\0';
  INT_EQ(zeros, 1000);
  buf_release(&b);
}

static void test_write_at(void) {
  struct buf b = BUF_INIT;
  /* Past the end of an empty buffer: the gap is zero-filled. */
  buf_write_at(&b, 4, "AB", 2);
  BUF_OK(&b);
  BYTES_EQ(&b, "\0\0\0\0AB", 6);
  /* Inside: overwrite, length unchanged. */
  buf_write_at(&b, 1, "x", 1);
  BUF_OK(&b);
  BYTES_EQ(&b, "\0x\0\0AB", 6);
  /* Overlapping the end: overwrite and extend. */
  buf_write_at(&b, 5, "CDE", 3);
  BUF_OK(&b);
  BYTES_EQ(&b, "\0x\0\0ACDE", 8);
  /* Exactly at the end: append. */
  buf_write_at(&b, 8, "F", 1);
  BUF_OK(&b);
  BYTES_EQ(&b, "\0x\0\0ACDEF", 9);
  /* Far past the end of a heap buffer. */
  buf_write_at(&b, 20, "G", 1);
  BUF_OK(&b);
  BYTES_EQ(&b, "\0x\0\0ACDEF\0\0\0\0\0\0\0\0\0\0\0G", 21);
  /* Zero bytes inside change nothing. */
  buf_write_at(&b, 3, "zzz", 0);
  BUF_OK(&b);
  INT_EQ(b.len, 21);
  OK(b.ptr[3] == '\0', "zero-length write wrote");
  /* Zero bytes past the end: the gap up to off is zero-filled. */
  buf_write_at(&b, 25, "", 0);
  BUF_OK(&b);
  INT_EQ(b.len, 25);
  OK(b.ptr[21] == 0 && b.ptr[24] == 0, "gap zero-filled");
  buf_release(&b);

  /* A write that overwrites the whole content. */
  buf_adds(&b, "old text");
  buf_write_at(&b, 0, "new text", 8);
  BUF_OK(&b);
  STR_EQ(b.ptr, "new text");
  buf_release(&b);

  /* After truncation, stale bytes past len are not revived by a write
   * past the end: the gap reads as zeros. */
  buf_adds(&b, "0123456789");
  buf_truncate(&b, 2);
  buf_write_at(&b, 6, "!", 1);
  BUF_OK(&b);
  BYTES_EQ(&b, "01\0\0\0\0!", 7);
  buf_release(&b);
}

static void test_detach(void) {
  struct buf b = BUF_INIT;
  size_t len = 99;
  /* Detaching an empty static buffer gives a fresh "" to free. */
  char *p = buf_detach(&b, &len);
  OK(p != NULL && p != buf_empty, "detach empty");
  STR_EQ(p, "");
  INT_EQ(len, 0);
  BUF_OK(&b);
  free(p);

  buf_adds(&b, "detach me");
  char *owned = b.ptr;
  p = buf_detach(&b, &len);
  OK(p == owned, "detach hands over the same bytes");
  STR_EQ(p, "detach me");
  INT_EQ(len, 9);
  BUF_OK(&b);
  OK(b.ptr == buf_empty && b.len == 0 && b.cap == 0, "left empty");
  free(p);

  /* len may be NULL; the buffer is reusable. */
  buf_add(&b, "x\0y", 3);
  p = buf_detach(&b, NULL);
  OK(memcmp(p, "x\0y", 4) == 0, "bytes and NUL");
  free(p);
  BUF_OK(&b);
  buf_adds(&b, "reuse");
  BUF_OK(&b);
  STR_EQ(b.ptr, "reuse");
  p = buf_detach(&b, &len);
  INT_EQ(len, 5);
  free(p);
  BUF_OK(&b);
}

static void test_large(void) {
  struct buf b = BUF_INIT;
  const size_t n = 1u << 20;
  /* One byte at a time: the capacity grows geometrically, so it changes
   * only a logarithmic number of times. */
  size_t caps = 0, last = 0;
  for (size_t i = 0; i < n; i++) {
    buf_addc(&b, (char)('a' + i % 26));
    if (b.cap != last) {
      OK(last == 0 || b.cap >= 2 * last, "cap %zu after %zu", b.cap, last);
      caps++;
      last = b.cap;
    }
  }
  BUF_OK(&b);
  INT_EQ(b.len, n);
  OK(caps <= 16, "%zu capacity changes for 1 MiB", caps);
  OK(b.cap < 4 * (n + 1), "cap %zu oversized", b.cap);
  size_t bad = 0;
  for (size_t i = 0; i < n; i++)
    bad += b.ptr[i] != (char)('a' + i % 26);
  INT_EQ(bad, 0);

  /* Chunks of odd sizes on top. */
  char chunk[4099];
  for (size_t i = 0; i < sizeof chunk; i++)
    chunk[i] = (char)(i % 251);
  for (int i = 0; i < 300; i++)
    buf_add(&b, chunk, sizeof chunk);
  BUF_OK(&b);
  INT_EQ(b.len, n + 300 * sizeof chunk);
  OK(memcmp(b.ptr + n + 299 * sizeof chunk, chunk, sizeof chunk) == 0,
     "last chunk");
  OK(memcmp(b.ptr + n, chunk, sizeof chunk) == 0, "first chunk");

  /* One big append into an empty buffer. */
  struct buf c = BUF_INIT;
  buf_add(&c, b.ptr, b.len);
  BUF_OK(&c);
  OK(c.len == b.len && memcmp(c.ptr, b.ptr, b.len) == 0, "copy of 2 MiB");
  buf_release(&c);
  buf_release(&b);
  BUF_OK(&b);
}

int main(void) {
  test_init_release();
  test_grow();
  test_add();
  test_printf();
  test_truncate_resize();
  test_write_at();
  test_detach();
  test_large();
  return harness_done("buf");
}
