/* SPDX-License-Identifier: MIT */
/* nodes.h: the inode table of the filesystem: how nodes are keyed (the
 * only place that builds keys), the real paths of their directories, and
 * the handles open on them. Every function here expects fs->lock held. */
#ifndef TASKFS_NODES_H
#define TASKFS_NODES_H

#include "fs.h"
#include "names.h"

/* d_ino of listed entries the kernel has not looked up yet (it ignores
 * it). */
#define UNKNOWN_INO 0xffffffffu

/* The key of inode number ino in fs->inodes (and fs->watched). */
void node_ino_key(fuse_ino_t ino, char out[24]);
/* The node of an inode number, or NULL. */
struct node *node_get(struct fs *fs, fuse_ino_t ino);
/* The node that shows v, made if needed (with nlookup 0). A task's file
 * is one node whatever status folder lists it, so that a task moved
 * between folders keeps its inode. */
struct node *node_virt(struct fs *fs, const struct vnode *v);
/* The node that shows v, or NULL when it has none. */
struct node *node_virt_known(struct fs *fs, const struct vnode *v);
/* The node of the real file st, reached as name in dir. It takes fd (an
 * O_PATH descriptor of the file), or closes it when the inode has a node
 * already: each real inode has one node, whatever names it has. */
struct node *node_real(struct fs *fs, struct node *dir, const char *name,
                       int fd, const struct stat *st);
/* The node of real inode ino of device dev, or NULL. */
struct node *node_real_known(struct fs *fs, dev_t dev, ino_t ino);
/* Records that the real node n was last reached as name in dir (NULL:
 * by no known name). Only the adoption of new files and log lines use
 * it; the file itself is reached through n->fd. */
void node_name(struct fs *fs, struct node *n, struct node *dir,
               const char *name);
/* A generated node becomes the real file st (fd: an O_PATH descriptor of
 * it, which the node takes), reached as name in dir; a real node becomes
 * the generated file v. Handles and caches are the caller's to adjust. */
void node_make_real(struct fs *fs, struct node *n, int fd,
                    const struct stat *st, struct node *dir, const char *name);
void node_make_virt(struct fs *fs, struct node *n, const struct vnode *v);
/* Removes a node from its key table, so that it names nothing any more
 * (it lives on while the kernel or a handle holds it). */
void node_detach(struct fs *fs, struct node *n);
/* Drops count kernel lookups; frees the node when nothing holds it. */
void node_forget(struct fs *fs, struct node *n, uint64_t count);
void node_maybe_free(struct fs *fs, struct node *n);
/* -ENOTDIR when n is a generated file, else 0: a directory argument of a
 * call (an ordinary node is checked by the system call made on it). */
int node_check_dir(const struct node *n);

/* Calls fn for every node; fn must not free or add nodes. */
void nodes_each(struct fs *fs, void (*fn)(void *ctx, struct node *n),
                void *ctx);

/* Makes the tables and the node of fs->root, inode 1. */
void nodes_init(struct fs *fs);
/* Frees every node and the tables, at unmount (handles are gone by then:
 * the kernel released them, or fs_ops.destroy saved and freed them). */
void nodes_free_all(struct fs *fs);

/* An O_PATH descriptor of a directory node's real directory, or -errno.
 * With create, a missing real directory of a generated one is made. */
int node_open_dir(struct fs *fs, const struct node *dir, bool create);
/* The same for the generated directory v, which needs no node. */
int node_open_vdir(struct fs *fs, const struct vnode *v, bool create);

/* ---- handles ---- */

/* A new handle of type (HT_*) open on n, counted in n->opens. Freed with
 * handle_free, which may free n. */
struct handle *handle_new(int type, struct node *n);
/* A directory handle of n whose listing holds "." and "..". */
struct handle *handle_new_dir(struct node *n);
/* Appends an entry to a directory handle's listing (name copied). */
void handle_add_entry(struct handle *h, const char *name, mode_t type,
                      fuse_ino_t ino);
void handle_free(struct fs *fs, struct handle *h);
/* Every open handle, in an array of *n that the caller frees (the handles
 * stay the nodes'). */
struct handle **handles_all(struct fs *fs, size_t *n);

#endif
