/* SPDX-License-Identifier: MIT */
/* save.h: what a writer of a generated file holds and how it is saved.
 * A writable handle has a private buffer (all of them together within
 * -o max_buffers); at flush, fsync or release its text is saved through
 * the engine (mount_save), and when the database cannot take it the text
 * is kept beside the file as "<name>.unsaved-<time>". An ordinary file's
 * text becomes a generated file's when it is renamed over one (sed -i,
 * rsync) or closed in task_groups/ or a status folder as a new group or
 * task.
 *
 * Every function expects fs->lock held; those returning int return 0 or
 * -errno.
 */
#ifndef TASKFS_SAVE_H
#define TASKFS_SAVE_H

#include "fs.h"

/* ---- a writer's buffer ---- */

/*
 * A handle writing the generated file n, whose text builds on base
 * (referenced here; may be NULL). With text its buffer starts as those
 * bytes (an open for writing); without, the file was truncated (O_TRUNC,
 * or made again under its name): the empty buffer is the file's newest
 * text. The kernel's pages of n are no longer its text.
 */
struct handle *save_open(struct fs *fs, struct node *n, struct content *base,
                         const struct content *text);
/* Writes len bytes of data at off into writer h's buffer. Returns len,
 * or -EBADF (not open for writing), -EFBIG (past the parse limit) or
 * -ENOMEM (past -o max_buffers, logged): the handle's text is then not
 * what its program meant, and it is never applied. */
ssize_t save_write(struct fs *fs, struct handle *h, const char *data,
                   size_t len, off_t off);
/* A copy of up to size bytes of h's buffer from off, for a read; *len
 * gets its length. The caller frees it (NULL when *len is 0). */
char *save_copy(const struct handle *h, off_t off, size_t size, size_t *len);
/* Truncates the editable generated file n to size: through h when it is
 * a writer of n (its buffer), else as a save of its shortened text. */
int save_truncate(struct fs *fs, struct node *n, struct handle *h, off_t size);

/* ---- saving ---- */

/*
 * Saves text as the new content of the generated file n. served is what
 * the file read when the text was made (may be NULL); with replaces the
 * text replaces it whatever revision it names (the name was unlinked and
 * made again). Returns 0 when the database holds the edit, -EBADMSG when
 * the text was held with a diagnostic beside the file, or another -errno
 * when nothing could be stored (the text is then kept in an .unsaved file
 * beside the file). Every outcome is logged.
 *
 * The caller holds fs->lock. Without apart it holds fs->save_lock too
 * (fs_lock_write) and the save runs under both; with apart it does not,
 * and the save lets go of fs->lock while it works (whatever was read
 * under it must be read again).
 */
int save_text(struct fs *fs, struct node *n, const char *text, size_t len,
              struct content *served, bool replaces, bool apart);
/* Saves the buffer of writer h if it changed (save_text); a buffer a
 * write was refused for is kept beside the file instead, and fails with
 * that write's errno. */
int save_handle(struct fs *fs, struct handle *h, bool apart);
/* A writer's flush (close of one of its descriptors): its buffer is saved
 * when it was written to or holds bytes; a truncation with nothing
 * written yet (a shell's "> file") waits for the release. */
int save_flush(struct fs *fs, struct handle *h);
/* A writer released with unsaved bytes (written through mmap, or a "> f"
 * that wrote nothing): saved now, the database refreshed first. */
void save_release(struct fs *fs, struct handle *h);
/* Saves what every handle the kernel never released holds, logging each,
 * and frees every handle (at unmount). */
void save_at_unmount(struct fs *fs);

/* ---- ordinary files whose text goes into the tree ---- */

/* The flush of ordinary file handle h: the file written through it may
 * now be a new group or task of its generated folder. */
int save_flush_real(struct fs *fs, struct handle *h);
/*
 * The ordinary file name in dir renamed to newname in newdir: onto a
 * generated file, or onto the name of one in its grace time, it is a save
 * of that file (and its node becomes the generated file's); otherwise a
 * plain rename, after which it may be a new group or task.
 */
int save_rename_file(struct fs *fs, struct node *dir, const char *name,
                     struct node *newdir, const char *newname, unsigned flags);

/* Writes len bytes of text to a new file name of mode in the directory
 * dfd, replacing an ordinary file of that name as rename(2) would; a file
 * left half written is removed. */
int save_file_new(int dfd, const char *name, mode_t mode, const char *text,
                  size_t len);

#endif
