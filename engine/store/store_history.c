/* SPDX-License-Identifier: MIT */
/* store_history.c: the history of changes, records as of an earlier
 * revision, drafts, save memos and backups. */
#include "store.h"
#include "store_impl.h"
#include "util.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define CHANGE_COLS                                                            \
  "revision, at, source, tbl, rec, op, field, old_value, new_value,"           \
  " session_id"

static void read_change(sqlite3_stmt *s, struct change *c) {
  c->rev = sqlite3_column_int64(s, 0);
  c->at = col_text(s, 1);
  c->source = col_text(s, 2);
  c->table = col_text(s, 3);
  c->record = col_text(s, 4);
  c->op = col_text(s, 5);
  c->field = col_text(s, 6);
  c->old_value = col_text(s, 7);
  c->new_value = col_text(s, 8);
  c->session_id = col_text(s, 9);
}

static int collect_changes(struct store *st, sqlite3_stmt *s,
                           struct change **out, size_t *n) {
  struct change *v = NULL;
  size_t len = 0, cap = 0;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    XGROW(v, cap, len + 1);
    read_change(s, &v[len++]);
  }
  sqlite3_reset(s);
  *out = v;
  *n = len;
  if (rc != SQLITE_DONE)
    return store_sqlfail(st, rc);
  return ENG_OK;
}

int store_changes_since(struct store *st, int64_t rev, const char *session_id,
                        size_t limit, struct change **out, size_t *n) {
  sqlite3_stmt *s;
  if (session_id) {
    s = store_stmt(st, STMT_CHANGES_SINCE_SESSION,
                   "SELECT " CHANGE_COLS " FROM history"
                   " WHERE session_id = ?1 AND revision > ?2"
                   " ORDER BY revision, id LIMIT ?3");
    if (s)
      bind_text(s, 1, session_id);
  } else {
    s = store_stmt(st, STMT_CHANGES_SINCE,
                   "SELECT " CHANGE_COLS " FROM history"
                   " WHERE revision > ?2 ORDER BY revision, id LIMIT ?3");
  }
  if (!s)
    return ENG_DB;
  sqlite3_bind_int64(s, 2, rev);
  sqlite3_bind_int64(s, 3, limit ? (int64_t)limit : -1);
  return collect_changes(st, s, out, n);
}

int store_changes_recent(struct store *st, const char *session_id,
                         const char *source, size_t limit, struct change **out,
                         size_t *n) {
  /* A statement per filter: one that tested its parameters for NULL
   * would not use the session's index. */
  sqlite3_stmt *s;
  if (session_id && source)
    s = store_stmt(st, STMT_CHANGES_RECENT_SOURCE,
                   "SELECT " CHANGE_COLS " FROM history"
                   " WHERE session_id = ?1 AND source = ?2"
                   " ORDER BY revision DESC, id DESC LIMIT ?3");
  else if (session_id)
    s = store_stmt(st, STMT_CHANGES_RECENT,
                   "SELECT " CHANGE_COLS " FROM history"
                   " WHERE session_id = ?1"
                   " ORDER BY revision DESC, id DESC LIMIT ?3");
  else if (source)
    s = store_stmt(st, STMT_CHANGES_RECENT_ALL_SOURCE,
                   "SELECT " CHANGE_COLS " FROM history WHERE source = ?2"
                   " ORDER BY revision DESC, id DESC LIMIT ?3");
  else
    s = store_stmt(st, STMT_CHANGES_RECENT_ALL,
                   "SELECT " CHANGE_COLS " FROM history"
                   " ORDER BY revision DESC, id DESC LIMIT ?3");
  if (!s)
    return ENG_DB;
  if (session_id)
    bind_text(s, 1, session_id);
  if (source)
    bind_text(s, 2, source);
  sqlite3_bind_int64(s, 3, limit ? (int64_t)limit : -1);
  return collect_changes(st, s, out, n);
}

