/* SPDX-License-Identifier: MIT */
/* sync.h: what a file operation means for the store. A saved text is
 * parsed and compared, field by field, with the database as of the
 * revision the text was made from (its base) and with the database now;
 * what only the file changed is applied in one transaction. Renames and
 * deletions of files become renames, status changes and soft deletions
 * of records. Knows nothing of FUSE.
 */
#ifndef TASKFS_SYNC_H
#define TASKFS_SYNC_H

#include <stdint.h>

#include "buf.h"
#include "config.h"
#include "parse.h"
#include "store.h"
#include "view.h"

enum save_outcome {
  SAVE_APPLIED, /* the database holds the edit */
  SAVE_HELD,    /* the text is kept at its path with a diagnostic */
  SAVE_PLAIN,   /* not a file of the tree: keep it as an ordinary file */
};

struct save_result {
  int outcome;
  struct vnode file; /* the file the text was saved as */
  struct buf report; /* "line N: error|warning: ..." lines */
  int errors, warnings;
  int changes;     /* fields and records changed */
  int conflicts;   /* conflicts recorded for a person to resolve */
  int64_t rev;     /* the file's revision after the save */
  bool unrecorded; /* the sync log could not take the save's record */
};

void save_result_init(struct save_result *r);
void save_result_release(struct save_result *r);

/* The last text a path served, for saves that carry no revision of their
 * own and for telling edits of generated parts. */
struct served {
  int64_t rev; /* 0 when nothing was served */
  const char *text;
  size_t len;
  /* The text replaces what was served (a file made again after an
   * unlink): rev is the base, whatever revision the text names. */
  bool replaces;
  /* The task blocks of earlier texts of this file (parse_doc_memo), or
   * NULL; the save updates it. */
  struct parse_memo *memo;
};

/*
 * Saves text written to the editable file f. A field the database also
 * changed is settled by policy (NULL: the defaults of config.h): merged,
 * taken from one side with the other backed up, or recorded as a
 * conflict for a person (res->conflicts), shown in f's .conflict.md.
 *
 * Returns ENG_OK with outcome SAVE_APPLIED; or ENG_PARSE with outcome
 * SAVE_HELD when the text cannot be applied whole (bad input, an unknown
 * id): nothing of it is applied, the text is stored as the file's draft
 * (the file reads it until it is fixed or discarded) with the
 * diagnostics; or another result when the store failed (busy, read-only,
 * full): nothing changed and nothing was stored.
 *
 * For a conflict file, applies the options ticked in it (ENG_PARSE when
 * some could not be applied: they stay open, with a note).
 */
int sync_save(struct store *st, const struct vnode *f, const char *text,
              size_t len, const struct served *served,
              const struct policy *policy, struct save_result *res);

/*
 * The text of a new file called name in the generated directory dir.
 * In task_groups/ a text with a title and no known id becomes a new group
 * named after the file; in tasks/<status>/ a task text whose Group names a
 * group becomes a new task with that status (its id is the file's name
 * when that is free). res->file then names its file. A text that names an
 * existing record at that record's own file name is a save of it (a
 * re-created file), as with sync_save. Anything else is SAVE_PLAIN.
 */
int sync_create(struct store *st, const struct vnode *dir, const char *name,
                const char *text, size_t len, const struct served *served,
                const struct policy *policy, struct save_result *res);

/*
 * Renames the file f to newname in the generated directory newdir:
 * a group file within task_groups/ renames the group; a task file moved to
 * another status directory (keeping its name) changes the task's status.
 * ENG_PERM for anything else. *out receives the file's new vnode.
 */
int sync_rename(struct store *st, const struct vnode *f,
                const struct vnode *newdir, const char *newname,
                struct vnode *out);

/* Soft-deletes the group or task that f shows (restorable with taskctl).
 * ENG_PERM for other files. */
int sync_delete(struct store *st, const struct vnode *f);

/* Discards the draft held at f (an error file removed); the text is kept
 * as a backup. */
int sync_discard(struct store *st, const struct vnode *f);

/* Resolves every open conflict of file f keeping the database's version
 * (its conflict file removed). */
int sync_keep_db(struct store *st, const struct vnode *f);

/*
 * Brings a backup back. A value goes back into its field (the value it
 * replaces is backed up first); a whole text is saved to its file as
 * sync_save would (res says how it went; its own conflicts are recorded
 * as for any save).
 */
int sync_restore_backup(struct store *st, int64_t id,
                        const struct policy *policy, struct save_result *res);

/* Resolves one conflict by id: how is "db", "file" or "manual" (then with
 * the text the user wrote). */
int sync_resolve(struct store *st, int64_t id, const char *how,
                 const char *manual);

#endif
