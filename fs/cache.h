/* SPDX-License-Identifier: MIT */
/* cache.h: the renderings of generated files. A content is one immutable
 * rendering, shared by the handles that read it; each node keeps its last
 * one while the version it shows holds; those no handle holds are dropped,
 * least recently used first, past -o render_cache. Knows nothing of
 * handles' buffers or saves.
 *
 * Every function expects fs->lock held, except content_ref and
 * content_unref: a content's count is atomic, so that a read copies from a
 * snapshot without the lock. Functions returning int return 0 or -errno.
 */
#ifndef TASKFS_CACHE_H
#define TASKFS_CACHE_H

#include "fs.h"

/* A new empty content with one reference. */
struct content *content_new(void);
/* Another reference to c (NULL in, NULL out). */
struct content *content_ref(struct content *c);
/* Drops a reference; the last one frees c. NULL is ignored. */
void content_unref(struct content *c);

/* The version of what generated file n shows now: its revision, or the
 * negated time of the draft held there (so a new draft or its removal
 * shows as a change). -ENOENT when the file is gone. */
int cache_version(struct fs *fs, struct node *n, int64_t *out);

/*
 * The current rendering of generated file n, rendered again only when
 * what it shows changed. Borrowed: valid while fs->lock is held (take a
 * reference to keep it). When it changed while readers hold the inode
 * open, the inode is frozen with their snapshot (the kernel's size and
 * pages of it stay true to what they read) and detached from its name,
 * which gets a new inode at the next lookup, as when a file is replaced
 * by rename on any filesystem. -ESTALE when n is frozen for readers that
 * opened on the kernel's pages and took no snapshot: n renders nothing
 * more (a new text would have the kernel drop the pages they read); its
 * name leads to the inode of now, and its readers take cache_snapshot.
 */
int cache_content(struct fs *fs, struct node *n, struct content **out);
/* A new reference to the text a reader of n reads from now on: n's
 * rendering, or for an inode frozen for readers of the kernel's pages,
 * the text it kept, else the text of now rendered for that reader. */
int cache_snapshot(struct fs *fs, struct node *n, struct content **out);

/* The inode n keeps showing what its readers read: it leaves its name,
 * which gets a new inode at the next lookup. */
void cache_freeze(struct fs *fs, struct node *n);
/* Some reader of n opened on pages the kernel held and took no snapshot
 * yet: those pages are its only copy of the text it opened. */
bool cache_held_readers(const struct node *n);

/* Size and time of what generated file n shows now: from its cached
 * rendering, or from the last rendering's figures while its version
 * holds, or rendered afresh. */
int cache_stat(struct fs *fs, struct node *n, off_t *size, int64_t *mtime_ns);

/* What generated file n served last (struct node, served): a content
 * holding only the version and time when the text was dropped, made
 * now. Borrowed: n keeps it; NULL when it served nothing. */
struct content *node_served(struct node *n);

/* Drops n's cached rendering: out of the LRU list, its bytes uncounted. */
void cache_drop(struct fs *fs, struct node *n);
/* Drops the least recently used renderings nothing else holds while the
 * cache is over its budget (fs_unlock calls it). */
void cache_trim(struct fs *fs);

#endif