void store_change_release(struct change *c) {
  free(c->at);
  free(c->source);
  free(c->table);
  free(c->record);
  free(c->op);
  free(c->field);
  free(c->old_value);
  free(c->new_value);
  free(c->session_id);
  memset(c, 0, sizeof *c);
}

int store_last_change(struct store *st, const char *table, const char *record,
                      const char *field, struct change *out) {
  sqlite3_stmt *s = store_stmt(st, STMT_LAST_CHANGE,
                               "SELECT " CHANGE_COLS " FROM history"
                               " WHERE tbl = ?1 AND rec = ?2 AND field = ?3"
                               " ORDER BY revision DESC, id DESC LIMIT 1");
  if (!s)
    return ENG_DB;
  bind_text(s, 1, table);
  bind_text(s, 2, record);
  bind_text(s, 3, field);
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW)
    read_change(s, out);
  sqlite3_reset(s);
  if (rc == SQLITE_DONE)
    return store_fail(st, ENG_NOTFOUND, "no change of %s of %s %s", field,
                      table, record);
  return rc == SQLITE_ROW ? ENG_OK : store_sqlfail(st, rc);
}

void store_changes_free(struct change *v, size_t n) {
  for (size_t i = 0; i < n; i++)
    store_change_release(&v[i]);
  free(v);
}

/* ---- as of a revision ---- */

struct asof {
  struct store *st;
  int64_t rev;
  struct change *ch; /* changes after rev, oldest first */
  size_t n;
  size_t *by_record; /* indexes of ch sorted by table, record, age */
};

static const struct change *sort_base;

static int cmp_by_record(const void *x, const void *y) {
  const struct change *a = &sort_base[*(const size_t *)x];
  const struct change *b = &sort_base[*(const size_t *)y];
  int c = strcmp(a->table, b->table);
  if (!c)
    c = strcmp(a->record, b->record);
  if (!c)
    c = *(const size_t *)x < *(const size_t *)y ? -1 : 1;
  return c;
}

/* The range [*lo, *hi) of a->by_record for one record. */
static void record_range(const struct asof *a, const char *table,
                         const char *record, size_t *lo, size_t *hi) {
  size_t l = 0, h = a->n;
  while (l < h) {
    size_t m = (l + h) / 2;
    const struct change *c = &a->ch[a->by_record[m]];
    int d = strcmp(c->table, table);
    if (!d)
      d = strcmp(c->record, record);
    if (d < 0)
      l = m + 1;
    else
      h = m;
  }
  *lo = l;
  for (h = l; h < a->n; h++) {
    const struct change *c = &a->ch[a->by_record[h]];
    if (strcmp(c->table, table) || strcmp(c->record, record))
      break;
  }
  *hi = h;
}

bool store_asof_touched(const struct asof *a, const char *table,
                        const char *record) {
  size_t lo, hi;
  record_range(a, table, record, &lo, &hi);
  return hi > lo;
}

int store_asof_open(struct store *st, int64_t rev, struct asof **out) {
  struct asof *a = xcalloc(1, sizeof *a);
  a->st = st;
  a->rev = rev;
  int rc = store_changes_since(st, rev, NULL, 0, &a->ch, &a->n);
  if (rc) {
    free(a);
    *out = NULL;
    return rc;
  }
  a->by_record = xmalloc((a->n + 1) * sizeof *a->by_record);
  for (size_t i = 0; i < a->n; i++)
    a->by_record[i] = i;
  /* Not thread-safe (a static for qsort), as the store is not. */
  sort_base = a->ch;
  xsort(a->by_record, a->n, sizeof *a->by_record, cmp_by_record);
  *out = a;
  return ENG_OK;
}

void store_asof_close(struct asof *a) {
  if (!a)
    return;
  store_changes_free(a->ch, a->n);
  free(a->by_record);
  free(a);
}

int64_t store_asof_rev(const struct asof *a) { return a->rev; }

