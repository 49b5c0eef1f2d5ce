/* SPDX-License-Identifier: MIT */
/* folder_tree.h: the engine as the folder sync sees it: the generated tree
 * (names, listings, contents) and what a changed, new, renamed or removed
 * file means for the database. The only file of the folder sync that
 * calls the engine's view, sync and parse modules: the same calls the
 * mount makes, so a folder follows the mount's rules exactly.
 *
 * Results are enum eng_rc, with the detail in store_errmsg(); what is
 * filled is the caller's (vnode_release, tree_result_release).
 */
#ifndef TASKCTL_FOLDER_TREE_H
#define TASKCTL_FOLDER_TREE_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "config.h"
#include "parse.h"
#include "store.h"
#include "util.h"
#include "view.h"

/* The largest text read back, as on the mount (larger writes get EFBIG
 * there). */
#define TREE_MAX_BYTES PARSE_MAX_BYTES

/* The root of a checkout: all sessions (session NULL), as the mount's
 * root shows them, or one session's folder. */
void tree_root(const char *session, struct vnode *out);

/* The string a manifest keeps for the file v ("task active - - s1 t1"),
 * and back; false for a string that names no file. */
void tree_what(const struct vnode *v, struct buf *out);
bool tree_from_what(const char *what, struct vnode *out);

/* One folder or file of the tree. */
struct tree_item {
  char *path; /* relative to the root: "s1/task_groups/a.md" */
  struct vnode v;
};
/* Every folder under root (not the files), parents first; free with
 * tree_items_free. */
int tree_dirs(struct store *st, const struct vnode *root,
              struct tree_item **out, size_t *n);
/* Every folder and file under root, folders before what they hold. The
 * caller frees the list with tree_items_free. */
int tree_list(struct store *st, const struct vnode *root,
              struct tree_item **out, size_t *n);
void tree_items_free(struct tree_item *v, size_t n);
/* The path of v relative to the checkout's root: "s1/task_groups/a.md"
 * under all sessions, "task_groups/a.md" under one. */
int tree_path(struct store *st, const struct vnode *root, const struct vnode *v,
              struct buf *out);
/* What name means in the folder dir of the tree: ENG_NOTFOUND when it is
 * no name of the tree. */
int tree_lookup(struct store *st, const struct vnode *dir, const char *name,
                struct vnode *out);

bool tree_is_dir(const struct vnode *v);
/* A file whose text is parsed back (session, group, task, notes). */
bool tree_is_editable(const struct vnode *v);
/* An editable file, or a conflict file (ticking an option resolves). */
bool tree_is_writable(const struct vnode *v);
/* Group or task files: their record is deleted softly with the file. */
bool tree_is_record(const struct vnode *v);
/* Error files (removing one discards the held text) and conflict files
 * (removing one keeps the database's versions). */
bool tree_is_error(const struct vnode *v);
bool tree_is_conflict(const struct vnode *v);
/* A file whose bytes change only when its revision moves (editable files
 * and the edit log), or never (a backup). */
bool tree_is_versioned(const struct vnode *v);
bool tree_is_fixed(const struct vnode *v);
/* "group", "task", "session", "notes", "conflict", ... */
const char *tree_kind_name(const struct vnode *v);
/* The folders new records may be made in: task_groups/, tasks/STATUS/. */
bool tree_takes_new(const struct vnode *dir);
/* Whether a file called name, made in such a folder, is tried as a new
 * record (as on the mount: "*.md", not hidden); editors' swap, backup,
 * lock and temporary names are not, except Python's "tmpXXXX.md", whose
 * text then names a record under another name: an ordinary file. */
bool tree_may_be_new(const char *name);
/* The file an error or conflict file is beside. */
void tree_target(const struct vnode *beside, struct vnode *out);
/* Whether f and g are one record's file (group or task). */
bool tree_same_record(const struct vnode *f, const struct vnode *g);

/* Which files a change of the database since a revision may have
 * changed: all of them, or (when only tasks changed) besides the files
 * that show many records, only the files of those tasks. */
struct tree_filter {
  bool all;
  char **tasks; /* sorted */
  size_t ntasks;
};
int tree_filter_since(struct store *st, int64_t rev, struct tree_filter *out);
bool tree_filter_may_change(const struct tree_filter *flt,
                            const struct vnode *v);
void tree_filter_release(struct tree_filter *flt);

/* What f reads now: the rendering, or the text held there. *rev gets the
 * revision it shows (0: a held text or a report that has none) and
 * *mtime_ns the time of its last change (0: unknown). */
int tree_read(struct store *st, const struct vnode *f, struct buf *out,
              int64_t *rev, int64_t *mtime_ns);
/* The revision of what f shows, without rendering it. */
int tree_revision(struct store *st, const struct vnode *f, int64_t *rev);

/* What a save did. */
enum tree_outcome {
  TREE_APPLIED, /* the database holds the edit */
  TREE_HELD,    /* the text is held at its path with a diagnostic */
  TREE_PLAIN,   /* no file of the tree: an ordinary file */
};
struct tree_result {
  int outcome;
  struct vnode file; /* the file the text was saved as */
  struct buf report; /* "line N: error|warning: ..." lines */
  int errors, warnings, changes, conflicts;
};
void tree_result_init(struct tree_result *r);
void tree_result_release(struct tree_result *r);

/*
 * Saves text to the editable or conflict file f, as a close(2) on the
 * mount does. served_rev and served (its bytes) are what the path last
 * showed (0 and NULL when unknown): the base of a text without a
 * revision line, and what its generated parts are compared with.
 * ENG_OK (applied), ENG_PARSE (held, or options of a conflict file left
 * open), or the store's failure (nothing changed).
 */
int tree_save(struct store *st, const struct vnode *f, const char *text,
              size_t len, int64_t served_rev, const char *served,
              size_t served_len, const struct policy *policy,
              struct tree_result *res);
/* A new file name in the folder dir: a new group or task when its text
 * is one (res->file names the record's file), else TREE_PLAIN. */
int tree_create(struct store *st, const struct vnode *dir, const char *name,
                const char *text, size_t len, const struct policy *policy,
                struct tree_result *res);
/* The file f moved to newname in the folder newdir: a group renamed, a
 * task's status. ENG_PERM when the move means neither. */
int tree_rename(struct store *st, const struct vnode *f,
                const struct vnode *newdir, const char *newname,
                struct vnode *out);
/* The file f removed: its group or task is deleted softly. */
int tree_delete(struct store *st, const struct vnode *f);
/* The error file beside f removed: the text held at f is discarded. */
int tree_discard(struct store *st, const struct vnode *f);
/* The conflict file beside f removed: the database's versions stay. */
int tree_keep_db(struct store *st, const struct vnode *f);

/*
 * Whether text, a new file's text in the folder dir, already made a
 * record after revision rev: a group or task created since, in dir's
 * session, with the text's title (and for a task its group). For a pass
 * killed between the database's commit and replacing the file. *out gets
 * the record's file.
 */
bool tree_made_since(struct store *st, const struct vnode *dir,
                     const char *text, size_t len, int64_t rev,
                     struct vnode *out);

/* The record a group or task text names in its front matter or heading
 * (session and id; NULL when it names none). The caller frees both. */
void tree_identity(const char *text, size_t len, const struct vnode *f,
                   char **session, char **record);

#endif
