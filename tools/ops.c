/* SPDX-License-Identifier: MIT */
/* ops.c: the reads and changes behind taskctl's commands and its MCP
 * tools, as engine calls with messages that say what to do. No printing
 * and no command line: the front-ends ask and report. */
#include "ops.h"
#include "config.h"
#include "json.h"
#include "names.h"
#include "util.h"
#include "view.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void ops_init(struct ops *o, struct store *st, const char *db_path,
              ops_hint_fn hint) {
  o->st = st;
  o->db_path = db_path;
  o->hint = hint;
  buf_init(&o->err);
}

void ops_release(struct ops *o) { buf_release(&o->err); }

const char *ops_errmsg(const struct ops *o) { return o->err.ptr; }

int ops_fail(struct ops *o, int rc, const char *fmt, ...) {
  va_list ap;
  buf_truncate(&o->err, 0);
  va_start(ap, fmt);
  buf_vprintf(&o->err, fmt, ap);
  va_end(ap);
  return rc;
}

/* "; " and the words of hint h. */
static void add_hint(struct ops *o, enum ops_hint h, const char *arg) {
  buf_adds(&o->err, "; ");
  o->hint(&o->err, h, arg);
}

int ops_fail_store(struct ops *o, int rc) {
  const char *msg = store_errmsg(o->st);
  ops_fail(o, rc, "%s", *msg ? msg : eng_strerror(rc));
  /* How to wait longer is the front-end's to say; the rest is the
   * result's own hint. */
  if (rc == ENG_BUSY)
    add_hint(o, HINT_BUSY, NULL);
  else if (*eng_result(rc)->hint)
    buf_printf(&o->err, "; %s", eng_result(rc)->hint);
  return rc;
}

int ops_write(struct ops *o, int (*fn)(struct ops *o, void *arg), void *arg) {
  int rc = store_begin(o->st);
  if (rc)
    return ops_fail_store(o, rc);
  if ((rc = fn(o, arg))) {
    store_rollback(o->st);
    return rc;
  }
  if ((rc = store_commit(o->st)))
    return ops_fail_store(o, rc);
  return ENG_OK;
}

int ops_read_begin(struct ops *o) {
  int rc = store_read_begin(o->st);
  return rc ? ops_fail_store(o, rc) : ENG_OK;
}

void ops_read_end(struct ops *o) { store_read_end(o->st); }

/* ---- lookups ---- */

int ops_get_session(struct ops *o, const char *id, struct session *out) {
  int rc = store_session_get(o->st, id, out);
  if (rc == ENG_NOTFOUND) {
    ops_fail(o, rc, "no session with id '%s'", id);
    add_hint(o, HINT_SESSION_LIST, NULL);
    return rc;
  }
  return rc ? ops_fail_store(o, rc) : ENG_OK;
}

int ops_check_session(struct ops *o, const char *session_id) {
  if (!session_id)
    return ENG_OK;
  struct session s;
  session_init(&s);
  int rc = ops_get_session(o, session_id, &s);
  session_release(&s);
  return rc;
}

int ops_get_group(struct ops *o, const char *session_id, const char *ref,
                  struct group *out) {
  int rc = store_group_get(o->st, ref, out);
  if (rc == ENG_NOTFOUND && session_id) {
    if ((rc = ops_check_session(o, session_id)))
      return rc;
    rc = store_group_find(o->st, session_id, ref, out);
    if (rc == ENG_NOTFOUND) {
      ops_fail(o, rc, "no group with id or name '%s' in session %s", ref,
               session_id);
      add_hint(o, HINT_GROUP_LIST, session_id);
      return rc;
    }
  } else if (rc == ENG_NOTFOUND) {
    ops_fail(o, rc, "no group with id '%s'", ref);
    add_hint(o, HINT_GROUP_BY_NAME, NULL);
    return rc;
  }
  return rc ? ops_fail_store(o, rc) : ENG_OK;
}

int ops_get_task(struct ops *o, const char *id, struct task *out) {
  int rc = store_task_get(o->st, id, out);
  if (rc == ENG_NOTFOUND) {
    ops_fail(o, rc, "no task with id '%s'", id);
    add_hint(o, HINT_TASK_LIST, NULL);
    return rc;
  }
  return rc ? ops_fail_store(o, rc) : ENG_OK;
}

/* ---- values ---- */

