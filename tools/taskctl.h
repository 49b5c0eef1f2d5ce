/* SPDX-License-Identifier: MIT */
/* taskctl.h: what the files of taskctl share: the parsed command line, the
 * open store, error reporting with exit codes, and text output helpers.
 * Only taskctl's own sources include it; it links the engine, never FUSE. */
#ifndef TASKCTL_H
#define TASKCTL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "buf.h"
#include "json.h"
#include "model.h"
#include "ops.h"
#include "store.h"
#include "util.h"

/* Exit statuses (enum eng_exit of util.h), as documented in taskctl(1)
 * and --help. */

/* The command options (global options are fields of struct ctl). Each
 * command accepts a subset, given as a bit mask of OPT_BIT(). */
enum opt {
  O_TITLE,
  O_ID,
  O_MODE,
  O_STATUS,
  O_DESCRIPTION,
  O_SESSION,
  O_NAME,
  O_PRIORITY,
  O_SPECIALIST,
  O_DELETED,
  O_GROUP,
  O_PROGRESS,
  O_ESTIMATE,
  O_ACTUAL,
  O_DEPENDS,
  O_NO_DEPENDS,
  O_DELIVERABLE,
  O_NO_DELIVERABLES,
  O_CURRENT_STATUS,
  O_ALL,
  O_KEEP,
  O_VALUE,
  O_LIMIT,
  O_FORCE,
  O_LIST,
  O_WATCH,
  O_GRACE,
  O_FROM,
  O_TO,
  O_COUNT
};
#define OPT_BIT(o) (1u << (o))

/* How a command uses the database. */
enum open_mode {
  OPEN_CREATE, /* create it (and the default folder) when missing */
  OPEN_WRITE,  /* it must exist; the command writes */
  OPEN_READ,   /* it must exist; read-only files are fine */
  OPEN_NONE,   /* the command opens it itself, with ctl_open or otherwise */
};

/* One run of taskctl: the command line as parsed, and the store once the
 * command has opened it. */
struct ctl {
  const char *db_path; /* -d, else $TASKFS_DB, else the default path */
  bool db_default;     /* db_path is the default under the cwd */
  char *db_alloc;      /* what db_path points to when a command set it */
  bool json;           /* --json */
  int busy_ms;         /* --busy-timeout */
  const char **pos;    /* positional arguments after the command words */
  size_t npos;
  struct strlist opt[O_COUNT]; /* values of each option, in given order */
  bool has[O_COUNT];           /* the option was given */
  struct store *st;            /* open while a command runs */
  struct ops ops;              /* on st, once it is open */
};

/* The last value of option o, or NULL when it was not given. */
const char *ctl_opt(const struct ctl *c, int o);

/* Opens c->db_path into c->st as mode says, reporting a failure (the
 * store stays in c->st for its message). Returns an exit status. */
int ctl_open(struct ctl *c, enum open_mode mode);

/* ---- errors: every message is one line "taskctl: ..." on stderr ---- */

/* The exit status for an engine result. at_open: the result of
 * store_open, where a missing file means a missing database. */
