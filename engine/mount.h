/* SPDX-License-Identifier: MIT */
/* mount.h: the engine side of a mounted tree: its store (reopened when the
 * database file is replaced), commits by any program, whether a change may
 * be written now, the sync log of renders in batches, and saves.
 *
 * Knows nothing of FUSE and prints nothing: functions return engine
 * results (enum eng_rc) and say why in strings the caller logs; the file
 * system maps results to errno with eng_result(rc)->err.
 *
 * A mount is not thread-safe. The file system calls every function here
 * with its lock (fs->lock) held, except mount_save_run (below), and never
 * keeps mount_store()'s pointer across a mount_refresh().
 *
 * Usage:
 *
 *   struct mount *m;
 *   if (mount_open(path, busy_ms, &m)) { report mount_errmsg(m); }
 *   ... per request:  news = mount_refresh(m);  (log what news says)
 *                     view_read(mount_store(m), ...);
 *                     mount_save(m, &file, text, len, &served, &res, &why);
 *   mount_syncops_flush(m); mount_close(m);
 */
#ifndef TASKFS_MOUNT_H
#define TASKFS_MOUNT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "store.h"
#include "sync.h"
#include "view.h"

struct mount;

/* ---- opening ---- */

/*
 * Opens the taskfs database at path (which must exist) for a mount: for
 * writing, or read-only when it cannot be written (mount_readonly_why()
 * then says why; every change is refused with ENG_READONLY). Checks it
 * (PRAGMA quick_check), prunes the sync log to its bounds (30 days,
 * 100,000 operations) unless read-only, and sets the busy bound busy_ms
 * and the source "taskfs" of its changes. The conflict policies are the
 * defaults until the caller loads others into mount_policy().
 *
 * *out is set even on failure, so that mount_errmsg() can say why; close
 * it with mount_close() either way. Fails as store_open() and store_check()
 * do (ENG_NOTFOUND, ENG_SCHEMA, ENG_CORRUPT, ENG_BUSY, ...).
 */
int mount_open(const char *path, int busy_ms, struct mount **out);
/*
 * As mount_open(), without the check and the pruning: the mount may read
 * at once, and nothing is written (mount_can_write() says ENG_BUSY, the
 * sync log waits) until mount_check_done() reports the check's result.
 * The caller runs the check with mount_check_run(), on a thread of its
 * own if it likes.
 */
int mount_open_unchecked(const char *path, int busy_ms, struct mount **out);
/* A token of the file opened now, for mount_check_done(). */
uint64_t mount_check_begin(const struct mount *m);
/*
 * Checks the database at path (PRAGMA quick_check) on a connection of its
 * own, read-only; touches no mount, so it may run on any thread while
 * the mount serves. Returns ENG_OK, or the failure of store_check() or
 * store_open() (ENG_CORRUPT, ...) with *msg the store's message (it
 * names the backups and how to restore), which the caller frees; *msg is
 * NULL on success.
 */
int mount_check_run(const char *path, char **msg);
/*
 * Reports the result rc of mount_check_run() for the file that was open
 * at mount_check_begin() (begun). On success the sync log is pruned and
 * changes may be written; on failure every change is refused with
 * ENG_READONLY from now on. A check of a file replaced meanwhile changes
 * nothing. Returns true when the mount became read-only by it.
 */
bool mount_check_done(struct mount *m, uint64_t begun, int rc);
/* Whether the check of mount_open_unchecked() has not reported yet. */
bool mount_checking(const struct mount *m);
/* Closes the store and frees the mount; operations still queued for the
 * sync log are lost (flush them first). NULL is ignored. */
void mount_close(struct mount *m);

/* Why the database was opened read-only (the message of the failed open
 * for writing), or NULL when it was opened for writing. Set by
 * mount_open() even when the read-only open then failed too. Valid until
 * mount_close(). */
const char *mount_readonly_why(const struct mount *m);
/* The message of the last mount_ call that failed (or of the news
 * MOUNT_UNUSABLE); valid until the next mount_ call. */
const char *mount_errmsg(const struct mount *m);

/* The store. Borrowed: valid until the next mount_refresh(), which
 * replaces it when the database file was replaced. Other engine calls
 * (view_*, sync_*) take it; their failures are read with store_errmsg(). */
struct store *mount_store(const struct mount *m);
/* The database's path as given to mount_open(); valid until
 * mount_close(). */
const char *mount_path(const struct mount *m);
/* The conflict policies of the saves (mount_save(), and sync_create()
 * calls of the caller): the caller may fill them (policy_load). */
struct policy *mount_policy(struct mount *m);

/* ---- what changed ---- */

/* A counter that moves whenever the store may show something else: a
 * commit by any program, a save, the database replaced. What was read at
 * an earlier value must be checked again. */
uint64_t mount_gen(const struct mount *m);

