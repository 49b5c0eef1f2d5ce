/* SPDX-License-Identifier: MIT */
/* pg_records.c: the rows of sessions, groups, tasks and sections on
 * PostgreSQL, read and written field by field from the field table
 * (record_kinds[]) in the fields' text forms, and what files show of
 * them: revisions, overviews, activity. */
#include "pg.h"
#include "store.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { OID_BOOL = 16, OID_TEXT = 25 };

/* ---- rows ---- */

/* "SELECT t.f1, t.f2, ... FROM t" for the fields of kind. */
static void select_cols(struct buf *b, int kind) {
  const struct record_kind_desc *k = &record_kinds[kind];
  buf_adds(b, "SELECT ");
  for (int i = 0; i < k->nfields; i++)
    buf_printf(b, "%s%s.%s", i ? ", " : "", k->table, k->fields[i].name);
  buf_printf(b, " FROM %s", k->table);
}

/* The rows of r as records of kind, into *out. */
static void read_rows(const PGresult *r, int kind, void **out, size_t *n) {
  size_t elem = record_kinds[kind].size;
  size_t len = (size_t)PQntuples(r);
  char *v = len ? xmalloc(len * elem) : NULL;
  for (size_t row = 0; row < len; row++) {
    void *rec = v + row * elem;
    record_init(kind, rec);
    for (int i = 0; i < record_kinds[kind].nfields; i++)
      record_field_set(
          kind, rec, i,
          PQgetisnull(r, (int)row, i) ? NULL : PQgetvalue(r, (int)row, i));
  }
  *out = v;
  *n = len;
}

/* Field i of rec as the next parameter, in its text form. */
static void param_field(struct pg_params *p, int kind, const void *rec, int i) {
  char *text = record_field_text(kind, rec, i);
  int type = record_kinds[kind].fields[i].type;
  if (!text && (type == FT_TEXT || type == FT_LINE))
    text = xstrdup("");
  pg_param_take(p, text);
}

/* ---- records ---- */

static const char *key_name(int kind) {
  return record_kinds[kind].fields[record_kinds[kind].key].name;
}

static void get_sql(struct buf *b, int kind) {
  select_cols(b, kind);
  buf_printf(b, " WHERE %s.%s = $1%s", record_kinds[kind].table, key_name(kind),
             kind == RK_SECTION ? "::bigint" : "");
}

/* A section's id is a number: text that is none matches no row. */
static bool key_valid(int kind, const char *id) {
  if (kind != RK_SECTION)
    return true;
  char *end;
  strtoll(id, &end, 10);
  return *id && !*end;
}

int pg_get(struct store *st, int kind, const char *id, void *out) {
  PGresult *r = NULL;
  int rc = ENG_OK;
  if (key_valid(kind, id)) {
    struct pg_params p = {0};
    pg_param_text(&p, id);
    rc = pg_run_built(st, PG_GET + kind, kind, get_sql, &p, &r);
  }
  if (rc)
    return rc;
  if (!r || PQntuples(r) == 0) {
    PQclear(r);
    return store_fail(st, ENG_NOTFOUND, "no %s with id '%s'",
                      record_kinds[kind].name, id);
  }
  void *v;
  size_t n;
  read_rows(r, kind, &v, &n);
  PQclear(r);
  record_release(kind, out);
  memcpy(out, v, record_kinds[kind].size); /* the row's, moved */
  store_records_free(kind, v, 0);
  return ENG_OK;
}

/* The filters of each query; parameters: $1 session, $2 group, $3 owner
 * kind, $4 owner, $5 name, $6 key, $7 status, $8 deleted ones too. */
