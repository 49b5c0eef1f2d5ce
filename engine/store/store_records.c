/* SPDX-License-Identifier: MIT */
/* store_records.c: reading and writing sessions, groups, tasks and
 * sections, and the revision of what a file shows. */
#include "names.h"
#include "store.h"
#include "store_impl.h"
#include "util.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#define SESSION_COLS                                                           \
  "id, title, status, mode, description, deleted, created_at, updated_at,"     \
  " rev, created_rev"
#define GROUP_COLS                                                             \
  "id, session_id, name, title, description, status, priority, specialist,"    \
  " position, deleted, created_at, updated_at, rev, created_rev, members_rev"
#define TASK_COLS                                                              \
  "tasks.id, tasks.session_id, tasks.group_id, tasks.title,"                   \
  " tasks.description, tasks.status, tasks.progress, tasks.priority,"          \
  " tasks.specialist, tasks.estimate, tasks.actual, tasks.started_at,"         \
  " tasks.completed_at,"                                                       \
  " CASE tasks.dependencies WHEN '[]' THEN NULL ELSE"                          \
  " (SELECT group_concat(value, char(0)) FROM (SELECT value FROM"              \
  " json_each(tasks.dependencies) ORDER BY key)) END,"                         \
  " CASE tasks.deliverables WHEN '[]' THEN NULL ELSE"                          \
  " (SELECT group_concat(value, char(0)) FROM (SELECT value FROM"              \
  " json_each(tasks.deliverables) ORDER BY key)) END,"                         \
  " tasks.current_status, tasks.position, tasks.deleted, tasks.created_at,"    \
  " tasks.updated_at, tasks.rev, tasks.created_rev"
#define SECTION_COLS                                                           \
  "id, owner_kind, owner_id, key, heading, body, position, deleted, rev,"      \
  " created_rev"

void col_list(sqlite3_stmt *s, int i, struct strlist *l) {
  strlist_clear(l);
  if (sqlite3_column_type(s, i) == SQLITE_NULL)
    return;
  const char *p = (const char *)sqlite3_column_text(s, i);
  size_t n = (size_t)sqlite3_column_bytes(s, i);
  const char *end = p + n;
  for (;;) {
    const char *z = memchr(p, '\0', (size_t)(end - p));
    if (!z)
      z = end;
    char *item = xstrndup(p, (size_t)(z - p));
    XGROW(l->v, l->cap, l->n + 1);
    l->v[l->n++] = item;
    if (z == end)
      break;
    p = z + 1;
  }
}

/* ---- row readers ---- */

static void read_session(sqlite3_stmt *s, struct session *x) {
  session_release(x);
  x->id = col_text(s, 0);
  x->title = col_text_nn(s, 1);
  x->status = col_text_nn(s, 2);
  x->mode = col_text_nn(s, 3);
  x->description = col_text_nn(s, 4);
  x->deleted = sqlite3_column_int(s, 5) != 0;
  x->created_at = col_text(s, 6);
  x->updated_at = col_text(s, 7);
  x->rev = sqlite3_column_int64(s, 8);
  x->created_rev = sqlite3_column_int64(s, 9);
}

static void read_group(sqlite3_stmt *s, struct group *g) {
  group_release(g);
  g->id = col_text(s, 0);
  g->session_id = col_text(s, 1);
  g->name = col_text_nn(s, 2);
  g->title = col_text_nn(s, 3);
  g->description = col_text_nn(s, 4);
  char *v = col_text(s, 5);
  g->status = status_parse(v);
  if (g->status < 0)
    g->status = STATUS_PLANNED;
  free(v);
  v = col_text(s, 6);
  g->priority = priority_parse(v);
  if (g->priority < 0)
    g->priority = PRIORITY_MEDIUM;
  free(v);
  g->specialist = col_text_nn(s, 7);
  g->position = sqlite3_column_double(s, 8);
  g->deleted = sqlite3_column_int(s, 9) != 0;
  g->created_at = col_text(s, 10);
  g->updated_at = col_text(s, 11);
  g->rev = sqlite3_column_int64(s, 12);
  g->created_rev = sqlite3_column_int64(s, 13);
  g->members_rev = sqlite3_column_int64(s, 14);
}

static void read_task(sqlite3_stmt *s, struct task *t) {
  task_release(t);
  t->id = col_text(s, 0);
  t->session_id = col_text(s, 1);
  t->group_id = col_text(s, 2);
  t->title = col_text_nn(s, 3);
  t->description = col_text_nn(s, 4);
  char *v = col_text(s, 5);
  t->status = status_parse(v);
  if (t->status < 0)
    t->status = STATUS_PLANNED;
  free(v);
  t->progress = sqlite3_column_int(s, 6);
  v = col_text(s, 7);
  t->priority = priority_parse(v);
  if (t->priority < 0)
    t->priority = PRIORITY_MEDIUM;
  free(v);
  t->specialist = col_text_nn(s, 8);
  t->estimate = col_real(s, 9);
  t->actual = col_real(s, 10);
  t->started_at = col_text(s, 11);
  t->completed_at = col_text(s, 12);
  col_list(s, 13, &t->dependencies);
  col_list(s, 14, &t->deliverables);
  t->current_status = col_text_nn(s, 15);
  t->position = sqlite3_column_double(s, 16);
  t->deleted = sqlite3_column_int(s, 17) != 0;
  t->created_at = col_text(s, 18);
  t->updated_at = col_text(s, 19);
  t->rev = sqlite3_column_int64(s, 20);
  t->created_rev = sqlite3_column_int64(s, 21);
}

