/* SPDX-License-Identifier: MIT */
/* nodes.h: the inode table of the filesystem and the real paths of its
 * nodes. Every function here expects fs->lock held. */
#ifndef TASKFS_NODES_H
#define TASKFS_NODES_H

#include "fs.h"
#include "names.h"

/* The node of an inode number, or NULL. */
struct node *node_get(struct fs *fs, fuse_ino_t ino);
/* The node that shows v, made if needed (with nlookup 0). */
struct node *node_virt(struct fs *fs, const struct vnode *v);
/* The node of an ordinary file name in directory parent, made if needed. */
struct node *node_real(struct fs *fs, struct node *parent, const char *name);
struct node *node_real_find(struct fs *fs, struct node *parent,
                            const char *name);
/* Renames an ordinary node; a node that had the target name is detached. */
void node_move(struct fs *fs, struct node *n, struct node *parent,
               const char *name);
/* Removes a node from its key table, so that it names nothing any more
 * (it lives on while the kernel or a handle holds it). */
void node_detach(struct fs *fs, struct node *n);
/* Drops count kernel lookups; frees the node when nothing holds it. */
void node_forget(struct fs *fs, struct node *n, uint64_t count);
void node_maybe_free(struct fs *fs, struct node *n);
void content_unref(struct content *c);
/* Drops n's cached rendering: out of fs->lru, its bytes uncounted. */
void node_cache_drop(struct fs *fs, struct node *n);
void vnode_key(const struct vnode *v, struct buf *out);

/* Frees every node and the tables, at unmount (handles are gone by then:
 * the kernel released them, or fs_ops.destroy saved and freed them). */
void nodes_free_all(struct fs *fs);

/* The path of a node's real counterpart relative to fs->realfd. */
int node_relpath(struct fs *fs, const struct node *n, struct buf *out);
/* An O_PATH descriptor of a directory node's real directory, or -errno.
 * With create, a missing real directory of a generated one is made. */
int node_open_dir(struct fs *fs, const struct node *dir, bool create);
/* Opens an ordinary node with flags (confined below realfd). */
int node_open_real(struct fs *fs, const struct node *n, int flags);

#endif
