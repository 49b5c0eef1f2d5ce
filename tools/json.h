/* SPDX-License-Identifier: MIT */
/* json.h: taskctl's JSON output, made with jansson from the records the
 * store returns; the keys and types of record fields are the model's field
 * table. Knows no SQL; prints nothing but what json_print is given. */
#ifndef TASKCTL_JSON_H
#define TASKCTL_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "model.h"
#include "store.h"

/*
 * Every json_t * these functions return is a new reference that the
 * caller owns and gives up with json_decref() (or to json_print, or to a
 * jansson function that steals it). None returns NULL: running out of
 * memory aborts, as everywhere in taskfs, once json_setup has run.
 *
 * The functions that read the store return an enum eng_rc, with the
 * message on the store (store_errmsg); *out is set only on ENG_OK. Lists
 * that must be one consistent state are read inside store_read_begin().
 */

/* Makes jansson allocate through xmalloc. Call once, before any other. */
void json_setup(void);

/* Prints v compactly on standard output, with a final newline, and
 * releases it. Real numbers have at most 15 significant digits. */
void json_print(json_t *v);

/* s as a JSON string; null for NULL. Bytes that are not UTF-8 become
 * U+FFFD. json_strn takes n bytes, NULs included. */
json_t *json_str(const char *s);
json_t *json_strn(const char *s, size_t n);

/*
 * The fields of rec, a record of kind (enum record_kind), that have a
 * JSON key in the field table: its id first, then what it belongs to,
 * its versioned fields and what the store keeps, each group in the order
 * of the table. Values by field type: text, words and times are strings
 * (null when unset), numbers are numbers (efforts null when unset), flags
 * true or false, lists arrays of strings.
 */
json_t *json_record(int kind, const void *rec);

/* A session as 'session show --json' prints it: its fields, and after
 * "deleted" the counts "groups" (live groups), "tasks" and "completed"
 * (live tasks, and those completed). */
int json_session(struct store *st, const struct session *s, json_t **out);
/* A group: its fields, and after "deleted" the counts "tasks" and
 * "completed" of its live tasks. */
int json_group(struct store *st, const struct group *g, json_t **out);
/* A task: its fields, and after "group" the "group_name". */
int json_task(struct store *st, const struct task *t, json_t **out);
/* The session, group or task (RK_SESSION, RK_GROUP or RK_TASK) with this
 * id, as above; ENG_NOTFOUND when there is none. */
int json_record_get(struct store *st, int kind, const char *id, json_t **out);

/* Arrays: the live sessions, oldest first; the groups of a session (NULL:
 * of every session, by session id) in their order; the tasks as
 * store_task_list() filters and orders them. */
int json_sessions(struct store *st, json_t **out);
int json_groups(struct store *st, const char *session_id, bool include_deleted,
                json_t **out);
int json_tasks(struct store *st, const char *session_id, int status,
               const char *group_id, bool include_deleted, json_t **out);

/* The whole database: {"taskfs":1, "revision":N, "sessions":[...]}, every
 * session with its groups, every group with its tasks, deleted ones
 * included; each record with its live sections ("sections", appended),
 * and the lists in place of the counts "groups" and "tasks". */
int json_export(struct store *st, json_t **out);

/* The conflicts of a session (NULL: all), oldest first; only unresolved
 * ones when open_only. */
int json_conflicts(struct store *st, const char *session_id, bool open_only,
                   json_t **out);
/* The value and text backups of a session (NULL: all), newest first. */
int json_backups(struct store *st, const char *session_id, json_t **out);

/* The health figures of a session (NULL: all): the sync statistics, the
 * errors by kind, the open conflicts given (open, n of them, oldest
 * first), each with the path of its .conflict.md file from files (null
 * where files has no entry), and the last ten failed operations. */
int json_sync_stats(struct store *st, const char *session_id,
                    const struct conflict *open, size_t n,
                    const struct strlist *files, json_t **out);

/* Changes of the history (as store_changes_recent returns them, for
 * 'taskctl log' the edits applied through a mount), n of them, in their
 * order. Old and new values are numbers where the field is a number (a
 * flag is 0 or 1). */
json_t *json_edit_log(const struct change *v, size_t n);

/* The automatic backups of the database at db_path, newest first, as
 * objects with the keys path, time ("YYYY-MM-DD HH:MM:SS", UTC), reason
 * and size. Fails as store_dbbackup_list (which needs no store). */
int json_dbbackups(const char *db_path, json_t **out);

#endif
