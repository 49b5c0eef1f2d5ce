/* SPDX-License-Identifier: MIT */
/* cmd_import.c: taskctl task import: many tasks from a JSON array in one
 * transaction, all or none. The JSON is read with jansson before the
 * database is locked; this file maps its objects to tasks. */
#include "names.h"
#include "taskctl.h"
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

struct import {
  struct ctl *c;
  json_t *input;      /* the JSON array read */
  struct strlist ids; /* the new tasks, in input order */
  char *msg;          /* why an element was refused */
  /* The group of the previous element: imports mostly fill few groups, so
   * most elements need no lookup. */
  char *last_session, *last_ref;
  struct group group;
  /* Dependencies are checked once every task is in, so that an element may
   * depend on a later one. dep_elem[i] is the element of deps.v[i]. */
  struct strlist dependencies;
  size_t *dep_elem, dep_cap;
};

/* Records why element i is refused; returns rc. */
static int refuse(struct import *im, size_t i, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int refuse(struct import *im, size_t i, int rc, const char *fmt, ...) {
  struct buf b = BUF_INIT;
  va_list ap;
  buf_printf(&b, "element %zu of the input: ", i);
  va_start(ap, fmt);
  buf_vprintf(&b, fmt, ap);
  va_end(ap);
  free(im->msg);
  im->msg = buf_detach(&b, NULL);
  return rc;
}

/* Engine failures of the database itself keep their result (busy, read
 * only, disk full); anything about the element's content is bad input. */
static int input_rc(int rc) {
  return rc == ENG_NOTFOUND || rc == ENG_EXISTS ? ENG_INVALID : rc;
}

static int find_group(struct import *im, size_t i, const char *session_id,
                      const char *ref) {
  if (im->last_ref && str_eq(im->last_ref, ref) &&
      str_eq(im->last_session, session_id))
    return ENG_OK;
  struct store *st = im->c->st;
  free(im->last_ref);
  free(im->last_session);
  im->last_ref = im->last_session = NULL;
  int rc = store_group_get(st, ref, &im->group);
  if (rc == ENG_NOTFOUND && session_id)
    rc = store_group_find(st, session_id, ref, &im->group);
  if (rc == ENG_NOTFOUND && session_id)
    return refuse(im, i, ENG_INVALID,
                  "no group with id or name '%s' in session %s", ref,
                  session_id);
  if (rc == ENG_NOTFOUND)
    return refuse(im, i, ENG_INVALID,
                  "no group with id '%s' (give \"session\" to find it by "
                  "name)",
                  ref);
  if (rc)
    return refuse(im, i, rc, "%s", store_errmsg(st));
  if (session_id && strcmp(im->group.session_id, session_id) != 0)
    return refuse(im, i, ENG_INVALID, "group %s is in session %s, not %s",
                  im->group.id, im->group.session_id, session_id);
  if (im->group.deleted)
    return refuse(im, i, ENG_INVALID, "group %s is deleted", im->group.id);
  im->last_ref = xstrdup(ref);
  im->last_session = xstrdup(session_id);
  return ENG_OK;
}

/* A value as text: a string as it is, anything else as its JSON text.
 * The caller frees it. */
static char *text_of(const json_t *v) {
  if (json_is_string(v))
    return xstrndup(json_string_value(v), json_string_length(v));
  char *text =
      json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
  return text ? text : xstrdup("");
}

/* The values of an element's keys as text, as 'task add' takes its
 * options; a null value counts as absent. */
struct element {
  const json_t *o;
  struct strlist texts; /* what get() returned, freed with the element */
};

/* The value of key as text, or NULL; valid while e is. */
static const char *get(struct element *e, const char *key) {
  const json_t *v = json_object_get(e->o, key);
  if (!v || json_is_null(v))
    return NULL;
  char *text = text_of(v);
  strlist_add(&e->texts, text);
  free(text);
  return e->texts.v[e->texts.n - 1];
}

static int get_list(struct import *im, size_t i, struct element *e,
                    const char *key, struct strlist *out) {
  const json_t *v = json_object_get(e->o, key);
  if (!v || json_is_null(v))
    return ENG_OK;
  if (!json_is_array(v))
    return refuse(im, i, ENG_INVALID, "\"%s\" must be an array", key);
  strlist_clear(out);
  /* Strings as they are, other values as their JSON text; nulls are no
   * items. */
  for (size_t k = 0; k < json_array_size(v); k++) {
    const json_t *item = json_array_get(v, k);
    if (json_is_null(item))
      continue;
    char *text = text_of(item);
    strlist_add(out, text);
    free(text);
  }
  return ENG_OK;
}

static int get_effort(struct import *im, size_t i, struct element *e,
                      const char *key, double *out) {
  const char *v = get(e, key);
  if (v && !effort_parse(v, out))
    return refuse(im, i, ENG_INVALID,
                  "%s '%s' is not hours (a number) or an effort such as "
                  "\"4h\" or \"90m\"",
                  key, v);
  return ENG_OK;
}

/* Fills t from the keys of e. */
static int task_from_object(struct import *im, struct element *e, size_t i,
                            struct task *t) {
  const char *v;
  int rc;
  const char *group = get(e, "group");
  const char *title = get(e, "title");
  if (!group)
    return refuse(im, i, ENG_INVALID, "\"group\" is missing");
  if (!title || !*title)
    return refuse(im, i, ENG_INVALID, "\"title\" is missing");
  if ((rc = find_group(im, i, get(e, "session"), group)))
    return rc;
  t->group_id = xstrdup(im->group.id);
  t->session_id = xstrdup(im->group.session_id);
  t->title = xstrdup(title);
  t->id = xstrdup(get(e, "id"));
  t->description = xstrdup(get(e, "description"));
  t->specialist = xstrdup(get(e, "specialist"));
  t->current_status = xstrdup(get(e, "current_status"));
  if ((v = get(e, "status"))) {
    int s = status_parse(v);
    if (s < 0)
      return refuse(im, i, ENG_INVALID,
                    "status '%s' is not one of planned, active, blocked, "
                    "completed",
                    v);
    task_set_status(t, s);
  }
  if ((v = get(e, "progress"))) {
    int p = progress_parse(v, &t->progress);
    if (p == -2)
      return refuse(im, i, ENG_INVALID, "progress '%s' is outside 0-100", v);
    if (p)
      return refuse(im, i, ENG_INVALID,
                    "progress '%s' is not a whole number 0-100", v);
  }
  if ((v = get(e, "priority")) && (t->priority = priority_parse(v)) < 0)
    return refuse(im, i, ENG_INVALID,
                  "priority '%s' is not one of low, medium, high, critical", v);
  if ((rc = get_effort(im, i, e, "estimate", &t->estimate)) ||
      (rc = get_effort(im, i, e, "actual", &t->actual)) ||
      (rc = get_list(im, i, e, "dependencies", &t->dependencies)) ||
      (rc = get_list(im, i, e, "deliverables", &t->deliverables)))
    return rc;
  return ENG_OK;
}

static int import_element(struct import *im, const json_t *o, size_t i) {
  struct element e = {o, {0}};
  struct task t;
  task_init(&t);
  int rc = task_from_object(im, &e, i, &t);
  if (rc == ENG_OK && (rc = store_task_insert(im->c->st, &t)))
    rc = refuse(im, i, input_rc(rc), "%s", store_errmsg(im->c->st));
  if (rc == ENG_OK) {
    strlist_add(&im->ids, t.id);
    for (size_t k = 0; k < t.dependencies.n; k++) {
      XGROW(im->dep_elem, im->dep_cap, im->dependencies.n + 1);
      im->dep_elem[im->dependencies.n] = i;
      strlist_add(&im->dependencies, t.dependencies.v[k]);
    }
  }
  task_release(&t);
  strlist_clear(&e.texts);
  return rc;
}

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

/* The input as a JSON array (its elements are checked one by one, in
 * order, as they are imported). */
static int parse_input(const struct buf *text, json_t **out) {
  json_error_t err;
  *out = json_loadb(text->ptr, text->len, 0, &err);
  if (!*out)
    return ctl_fail(EXIT_INVALID,
                    "input is not a JSON array of objects (line %d, column "
                    "%d: %s)",
                    err.line, err.column, err.text);
  if (!json_is_array(*out)) {
    json_decref(*out);
    *out = NULL;
    return ctl_fail(EXIT_INVALID, "input is not a JSON array of objects");
  }
  return 0;
}

/* Runs inside the write transaction: any refused element rolls it all
 * back. */
static int import_all(struct ctl *c, void *arg) {
  struct import *im = arg;
  int rc = ENG_OK;
  for (size_t i = 0; rc == ENG_OK && i < json_array_size(im->input); i++) {
    const json_t *o = json_array_get(im->input, i);
    if (!json_is_object(o))
      return ctl_fail(EXIT_INVALID,
                      "element %zu of the input is not a JSON object", i);
    rc = import_element(im, o, i);
  }
  for (size_t k = 0; rc == ENG_OK && k < im->dependencies.n; k++)
    if (!store_task_exists(c->st, im->dependencies.v[k]))
      rc = refuse(im, im->dep_elem[k], ENG_INVALID,
                  "dependency '%s' is no task of the database or the input",
                  im->dependencies.v[k]);
  if (rc == ENG_OK)
    return 0;
  return ctl_fail(ctl_exit_code(rc, false), "%s; nothing was imported",
                  im->msg);
}

/* With --json: an array of the new tasks, each as 'task show --json'
 * prints it. */
static int print_json(struct ctl *c, const struct strlist *ids) {
  json_t *a = json_array();
  int rc = store_read_begin(c->st);
  for (size_t i = 0; rc == ENG_OK && i < ids->n; i++) {
    json_t *t;
    if ((rc = json_record_get(c->st, RK_TASK, ids->v[i], &t)) == ENG_OK)
      json_array_append_new(a, t);
  }
  store_read_end(c->st);
  return ctl_print_json(c, rc, a);
}

int cmd_task_import(struct ctl *c) {
  struct buf text = BUF_INIT;
  struct import im;
  memset(&im, 0, sizeof im);
  im.c = c;
  group_init(&im.group);
  /* Read it all before taking the write lock: a slow pipe must not hold
   * the database. */
  int code = read_input(c->npos ? c->pos[0] : NULL, &text);
  if (!code)
    code = parse_input(&text, &im.input);
  if (!code)
    code = ctl_write(c, import_all, &im);
  if (!code && c->json) {
    code = print_json(c, &im.ids);
  } else if (!code) {
    for (size_t i = 0; i < im.ids.n; i++)
      printf("%s\n", im.ids.v[i]);
  }
  buf_release(&text);
  json_decref(im.input);
  strlist_clear(&im.ids);
  strlist_clear(&im.dependencies);
  free(im.dep_elem);
  free(im.msg);
  free(im.last_session);
  free(im.last_ref);
  group_release(&im.group);
  return code;
}