static const char *const query_where[SQ_COUNT] = {
    [SQ_SESSIONS] = " WHERE $8 OR deleted = 0 ORDER BY created_rev, id",
    [SQ_GROUPS] = " WHERE session_id = $1 AND ($8 OR deleted = 0)"
                  " ORDER BY position, id",
    [SQ_GROUP_NAMED] = " WHERE session_id = $1 AND name = $5"
                       " AND deleted = 0",
    [SQ_TASKS] = " JOIN task_groups g ON g.id = tasks.group_id"
                 " WHERE ($1 IS NULL OR tasks.session_id = $1)"
                 " AND ($7 IS NULL OR tasks.status = $7)"
                 " AND ($2 IS NULL OR tasks.group_id = $2)"
                 " AND ($8 OR (tasks.deleted = 0 AND g.deleted = 0))"
                 " ORDER BY tasks.session_id, g.position, g.id,"
                 " tasks.position, tasks.id",
    [SQ_TASKS_OF_GROUP] = " WHERE group_id = $2 AND ($8 OR deleted = 0)"
                          " ORDER BY position, id",
    [SQ_SECTIONS] = " WHERE owner_kind = $3 AND owner_id = $4"
                    " AND ($8 OR deleted = 0) ORDER BY position, id",
    [SQ_SECTION_KEYED] = " WHERE owner_kind = $3 AND owner_id = $4"
                         " AND key = $6 AND deleted = 0",
    [SQ_SECTIONS_ALL] = " ORDER BY id",
    [SQ_TASK_STATES] = " WHERE group_id = $2 AND ($8 OR deleted = 0)"
                       " ORDER BY position, id",
};

/* The query's statement: its columns, then its conditions. */
static void query_sql(struct buf *b, int what) {
  store_query_select(b, what);
  buf_adds(b, query_where[what]);
}

int pg_query(struct store *st, const struct store_query *q, void **out,
             size_t *n) {
  struct pg_params p = {0};
  const char *texts[] = {
      q->session_id, q->group_id, owner_kind_name(q->owner_kind),
      q->owner_id,   q->name,     q->key};
  for (int i = 0; i < 6; i++)
    pg_param_text(&p, texts[i]);
  pg_param_text(&p, q->status >= 0 ? status_name(q->status) : NULL);
  pg_param_bool(&p, q->include_deleted);
  for (int i = 0; i < 7; i++)
    p.type[i] = OID_TEXT;
  p.type[7] = OID_BOOL;
  PGresult *r;
  int rc = pg_run_built(st, PG_QUERY + q->what, q->what, query_sql, &p, &r);
  if (rc) {
    *out = NULL;
    *n = 0;
    return rc;
  }
  read_rows(r, store_query_record_kind(q->what), out, n);
  PQclear(r);
  return ENG_OK;
}

/* The fields a new row is given: all but those the store keeps. */
static bool inserted(int kind, int i) {
  return !(record_kinds[kind].fields[i].flags & FIELD_STORE);
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
      /* A section's id 0: the sequence chooses one. */
      if (i == k->key && kind == RK_SECTION)
        buf_printf(b,
                   "%scoalesce(nullif($%d::bigint, 0),"
                   " nextval(pg_get_serial_sequence('sections', 'id')))",
                   n > 1 ? ", " : "", n);
      else
        buf_printf(b, "%s$%d", n > 1 ? ", " : "", n);
    }
  buf_printf(b, ") RETURNING %s", k->fields[k->key].name);
}

int pg_insert(struct store *st, int kind, void *rec) {
  struct pg_params p = {0};
  for (int i = 0; i < record_kinds[kind].nfields; i++)
    if (inserted(kind, i))
      param_field(&p, kind, rec, i);
  PGresult *r;
  int rc = pg_run_built(st, PG_INSERT + kind, kind, insert_sql, &p, &r);
  if (rc == ENG_OK && kind == RK_SECTION && PQntuples(r))
    ((struct section *)rec)->id = pg_int(r, 0, 0);
  PQclear(r);
  return rc;
}

static void update_sql(struct buf *b, int kind) {
  const struct record_kind_desc *k = &record_kinds[kind];
  buf_printf(b, "UPDATE %s SET ", k->table);
  for (int i = 0; i < k->nversioned; i++)
    buf_printf(b, "%s%s = $%d", i ? ", " : "", k->fields[i].name, i + 1);
  buf_printf(b, " WHERE %s = $%d", k->fields[k->key].name, k->nversioned + 1);
}

