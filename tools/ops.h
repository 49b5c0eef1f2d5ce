/* SPDX-License-Identifier: MIT */
/* ops.h: what taskctl's commands do to the database, as engine calls
 * shared by its two front-ends, the command line and the MCP server.
 * Never prints: a failure's message is kept on struct ops.
 *
 * Every function returns an enum eng_rc (0 on success). On failure
 * ops_errmsg() says what is wrong and what to do, until the next failure;
 * where it names a command to run, the front-end's hint function words
 * it (a taskctl command line, or an MCP tool). The result codes are the
 * engine's: ENG_NOTFOUND for an unknown id, ENG_INVALID for a value of
 * the wrong form, ENG_BUSY, ENG_READONLY, ENG_FULL for the database.
 *
 * Each change is one write transaction: a failure rolls it back whole.
 * Records and lists filled here are the caller's to release; so is each
 * json_t * handed out (json_decref), set only on success.
 */
#ifndef TASKCTL_OPS_H
#define TASKCTL_OPS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "model.h"
#include "store.h"
#include "sync.h"

/* What a message suggests doing; the front-end words it. */
enum ops_hint {
  HINT_SESSION_LIST,  /* list the sessions */
  HINT_GROUP_LIST,    /* list the groups of session arg (NULL: all) */
  HINT_GROUP_BY_NAME, /* name a group by name: give its session */
  HINT_TASK_LIST,     /* list the tasks */
  HINT_GROUP_RESTORE, /* restore group arg */
  HINT_RESTORE_NAME,  /* restore a group under another name */
  HINT_CONFLICTS,     /* list the unresolved conflicts */
  HINT_BACKUPS,       /* list the backups */
  HINT_BUSY,          /* the database stays locked: how to wait longer */
};
/* Appends the words for hint h (with arg) to out, such as "'taskctl
 * session list' shows them". */
typedef void (*ops_hint_fn)(struct buf *out, enum ops_hint h, const char *arg);

struct ops {
  struct store *st;    /* borrowed; open for as long as ops is used */
  const char *db_path; /* the database's path, for taskfs.yaml beside it */
  ops_hint_fn hint;
  struct buf err; /* the last failure's message */
};

void ops_init(struct ops *o, struct store *st, const char *db_path,
              ops_hint_fn hint);
void ops_release(struct ops *o);
/* The message of the last failure; "" before any. Valid until the next
 * call that fails. */
