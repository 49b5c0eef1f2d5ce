/* SPDX-License-Identifier: MIT */
/* sqlite_history.c: the history of changes, records as of an earlier
 * revision, drafts, save memos and backups. */
#include "store.h"
#include "sqlite.h"
#include "util.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define CHANGE_COLS                                                            \
  "revision, at, source, tbl, rec, op, field, old_value, new_value,"           \
  " session_id"

static void read_change(sqlite3_stmt *s, void *elem) {
  struct change *c = elem;
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

int sqlite_changes_since(struct store *st, int64_t rev, const char *session_id,
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
  return sqlite_rows(st, s, sizeof **out, read_change, (void **)out, n);
}

int sqlite_changes_recent(struct store *st, const char *session_id,
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
  return sqlite_rows(st, s, sizeof **out, read_change, (void **)out, n);
}

int sqlite_last_change(struct store *st, const char *table, const char *record,
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

/* ---- drafts ---- */

static void read_draft(sqlite3_stmt *s, void *elem) {
  struct draft *d = elem;
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

int sqlite_draft_get(struct store *st, const char *kind, const char *record,
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

int sqlite_draft_put(struct store *st, const struct draft *d) {
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

int sqlite_draft_delete(struct store *st, const char *kind,
                        const char *record) {
  sqlite3_stmt *s = store_stmt(st, STMT_DRAFT_DELETE,
                               "DELETE FROM drafts WHERE kind = ?1"
                               " AND record = ?2");
  if (!s)
    return ENG_DB;
  bind_text(s, 1, kind);
  bind_text(s, 2, record);
  return store_step_done(st, s);
}

int sqlite_draft_list(struct store *st, const char *session_id,
                      struct draft **out, size_t *n) {
  sqlite3_stmt *s = store_stmt(st, STMT_DRAFT_LIST,
                               "SELECT kind, record, text, diagnostics,"
                               " created_at FROM drafts"
                               " WHERE ?1 IS NULL OR session_id = ?1"
                               " ORDER BY created_at, kind, record");
  if (!s)
    return ENG_DB;
  bind_text(s, 1, session_id);
  return sqlite_rows(st, s, sizeof **out, read_draft, (void **)out, n);
}

/* ---- save memos ---- */

int sqlite_memo_get(struct store *st, const char *kind, const char *record,
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

int sqlite_memo_put(struct store *st, const struct save_memo *m) {
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
      int rc = store_sqlfail(st, sqlite3_extended_errcode(sq_db(st)));
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

int sqlite_backup_add(struct store *st, const char *session_id,
                      const char *kind, const char *record, const char *reason,
                      const char *text, size_t len, int64_t *id) {
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
    *id = sqlite3_last_insert_rowid(sq_db(st));
  return rc;
}
