/* SPDX-License-Identifier: MIT */
/* watch.h: the watcher thread. It notices commits to the database by any
 * program (taskctl, sqlite3, the mount's own saves) on a store connection
 * of its own, finds what they changed in the history, and tells the
 * kernel to forget the names, attributes, pages and listings of exactly
 * the generated files and directories that show it (more when unsure,
 * never less). That is what lets the kernel cache generated files for
 * long. Notifications are sent without fs->lock held. */
#ifndef TASKFS_WATCH_H
#define TASKFS_WATCH_H

#include "fs.h"

/* Starts the watcher (fs->se must be mounted): fs->watching is set when
 * it runs. When its connection cannot be opened it logs why and the
 * mount keeps the kernel's caches short, as without it. */
void watch_start(struct fs *fs);
/* Stops the watcher and closes its connection. Takes fs->lock. */
void watch_stop(struct fs *fs);

/*
 * Waits until the watcher has made a pass that started after this call,
 * and so has told the kernel what a commit just made changed (a save
 * through the mount: a task moved to another folder by an edit of its
 * file). Called without fs->lock, and only where the kernel holds no
 * directory lock for the caller's request (flush, fsync; not rename):
 * the watcher's notifications may wait for directory locks.
 */
void watch_sync(struct fs *fs);

/* The watcher starts over: the database file was replaced (or is gone),
 * so every generated name, attribute, page and listing the kernel holds
 * is forgotten at its next pass. Lock held. */
void watch_forget_all(struct fs *fs);
/* The pass of the watcher now, for a listing taken now. Lock held. */
uint64_t watch_seq(const struct fs *fs);
/* A listing of dir taken before the watcher last invalidated it was
 * given to the kernel: the watcher invalidates dir again. Lock held. */
void watch_stale_listing(struct fs *fs, struct node *dir);

/* Records that the kernel holds name in parent for n (a lookup, a
 * rename), for the watcher to invalidate. Lock held. */
void watch_name(struct node *n, fuse_ino_t parent, const char *name);
/* Frees n's recorded names. Lock held. */
void watch_names_free(struct node *n);

/* The nodes every pass looks at (fs->watched): generated directories and
 * files without a revision of their own, from when they are made
 * (watch_node_new), and a node frozen for its readers, whose names must
 * lead to a new inode (watch_node_frozen). watch_node_gone: n is freed
 * or becomes an ordinary file; its names are freed too. Lock held. */
void watch_node_new(struct fs *fs, struct node *n);
void watch_node_frozen(struct fs *fs, struct node *n);
void watch_node_gone(struct fs *fs, struct node *n);

#endif
