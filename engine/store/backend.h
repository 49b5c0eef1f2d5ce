/* SPDX-License-Identifier: MIT */
/* backend.h: what a storage backend implements: one table of operations,
 * as SQLite's sqlite3_io_methods or libfuse's fuse_lowlevel_ops, that the
 * store's functions (store.h) call. For backends, not for callers.
 *
 * The store above the table keeps what is the same on every backend: the
 * rules of records (validation, generated ids, default positions, the
 * times a status implies), transactions' nesting, records as of a
 * revision (asof.c), single fields in text form (fields.c), messages.
 * A backend only reads and writes what it is given.
 */
#ifndef TASKFS_STORE_BACKEND_H
#define TASKFS_STORE_BACKEND_H

#include "buf.h"
#include "store.h"

/*
 * The part of a connection every backend shares; a backend's connection
 * starts with it (struct sqlite_store { struct store base; ... }).
 */
struct store {
  const struct store_ops *ops;
  char *path;   /* what was opened: a file, ":memory:" */
  char *source; /* recorded as the source of this connection's changes */
  struct buf err;
  int busy_ms;
  bool readonly;
  bool in_write;        /* inside store_begin() */
  int read_depth;       /* nested store_read_begin() */
  char *upgrade_backup; /* the backup made before a schema upgrade */
};

/*
 * Whole tables as rows of values, for a copy of a database into another
 * (copy.c, store_copy). Both backends have the same tables and columns;
 * a copy takes every row as it is, stamps and ids included.
 */

/* How a column keeps its values: the same on every backend, but for
 * RAW_ANY, a column SQLite keeps without a type (the values of the
 * history and of conflicts: a number stays a number there) and
 * PostgreSQL as text. */
enum raw_kind { RAW_TEXT, RAW_INT, RAW_REAL, RAW_BLOB, RAW_ANY };

/* One value as the backend that read it holds it. */
enum raw_type { RV_NULL, RV_INT, RV_REAL, RV_TEXT, RV_BLOB };
struct raw_value {
  int type;      /* enum raw_type */
  int64_t i;     /* RV_INT */
  double r;      /* RV_REAL */
  const char *s; /* NUL-terminated: the reading backend's text of an
                  * RV_INT, RV_REAL or RV_TEXT; the bytes of an RV_BLOB */
  size_t len;    /* of s */
};

#define RAW_MAX_COLUMNS 32
#define RAW_MAX_TABLES 16

/* A table of the schema, as a copy takes it. */
struct raw_table {
  int id;            /* its index in store_raw_tables() */
  const char *name;  /* "tasks" */
  const char *order; /* the columns its rows are read in the order of */
  bool serial;       /* its integer id is one the database hands out */
  bool versioned;    /* its triggers keep the history and the revision */
  int ncols;
  const char *cols[RAW_MAX_COLUMNS];
  int kinds[RAW_MAX_COLUMNS]; /* enum raw_kind */
};

/* The tables a copy takes, parents before the rows that refer to them:
 * fills out (RAW_MAX_TABLES of them) and returns how many. The revision
 * counter is not among them (raw_set_revision). */
size_t store_raw_tables(struct raw_table *out);

/* Called with each row read (t->ncols values, valid during the call);
 * an eng_rc other than ENG_OK stops the read and is its result. */
typedef int raw_row_fn(void *arg, const struct raw_value *row);

/*
 * The operations. Each takes the connection first and, unless said
 * otherwise, returns an eng_rc with the message left by store_fail().
 * What an operation fills belongs to the caller. Records are pointers to
 * their struct (enum record_kind says which); a backend reads and writes
 * them field by field from record_kinds[] (model.h).
 */
struct store_ops {
  const char *name; /* "sqlite" */

  /* Whether target names a database of this backend. */
  bool (*accepts)(const char *target);
  /* The size of the backend's connection, which starts with a struct
   * store. */
  size_t size;
  /* Opens target into st (allocated zeroed, with path, source, busy_ms,
   * readonly set) and creates or migrates the schema as flags allow.
   * close frees what open made, also after a failed open. */
  int (*open)(struct store *st, const char *target, int flags);
  void (*close)(struct store *st);
  void (*set_busy_ms)(struct store *st, int ms);

  /* A write transaction recording st->source as the source of its
   * changes; its end; a read snapshot and its end. store.c nests them. */
  int (*begin)(struct store *st);
  int (*commit)(struct store *st);
  void (*rollback)(struct store *st);
  int (*read_begin)(struct store *st);
  void (*read_end)(struct store *st);

  /* Change detection and health: see the functions of the same names in
   * store.h. */
  int64_t (*revision)(struct store *st);
  bool (*poll)(struct store *st);
  int (*notify_fd)(struct store *st);
  bool (*moved)(struct store *st);
  int (*schema_check)(struct store *st, bool *newer);
  int64_t (*revision_time)(struct store *st, int64_t rev);

