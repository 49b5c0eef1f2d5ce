/* SPDX-License-Identifier: MIT */
/* util.c: allocation, strings and time helpers shared by the engine. */
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* One row per result: what logs, messages, the file system and the
 * command-line tools make of it. */
static const struct eng_result results[] = {
    [ENG_OK] = {"ok", "success", 0, EXIT_OK, ""},
    [ENG_NOTFOUND] = {"not_found", "not found", ENOENT, EXIT_NOTFOUND, ""},
    [ENG_INVALID] = {"invalid", "invalid value", EINVAL, EXIT_INVALID, ""},
    [ENG_EXISTS] = {"exists", "already exists", EEXIST, EXIT_INVALID, ""},
    [ENG_BUSY] = {"busy", "database is locked", EBUSY, EXIT_BUSY,
                  "try again later, or wait longer with --busy-timeout MS"},
    [ENG_READONLY] = {"read_only", "database is read-only", EROFS, EXIT_RDONLY,
                      "check the permissions of the file and its folder"},
    [ENG_FULL] = {"disk_full", "disk full", ENOSPC, EXIT_RDONLY,
                  "free some disk space and try again"},
    [ENG_SCHEMA] = {"schema", "unsupported database schema", EIO, EXIT_NODB,
                    ""},
    [ENG_CORRUPT] = {"corrupt", "database is damaged", EIO, EXIT_NODB, ""},
    [ENG_DB] = {"database", "database error", EIO, EXIT_FAIL, ""},
    [ENG_PARSE] = {"parse", "file could not be parsed", EBADMSG, EXIT_INVALID,
                   ""},
    [ENG_CONFLICT] = {"conflict", "conflicting changes", 0, EXIT_OK, ""},
    [ENG_TOOBIG] = {"too_big", "too large", EFBIG, EXIT_INVALID, ""},
    [ENG_PERM] = {"not_permitted", "not permitted", EPERM, EXIT_FAIL, ""},
    [ENG_GONE] = {"gone", "database file is gone", ESTALE, EXIT_NODB, ""},
    [ENG_NOTEMPTY] = {"not_empty", "target database is not empty", ENOTEMPTY,
                      EXIT_NOTEMPTY,
                      "copy into a new database or an empty one"},
};

const struct eng_result *eng_result(int rc) {
  if (rc < 0 || rc >= (int)(sizeof results / sizeof *results) ||
      !results[rc].kind)
    rc = ENG_DB;
  return &results[rc];
}

const char *eng_strerror(int rc) { return eng_result(rc)->message; }

const char *eng_kind(int rc) { return eng_result(rc)->kind; }

void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("taskfs: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  abort();
}

void *xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p)
    die("out of memory (%zu bytes)", n);
  return p;
}

void *xcalloc(size_t n, size_t size) {
  void *p = calloc(n ? n : 1, size ? size : 1);
  if (!p)
    die("out of memory (%zu x %zu bytes)", n, size);
  return p;
}

void *xrealloc(void *p, size_t n) {
  p = realloc(p, n ? n : 1);
  if (!p)
    die("out of memory (%zu bytes)", n);
  return p;
}

char *xstrdup(const char *s) { return s ? xstrndup(s, strlen(s)) : NULL; }

char *xstrndup(const char *s, size_t n) {
  char *p = xmalloc(n + 1);
  memcpy(p, s, n);
  p[n] = '\0';
  return p;
}

char *xvasprintf(const char *fmt, va_list ap) {
  char *p = NULL;
  if (vasprintf(&p, fmt, ap) < 0)
    die("out of memory");
  return p;
}

char *xasprintf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *p = xvasprintf(fmt, ap);
  va_end(ap);
  return p;
}

void *xgrow(void *arr, size_t *cap, size_t n, size_t elem) {
  if (n <= *cap)
    return arr;
  size_t c = *cap ? *cap : 8;
  while (c < n)
    c *= 2;
  arr = xrealloc(arr, c * elem);
  *cap = c;
  return arr;
}

void str_set(char **p, const char *s) {
  char *copy = xstrdup(s);
  free(*p);
  *p = copy;
}

bool str_eq(const char *a, const char *b) {
  if (!a || !b)
    return a == b;
  return strcmp(a, b) == 0;
}

bool str_ieq(const char *a, const char *b) {
  if (!a || !b)
    return a == b;
  return strcasecmp(a, b) == 0;
}

bool str_starts(const char *s, const char *prefix) {
  return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool str_ends(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

void time_now_str(char out[24]) {
  struct timespec ts;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  size_t n = strftime(out, 24, "%Y-%m-%d %H:%M:%S", &tm);
  snprintf(out + n, 24 - n, ".%03u", (unsigned)(ts.tv_nsec / 1000000) % 1000u);
}

int64_t time_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t time_mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

bool time_parse(const char *s, int64_t *ns) {
  int y, mo, d, h = 0, mi = 0, sec = 0, n = 0;
  if (!s || sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3)
    return false;
  s += n;
  if (*s == ' ' || *s == 'T') {
    if (sscanf(s + 1, "%2d:%2d%n", &h, &mi, &n) != 2)
      return false;
    s += 1 + n;
    if (*s == ':') {
      if (sscanf(s + 1, "%2d%n", &sec, &n) != 1)
        return false;
      s += 1 + n;
    }
  }
  int64_t frac = 0, scale = 100000000;
  if (*s == '.') {
    for (s++; isdigit((unsigned char)*s); s++) {
      frac += (*s - '0') * scale;
      scale /= 10;
    }
  }
  if (*s == 'Z')
    s++;
  if (*s)
    return false;
  struct tm tm = {.tm_year = y - 1900,
                  .tm_mon = mo - 1,
                  .tm_mday = d,
                  .tm_hour = h,
                  .tm_min = mi,
                  .tm_sec = sec};
  time_t t = timegm(&tm);
  *ns = (int64_t)t * 1000000000 + frac;
  return true;
}
