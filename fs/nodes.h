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
void content_unref(struct content *c);
/* Drops n's cached rendering: out of fs->lru, its bytes uncounted. */
void node_cache_drop(struct fs *fs, struct node *n);
void vnode_key(const struct vnode *v, struct buf *out);

/* Frees every node and the tables, at unmount (handles are gone by then:
 * the kernel released them, or fs_ops.destroy saved and freed them). */
void nodes_free_all(struct fs *fs);

/* An O_PATH descriptor of a directory node's real directory, or -errno.
 * With create, a missing real directory of a generated one is made. */
int node_open_dir(struct fs *fs, const struct node *dir, bool create);

#endif
