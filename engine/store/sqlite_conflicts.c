/* SPDX-License-Identifier: MIT */
/* sqlite_conflicts.c: conflicts that a save could not settle, and the
 * backups kept of everything a save or a resolution overwrote. */
#include "store.h"
#include "sqlite.h"
#include "util.h"

#include <string.h>

#define NOW "strftime('%Y-%m-%d %H:%M:%f','now')"

/* ---- backups ---- */

int sqlite_backup_value(struct store *st, const char *session_id,
                        const char *target_kind, const char *target_id,
                        const char *field, const char *value,
                        const char *reason, int64_t *id) {
  sqlite3_stmt *s = store_stmt(
      st, STMT_BACKUP_VALUE,
      "INSERT INTO backups (session_id, kind, record, reason, text,"
      " created_at, target_kind, target_id, field)"
      " VALUES (?1, ?2, ?3, ?4, coalesce(?5, ''), " NOW ", ?2, ?3, ?6)");
  if (!s)
    return ENG_DB;
  bind_text(s, 1, session_id);
  bind_text(s, 2, target_kind);
  bind_text(s, 3, target_id);
  bind_text(s, 4, reason);
  bind_text(s, 5, value);
  bind_text(s, 6, field);
  int rc = store_step_done(st, s);
  if (rc == ENG_OK && id)
    *id = sqlite3_last_insert_rowid(sq_db(st));
  return rc;
}

#define BACKUP_COLS                                                            \
  "id, session_id, kind, record, reason, created_at, target_kind,"             \
  " target_id, field, text"

static void read_backup(sqlite3_stmt *s, void *elem) {
  struct backup *b = elem;
  memset(b, 0, sizeof *b);
  b->id = sqlite3_column_int64(s, 0);
  b->session_id = col_text(s, 1);
  b->kind = col_text(s, 2);
  b->record = col_text(s, 3);
  b->reason = col_text_nn(s, 4);
  b->created_at = col_text(s, 5);
  b->target_kind = col_text(s, 6);
  b->target_id = col_text(s, 7);
  b->field = col_text(s, 8);
  b->len = (size_t)sqlite3_column_bytes(s, 9);
  b->text = xmalloc(b->len + 1);
  if (b->len)
    memcpy(b->text, sqlite3_column_blob(s, 9), b->len);
  b->text[b->len] = '\0';
}

int sqlite_backup_get(struct store *st, int64_t id, struct backup *out) {
  sqlite3_stmt *s = store_stmt(
      st, STMT_BACKUP_GET, "SELECT " BACKUP_COLS " FROM backups WHERE id = ?1");
  if (!s)
    return ENG_DB;
  sqlite3_bind_int64(s, 1, id);
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW)
    read_backup(s, out);
  sqlite3_reset(s);
  if (rc == SQLITE_DONE)
    return store_fail(st, ENG_NOTFOUND, "no backup %lld", (long long)id);
  return rc == SQLITE_ROW ? ENG_OK : store_sqlfail(st, rc);
}

int sqlite_backup_list(struct store *st, const char *session_id,
                       struct backup **out, size_t *n) {
  sqlite3_stmt *s = store_stmt(st, STMT_BACKUP_LIST,
                               "SELECT " BACKUP_COLS " FROM backups"
                               " WHERE ?1 IS NULL OR session_id = ?1"
                               " ORDER BY id DESC");
  if (!s)
    return ENG_DB;
  bind_text(s, 1, session_id);
  return sqlite_rows(st, s, sizeof **out, read_backup, (void **)out, n);
}

/* ---- conflicts ---- */

#define CONFLICT_COLS                                                          \
  "id, session_id, file_kind, file_record, type, target_kind, target_id,"      \
  " field, label, base_rev, base_value, db_value, file_value, manual_value,"   \
  " db_display, file_display, db_changed_at, db_source, detected_at,"          \
  " status, resolution, resolved_at, manual_task, note"

static void read_conflict(sqlite3_stmt *s, void *elem) {
  struct conflict *c = elem;
  conflict_init(c);
  c->id = sqlite3_column_int64(s, 0);
  c->session_id = col_text(s, 1);
  c->file_kind = col_text(s, 2);
  c->file_record = col_text(s, 3);
  c->type = col_text(s, 4);
  c->target_kind = col_text(s, 5);
  c->target_id = col_text(s, 6);
  c->field = col_text(s, 7);
  c->label = col_text(s, 8);
  c->base_rev = sqlite3_column_int64(s, 9);
  c->base_value = col_text(s, 10);
  c->db_value = col_text(s, 11);
  c->file_value = col_text(s, 12);
  c->manual_value = col_text(s, 13);
  c->db_display = col_text_nn(s, 14);
  c->file_display = col_text_nn(s, 15);
  c->db_changed_at = col_text(s, 16);
  c->db_source = col_text(s, 17);
  c->detected_at = col_text(s, 18);
  c->status = col_text(s, 19);
  c->resolution = col_text(s, 20);
  c->resolved_at = col_text(s, 21);
  c->manual_task = col_text(s, 22);
  c->note = col_text_nn(s, 23);
}

static void bind_conflict_values(sqlite3_stmt *s, const struct conflict *c) {
  bind_text(s, 2, c->type);
  bind_text(s, 3, c->label);
  sqlite3_bind_int64(s, 4, c->base_rev);
  bind_text(s, 5, c->base_value);
  bind_text(s, 6, c->db_value);
  bind_text(s, 7, c->file_value);
  bind_text(s, 8, c->db_display ? c->db_display : "");
  bind_text(s, 9, c->file_display ? c->file_display : "");
  bind_text(s, 10, c->db_changed_at);
  bind_text(s, 11, c->db_source);
  bind_text(s, 12, c->status ? c->status : "open");
  bind_text(s, 13, c->manual_task);
}

