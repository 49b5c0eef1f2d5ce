/* SPDX-License-Identifier: MIT */
/* pg.h: what the PostgreSQL backend's source files share: the connection,
 * its prepared statements, parameters and result helpers, and the
 * operations of the backend's table. Not for other modules, except the
 * target helpers at the top, which tests and tools may use. */
#ifndef TASKFS_STORE_PG_H
#define TASKFS_STORE_PG_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "backend.h"
#include "buf.h"
#include "store.h"

/* Whether target names a PostgreSQL database: a "postgresql://" or
 * "postgres://" URI, or a libpq key/value string starting "service=". */
bool store_pg_target(const char *target);
/* target with any password removed: the password of a URI's user
 * information and "password" parameters of its query or of a key/value
 * string. The caller frees the result with free(). */
char *store_pg_redact(const char *target);

/* The backend's table of operations (backend.h). */
extern const struct store_ops store_pg_ops;

/* One prepared statement per slot. */
enum pg_slot {
  PG_BEGIN,
  PG_SET_SOURCE,
  PG_LOCK_REVISION,
  PG_COMMIT,
  PG_ROLLBACK,
  PG_READ_BEGIN,
  PG_READ_END,
  PG_SAVEPOINT,
  PG_RELEASE,
  PG_ROLLBACK_TO,
  PG_REVISION,
  PG_LISTING_MARK,
  PG_POLL,
  PG_REVISION_TIME,
  PG_TASK_IDS,
  PG_OWNER_REV_GROUP,
  PG_OWNER_REV_TASK,
  PG_OWNER_REV_SESSION,
  PG_OWNER_REV_SECTION,
  PG_GROUP_STATS,
  PG_TASK_PLACE,
  PG_GROUP_REVS,
  PG_GROUP_STATS_OF,
  PG_TASK_EVENTS,
  PG_CHANGES_SINCE,
  PG_CHANGES_SINCE_SESSION,
  PG_CHANGES_RECENT,
  PG_LAST_CHANGE,
  PG_DRAFT_GET,
  PG_DRAFT_PUT,
  PG_DRAFT_DELETE,
  PG_DRAFT_LIST,
  PG_MEMO_GET,
  PG_MEMO_PUT,
  PG_BACKUP_ADD,
  PG_BACKUP_VALUE,
  PG_BACKUP_GET,
  PG_BACKUP_LIST,
  PG_CONFLICT_FIND,
  PG_CONFLICT_INSERT,
  PG_CONFLICT_UPDATE,
  PG_CONFLICT_GET,
  PG_CONFLICT_LIST,
  PG_CONFLICT_RESOLVE,
  PG_CONFLICT_NOTE,
  PG_SYNCOP_ADD,
  PG_SYNCOP_PRUNE,
  PG_SYNC_STATS,
  PG_SYNC_LAST,
  PG_SYNC_PCT,
  PG_SYNC_ERRKINDS,
  PG_SYNC_FAILURES,
  PG_SET_LOCK_TIMEOUT,
  PG_SET_READONLY,
  PG_SET_VERSION,
  PG_LISTEN,
  PG_MIGRATE_LOCK,
  PG_SCHEMA_TABLES,
  PG_CHECK,
  PG_SCHEMA_VERSION,
  /* one slot per record kind or query */
  PG_GET,
  PG_INSERT = PG_GET + RK_COUNT,
  PG_UPDATE = PG_INSERT + RK_COUNT,
  PG_EXISTS = PG_UPDATE + RK_COUNT,
  PG_ID_MAX = PG_EXISTS + RK_COUNT,
  PG_NEXT_POSITION = PG_ID_MAX + RK_COUNT,
  PG_QUERY = PG_NEXT_POSITION + RK_COUNT,
  /* one slot per table of a copy (store_raw_tables) */
  PG_RAW_COUNT = PG_QUERY + SQ_COUNT,
  PG_RAW_INSERT = PG_RAW_COUNT + RAW_MAX_TABLES,
  PG_RAW_REVISION = PG_RAW_INSERT + RAW_MAX_TABLES,
  PG_SLOT_COUNT
};

