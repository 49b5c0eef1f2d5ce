/* SPDX-License-Identifier: MIT */
/* sqlite_records.c: the rows of sessions, groups, tasks and sections, read
 * and written field by field from the field table (record_kinds[]), and
 * what files show of them: revisions, overviews, activity. */
#include "sqlite.h"
#include "store.h"
#include "util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Splits a NUL-separated group_concat column into l (NULL: empty). */
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

/* ---- fields and rows ---- */

static const struct record_field *field(int kind, int i) {
  return &record_kinds[kind].fields[i];
}

static void *member(int kind, void *rec, int i) {
  return (char *)rec + field(kind, i)->offset;
}

static const void *cmember(int kind, const void *rec, int i) {
  return (const char *)rec + field(kind, i)->offset;
}

/* A word column (status, priority, owner kind): parsed, or dflt. */
static int col_word(sqlite3_stmt *s, int col, int (*parse)(const char *),
                    int dflt) {
  const char *t = (const char *)sqlite3_column_text(s, col);
  int v = t ? parse(t) : -1;
  return v < 0 ? dflt : v;
}

/* Column col of s into field i of rec. */
static void read_field(sqlite3_stmt *s, int col, int kind, void *rec, int i) {
  void *p = member(kind, rec, i);
  switch (field(kind, i)->type) {
  case FT_TEXT:
  case FT_LINE:
    *(char **)p = col_text_nn(s, col);
    break;
  case FT_OPT:
    *(char **)p = col_text(s, col);
    break;
  case FT_STATUS:
    *(int *)p = col_word(s, col, status_parse, STATUS_PLANNED);
    break;
  case FT_PRIORITY:
    *(int *)p = col_word(s, col, priority_parse, PRIORITY_MEDIUM);
    break;
  case FT_OWNER:
    *(int *)p = col_word(s, col, owner_kind_parse, OWNER_TASK);
    break;
  case FT_INT:
    *(int *)p = sqlite3_column_int(s, col);
    break;
  case FT_REAL:
    *(double *)p = sqlite3_column_double(s, col);
    break;
  case FT_HOURS:
    *(double *)p = col_real(s, col);
    break;
  case FT_BOOL:
    *(bool *)p = sqlite3_column_int(s, col) != 0;
    break;
  case FT_LIST: {
    const char *t = (const char *)sqlite3_column_text(s, col);
    strlist_from_json(t ? t : "[]", p);
    break;
  }
  case FT_INT64:
    *(int64_t *)p = sqlite3_column_int64(s, col);
    break;
  }
}

/* Field i of rec as parameter col of s. */
static void bind_field(sqlite3_stmt *s, int col, int kind, const void *rec,
                       int i) {
  const void *p = cmember(kind, rec, i);
  switch (field(kind, i)->type) {
  case FT_TEXT:
  case FT_LINE: {
    const char *text = *(const char *const *)p;
    bind_text(s, col, text ? text : "");
    break;
  }
  case FT_OPT:
    bind_text(s, col, *(const char *const *)p);
    break;
  case FT_STATUS:
    bind_text(s, col, status_name(*(const int *)p));
    break;
  case FT_PRIORITY:
    bind_text(s, col, priority_name(*(const int *)p));
    break;
  case FT_OWNER:
    bind_text(s, col, owner_kind_name(*(const int *)p));
    break;
  case FT_INT:
    sqlite3_bind_int(s, col, *(const int *)p);
    break;
  case FT_REAL:
    sqlite3_bind_double(s, col, *(const double *)p);
    break;
  case FT_HOURS:
    bind_real(s, col, *(const double *)p);
    break;
  case FT_BOOL:
    sqlite3_bind_int(s, col, *(const bool *)p);
    break;
  case FT_LIST:
    sqlite3_bind_text(s, col, strlist_to_json(p), -1, free);
    break;
  case FT_INT64:
    sqlite3_bind_int64(s, col, *(const int64_t *)p);
    break;
  }
}

/* The key of a record as parameter col: a section's is its row id. */
static void bind_key(sqlite3_stmt *s, int col, int kind, const char *id) {
  if (kind == RK_SECTION)
    sqlite3_bind_int64(s, col, strtoll(id, NULL, 10));
  else
    bind_text(s, col, id);
}

