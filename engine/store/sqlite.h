/* SPDX-License-Identifier: MIT */
/* sqlite.h: what the SQLite backend's source files share: the
 * connection, its cached statements and small SQLite helpers, and the
 * operations of the backend's table. Not for other modules. */
#ifndef TASKFS_STORE_SQLITE_H
#define TASKFS_STORE_SQLITE_H

#include <sqlite3.h>
#include <stdarg.h>

#include "backend.h"
#include "buf.h"
#include "store.h"

/* One slot per cached prepared statement. */
enum stmt_slot {
  STMT_BEGIN,
  STMT_COMMIT,
  STMT_READ_BEGIN,
  STMT_SET_SOURCE,
  STMT_RESET_SOURCE,
  STMT_REVISION,
  STMT_LISTING_MARK,
  STMT_REVISION_TIME,
  STMT_DATA_VERSION,
  STMT_TASK_IDS,
  STMT_OWNER_REV_GROUP,
  STMT_OWNER_REV_TASK,
  STMT_OWNER_REV_SESSION,
  STMT_OWNER_REV_SECTION,
  STMT_CHANGES_SINCE,
  STMT_CHANGES_SINCE_SESSION,
  STMT_CHANGES_RECENT,
  STMT_CHANGES_RECENT_SOURCE,
  STMT_CHANGES_RECENT_ALL,
  STMT_CHANGES_RECENT_ALL_SOURCE,
  STMT_HISTORY_DELETED,
  STMT_HISTORY_GROUP_LEFT,
  STMT_DRAFT_GET,
  STMT_DRAFT_PUT,
  STMT_DRAFT_DELETE,
  STMT_DRAFT_LIST,
  STMT_MEMO_GET,
  STMT_MEMO_PUT,
  STMT_BACKUP_ADD,
  STMT_JSON_APPEND_PAIR,
  STMT_GROUP_STATS,
  STMT_TASK_PLACE,
  STMT_GROUP_REVS,
  STMT_GROUP_STATS_OF,
  STMT_TASK_EVENTS,
  STMT_LAST_CHANGE,
  STMT_BACKUP_VALUE,
  STMT_BACKUP_GET,
  STMT_BACKUP_LIST,
  STMT_CONFLICT_FIND,
  STMT_CONFLICT_INSERT,
  STMT_CONFLICT_UPDATE,
  STMT_CONFLICT_GET,
  STMT_CONFLICT_LIST,
  STMT_CONFLICT_RESOLVE,
  STMT_CONFLICT_NOTE,
  STMT_SYNCOP_ADD,
  STMT_SYNCOP_PRUNE,
  STMT_SYNC_STATS,
  STMT_SYNC_LAST,
  STMT_SYNC_PCT,
  STMT_SYNC_ERRKINDS,
  STMT_SYNC_FAILURES,
  STMT_RESTORE_SESSION_CREATED,
  STMT_RESTORE_GROUP_CREATED,
  STMT_RESTORE_TASK_CREATED,
  STMT_INDEX_SQL,
  /* one slot per record kind or query */
  STMT_GET,
  STMT_INSERT = STMT_GET + RK_COUNT,
  STMT_UPDATE = STMT_INSERT + RK_COUNT,
  STMT_EXISTS = STMT_UPDATE + RK_COUNT,
  STMT_ID_MAX = STMT_EXISTS + RK_COUNT,
  STMT_NEXT_POSITION = STMT_ID_MAX + RK_COUNT,
  STMT_QUERY = STMT_NEXT_POSITION + RK_COUNT,
  STMT_COUNT = STMT_QUERY + SQ_COUNT
};