int pg_update(struct store *st, int kind, const void *rec) {
  const struct record_kind_desc *k = &record_kinds[kind];
  struct pg_params p = {0};
  for (int i = 0; i < k->nversioned; i++)
    param_field(&p, kind, rec, i);
  param_field(&p, kind, rec, k->key);
  PGresult *r;
  int rc = pg_run_built(st, PG_UPDATE + kind, kind, update_sql, &p, &r);
  if (rc == ENG_OK && strcmp(PQcmdTuples(r), "0") == 0) {
    char *id = record_field_text(kind, rec, k->key);
    rc = store_fail(st, ENG_NOTFOUND, "no %s with id '%s'", k->name,
                    id ? id : "");
    free(id);
  }
  PQclear(r);
  return rc;
}

static void exists_sql(struct buf *b, int kind) {
  buf_printf(b, "SELECT 1 FROM %s WHERE %s = $1%s", record_kinds[kind].table,
             key_name(kind), kind == RK_SECTION ? "::bigint" : "");
}

int pg_exists(struct store *st, int kind, const char *id, bool *yes) {
  *yes = false;
  if (!key_valid(kind, id))
    return ENG_OK;
  struct pg_params p = {0};
  pg_param_text(&p, id);
  PGresult *r;
  int rc = pg_run_built(st, PG_EXISTS + kind, kind, exists_sql, &p, &r);
  if (rc == ENG_OK)
    *yes = PQntuples(r) > 0;
  PQclear(r);
  return rc;
}

/* The largest n of the ids "<prefix>n": as SQLite's GLOB 'prefix[0-9]*'
 * and CAST, the digits after the prefix (at most 18 of them). */
static void id_max_sql(struct buf *b, int kind) {
  buf_printf(b,
             "SELECT coalesce(max(left(substring(substr(id, $2::int)"
             " FROM '^[0-9]+'), 18)::bigint), 0)"
             " FROM %s WHERE starts_with(id, $1::text)"
             " AND substr(id, $2::int) ~ '^[0-9]'",
             record_kinds[kind].table);
}

int pg_id_max(struct store *st, int kind, const char *prefix, int64_t *max) {
  struct pg_params p = {0};
  pg_param_text(&p, prefix);
  pg_param_int(&p, (int64_t)strlen(prefix) + 1);
  PGresult *r;
  int rc = pg_run_built(st, PG_ID_MAX + kind, kind, id_max_sql, &p, &r);
  if (rc == ENG_OK)
    *max = pg_int(r, 0, 0);
  PQclear(r);
  return rc;
}

static void next_position_sql(struct buf *b, int kind) {
  buf_printf(b, "SELECT coalesce(max(position), 0) + 1 FROM %s WHERE %s = $1",
             record_kinds[kind].table,
             kind == RK_TASK ? "group_id" : "session_id");
}

int pg_next_position(struct store *st, int kind, const char *parent,
                     double *pos) {
  struct pg_params p = {0};
  pg_param_text(&p, parent);
  PGresult *r;
  int rc = pg_run_built(st, PG_NEXT_POSITION + kind, kind, next_position_sql,
                        &p, &r);
  if (rc == ENG_OK)
    *pos = pg_real(r, 0, 0);
  PQclear(r);
  return rc;
}

/* ---- what files show ---- */

static void read_id(const PGresult *r, int row, void *elem) {
  *(char **)elem = pg_text_nn(r, row, 0);
}

int pg_task_ids(struct store *st, const char *session_id, int status,
                char ***ids, size_t *n) {
  struct pg_params p = {0};
  pg_param_text(&p, session_id);
  pg_param_text(&p, status_name(status));
  return pg_select(st, PG_TASK_IDS,
                   "SELECT t.id FROM tasks t JOIN task_groups g"
                   " ON g.id = t.group_id"
                   " WHERE t.session_id = $1 AND t.status = $2"
                   " AND t.deleted = 0 AND g.deleted = 0 ORDER BY t.id",
                   &p, sizeof **ids, read_id, (void **)ids, n);
}

