/* SPDX-License-Identifier: MIT */
/* folder_state.h: the state folder of a checkout (DIR/.taskfs): what the
 * last pass wrote into DIR, and the texts it wrote, kept as the bases of
 * later saves. Files and bytes only: knows nothing of the database or of
 * markdown; the record a file shows is an opaque string made elsewhere.
 *
 *   DIR/.taskfs/.gitignore   "*": git never takes the state folder
 *   DIR/.taskfs/state        the manifest (below), replaced atomically
 *   DIR/.taskfs/lock         flock(2)ed by the taskctl working on DIR
 *   DIR/.taskfs/texts/ab/cd… the texts written, named by their SHA-256
 *   DIR/.taskfs/tmp/         files being written, renamed into place
 *
 * The manifest is one line per file, written to a temporary file, synced
 * and renamed over the old one: a kill at any moment leaves the old
 * manifest or the new one, and every text either names is on disk (texts
 * are written before the manifest that names them and removed only after
 * a manifest that no longer names them is in place).
 *
 * Functions returning int return 0 or a negative errno; those that take a
 * struct buf *err append a message naming the file to it on failure.
 */
#ifndef TASKCTL_FOLDER_STATE_H
#define TASKCTL_FOLDER_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "buf.h"
#include "sha256.h"

#define FSTATE_DIR ".taskfs"

/* What stat(2) said of a file when the folder wrote it or last read it:
 * a file that still says the same was not written since (unless its
 * time was within the file system's timestamp granularity of the moment
 * the manifest was written: FE_RACY). */
struct fmark {
  int64_t size, mtime_ns, ctime_ns;
  uint64_t ino;
};

void fmark_of(const struct stat *st, struct fmark *m);
bool fmark_eq(const struct fmark *a, const struct fmark *b);

/* Reads fd from its offset to its end into out (appended); -EFBIG past
 * max bytes, -errno on a failed read. */
int fstate_read_fd(int fd, size_t max, struct buf *out);

enum fentry_type {
  FE_FILE,  /* a file of the tree, written from the database */
  FE_PLAIN, /* a user's file in a folder of the tree that is no record */
};

enum fentry_flags {
  /* Written so shortly before the manifest that a later write within the
   * same timestamp tick would not show in its stat: read it again. */
  FE_RACY = 1,
};

/* One file of the checkout. Owned by the state; valid until it is
 * removed or the state closed. */
struct fentry {
  char *path; /* relative to DIR, "s1/task_groups/a.md" */
  int type;
  unsigned flags;
  /* FE_FILE: the file of the tree it shows, as folder_tree.h spells it */
  char *what;
  int64_t rev;           /* the revision of the text written; 0: none */
  char hash[SHA256_HEX]; /* of the bytes written or read; "" unknown */
  struct fmark mark;
  /* Kept in memory only, for the caller. */
  int64_t due_ns; /* when to act on it; 0: not waiting */
  unsigned pass;  /* caller's marks for one pass */
};

struct fstate;

/*
 * Makes the state folder of a new checkout in dir (which must exist) for
 * the database db_path (absolute) and session (NULL: all sessions), and
 * takes its lock. -EEXIST when dir already has one.
 */
int fstate_create(const char *dir, const char *db_path, const char *session,
                  struct fstate **out, struct buf *err);
/*
 * Opens the state folder of the checkout in dir and takes its lock.
 * -ENOENT when dir has none, -EBUSY when another process holds the lock
 * (err names it), -EINVAL when the manifest cannot be read. Leftovers of
 * a killed run (temporary files) are removed.
 */
int fstate_open(const char *dir, struct fstate **out, struct buf *err);
/* Removes the state folder whole (a checkout that failed part way can
 * then be tried again); s must still be closed. */
void fstate_destroy(struct fstate *s);
/* Releases the lock and frees everything; uncommitted changes are lost. */
void fstate_close(struct fstate *s);