/* A connection of the SQLite backend. */
struct sqlite_store {
  struct store base;
  sqlite3 *db;
  bool own_commit; /* a commit of this connection since store_poll */
  /* No file of its own to back up: ":memory:", or a backup file read
   * through an upgraded copy in memory (STORE_BACKUP_FILE). */
  bool memory;
  bool backup_file; /* opened with STORE_BACKUP_FILE */
  unsigned data_version;
  sqlite3_stmt *stmts[STMT_COUNT];
  /* The insert of a copy's rows (sqlite_copy.c), of table raw_table. */
  sqlite3_stmt *raw_insert;
  int raw_table;
};

static inline struct sqlite_store *sq(struct store *st) {
  return (struct sqlite_store *)st;
}
static inline sqlite3 *sq_db(struct store *st) { return sq(st)->db; }

/* ENG_INVALID (with a message) when the database file at path is one
 * SQLite cannot keep safe: several hard links, or a network or FUSE file
 * system. ENG_OK otherwise, or when there is no file. */
int store_file_check(struct store *st, const char *path);
/* Maps an SQLite result code to an eng_rc with a message. */
int store_sqlfail(struct store *st, int sqlite_rc);
/* Sets the message of a damaged database (ENG_CORRUPT): problems, what
 * SQLite or PRAGMA quick_check said, then the newest automatic backups and
 * the command that restores one. Returns ENG_CORRUPT. */
int store_fail_damaged(struct store *st, const char *problems);
/* Whether the file at path starts with SQLite's header string: a file
 * that does, but that SQLite cannot read, is a damaged database rather
 * than some other file. */
bool store_file_is_sqlite(const char *path);

/* store_begin() in two steps: BEGIN IMMEDIATE (with the busy retries),
 * then recording this connection's source for the changes that follow.
 * Between them nothing is changed, so a second connection reads the state
 * the transaction starts from (what an automatic backup saves). On failure
 * store_begin_source() rolls back. */
int store_begin_write(struct store *st);
int store_begin_source(struct store *st);
/* The cached statement of slot, reset and unbound; NULL on error. */
sqlite3_stmt *store_stmt(struct store *st, int slot, const char *sql);
int store_exec(struct store *st, const char *sql);
int store_step_done(struct store *st, sqlite3_stmt *s);

void bind_text(sqlite3_stmt *s, int i, const char *v);
void bind_real(sqlite3_stmt *s, int i, double v);
/* Heap copy of a text column, NULL for SQL NULL. */
char *col_text(sqlite3_stmt *s, int i);
/* Heap copy, "" for SQL NULL. */
char *col_text_nn(sqlite3_stmt *s, int i);
/* NAN for SQL NULL. */
double col_real(sqlite3_stmt *s, int i);

/* Reads the current row of s into elem, a zeroed element. */
typedef void sqlite_read_fn(sqlite3_stmt *s, void *elem);
/* Steps s to its end, each row read into a new array (*out, *n) of
 * elements of size bytes; s is reset. */
int sqlite_rows(struct store *st, sqlite3_stmt *s, size_t size,
                sqlite_read_fn *read, void **out, size_t *n);

/* Splits a NUL-separated group_concat column into l (NULL: empty). */
void col_list(sqlite3_stmt *s, int i, struct strlist *l);

/* The operations of the backend's table (store_sqlite_ops), each as its
 * store_ function of store.h or its entry of backend.h says. */
int sqlite_get(struct store *st, int kind, const char *id, void *out);
int sqlite_query(struct store *st, const struct store_query *q, void **out,
                 size_t *n);
int sqlite_insert(struct store *st, int kind, void *rec);
int sqlite_update(struct store *st, int kind, const void *rec);
int sqlite_exists(struct store *st, int kind, const char *id, bool *yes);
int sqlite_id_max(struct store *st, int kind, const char *prefix, int64_t *max);
int sqlite_next_position(struct store *st, int kind, const char *parent,
                         double *pos);
int sqlite_task_ids(struct store *st, const char *session_id, int status,
                    char ***ids, size_t *n);
int sqlite_task_place(struct store *st, const char *id, struct task_place *out);
int sqlite_owner_revision(struct store *st, int owner_kind, const char *id,
                          const char *section_key, int64_t *rev);