int pg_owner_revision(struct store *st, int owner_kind, const char *id,
                      const char *section_key, int64_t *rev) {
  struct pg_params p = {0};
  pg_param_text(&p, id);
  PGresult *r;
  int rc;
  if (owner_kind == OWNER_SESSION && section_key) {
    pg_param_text(&p, section_key);
    rc = pg_run(st, PG_OWNER_REV_SECTION,
                "SELECT greatest(coalesce((SELECT max(rev) FROM sections"
                " WHERE owner_kind = 'session' AND owner_id = $1"
                " AND key = $2), 0), created_rev)"
                " FROM sessions WHERE id = $1",
                &p, &r);
  } else if (owner_kind == OWNER_SESSION) {
    /* Every change in a session is in its history: the newest one is the
     * revision of everything the session file shows. */
    rc = pg_run(st, PG_OWNER_REV_SESSION,
                "SELECT greatest(s.rev, coalesce((SELECT max(revision)"
                " FROM history WHERE session_id = s.id), 0))"
                " FROM sessions s WHERE s.id = $1",
                &p, &r);
  } else if (owner_kind == OWNER_GROUP) {
    rc = pg_run(st, PG_OWNER_REV_GROUP,
                "SELECT greatest(g.rev, g.members_rev,"
                " coalesce((SELECT max(rev) FROM tasks"
                " WHERE group_id = g.id), 0),"
                " coalesce((SELECT max(rev) FROM sections"
                " WHERE owner_kind = 'group' AND owner_id = g.id), 0))"
                " FROM task_groups g WHERE g.id = $1",
                &p, &r);
  } else {
    rc = pg_run(st, PG_OWNER_REV_TASK,
                "SELECT greatest(t.rev, g.rev,"
                " coalesce((SELECT max(rev) FROM sections"
                " WHERE owner_kind = 'task' AND owner_id = t.id), 0))"
                " FROM tasks t JOIN task_groups g ON g.id = t.group_id"
                " WHERE t.id = $1",
                &p, &r);
  }
  if (rc)
    return rc;
  if (PQntuples(r) == 0) {
    PQclear(r);
    return store_fail(st, ENG_NOTFOUND, "no %s with id '%s'",
                      owner_kind_name(owner_kind), id);
  }
  *rev = pg_int(r, 0, 0);
  PQclear(r);
  return ENG_OK;
}

/* ---- aggregates ---- */

/* The counts, progress and sums of a stats row, from column col on. */
static void read_stats(const PGresult *r, int row, int col,
                       struct group_stats *g) {
  static const int order[STATUS_COUNT] = {STATUS_ACTIVE, STATUS_BLOCKED,
                                          STATUS_PLANNED, STATUS_COMPLETED};
  for (int s = 0; s < STATUS_COUNT; s++)
    g->count[order[s]] = (int)pg_int(r, row, col + s);
  g->progress_sum = (int)pg_int(r, row, col + STATUS_COUNT);
  g->estimate = pg_real(r, row, col + STATUS_COUNT + 1);
  g->actual = pg_real(r, row, col + STATUS_COUNT + 2);
}

static void read_group_stats(const PGresult *r, int row, void *elem) {
  struct group_stats *g = elem;
  g->group_id = pg_text(r, row, 0);
  read_stats(r, row, 1, g);
}

int pg_group_stats(struct store *st, const char *session_id,
                   struct group_stats **out, size_t *n) {
  struct pg_params p = {0};
  pg_param_text(&p, session_id);
  return pg_select(
      st, PG_GROUP_STATS,
      "SELECT g.id,"
      " count(t.id) FILTER (WHERE t.status = 'active'),"
      " count(t.id) FILTER (WHERE t.status = 'blocked'),"
      " count(t.id) FILTER (WHERE t.status = 'planned'),"
      " count(t.id) FILTER (WHERE t.status = 'completed'),"
      " coalesce(sum(t.progress), 0), coalesce(sum(t.estimate), 0),"
      " coalesce(sum(t.actual), 0)"
      " FROM task_groups g LEFT JOIN tasks t"
      " ON t.group_id = g.id AND t.deleted = 0"
      " WHERE g.session_id = $1 AND g.deleted = 0"
      " GROUP BY g.id, g.position ORDER BY g.position, g.id",
      &p, sizeof **out, read_group_stats, (void **)out, n);
}

