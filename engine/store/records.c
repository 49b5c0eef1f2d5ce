/* SPDX-License-Identifier: MIT */
/* records.c: the rules of sessions, groups, tasks and sections, the same
 * on every backend: what a valid record is, the ids and positions new
 * records get, the times a task's status implies. The backend reads and
 * writes rows; this file decides what goes into them. */
#include "names.h"
#include "store.h"
#include "backend.h"
#include "util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

static const int query_kinds[SQ_COUNT] = {
    [SQ_SESSIONS] = RK_SESSION,      [SQ_GROUPS] = RK_GROUP,
    [SQ_GROUP_NAMED] = RK_GROUP,     [SQ_TASKS] = RK_TASK,
    [SQ_TASKS_OF_GROUP] = RK_TASK,   [SQ_SECTIONS] = RK_SECTION,
    [SQ_SECTION_KEYED] = RK_SECTION, [SQ_SECTIONS_ALL] = RK_SECTION,
    [SQ_TASK_STATES] = RK_TASK,
};

int store_query_record_kind(int what) { return query_kinds[what]; }

void store_query_select(struct buf *b, int what) {
  const struct record_kind_desc *k = &record_kinds[query_kinds[what]];
  buf_adds(b, "SELECT ");
  for (int i = 0; i < k->nfields; i++)
    if (store_query_reads(what, i))
      buf_printf(b, "%s%s.%s", i ? ", " : "", k->table, k->fields[i].name);
    else
      buf_printf(b, "%sNULL", i ? ", " : "");
  buf_printf(b, " FROM %s", k->table);
}

bool store_query_reads(int what, int i) {
  if (what != SQ_TASK_STATES)
    return true;
  switch (i) {
  case TF_ID:
  case TF_GROUP:
  case TF_SESSION:
  case TF_STATUS:
  case TF_ESTIMATE:
  case TF_ACTUAL:
  case TF_POSITION:
  case TF_DELETED:
  case TF_REV:
  case TF_UPDATED_AT:
    return true;
  }
  return false;
}

static int bad_kind(struct store *st, int kind) {
  return store_fail(st, ENG_INVALID, "no record kind %d", kind);
}

int store_get(struct store *st, int kind, const char *id, void *out) {
  if (kind < 0 || kind >= RK_COUNT)
    return bad_kind(st, kind);
  return st->ops->get(st, kind, id, out);
}

int store_exists(struct store *st, int kind, const char *id, bool *yes) {
  *yes = false;
  if (kind < 0 || kind >= RK_COUNT)
    return bad_kind(st, kind);
  return st->ops->exists(st, kind, id, yes);
}

int store_query(struct store *st, const struct store_query *q, void **out,
                size_t *n) {
  *out = NULL;
  *n = 0;
  return st->ops->query(st, q, out, n);
}

int store_query_one(struct store *st, const struct store_query *q, void *out) {
  int kind = query_kinds[q->what];
  void *v;
  size_t n;
  int rc = store_query(st, q, &v, &n);
  if (rc)
    return rc;
  if (n == 0)
    rc = q->what == SQ_GROUP_NAMED
             ? store_fail(st, ENG_NOTFOUND, "no group named '%s' in session %s",
                          q->name, q->session_id)
             : store_fail(st, ENG_NOTFOUND, "no %s '%s'",
                          record_kinds[kind].name, q->key ? q->key : "");
  else
    record_copy(kind, out, v);
  store_records_free(kind, v, n);
  return rc;
}

void store_records_free(int kind, void *v, size_t n) {
  for (size_t i = 0; i < n; i++)
    record_release(kind, (char *)v + i * record_kinds[kind].size);
  free(v);
}

/* ---- what a valid record is ---- */

static int check_id(struct store *st, int kind, const char *id) {
  if (id_is_valid(id))
    return ENG_OK;
  return store_fail(st, ENG_INVALID,
                    "%s id '%s' is not valid: use letters, digits, '_', "
                    "'-' and '.', not starting with '.'",
                    record_kinds[kind].name, id);
}

static int check_session(struct store *st, const struct session *s) {
  if (!s->status || !session_status_valid(s->status))
    return store_fail(st, ENG_INVALID,
                      "session status '%s' is not one of active, paused, "
                      "completed, archived",
                      s->status ? s->status : "");
  return ENG_OK;
}