void ops_fields_init(struct ops_fields *f) { memset(f, 0, sizeof *f); }

int ops_parse_status(struct ops *o, const char *s, int *out) {
  int v = status_parse(s);
  if (v < 0)
    return ops_fail(o, ENG_INVALID,
                    "status '%s' is not one of planned, active, blocked, "
                    "completed",
                    s);
  *out = v;
  return ENG_OK;
}

static int parse_priority(struct ops *o, const char *s, int *out) {
  int v = priority_parse(s);
  if (v < 0)
    return ops_fail(o, ENG_INVALID,
                    "priority '%s' is not one of low, medium, high, critical",
                    s);
  *out = v;
  return ENG_OK;
}

static int parse_progress(struct ops *o, const char *s, int *out) {
  switch (progress_parse(s, out)) {
  case 0:
    return ENG_OK;
  case -2:
    return ops_fail(o, ENG_INVALID, "progress '%s' is outside 0-100", s);
  default:
    return ops_fail(o, ENG_INVALID,
                    "progress '%s' is not a whole number such as 60 or 60%%",
                    s);
  }
}

static int parse_effort(struct ops *o, const char *what, const char *s,
                        double *out) {
  if (!effort_parse(s, out))
    return ops_fail(o, ENG_INVALID,
                    "%s '%s' is not an effort such as 4h, 1.5h, 90m or 1h30m",
                    what, s);
  return ENG_OK;
}

static int check_session_status(struct ops *o, const char *s) {
  if (!session_status_valid(s))
    return ops_fail(o, ENG_INVALID,
                    "session status '%s' is not one of active, paused, "
                    "completed, archived",
                    s);
  return ENG_OK;
}

/* ---- sessions ---- */

static int insert_session(struct ops *o, void *arg) {
  int rc = store_session_insert(o->st, arg);
  return rc ? ops_fail_store(o, rc) : ENG_OK;
}

int ops_session_create(struct ops *o, const char *id,
                       const struct ops_fields *f, char **id_out) {
  const char *title = f->v[OF_TITLE], *status = f->v[OF_STATUS];
  int rc;
  *id_out = NULL;
  if (!title || !*title)
    return ops_fail(o, ENG_INVALID, "a session needs a title");
  if (status && (rc = check_session_status(o, status)))
    return rc;
  struct session s;
  session_init(&s);
  s.id = xstrdup(id);
  s.title = xstrdup(title);
  s.status = xstrdup(status);
  s.mode = xstrdup(f->v[OF_MODE]);
  s.description = xstrdup(f->v[OF_DESCRIPTION]);
  rc = ops_write(o, insert_session, &s);
  if (rc == ENG_OK)
    *id_out = xstrdup(s.id);
  session_release(&s);
  return rc;
}

struct session_change {
  const char *id;
  const struct ops_fields *f;
};

static int update_session(struct ops *o, void *arg) {
  struct session_change *ch = arg;
  struct session s;
  session_init(&s);
  int rc = ops_get_session(o, ch->id, &s);
  if (rc)
    goto out;
  if (ch->f->v[OF_TITLE])
    str_set(&s.title, ch->f->v[OF_TITLE]);
  if (ch->f->v[OF_STATUS])
    str_set(&s.status, ch->f->v[OF_STATUS]);
  if (ch->f->v[OF_MODE])
    str_set(&s.mode, ch->f->v[OF_MODE]);
  if (ch->f->v[OF_DESCRIPTION])
    str_set(&s.description, ch->f->v[OF_DESCRIPTION]);
  if ((rc = store_session_update(o->st, &s)))
    ops_fail_store(o, rc);
out:
  session_release(&s);
  return rc;
}

int ops_session_set(struct ops *o, const char *id, const struct ops_fields *f) {
  const char *title = f->v[OF_TITLE], *status = f->v[OF_STATUS];
  int rc;
  if (title && !*title)
    return ops_fail(o, ENG_INVALID, "a session needs a title");
  if (status && (rc = check_session_status(o, status)))
    return rc;
  struct session_change ch = {id, f};
  return ops_write(o, update_session, &ch);
}

/* ---- groups ---- */