/* Sets the field called field of rec, a record of kind, from its text
 * form; names that are no field of the kind (history rows of columns
 * since dropped) are passed over. */
static void set_field(int kind, void *rec, const char *field, const char *v) {
  int i = record_field_index(kind, field);
  if (i >= 0)
    record_field_set(kind, rec, i, v);
}

/* Sets every key of a JSON object snapshot on rec. */
static int apply_snapshot(struct store *st, const char *json, int kind,
                          void *rec) {
  sqlite3_stmt *s = store_stmt(st, STMT_JSON_EACH,
                               "SELECT key, CASE type WHEN 'null' THEN NULL"
                               " ELSE value END FROM json_each(?1)");
  if (!s)
    return ENG_DB;
  bind_text(s, 1, json);
  /* Rows are copied first: a setter may itself use this statement. */
  struct strlist keys = {0}, vals = {0};
  struct strlist nulls = {0};
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    char *k = col_text_nn(s, 0);
    char *v = col_text(s, 1);
    strlist_add(&keys, k);
    strlist_add(&vals, v ? v : "");
    strlist_add(&nulls, v ? "" : "null");
    free(k);
    free(v);
  }
  sqlite3_reset(s);
  for (size_t i = 0; i < keys.n; i++)
    set_field(kind, rec, keys.v[i], *nulls.v[i] ? NULL : vals.v[i]);
  strlist_clear(&keys);
  strlist_clear(&vals);
  strlist_clear(&nulls);
  return rc == SQLITE_DONE ? ENG_OK : store_sqlfail(st, rc);
}

/*
 * Undoes, newest first, the changes after a->rev of one record on rec,
 * which holds the current row when *present. Leaves *present telling
 * whether the record existed at a->rev.
 */
static int revert(struct asof *a, int kind, const char *record, void *rec,
                  bool *present) {
  const char *table = record_kinds[kind].name;
  size_t lo, hi;
  record_range(a, table, record, &lo, &hi);
  for (size_t i = hi; i-- > lo;) {
    struct change *c = &a->ch[a->by_record[i]];
    if (strcmp(c->op, "update") == 0) {
      if (*present && c->field)
        set_field(kind, rec, c->field, c->old_value);
    } else if (strcmp(c->op, "insert") == 0) {
      *present = false;
    } else if (strcmp(c->op, "delete") == 0) {
      int rc = apply_snapshot(a->st, c->old_value, kind, rec);
      if (rc)
        return rc;
      *present = true;
    }
  }
  return ENG_OK;
}

int store_asof_task(struct asof *a, const char *id, struct task *out) {
  int rc = store_task_get(a->st, id, out);
  bool present = rc == ENG_OK;
  if (rc && rc != ENG_NOTFOUND)
    return rc;
  if (!present) {
    task_release(out);
    str_set(&out->id, id);
  }
  if ((rc = revert(a, RK_TASK, id, out, &present)))
    return rc;
  if (!present)
    return store_fail(a->st, ENG_NOTFOUND, "task %s did not exist at %lld", id,
                      (long long)a->rev);
  return ENG_OK;
}

int store_asof_group(struct asof *a, const char *id, struct group *out) {
  int rc = store_group_get(a->st, id, out);
  bool present = rc == ENG_OK;
  if (rc && rc != ENG_NOTFOUND)
    return rc;
  if (!present) {
    group_release(out);
    str_set(&out->id, id);
  }
  if ((rc = revert(a, RK_GROUP, id, out, &present)))
    return rc;
  if (!present)
    return store_fail(a->st, ENG_NOTFOUND, "group %s did not exist at %lld", id,
                      (long long)a->rev);
  return ENG_OK;
}