static void read_section(sqlite3_stmt *s, struct section *x) {
  section_release(x);
  x->id = sqlite3_column_int64(s, 0);
  char *k = col_text(s, 1);
  x->owner_kind = owner_kind_parse(k);
  free(k);
  x->owner_id = col_text(s, 2);
  x->key = col_text_nn(s, 3);
  x->heading = col_text_nn(s, 4);
  x->body = col_text_nn(s, 5);
  x->position = sqlite3_column_double(s, 6);
  x->deleted = sqlite3_column_int(s, 7) != 0;
  x->rev = sqlite3_column_int64(s, 8);
  x->created_rev = sqlite3_column_int64(s, 9);
}

/* Steps s expecting one row, read by fn into out. */
static int get_one(struct store *st, sqlite3_stmt *s,
                   void (*fn)(sqlite3_stmt *, void *), void *out,
                   const char *what, const char *id) {
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) {
    fn(s, out);
    sqlite3_reset(s);
    return ENG_OK;
  }
  sqlite3_reset(s);
  if (rc == SQLITE_DONE)
    return store_fail(st, ENG_NOTFOUND, "no %s with id '%s'", what, id);
  return store_sqlfail(st, rc);
}

/* Steps s collecting rows of elem bytes each, read by fn, into *out. */
static int get_all(struct store *st, sqlite3_stmt *s,
                   void (*fn)(sqlite3_stmt *, void *), void (*init)(void *),
                   size_t elem, void **out, size_t *n) {
  char *v = NULL;
  size_t len = 0, cap = 0;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    if (len == cap) {
      cap = cap ? cap * 2 : 16;
      v = xrealloc(v, cap * elem);
    }
    init(v + len * elem);
    fn(s, v + len * elem);
    len++;
  }
  sqlite3_reset(s);
  *out = v;
  *n = len;
  if (rc != SQLITE_DONE)
    return store_sqlfail(st, rc);
  return ENG_OK;
}

static void read_session_v(sqlite3_stmt *s, void *p) { read_session(s, p); }
static void read_group_v(sqlite3_stmt *s, void *p) { read_group(s, p); }
static void read_task_v(sqlite3_stmt *s, void *p) { read_task(s, p); }
static void read_section_v(sqlite3_stmt *s, void *p) { read_section(s, p); }
static void init_session_v(void *p) { session_init(p); }
static void init_group_v(void *p) { group_init(p); }
static void init_task_v(void *p) { task_init(p); }
static void init_section_v(void *p) { section_init(p); }

/* ---- sessions ---- */

int store_session_get(struct store *st, const char *id, struct session *out) {
  sqlite3_stmt *s =
      store_stmt(st, STMT_SESSION_GET,
                 "SELECT " SESSION_COLS " FROM sessions WHERE id = ?1");
  if (!s)
    return ENG_DB;
  bind_text(s, 1, id);
  return get_one(st, s, read_session_v, out, "session", id);
}

int store_session_list(struct store *st, bool include_deleted,
                       struct session **out, size_t *n) {
  sqlite3_stmt *s = store_stmt(st, STMT_SESSION_LIST,
                               "SELECT " SESSION_COLS " FROM sessions"
                               " WHERE ?1 OR deleted = 0"
                               " ORDER BY created_rev, id");
  if (!s)
    return ENG_DB;
  sqlite3_bind_int(s, 1, include_deleted);
  return get_all(st, s, read_session_v, init_session_v, sizeof **out,
                 (void **)out, n);
}

void store_sessions_free(struct session *v, size_t n) {
  for (size_t i = 0; i < n; i++)
    session_release(&v[i]);
  free(v);
}

static bool session_exists(struct store *st, const char *id) {
  struct session tmp;
  session_init(&tmp);
  bool found = store_session_get(st, id, &tmp) == ENG_OK;
  session_release(&tmp);
  return found;
}