const char *ops_errmsg(const struct ops *o);
/* Sets the message and returns rc. */
int ops_fail(struct ops *o, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Takes the store's message for rc, with what to do about a busy,
 * read-only or full database; returns rc. */
int ops_fail_store(struct ops *o, int rc);

/* Runs fn between store_begin() and store_commit(), rolling back when fn
 * returns non-zero (fn has set the message). */
int ops_write(struct ops *o, int (*fn)(struct ops *o, void *arg), void *arg);
/* One consistent snapshot for several reads; they nest. */
int ops_read_begin(struct ops *o);
void ops_read_end(struct ops *o);

/* ---- lookups, with messages that say what to do ---- */
int ops_get_session(struct ops *o, const char *id, struct session *out);
/* ENG_OK when session_id is NULL or names a session. */
int ops_check_session(struct ops *o, const char *session_id);
/* A group by id, or by name within session_id (which may be NULL). */
int ops_get_group(struct ops *o, const char *session_id, const char *ref,
                  struct group *out);
int ops_get_task(struct ops *o, const char *id, struct task *out);

/* ---- the fields a change sets, as text ----
 * The command line's option values, or an MCP call's arguments made
 * text: a status word, "60" or "60%", an effort such as "4h" or a number
 * of hours. NULL: not given. */
enum ops_field {
  OF_TITLE,
  OF_NAME, /* a group's file name */
  OF_STATUS,
  OF_PROGRESS,
  OF_PRIORITY,
  OF_SPECIALIST,
  OF_DESCRIPTION,
  OF_ESTIMATE,
  OF_ACTUAL,
  OF_CURRENT_STATUS,
  OF_MODE,  /* a session's mode */
  OF_GROUP, /* a task's group: id, or name within its session */
  OF_COUNT
};
struct ops_fields {
  const char *v[OF_COUNT];
  /* Replace the whole list (an empty list empties it); NULL: keep. */
  const struct strlist *dependencies, *deliverables;
};
void ops_fields_init(struct ops_fields *f);
/* A task or group status word (synonyms such as "done" too) into *out. */
int ops_parse_status(struct ops *o, const char *s, int *out);

/* ---- sessions ---- */
/* *id_out (the caller frees it) gets the new session's id; id NULL makes
 * one. Needs f->v[OF_TITLE]. */
int ops_session_create(struct ops *o, const char *id,
                       const struct ops_fields *f, char **id_out);
int ops_session_set(struct ops *o, const char *id, const struct ops_fields *f);

/* ---- groups ---- */
int ops_group_create(struct ops *o, const char *session_id, const char *id,
                     const struct ops_fields *f, char **id_out);
enum ops_change { OPS_SET, OPS_REMOVE, OPS_RESTORE };
/* Sets fields of (OPS_SET), softly deletes (OPS_REMOVE) or restores
 * (OPS_RESTORE, optionally under the name f->v[OF_NAME]) the group ref,
 * an id or a name within session_id. *id_out gets its id. */
int ops_group_change(struct ops *o, const char *session_id, const char *ref,
                     enum ops_change what, const struct ops_fields *f,
                     char **id_out);

/* ---- tasks ---- */
/* Adds a task to group f->v[OF_GROUP] (an id, or a name within
 * session_id). */
int ops_task_add(struct ops *o, const char *session_id, const char *id,
                 const struct ops_fields *f, char **id_out);
/* What ops_task_change found out besides its result. */
struct ops_task_note {
  bool group_deleted; /* a restored task whose group is deleted */
  char *group_id;     /* its group; the caller frees it */
};
int ops_task_change(struct ops *o, const char *id, enum ops_change what,
                    const struct ops_fields *f, struct ops_task_note *note);
/*
 * Adds the tasks of tasks, a JSON array of objects (the keys of
 * taskctl(1)'s JSON INPUT), in one transaction, all or none; ids gets the
 * new ids in input order. A refused element is named by its index in the
 * message. tasks stays the caller's.
 */
int ops_task_import(struct ops *o, const json_t *tasks, struct strlist *ids);

/* ---- JSON of records and lists (json.c) ---- */
/* The session, group or task (kind, an enum owner_kind) with this id, as
 * 'show --json' prints it. */
int ops_record_json(struct ops *o, int kind, const char *id, json_t **out);
int ops_sessions_json(struct ops *o, json_t **out);
int ops_groups_json(struct ops *o, const char *session_id, bool include_deleted,
                    json_t **out);
/* status -1 for all; group_ref NULL for all, else an id or a name within
 * session_id. */
int ops_tasks_json(struct ops *o, const char *session_id, int status,
                   const char *group_ref, bool include_deleted, json_t **out);

/* ---- conflicts and backups ---- */
/* all: resolved ones too. */
int ops_conflicts_json(struct ops *o, const char *session_id, bool all,
                       json_t **out);
/* how: "db", "file" or "manual" with value (the text as in a file).
 * out (may be NULL) gets the resolved conflict. */
int ops_resolve(struct ops *o, int64_t id, const char *how, const char *value,
                struct conflict *out);
int ops_backups_json(struct ops *o, const char *session_id, json_t **out);
/* Brings backup id back (sync_restore_backup) with the policies of
 * taskfs.yaml beside the database. b gets the backup; res says how the
 * save went. ENG_PARSE when its text has errors (held at its file; the
 * lines are in res->report). */
/* The conflict policies a mount uses by default: taskfs.yaml beside the
 * database, else the defaults (a mount given -o config=FILE may use
 * others, which this cannot know). */
struct policy;
int ops_load_policy(struct ops *o, struct policy *p);

int ops_restore_backup(struct ops *o, int64_t id, struct backup *b,
                       struct save_result *res);

/* ---- sync health ---- */
/* The unresolved conflicts of a session (NULL: all), oldest first, and
 * the path within its session of each one's .conflict.md file ("" when
 * it has none). */
struct ops_open_conflicts {
  struct conflict *v;
  size_t n;
  struct strlist files;
};
int ops_open_conflicts(struct ops *o, const char *session_id,
                       struct ops_open_conflicts *out);
void ops_open_conflicts_release(struct ops_open_conflicts *oc);
/* The health figures of json_sync_stats, with the open conflicts and
 * their files. */
int ops_stats_json(struct ops *o, const char *session_id, json_t **out);
/* The newest changes of a session (NULL: of all) by source (NULL: any),
 * newest first, at most limit (0: all). Free with store_changes_free. */
int ops_changes(struct ops *o, const char *session_id, const char *source,
                size_t limit, struct change **out, size_t *n);

#endif
