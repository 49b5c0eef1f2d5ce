/* SPDX-License-Identifier: MIT */
/* test_fuzz_regressions.c: replays saved fuzz inputs through the checks of
 * the fuzz targets (fuzz/fuzz.h), without libFuzzer. Every file under
 * DIR/parse goes to fuzz_parse_one and every file under DIR/merge to
 * fuzz_merge_one, each in a child process: a broken invariant aborts the
 * child with a message naming it, and the test fails naming the input. */
#include "buf.h"
#include "fuzz.h"
#include "harness.h"
#include "util.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static const struct {
  const char *dir;
  void (*run)(const uint8_t *data, size_t size);
} targets[] = {
    {"parse", fuzz_parse_one},
    {"merge", fuzz_merge_one},
    {"memo", fuzz_memo_one},
};

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  struct buf b = BUF_INIT;
  char chunk[4096];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
    buf_add(&b, chunk, n);
  bool bad = ferror(f);
  fclose(f);
  if (bad) {
    buf_release(&b);
    return NULL;
  }
  return buf_detach(&b, len);
}

static int visible(const struct dirent *e) { return e->d_name[0] != '.'; }

/* Runs one input in a child process, so that an input that aborts is
 * reported and the others still run; the sanitizers' leak check runs at
 * the child's exit. */
static void run_one(const char *path, void (*run)(const uint8_t *, size_t)) {
  size_t len;
  char *data = slurp(path, &len);
  OK(data != NULL, "cannot read %s", path);
  if (!data)
    return;
  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0) {
    run((const uint8_t *)data, len);
    free(data);
    exit(0);
  }
  free(data);
  int st = 0;
  OK(pid > 0 && waitpid(pid, &st, 0) == pid, "cannot run %s", path);
  OK(!WIFSIGNALED(st), "%s: killed by signal %d", path, WTERMSIG(st));
  OK(!WIFEXITED(st) || WEXITSTATUS(st) == 0, "%s: exit status %d", path,
     WEXITSTATUS(st));
}

/* Replays every file of dir in name order; returns how many ran. */
static int replay(const char *dir, void (*run)(const uint8_t *, size_t)) {
  struct dirent **names;
  int n = scandir(dir, &names, visible, alphasort);
  OK(n >= 0, "cannot list %s", dir);
  for (int i = 0; i < n; i++) {
    char *path = xasprintf("%s/%s", dir, names[i]->d_name);
    run_one(path, run);
    free(path);
    free(names[i]);
  }
  if (n > 0)
    free(names);
  return n;
}

int main(int argc, char **argv) {
  const char *top = argc > 1 ? argv[1] : "fuzz-regressions";
  for (size_t i = 0; i < sizeof targets / sizeof *targets; i++) {
    char *dir = xasprintf("%s/%s", top, targets[i].dir);
    /* An empty or missing folder would pass without testing anything. */
    OK(replay(dir, targets[i].run) > 0, "no inputs in %s", dir);
    free(dir);
  }
  return harness_done("fuzz-regressions");
}