int store_session_insert(struct store *st, struct session *x) {
  if (!x->id) {
    for (int tries = 0; tries < 16; tries++) {
      unsigned char r[4];
      if (getrandom(r, sizeof r, 0) != sizeof r)
        die("getrandom failed");
      char id[32];
      snprintf(id, sizeof id, "session_%02x%02x%02x%02x", r[0], r[1], r[2],
               r[3]);
      if (!session_exists(st, id)) {
        x->id = xstrdup(id);
        break;
      }
    }
    if (!x->id)
      return store_fail(st, ENG_EXISTS, "could not find a free session id");
  } else if (!id_is_valid(x->id)) {
    return store_fail(st, ENG_INVALID,
                      "session id '%s' is not valid: use letters, digits, "
                      "'_', '-' and '.', not starting with '.'",
                      x->id);
  }
  if (!x->status)
    x->status = xstrdup("active");
  if (!session_status_valid(x->status))
    return store_fail(st, ENG_INVALID,
                      "session status '%s' is not one of active, paused, "
                      "completed, archived",
                      x->status);
  sqlite3_stmt *s = store_stmt(
      st, STMT_SESSION_INSERT,
      "INSERT INTO sessions (id, title, status, mode, description, deleted)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  if (!s)
    return ENG_DB;
  bind_text(s, 1, x->id);
  bind_text(s, 2, x->title ? x->title : "");
  bind_text(s, 3, x->status);
  bind_text(s, 4, x->mode ? x->mode : "");
  bind_text(s, 5, x->description ? x->description : "");
  sqlite3_bind_int(s, 6, x->deleted);
  int rc = store_step_done(st, s);
  if (rc == ENG_EXISTS)
    return store_fail(st, rc, "a session with id '%s' exists", x->id);
  return rc;
}

int store_session_update(struct store *st, const struct session *x) {
  if (!session_status_valid(x->status))
    return store_fail(st, ENG_INVALID,
                      "session status '%s' is not one of active, paused, "
                      "completed, archived",
                      x->status ? x->status : "");
  sqlite3_stmt *s = store_stmt(st, STMT_SESSION_UPDATE,
                               "UPDATE sessions SET title = ?2, status = ?3,"
                               " mode = ?4, description = ?5, deleted = ?6"
                               " WHERE id = ?1");
  if (!s)
    return ENG_DB;
  bind_text(s, 1, x->id);
  bind_text(s, 2, x->title ? x->title : "");
  bind_text(s, 3, x->status);
  bind_text(s, 4, x->mode ? x->mode : "");
  bind_text(s, 5, x->description ? x->description : "");
  sqlite3_bind_int(s, 6, x->deleted);
  int rc = store_step_done(st, s);
  if (rc == ENG_OK && sqlite3_changes(st->db) == 0)
    return store_fail(st, ENG_NOTFOUND, "no session with id '%s'", x->id);
  return rc;
}

/* ---- groups ---- */

int store_group_get(struct store *st, const char *id, struct group *out) {
  sqlite3_stmt *s =
      store_stmt(st, STMT_GROUP_GET,
                 "SELECT " GROUP_COLS " FROM task_groups WHERE id = ?1");
  if (!s)
    return ENG_DB;
  bind_text(s, 1, id);
  return get_one(st, s, read_group_v, out, "group", id);
}

int store_group_find(struct store *st, const char *session_id, const char *name,
                     struct group *out) {
  sqlite3_stmt *s = store_stmt(st, STMT_GROUP_FIND,
                               "SELECT " GROUP_COLS " FROM task_groups"
                               " WHERE session_id = ?1 AND name = ?2"
                               " AND deleted = 0");
  if (!s)
    return ENG_DB;
  bind_text(s, 1, session_id);
  bind_text(s, 2, name);
  int rc = get_one(st, s, read_group_v, out, "group", name);
  if (rc == ENG_NOTFOUND)
    store_fail(st, rc, "no group named '%s' in session %s", name, session_id);
  return rc;
}

int store_group_list(struct store *st, const char *session_id,
                     bool include_deleted, struct group **out, size_t *n) {
  sqlite3_stmt *s = store_stmt(st, STMT_GROUP_LIST,
                               "SELECT " GROUP_COLS " FROM task_groups"
                               " WHERE session_id = ?1"
                               " AND (?2 OR deleted = 0)"
                               " ORDER BY position, id");
  if (!s)
    return ENG_DB;
  bind_text(s, 1, session_id);
  sqlite3_bind_int(s, 2, include_deleted);
  return get_all(st, s, read_group_v, init_group_v, sizeof **out, (void **)out,
                 n);
}

void store_groups_free(struct group *v, size_t n) {
  for (size_t i = 0; i < n; i++)
    group_release(&v[i]);
  free(v);
}

/* The first free "<base><infix>NNN" id of a table. */
static int next_id(struct store *st, int probe_slot, const char *probe_sql,
                   int max_slot, const char *max_sql, const char *base,
                   const char *infix, char **out) {
  char *id = xasprintf("%s%s001", base, infix);
  sqlite3_stmt *s = store_stmt(st, probe_slot, probe_sql);
  if (!s) {
    free(id);
    return ENG_DB;
  }
  bind_text(s, 1, id);
  int rc = sqlite3_step(s);
  sqlite3_reset(s);
  if (rc == SQLITE_DONE) {
    *out = id;
    return ENG_OK;
  }
  free(id);
  if (rc != SQLITE_ROW)
    return store_sqlfail(st, rc);
  s = store_stmt(st, max_slot, max_sql);
  if (!s)
    return ENG_DB;
  char *pattern = xasprintf("%s%s[0-9]*", base, infix);
  bind_text(s, 1, pattern);
  sqlite3_bind_int(s, 2, (int)(strlen(base) + strlen(infix) + 1));
  free(pattern);
  int64_t max = 0;
  rc = sqlite3_step(s);
  if (rc == SQLITE_ROW)
    max = sqlite3_column_int64(s, 0);
  sqlite3_reset(s);
  if (rc != SQLITE_ROW)
    return store_sqlfail(st, rc);
  *out = xasprintf("%s%s%03lld", base, infix, (long long)max + 1);
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

int store_group_insert(struct store *st, struct group *g) {
  int rc;
  if (!g->session_id || !session_exists(st, g->session_id))
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
  if (!g->id) {
    struct buf b = BUF_INIT;
    slug(g->name, 0, &b);
    if (!b.len)
      buf_adds(&b, "group");
    rc = next_id(st, STMT_GROUP_ID_PROBE,
                 "SELECT 1 FROM task_groups WHERE id = ?1", STMT_GROUP_ID_MAX,
                 "SELECT coalesce(max(CAST(substr(id, ?2) AS INTEGER)), 0)"
                 " FROM task_groups WHERE id GLOB ?1",
                 b.ptr, "_group_", &g->id);
    buf_release(&b);
    if (rc)
      return rc;
  } else if (!id_is_valid(g->id)) {
    return store_fail(st, ENG_INVALID, "group id '%s' is not valid", g->id);
  }
  sqlite3_stmt *s = store_stmt(
      st, STMT_GROUP_INSERT,
      "INSERT INTO task_groups (id, session_id, name, title, description,"
      " status, priority, specialist, position, deleted)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8,"
      " coalesce(?9, (SELECT coalesce(max(position), 0) + 1"
      " FROM task_groups WHERE session_id = ?2)), ?10)");
  if (!s)
    return ENG_DB;
  bind_text(s, 1, g->id);
  bind_text(s, 2, g->session_id);
  bind_text(s, 3, g->name);
  bind_text(s, 4, g->title);
  bind_text(s, 5, g->description ? g->description : "");
  bind_text(s, 6, status_name(g->status));
  bind_text(s, 7, priority_name(g->priority));
  bind_text(s, 8, g->specialist ? g->specialist : "");
  if (g->position != 0)
    sqlite3_bind_double(s, 9, g->position);
  sqlite3_bind_int(s, 10, g->deleted);
  rc = store_step_done(st, s);
  if (rc == ENG_EXISTS)
    return store_fail(st, rc,
                      "a group named '%s' (or with id '%s') exists in "
                      "session %s",
                      g->name, g->id, g->session_id);
  return rc;
}

int store_group_update(struct store *st, const struct group *g) {
  int rc = check_group(st, g);
  if (rc)
    return rc;
  sqlite3_stmt *s = store_stmt(
      st, STMT_GROUP_UPDATE,
      "UPDATE task_groups SET name = ?2, title = ?3, description = ?4,"
      " status = ?5, priority = ?6, specialist = ?7, position = ?8,"
      " deleted = ?9 WHERE id = ?1");
  if (!s)
    return ENG_DB;
  bind_text(s, 1, g->id);
  bind_text(s, 2, g->name);
  bind_text(s, 3, g->title);
  bind_text(s, 4, g->description ? g->description : "");
  bind_text(s, 5, status_name(g->status));
  bind_text(s, 6, priority_name(g->priority));
  bind_text(s, 7, g->specialist ? g->specialist : "");
  sqlite3_bind_double(s, 8, g->position);
  sqlite3_bind_int(s, 9, g->deleted);
  rc = store_step_done(st, s);
  if (rc == ENG_EXISTS)
    return store_fail(st, rc, "a group named '%s' exists in session %s",
                      g->name, g->session_id);
  if (rc == ENG_OK && sqlite3_changes(st->db) == 0)
    return store_fail(st, ENG_NOTFOUND, "no group with id '%s'", g->id);
  return rc;
}

/* ---- tasks ---- */

int store_task_get(struct store *st, const char *id, struct task *out) {
  sqlite3_stmt *s = store_stmt(st, STMT_TASK_GET,
                               "SELECT " TASK_COLS " FROM tasks WHERE id = ?1");
  if (!s)
    return ENG_DB;
  bind_text(s, 1, id);
  return get_one(st, s, read_task_v, out, "task", id);
}

bool store_task_exists(struct store *st, const char *id) {
  sqlite3_stmt *s =
      store_stmt(st, STMT_TASK_EXISTS, "SELECT 1 FROM tasks WHERE id = ?1");
  if (!s)
    return false;
  bind_text(s, 1, id);
  bool found = sqlite3_step(s) == SQLITE_ROW;
  sqlite3_reset(s);
  return found;
}

int store_task_list_group(struct store *st, const char *group_id,
                          bool include_deleted, struct task **out, size_t *n) {
  sqlite3_stmt *s = store_stmt(st, STMT_TASK_LIST_GROUP,
                               "SELECT " TASK_COLS " FROM tasks"
                               " WHERE group_id = ?1"
                               " AND (?2 OR deleted = 0)"
                               " ORDER BY position, id");
  if (!s)
    return ENG_DB;
  bind_text(s, 1, group_id);
  sqlite3_bind_int(s, 2, include_deleted);
  return get_all(st, s, read_task_v, init_task_v, sizeof **out, (void **)out,
                 n);
}

int store_task_list(struct store *st, const char *session_id, int status,
                    const char *group_id, bool include_deleted,
                    struct task **out, size_t *n) {
  sqlite3_stmt *s =
      store_stmt(st, STMT_TASK_LIST,
                 "SELECT " TASK_COLS " FROM tasks"
                 " JOIN task_groups g ON g.id = tasks.group_id"
                 " WHERE (?1 IS NULL OR tasks.session_id = ?1)"
                 " AND (?2 IS NULL OR tasks.status = ?2)"
                 " AND (?3 IS NULL OR tasks.group_id = ?3)"
                 " AND (?4 OR (tasks.deleted = 0 AND g.deleted = 0))"
                 " ORDER BY tasks.session_id, g.position, g.id, tasks.position,"
                 " tasks.id");
  if (!s)
    return ENG_DB;
  bind_text(s, 1, session_id);
  bind_text(s, 2, status >= 0 ? status_name(status) : NULL);
  bind_text(s, 3, group_id);
  sqlite3_bind_int(s, 4, include_deleted);
  return get_all(st, s, read_task_v, init_task_v, sizeof **out, (void **)out,
                 n);
}

void store_tasks_free(struct task *v, size_t n) {
  for (size_t i = 0; i < n; i++)
    task_release(&v[i]);
  free(v);
}

int store_task_ids(struct store *st, const char *session_id, int status,
                   char ***ids, size_t *n) {
  sqlite3_stmt *s = store_stmt(
      st, STMT_TASK_IDS,
      "SELECT t.id FROM tasks t JOIN task_groups g ON g.id = t.group_id"
      " WHERE t.session_id = ?1 AND t.status = ?2 AND t.deleted = 0"
      " AND g.deleted = 0 ORDER BY t.id");
  if (!s)
    return ENG_DB;
  bind_text(s, 1, session_id);
  bind_text(s, 2, status_name(status));
  char **v = NULL;
  size_t len = 0, cap = 0;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    XGROW(v, cap, len + 1);
    v[len++] = col_text_nn(s, 0);
  }
  sqlite3_reset(s);
  *ids = v;
  *n = len;
  if (rc != SQLITE_DONE)
    return store_sqlfail(st, rc);
  return ENG_OK;
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
  if ((!isnan(t->estimate) && !(t->estimate <= EFFORT_MAX)) ||
      (!isnan(t->actual) && !(t->actual <= EFFORT_MAX)))
    return store_fail(st, ENG_INVALID, "effort is at most %.0f hours",
                      EFFORT_MAX);
  for (size_t i = 0; i < t->dependencies.n; i++)
    if (strcmp(t->dependencies.v[i], t->id ? t->id : "") == 0)
      return store_fail(st, ENG_INVALID, "task %s cannot depend on itself",
                        t->id);
  return ENG_OK;
}

/* Binds the versioned task fields shared by insert and update (2..17). */
static void bind_task(sqlite3_stmt *s, const struct task *t) {
  bind_text(s, 2, t->group_id);
  bind_text(s, 3, t->title);
  bind_text(s, 4, t->description ? t->description : "");
  bind_text(s, 5, status_name(t->status));
  sqlite3_bind_int(s, 6, t->progress);
  bind_text(s, 7, priority_name(t->priority));
  bind_text(s, 8, t->specialist ? t->specialist : "");
  bind_real(s, 9, t->estimate);
  bind_real(s, 10, t->actual);
  bind_text(s, 11, t->started_at);
  bind_text(s, 12, t->completed_at);
  sqlite3_bind_text(s, 13, strlist_to_json(&t->dependencies), -1, free);
  sqlite3_bind_text(s, 14, strlist_to_json(&t->deliverables), -1, free);
  bind_text(s, 15, t->current_status ? t->current_status : "");
  sqlite3_bind_int(s, 16, t->deleted);
}

int store_task_insert(struct store *st, struct task *t) {
  int rc;
  struct group g;
  group_init(&g);
  if (!t->group_id)
    return store_fail(st, ENG_INVALID, "a task needs a group");
  if ((rc = store_group_get(st, t->group_id, &g)))
    return rc;
  if (!t->session_id)
    t->session_id = xstrdup(g.session_id);
  group_release(&g);
  if ((rc = check_task(st, t)))
    return rc;
  if (!t->id) {
    struct buf b = BUF_INIT;
    slug(t->title, 3, &b);
    if (!b.len)
      buf_adds(&b, "task");
    rc = next_id(st, STMT_TASK_EXISTS, "SELECT 1 FROM tasks WHERE id = ?1",
                 STMT_TASK_ID_MAX,
                 "SELECT coalesce(max(CAST(substr(id, ?2) AS INTEGER)), 0)"
                 " FROM tasks WHERE id GLOB ?1",
                 b.ptr, "_", &t->id);
    buf_release(&b);
    if (rc)
      return rc;
  } else if (!id_is_valid(t->id)) {
    return store_fail(st, ENG_INVALID,
                      "task id '%s' is not valid: use letters, digits, '_', "
                      "'-' and '.', not starting with '.'",
                      t->id);
  }
  sqlite3_stmt *s = store_stmt(
      st, STMT_TASK_INSERT,
      "INSERT INTO tasks (id, group_id, title, description, status, progress,"
      " priority, specialist, estimate, actual, started_at, completed_at,"
      " dependencies, deliverables, current_status, deleted, session_id,"
      " position)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10,"
      " CASE WHEN ?5 IN ('active', 'completed')"
      "  THEN coalesce(?11, "
      "strftime('%Y-%m-%d %H:%M:%f','now')) ELSE ?11 END,"
      " CASE WHEN ?5 = 'completed'"
      "  THEN coalesce(?12, strftime('%Y-%m-%d %H:%M:%f','now')) END,"
      " ?13, ?14, ?15, ?16, ?17,"
      " coalesce(?18, (SELECT coalesce(max(position), 0) + 1 FROM tasks"
      " WHERE group_id = ?2)))");
  if (!s)
    return ENG_DB;
  bind_text(s, 1, t->id);
  bind_task(s, t);
  bind_text(s, 17, t->session_id);
  if (t->position != 0)
    sqlite3_bind_double(s, 18, t->position);
  rc = store_step_done(st, s);
  if (rc == ENG_EXISTS)
    return store_fail(st, rc, "a task with id '%s' exists", t->id);
  return rc;
}

int store_task_update(struct store *st, const struct task *t) {
  int rc = check_task(st, t);
  if (rc)
    return rc;
  sqlite3_stmt *s = store_stmt(
      st, STMT_TASK_UPDATE,
      "UPDATE tasks SET group_id = ?2, title = ?3, description = ?4,"
      " status = ?5, progress = ?6, priority = ?7, specialist = ?8,"
      " estimate = ?9, actual = ?10,"
      " started_at = CASE WHEN ?5 IN ('active', 'completed')"
      "  THEN coalesce(?11, strftime('%Y-%m-%d %H:%M:%f','now')) ELSE ?11 END,"
      " completed_at = CASE WHEN ?5 = 'completed'"
      "  THEN coalesce(?12, strftime('%Y-%m-%d %H:%M:%f','now')) END,"
      " dependencies = ?13, deliverables = ?14, current_status = ?15,"
      " deleted = ?16, position = ?17 WHERE id = ?1");
  if (!s)
    return ENG_DB;
  bind_text(s, 1, t->id);
  bind_task(s, t);
  sqlite3_bind_double(s, 17, t->position);
  rc = store_step_done(st, s);
  if (rc == ENG_OK && sqlite3_changes(st->db) == 0)
    return store_fail(st, ENG_NOTFOUND, "no task with id '%s'", t->id);
  return rc;
}

/* ---- sections ---- */

int store_section_list(struct store *st, int owner_kind, const char *owner_id,
                       bool include_deleted, struct section **out, size_t *n) {
  sqlite3_stmt *s = store_stmt(st, STMT_SECTION_LIST,
                               "SELECT " SECTION_COLS " FROM sections"
                               " WHERE owner_kind = ?1 AND owner_id = ?2"
                               " AND (?3 OR deleted = 0)"
                               " ORDER BY position, id");
  if (!s)
    return ENG_DB;
  bind_text(s, 1, owner_kind_name(owner_kind));
  bind_text(s, 2, owner_id);
  sqlite3_bind_int(s, 3, include_deleted);
  return get_all(st, s, read_section_v, init_section_v, sizeof **out,
                 (void **)out, n);
}

void store_sections_free(struct section *v, size_t n) {
  for (size_t i = 0; i < n; i++)
    section_release(&v[i]);
  free(v);
}

int store_section_get(struct store *st, int owner_kind, const char *owner_id,
                      const char *key, struct section *out) {
  sqlite3_stmt *s = store_stmt(st, STMT_SECTION_GET,
                               "SELECT " SECTION_COLS " FROM sections"
                               " WHERE owner_kind = ?1 AND owner_id = ?2"
                               " AND key = ?3 AND deleted = 0");
  if (!s)
    return ENG_DB;
  bind_text(s, 1, owner_kind_name(owner_kind));
  bind_text(s, 2, owner_id);
  bind_text(s, 3, key);
  return get_one(st, s, read_section_v, out, "section", key);
}

int store_section_list_all(struct store *st, struct section **out, size_t *n) {
  sqlite3_stmt *s =
      store_stmt(st, STMT_SECTION_LIST_ALL,
                 "SELECT " SECTION_COLS " FROM sections ORDER BY id");
  if (!s)
    return ENG_DB;
  return get_all(st, s, read_section_v, init_section_v, sizeof **out,
                 (void **)out, n);
}

int store_section_insert(struct store *st, struct section *x) {
  sqlite3_stmt *s = store_stmt(
      st, STMT_SECTION_INSERT,
      "INSERT INTO sections (id, owner_kind, owner_id, key, heading, body,"
      " position, deleted) VALUES (nullif(?8, 0), ?1, ?2, ?3, ?4, ?5, ?6,"
      " ?7)");
  if (!s)
    return ENG_DB;
  sqlite3_bind_int64(s, 8, x->id);
  bind_text(s, 1, owner_kind_name(x->owner_kind));
  bind_text(s, 2, x->owner_id);
  bind_text(s, 3, x->key);
  bind_text(s, 4, x->heading ? x->heading : "");
  bind_text(s, 5, x->body ? x->body : "");
  sqlite3_bind_double(s, 6, x->position);
  sqlite3_bind_int(s, 7, x->deleted);
  int rc = store_step_done(st, s);
  if (rc == ENG_OK)
    x->id = sqlite3_last_insert_rowid(st->db);
  else if (rc == ENG_EXISTS)
    return store_fail(st, rc, "a section '%s' exists", x->key);
  return rc;
}

int store_section_update(struct store *st, const struct section *x) {
  sqlite3_stmt *s = store_stmt(st, STMT_SECTION_UPDATE,
                               "UPDATE sections SET key = ?2, heading = ?3,"
                               " body = ?4, position = ?5, deleted = ?6"
                               " WHERE id = ?1");
  if (!s)
    return ENG_DB;
  sqlite3_bind_int64(s, 1, x->id);
  bind_text(s, 2, x->key);
  bind_text(s, 3, x->heading ? x->heading : "");
  bind_text(s, 4, x->body ? x->body : "");
  sqlite3_bind_double(s, 5, x->position);
  sqlite3_bind_int(s, 6, x->deleted);
  int rc = store_step_done(st, s);
  if (rc == ENG_OK && sqlite3_changes(st->db) == 0)
    return store_fail(st, ENG_NOTFOUND, "no section %lld", (long long)x->id);
  return rc;
}

/* ---- revisions of files ---- */

int store_owner_revision(struct store *st, int owner_kind, const char *id,
                         const char *section_key, int64_t *rev) {
  sqlite3_stmt *s;
  if (owner_kind == OWNER_SESSION && section_key) {
    s = store_stmt(st, STMT_OWNER_REV_SECTION,
                   "SELECT max(coalesce((SELECT max(rev) FROM sections"
                   " WHERE owner_kind = 'session' AND owner_id = ?1"
                   " AND key = ?2), 0), created_rev)"
                   " FROM sessions WHERE id = ?1");
    if (s)
      bind_text(s, 2, section_key);
  } else if (owner_kind == OWNER_SESSION) {
    /* Every change in a session is in its history: the newest one is the
     * revision of everything the session file shows. */
    s = store_stmt(st, STMT_OWNER_REV_SESSION,
                   "SELECT max(s.rev, coalesce((SELECT max(revision)"
                   " FROM history WHERE session_id = s.id), 0))"
                   " FROM sessions s WHERE s.id = ?1");
  } else if (owner_kind == OWNER_GROUP) {
    s = store_stmt(st, STMT_OWNER_REV_GROUP,
                   "SELECT max(g.rev, g.members_rev,"
                   " coalesce((SELECT max(rev) FROM tasks"
                   " WHERE group_id = g.id), 0),"
                   " coalesce((SELECT max(rev) FROM sections"
                   " WHERE owner_kind = 'group' AND owner_id = g.id), 0))"
                   " FROM task_groups g WHERE g.id = ?1");
  } else {
    s = store_stmt(st, STMT_OWNER_REV_TASK,
                   "SELECT max(t.rev, g.rev,"
                   " coalesce((SELECT max(rev) FROM sections"
                   " WHERE owner_kind = 'task' AND owner_id = t.id), 0))"
                   " FROM tasks t JOIN task_groups g ON g.id = t.group_id"
                   " WHERE t.id = ?1");
  }
  if (!s)
    return ENG_DB;
  bind_text(s, 1, id);
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW)
    *rev = sqlite3_column_int64(s, 0);
  sqlite3_reset(s);
  if (rc == SQLITE_DONE)
    return store_fail(st, ENG_NOTFOUND, "no %s with id '%s'",
                      owner_kind_name(owner_kind), id);
  if (rc != SQLITE_ROW)
    return store_sqlfail(st, rc);
  return ENG_OK;
}

