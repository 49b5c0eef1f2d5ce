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
  ENG_GONE,     /* the database file was deleted or is unusable */
  ENG_NOTEMPTY, /* a copy's target database already holds data */
};

/* The exit statuses of the command-line tools (taskctl). */
enum eng_exit {
  EXIT_OK = 0,
  EXIT_FAIL = 1,     /* anything not listed below */
  EXIT_USAGE = 2,    /* unknown command or option, missing argument */
  EXIT_NOTFOUND = 3, /* no session, group, task, conflict or backup */
  EXIT_INVALID = 4,  /* a value of the wrong form, a taken id, bad JSON */
  EXIT_BUSY = 5,     /* the database stayed locked by another program */
  EXIT_NODB = 6,     /* the database is missing or not a taskfs database */
  EXIT_RDONLY = 7,   /* the database cannot be written */
  /* sync of a checkout: the pass ran, and ... */
  EXIT_CONFLICTS = 8, /* conflict files are open in the checkout */
  EXIT_HELD = 9,      /* texts are held with an error file beside them */
  EXIT_NOTEMPTY = 10, /* copy: the target database is not empty */
};

/* What each result means to the ones who report it: the one table from
 * which logs, messages, errnos and exit statuses are made. */
struct eng_result {
  const char *kind;    /* one word for logs and figures: "busy", "parse" */
  const char *message; /* a short fixed description */
  int err;             /* the errno a file system call returns (0: none) */
  int exit_code;       /* enum eng_exit of a command that ends with it */
  const char *hint;    /* what to do about it, "" when nothing general */
};
/* The row of rc (of ENG_DB for a value that is no result). */
const struct eng_result *eng_result(int rc);
/* eng_result(rc)->message and ->kind. */
const char *eng_strerror(int rc);
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
/* Nanoseconds since the epoch (CLOCK_REALTIME). */
int64_t time_now_ns(void);
/* Nanoseconds of CLOCK_MONOTONIC, for intervals and deadlines. */
int64_t time_mono_ns(void);

#endif