  /* Records: the one with this id (a section's in decimal); the records
   * a query names, into a malloc'd array of q->kind's structs; a new row
   * from rec, whose id (0 for a section: the backend chooses, and sets
   * it), identity and values are set; every versioned field of the row
   * with rec's id. ENG_EXISTS for a taken id or name, ENG_NOTFOUND for
   * no such row. */
  int (*get)(struct store *st, int kind, const char *id, void *out);
  int (*query)(struct store *st, const struct store_query *q, void **out,
               size_t *n);
  int (*insert)(struct store *st, int kind, void *rec);
  int (*update)(struct store *st, int kind, const void *rec);
  /* Whether a record of kind with this id exists, deleted or not. */
  int (*exists)(struct store *st, int kind, const char *id, bool *yes);
  /* The largest n of the ids "<prefix>n" (n decimal) of kind; 0 for none. */
  int (*id_max)(struct store *st, int kind, const char *prefix, int64_t *max);
  /* One above every position of the groups of a session (kind RK_GROUP)
   * or the tasks of a group (RK_TASK); 1 when there are none. */
  int (*next_position)(struct store *st, int kind, const char *parent,
                       double *pos);
  int (*task_ids)(struct store *st, const char *session_id, int status,
                  char ***ids, size_t *n);
  int (*task_place)(struct store *st, const char *id, struct task_place *out);
  int (*owner_revision)(struct store *st, int owner_kind, const char *id,
                        const char *section_key, int64_t *rev);
  int (*group_stats)(struct store *st, const char *session_id,
                     struct group_stats **out, size_t *n);
  int (*group_revs)(struct store *st, const char *session_id,
                    struct group_stats **out, size_t *n);
  int (*group_stats_of)(struct store *st, const char *group_id,
                        struct group_stats *out);
  int (*task_events)(struct store *st, const char *session_id, size_t limit,
                     struct task_event **out, size_t *n);

  /* The history. */
  int (*changes_since)(struct store *st, int64_t rev, const char *session_id,
                       size_t limit, struct change **out, size_t *n);
  int (*changes_recent)(struct store *st, const char *session_id,
                        const char *source, size_t limit, struct change **out,
                        size_t *n);
  int (*last_change)(struct store *st, const char *table, const char *record,
                     const char *field, struct change *out);

  /* Drafts and save memos. */
  int (*draft_get)(struct store *st, const char *kind, const char *record,
                   struct draft *out);
  int (*draft_put)(struct store *st, const struct draft *d);
  int (*draft_delete)(struct store *st, const char *kind, const char *record);
  int (*draft_list)(struct store *st, const char *session_id,
                    struct draft **out, size_t *n);
  int (*memo_get)(struct store *st, const char *kind, const char *record,
                  struct save_memo *out);
  int (*memo_put)(struct store *st, const struct save_memo *m);

  /* Backups of texts and values. */
  int (*backup_add)(struct store *st, const char *session_id, const char *kind,
                    const char *record, const char *reason, const char *text,
                    size_t len, int64_t *id);
  int (*backup_value)(struct store *st, const char *session_id,
                      const char *target_kind, const char *target_id,
                      const char *field, const char *value, const char *reason,
                      int64_t *id);
  int (*backup_get)(struct store *st, int64_t id, struct backup *out);
  int (*backup_list)(struct store *st, const char *session_id,
                     struct backup **out, size_t *n);
  int (*listing_mark)(struct store *st, int64_t mark[3]);

  /* Conflicts. */
  int (*conflict_add)(struct store *st, struct conflict *c);
  int (*conflict_get)(struct store *st, int64_t id, struct conflict *out);
  int (*conflict_list)(struct store *st, const char *session_id,
                       const char *file_kind, const char *file_record,
                       bool open_only, struct conflict **out, size_t *n);
  int (*conflict_resolve)(struct store *st, int64_t id, const char *resolution);
  int (*conflict_note)(struct store *st, int64_t id, const char *manual,
                       const char *note);

  /* The sync log. */
  int (*syncop_add)(struct store *st, const struct syncop *op);
  int (*syncops_prune)(struct store *st, int max_rows, int max_age_days);
  int (*sync_stats)(struct store *st, const char *session_id,
                    struct sync_stats *out);
  int (*sync_last_ns)(struct store *st, const char *session_id, int64_t *ns);
  int (*sync_error_kinds)(struct store *st, const char *session_id,
                          struct strlist *kinds, struct strlist *counts);
  int (*sync_failures)(struct store *st, const char *session_id, size_t limit,
                       struct sync_failure **out, size_t *n);

  /* The whole database: its integrity; a consistent copy to a file; the
   * records of another store made this one's (see store.h). */
  int (*check)(struct store *st);
  int (*dbbackup_write)(struct store *st, const char *path, int flags,
                        int64_t *rev);
  int (*restore)(struct store *st, struct store *from, char **snapshot,
                 struct store_restore_stats *stats);

  /* Whole tables as rows (above; store_copy drives them). raw_count: the
   * rows of t. raw_read: each row of t in t->order, to row, in the read
   * snapshot the caller holds. Inside a write transaction: raw_begin
   * stops the triggers that stamp rows and keep the history, so that
   * raw_insert adds a row exactly as given; raw_set_revision sets the
   * revision counter; raw_end puts the triggers back and makes the ids
   * the database hands out next follow those given. A transaction rolled
   * back after raw_begin undoes all of it. */
  int (*raw_count)(struct store *st, const struct raw_table *t, int64_t *n);
  int (*raw_read)(struct store *st, const struct raw_table *t, raw_row_fn *row,
                  void *arg);
  int (*raw_begin)(struct store *st);
  int (*raw_insert)(struct store *st, const struct raw_table *t,
                    const struct raw_value *row);
  int (*raw_set_revision)(struct store *st, int64_t rev);
  int (*raw_end)(struct store *st);
};

/* ENG_OK when st may begin a write transaction now; ENG_READONLY (with
 * its message) for a read-only store. Dies on a nested transaction. */
int store_may_write(struct store *st);

/* The backends. */
extern const struct store_ops store_sqlite_ops;

/* store_listing_mark's statement, the same in every backend's dialect. */
#define STORE_LISTING_MARK_SQL                                                 \
  "SELECT (SELECT coalesce(max(id), 0) FROM backups),"                         \
  " count(*), coalesce(sum(id), 0) FROM conflicts WHERE status <> 'resolved'"

/* "SELECT <the columns of the fields query what reads, NULL for the
 * others> FROM <its table>": the same in every backend's dialect. */
void store_query_select(struct buf *b, int what);

#endif