/* A descriptor of the checkout's folder, for *at() calls; owned. */
int fstate_dirfd(const struct fstate *s);
/* The checkout's folder as given, owned. */
const char *fstate_dir(const struct fstate *s);
const char *fstate_db(const struct fstate *s);
void fstate_set_db(struct fstate *s, const char *db_path);
/* The session checked out, or NULL for all of them. */
const char *fstate_session(const struct fstate *s);
/* The database revision the files were last brought up to. */
int64_t fstate_rev(const struct fstate *s);
void fstate_set_rev(struct fstate *s, int64_t rev);

/* ---- entries ---- */
struct fentry *fstate_get(const struct fstate *s, const char *path);
/* The entry of path, made empty (type FE_FILE, no hash) when new. */
struct fentry *fstate_put(struct fstate *s, const char *path);
/* Sets what an entry stands for (copied). */
void fentry_set_what(struct fentry *e, const char *what);
/* Sets e's hash; a text no entry names any more is deleted at the next
 * commit. */
void fstate_set_hash(struct fstate *s, struct fentry *e, const char *hash);
void fstate_remove(struct fstate *s, const char *path);
/* Every entry, sorted by path when asked; the caller frees the array
 * (not the entries), which is valid until an entry is added or removed. */
struct fentry **fstate_entries(const struct fstate *s, bool sorted, size_t *n);
size_t fstate_count(const struct fstate *s);

/* ---- the intent of a pass ----
 * DIR/.taskfs/intent lists what a pass is about to turn into new records,
 * written (synced) before and removed after the pass's commit: when it is
 * there at the start, the last pass was killed in between. */
int fstate_intent_put(struct fstate *s, const char *text, size_t len);
/* The intent left by a killed pass; -ENOENT when there is none. */
int fstate_intent_get(const struct fstate *s, struct buf *out);
void fstate_intent_clear(struct fstate *s);

/* ---- texts ---- */
/* Keeps text as a base; hash receives its SHA-256. */
int fstate_text_put(struct fstate *s, const char *text, size_t len,
                    char hash[SHA256_HEX]);
/* The text kept under hash. -ENOENT when it is not kept. */
int fstate_text_get(const struct fstate *s, const char *hash, struct buf *out);

/* ---- files of the checkout ---- */
/*
 * Writes text to path (relative to the checkout) as a new file: into the
 * state folder's tmp/, mode and time set, then renamed over path. The
 * folders on the way are made. mtime_ns 0 leaves the time of writing.
 * mark receives the new file's stat. The file is synced by the next
 * commit.
 */
int fstate_write(struct fstate *s, const char *path, const char *text,
                 size_t len, mode_t mode, int64_t mtime_ns, struct fmark *mark);
/* Reads the regular file at path (not following a symlink) whole, at
 * most max bytes (-EFBIG beyond); st receives its stat. */
int fstate_read(const struct fstate *s, const char *path, size_t max,
                struct buf *out, struct stat *st);
/* Makes the folders of path (relative) that are missing, mode 0755. */
int fstate_mkdirs(const struct fstate *s, const char *path);

/*
 * Writes the manifest: the files and texts written since the last commit
 * are synced first, then the manifest is replaced atomically and its
 * folder synced; then the texts no entry names are deleted. Entries
 * whose file time is within a second of this moment get FE_RACY.
 */
int fstate_commit(struct fstate *s, struct buf *err);
/* Deletes every kept text that no entry names (after a killed run). */
void fstate_gc(struct fstate *s);

/* ---- the manifest's escaping, for tests ---- */
/* Appends s with bytes up to ' ', '%' and DEL as %XX, and a leading '-'
 * as %2D; NULL as "-". */
void fstate_escape(const char *s, struct buf *out);
/* Undoes fstate_escape on the n bytes at s; false on a malformed escape.
 * *out is NULL for "-", else a heap string the caller frees. */
bool fstate_unescape(const char *s, size_t n, char **out);

#endif