/* The cache of rendered task pieces of this mount's database
 * (view_read_cached), emptied when the file is replaced. It has a lock of
 * its own; valid until mount_close. */
struct blocks *mount_blocks(const struct mount *m);
/* The caller changed the store itself (sync_rename, sync_delete, ...):
 * moves the counter. */
void mount_changed(struct mount *m);

/* What mount_refresh() noticed that the user should hear of; each is
 * reported once, when it happens. */
enum mount_news {
  /* The database file was replaced (or came back after it was gone): the
   * mount now shows the new one, writable again. */
  MOUNT_REPLACED = 1,
  /* The database file was deleted: the mount shows its last state and
   * refuses changes (ENG_GONE) until a database is back at the path. */
  MOUNT_DELETED = 2,
  /* It was replaced by a file that cannot be used (mount_errmsg() says
   * why): as MOUNT_DELETED. */
  MOUNT_UNUSABLE = 4,
  /* A newer taskfs upgraded the schema: changes are refused
   * (ENG_READONLY) until it is mounted with that version. */
  MOUNT_NEWER = 8,
};

/*
 * Notices what other programs did since the last call: commits (the
 * generation moves; PRAGMA data_version, no table read), a newer schema,
 * and, at most every 100 ms, the database file deleted or replaced (a
 * replacement is opened, without a check, with the busy bound of
 * mount_open). Returns the enum mount_news bits of what happened now, 0
 * for nothing worth telling.
 */
unsigned mount_refresh(struct mount *m);

/*
 * Whether a change may be written to the database now: ENG_OK, ENG_GONE
 * when the database file is deleted or unusable, ENG_READONLY when it is
 * read-only, of a newer schema or failed the check, ENG_BUSY while the
 * check of mount_open_unchecked() runs. *why is then a fixed sentence for the
 * log ("the database is read-only").
 */
int mount_can_write(const struct mount *m, const char **why);

/* ---- saves ---- */

/*
 * Saves text as the new content of the editable file f (sync_save with
 * the mount's policies); served is what the file last served (NULL for
 * nothing). res is the caller's (save_result_init before, release after).
 *
 * Returns ENG_OK (res: changes, conflicts, warnings, the revision) or
 * ENG_PARSE (the text is held at the path; res->report says why), and the
 * generation moves. When nothing could be stored it returns ENG_GONE or
 * ENG_READONLY (mount_can_write refused; nothing was tried) or the store's
 * failure (ENG_BUSY, ENG_FULL, ...); *why then says why, valid until the
 * next mount_ call. A save the database could not take because it could
 * not be written (busy, full, read-only) is queued for the sync log, which
 * the engine could not write either.
 */
int mount_save(struct mount *m, const struct vnode *f, const char *text,
               size_t len, const struct served *served, struct save_result *res,
               const char **why);

/*
 * mount_save in three steps, so that the work of a save runs while the
 * caller's other requests go on. Saves have their own connection to the
 * database (opened at the first one), so reads on the mount's store are
 * never held up by them; the caller runs one save at a time.
 *
 *   mount_save_begin   under the caller's lock: what mount_can_write
 *                      says, or the store's failure to open the
 *                      connection (queued for the sync log); ENG_OK
 *                      with *out, the job;
 *   mount_save_run     without it: parses, merges and applies, as
 *                      mount_save (the text is the caller's until it
 *                      returns);
 *   mount_save_end     under the lock again, with run's result: *why as
 *                      mount_save gives it, the generation moves, and
 *                      the job is freed.
 */
struct save_job;
int mount_save_begin(struct mount *m, const struct vnode *f,
                     struct save_job **out, const char **why);
int mount_save_run(struct mount *m, struct save_job *j, const char *text,
                   size_t len, const struct served *served,
                   struct save_result *res);
void mount_save_end(struct mount *m, struct save_job *j, int rc,
                    const struct save_result *res, const char **why);

/* ---- the sync log of renders ---- */

/*
 * Queues an operation on file f for the sync log: type is a string
 * literal ("render", "save"), kept by pointer; rc its result, error (may
 * be NULL, copied) its message; started_ns its start (time_now_ns()), and
 * it ended now. Written in batches: when 256 are waiting the batch is
 * flushed here.
 */
void mount_syncop_queue(struct mount *m, const char *type,
                        const struct vnode *f, int64_t started_ns, int rc,
                        const char *error);
/*
 * Writes the queued operations in one transaction, waiting at most 100 ms
 * for a locked database, and prunes the log each time 1,000 have been
 * written. A batch the database does not take is kept for the next flush,
 * up to 10,000 operations; beyond that, and while changes are refused
 * (mount_can_write) or a transaction is open, the queue is dropped.
 */
void mount_syncops_flush(struct mount *m);
/* How many operations wait for the sync log. */
size_t mount_syncops_pending(const struct mount *m);
/* Drops the queued operations unwritten. */
void mount_syncops_drop(struct mount *m);

#endif
