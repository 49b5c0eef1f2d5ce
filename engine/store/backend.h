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
  int (*owner_revision)(struct store *st, int owner_kind, const char *id,
                        const char *section_key, int64_t *rev);
  int (*group_stats)(struct store *st, const char *session_id,
                     struct group_stats **out, size_t *n);
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
};

/* ENG_OK when st may begin a write transaction now; ENG_READONLY (with
 * its message) for a read-only store. Dies on a nested transaction. */
int store_may_write(struct store *st);

/* The backends. */
extern const struct store_ops store_sqlite_ops;

#endif
