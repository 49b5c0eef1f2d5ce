/* SPDX-License-Identifier: MIT */
/* virt.h: the generated side of each operation, as real.h is the ordinary
 * side: names in generated directories (an ordinary file of a name no
 * generated entry has is reached through real.h), attributes, opening,
 * truncation, unlinking and renaming of generated files, listings. The
 * engine decides what a name means (view_*) and what a change does to the
 * records (sync_*); saves of text are save.h's.
 *
 * Every function expects fs->lock held and returns 0 or -errno.
 */
#ifndef TASKFS_VIRT_H
#define TASKFS_VIRT_H

#include "fs.h"
#include "real.h"

/* Whether name in dir is a generated file or directory (not hidden by a
 * tomb): 1, its vnode copied to out when out is not NULL; 0 when it is
 * not; a negative errno when the store cannot tell. */
int virt_find(struct fs *fs, struct node *dir, const char *name,
              struct vnode *out);
/* The node of name in generated directory dir: the generated entry, else
 * the ordinary file of that name. Made if needed, not counted. */
int virt_lookup(struct fs *fs, struct node *dir, const char *name,
                struct node **out);
/* The attributes of generated node n: a file's size and time are those of
 * its current rendering, or of the buffer of a writer that wrote to it. */
int virt_attr(struct fs *fs, struct node *n, struct stat *st);
/* chmod (kept while mounted), chown to the owner only, truncate (save.h);
 * h is the handle it came through, or NULL. Times are the records'. */
int virt_setattr(struct fs *fs, struct node *n, const struct stat *attr,
                 int to_set, struct handle *h);

/*
 * Opens generated file n with fi's flags. A reader gets the rendering of
 * this moment, so it never sees a torn document; the kernel keeps its
 * cached pages (fi->keep_cache) only when they hold this same rendering.
 * A writer gets a private buffer (save.h), kept out of the page cache.
 * *inval is set when the kernel holds a size of n other than the
 * reader's: the caller invalidates n's attributes before it replies,
 * once fs->lock is let go.
 */
int virt_open(struct fs *fs, struct node *n, struct fuse_file_info *fi,
              struct handle **out, bool *inval);
/* Gives reader h, opened on what the kernel held, its snapshot: the
 * text its file shows now, which its file's other such readers take
 * too. 0 or -errno. */
int virt_read_snap(struct fs *fs, struct handle *h);
/* create(2) of name in generated directory dir: a generated file that
 * appeared meanwhile is opened (-EEXIST with O_EXCL); a name in its grace
 * time is made again, its text a save of the same record; any other name
 * is an ordinary file. *n gets the node, *out the handle. */
int virt_create(struct fs *fs, const struct fuse_ctx *ctx, struct node *dir,
                const char *name, mode_t mode, struct fuse_file_info *fi,
                struct node **n, struct handle **out, bool *inval);
/* mkdir, symlink, mknod of name in generated directory dir: an ordinary
 * entry, unless the name is generated (-EEXIST) or in its grace time
 * (-EPERM). */
int virt_make(struct fs *fs, const struct fuse_ctx *ctx, struct node *dir,
              const char *name, const struct real_new *what, struct node **out);
/* A new name newname in generated directory newdir for ordinary file n:
 * -EPERM over a generated name or one in its grace time. */
int virt_link(struct fs *fs, struct node *n, struct node *newdir,
              const char *newname);
/* unlink (rmdir with is_dir) of name in generated directory dir. An error
 * file discards the text it explains; an editable file's name goes into a
 * tomb until it is made again; other generated names cannot be removed. */
int virt_unlink(struct fs *fs, struct node *dir, const char *name, bool is_dir);
/*
 * rename of name in generated directory dir. A generated file renamed to
 * another name of its kind changes its record (a group's name, a task's
 * status); renamed anywhere else its text moves to an ordinary file and
 * the managed name goes into a tomb. An ordinary file is save.h's.
 */
int virt_rename(struct fs *fs, struct node *dir, const char *name,
                struct node *newdir, const char *newname, unsigned flags);
/* A directory handle of generated directory dir, not listed yet
 * (listed false): virt_list lists it when it is first read. */
int virt_opendir(struct fs *fs, struct node *dir, struct handle **out);
/* Lists the generated names of h's directory, then the ordinary files of
 * its real directory, into h (listed, listed_seq). On failure h holds
 * only "." and "..", and is listed again at the next call. */
int virt_list(struct fs *fs, struct handle *h);
/* After a rename onto newname in newdir: the kernel holds that name for
 * the generated file now there, which the watcher is told of. */
void virt_renamed(struct fs *fs, struct node *newdir, const char *newname);

#endif