/* A connection of the PostgreSQL backend. */
struct pg_store {
  struct store base;
  PGconn *conn;
  char *conninfo;      /* the target as given, password included: never shown */
  bool own_commit;     /* a commit of this connection since store_poll */
  bool reset;          /* the connection was lost and made again */
  bool notified;       /* a notification read after the last revision */
  bool in_transaction; /* a BEGIN not yet ended by COMMIT or ROLLBACK */
  int64_t seen_rev;    /* the revision store_poll saw last */
  /* Inside a copy (raw_begin to raw_end): writes run without a savepoint
   * each, as a failed one fails the whole copy. */
  bool bulk;
  int seen_version;             /* the schema version store_poll saw last */
  char *sql[PG_SLOT_COUNT];     /* the SQL of each slot, or NULL */
  bool prepared[PG_SLOT_COUNT]; /* the slot's SQL is prepared on conn */
};

static inline struct pg_store *pg(struct store *st) {
  return (struct pg_store *)st;
}

/* The parameters of one statement, all sent as text but those added with
 * pg_param_bin. */
#define PG_MAX_PARAMS 32
struct pg_params {
  int n;
  const char *v[PG_MAX_PARAMS];
  int len[PG_MAX_PARAMS];
  int fmt[PG_MAX_PARAMS];
  char num[PG_MAX_PARAMS][32];
  char *owned[PG_MAX_PARAMS]; /* freed by pg_run */
  /* The type of each parameter, 0 for the one the SQL implies; needed
   * for parameters the SQL does not use. */
  Oid type[PG_MAX_PARAMS];
};

/* Appends a parameter: text (NULL for SQL NULL), text the run frees, an
 * integer, a boolean, bytes. Records' fields go as their text forms. */
void pg_param_text(struct pg_params *p, const char *v);
void pg_param_take(struct pg_params *p, char *v);
void pg_param_int(struct pg_params *p, int64_t v);
void pg_param_bool(struct pg_params *p, bool v);
void pg_param_bin(struct pg_params *p, const void *v, size_t len);

/*
 * Runs the statement of slot (prepared from sql on first use on this
 * connection) with p (NULL: none). *res is the result for the caller to
 * PQclear (NULL when res is NULL). A write inside a write transaction
 * runs under a savepoint, so that its failure leaves the transaction
 * usable, as a failed statement does in SQLite. Returns an eng_rc with the
 * message set.
 */
int pg_run(struct store *st, int slot, const char *sql, struct pg_params *p,
           PGresult **res);
/* pg_run for SQL made by build(b, arg) on first use. */
int pg_run_built(struct store *st, int slot, int arg,
                 void (*build)(struct buf *, int), struct pg_params *p,
                 PGresult **res);
/* Runs sql unprepared: the schema's scripts of several statements, which
 * hold no values. */
int pg_exec(struct store *st, const char *sql);
/* The eng_rc and message of a failed result (NULL: the connection). */
int pg_fail(struct store *st, const PGresult *res);

/* A heap copy of a column, NULL for SQL NULL; "" for SQL NULL; an
 * integer (0 for NULL); a number (NAN for NULL); bytes of a bytea column
 * into a heap buffer with a NUL after them. */
char *pg_text(const PGresult *r, int row, int col);
char *pg_text_nn(const PGresult *r, int row, int col);
int64_t pg_int(const PGresult *r, int row, int col);
double pg_real(const PGresult *r, int row, int col);
char *pg_bytes(const PGresult *r, int row, int col, size_t *len);

/* Reads row of r into the element at elem. */
typedef void pg_read_fn(const PGresult *r, int row, void *elem);
/* When rc is ENG_OK, the rows of r read into a new array (*out, *n; one
 * zeroed element more, so never NULL) of elements of size bytes; r is
 * cleared. Returns rc. */
int pg_rows(int rc, PGresult *r, size_t size, pg_read_fn *read, void **out,
            size_t *n);
/* pg_run, then pg_rows of its result. */
int pg_select(struct store *st, int slot, const char *sql, struct pg_params *p,
              size_t size, pg_read_fn *read, void **out, size_t *n);
/* When rc is ENG_OK, the first row of r read into out, or ENG_NOTFOUND
 * (with no message) for none; r is cleared. Returns rc otherwise. */
int pg_row(int rc, PGresult *r, pg_read_fn *read, void *out);

