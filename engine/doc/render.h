/* SPDX-License-Identifier: MIT */
/* render.h: turns store records into the markdown of each file kind.
 * Knows nothing of FUSE or of parsing; the grammar it writes is the one
 * parse.c reads and docs/format.md describes.
 *
 * Rendering is deterministic: the same database state gives the same
 * bytes. Every function appends to out, returns an enum eng_rc (details
 * in store_errmsg), and reads one consistent snapshot of the store.
 */
#ifndef TASKFS_RENDER_H
#define TASKFS_RENDER_H

#include <stdint.h>

#include "buf.h"
#include "grammar.h"
#include "model.h"
#include "store.h"

/* What a rendered file is: its revision (the newest change to anything
 * it shows, written as "revision:" in its front matter) and the time of
 * that change. */
struct render_info {
  int64_t rev;
  int64_t mtime_ns;
};

/* Fills info, when not NULL, for a text kept at time created_at (a held
 * draft, a backup): rev, and created_at as the modification time. */
void render_info_set(struct render_info *info, int64_t rev,
                     const char *created_at);

int render_session(struct store *st, const char *session_id, struct buf *out,
                   struct render_info *info);
int render_group(struct store *st, const char *group_id, struct buf *out,
                 struct render_info *info);
int render_task(struct store *st, const char *task_id, struct buf *out,
                struct render_info *info);
int render_notes(struct store *st, const char *session_id, int notes,
                 struct buf *out, struct render_info *info);
/* meta/sync_status.md: open problems (files held with errors), warnings
 * of recent saves, and counts. Read-only. */
int render_sync_status(struct store *st, const char *session_id,
                       struct buf *out, struct render_info *info);
/* meta/edit_log.md: the changes made through the mount, newest first. */
int render_edit_log(struct store *st, const char *session_id, struct buf *out,
                    struct render_info *info);
/* meta/backups/<id>-<what>.md: one backup, and how to bring it back. */
int render_backup(struct store *st, int64_t id, struct buf *out,
                  struct render_info *info);
/* <name>.error.md: why the text held at a path could not be applied. */
int render_error(struct store *st, const char *kind, const char *record,
                 const char *path, struct buf *out, struct render_info *info);

/* Front matter: "---", taskfs: 1, session (when non-NULL), key: value when key
 * is non-NULL, revision, "---". Values are quoted by libyaml's emitter as YAML
 * needs. */
void render_front_matter(struct buf *out, const char *session_id,
                         const char *key, const char *value, int64_t rev);

/* The text of a task block without its heading line, as it appears both
 * in group files and task files (the task file adds the group name). */
void render_task_body(struct buf *out, const struct task *t,
                      const char *group_name);

#endif
