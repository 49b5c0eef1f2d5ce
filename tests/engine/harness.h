/* SPDX-License-Identifier: MIT */
/* harness.h: a minimal unit-test harness. Each check prints a line on
 * failure and counts; main returns harness_done(), non-zero if any failed. */
#ifndef TASKFS_HARNESS_H
#define TASKFS_HARNESS_H

#include <stdio.h>
#include <string.h>

static int harness_checks, harness_failures;

#define OK(cond, ...)                                                          \
  do {                                                                         \
    harness_checks++;                                                          \
    if (!(cond)) {                                                             \
      harness_failures++;                                                      \
      fprintf(stderr, "%s:%d: FAILED: %s: ", __FILE__, __LINE__, #cond);       \
      fprintf(stderr, __VA_ARGS__);                                            \
      fputc('\n', stderr);                                                     \
    }                                                                          \
  } while (0)

#define INT_EQ(got, want)                                                      \
  do {                                                                         \
    long long got_ = (long long)(got), want_ = (long long)(want);              \
    OK(got_ == want_, "got %lld, want %lld", got_, want_);                     \
  } while (0)

#define STR_EQ(got, want)                                                      \
  do {                                                                         \
    const char *got_ = (got), *want_ = (want);                                 \
    OK(got_ &&want_ &&strcmp(got_, want_) == 0, "got \"%s\", want \"%s\"",     \
       got_ ? got_ : "(null)", want_ ? want_ : "(null)");                      \
  } while (0)

/* Checks an engine call returned ENG_OK, printing the store's message. */
#define RC_OK(call, st)                                                        \
  do {                                                                         \
    int rc_ = (call);                                                          \
    OK(rc_ == 0, "rc %d: %s", rc_, (st) ? store_errmsg(st) : "");              \
  } while (0)

static inline int harness_done(const char *name) {
  printf("%s: %d checks, %d failed\n", name, harness_checks, harness_failures);
  return harness_failures ? 1 : 0;
}

#endif