/* ---- aggregates ---- */

int store_group_stats(struct store *st, const char *session_id,
                      struct group_stats **out, size_t *n) {
  sqlite3_stmt *s = store_stmt(
      st, STMT_GROUP_STATS,
      "SELECT g.id,"
      " count(t.id) FILTER (WHERE t.status = 'active'),"
      " count(t.id) FILTER (WHERE t.status = 'blocked'),"
      " count(t.id) FILTER (WHERE t.status = 'planned'),"
      " count(t.id) FILTER (WHERE t.status = 'completed'),"
      " coalesce(sum(t.progress), 0), total(t.estimate), total(t.actual)"
      " FROM task_groups g LEFT JOIN tasks t"
      " ON t.group_id = g.id AND t.deleted = 0"
      " WHERE g.session_id = ?1 AND g.deleted = 0"
      " GROUP BY g.id ORDER BY g.position, g.id");
  if (!s)
    return ENG_DB;
  bind_text(s, 1, session_id);
  struct group_stats *v = NULL;
  size_t len = 0, cap = 0;
  int rc;
  static const int order[STATUS_COUNT] = {STATUS_ACTIVE, STATUS_BLOCKED,
                                          STATUS_PLANNED, STATUS_COMPLETED};
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    XGROW(v, cap, len + 1);
    struct group_stats *g = &v[len++];
    memset(g, 0, sizeof *g);
    g->group_id = col_text(s, 0);
    for (int i = 0; i < STATUS_COUNT; i++)
      g->count[order[i]] = sqlite3_column_int(s, 1 + i);
    g->progress_sum = sqlite3_column_int(s, 5);
    g->estimate = sqlite3_column_double(s, 6);
    g->actual = sqlite3_column_double(s, 7);
  }
  sqlite3_reset(s);
  *out = v;
  *n = len;
  return rc == SQLITE_DONE ? ENG_OK : store_sqlfail(st, rc);
}