static void read_task_place(const PGresult *r, int row, void *elem) {
  struct task_place *p = elem;
  p->session_id = pg_text(r, row, 0);
  char *status = pg_text_nn(r, row, 1);
  p->status = status_parse(status);
  free(status);
  p->live = pg_int(r, row, 2) != 0;
  p->group_live = pg_int(r, row, 3) != 0;
}

int pg_task_place(struct store *st, const char *id, struct task_place *out) {
  struct pg_params p = {0};
  pg_param_text(&p, id);
  PGresult *r;
  int rc = pg_run(st, PG_TASK_PLACE,
                  "SELECT t.session_id, t.status, (t.deleted = 0)::int,"
                  " coalesce((g.deleted = 0)::int, 0) FROM tasks t"
                  " LEFT JOIN task_groups g ON g.id = t.group_id"
                  " WHERE t.id = $1",
                  &p, &r);
  return pg_row(rc, r, read_task_place, out);
}

static void read_group_rev(const PGresult *r, int row, void *elem) {
  struct group_stats *g = elem;
  g->group_id = pg_text(r, row, 0);
  g->rev = pg_int(r, row, 1);
}

int pg_group_revs(struct store *st, const char *session_id,
                  struct group_stats **out, size_t *n) {
  struct pg_params p = {0};
  pg_param_text(&p, session_id);
  return pg_select(st, PG_GROUP_REVS,
                   "SELECT g.id, greatest(g.members_rev, coalesce((SELECT"
                   " max(t.rev) FROM tasks t WHERE t.group_id = g.id), 0))"
                   " FROM task_groups g"
                   " WHERE g.session_id = $1 AND g.deleted = 0"
                   " ORDER BY g.position, g.id",
                   &p, sizeof **out, read_group_rev, (void **)out, n);
}

static void read_group_stats_of(const PGresult *r, int row, void *elem) {
  read_stats(r, row, 0, elem);
}

int pg_group_stats_of(struct store *st, const char *group_id,
                      struct group_stats *out) {
  struct pg_params p = {0};
  pg_param_text(&p, group_id);
  PGresult *r;
  int rc = pg_run(st, PG_GROUP_STATS_OF,
                  "SELECT count(*) FILTER (WHERE status = 'active'),"
                  " count(*) FILTER (WHERE status = 'blocked'),"
                  " count(*) FILTER (WHERE status = 'planned'),"
                  " count(*) FILTER (WHERE status = 'completed'),"
                  " coalesce(sum(progress), 0), coalesce(sum(estimate), 0),"
                  " coalesce(sum(actual), 0)"
                  " FROM tasks WHERE group_id = $1 AND deleted = 0",
                  &p, &r);
  return pg_row(rc, r, read_group_stats_of, out);
}

static void read_event(const PGresult *r, int row, void *elem) {
  struct task_event *e = elem;
  e->rev = pg_int(r, row, 0);
  e->at = pg_text(r, row, 1);
  e->task_id = pg_text(r, row, 2);
  e->title = pg_text_nn(r, row, 3);
  e->group_name = pg_text_nn(r, row, 4);
  e->op = pg_text_nn(r, row, 5);
  e->status = pg_text_nn(r, row, 6);
}

int pg_task_events(struct store *st, const char *session_id, size_t limit,
                   struct task_event **out, size_t *n) {
  struct pg_params p = {0};
  pg_param_text(&p, session_id);
  pg_param_int(&p, (int64_t)limit);
  return pg_select(st, PG_TASK_EVENTS,
                   "SELECT h.revision, h.at, h.rec, t.title, g.name, h.op,"
                   " CASE h.op WHEN 'insert' THEN t.status ELSE h.new_value"
                   " END FROM history h"
                   " JOIN tasks t ON t.id = h.rec"
                   " JOIN task_groups g ON g.id = t.group_id"
                   " WHERE h.session_id = $1 AND h.tbl = 'task'"
                   " AND (h.op = 'insert' OR h.field = 'status')"
                   " AND t.deleted = 0"
                   " ORDER BY h.revision DESC, h.id DESC LIMIT $2",
                   &p, sizeof **out, read_event, (void **)out, n);
}