/* "SELECT t.f1, t.f2, ... FROM t" for the fields of kind. */
static void select_cols(struct buf *b, int kind) {
  const struct record_kind_desc *k = &record_kinds[kind];
  buf_adds(b, "SELECT ");
  for (int i = 0; i < k->nfields; i++)
    buf_printf(b, "%s%s.%s", i ? ", " : "", k->table, k->fields[i].name);
  buf_printf(b, " FROM %s", k->table);
}

/* The cached statement of slot, its SQL made by build when it is not yet
 * prepared. */
static sqlite3_stmt *built_stmt(struct store *st, int slot, int arg,
                                void (*build)(struct buf *, int)) {
  if (sq(st)->stmts[slot])
    return store_stmt(st, slot, NULL);
  struct buf sql = BUF_INIT;
  build(&sql, arg);
  sqlite3_stmt *s = store_stmt(st, slot, sql.ptr);
  buf_release(&sql);
  return s;
}

/* Steps s collecting rows of kind into *out. */
static int read_rows(struct store *st, sqlite3_stmt *s, int kind, void **out,
                     size_t *n) {
  size_t elem = record_kinds[kind].size, len = 0, cap = 0;
  char *v = NULL;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    if (len == cap) {
      cap = cap ? cap * 2 : 16;
      v = xrealloc(v, cap * elem);
    }
    void *rec = v + len++ * elem;
    record_init(kind, rec);
    for (int i = 0; i < record_kinds[kind].nfields; i++)
      read_field(s, i, kind, rec, i);
  }
  sqlite3_reset(s);
  *out = v;
  *n = len;
  return rc == SQLITE_DONE ? ENG_OK : store_sqlfail(st, rc);
}

/* ---- records ---- */

static void get_sql(struct buf *b, int kind) {
  select_cols(b, kind);
  buf_printf(b, " WHERE %s.%s = ?1", record_kinds[kind].table,
             record_kinds[kind].fields[record_kinds[kind].key].name);
}

int sqlite_get(struct store *st, int kind, const char *id, void *out) {
  sqlite3_stmt *s = built_stmt(st, STMT_GET + kind, kind, get_sql);
  if (!s)
    return ENG_DB;
  bind_key(s, 1, kind, id);
  void *v;
  size_t n;
  int rc = read_rows(st, s, kind, &v, &n);
  if (rc == ENG_OK && n == 0)
    rc = store_fail(st, ENG_NOTFOUND, "no %s with id '%s'",
                    record_kinds[kind].name, id);
  if (rc == ENG_OK) {
    record_release(kind, out);
    memcpy(out, v, record_kinds[kind].size); /* the row's, moved */
    n = 0;
  }
  store_records_free(kind, v, n);
  return rc;
}

/* The filters of each query; parameters: ?1 session, ?2 group, ?3 owner
 * kind, ?4 owner, ?5 name, ?6 key, ?7 status, ?8 deleted ones too. */
static const char *const query_where[SQ_COUNT] = {
    [SQ_SESSIONS] = " WHERE ?8 OR deleted = 0 ORDER BY created_rev, id",
    [SQ_GROUPS] = " WHERE session_id = ?1 AND (?8 OR deleted = 0)"
                  " ORDER BY position, id",
    [SQ_GROUP_NAMED] = " WHERE session_id = ?1 AND name = ?5"
                       " AND deleted = 0",
    [SQ_TASKS] = " JOIN task_groups g ON g.id = tasks.group_id"
                 " WHERE (?1 IS NULL OR tasks.session_id = ?1)"
                 " AND (?7 IS NULL OR tasks.status = ?7)"
                 " AND (?2 IS NULL OR tasks.group_id = ?2)"
                 " AND (?8 OR (tasks.deleted = 0 AND g.deleted = 0))"
                 " ORDER BY tasks.session_id, g.position, g.id,"
                 " tasks.position, tasks.id",
    [SQ_TASKS_OF_GROUP] = " WHERE group_id = ?2 AND (?8 OR deleted = 0)"
                          " ORDER BY position, id",
    [SQ_SECTIONS] = " WHERE owner_kind = ?3 AND owner_id = ?4"
                    " AND (?8 OR deleted = 0) ORDER BY position, id",
    [SQ_SECTION_KEYED] = " WHERE owner_kind = ?3 AND owner_id = ?4"
                         " AND key = ?6 AND deleted = 0",
    [SQ_SECTIONS_ALL] = " ORDER BY id",
    [SQ_TASK_STATES] = " WHERE group_id = ?2 AND (?8 OR deleted = 0)"
                       " ORDER BY position, id",
};

