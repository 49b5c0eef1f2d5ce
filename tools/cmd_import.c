/* SPDX-License-Identifier: MIT */
/* cmd_import.c: taskctl task import: many tasks from a JSON array in one
 * transaction, all or none (ops_task_import). This file reads the input
 * and prints the new ids. */
#include "names.h"
#include "taskctl.h"
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

static int read_input(const char *path, struct buf *out) {
  FILE *f = stdin;
  if (path && strcmp(path, "-") != 0 && !(f = fopen(path, "rb")))
    return ctl_fail(EXIT_FAIL,
                    "cannot read %s: %s; name a JSON file, or - for standard "
                    "input",
                    path, strerror(errno));
  char chunk[65536];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
    buf_add(out, chunk, n);
  int failed = ferror(f);
  if (f != stdin)
    fclose(f);
  if (failed)
    return ctl_fail(EXIT_FAIL, "cannot read %s: read error",
                    path ? path : "standard input");
  if (strlen(out->ptr) != out->len)
    return ctl_fail(EXIT_INVALID, "the input holds a NUL byte; it is not "
                                  "JSON text");
  if (!utf8_valid(out->ptr, out->len))
    return ctl_fail(EXIT_INVALID, "the input is not valid UTF-8");
  return 0;
}

/* With --json: an array of the new tasks, each as 'task show --json'
 * prints it. The store writes every object; this only lists them. */
static int print_json(struct ctl *c, const struct strlist *ids) {
  struct buf b = BUF_INIT;
  int rc = store_read_begin(c->st);
  buf_addc(&b, '[');
  for (size_t i = 0; rc == ENG_OK && i < ids->n; i++) {
    if (i)
      buf_addc(&b, ',');
    rc = store_task_json(c->st, ids->v[i], &b);
  }
  buf_addc(&b, ']');
  store_read_end(c->st);
  if (rc == ENG_OK)
    out_json(&b);
  buf_release(&b);
  return rc ? ctl_fail_store(c, rc) : 0;
}

int cmd_task_import(struct ctl *c) {
  struct buf text = BUF_INIT;
  struct strlist ids = {0};
  /* Read it all before taking the write lock: a slow pipe must not hold
   * the database. */
  int code = read_input(c->npos ? c->pos[0] : NULL, &text);
  if (!code) {
    int rc = ops_task_import(&c->ops, text.ptr, &ids);
    if (rc)
      code = ctl_fail_ops(c, rc);
  }
  if (!code && c->json) {
    code = print_json(c, &ids);
  } else if (!code) {
    for (size_t i = 0; i < ids.n; i++)
      printf("%s\n", ids.v[i]);
  }
  buf_release(&text);
  strlist_clear(&ids);
  return code;
}