/* The group fields of f, checked, into g. */
static int apply_group_fields(struct ops *o, const struct ops_fields *f,
                              struct group *g) {
  int rc;
  if (f->v[OF_NAME])
    str_set(&g->name, f->v[OF_NAME]);
  if (f->v[OF_TITLE])
    str_set(&g->title, f->v[OF_TITLE]);
  if (f->v[OF_DESCRIPTION])
    str_set(&g->description, f->v[OF_DESCRIPTION]);
  if (f->v[OF_SPECIALIST])
    str_set(&g->specialist, f->v[OF_SPECIALIST]);
  if (f->v[OF_STATUS] &&
      (rc = ops_parse_status(o, f->v[OF_STATUS], &g->status)))
    return rc;
  if (f->v[OF_PRIORITY] &&
      (rc = parse_priority(o, f->v[OF_PRIORITY], &g->priority)))
    return rc;
  return ENG_OK;
}

static int insert_group(struct ops *o, void *arg) {
  struct group *g = arg;
  int rc = ops_check_session(o, g->session_id);
  if (rc)
    return rc;
  rc = store_group_insert(o->st, g);
  return rc ? ops_fail_store(o, rc) : ENG_OK;
}

int ops_group_create(struct ops *o, const char *session_id, const char *id,
                     const struct ops_fields *f, char **id_out) {
  *id_out = NULL;
  struct group g;
  group_init(&g);
  g.session_id = xstrdup(session_id);
  g.id = xstrdup(id);
  int rc = apply_group_fields(o, f, &g);
  if (rc == ENG_OK)
    rc = ops_write(o, insert_group, &g);
  if (rc == ENG_OK)
    *id_out = xstrdup(g.id);
  group_release(&g);
  return rc;
}

/* Restoring must not make two live groups of a session share a name:
 * the name is the group's file name. */
static int check_restore(struct ops *o, const struct group *g) {
  struct group other;
  group_init(&other);
  int rc = store_group_find(o->st, g->session_id, g->name, &other);
  if (rc == ENG_OK && strcmp(other.id, g->id) != 0) {
    rc = ops_fail(o, ENG_INVALID,
                  "cannot restore group %s: group %s of session %s now has "
                  "the name '%s'",
                  g->id, other.id, g->session_id, g->name);
    add_hint(o, HINT_RESTORE_NAME, NULL);
  } else if (rc == ENG_NOTFOUND) {
    rc = ENG_OK;
  } else if (rc) {
    ops_fail_store(o, rc);
  }
  group_release(&other);
  return rc;
}

struct group_change {
  const char *session_id, *ref;
  enum ops_change what;
  const struct ops_fields *f;
  char *id; /* out: the id of the group changed */
};

static int change_group(struct ops *o, void *arg) {
  struct group_change *ch = arg;
  struct group g;
  group_init(&g);
  /* A deleted group is found by its id alone: its name may be taken. */
  const char *session_id = ch->what == OPS_RESTORE ? NULL : ch->session_id;
  int rc = ops_get_group(o, session_id, ch->ref, &g);
  if (rc)
    goto out;
  if (ch->what == OPS_SET) {
    rc = apply_group_fields(o, ch->f, &g);
  } else if (ch->what == OPS_REMOVE) {
    g.deleted = true;
  } else {
    if (ch->f->v[OF_NAME])
      str_set(&g.name, ch->f->v[OF_NAME]);
    if (g.deleted && !(rc = check_restore(o, &g)))
      g.deleted = false;
  }
  if (rc)
    goto out;
  if ((rc = store_group_update(o->st, &g))) {
    ops_fail_store(o, rc);
    goto out;
  }
  ch->id = xstrdup(g.id);
out:
  group_release(&g);
  return rc;
}

int ops_group_change(struct ops *o, const char *session_id, const char *ref,
                     enum ops_change what, const struct ops_fields *f,
                     char **id_out) {
  struct group_change ch = {session_id, ref, what, f, NULL};
  int rc = ops_write(o, change_group, &ch);
  *id_out = ch.id;
  return rc;
}

/* ---- tasks ---- */

/* Checks the dependencies: a typo should fail here, not leave a
 * dependency on nothing. */
static int check_deps(struct ops *o, const struct strlist *deps) {
  for (size_t i = 0; i < deps->n; i++) {
    bool yes;
    int rc = store_task_exists(o->st, deps->v[i], &yes);
    if (rc)
      return rc;
    if (!yes) {
      ops_fail(o, ENG_NOTFOUND, "no task with id '%s' to depend on",
               deps->v[i]);
      add_hint(o, HINT_TASK_LIST, NULL);
      return ENG_NOTFOUND;
    }
  }
  return ENG_OK;
}