int store_asof_session(struct asof *a, const char *id, struct session *out) {
  int rc = store_session_get(a->st, id, out);
  bool present = rc == ENG_OK;
  if (rc && rc != ENG_NOTFOUND)
    return rc;
  if (!present) {
    session_release(out);
    str_set(&out->id, id);
  }
  if ((rc = revert(a, RK_SESSION, id, out, &present)))
    return rc;
  if (!present)
    return store_fail(a->st, ENG_NOTFOUND, "session %s did not exist at %lld",
                      id, (long long)a->rev);
  return ENG_OK;
}

static int cmp_task_pos(const void *x, const void *y) {
  const struct task *a = x, *b = y;
  if (a->position != b->position)
    return a->position < b->position ? -1 : 1;
  return strcmp(a->id, b->id);
}

static bool strlist_has(const struct strlist *l, const char *s) {
  for (size_t i = 0; i < l->n; i++)
    if (strcmp(l->v[i], s) == 0)
      return true;
  return false;
}

int store_asof_group_tasks(struct asof *a, const char *group_id,
                           const struct task *rows, size_t nrows,
                           struct task **out, size_t *n) {
  struct task *own = NULL;
  size_t nown = 0;
  int rc = ENG_OK;
  if (!rows) {
    if ((rc = store_task_list_group(a->st, group_id, true, &own, &nown)))
      return rc;
    rows = own;
    nrows = nown;
  }
  const struct task *cur = rows;
  size_t ncur = nrows;
  struct strlist ids = {0};
  for (size_t i = 0; i < ncur; i++)
    strlist_add(&ids, cur[i].id);
  /* Tasks that left the group, or were deleted by SQL, after rev. */
  struct strlist gone = {0};
  for (size_t i = 0; i < a->n; i++) {
    struct change *c = &a->ch[i];
    if (strcmp(c->table, "task") != 0 || strlist_has(&ids, c->record) ||
        strlist_has(&gone, c->record))
      continue;
    bool was_here =
        (str_eq(c->field, "group_id") && str_eq(c->old_value, group_id)) ||
        (str_eq(c->op, "delete") && c->old_value &&
         strstr(c->old_value, group_id));
    if (was_here)
      strlist_add(&gone, c->record);
  }
  strlist_clear(&ids);
  struct task *v = xcalloc(ncur + gone.n + 1, sizeof *v);
  size_t len = 0;
  /* Rows of the group now: only those changed since are read back. */
  for (size_t i = 0; i < ncur && rc == ENG_OK; i++) {
    task_init(&v[len]);
    bool present = true;
    task_copy(&v[len], &cur[i]);
    rc = revert(a, RK_TASK, cur[i].id, &v[len], &present);
    if (rc == ENG_OK && present && str_eq(v[len].group_id, group_id))
      len++;
    else
      task_release(&v[len]);
  }
  for (size_t i = 0; i < gone.n && rc == ENG_OK; i++) {
    task_init(&v[len]);
    rc = store_asof_task(a, gone.v[i], &v[len]);
    if (rc == ENG_NOTFOUND) {
      rc = ENG_OK;
      task_release(&v[len]);
    } else if (rc == ENG_OK && str_eq(v[len].group_id, group_id)) {
      len++;
    } else {
      task_release(&v[len]);
    }
  }
  store_tasks_free(own, nown);
  strlist_clear(&gone);
  if (rc) {
    store_tasks_free(v, len);
    return rc;
  }
  xsort(v, len, sizeof *v, cmp_task_pos);
  *out = v;
  *n = len;
  return ENG_OK;
}

static int cmp_section_pos(const void *x, const void *y) {
  const struct section *a = x, *b = y;
  if (a->position != b->position)
    return a->position < b->position ? -1 : 1;
  return a->id < b->id ? -1 : a->id > b->id;
}