int ctl_exit_code(int rc, bool at_open);
/* Prints store_errmsg() with a hint fitting rc; returns the exit status. */
int ctl_fail_store(struct ctl *c, int rc);
/* Prints the formatted message. */
void ctl_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints the formatted message and returns code. */
int ctl_fail(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Prints the message and the usage of the running command on stderr;
 * returns EXIT_USAGE. */
int ctl_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- the shared operations (ops.h) on the command line ---- */
/* Words the hints of ops' messages as taskctl commands. */
void ctl_hint(struct buf *out, enum ops_hint h, const char *arg);
/* Prints ops_errmsg() and returns the exit status for rc. */
int ctl_fail_ops(struct ctl *c, int rc);
/* The field options given, as ops fields; the values stay c's. */
void ctl_fields(const struct ctl *c, struct ops_fields *f);

/* ---- lookups with messages that say what to do; they print the
 *      message and return the exit status, else 0 ---- */
int ctl_get_session(struct ctl *c, const char *id, struct session *out);
/* 0 when session_id is NULL or names a session. */
int ctl_check_session(struct ctl *c, const char *session_id);
/* A group by id, or by name within session_id (which may be NULL). */
int ctl_get_group(struct ctl *c, const char *session_id, const char *ref,
                  struct group *out);
int ctl_get_task(struct ctl *c, const char *id, struct task *out);

/* The conflict policies a mount of c->db_path uses by default: taskfs.yaml
 * beside the database, else the defaults. Returns an exit status after
 * printing why (a taskfs.yaml that cannot be read), or 0. */
struct policy;
int ctl_load_policy(struct ctl *c, struct policy *p);

/* The absolute path of path, also when it is missing (its folder's
 * absolute path and its name; path as given when the folder is missing
 * too). The caller frees it. */
char *ctl_absolute_path(const char *path);

/* What a write command prints about the record it created or changed
 * (kind is an enum owner_kind): its id, or with --json its JSON. */
int ctl_print_result(struct ctl *c, int kind, const char *id);

/* Prints v (of json.h) when rc, the result of the ops call that made it,
 * is ENG_OK; else reports ops' message. Releases v either way (NULL is
 * none). Returns the exit status. */
int ctl_print_json(struct ctl *c, int rc, json_t *v);

/* A listing of the session --session names (of all without it), within
 * one read transaction: json makes it for --json (an ops call's result,
 * as for ctl_print_json), text prints it and returns the exit status.
 * Returns the exit status. */
typedef int (*ctl_json_fn)(struct ctl *c, const char *session_id, json_t **out);
typedef int (*ctl_text_fn)(struct ctl *c, const char *session_id);
int ctl_print_listing(struct ctl *c, ctl_json_fn json, ctl_text_fn text);

/* ---- output ---- */
/* "key:" padded to a column, then the value; continuation lines of a
 * multi-line value are indented to the same column. */
void out_kv(const char *key, const char *value);
void out_kvf(const char *key, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A text table with aligned columns; the last column is not padded. */
#define COL(i) (1u << (i))
struct table {
  size_t ncols;
  unsigned right; /* COL(i): right-align column i */
  struct strlist cells;
};
void table_init(struct table *t, size_t ncols, unsigned right,
                const char *const *header);
/* Adds one row of ncols cells; control characters become spaces. */
void table_row(struct table *t, const char *const *cells);
void table_print(struct table *t, FILE *f);
void table_release(struct table *t);

/* ---- usage checks that need no database, run before it is opened:
 *      each returns ctl_usage_error()'s status, or 0 ---- */
int check_session_create(struct ctl *c);
int check_session_set(struct ctl *c);
int check_group_create(struct ctl *c);
int check_group_set(struct ctl *c);
int check_task_add(struct ctl *c);
int check_task_set(struct ctl *c);
int check_resolve(struct ctl *c);
int check_restore_backup(struct ctl *c);
int check_backup(struct ctl *c);
int check_checkout(struct ctl *c);
int check_sync(struct ctl *c);

/* ---- commands: each returns an exit status ---- */
int cmd_init(struct ctl *c);
int cmd_demo(struct ctl *c);
int cmd_export(struct ctl *c);
int cmd_backup(struct ctl *c);
int cmd_restore(struct ctl *c);
int cmd_check(struct ctl *c);
int cmd_copy(struct ctl *c);
int check_copy(struct ctl *c);
int cmd_session_create(struct ctl *c);
int cmd_session_list(struct ctl *c);
int cmd_session_show(struct ctl *c);
int cmd_session_set(struct ctl *c);
int cmd_group_create(struct ctl *c);
int cmd_group_list(struct ctl *c);
int cmd_group_show(struct ctl *c);
int cmd_group_set(struct ctl *c);
int cmd_group_rm(struct ctl *c);
int cmd_group_restore(struct ctl *c);
int cmd_task_add(struct ctl *c);
int cmd_task_import(struct ctl *c);
int cmd_task_set(struct ctl *c);
int cmd_task_show(struct ctl *c);
int cmd_task_list(struct ctl *c);
int cmd_task_rm(struct ctl *c);
int cmd_task_restore(struct ctl *c);
int cmd_conflicts(struct ctl *c);
int cmd_resolve(struct ctl *c);
int cmd_backups(struct ctl *c);
int cmd_restore_backup(struct ctl *c);
int cmd_stats(struct ctl *c);
int cmd_log(struct ctl *c);
int cmd_mcp(struct ctl *c);
int cmd_checkout(struct ctl *c);
int cmd_sync(struct ctl *c);
int check_log(struct ctl *c);

/* Loads the demo session into the store inside the caller's transaction;
 * *session_id receives its generated id (the caller frees it). */
int demo_load(struct store *st, char **session_id);

#endif