int sqlite_conflict_add(struct store *st, struct conflict *c) {
  sqlite3_stmt *s = store_stmt(
      st, STMT_CONFLICT_FIND,
      "SELECT id FROM conflicts WHERE file_kind = ?1 AND file_record = ?2"
      " AND target_kind = ?3 AND target_id = ?4 AND field = ?5"
      " AND status != 'resolved'");
  if (!s)
    return ENG_DB;
  bind_text(s, 1, c->file_kind);
  bind_text(s, 2, c->file_record);
  bind_text(s, 3, c->target_kind);
  bind_text(s, 4, c->target_id);
  bind_text(s, 5, c->field);
  int64_t id = 0;
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW)
    id = sqlite3_column_int64(s, 0);
  sqlite3_reset(s);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return store_sqlfail(st, rc);
  if (id) {
    s = store_stmt(st, STMT_CONFLICT_UPDATE,
                   "UPDATE conflicts SET type = ?2, label = ?3,"
                   " base_rev = ?4, base_value = ?5, db_value = ?6,"
                   " file_value = ?7, db_display = ?8, file_display = ?9,"
                   " db_changed_at = ?10, db_source = ?11, status = ?12,"
                   " manual_task = coalesce(?13, manual_task),"
                   " manual_value = NULL, note = '',"
                   " detected_at = " NOW " WHERE id = ?1");
    if (!s)
      return ENG_DB;
    sqlite3_bind_int64(s, 1, id);
    bind_conflict_values(s, c);
    rc = store_step_done(st, s);
    c->id = id;
    return rc;
  }
  s = store_stmt(
      st, STMT_CONFLICT_INSERT,
      "INSERT INTO conflicts (session_id, type, label, base_rev, base_value,"
      " db_value, file_value, db_display, file_display, db_changed_at,"
      " db_source, status, manual_task, file_kind, file_record,"
      " target_kind, target_id, field, detected_at)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,"
      " ?14, ?15, ?16, ?17, ?18, " NOW ")");
  if (!s)
    return ENG_DB;
  bind_text(s, 1, c->session_id);
  bind_conflict_values(s, c);
  bind_text(s, 14, c->file_kind);
  bind_text(s, 15, c->file_record);
  bind_text(s, 16, c->target_kind);
  bind_text(s, 17, c->target_id);
  bind_text(s, 18, c->field);
  rc = store_step_done(st, s);
  if (rc == ENG_OK)
    c->id = sqlite3_last_insert_rowid(sq_db(st));
  return rc;
}

int sqlite_conflict_get(struct store *st, int64_t id, struct conflict *out) {
  sqlite3_stmt *s =
      store_stmt(st, STMT_CONFLICT_GET,
                 "SELECT " CONFLICT_COLS " FROM conflicts WHERE id = ?1");
  if (!s)
    return ENG_DB;
  sqlite3_bind_int64(s, 1, id);
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW)
    read_conflict(s, out);
  sqlite3_reset(s);
  if (rc == SQLITE_DONE)
    return store_fail(st, ENG_NOTFOUND, "no conflict %lld", (long long)id);
  return rc == SQLITE_ROW ? ENG_OK : store_sqlfail(st, rc);
}

int sqlite_conflict_list(struct store *st, const char *session_id,
                         const char *file_kind, const char *file_record,
                         bool open_only, struct conflict **out, size_t *n) {
  sqlite3_stmt *s =
      store_stmt(st, STMT_CONFLICT_LIST,
                 "SELECT " CONFLICT_COLS " FROM conflicts"
                 " WHERE (?1 IS NULL OR session_id = ?1)"
                 " AND (?2 IS NULL OR (file_kind = ?2 AND file_record = ?3))"
                 " AND (NOT ?4 OR status != 'resolved') ORDER BY id");
  if (!s)
    return ENG_DB;
  bind_text(s, 1, session_id);
  bind_text(s, 2, file_kind);
  bind_text(s, 3, file_record);
  sqlite3_bind_int(s, 4, open_only);
  return sqlite_rows(st, s, sizeof **out, read_conflict, (void **)out, n);
}

int sqlite_conflict_resolve(struct store *st, int64_t id,
                            const char *resolution) {
  sqlite3_stmt *s = store_stmt(st, STMT_CONFLICT_RESOLVE,
                               "UPDATE conflicts SET status = 'resolved',"
                               " resolution = ?2, resolved_at = " NOW
                               " WHERE id = ?1 AND status != 'resolved'");
  if (!s)
    return ENG_DB;
  sqlite3_bind_int64(s, 1, id);
  bind_text(s, 2, resolution);
  int rc = store_step_done(st, s);
  if (rc == ENG_OK && sqlite3_changes(sq_db(st)) == 0)
    return store_fail(st, ENG_NOTFOUND, "no open conflict %lld", (long long)id);
  return rc;
}

int sqlite_conflict_note(struct store *st, int64_t id, const char *manual,
                         const char *note) {
  sqlite3_stmt *s = store_stmt(st, STMT_CONFLICT_NOTE,
                               "UPDATE conflicts SET manual_value = ?2,"
                               " note = ?3 WHERE id = ?1");
  if (!s)
    return ENG_DB;
  sqlite3_bind_int64(s, 1, id);
  bind_text(s, 2, manual);
  bind_text(s, 3, note ? note : "");
  return store_step_done(st, s);
}