static int check_group(struct store *st, const struct group *g) {
  if (!g->title || !*g->title)
    return store_fail(st, ENG_INVALID, "a group needs a title");
  if (!g->name || !name_is_safe(g->name))
    return store_fail(st, ENG_INVALID,
                      "group name '%s' cannot be a file name: use letters, "
                      "digits, spaces, '_', '-' and '.', not starting with "
                      "'.' (at most %d bytes)",
                      g->name ? g->name : "", NAME_MAX_BYTES);
  if (g->status < 0 || g->status >= STATUS_COUNT)
    return store_fail(st, ENG_INVALID, "invalid group status");
  if (g->priority < 0 || g->priority >= PRIORITY_COUNT)
    return store_fail(st, ENG_INVALID, "invalid group priority");
  return ENG_OK;
}

static bool effort_ok(double h) {
  return isnan(h) || (h >= 0 && h <= EFFORT_MAX);
}

static int check_task(struct store *st, const struct task *t) {
  if (!t->title || !*t->title)
    return store_fail(st, ENG_INVALID, "a task needs a title");
  if (strchr(t->title, '\n'))
    return store_fail(st, ENG_INVALID, "a task title is one line");
  if (t->status < 0 || t->status >= STATUS_COUNT)
    return store_fail(st, ENG_INVALID,
                      "invalid status: use planned, active, blocked or "
                      "completed");
  if (t->progress < 0 || t->progress > 100)
    return store_fail(st, ENG_INVALID, "progress %d is outside 0-100",
                      t->progress);
  if (t->priority < 0 || t->priority >= PRIORITY_COUNT)
    return store_fail(st, ENG_INVALID,
                      "invalid priority: use low, medium, high or critical");
  if ((!isnan(t->estimate) && t->estimate < 0) ||
      (!isnan(t->actual) && t->actual < 0))
    return store_fail(st, ENG_INVALID, "effort cannot be negative");
  if (!effort_ok(t->estimate) || !effort_ok(t->actual))
    return store_fail(st, ENG_INVALID, "effort is at most %.0f hours",
                      EFFORT_MAX);
  for (size_t i = 0; i < t->dependencies.n; i++)
    if (strcmp(t->dependencies.v[i], t->id ? t->id : "") == 0)
      return store_fail(st, ENG_INVALID, "task %s cannot depend on itself",
                        t->id);
  return ENG_OK;
}

static int check(struct store *st, int kind, const void *rec) {
  switch (kind) {
  case RK_SESSION:
    return check_session(st, rec);
  case RK_GROUP:
    return check_group(st, rec);
  case RK_TASK:
    return check_task(st, rec);
  }
  return ENG_OK;
}

/* ---- new records ---- */

/* The first free "<base><infix>NNN" id of kind. */
static int next_id(struct store *st, int kind, const char *base,
                   const char *infix, char **out) {
  char *id = xasprintf("%s%s001", base, infix);
  bool taken;
  int rc = store_exists(st, kind, id, &taken);
  if (rc == ENG_OK && !taken) {
    *out = id;
    return ENG_OK;
  }
  free(id);
  if (rc)
    return rc;
  char *prefix = xasprintf("%s%s", base, infix);
  int64_t max = 0;
  rc = st->ops->id_max(st, kind, prefix, &max);
  if (rc == ENG_OK)
    *out = xasprintf("%s%03lld", prefix, (long long)max + 1);
  free(prefix);
  return rc;
}

static int new_session_id(struct store *st, struct session *s) {
  for (int tries = 0; tries < 16; tries++) {
    unsigned char r[4];
    if (getrandom(r, sizeof r, 0) != sizeof r)
      die("getrandom failed");
    char id[32];
    snprintf(id, sizeof id, "session_%02x%02x%02x%02x", r[0], r[1], r[2], r[3]);
    bool taken;
    int rc = store_exists(st, RK_SESSION, id, &taken);
    if (rc)
      return rc;
    if (!taken) {
      s->id = xstrdup(id);
      return ENG_OK;
    }
  }
  return store_fail(st, ENG_EXISTS, "could not find a free session id");
}

/* The id of a new group or task from its name or title. */
static int new_slug_id(struct store *st, int kind, const char *from,
                       char **id) {
  struct buf b = BUF_INIT;
  slug(from, kind == RK_TASK ? 3 : 0, &b);
  if (!b.len)
    buf_adds(&b, record_kinds[kind].name);
  int rc = next_id(st, kind, b.ptr, kind == RK_TASK ? "_" : "_group_", id);
  buf_release(&b);
  return rc;
}

/* A new group's or task's id (its own, checked, or one made from its
 * name or title) and position (0: after the others of its parent). */
static int place(struct store *st, int kind, char **id, const char *from,
                 const char *parent, double *position) {
  int rc = *id ? check_id(st, kind, *id) : new_slug_id(st, kind, from, id);
  if (rc == ENG_OK && *position == 0)
    rc = st->ops->next_position(st, kind, parent, position);
  return rc;
}