void store_group_stats_free(struct group_stats *v, size_t n) {
  for (size_t i = 0; i < n; i++)
    free(v[i].group_id);
  free(v);
}

int store_task_events(struct store *st, const char *session_id, size_t limit,
                      struct task_event **out, size_t *n) {
  sqlite3_stmt *s =
      store_stmt(st, STMT_TASK_EVENTS,
                 "SELECT h.revision, h.at, h.rec, t.title, g.name, h.op,"
                 " CASE h.op WHEN 'insert' THEN t.status ELSE h.new_value END"
                 " FROM history h"
                 " JOIN tasks t ON t.id = h.rec"
                 " JOIN task_groups g ON g.id = t.group_id"
                 " WHERE h.session_id = ?1 AND h.tbl = 'task'"
                 " AND (h.op = 'insert' OR h.field = 'status')"
                 " AND t.deleted = 0"
                 " ORDER BY h.revision DESC, h.id DESC LIMIT ?2");
  if (!s)
    return ENG_DB;
  bind_text(s, 1, session_id);
  sqlite3_bind_int64(s, 2, (int64_t)limit);
  struct task_event *v = NULL;
  size_t len = 0, cap = 0;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    XGROW(v, cap, len + 1);
    struct task_event *e = &v[len++];
    e->rev = sqlite3_column_int64(s, 0);
    e->at = col_text(s, 1);
    e->task_id = col_text(s, 2);
    e->title = col_text_nn(s, 3);
    e->group_name = col_text_nn(s, 4);
    e->op = col_text_nn(s, 5);
    e->status = col_text_nn(s, 6);
  }
  sqlite3_reset(s);
  *out = v;
  *n = len;
  return rc == SQLITE_DONE ? ENG_OK : store_sqlfail(st, rc);
}

