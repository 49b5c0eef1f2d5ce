/* SPDX-License-Identifier: MIT */
/* store.h: the task database behind a narrow interface. Render, parse
 * and merge see records, never rows; the SQL is in the backends behind
 * the table of operations of backend.h (SQLite: sqlite*.c).
 *
 * A store is one connection. It is not thread-safe: callers serialise
 * access (the filesystem holds its lock around every call).
 *
 * Every change to a session, group, task or section, by this program or
 * any other (a plain sqlite3 UPDATE included), bumps one monotonic
 * revision and is kept in a history table by triggers, so the state of
 * any record as of an earlier revision can be read back (store_asof_*).
 *
 * Unless stated otherwise a function returns an enum eng_rc; on failure
 * store_errmsg() describes it until the next call. Records filled by a
 * getter are caller-owned: release them with their _release function.
 */
#ifndef TASKFS_STORE_H
#define TASKFS_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "model.h"

struct store;

enum store_flags {
  STORE_CREATE = 1, /* create the file and its schema if missing */
  /* Never write; fails with ENG_READONLY if asked to. A database on a
   * file system that cannot be written at all is read as immutable: it
   * then does not see changes made to the file by other means. */
  STORE_READONLY = 2,
  /*
   * A backup file to restore from (implies STORE_READONLY): it must pass
   * PRAGMA quick_check (ENG_CORRUPT otherwise) and be a taskfs database
   * (ENG_SCHEMA otherwise, also when it is newer than this build). One
   * with an older schema is copied into memory and upgraded there; the
   * file itself is never changed.
   */
  STORE_BACKUP_FILE = 4,
};

/* The schema version this build writes (PRAGMA user_version). */
#define STORE_SCHEMA_VERSION 3

/*
 * Opens (and with STORE_CREATE creates or migrates) the database at path;
 * ":memory:" gives a private in-memory database. *out is set even on
 * failure so that the caller can read store_errmsg(); close it with
 * store_close() either way. Fails with ENG_NOTFOUND when the file is
 * missing and STORE_CREATE is not given, ENG_SCHEMA when it is not a
 * taskfs database (or not an SQLite file at all) or is newer than this
 * build, ENG_CORRUPT when it is an SQLite file that SQLite cannot read
 * (the message names the automatic backups, as store_check's does),
 * ENG_BUSY when it stays locked.
 *
 * Before it upgrades the schema of an existing database (user_version
 * above 0 and below STORE_SCHEMA_VERSION) it saves the file as it is as
 * an automatic backup (store_dbbackup_auto, reason
 * "before-schema-<from>-to-<to>"), holding the write lock so that the
 * backup is exactly what is upgraded; when that fails nothing is upgraded
 * and store_open fails with that backup's result (ENG_FULL, ENG_READONLY,
 * ...). A new database needs no backup.
 */
int store_open(const char *path, int flags, struct store **out);
/* The automatic backup that store_open made before upgrading the schema,
 * or NULL; valid until store_close. */
const char *store_upgrade_backup(const struct store *st);
void store_close(struct store *st);
/* The version of the SQLite library in use. */
const char *store_sqlite_version(void);
/* Whether target names a database file (SQLite), rather than a server's
 * database (a postgresql:// URI, a libpq service). */
bool store_is_file(const char *target);
/* target as messages show it: a server's target without its password
 * (as store_path() of a store opened on it), a file as given. The caller
 * frees the result with free(). */
char *store_target_shown(const char *target);
/* Writes every server target with a password among the arguments (as
 * the argument, or the value of a "--option=") over with what
 * store_target_shown gives of it, as far as it fits, so that ps and
 * /proc/PID/cmdline never show the password; argv[i] then points to a
 * copy of the argument as given, for the program to parse. */
void store_hide_passwords(int argc, char **argv);
/* The backend of st: "sqlite". */
const char *store_backend(const struct store *st);
const char *store_errmsg(const struct store *st);
/* Sets the message store_errmsg() returns, for engine modules that report
 * through the store, and returns rc. */