/* The operations of the backend's table (store_pg_ops), each as its
 * store_ function of store.h or its entry of backend.h says. */
int pg_get(struct store *st, int kind, const char *id, void *out);
int pg_query(struct store *st, const struct store_query *q, void **out,
             size_t *n);
int pg_insert(struct store *st, int kind, void *rec);
int pg_update(struct store *st, int kind, const void *rec);
int pg_exists(struct store *st, int kind, const char *id, bool *yes);
int pg_id_max(struct store *st, int kind, const char *prefix, int64_t *max);
int pg_next_position(struct store *st, int kind, const char *parent,
                     double *pos);
int pg_task_ids(struct store *st, const char *session_id, int status,
                char ***ids, size_t *n);
int pg_task_place(struct store *st, const char *id, struct task_place *out);
int pg_owner_revision(struct store *st, int owner_kind, const char *id,
                      const char *section_key, int64_t *rev);
int pg_group_stats(struct store *st, const char *session_id,
                   struct group_stats **out, size_t *n);
int pg_group_revs(struct store *st, const char *session_id,
                  struct group_stats **out, size_t *n);
int pg_group_stats_of(struct store *st, const char *group_id,
                      struct group_stats *out);
int pg_task_events(struct store *st, const char *session_id, size_t limit,
                   struct task_event **out, size_t *n);
int pg_changes_since(struct store *st, int64_t rev, const char *session_id,
                     size_t limit, struct change **out, size_t *n);
int pg_changes_recent(struct store *st, const char *session_id,
                      const char *source, size_t limit, struct change **out,
                      size_t *n);
int pg_last_change(struct store *st, const char *table, const char *record,
                   const char *field, struct change *out);
int pg_draft_get(struct store *st, const char *kind, const char *record,
                 struct draft *out);
int pg_draft_put(struct store *st, const struct draft *d);
int pg_draft_delete(struct store *st, const char *kind, const char *record);
int pg_draft_list(struct store *st, const char *session_id, struct draft **out,
                  size_t *n);
int pg_memo_get(struct store *st, const char *kind, const char *record,
                struct save_memo *out);
int pg_memo_put(struct store *st, const struct save_memo *m);
int pg_backup_add(struct store *st, const char *session_id, const char *kind,
                  const char *record, const char *reason, const char *text,
                  size_t len, int64_t *id);
int pg_backup_value(struct store *st, const char *session_id,
                    const char *target_kind, const char *target_id,
                    const char *field, const char *value, const char *reason,
                    int64_t *id);
int pg_backup_get(struct store *st, int64_t id, struct backup *out);
int pg_backup_list(struct store *st, const char *session_id,
                   struct backup **out, size_t *n);
int pg_conflict_add(struct store *st, struct conflict *c);
int pg_conflict_get(struct store *st, int64_t id, struct conflict *out);
int pg_conflict_list(struct store *st, const char *session_id,
                     const char *file_kind, const char *file_record,
                     bool open_only, struct conflict **out, size_t *n);
int pg_conflict_resolve(struct store *st, int64_t id, const char *resolution);
int pg_conflict_note(struct store *st, int64_t id, const char *manual,
                     const char *note);
int pg_syncop_add(struct store *st, const struct syncop *op);
int pg_syncops_prune(struct store *st, int max_rows, int max_age_days);
int pg_sync_stats(struct store *st, const char *session_id,
                  struct sync_stats *out);
int pg_sync_last_ns(struct store *st, const char *session_id, int64_t *ns);
int pg_sync_error_kinds(struct store *st, const char *session_id,
                        struct strlist *kinds, struct strlist *counts);
int pg_sync_failures(struct store *st, const char *session_id, size_t limit,
                     struct sync_failure **out, size_t *n);
int pg_raw_count(struct store *st, const struct raw_table *t, int64_t *n);
int pg_raw_read(struct store *st, const struct raw_table *t, raw_row_fn *row,
                void *arg);
int pg_raw_begin(struct store *st);
int pg_raw_insert(struct store *st, const struct raw_table *t,
                  const struct raw_value *row);
int pg_raw_set_revision(struct store *st, int64_t rev);
int pg_raw_end(struct store *st);

#endif