void store_task_events_free(struct task_event *v, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free(v[i].at);
    free(v[i].task_id);
    free(v[i].title);
    free(v[i].group_name);
    free(v[i].op);
    free(v[i].status);
  }
  free(v);
}

/* ---- any kind ---- */

static int section_get_id(struct store *st, const char *id,
                          struct section *out) {
  sqlite3_stmt *s = store_stmt(st, STMT_SECTION_GET_ID,
                               "SELECT " SECTION_COLS " FROM sections"
                               " WHERE id = ?1");
  if (!s)
    return ENG_DB;
  sqlite3_bind_int64(s, 1, strtoll(id, NULL, 10));
  return get_one(st, s, read_section_v, out, "section", id);
}

int store_get(struct store *st, int kind, const char *id, void *out) {
  switch (kind) {
  case RK_SESSION:
    return store_session_get(st, id, out);
  case RK_GROUP:
    return store_group_get(st, id, out);
  case RK_TASK:
    return store_task_get(st, id, out);
  case RK_SECTION:
    return section_get_id(st, id, out);
  }
  return store_fail(st, ENG_INVALID, "no record kind %d", kind);
}

int store_update(struct store *st, int kind, const void *rec) {
  switch (kind) {
  case RK_SESSION:
    return store_session_update(st, rec);
  case RK_GROUP:
    return store_group_update(st, rec);
  case RK_TASK:
    return store_task_update(st, rec);
  case RK_SECTION:
    return store_section_update(st, rec);
  }
  return store_fail(st, ENG_INVALID, "no record kind %d", kind);
}