/* The task fields of f, checked, into t. */
static int apply_task_fields(struct ops *o, const struct ops_fields *f,
                             struct task *t) {
  int rc, status = 0;
  if (f->v[OF_TITLE])
    str_set(&t->title, f->v[OF_TITLE]);
  if (f->v[OF_DESCRIPTION])
    str_set(&t->description, f->v[OF_DESCRIPTION]);
  if (f->v[OF_SPECIALIST])
    str_set(&t->specialist, f->v[OF_SPECIALIST]);
  if (f->v[OF_CURRENT_STATUS])
    str_set(&t->current_status, f->v[OF_CURRENT_STATUS]);
  if (f->v[OF_PRIORITY] &&
      (rc = parse_priority(o, f->v[OF_PRIORITY], &t->priority)))
    return rc;
  if (f->v[OF_ESTIMATE] &&
      (rc = parse_effort(o, "estimate", f->v[OF_ESTIMATE], &t->estimate)))
    return rc;
  if (f->v[OF_ACTUAL] &&
      (rc = parse_effort(o, "actual", f->v[OF_ACTUAL], &t->actual)))
    return rc;
  /* Completing a task makes it 100% done, unless a progress is given
   * too: an explicit value wins. */
  if (f->v[OF_STATUS]) {
    if ((rc = ops_parse_status(o, f->v[OF_STATUS], &status)))
      return rc;
    task_set_status(t, status);
  }
  if (f->v[OF_PROGRESS] &&
      (rc = parse_progress(o, f->v[OF_PROGRESS], &t->progress)))
    return rc;
  if (f->dependencies) {
    strlist_copy(&t->dependencies, f->dependencies);
    if ((rc = check_deps(o, &t->dependencies)))
      return rc;
  }
  if (f->deliverables)
    strlist_copy(&t->deliverables, f->deliverables);
  return ENG_OK;
}

/* Resolves the group ref for a task (in session_id, when given) and checks
 * that the task may go there. */
static int resolve_group(struct ops *o, const char *session_id, const char *ref,
                         struct group *g) {
  int rc = ops_get_group(o, session_id, ref, g);
  if (rc)
    return rc;
  if (session_id && strcmp(g->session_id, session_id) != 0)
    return ops_fail(o, ENG_INVALID,
                    "group %s is in session %s, not %s; a task stays in "
                    "its session",
                    g->id, g->session_id, session_id);
  if (g->deleted) {
    ops_fail(o, ENG_INVALID, "group %s is deleted", g->id);
    add_hint(o, HINT_GROUP_RESTORE, g->id);
    return ENG_INVALID;
  }
  return ENG_OK;
}

struct task_insert {
  const char *session_id;
  const struct ops_fields *f;
  struct task t;
};

static int insert_task(struct ops *o, void *arg) {
  struct task_insert *ti = arg;
  struct group g;
  group_init(&g);
  int rc = resolve_group(o, ti->session_id, ti->f->v[OF_GROUP], &g);
  if (rc == ENG_OK) {
    str_set(&ti->t.group_id, g.id);
    str_set(&ti->t.session_id, g.session_id);
    rc = apply_task_fields(o, ti->f, &ti->t);
  }
  if (rc == ENG_OK && (rc = store_task_insert(o->st, &ti->t)))
    ops_fail_store(o, rc);
  group_release(&g);
  return rc;
}

int ops_task_add(struct ops *o, const char *session_id, const char *id,
                 const struct ops_fields *f, char **id_out) {
  *id_out = NULL;
  if (!f->v[OF_GROUP])
    return ops_fail(o, ENG_INVALID, "a task needs a group");
  if (!f->v[OF_TITLE] || !*f->v[OF_TITLE])
    return ops_fail(o, ENG_INVALID, "a task needs a title");
  struct task_insert ti = {session_id, f, {0}};
  task_init(&ti.t);
  ti.t.id = xstrdup(id);
  int rc = ops_write(o, insert_task, &ti);
  if (rc == ENG_OK)
    *id_out = xstrdup(ti.t.id);
  task_release(&ti.t);
  return rc;
}

struct task_change {
  const char *id;
  enum ops_change what;
  const struct ops_fields *f;
  struct ops_task_note *note;
};

