/* SPDX-License-Identifier: MIT */
/* cmd_import.c: taskctl task import: many tasks from a JSON array in one
 * transaction, all or none (ops_task_import). This file reads the input
 * with jansson, before the database is locked, and prints the new ids. */
#include "names.h"
#include "taskctl.h"
#include "util.h"

#include <errno.h>
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

/* The input as JSON; ops_task_import checks that it is an array of
 * objects. */
static int parse_input(const struct buf *text, json_t **out) {
  json_error_t err;
  *out = json_loadb(text->ptr, text->len, 0, &err);
  if (!*out)
    return ctl_fail(EXIT_INVALID,
                    "input is not a JSON array of objects (line %d, column "
                    "%d: %s)",
                    err.line, err.column, err.text);
  return 0;
}

/* With --json: an array of the new tasks, each as 'task show --json'
 * prints it. */
static int print_json(struct ctl *c, const struct strlist *ids) {
  json_t *a = json_array();
  int rc = ops_read_begin(&c->ops);
  if (rc)
    return ctl_print_json(c, rc, a);
  for (size_t i = 0; rc == ENG_OK && i < ids->n; i++) {
    json_t *t;
    if ((rc = ops_record_json(&c->ops, OWNER_TASK, ids->v[i], &t)) == ENG_OK)
      json_array_append_new(a, t);
  }
  ops_read_end(&c->ops);
  return ctl_print_json(c, rc, a);
}

int cmd_task_import(struct ctl *c) {
  struct buf text = BUF_INIT;
  struct strlist ids = {0};
  json_t *input = NULL;
  /* Read it all before taking the write lock: a slow pipe must not hold
   * the database. */
  int code = read_input(c->npos ? c->pos[0] : NULL, &text);
  if (!code)
    code = parse_input(&text, &input);
  if (!code) {
    int rc = ops_task_import(&c->ops, input, &ids);
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
  json_decref(input);
  strlist_clear(&ids);
  return code;
}