/* The query's statement: its columns, then its conditions. */
static void query_sql(struct buf *b, int what) {
  store_query_select(b, what);
  buf_adds(b, query_where[what]);
}

int sqlite_query(struct store *st, const struct store_query *q, void **out,
                 size_t *n) {
  sqlite3_stmt *s = built_stmt(st, STMT_QUERY + q->what, q->what, query_sql);
  if (!s)
    return ENG_DB;
  int params = sqlite3_bind_parameter_count(s);
  const char *texts[] = {
      q->session_id, q->group_id, owner_kind_name(q->owner_kind),
      q->owner_id,   q->name,     q->key};
  for (int i = 0; i < 6 && i < params; i++)
    bind_text(s, i + 1, texts[i]);
  if (params >= 7)
    bind_text(s, 7, q->status >= 0 ? status_name(q->status) : NULL);
  if (params >= 8)
    sqlite3_bind_int(s, 8, q->include_deleted);
  return read_rows(st, s, store_query_record_kind(q->what), out, n);
}

/* The fields a new row is given: all but those the store keeps. */
static bool inserted(int kind, int i) {
  return !(field(kind, i)->flags & FIELD_STORE);
}

static void insert_sql(struct buf *b, int kind) {
  const struct record_kind_desc *k = &record_kinds[kind];
  buf_printf(b, "INSERT INTO %s (", k->table);
  int n = 0;
  for (int i = 0; i < k->nfields; i++)
    if (inserted(kind, i))
      buf_printf(b, "%s%s", n++ ? ", " : "", k->fields[i].name);
  buf_adds(b, ") VALUES (");
  n = 0;
  for (int i = 0; i < k->nfields; i++)
    if (inserted(kind, i)) {
      n++;
      /* A section's row id 0: SQLite chooses one. */
      buf_printf(
          b, i == k->key && kind == RK_SECTION ? "%snullif(?%d, 0)" : "%s?%d",
          n > 1 ? ", " : "", i + 1);
    }
  buf_adds(b, ")");
}

int sqlite_insert(struct store *st, int kind, void *rec) {
  sqlite3_stmt *s = built_stmt(st, STMT_INSERT + kind, kind, insert_sql);
  if (!s)
    return ENG_DB;
  for (int i = 0; i < record_kinds[kind].nfields; i++)
    if (inserted(kind, i))
      bind_field(s, i + 1, kind, rec, i);
  int rc = store_step_done(st, s);
  if (rc == ENG_OK && kind == RK_SECTION)
    ((struct section *)rec)->id = sqlite3_last_insert_rowid(sq_db(st));
  return rc;
}

static void update_sql(struct buf *b, int kind) {
  const struct record_kind_desc *k = &record_kinds[kind];
  buf_printf(b, "UPDATE %s SET ", k->table);
  for (int i = 0; i < k->nversioned; i++)
    buf_printf(b, "%s%s = ?%d", i ? ", " : "", k->fields[i].name, i + 1);
  buf_printf(b, " WHERE %s = ?%d", k->fields[k->key].name, k->key + 1);
}

int sqlite_update(struct store *st, int kind, const void *rec) {
  const struct record_kind_desc *k = &record_kinds[kind];
  sqlite3_stmt *s = built_stmt(st, STMT_UPDATE + kind, kind, update_sql);
  if (!s)
    return ENG_DB;
  for (int i = 0; i < k->nversioned; i++)
    bind_field(s, i + 1, kind, rec, i);
  bind_field(s, k->key + 1, kind, rec, k->key);
  int rc = store_step_done(st, s);
  if (rc == ENG_OK && sqlite3_changes(sq_db(st)) == 0) {
    char *id = record_field_text(kind, rec, k->key);
    rc = store_fail(st, ENG_NOTFOUND, "no %s with id '%s'", k->name,
                    id ? id : "");
    free(id);
  }
  return rc;
}