int store_asof_sections(struct asof *a, int owner_kind, const char *owner_id,
                        struct section **out, size_t *n) {
  struct section *cur = NULL;
  size_t ncur = 0;
  int rc = store_section_list(a->st, owner_kind, owner_id, true, &cur, &ncur);
  if (rc)
    return rc;
  struct section *v = xcalloc(ncur + 1, sizeof *v);
  size_t len = 0;
  for (size_t i = 0; i < ncur; i++) {
    char rec[32];
    snprintf(rec, sizeof rec, "%lld", (long long)cur[i].id);
    bool present = true;
    section_init(&v[len]);
    section_copy(&v[len], &cur[i]);
    rc = revert(a, RK_SECTION, rec, &v[len], &present);
    if (rc) {
      store_sections_free(v, len + 1);
      store_sections_free(cur, ncur);
      return rc;
    }
    if (present && !v[len].deleted)
      len++;
    else
      section_release(&v[len]);
  }
  store_sections_free(cur, ncur);
  xsort(v, len, sizeof *v, cmp_section_pos);
  *out = v;
  *n = len;
  return ENG_OK;
}

/* ---- drafts ---- */

void store_draft_release(struct draft *d) {
  free(d->kind);
  free(d->record);
  free(d->text);
  free(d->diagnostics);
  free(d->created_at);
  memset(d, 0, sizeof *d);
}

void store_drafts_free(struct draft *v, size_t n) {
  for (size_t i = 0; i < n; i++)
    store_draft_release(&v[i]);
  free(v);
}

static void read_draft(sqlite3_stmt *s, struct draft *d) {
  d->kind = col_text(s, 0);
  d->record = col_text(s, 1);
  d->len = (size_t)sqlite3_column_bytes(s, 2);
  const void *p = sqlite3_column_blob(s, 2);
  d->text = xmalloc(d->len + 1);
  if (d->len)
    memcpy(d->text, p, d->len);
  d->text[d->len] = '\0';
  d->diagnostics = col_text_nn(s, 3);
  d->created_at = col_text(s, 4);
}

int store_draft_get(struct store *st, const char *kind, const char *record,
                    struct draft *out) {
  sqlite3_stmt *s = store_stmt(st, STMT_DRAFT_GET,
                               "SELECT kind, record, text, diagnostics,"
                               " created_at FROM drafts"
                               " WHERE kind = ?1 AND record = ?2");
  if (!s)
    return ENG_DB;
  bind_text(s, 1, kind);
  bind_text(s, 2, record);
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW)
    read_draft(s, out);
  sqlite3_reset(s);
  if (rc == SQLITE_DONE)
    return store_fail(st, ENG_NOTFOUND, "no draft for %s %s", kind, record);
  return rc == SQLITE_ROW ? ENG_OK : store_sqlfail(st, rc);
}

int store_draft_put(struct store *st, const struct draft *d) {
  sqlite3_stmt *s = store_stmt(
      st, STMT_DRAFT_PUT,
      "INSERT OR REPLACE INTO drafts (kind, record, session_id, text,"
      " diagnostics, created_at) VALUES (?1, ?2,"
      " CASE ?1 WHEN 'group' THEN (SELECT session_id FROM task_groups"
      " WHERE id = ?2) WHEN 'task' THEN (SELECT session_id FROM tasks"
      " WHERE id = ?2) WHEN 'session' THEN ?2"
      " ELSE substr(?2, 1, instr(?2, '/') - 1) END,"
      " ?3, ?4, strftime('%Y-%m-%d %H:%M:%f','now'))");
  if (!s)
    return ENG_DB;
  bind_text(s, 1, d->kind);
  bind_text(s, 2, d->record);
  sqlite3_bind_blob(s, 3, d->text, (int)d->len, SQLITE_TRANSIENT);
  bind_text(s, 4, d->diagnostics ? d->diagnostics : "");
  return store_step_done(st, s);
}

int store_draft_delete(struct store *st, const char *kind, const char *record) {
  sqlite3_stmt *s = store_stmt(st, STMT_DRAFT_DELETE,
                               "DELETE FROM drafts WHERE kind = ?1"
                               " AND record = ?2");
  if (!s)
    return ENG_DB;
  bind_text(s, 1, kind);
  bind_text(s, 2, record);
  return store_step_done(st, s);
}