int sqlite_group_stats(struct store *st, const char *session_id,
                       struct group_stats **out, size_t *n);
int sqlite_group_revs(struct store *st, const char *session_id,
                      struct group_stats **out, size_t *n);
int sqlite_group_stats_of(struct store *st, const char *group_id,
                          struct group_stats *out);
int sqlite_task_events(struct store *st, const char *session_id, size_t limit,
                       struct task_event **out, size_t *n);
int sqlite_changes_since(struct store *st, int64_t rev, const char *session_id,
                         size_t limit, struct change **out, size_t *n);
int sqlite_changes_recent(struct store *st, const char *session_id,
                          const char *source, size_t limit, struct change **out,
                          size_t *n);
int sqlite_last_change(struct store *st, const char *table, const char *record,
                       const char *field, struct change *out);
int sqlite_draft_get(struct store *st, const char *kind, const char *record,
                     struct draft *out);
int sqlite_draft_put(struct store *st, const struct draft *d);
int sqlite_draft_delete(struct store *st, const char *kind, const char *record);
int sqlite_draft_list(struct store *st, const char *session_id,
                      struct draft **out, size_t *n);
int sqlite_memo_get(struct store *st, const char *kind, const char *record,
                    struct save_memo *out);
int sqlite_memo_put(struct store *st, const struct save_memo *m);
int sqlite_backup_add(struct store *st, const char *session_id,
                      const char *kind, const char *record, const char *reason,
                      const char *text, size_t len, int64_t *id);
int sqlite_backup_value(struct store *st, const char *session_id,
                        const char *target_kind, const char *target_id,
                        const char *field, const char *value,
                        const char *reason, int64_t *id);
int sqlite_backup_get(struct store *st, int64_t id, struct backup *out);
int sqlite_backup_list(struct store *st, const char *session_id,
                       struct backup **out, size_t *n);
int sqlite_conflict_add(struct store *st, struct conflict *c);
int sqlite_conflict_get(struct store *st, int64_t id, struct conflict *out);
int sqlite_conflict_list(struct store *st, const char *session_id,
                         const char *file_kind, const char *file_record,
                         bool open_only, struct conflict **out, size_t *n);
int sqlite_conflict_resolve(struct store *st, int64_t id,
                            const char *resolution);
int sqlite_conflict_note(struct store *st, int64_t id, const char *manual,
                         const char *note);
int sqlite_syncop_add(struct store *st, const struct syncop *op);
int sqlite_syncops_prune(struct store *st, int max_rows, int max_age_days);
int sqlite_sync_stats(struct store *st, const char *session_id,
                      struct sync_stats *out);
int sqlite_sync_last_ns(struct store *st, const char *session_id, int64_t *ns);
int sqlite_sync_error_kinds(struct store *st, const char *session_id,
                            struct strlist *kinds, struct strlist *counts);
int sqlite_sync_failures(struct store *st, const char *session_id, size_t limit,
                         struct sync_failure **out, size_t *n);
int sqlite_check(struct store *st);
int sqlite_dbbackup_write(struct store *st, const char *path, int flags,
                          int64_t *rev);
int sqlite_restore(struct store *st, struct store *from, char **snapshot,
                   struct store_restore_stats *stats);
int sqlite_raw_count(struct store *st, const struct raw_table *t, int64_t *n);
int sqlite_raw_read(struct store *st, const struct raw_table *t,
                    raw_row_fn *row, void *arg);
int sqlite_raw_begin(struct store *st);
int sqlite_raw_insert(struct store *st, const struct raw_table *t,
                      const struct raw_value *row);
int sqlite_raw_set_revision(struct store *st, int64_t rev);
int sqlite_raw_end(struct store *st);

/* Appends the SQL that creates the triggers versioning the rows inserted
 * into each versioned table, "<table>_insert" (sqlite_raw_end puts them
 * back). */
void sqlite_insert_triggers(struct buf *b);

#endif