static int change_task(struct ops *o, void *arg) {
  struct task_change *ch = arg;
  struct task t;
  struct group g;
  task_init(&t);
  group_init(&g);
  int rc = ops_get_task(o, ch->id, &t);
  if (rc)
    goto out;
  if (ch->what == OPS_SET) {
    if (ch->f->v[OF_GROUP]) {
      /* By id, or by name within the task's own session. */
      if ((rc = resolve_group(o, t.session_id, ch->f->v[OF_GROUP], &g)))
        goto out;
      str_set(&t.group_id, g.id);
    }
    rc = apply_task_fields(o, ch->f, &t);
  } else {
    t.deleted = ch->what == OPS_REMOVE;
  }
  if (rc)
    goto out;
  if ((rc = store_task_update(o->st, &t))) {
    ops_fail_store(o, rc);
    goto out;
  }
  if (ch->what == OPS_RESTORE) {
    group_release(&g);
    if ((rc = store_group_get(o->st, t.group_id, &g))) {
      ops_fail_store(o, rc);
      goto out;
    }
    ch->note->group_deleted = g.deleted;
    ch->note->group_id = xstrdup(g.id);
  }
out:
  task_release(&t);
  group_release(&g);
  return rc;
}

int ops_task_change(struct ops *o, const char *id, enum ops_change what,
                    const struct ops_fields *f, struct ops_task_note *note) {
  struct ops_fields none;
  ops_fields_init(&none);
  memset(note, 0, sizeof *note);
  struct task_change ch = {id, what, f ? f : &none, note};
  int rc = ops_write(o, change_task, &ch);
  if (rc) {
    free(note->group_id);
    memset(note, 0, sizeof *note);
  }
  return rc;
}

/* ---- many tasks from JSON ---- */