int store_draft_list(struct store *st, const char *session_id,
                     struct draft **out, size_t *n) {
  sqlite3_stmt *s = store_stmt(st, STMT_DRAFT_LIST,
                               "SELECT kind, record, text, diagnostics,"
                               " created_at FROM drafts"
                               " WHERE ?1 IS NULL OR session_id = ?1"
                               " ORDER BY created_at, kind, record");
  if (!s)
    return ENG_DB;
  bind_text(s, 1, session_id);
  struct draft *v = NULL;
  size_t len = 0, cap = 0;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    XGROW(v, cap, len + 1);
    memset(&v[len], 0, sizeof v[len]);
    read_draft(s, &v[len++]);
  }
  sqlite3_reset(s);
  *out = v;
  *n = len;
  return rc == SQLITE_DONE ? ENG_OK : store_sqlfail(st, rc);
}

/* ---- save memos ---- */

void store_memo_release(struct save_memo *m) {
  free(m->kind);
  free(m->record);
  strlist_clear(&m->created_titles);
  strlist_clear(&m->created_ids);
  memset(m, 0, sizeof *m);
}

int store_memo_get(struct store *st, const char *kind, const char *record,
                   struct save_memo *out) {
  sqlite3_stmt *s = store_stmt(
      st, STMT_MEMO_GET,
      "SELECT text_rev, applied_rev,"
      " (SELECT group_concat(t, char(0)) FROM (SELECT json_extract(value,"
      " '$[0]') AS t FROM json_each(created) ORDER BY key)),"
      " (SELECT group_concat(i, char(0)) FROM (SELECT json_extract(value,"
      " '$[1]') AS i FROM json_each(created) ORDER BY key)),"
      " json_array_length(created)"
      " FROM save_memos WHERE kind = ?1 AND record = ?2");
  if (!s)
    return ENG_DB;
  bind_text(s, 1, kind);
  bind_text(s, 2, record);
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) {
    out->kind = xstrdup(kind);
    out->record = xstrdup(record);
    out->text_rev = sqlite3_column_int64(s, 0);
    out->applied_rev = sqlite3_column_int64(s, 1);
    if (sqlite3_column_int(s, 4) > 0) {
      col_list(s, 2, &out->created_titles);
      col_list(s, 3, &out->created_ids);
    }
  }
  sqlite3_reset(s);
  if (rc == SQLITE_DONE)
    return store_fail(st, ENG_NOTFOUND, "no save of %s %s", kind, record);
  return rc == SQLITE_ROW ? ENG_OK : store_sqlfail(st, rc);
}

int store_memo_put(struct store *st, const struct save_memo *m) {
  /* created is a JSON array of [title, id] pairs, built by SQLite. */
  char *created = xstrdup("[]");
  for (size_t i = 0; i < m->created_ids.n; i++) {
    sqlite3_stmt *s = store_stmt(st, STMT_JSON_APPEND_PAIR,
                                 "SELECT json_insert(?1, '$[#]',"
                                 " json_array(?2, ?3))");
    if (!s) {
      free(created);
      return ENG_DB;
    }
    bind_text(s, 1, created);
    bind_text(s, 2, m->created_titles.v[i]);
    bind_text(s, 3, m->created_ids.v[i]);
    if (sqlite3_step(s) != SQLITE_ROW) {
      int rc = store_sqlfail(st, sqlite3_extended_errcode(st->db));
      sqlite3_reset(s);
      free(created);
      return rc;
    }
    char *next = col_text(s, 0);
    sqlite3_reset(s);
    free(created);
    created = next;
  }
  sqlite3_stmt *s =
      store_stmt(st, STMT_MEMO_PUT,
                 "INSERT OR REPLACE INTO save_memos (kind, record, text_rev,"
                 " applied_rev, created, saved_at) VALUES (?1, ?2, ?3, ?4, ?5,"
                 " strftime('%Y-%m-%d %H:%M:%f','now'))");
  if (!s) {
    free(created);
    return ENG_DB;
  }
  bind_text(s, 1, m->kind);
  bind_text(s, 2, m->record);
  sqlite3_bind_int64(s, 3, m->text_rev);
  sqlite3_bind_int64(s, 4, m->applied_rev);
  sqlite3_bind_text(s, 5, created, -1, free);
  return store_step_done(st, s);
}

