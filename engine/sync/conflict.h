/* SPDX-License-Identifier: MIT */
/* conflict.h: what happens when a save and the database changed the same
 * field differently: the policy of taskfs.yaml decides (config.h), values
 * are backed up before anything is overwritten, and what needs a person is
 * recorded as a conflict, shown in a <name>.conflict.md file, and resolved
 * there or with taskctl. Knows nothing of FUSE. */
#ifndef TASKFS_CONFLICT_H
#define TASKFS_CONFLICT_H

#include <stdint.h>

#include "buf.h"
#include "config.h"
#include "store.h"

/* Where a save happens: the file, and the rules. */
struct settle_env {
  const struct policy *policy;
  int64_t now_ns;
  const char *session_id;
  const char *file_kind, *file_record; /* view_draft_key of the file */
  const char *file_path;               /* for labels: task_groups/x.md */
  int64_t base_rev;
  int recorded; /* conflicts recorded by this save (out) */
};

/* A field both sides changed. Values are in the store's text form
 * (store_field_get); NULL is SQL NULL. */
struct clash {
  int type; /* enum conflict_type */
  const char *target_kind, *target_id, *field;
  const char *label; /* "Create layout `dash_001`" */
  const char *base, *db, *file;
  /* How to show the file's value when its text form is not for people:
   * a deleted task the file still edits has field "block", its value a
   * JSON object of the task's fields, shown as the task's text. */
  const char *file_shown;
};

enum settle_outcome {
  SETTLE_KEEP_DB,   /* the database's value stays (file's backed up) */
  SETTLE_TAKE_FILE, /* apply the file's value (database's backed up) */
  SETTLE_MERGED,    /* apply *merged (both changes were kept) */
};

/*
 * Decides a clash by the policy: merges free text line by line when the
 * changes do not overlap; otherwise auto_merge (the later change wins
 * within the window, else user_choice), file_wins, database_wins,
 * user_choice (a conflict is recorded) or manual_task (recorded, and a
 * task asks to resolve it). Backs up whatever is not kept. Runs inside
 * the save's transaction. *merged (for SETTLE_MERGED) is the caller's to
 * free.
 */
int conflict_settle(struct store *st, struct settle_env *env,
                    const struct clash *x, int *outcome, char **merged);

/*
 * Holds the deletion of the tasks ids (of group group_id) that one save
 * asked for: nothing is deleted, and one conflict of type
 * structural_change (field "deletions", the file's value the JSON array
 * of the ids) asks a person to confirm. Option 2 deletes them all,
 * option 3 those whose ids its text names. In the save's transaction.
 */
int conflict_hold_deletions(struct store *st, struct settle_env *env,
                            const char *group_id, const char *label,
                            const struct strlist *ids, size_t shown);

/* The value as a person reads it in a conflict file ("60%", "4h",
 * "`a`, `b`", the text itself). Appends to out. */
void conflict_display(struct store *st, const char *target_kind,
                      const char *field, const char *value, struct buf *out);

/*
 * Resolves conflict id: keep "db", take "file", or "manual" with the
 * text the user wrote (in display form). Backs up both versions first,
 * completes a manual-resolution task. The caller holds a transaction.
 * ENG_INVALID (message in store_errmsg) when the manual text is not a
 * valid value of the field.
 */
int conflict_resolve(struct store *st, int64_t id, const char *how,
                     const char *manual);

/* Brings back a task deleted in the database with the fields a file gave
 * it: json is an object of field name to text form. In a transaction. */
int conflict_restore_block(struct store *st, const char *task_id,
                           const char *json);

/* Renders the conflict file of one file: every unresolved conflict, with
 * the three options to tick. ENG_NOTFOUND when there is none. */
int conflict_render(struct store *st, const char *session_id,
                    const char *file_kind, const char *file_record,
                    const char *path, struct buf *out, int64_t *mtime_ns);

/*
 * Applies a saved conflict file: each conflict with one ticked option is
 * resolved (option 3 with the text in its code block). Problems (two
 * ticks, a manual text that is no valid value) are kept as notes on the
 * conflict, which stays open, and reported in report with their lines.
 * Returns ENG_OK, or ENG_PARSE when there were problems (what could be
 * resolved was).
 */
int conflict_apply_file(struct store *st, const char *file_kind,
                        const char *file_record, const char *text, size_t len,
                        struct buf *report);

#endif
