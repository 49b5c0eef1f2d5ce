/* SPDX-License-Identifier: MIT */
/* util.c: allocation, strings and time helpers shared by the engine. */
#include "util.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

const char *eng_strerror(int rc) {
  switch (rc) {
  case ENG_OK:
    return "success";
  case ENG_NOTFOUND:
    return "not found";
  case ENG_INVALID:
    return "invalid value";
  case ENG_EXISTS:
    return "already exists";
  case ENG_BUSY:
    return "database is locked";
  case ENG_READONLY:
    return "database is read-only";
  case ENG_FULL:
    return "disk full";
  case ENG_SCHEMA:
    return "unsupported database schema";
  case ENG_CORRUPT:
    return "database is damaged";
  case ENG_DB:
    return "database error";
  case ENG_PARSE:
    return "file could not be parsed";
  case ENG_CONFLICT:
    return "conflicting changes";
  case ENG_TOOBIG:
    return "too large";
  case ENG_PERM:
    return "not permitted";
  }
  return "unknown error";
}

const char *eng_kind(int rc) {
  switch (rc) {
  case ENG_OK:
    return "ok";
  case ENG_NOTFOUND:
    return "not_found";
  case ENG_INVALID:
    return "invalid";
  case ENG_EXISTS:
    return "exists";
  case ENG_BUSY:
    return "busy";
  case ENG_READONLY:
    return "read_only";
  case ENG_FULL:
    return "disk_full";
  case ENG_SCHEMA:
    return "schema";
  case ENG_CORRUPT:
    return "corrupt";
  case ENG_PARSE:
    return "parse";
  case ENG_CONFLICT:
    return "conflict";
  case ENG_TOOBIG:
    return "too_big";
  case ENG_PERM:
    return "not_permitted";
  }
  return "database";
}

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
