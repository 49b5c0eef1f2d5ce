/* SPDX-License-Identifier: MIT */
/* view.h: the generated tree. Which directories and files exist for the
 * records in the store, what they are called, and what each one shows.
 * Knows nothing of FUSE: the filesystem keeps a vnode per inode and asks
 * here what a name means, what a directory lists and what a file reads.
 *
 *   <session>/session.md               VK_SESSION_MD
 *   <session>/task_groups/<group>.md   VK_GROUP_MD
 *   <session>/tasks/<status>/<id>.md   VK_TASK_MD
 *   <session>/notes/<name>.md          VK_NOTES_MD
 *   <session>/meta/sync_status.md      VK_SYNC_STATUS
 *   <session>/meta/edit_log.md         VK_EDIT_LOG
 *   <session>/meta/backups/<id>-<what>.md  VK_BACKUP_MD
 *   <file stem>.error.md beside a file whose saved text is held
 *   <file stem>.conflict.md beside a file with unresolved conflicts
 */
#ifndef TASKFS_VIEW_H
#define TASKFS_VIEW_H

#include <stdbool.h>

#include "blocks.h"
#include "buf.h"
#include "render.h"
#include "store.h"

enum vkind {
  VK_ROOT,    /* all sessions */
  VK_SESSION, /* one session's directory */
  VK_GROUPS,
  VK_TASKS,
  VK_STATUS,
  VK_NOTES,
  VK_META,
  VK_BACKUPS, /* meta/backups */
  VK_SESSION_MD,
  VK_GROUP_MD,
  VK_TASK_MD,
  VK_NOTES_MD,
  VK_SYNC_STATUS,
  VK_EDIT_LOG,
  VK_ERROR_MD,
  VK_CONFLICT_MD,
  VK_BACKUP_MD, /* meta/backups/<id>-<what>.md, read-only */
};

struct vnode {
  int kind;
  int status; /* VK_STATUS, VK_TASK_MD: the status directory */
  int notes;  /* VK_NOTES_MD: index in notes_names */
  int target; /* VK_ERROR_MD, VK_CONFLICT_MD: the kind of the file */
  char *session;
  char *record; /* group or task id; for VK_ERROR_MD the target's record */
};

void vnode_init(struct vnode *v);
void vnode_release(struct vnode *v);
void vnode_copy(struct vnode *dst, const struct vnode *src);
bool vnode_eq(const struct vnode *a, const struct vnode *b);

bool view_is_dir(int kind);
/* Files a user may write (their text is parsed back). */
bool view_is_editable(int kind);
/* Editable files, and conflict files (ticking an option resolves). */
bool view_is_writable(int kind);

/*
 * What name means in directory dir. ENG_NOTFOUND when nothing of the
 * generated tree has that name (the name may still be an ordinary file of
 * the user's). out is caller-owned: vnode_release it.
 */
int view_lookup(struct store *st, const struct vnode *dir, const char *name,
                struct vnode *out);

/* Calls fn for every generated entry of dir, in a stable order. A non-zero
 * return from fn stops the walk and is returned. */
typedef int (*view_list_fn)(void *ctx, const char *name,
                            const struct vnode *child);
int view_list(struct store *st, const struct vnode *dir, view_list_fn fn,
              void *ctx);

/* The bytes a file reads: the rendered view, or the held draft when a
 * save of it could not be applied (info->rev is then 0). */
int view_read(struct store *st, const struct vnode *file, struct buf *out,
              struct render_info *info);
/* view_read, with the pieces of group and task files that show one task
 * kept in cache (load_render_cached; NULL: view_read). known_rev: what
 * the caller read in the read transaction it renders in (store_read_begin)
 * as the file's revision (view_revision), having found no draft held for
 * it; 0: both are read here. */
int view_read_cached(struct store *st, struct blocks *cache,
                     const struct vnode *file, int64_t known_rev,
                     struct buf *out, struct render_info *info);

/* The revision of what a file shows, without rendering it. */
int view_revision(struct store *st, const struct vnode *file, int64_t *rev);

/* The path of a file or directory inside its session directory
 * ("task_groups/frontend.md"); "" for the session directory. */
int view_path(struct store *st, const struct vnode *v, struct buf *out);
/* The name of v in its directory ("frontend.md"). */
int view_name(struct store *st, const struct vnode *v, struct buf *out);

/* The draft key of an editable file: kind "session", "group", "task" or
 * "notes", and the record ("<session>/<name>" for notes). The record is
 * appended to rec. Returns the kind, or NULL for other files. */
const char *view_draft_key(const struct vnode *file, struct buf *rec);

#endif
