/* SPDX-License-Identifier: MIT */
/* tombs.h: managed file names that were unlinked or renamed away, and the
 * timer thread that ends them when their grace has passed (and writes the
 * renders waiting for the sync log). Every function but tombs_start and
 * tombs_stop expects fs->lock held. */
#ifndef TASKFS_TOMBS_H
#define TASKFS_TOMBS_H

#include "fs.h"

/*
 * A managed file name that was unlinked or renamed away. The name stays
 * gone until it is created again (then the new text is a save of the
 * same record) or the grace time passes (then a group or task is
 * deleted softly, a conflict file's conflicts keep the database's
 * version; session and notes files simply come back).
 */
struct tomb {
  struct tomb *next; /* in fs->tombs */
  fuse_ino_t dir;
  char *name;
  struct vnode v;
  int64_t expires_ns; /* CLOCK_MONOTONIC */
  struct content *served;
  /* Unlinked (not renamed away): served is what the name showed then,
   * and a text made under the name replaces it. */
  bool unlinked;
};

/* The tomb of name in directory dir, or NULL. Borrowed. */
struct tomb *tomb_find(struct fs *fs, fuse_ino_t dir, const char *name);
/* Takes the tomb of name in dir out of the list and gives it to the
 * caller (tomb_free), or NULL. */
struct tomb *tomb_take(struct fs *fs, fuse_ino_t dir, const char *name);
/* Hides name in dir (the file v) for the grace time; served (referenced
 * here, may be NULL) is what the name showed. Replaces an earlier tomb of
 * that name. */
void tomb_add(struct fs *fs, fuse_ino_t dir, const char *name,
              const struct vnode *v, struct content *served, bool unlinked);
void tomb_free(struct tomb *t);

/* Starts the timer thread. */
void tombs_start(struct fs *fs);
/* Stops the timer thread and ends every tomb now (at unmount). Takes
 * fs->lock itself. */
void tombs_stop(struct fs *fs);

#endif
