/* SPDX-License-Identifier: MIT */
/* util.h: allocation that aborts on failure, small string helpers and the
 * engine's result codes. No I/O beyond the abort message. */
#ifndef TASKFS_UTIL_H
#define TASKFS_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/*
 * Results of engine calls. 0 is success; the readable detail of a failure
 * is on the handle that returned it (store_errmsg(), the diagnostics of a
 * save). The engine never returns errno values and never prints.
 */
enum eng_rc {
  ENG_OK = 0,
  ENG_NOTFOUND, /* no such session, group, task, section or file */
  ENG_INVALID,  /* a value out of range or of the wrong form */
  ENG_EXISTS,   /* the name or id is taken */
  ENG_BUSY,     /* the database stayed locked past the retry bound */
  ENG_READONLY, /* the database or its directory cannot be written */
  ENG_FULL,     /* the disk holding the database is full */
  ENG_SCHEMA,   /* not a taskfs database, or one from a newer version */
  ENG_CORRUPT,  /* the database file is damaged */
  ENG_DB,       /* any other SQLite failure */
  ENG_PARSE,    /* a saved file could not be read as markdown of its kind */
  ENG_CONFLICT, /* both sides changed the same thing */
  ENG_TOOBIG,   /* a file or value beyond a documented limit */
  ENG_PERM,     /* the operation is not allowed on this file */
};

/* A short fixed description of rc, for messages. */
const char *eng_strerror(int rc);
/* A one-word name of rc for logs and figures ("busy", "parse"). */
const char *eng_kind(int rc);

/* Prints "taskfs: <message>" to stderr and aborts. For out-of-memory and
 * broken invariants only. */
_Noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
/* NULL in, NULL out. */
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Returns a heap string that the caller frees. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap)
    __attribute__((format(printf, 1, 0)));

/* Grows *arr (of *cap elements of size elem) to hold at least n. */
void *xgrow(void *arr, size_t *cap, size_t n, size_t elem);
#define XGROW(arr, cap, n) ((arr) = xgrow((arr), &(cap), (n), sizeof *(arr)))

/* qsort and bsearch that accept an empty array with a NULL base, which
 * the C library functions do not. */
static inline void xsort(void *base, size_t n, size_t size,
                         int (*cmp)(const void *, const void *)) {
  if (n > 1)
    qsort(base, n, size, cmp);
}

static inline void *xsearch(const void *key, const void *base, size_t n,
                            size_t size,
                            int (*cmp)(const void *, const void *)) {
  return n ? bsearch(key, base, n, size, cmp) : NULL;
}

/* Frees *p and stores copy of s (which may be NULL). */
void str_set(char **p, const char *s);
/* NULL-safe equality; NULL equals only NULL. */
bool str_eq(const char *a, const char *b);
/* Case-insensitive equality of ASCII strings. */
bool str_ieq(const char *a, const char *b);
bool str_starts(const char *s, const char *prefix);
bool str_ends(const char *s, const char *suffix);
/* Current time as "YYYY-MM-DD HH:MM:SS.mmm" UTC, the format of every time
 * the store keeps. out must hold 24 bytes. */
void time_now_str(char out[24]);
/* Parses that format (seconds and fraction optional) into nanoseconds
 * since the epoch; returns false on another form. */
bool time_parse(const char *s, int64_t *ns);

#endif