/* ---- backups ---- */

int store_backup_add(struct store *st, const char *session_id, const char *kind,
                     const char *record, const char *reason, const char *text,
                     size_t len, int64_t *id) {
  sqlite3_stmt *s =
      store_stmt(st, STMT_BACKUP_ADD,
                 "INSERT INTO backups (session_id, kind, record, reason, text,"
                 " created_at) VALUES (?1, ?2, ?3, ?4, ?5,"
                 " strftime('%Y-%m-%d %H:%M:%f','now'))");
  if (!s)
    return ENG_DB;
  bind_text(s, 1, session_id);
  bind_text(s, 2, kind);
  bind_text(s, 3, record);
  bind_text(s, 4, reason);
  sqlite3_bind_blob(s, 5, text, (int)len, SQLITE_TRANSIENT);
  int rc = store_step_done(st, s);
  if (rc == ENG_OK && id)
    *id = sqlite3_last_insert_rowid(st->db);
  return rc;
}

/* ---- single fields ---- */

/* The versioned field called field of kind; "text" stands for a
 * section's heading and body together. *i is -1 for "text". */
static int versioned(struct store *st, const char *kind, const char *field,
                     int *k, int *i) {
  *k = record_kind_parse(kind);
  *i = *k < 0 ? -1 : record_field_index(*k, field);
  if (*k == RK_SECTION && str_eq(field, "text"))
    return ENG_OK;
  if (*i < 0 || *i >= record_kinds[*k].nversioned)
    return store_fail(st, ENG_INVALID, "'%s' is not a field of a %s", field,
                      kind);
  return ENG_OK;
}

int store_field_get(struct store *st, const char *kind, const char *id,
                    const char *field, char **out) {
  int k, i, rc;
  *out = NULL;
  if ((rc = versioned(st, kind, field, &k, &i)))
    return rc;
  void *rec = xmalloc(record_kinds[k].size);
  record_init(k, rec);
  if ((rc = store_get(st, k, id, rec)) == ENG_OK) {
    if (i < 0) {
      const struct section *x = rec;
      *out = xasprintf("%s\n%s", x->heading, x->body);
    } else {
      *out = record_field_text(k, rec, i);
    }
  }
  record_release(k, rec);
  free(rec);
  return rc;
}

int store_field_set(struct store *st, const char *kind, const char *id,
                    const char *field, const char *value) {
  int k, i, rc;
  if ((rc = versioned(st, kind, field, &k, &i)))
    return rc;
  void *rec = xmalloc(record_kinds[k].size);
  record_init(k, rec);
  if ((rc = store_get(st, k, id, rec)) == ENG_OK) {
    if (i < 0) {
      /* A section's text: its heading line, then its body. */
      struct section *x = rec;
      const char *v = value ? value : "";
      const char *nl = strchr(v, '\n');
      free(x->heading);
      free(x->body);
      x->heading = nl ? xstrndup(v, (size_t)(nl - v)) : xstrdup(v);
      x->body = xstrdup(nl ? nl + 1 : "");
    } else if (!record_field_set(k, rec, i, value)) {
      rc = store_fail(st, ENG_INVALID, "'%s' is not a value of the %s's %s",
                      value ? value : "null", kind, field);
    }
    if (rc == ENG_OK)
      rc = store_update(st, k, rec);
  }
  record_release(k, rec);
  free(rec);
  return rc;
}
