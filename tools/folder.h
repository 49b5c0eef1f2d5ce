/* SPDX-License-Identifier: MIT */
/* folder.h: a plain folder that holds the tree of markdown files a mount
 * would show, kept in sync with the database both ways without FUSE:
 * checkout writes it, a pass saves what the user changed through the
 * engine (as the mount saves a closed file) and writes what the database
 * changed, a watch runs passes as files are closed and the database
 * changes. Only taskctl's folder commands include it.
 *
 * Not thread-safe: one struct folder per process, driven by one thread.
 */
#ifndef TASKCTL_FOLDER_H
#define TASKCTL_FOLDER_H

#include <stdbool.h>
#include <stdint.h>

#include "folder_state.h"
#include "folder_tree.h"
#include "model.h"

/* A checkout at work: its state, the database, and what the current pass
 * did. The caller owns fs and st (the folder closes neither). */
struct folder {
  struct fstate *fs;
  struct store *st;
  const struct policy *policy;
  struct vnode root; /* VK_ROOT, or the session of the checkout */
  bool watching;     /* missing and empty files wait grace_ns */
  int64_t grace_ns;
  mode_t umask;
  /* The current pass. */
  unsigned pass;
  int failed;   /* the first failure of the store (enum eng_rc), or 0 */
  int fs_error; /* the first file of the checkout not written (errno) */
  size_t saved, made, deleted, written, removed;
  struct strlist held, conflicts; /* paths of error and conflict files */
  /* Paths of entries waiting (due_ns set): missing or empty files. */
  struct strlist waiting;
  /* New files a killed pass was turning into records ("PATH HASH",
   * escaped as in the manifest), and the revision it started from. */
  struct strlist recover;
  int64_t recover_rev;
};

/* Sets up f for the checkout fs of database st; session as recorded. */
void folder_init(struct folder *f, struct fstate *fs, struct store *st,
                 const struct policy *policy);
void folder_release(struct folder *f);

/*
 * Writes the tree into the new checkout: every file the mount would show,
 * byte for byte. A file already at a path of the tree with other bytes
 * is left as it is, for the next pass to save (a tree cloned with git).
 * Then the state is committed. Returns 0, or a taskctl exit status after
 * printing why.
 */
int folder_checkout(struct folder *f);

/*
 * One pass both ways. paths: the files to look at (relative to the
 * checkout), as a watch saw them change; NULL for all of them. What the
 * user changed, added, renamed or removed is saved through the engine;
 * then every file whose records changed is written again, files of
 * records that went away are removed and new ones written; then the
 * state is committed. What happened is printed, one line each.
 * Returns 0 when the pass ran (f->failed, f->held, f->conflicts tell how
 * it went), or a taskctl exit status after printing why.
 */
int folder_pass(struct folder *f, const struct strlist *paths);

/* Only the second half of a pass, and the commit: the files whose
 * records changed in the database are written (after another program's
 * commit). Returns as folder_pass. */
int folder_refresh(struct folder *f);

/* The exit status of the last pass: EXIT_HELD when texts are held,
 * EXIT_CONFLICTS when conflicts are open, else 0 (or the failure's). */
int folder_status(const struct folder *f);

/* The earliest time (CLOCK_MONOTONIC ns) a waiting file is due, or 0. */
int64_t folder_next_due(const struct folder *f);
/* Monotonic time in ns. */
int64_t folder_now_ns(void);

/*
 * Runs until SIGTERM or SIGINT (then returns 0 once the pass in progress
 * is done and the state committed): files closed after writing, renamed
 * into place or removed are passed within milliseconds, removed files
 * and empty ones after grace; the database is polled every 100 ms.
 * Returns a taskctl exit status when it cannot go on.
 */
int folder_watch(struct folder *f);

/* The folders of the tree in the checkout, relative to it ("" for the
 * checkout itself): those a watch watches. The caller frees the list. */
int folder_dirs(struct folder *f, struct strlist *out);

#endif