struct import {
  struct ops *o;
  struct strlist *ids; /* the new tasks, in input order */
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
  va_list ap;
  struct buf *e = &im->o->err;
  buf_truncate(e, 0);
  buf_printf(e, "element %zu of the input: ", i);
  va_start(ap, fmt);
  buf_vprintf(e, fmt, ap);
  va_end(ap);
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
  struct store *st = im->o->st;
  free(im->last_ref);
  free(im->last_session);
  im->last_ref = im->last_session = NULL;
  group_release(&im->group);
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

/* The values of an element's keys as text, as the fields of a change
 * take them; a null value counts as absent. */
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
  if (rc == ENG_OK && (rc = store_task_insert(im->o->st, &t)))
    rc = refuse(im, i, input_rc(rc), "%s", store_errmsg(im->o->st));
  if (rc == ENG_OK) {
    strlist_add(im->ids, t.id);
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

struct import_run {
  struct import *im;
  const json_t *tasks;
};

/* Runs inside the write transaction: any refused element rolls it all
 * back. */
static int import_all(struct ops *o, void *arg) {
  struct import_run *run = arg;
  struct import *im = run->im;
  int rc = ENG_OK;
  for (size_t i = 0; rc == ENG_OK && i < json_array_size(run->tasks); i++)
    rc = import_element(im, json_array_get(run->tasks, i), i);
  for (size_t k = 0; rc == ENG_OK && k < im->dependencies.n; k++) {
    bool yes;
    rc = store_task_exists(o->st, im->dependencies.v[k], &yes);
    if (rc == ENG_OK && !yes)
      rc = refuse(im, im->dep_elem[k], ENG_INVALID,
                  "dependency '%s' is no task of the database or the input",
                  im->dependencies.v[k]);
  }
  if (rc == ENG_OK)
    return ENG_OK;
  buf_adds(&o->err, "; nothing was imported");
  return rc;
}

int ops_task_import(struct ops *o, const json_t *tasks, struct strlist *ids) {
  /* The shape first, before the write lock is taken. */
  if (!json_is_array(tasks))
    return ops_fail(o, ENG_INVALID, "input is not a JSON array of objects");
  for (size_t i = 0; i < json_array_size(tasks); i++)
    if (!json_is_object(json_array_get(tasks, i)))
      return ops_fail(o, ENG_INVALID,
                      "element %zu of the input is not a JSON object", i);
  struct import im;
  memset(&im, 0, sizeof im);
  im.o = o;
  im.ids = ids;
  group_init(&im.group);
  struct import_run run = {&im, tasks};
  int rc = ops_write(o, import_all, &run);
  if (rc)
    strlist_clear(ids);
  strlist_clear(&im.dependencies);
  free(im.dep_elem);
  free(im.last_session);
  free(im.last_ref);
  group_release(&im.group);
  return rc;
}

/* ---- JSON ---- */

int ops_record_json(struct ops *o, int kind, const char *id, json_t **out) {
  int rc = json_record_get(o->st,
                           kind == OWNER_SESSION ? RK_SESSION
                           : kind == OWNER_GROUP ? RK_GROUP
                                                 : RK_TASK,
                           id, out);
  return rc ? ops_fail_store(o, rc) : ENG_OK;
}

int ops_sessions_json(struct ops *o, json_t **out) {
  int rc = json_sessions(o->st, out);
  return rc ? ops_fail_store(o, rc) : ENG_OK;
}

int ops_groups_json(struct ops *o, const char *session_id, bool include_deleted,
                    json_t **out) {
  int rc = ops_read_begin(o);
  if (rc)
    return rc;
  if ((rc = ops_check_session(o, session_id)) == ENG_OK &&
      (rc = json_groups(o->st, session_id, include_deleted, out)))
    ops_fail_store(o, rc);
  ops_read_end(o);
  return rc;
}

int ops_tasks_json(struct ops *o, const char *session_id, int status,
                   const char *group_ref, bool include_deleted, json_t **out) {
  struct group g;
  group_init(&g);
  int rc = ops_read_begin(o);
  if (rc)
    return rc;
  if ((rc = ops_check_session(o, session_id)))
    goto out;
  if (group_ref && (rc = ops_get_group(o, session_id, group_ref, &g)))
    goto out;
  if ((rc = json_tasks(o->st, session_id, status, g.id, include_deleted, out)))
    ops_fail_store(o, rc);
out:
  ops_read_end(o);
  group_release(&g);
  return rc;
}

/* ---- conflicts and backups ---- */

int ops_conflicts_json(struct ops *o, const char *session_id, bool all,
                       json_t **out) {
  int rc = ops_read_begin(o);
  if (rc)
    return rc;
  if ((rc = ops_check_session(o, session_id)) == ENG_OK &&
      (rc = json_conflicts(o->st, session_id, !all, out)))
    ops_fail_store(o, rc);
  ops_read_end(o);
  return rc;
}

int ops_resolve(struct ops *o, int64_t id, const char *how, const char *value,
                struct conflict *out) {
  if (!str_eq(how, "db") && !str_eq(how, "file") && !str_eq(how, "manual"))
    return ops_fail(o, ENG_INVALID, "keep takes db or file, not '%s'", how);
  if (str_eq(how, "manual") && !value)
    return ops_fail(o, ENG_INVALID, "a manual resolution needs a value");
  int rc = sync_resolve(o->st, id, how, value);
  if (rc == ENG_NOTFOUND) {
    ops_fail(o, rc, "%s", store_errmsg(o->st));
    add_hint(o, HINT_CONFLICTS, NULL);
    return rc;
  }
  if (rc)
    return ops_fail_store(o, rc);
  if (out && (rc = store_conflict_get(o->st, id, out)))
    return ops_fail_store(o, rc);
  return ENG_OK;
}

int ops_backups_json(struct ops *o, const char *session_id, json_t **out) {
  int rc = ops_read_begin(o);
  if (rc)
    return rc;
  if ((rc = ops_check_session(o, session_id)) == ENG_OK &&
      (rc = json_backups(o->st, session_id, out)))
    ops_fail_store(o, rc);
  ops_read_end(o);
  return rc;
}

/* The policies the mount would use by default: taskfs.yaml beside the
 * database file, else the defaults (also for a server's database, whose
 * mount looks beside its mount point, which this cannot know, as it
 * cannot know a mount's -o config=FILE). */
int ops_load_policy(struct ops *o, struct policy *p) {
  /* A server's database has no folder to hold the file. */
  if (!store_is_file(o->db_path)) {
    policy_default(p);
    return ENG_OK;
  }
  const char *slash = strrchr(o->db_path, '/');
  char *path = slash ? xasprintf("%.*s/taskfs.yaml", (int)(slash - o->db_path),
                                 o->db_path)
                     : xstrdup("taskfs.yaml");
  struct buf err = BUF_INIT;
  int rc = policy_load(path, p, &err);
  if (rc == ENG_NOTFOUND) {
    policy_default(p);
    rc = ENG_OK;
  } else if (rc) {
    ops_fail(o, rc, "%s", err.ptr);
  }
  buf_release(&err);
  free(path);
  return rc;
}

int ops_restore_backup(struct ops *o, int64_t id, struct backup *b,
                       struct save_result *res) {
  int rc = store_backup_get(o->st, id, b);
  if (rc == ENG_NOTFOUND) {
    ops_fail(o, rc, "no backup %lld", (long long)id);
    add_hint(o, HINT_BACKUPS, NULL);
    return rc;
  }
  if (rc)
    return ops_fail_store(o, rc);
  struct policy policy;
  if ((rc = ops_load_policy(o, &policy)))
    return rc;
  rc = sync_restore_backup(o->st, id, &policy, res);
  if (rc == ENG_PARSE)
    return ops_fail(o, rc,
                    "backup %lld not restored: the text has errors; it is "
                    "held as the text of %s %s until it is fixed or its "
                    ".error.md file is removed",
                    (long long)id, b->kind, b->record);
  return rc ? ops_fail_store(o, rc) : ENG_OK;
}

/* ---- sync health ---- */

/* The path within its session of the .conflict.md file of conflict x:
 * beside the file it was saved to. */
static void conflict_path(struct ops *o, const struct conflict *x,
                          struct buf *out) {
  struct vnode f;
  vnode_init(&f);
  f.kind = VK_CONFLICT_MD;
  f.session = xstrdup(x->session_id);
  f.record = xstrdup(x->file_record);
  if (str_eq(x->file_kind, "group")) {
    f.target = VK_GROUP_MD;
  } else if (str_eq(x->file_kind, "task")) {
    struct task t;
    task_init(&t);
    f.target = VK_TASK_MD;
    if (store_task_get(o->st, x->file_record, &t) == ENG_OK)
      f.status = t.status;
    task_release(&t);
  } else if (str_eq(x->file_kind, "notes")) {
    const char *slash = x->file_record ? strchr(x->file_record, '/') : NULL;
    f.target = VK_NOTES_MD;
    f.notes = slash ? notes_index(slash + 1) : -1;
  } else {
    f.target = VK_SESSION_MD;
  }
  if (f.notes < 0 || view_path(o->st, &f, out) != ENG_OK)
    buf_truncate(out, 0);
  vnode_release(&f);
}

int ops_open_conflicts(struct ops *o, const char *session_id,
                       struct ops_open_conflicts *oc) {
  memset(oc, 0, sizeof *oc);
  int rc =
      store_conflict_list(o->st, session_id, NULL, NULL, true, &oc->v, &oc->n);
  struct buf path = BUF_INIT;
  for (size_t i = 0; rc == ENG_OK && i < oc->n; i++) {
    buf_truncate(&path, 0);
    conflict_path(o, &oc->v[i], &path);
    strlist_add(&oc->files, path.ptr);
  }
  buf_release(&path);
  return rc ? ops_fail_store(o, rc) : ENG_OK;
}

void ops_open_conflicts_release(struct ops_open_conflicts *oc) {
  store_conflicts_free(oc->v, oc->n);
  strlist_clear(&oc->files);
  memset(oc, 0, sizeof *oc);
}

int ops_stats_json(struct ops *o, const char *session_id, json_t **out) {
  struct ops_open_conflicts oc;
  int rc = ops_read_begin(o);
  if (rc)
    return rc;
  memset(&oc, 0, sizeof oc);
  if ((rc = ops_check_session(o, session_id)) == ENG_OK &&
      (rc = ops_open_conflicts(o, session_id, &oc)) == ENG_OK &&
      (rc = json_sync_stats(o->st, session_id, oc.v, oc.n, &oc.files, out)))
    ops_fail_store(o, rc);
  ops_open_conflicts_release(&oc);
  ops_read_end(o);
  return rc;
}

int ops_changes(struct ops *o, const char *session_id, const char *source,
                size_t limit, struct change **out, size_t *n) {
  *out = NULL;
  *n = 0;
  int rc = ops_read_begin(o);
  if (rc)
    return rc;
  if ((rc = ops_check_session(o, session_id)) == ENG_OK &&
      (rc = store_changes_recent(o->st, session_id, source, limit, out, n)))
    ops_fail_store(o, rc);
  ops_read_end(o);
  return rc;
}