static void exists_sql(struct buf *b, int kind) {
  buf_printf(b, "SELECT 1 FROM %s WHERE %s = ?1", record_kinds[kind].table,
             record_kinds[kind].fields[record_kinds[kind].key].name);
}

int sqlite_exists(struct store *st, int kind, const char *id, bool *yes) {
  sqlite3_stmt *s = built_stmt(st, STMT_EXISTS + kind, kind, exists_sql);
  if (!s)
    return ENG_DB;
  bind_key(s, 1, kind, id);
  int rc = sqlite3_step(s);
  sqlite3_reset(s);
  *yes = rc == SQLITE_ROW;
  return rc == SQLITE_ROW || rc == SQLITE_DONE ? ENG_OK : store_sqlfail(st, rc);
}

static void id_max_sql(struct buf *b, int kind) {
  buf_printf(b,
             "SELECT coalesce(max(CAST(substr(id, ?2) AS INTEGER)), 0)"
             " FROM %s WHERE id GLOB ?1",
             record_kinds[kind].table);
}

int sqlite_id_max(struct store *st, int kind, const char *prefix,
                  int64_t *max) {
  sqlite3_stmt *s = built_stmt(st, STMT_ID_MAX + kind, kind, id_max_sql);
  if (!s)
    return ENG_DB;
  char *pattern = xasprintf("%s[0-9]*", prefix);
  bind_text(s, 1, pattern);
  free(pattern);
  sqlite3_bind_int(s, 2, (int)strlen(prefix) + 1);
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW)
    *max = sqlite3_column_int64(s, 0);
  sqlite3_reset(s);
  return rc == SQLITE_ROW ? ENG_OK : store_sqlfail(st, rc);
}

static void next_position_sql(struct buf *b, int kind) {
  buf_printf(b, "SELECT coalesce(max(position), 0) + 1 FROM %s WHERE %s = ?1",
             record_kinds[kind].table,
             kind == RK_TASK ? "group_id" : "session_id");
}

int sqlite_next_position(struct store *st, int kind, const char *parent,
                         double *pos) {
  sqlite3_stmt *s =
      built_stmt(st, STMT_NEXT_POSITION + kind, kind, next_position_sql);
  if (!s)
    return ENG_DB;
  bind_text(s, 1, parent);
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW)
    *pos = sqlite3_column_double(s, 0);
  sqlite3_reset(s);
  return rc == SQLITE_ROW ? ENG_OK : store_sqlfail(st, rc);
}

/* ---- what files show ---- */

static void read_id(sqlite3_stmt *s, void *elem) {
  *(char **)elem = col_text_nn(s, 0);
}

int sqlite_task_ids(struct store *st, const char *session_id, int status,
                    char ***ids, size_t *n) {
  /* The ids come from the index on (session, status, id) alone: a row's
   * group is read (SQLite seeks the table only when a column of it is
   * used) only when the session has groups to leave out, deleted (soft)
   * or deleted by plain SQL with the foreign keys off, which leaves their
   * tasks behind (the history records each such delete). */
  sqlite3_stmt *s = store_stmt(
      st, STMT_TASK_IDS,
      "SELECT t.id FROM tasks t"
      " WHERE t.session_id = ?1 AND t.status = ?2 AND t.deleted = 0"
      " AND ((NOT EXISTS (SELECT 1 FROM task_groups"
      " WHERE session_id = ?1 AND deleted = 1)"
      " AND NOT EXISTS (SELECT 1 FROM history INDEXED BY history_record"
      " WHERE tbl = 'group' AND op = 'delete' AND session_id = ?1))"
      " OR t.group_id IN (SELECT id FROM task_groups"
      " WHERE session_id = ?1 AND deleted = 0))"
      " ORDER BY t.id");
  if (!s)
    return ENG_DB;
  bind_text(s, 1, session_id);
  bind_text(s, 2, status_name(status));
  return sqlite_rows(st, s, sizeof **ids, read_id, (void **)ids, n);
}

