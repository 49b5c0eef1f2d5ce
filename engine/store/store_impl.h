/* SPDX-License-Identifier: MIT */
/* store_impl.h: what the store's source files share: the connection,
 * its cached statements and small SQLite helpers. Not for other modules. */
#ifndef TASKFS_STORE_IMPL_H
#define TASKFS_STORE_IMPL_H

#include <sqlite3.h>
#include <stdarg.h>

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
  STMT_REVISION_TIME,
  STMT_DATA_VERSION,
  STMT_SESSION_GET,
  STMT_SESSION_LIST,
  STMT_SESSION_INSERT,
  STMT_SESSION_UPDATE,
  STMT_GROUP_GET,
  STMT_GROUP_FIND,
  STMT_GROUP_LIST,
  STMT_GROUP_INSERT,
  STMT_GROUP_UPDATE,
  STMT_GROUP_ID_PROBE,
  STMT_GROUP_ID_MAX,
  STMT_TASK_GET,
  STMT_TASK_LIST_GROUP,
  STMT_TASK_LIST,
  STMT_TASK_IDS,
  STMT_TASK_INSERT,
  STMT_TASK_UPDATE,
  STMT_TASK_EXISTS,
  STMT_TASK_ID_MAX,
  STMT_SECTION_LIST,
  STMT_SECTION_GET,
  STMT_SECTION_GET_ID,
  STMT_SECTION_INSERT,
  STMT_SECTION_UPDATE,
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
  STMT_JSON_EACH,
  STMT_GROUP_STATS,
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
  STMT_SYNC_FAILED,
  STMT_SYNC_FAILURES,
  STMT_SECTION_LIST_ALL,
  STMT_RESTORE_SESSION_CREATED,
  STMT_RESTORE_GROUP_CREATED,
  STMT_RESTORE_TASK_CREATED,
  STMT_INDEX_SQL,
  STMT_COUNT
};

struct store {
  sqlite3 *db;
  char *path, *source;
  struct buf err;
  int busy_ms;
  bool readonly, in_write, own_commit;
  /* No file of its own to back up: ":memory:", or a backup file read
   * through an upgraded copy in memory (STORE_BACKUP_FILE). */
  bool memory;
  bool backup_file;     /* opened with STORE_BACKUP_FILE */
  char *upgrade_backup; /* what store_open saved before a migration */
  int read_depth;
  unsigned data_version;
  sqlite3_stmt *stmts[STMT_COUNT];
};

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

/* Splits a NUL-separated group_concat column into l (NULL: empty). */
void col_list(sqlite3_stmt *s, int i, struct strlist *l);

#endif