static int prepare_session(struct store *st, struct session *s) {
  if (!s->status)
    s->status = xstrdup("active");
  int rc = s->id ? check_id(st, RK_SESSION, s->id) : new_session_id(st, s);
  return rc ? rc : check_session(st, s);
}

static int prepare_group(struct store *st, struct group *g) {
  bool known = false;
  int rc = g->session_id ? store_exists(st, RK_SESSION, g->session_id, &known)
                         : ENG_OK;
  if (rc)
    return rc;
  if (!known)
    return store_fail(st, ENG_NOTFOUND, "no session with id '%s'",
                      g->session_id ? g->session_id : "");
  if (!g->title || !*g->title)
    str_set(&g->title, g->name);
  if (!g->name) {
    struct buf b = BUF_INIT;
    name_from_title(g->title ? g->title : "", &b);
    g->name = buf_detach(&b, NULL);
  }
  if ((rc = check_group(st, g)))
    return rc;
  return place(st, RK_GROUP, &g->id, g->name, g->session_id, &g->position);
}

/* The current time as the store keeps times: "YYYY-MM-DD HH:MM:SS.SSS",
 * UTC. */
static char *stored_now(void) {
  struct timespec ts;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  return xasprintf("%04d-%02d-%02d %02d:%02d:%02d.%03ld", tm.tm_year + 1900,
                   tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                   ts.tv_nsec / 1000000);
}

/* The times the status of t implies: started once active or completed,
 * completed while completed. */
static void status_times(struct task *t) {
  bool started = t->status == STATUS_ACTIVE || t->status == STATUS_COMPLETED;
  if (started && !t->started_at)
    t->started_at = stored_now();
  if (t->status != STATUS_COMPLETED) {
    free(t->completed_at);
    t->completed_at = NULL;
  } else if (!t->completed_at) {
    t->completed_at = stored_now();
  }
}

static int prepare_task(struct store *st, struct task *t) {
  int rc;
  if (!t->group_id)
    return store_fail(st, ENG_INVALID, "a task needs a group");
  struct group g;
  group_init(&g);
  if ((rc = store_get(st, RK_GROUP, t->group_id, &g)))
    return rc;
  if (!t->session_id)
    t->session_id = xstrdup(g.session_id);
  group_release(&g);
  if ((rc = check_task(st, t)))
    return rc;
  status_times(t);
  return place(st, RK_TASK, &t->id, t->title, t->group_id, &t->position);
}

/* The message of a new or changed record whose id or name is taken. */
static int taken(struct store *st, int kind, const void *rec, bool insert) {
  const struct group *g = rec;
  switch (kind) {
  case RK_SESSION:
    return store_fail(st, ENG_EXISTS, "a session with id '%s' exists",
                      ((const struct session *)rec)->id);
  case RK_GROUP:
    if (insert)
      return store_fail(st, ENG_EXISTS,
                        "a group named '%s' (or with id '%s') exists in "
                        "session %s",
                        g->name, g->id, g->session_id);
    return store_fail(st, ENG_EXISTS, "a group named '%s' exists in session %s",
                      g->name, g->session_id);
  case RK_TASK:
    return store_fail(st, ENG_EXISTS, "a task with id '%s' exists",
                      ((const struct task *)rec)->id);
  }
  return store_fail(st, ENG_EXISTS, "a section '%s' exists",
                    ((const struct section *)rec)->key);
}

int store_insert(struct store *st, int kind, void *rec) {
  int rc = ENG_OK;
  switch (kind) {
  case RK_SESSION:
    rc = prepare_session(st, rec);
    break;
  case RK_GROUP:
    rc = prepare_group(st, rec);
    break;
  case RK_TASK:
    rc = prepare_task(st, rec);
    break;
  case RK_SECTION:
    break;
  default:
    return bad_kind(st, kind);
  }
  if (rc == ENG_OK)
    rc = st->ops->insert(st, kind, rec);
  return rc == ENG_EXISTS ? taken(st, kind, rec, true) : rc;
}

int store_update(struct store *st, int kind, const void *rec) {
  if (kind < 0 || kind >= RK_COUNT)
    return bad_kind(st, kind);
  int rc = check(st, kind, rec);
  if (rc)
    return rc;
  if (kind != RK_TASK) {
    rc = st->ops->update(st, kind, rec);
  } else {
    struct task t;
    task_init(&t);
    task_copy(&t, rec);
    status_times(&t);
    rc = st->ops->update(st, kind, &t);
    task_release(&t);
  }
  return rc == ENG_EXISTS ? taken(st, kind, rec, false) : rc;
}