int sqlite_task_place(struct store *st, const char *id,
                      struct task_place *out) {
  sqlite3_stmt *s = store_stmt(st, STMT_TASK_PLACE,
                               "SELECT t.session_id, t.status, t.deleted = 0,"
                               " coalesce(g.deleted = 0, 0) FROM tasks t"
                               " LEFT JOIN task_groups g ON g.id = t.group_id"
                               " WHERE t.id = ?1");
  if (!s)
    return ENG_DB;
  bind_text(s, 1, id);
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) {
    out->session_id = col_text(s, 0);
    out->status = status_parse((const char *)sqlite3_column_text(s, 1));
    out->live = sqlite3_column_int(s, 2) != 0;
    out->group_live = sqlite3_column_int(s, 3) != 0;
  }
  sqlite3_reset(s);
  if (rc == SQLITE_DONE)
    return ENG_NOTFOUND;
  return rc == SQLITE_ROW ? ENG_OK : store_sqlfail(st, rc);
}

/* ---- revisions of files ---- */

int sqlite_owner_revision(struct store *st, int owner_kind, const char *id,
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

/* The counts, progress and sums of a stats row, from column col on. */
static void read_stats(sqlite3_stmt *s, int col, struct group_stats *g) {
  static const int order[STATUS_COUNT] = {STATUS_ACTIVE, STATUS_BLOCKED,
                                          STATUS_PLANNED, STATUS_COMPLETED};
  for (int i = 0; i < STATUS_COUNT; i++)
    g->count[order[i]] = sqlite3_column_int(s, col + i);
  g->progress_sum = sqlite3_column_int(s, col + STATUS_COUNT);
  g->estimate = sqlite3_column_double(s, col + STATUS_COUNT + 1);
  g->actual = sqlite3_column_double(s, col + STATUS_COUNT + 2);
}

static void read_group_stats(sqlite3_stmt *s, void *elem) {
  struct group_stats *g = elem;
  g->group_id = col_text(s, 0);
  read_stats(s, 1, g);
}

static void read_group_rev(sqlite3_stmt *s, void *elem) {
  struct group_stats *g = elem;
  g->group_id = col_text(s, 0);
  g->rev = sqlite3_column_int64(s, 1);
}

int sqlite_group_stats(struct store *st, const char *session_id,
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
  return sqlite_rows(st, s, sizeof **out, read_group_stats, (void **)out, n);
}

int sqlite_group_revs(struct store *st, const char *session_id,
                      struct group_stats **out, size_t *n) {
  sqlite3_stmt *s =
      store_stmt(st, STMT_GROUP_REVS,
                 "SELECT g.id, max(g.members_rev, coalesce((SELECT max(t.rev)"
                 " FROM tasks t WHERE t.group_id = g.id), 0))"
                 " FROM task_groups g WHERE g.session_id = ?1 AND g.deleted = 0"
                 " ORDER BY g.position, g.id");
  if (!s)
    return ENG_DB;
  bind_text(s, 1, session_id);
  return sqlite_rows(st, s, sizeof **out, read_group_rev, (void **)out, n);
}

int sqlite_group_stats_of(struct store *st, const char *group_id,
                          struct group_stats *out) {
  sqlite3_stmt *s =
      store_stmt(st, STMT_GROUP_STATS_OF,
                 "SELECT count(*) FILTER (WHERE status = 'active'),"
                 " count(*) FILTER (WHERE status = 'blocked'),"
                 " count(*) FILTER (WHERE status = 'planned'),"
                 " count(*) FILTER (WHERE status = 'completed'),"
                 " coalesce(sum(progress), 0), total(estimate), total(actual)"
                 " FROM tasks WHERE group_id = ?1 AND deleted = 0");
  if (!s)
    return ENG_DB;
  bind_text(s, 1, group_id);
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW)
    read_stats(s, 0, out);
  sqlite3_reset(s);
  return rc == SQLITE_ROW ? ENG_OK : store_sqlfail(st, rc);
}

static void read_event(sqlite3_stmt *s, void *elem) {
  struct task_event *e = elem;
  e->rev = sqlite3_column_int64(s, 0);
  e->at = col_text(s, 1);
  e->task_id = col_text(s, 2);
  e->title = col_text_nn(s, 3);
  e->group_name = col_text_nn(s, 4);
  e->op = col_text_nn(s, 5);
  e->status = col_text_nn(s, 6);
}

int sqlite_task_events(struct store *st, const char *session_id, size_t limit,
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
  return sqlite_rows(st, s, sizeof **out, read_event, (void **)out, n);
}