int store_fail(struct store *st, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
const char *store_path(const struct store *st);

/* How long a busy database is retried, in total, before ENG_BUSY. */
void store_set_busy_ms(struct store *st, int ms);
/* The name recorded as the source of this connection's changes in the
 * history ("taskfs", "taskctl"; other programs appear as "sql"). Copied. */
void store_set_source(struct store *st, const char *source);

/*
 * Transactions. store_begin() starts a write transaction (retrying a busy
 * database with exponential backoff up to the bound); store_commit() ends
 * it; store_rollback() undoes it whole. Writers outside a transaction run
 * in their own. store_read_begin()/store_read_end() bracket reads that must
 * see one consistent snapshot; they nest, and do nothing inside a write
 * transaction.
 */
int store_begin(struct store *st);
int store_commit(struct store *st);
void store_rollback(struct store *st);
int store_read_begin(struct store *st);
void store_read_end(struct store *st);
bool store_in_transaction(const struct store *st);

/* True when the database file was deleted, renamed or replaced since it
 * was opened (the connection still reads the old one). */
bool store_moved(struct store *st);
/* The schema version the file has now; ENG_SCHEMA in *newer when it is
 * newer than this build's (another taskfs upgraded it). */
int store_schema_check(struct store *st, bool *newer);

/* The current revision; 0 on a fresh database or on error. */
int64_t store_revision(struct store *st);
/* True when the database changed (a commit by this or another connection)
 * since the previous call. Cheap: reads no table. */
bool store_poll(struct store *st);
/* A descriptor that becomes readable when another program may have
 * committed (the connection's socket, on which the server sends its
 * notifications), to wait on with poll(2) between calls of store_poll;
 * -1 when the backend sends none and is to be polled on a timer. */
int store_notify_fd(struct store *st);

/* The time of revision rev in nanoseconds since the epoch, 0 if unknown. */
int64_t store_revision_time(struct store *st, int64_t rev);

/* ---- records of any kind (enum record_kind); rec points to its struct;
 *      a section's id is its row id in decimal ----
 *
 * The rules of each kind hold on every backend: a session's status is one
 * of session_statuses; a group has a title and a name that can be a file
 * name, unique among the session's live groups; a task has a group (its
 * session is the group's), a one-line title, progress 0-100, efforts of 0
 * to EFFORT_MAX hours and no dependency on itself. Ids are letters,
 * digits, '_', '-' and '.', not starting with '.'. ENG_INVALID (with what
 * to do) otherwise.
 */
int store_get(struct store *st, int kind, const char *id, void *out);
/*
 * Inserts rec. A NULL id gets a generated one, stored back into rec: a
 * session "session_" and eight hex digits, a group "<slug of the name>
 * _group_NNN", a task "<slug of the title>_NNN" (the first free number);
 * a section 0 gets the backend's next row id. A group without a name
 * gets one from its title (and a title from its name); a task without a
 * session gets its group's. A position of 0 puts a group or task after
 * the others. A task inserted as active or completed gets its
 * started_at (and completed_at) time.
 */
int store_insert(struct store *st, int kind, void *rec);
/*
 * Writes every versioned field of rec to the row with rec's id. A task
 * keeps the times its status implies: started_at is set when it first
 * becomes active or completed, completed_at when it becomes completed
 * and cleared when it leaves that status.
 */
int store_update(struct store *st, int kind, const void *rec);
/* *yes: whether a live or deleted record of kind with this id exists.
 * A failure of the store is returned, never taken for "no". */
int store_exists(struct store *st, int kind, const char *id, bool *yes);

/* What store_query() lists. Orders: sessions by creation; groups by
 * position, then id; tasks of a session by group position, group id,
 * position, id (only tasks of live groups unless include_deleted);
 * sections by position, then id, or by id for SQ_SECTIONS_ALL. */
enum store_query_kind {
  SQ_SESSIONS,       /* every session */
  SQ_GROUPS,         /* the groups of session_id */
  SQ_GROUP_NAMED,    /* the live group of session_id called name */
  SQ_TASKS,          /* tasks; any of session_id, group_id and status */
  SQ_TASKS_OF_GROUP, /* the tasks of group_id */
  SQ_SECTIONS,       /* the sections of owner_kind, owner_id */
  SQ_SECTION_KEYED,  /* the live section of the owner with this key */
  SQ_SECTIONS_ALL,   /* every section, deleted ones included */
  SQ_TASK_STATES,    /* the tasks of group_id, as SQ_TASKS_OF_GROUP, with
                        only the fields store_query_reads names */
  SQ_COUNT
};
struct store_query {
  int what; /* enum store_query_kind */
  const char *session_id, *group_id, *owner_id, *name, *key;
  int owner_kind;       /* enum owner_kind */
  int status;           /* tasks of one status; -1 for all */
  bool include_deleted; /* deleted records too (live ones only: false) */
};
/* The record kind a query lists. */
int store_query_record_kind(int what);
/* Whether a query reads field i of its kind; the others are left empty
 * (NULL, "", 0, NAN). SQ_TASK_STATES reads what places a task in its
 * group file and names its state: id, group, session, status, estimate,
 * actual, position, deleted, revision and time of change. */
bool store_query_reads(int what, int i);
/* The records q names into *out, a malloc'd array of *n structs of its
 * kind; free with store_records_free. */
int store_query(struct store *st, const struct store_query *q, void **out,
                size_t *n);
/* The one record q names (SQ_GROUP_NAMED, SQ_SECTION_KEYED): ENG_NOTFOUND
 * when there is none. */
int store_query_one(struct store *st, const struct store_query *q, void *out);
void store_records_free(int kind, void *v, size_t n);

/* ---- the kinds by name ---- */
static inline int store_session_get(struct store *st, const char *id,
                                    struct session *out) {
  return store_get(st, RK_SESSION, id, out);
}
static inline int store_session_list(struct store *st, bool include_deleted,
                                     struct session **out, size_t *n) {
  struct store_query q = {.what = SQ_SESSIONS,
                          .include_deleted = include_deleted};
  return store_query(st, &q, (void **)out, n);
}
static inline void store_sessions_free(struct session *v, size_t n) {
  store_records_free(RK_SESSION, v, n);
}
static inline int store_session_insert(struct store *st, struct session *s) {
  return store_insert(st, RK_SESSION, s);
}
static inline int store_session_update(struct store *st,
                                       const struct session *s) {
  return store_update(st, RK_SESSION, s);
}

static inline int store_group_get(struct store *st, const char *id,
                                  struct group *out) {
  return store_get(st, RK_GROUP, id, out);
}
/* The live (not deleted) group of session with this file name. */
static inline int store_group_find(struct store *st, const char *session_id,
                                   const char *name, struct group *out) {
  struct store_query q = {
      .what = SQ_GROUP_NAMED, .session_id = session_id, .name = name};
  return store_query_one(st, &q, out);
}
static inline int store_group_list(struct store *st, const char *session_id,
                                   bool include_deleted, struct group **out,
                                   size_t *n) {
  struct store_query q = {.what = SQ_GROUPS,
                          .session_id = session_id,
                          .include_deleted = include_deleted};
  return store_query(st, &q, (void **)out, n);
}
static inline void store_groups_free(struct group *v, size_t n) {
  store_records_free(RK_GROUP, v, n);
}
static inline int store_group_insert(struct store *st, struct group *g) {
  return store_insert(st, RK_GROUP, g);
}
static inline int store_group_update(struct store *st, const struct group *g) {
  return store_update(st, RK_GROUP, g);
}

static inline int store_task_get(struct store *st, const char *id,
                                 struct task *out) {
  return store_get(st, RK_TASK, id, out);
}
static inline int store_task_list_group(struct store *st, const char *group_id,
                                        bool include_deleted, struct task **out,
                                        size_t *n) {
  struct store_query q = {.what = SQ_TASKS_OF_GROUP,
                          .group_id = group_id,
                          .include_deleted = include_deleted};
  return store_query(st, &q, (void **)out, n);
}
/* Tasks of a session (NULL: of all; optionally of one status, -1 for
 * all; optionally of one group, NULL for all). */
static inline int store_task_list(struct store *st, const char *session_id,
                                  int status, const char *group_id,
                                  bool include_deleted, struct task **out,
                                  size_t *n) {
  struct store_query q = {.what = SQ_TASKS,
                          .session_id = session_id,
                          .group_id = group_id,
                          .status = status,
                          .include_deleted = include_deleted};
  return store_query(st, &q, (void **)out, n);
}
static inline void store_tasks_free(struct task *v, size_t n) {
  store_records_free(RK_TASK, v, n);
}
static inline int store_task_insert(struct store *st, struct task *t) {
  return store_insert(st, RK_TASK, t);
}
static inline int store_task_update(struct store *st, const struct task *t) {
  return store_update(st, RK_TASK, t);
}
static inline int store_task_exists(struct store *st, const char *id,
                                    bool *yes) {
  return store_exists(st, RK_TASK, id, yes);
}
/* Ids of the live tasks of a session with a status, sorted by id; the
 * caller frees each string and the array. Cheaper than store_task_list. */
int store_task_ids(struct store *st, const char *session_id, int status,
                   char ***ids, size_t *n);
/* Where a task shows: its session, its status, and whether it and its
 * group are live; ENG_NOTFOUND when there is no such task. One indexed
 * look-up, none of its text read. */
struct task_place {
  char *session_id;
  int status;
  bool live;       /* the task is not deleted */
  bool group_live; /* its group exists and is not deleted */
};
int store_task_place(struct store *st, const char *id, struct task_place *out);
void store_task_place_release(struct task_place *p);

static inline int store_section_list(struct store *st, int owner_kind,
                                     const char *owner_id, bool include_deleted,
                                     struct section **out, size_t *n) {
  struct store_query q = {.what = SQ_SECTIONS,
                          .owner_kind = owner_kind,
                          .owner_id = owner_id,
                          .include_deleted = include_deleted};
  return store_query(st, &q, (void **)out, n);
}
static inline void store_sections_free(struct section *v, size_t n) {
  store_records_free(RK_SECTION, v, n);
}
static inline int store_section_get(struct store *st, int owner_kind,
                                    const char *owner_id, const char *key,
                                    struct section *out) {
  struct store_query q = {.what = SQ_SECTION_KEYED,
                          .owner_kind = owner_kind,
                          .owner_id = owner_id,
                          .key = key};
  return store_query_one(st, &q, out);
}
static inline int store_section_list_all(struct store *st, struct section **out,
                                         size_t *n) {
  struct store_query q = {.what = SQ_SECTIONS_ALL};
  return store_query(st, &q, (void **)out, n);
}
static inline int store_section_insert(struct store *st, struct section *x) {
  return store_insert(st, RK_SECTION, x);
}
static inline int store_section_update(struct store *st,
                                       const struct section *x) {
  return store_update(st, RK_SECTION, x);
}

/* ---- revisions of a file's records ---- */
/*
 * The revision and time of the last change to anything a file of this
 * owner shows. For a group: the group, its tasks (including tasks that
 * left it) and its sections. For a task: the task, its group and its
 * sections. For a session: every record of the session. A section key
 * narrows a session to that one section (the notes files).
 */
int store_owner_revision(struct store *st, int owner_kind, const char *id,
                         const char *section_key, int64_t *rev);

/* ---- aggregates for overviews ---- */
struct group_stats {
  char *group_id;
  int count[STATUS_COUNT];
  int progress_sum;        /* sum of the progress of its live tasks */
  double estimate, actual; /* sums of the set values, in hours */
  /* The newest revision of its tasks and of which tasks it holds (a
   * task's change, arrival or departure moves it): a group's stats at
   * one rev are the same stats. Set by store_group_revs only. */
  int64_t rev;
};
/* One entry per live group of the session, in group order. */
int store_group_stats(struct store *st, const char *session_id,
                      struct group_stats **out, size_t *n);
/* One entry per live group of the session, in group order, with only
 * its id and rev: an indexed look-up a group, none of its tasks read. */
int store_group_revs(struct store *st, const char *session_id,
                     struct group_stats **out, size_t *n);
/* The stats of one group, into out (group_id and rev left as they are). */
int store_group_stats_of(struct store *st, const char *group_id,
                         struct group_stats *out);
void store_group_stats_free(struct group_stats *v, size_t n);

/* A task creation or status change, for activity lists. */
struct task_event {
  int64_t rev;
  char *at, *task_id, *title, *group_name, *op, *status;
};
/* The newest task events of a session, newest first. */
int store_task_events(struct store *st, const char *session_id, size_t limit,
                      struct task_event **out, size_t *n);
void store_task_events_free(struct task_event *v, size_t n);

/* ---- history ---- */
struct change {
  int64_t rev;
  char *at, *source, *table, *record, *op, *field, *session_id;
  char *old_value, *new_value; /* as text; NULL for SQL NULL */
};
/* Changes with revision > rev of one session (NULL: of all), oldest
 * first, at most limit (0: all). Free with store_changes_free. */
int store_changes_since(struct store *st, int64_t rev, const char *session_id,
                        size_t limit, struct change **out, size_t *n);
/* The newest changes of a session (NULL: of all) made by source (NULL:
 * any source), newest first. */
int store_changes_recent(struct store *st, const char *session_id,
                         const char *source, size_t limit, struct change **out,
                         size_t *n);
void store_changes_free(struct change *v, size_t n);
/* The newest change of one field of a record (ENG_NOTFOUND if none).
 * Release out with store_change_release. */
int store_last_change(struct store *st, const char *table, const char *record,
                      const char *field, struct change *out);
void store_change_release(struct change *c);

/*
 * State as of a revision. store_asof_open() reads the history after rev
 * once; the getters then undo those changes on the current rows. A record
 * created after rev is ENG_NOTFOUND. Records that a plain SQL DELETE
 * removed after rev are read back from the history too.
 */
struct asof;
int store_asof_open(struct store *st, int64_t rev, struct asof **out);
void store_asof_close(struct asof *a);
int64_t store_asof_rev(const struct asof *a);
/* True when the record changed after the revision (then it reads back
 * differently from now). */
bool store_asof_touched(const struct asof *a, const char *table,
                        const char *record);
int store_asof_session(struct asof *a, const char *id, struct session *out);
int store_asof_group(struct asof *a, const char *id, struct group *out);
int store_asof_task(struct asof *a, const char *id, struct task *out);
/* Tasks that were in the group at rev (deleted ones included, flagged),
 * ordered by their position at rev. rows are the group's rows as
 * store_task_list_group gives them with deleted ones, read while nothing
 * was changed since a was opened, or NULL: they are read here. */
int store_asof_group_tasks(struct asof *a, const char *group_id,
                           const struct task *rows, size_t nrows,
                           struct task **out, size_t *n);
int store_asof_sections(struct asof *a, int owner_kind, const char *owner_id,
                        struct section **out, size_t *n);

/* ---- drafts: text a save could not apply, kept at its path ---- */
struct draft {
  char *kind, *record; /* the file: "group", "task", "session", "notes" */
  char *text;
  size_t len;
  char *diagnostics; /* one line per problem: "LINE: message" */
  char *created_at;
};
int store_draft_get(struct store *st, const char *kind, const char *record,
                    struct draft *out);
/* Inserts or replaces the draft of kind/record. */
int store_draft_put(struct store *st, const struct draft *d);
int store_draft_delete(struct store *st, const char *kind, const char *record);
int store_draft_list(struct store *st, const char *session_id,
                     struct draft **out, size_t *n);
void store_draft_release(struct draft *d);
void store_drafts_free(struct draft *v, size_t n);

/* ---- the last save of each file, so a stale buffer saved again is not
 *      taken for new edits (see docs/format.md, "saving twice") ---- */
struct save_memo {
  char *kind, *record;
  int64_t text_rev;    /* revision in the front matter of the saved text */
  int64_t applied_rev; /* the file's revision right after it was applied */
  struct strlist created_titles, created_ids; /* tasks that save created */
};
int store_memo_get(struct store *st, const char *kind, const char *record,
                   struct save_memo *out);
int store_memo_put(struct store *st, const struct save_memo *m);
void store_memo_release(struct save_memo *m);

/* ---- backups: both sides of anything a save overwrote or dropped ---- */
/* A whole text: kind and record name the file it was saved to. */
int store_backup_add(struct store *st, const char *session_id, const char *kind,
                     const char *record, const char *reason, const char *text,
                     size_t len, int64_t *id);
/* One value of a record's field, in the text form the store keeps. */
int store_backup_value(struct store *st, const char *session_id,
                       const char *target_kind, const char *target_id,
                       const char *field, const char *value, const char *reason,
                       int64_t *id);
struct backup {
  int64_t id;
  char *session_id, *kind, *record, *reason, *created_at;
  char *target_kind, *target_id, *field; /* NULL for whole texts */
  char *text;
  size_t len;
};
int store_backup_get(struct store *st, int64_t id, struct backup *out);
/* Newest first; session NULL for all. */
int store_backup_list(struct store *st, const char *session_id,
                      struct backup **out, size_t *n);
void store_backup_release(struct backup *b);
/* What moves whenever a backup is added or a conflict is recorded,
 * resolved or reopened (the backup and conflict files of the tree come
 * and go without a revision of their own): the newest backup's id, and
 * the count and sum of the ids of the unresolved conflicts. */
int store_listing_mark(struct store *st, int64_t mark[3]);
void store_backups_free(struct backup *v, size_t n);

/* ---- single fields in text form (the form history and backups keep) ---- */
/* target_kind: "task", "group", "session" or "section" (target_id is then
 * the section's row id). *out is NULL for SQL NULL; the caller frees it. */
int store_field_get(struct store *st, const char *target_kind,
                    const char *target_id, const char *field, char **out);
/* Sets one versioned field from its text form (NULL: SQL NULL), keeping
 * the record valid (ENG_INVALID otherwise). Call inside a transaction. */
int store_field_set(struct store *st, const char *target_kind,
                    const char *target_id, const char *field,
                    const char *value);

/* ---- conflicts a save could not settle ---- */
struct conflict {
  int64_t id;
  char *session_id, *file_kind, *file_record; /* the file it was saved to */
  char *type;                                 /* conflict_type_name() */
  char *target_kind, *target_id, *field, *label;
  int64_t base_rev;
  char *base_value, *db_value, *file_value, *manual_value; /* text forms */
  char *db_display, *file_display; /* as shown in the conflict file */
  char *db_changed_at, *db_source, *detected_at;
  char *status;     /* open, manual (a task asks to resolve it), resolved */
  char *resolution; /* db, file, manual; NULL while unresolved */
  char *resolved_at, *manual_task, *note;
};
void conflict_init(struct conflict *c);
void conflict_release(struct conflict *c);
/* Records c (status "open" unless set). An unresolved conflict of the
 * same file, record and field is updated instead; c->id gets the id. */
int store_conflict_add(struct store *st, struct conflict *c);
int store_conflict_get(struct store *st, int64_t id, struct conflict *out);
/* Conflicts of one file (file_kind and file_record non-NULL) or of a
 * session (NULL: all); only unresolved ones (open, manual) when
 * open_only. Oldest first. */
int store_conflict_list(struct store *st, const char *session_id,
                        const char *file_kind, const char *file_record,
                        bool open_only, struct conflict **out, size_t *n);
void store_conflicts_free(struct conflict *v, size_t n);
/* Marks a conflict resolved (resolution db, file or manual). */
int store_conflict_resolve(struct store *st, int64_t id,
                           const char *resolution);
/* Keeps the text a user gave for a conflict, and a note on it. */
int store_conflict_note(struct store *st, int64_t id, const char *manual,
                        const char *note);

/* ---- the sync log: one row per render, save, resolution ---- */
struct syncop {
  const char *type; /* render, save, create, rename, delete, resolve,
                       discard, restore */
  const char *file; /* path within the session, or NULL */
  const char *session_id;
  int64_t started_ns, ended_ns;
  const char *status;             /* ok, conflict, held, error */
  const char *error_kind, *error; /* for held and error */
  int changes, conflicts;
};
/* Records one operation (the source is this connection's). */
int store_syncop_add(struct store *st, const struct syncop *op);
/* Drops the log rows older than max_age_days and all but the newest
 * max_rows. */
int store_syncops_prune(struct store *st, int max_rows, int max_age_days);

/* Health figures of a session (NULL: all) over its sync log. */
struct sync_stats {
  int64_t ops, ok, errors, held, with_conflicts, renders, saves;
  double success_rate;      /* ok or conflict, of all operations */
  double save_success_rate; /* ok or conflict, of saves and resolutions */
  double conflict_rate;     /* saves with conflicts, of saves */
  double render_p50_ms, render_p95_ms, save_p50_ms, save_p95_ms;
  int64_t conflicts_total, conflicts_open, conflicts_resolved_by_user;
  double resolution_rate; /* resolved, of all conflicts */
};
int store_sync_stats(struct store *st, const char *session_id,
                     struct sync_stats *out);
/* When the last save or resolution of a session ended (0: none). */
int store_sync_last_ns(struct store *st, const char *session_id, int64_t *ns);
/* Errors by kind: parallel lists of kind names and counts ("3"). */
int store_sync_error_kinds(struct store *st, const char *session_id,
                           struct strlist *kinds, struct strlist *counts);
/* One operation of the sync log that failed or was held. */
struct sync_failure {
  char *at;                   /* when it started, as the store keeps times */
  char *type, *file, *status; /* file: NULL for none */
  char *kind, *error;         /* the error's kind and message, or NULL */
};
/* The last operations that failed or were held, as records, newest first,
 * at most limit. Free with store_sync_failures_free. */
int store_sync_failures(struct store *st, const char *session_id, size_t limit,
                        struct sync_failure **out, size_t *n);
void store_sync_failures_free(struct sync_failure *v, size_t n);
/* The last operations that failed or were held, newest first. */
int store_syncops_failed(struct store *st, const char *session_id, size_t limit,
                         struct strlist *lines);

/* ---- whole-database backups, restore, integrity ----
 *
 * A whole-database backup is a file that holds the entire database as of
 * one moment, copied with SQLite's online backup API: a consistent copy
 * while other programs read and write (a plain cp of a live WAL database
 * is not). A backup is one self-contained file in rollback-journal mode,
 * with the mode bits of the database file.
 *
 * Automatic backups (before a restore, before a schema upgrade) go to the
 * folder "taskfs-backups" beside the database, created with mode 0700,
 * named "<db file name>-<YYYYmmdd-HHMMSS>-<reason>.db" (UTC), with "-2",
 * "-3", ... before ".db" when the name is taken. Nothing deletes them.
 */

/* The folder of the automatic backups of the database at db_path. The
 * caller frees the result. */
char *store_dbbackup_dir(const char *db_path);

enum store_dbbackup_flags {
  STORE_DBBACKUP_FORCE = 1, /* replace a file that exists at path */
};

/*
 * Copies the whole database of st to path. Outside a transaction the copy
 * is made in steps of a few hundred pages; a step that finds the database
 * locked is retried for the busy bound (store_set_busy_ms), and a copy that
 * another program's commits restarted three times is finished in one step
 * (a read transaction, which in WAL mode blocks no writer). Inside a read
 * transaction the copy is of that snapshot; inside a write transaction it
 * is of the state before it (the last commit, read through a second
 * connection; not for ":memory:").
 *
 * The copy is written to a temporary file beside path ("<path>.tmp-XXXXXX"),
 * checked with PRAGMA quick_check and renamed to path only then: on any
 * failure nothing is at path and the temporary file is removed. *rev (may
 * be NULL) gets the revision the copy holds.
 *
 * Fails with ENG_EXISTS when path exists and STORE_DBBACKUP_FORCE is not
 * given, ENG_NOTFOUND when its folder does not exist, ENG_READONLY when it
 * cannot be written, ENG_FULL when the disk is full, ENG_BUSY when the
 * database stays locked, ENG_CORRUPT when the database cannot be read or
 * the copy fails its check (the database is damaged).
 */
int store_dbbackup_write(struct store *st, const char *path, int flags,
                         int64_t *rev);

/*
 * An automatic backup of st for reason (a word such as "before-restore"):
 * store_dbbackup_write to a new name in store_dbbackup_dir(), never over an
 * existing file. *path gets the file (the caller frees it; NULL on
 * failure). Failures as store_dbbackup_write's, and ENG_INVALID for a
 * ":memory:" store, which has no file.
 */
int store_dbbackup_auto(struct store *st, const char *reason, char **path);

/* One automatic backup. */
struct dbbackup {
  char *path;      /* the file: store_dbbackup_dir() and its name */
  char *reason;    /* "before-restore", "before-schema-2-to-3" */
  int64_t time_ns; /* the time in its name (UTC), ns since the epoch */
  int64_t size;    /* bytes */
  int seq;         /* 1, or the N of a "-N" suffix */
};
/*
 * The automatic backups of the database at db_path, newest first. Only
 * regular files named as store_dbbackup_auto names them are listed (never
 * temporary files). A missing folder is an empty list. Needs no open store:
 * it serves a database that cannot be opened. Fails with ENG_PERM when the
 * folder cannot be read, ENG_DB on another error. Free with
 * store_dbbackups_free.
 */
int store_dbbackup_list(const char *db_path, struct dbbackup **out, size_t *n);
void store_dbbackups_free(struct dbbackup *v, size_t n);

/*
 * Runs PRAGMA quick_check on st: ENG_OK when the database passes it.
 * ENG_CORRUPT when it does not (or SQLite cannot read it), with a message
 * naming the first problems, the newest automatic backups of the database
 * (paths) and the command that restores one ("taskctl -d DB restore
 * FILE"). ENG_BUSY and the other results of a failed read as usual. Reads
 * every page: it takes time on a large database.
 */
int store_check(struct store *st);

/* What store_restore did. */
struct store_restore_stats {
  int64_t from_rev; /* the revision the backup holds */
  int64_t rev;      /* the revision of the database after the restore */
  size_t changed;   /* records present in both whose fields were changed */
  size_t inserted;  /* records of the backup the database did not have */
  size_t deleted;   /* live records the backup does not have, now deleted */
};

/*
 * Makes the sessions, groups, tasks and sections of st equal to those of
 * from (opened with STORE_BACKUP_FILE), in one write transaction, as
 * ordinary changes: every changed field is written through the store's
 * update functions, so the history records it with the source "restore"
 * and the revision moves forward. Records are matched by id (a section
 * also by its owner). Records st has and from lacks are deleted softly;
 * records from has and st lacks are inserted with their ids (a section
 * whose id st uses for another owner gets a new id). Names that were
 * swapped are written in an order that never holds one name twice, so the
 * history shows each record going from its old name to its new one; when
 * the names form a cycle, the unique index is rebuilt around those writes
 * instead of using a temporary name. Drafts, save memos, value backups,
 * conflicts and the sync log of st are not touched.
 *
 * Before changing anything, holding the write lock, it saves st as an
 * automatic backup (reason "before-restore"); *snapshot gets its path (the
 * caller frees it; NULL for a ":memory:" store). When that fails nothing
 * is changed. Fails with ENG_INVALID (and changes nothing) when a group or
 * task belongs to another session in from than in st (taskfs never moves
 * them between sessions), and with the results of store_begin and the
 * record writers. Messages are on st.
 */
int store_restore(struct store *st, struct store *from, char **snapshot,
                  struct store_restore_stats *stats);

/*
 * Puts a copy of from (a store opened with STORE_BACKUP_FILE) at db_path,
 * for a database that is damaged or missing. Whatever is at db_path and
 * its "-wal", "-shm" and "-journal" files are first renamed to
 * "<db_path>.damaged-<YYYYmmdd-HHMMSS>" (UTC; "-2", ... when taken) with
 * the same suffixes; a failure there stops it before anything is copied.
 * Then from is copied to db_path as store_dbbackup_write does. The new
 * names of the files moved aside are added to moved (none when nothing
 * was at db_path). Messages are on from.
 */
int store_dbbackup_install(struct store *from, const char *db_path,
                           struct strlist *moved);

/* ---- a whole database copied into another, of either backend ---- */

/* The tables store_copy takes. */
#define STORE_COPY_TABLES 10

/* What store_copy copied. */
struct store_copy_stats {
  int64_t rev; /* the revision of the copy, the same as the source's */
  size_t ntables;
  struct {
    const char *name; /* "sessions", "history", ... (static) */
    int64_t rows;
  } tables[STORE_COPY_TABLES];
  bool created; /* the target did not exist before (a new file) */
};

/*
 * Copies the whole database of from into the database target (a file or
 * a server's database, as store_open takes it; created when missing,
 * with the schema 'taskctl init' makes): sessions, groups, tasks and
 * sections with every field and stamp, the history with its revisions,
 * times and sources, drafts, save memos, backups, conflicts, the sync
 * log and the revision counter. Reads of the copy, as of any revision,
 * give what reads of from give, and its next change gets the revision
 * from's next change would get.
 *
 * from is read in one snapshot (store_read_begin): a consistent copy
 * while other programs write to it. The target is written in one
 * transaction (source "copy") in which no trigger adds history or
 * stamps the copied rows. Before its commit the copy is verified: the
 * rows of every table and the revision are the same on both sides, and
 * store_check passes on the target. On any failure the transaction is
 * rolled back, and a database file this call created is removed.
 *
 * The target must hold no rows and be at revision 0 (new, or made by
 * 'taskctl init'): ENG_NOTEMPTY otherwise, with nothing changed. Other
 * failures are those of store_open on target, of reads of from and of
 * writes. Messages are on from; targets show without their passwords.
 */
int store_copy(struct store *from, const char *target,
               struct store_copy_stats *stats);

#endif
