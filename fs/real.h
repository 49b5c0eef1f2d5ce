/* SPDX-License-Identifier: MIT */
/* real.h: the ordinary files under the mount, served from the real
 * directory under the mount point: one node per real inode, reached
 * through an O_PATH descriptor. Every function expects fs->lock held and
 * returns 0 (or a descriptor) on success, -errno on failure. */
#ifndef TASKFS_REAL_H
#define TASKFS_REAL_H

#include "fs.h"

/* The node of name in directory dir, made if needed. */
int real_lookup(struct fs *fs, struct node *dir, const char *name,
                struct node **out);
/* The attributes of the real file, with the node's inode number and the
 * mount's block size (IO_BLOCK). */
int real_attr(const struct node *n, struct stat *st);

/* What real_make makes: a symbolic link to link, else a directory or
 * device node, FIFO or socket of mode (with rdev). */
struct real_new {
  mode_t mode;
  dev_t rdev;
  const char *link;
};
/* Makes name in dir's real directory (made if it is a generated
 * directory's and missing), owned by the caller ctx when the daemon may
 * give it away; *out is its node. */
int real_make(struct fs *fs, const struct fuse_ctx *ctx, struct node *dir,
              const char *name, const struct real_new *what, struct node **out);
/* Creates (or opens, without O_EXCL) the file name in dir with open
 * flags; returns its descriptor, *out its node. */
int real_create(struct fs *fs, const struct fuse_ctx *ctx, struct node *dir,
                const char *name, int flags, mode_t mode, struct node **out);
/* Opens the file of n with open flags; returns the descriptor. The task
 * database itself is refused (EACCES): a program that closed it would
 * drop the daemon's SQLite locks. */
int real_open(struct fs *fs, struct node *n, int flags);
/* real_open as a handle of the file (*out), and real_create as a handle
 * of the new file (*n its node, *out the handle). */
int real_open_handle(struct fs *fs, struct node *n, int flags,
                     struct handle **out);
int real_create_handle(struct fs *fs, const struct fuse_ctx *ctx,
                       struct node *dir, const char *name, int flags,
                       mode_t mode, struct node **n, struct handle **out);
/* The flush of a descriptor: a close of a copy of it, so that the file
 * system underneath reports what its close would (NFS, quotas). */
int real_flush(int fd);
/* Appends the whole file to out: -EFBIG past max bytes. */
int real_read_all(struct fs *fs, struct node *n, struct buf *out, size_t max);
/* The target of a symbolic link, NUL-terminated in buf. */
int real_readlink(const struct node *n, char *buf, size_t size);
/* Sets what to_set names (FUSE_SET_ATTR_*); hfd is the descriptor of the
 * handle it came through, or -1. */
int real_setattr(struct node *n, const struct stat *attr, int to_set, int hfd);
int real_unlink(struct fs *fs, struct node *dir, const char *name, bool is_dir);
int real_rename(struct fs *fs, struct node *dir, const char *name,
                struct node *newdir, const char *newname, unsigned flags);
/* A new name newname in newdir for the file of n. */
int real_link(struct fs *fs, struct node *n, struct node *newdir,
              const char *newname);

/* Adds the entries of dir's real directory (but "." and "..") to the
 * listing of directory handle h, after those it holds: the generated
 * names, which win over ordinary files of the same name. A generated
 * directory without a real counterpart adds nothing. */
int real_list(struct fs *fs, struct node *dir, struct handle *h);
/* A directory handle of ordinary directory dir, listing it. */
int real_opendir(struct fs *fs, struct node *dir, struct handle **out);

/* A copy of n's descriptor for the xattr calls (through its /proc
 * link); -ENOTSUP for a symbolic link, whose extended attributes are not
 * served. The caller closes it. */
int real_xattr_fd(const struct node *n);

#endif
