/* SPDX-License-Identifier: MIT */
/* fs.h: the FUSE layer's shared state: the filesystem, its inodes and
 * open handles, and the few calls every part of fs/ makes (fs.c). Turns
 * FUSE requests into engine calls; writes no SQL.
 *
 * The parts of fs/, each with its header:
 *   ops.c    the FUSE handlers: each decides once whether its node or
 *            handle is generated or ordinary, and calls the part below
 *   virt.c   the generated side of each operation (names, attributes,
 *            opening, truncating, unlinking, renaming, listing)
 *   real.c   the ordinary side: files kept in the real directory
 *   cache.c  renderings of generated files and their memory budget
 *   save.c   what a writer holds and how it is saved; .unsaved files
 *   tombs.c  managed names unlinked or renamed away, and their timer
 *   watch.c  the watcher thread: commits by any program, and what the
 *            kernel must forget of them
 *   nodes.c  the inode table and its keys, real paths, handles
 *   fs.c     the lock, the mount's news in the log, errors as errno
 *   hmap.c   the hash map of the node tables
 *   daemon.c, main.c  the process and the command line
 *
 * Locking: one mutex, fs->lock, guards every field below marked
 * "locked", the mount (engine/mount.h) and so the store and the engine.
 * It is never held while calling into the kernel for invalidation (a
 * notification can wait for a request that needs the lock).
 */
#ifndef TASKFS_FS_H
#define TASKFS_FS_H

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "buf.h"
#include "hmap.h"
#include "mount.h"
#include "store.h"
#include "view.h"

/* The block size files report (st_blksize): the size of the kernel's
 * largest WRITE request. Programs writing through stdio (sed, awk,
 * Python) buffer that much a write(2), and every write is a round trip
 * through /dev/fuse (two: the kernel asks for security.capability
 * before each), so the 4 KiB of a disk file system would cost 256 round
 * trips a 512 KiB file where this costs 8. */
#define IO_BLOCK (128 * 1024)

/* An immutable rendering of a generated file, shared by the handles that
 * read it. refs is atomic (a read replies from a content without the
 * lock); data never changes once made. */
struct content {
  unsigned refs;
  struct buf data;
  int64_t version; /* the file's revision, or -(time) of a held draft */
  int64_t mtime_ns;
};

enum node_type { NT_VIRT, NT_REAL };

/* A hash table of nodes linked through a field of their own (nodes.c):
 * no allocation per node. */
struct node_table {
  struct node **slots;
  size_t nslots, count;
};

/* A name the kernel may hold for a node: name in directory parent. */
struct kname {
  struct kname *next;
  fuse_ino_t parent;
  char name[];
};

/*
 * One inode the kernel knows. NT_VIRT nodes stand for a directory or file
 * of the generated tree (a vnode); NT_REAL nodes for an ordinary file,
 * directory or symlink kept in the real directory under the mount point,
 * named by their parent node and name. A node lives while the kernel holds
 * lookups on it, a handle is open on it, or a real child names it as
 * parent. All fields locked.
 */
struct node {
  fuse_ino_t ino;
  uint64_t nlookup;
  struct node *ino_next; /* in fs->inodes */
  struct node *key_next; /* in fs->keys, while keyed */
  uint32_t key_hash;     /* of what it shows (nodes.c), while keyed */
  unsigned opens, children;
  uint16_t mode; /* permission bits; chmod is kept while mounted */
  uint8_t type;
  /* It is in fs->keys: it names its file (or real inode). */
  bool keyed : 1;
  bool kernel_cached : 1;
  /* The content changed while readers held this inode open: it keeps
   * showing their snapshot, and the name has a new inode. */
  bool frozen : 1;
  bool watch_known : 1;
  /* The kernel was given the task file's own name ("<id>.md") in
   * directory kparent: kept here rather than in knames. */
  bool kname_own : 1;
  int fd; /* NT_REAL: an O_PATH descriptor of the real file */

  /* NT_VIRT */
  struct vnode v;
  struct content *cache; /* the last rendering, valid at cache_gen */
  uint64_t cache_gen;
  union {
    /* NT_VIRT: the size, time and version of the last rendering, kept
     * when the rendering itself is dropped from the cache (attributes
     * need no render while the version holds). */
    struct {
      int64_t last_version, last_mtime_ns;
      off_t last_size;
    };
    /* NT_REAL: the device and inode of the real file, its key. */
    struct {
      dev_t real_dev;
      ino_t real_ino;
    };
  };
  struct node *lru_prev, *lru_next; /* in fs->lru while cache is set */
  int64_t kernel_version; /* what the kernel may hold in its page cache */
  off_t kernel_size;      /* the size last given to the kernel, -1 for none */
  /* The names the kernel was given for it (lookups, renames), forgotten
   * when they are invalidated; the version the watcher last saw the
   * kernel given (watch_known), and for a directory the watcher's pass
   * that last invalidated its listing. */
  struct kname *knames;
  fuse_ino_t kparent;
  int64_t watch_version;
  uint64_t listing_inval;

  /* What the last open of it read: the content, or, once its text was
   * dropped from the cache, only its version and time (served NULL;
   * node_served() makes a content of them when asked). */
  struct content *served;
  int64_t served_version, served_mtime_ns;
  struct handle *handles; /* open handles, linked by next */
  struct handle *writer;  /* the handle whose buffer is newest */

  /* NT_REAL: the directory and name it was last reached by (node_name);
   * its descriptor (fd) stands for it whatever names it has now. */
  struct node *parent;
  char *name;
};

enum handle_type { HT_VIRT, HT_REAL, HT_DIR };

struct dir_entry {
  char *name;
  mode_t type;
  fuse_ino_t ino;
};

/* An open file or directory. */
struct handle {
  int type;
  struct node *node;
  struct handle *next; /* in node->handles */
  /* HT_VIRT: a read snapshot, or a private write buffer. A reader
   * opened on pages the kernel holds (held) takes its snapshot only
   * when a read comes: snap is then set under fs->lock and read with
   * atomic loads. */
  struct content *snap;
  struct buf wbuf;
  bool writable, dirty, held;
  uint64_t wseq; /* moves at every write or truncation of wbuf */
  /* Bytes were written through it: a writer that only truncated (an
   * O_TRUNC open) holds no text of its own yet. */
  bool written;
  /* The last save failed and its text was kept beside the file: closing
   * the handle does not try it again (the caller was told it failed). */
  bool failed;
  /* A write or truncate through this handle was refused (EFBIG, ENOMEM):
   * the buffer is not the text the program meant, so it is never
   * applied; closing keeps it beside the file and fails with this. */
  int werr;
  struct content *base; /* what the file read when this handle opened */
  /* Made after its name was unlinked (git checkout, install(1)): its
   * text replaces base, whatever revision the text names. */
  bool replaces;
  /* HT_REAL */
  int fd;
  bool wrote; /* written through this handle since the last flush */
  /* HT_DIR: the listing, taken at opendir for an ordinary directory and
   * at the first readdir for a generated one (listed: the watcher's pass
   * it was taken in). */
  struct dir_entry *entries;
  size_t nentries, capentries;
  bool listed;
  uint64_t listed_seq;
};

struct fs_options {
  char *session;  /* -o session=ID: mount one session's directory */
  char *config;   /* -o config=FILE: the conflict policies (taskfs.yaml) */
  double timeout; /* attribute and entry timeout for ordinary files */
  double grace;   /* seconds an unlinked managed name waits to come back */
  int busy_ms;
  int max_buffers_mb;  /* all write buffers together, at most */
  int render_cache_mb; /* renderings kept for nodes no handle holds */
  int kernel_cache;    /* the kernel caches generated files; a watcher
                          invalidates them */
  char *log;           /* error, warning, info or debug */
  char *logfile;       /* the log of a background mount */
};

struct fs {
  pthread_mutex_t lock;
  /* Saves run one at a time on the mount's connection for saves: taken
   * before lock by every request that may save (fs_lock_write), and by a
   * flush, release or fsync, which let go of lock while their save
   * works (save_handle), so that reads go on meanwhile. */
  pthread_mutex_t save_lock;
  /* locked: the store and what the engine knows of the mount (the
   * database replaced, read-only, the sync log waiting), engine/mount.h */
  struct mount *mount;
  int realfd; /* the real directory under the mount point */
  struct fs_options opt;
  struct vnode root; /* VK_ROOT, or VK_SESSION with -o session */
  struct node *root_node;
  char *realroot; /* path of root's real directory relative to realfd */
  /* locked: the nodes by inode number (chained by ino_next), and by
   * what they show, a generated file or a real inode (by key_next):
   * tables of the nodes' own links, nodes.c */
  struct node_table inodes, keys;
  struct hmap watched; /* locked: ino -> the nodes of every pass, watch.h */
  /* locked: the key of a node freed while it still named its file -> what
   * it leaves to the next node of that key (struct past, nodes.c) */
  struct hmap past;
  uint64_t next_ino; /* locked */
  uid_t uid;
  gid_t gid;
  int64_t mount_ns;
  struct fuse_session *se;
  struct tomb *tombs; /* locked: tombs.h */
  /* The database file and its -wal and -shm files, never served as
   * ordinary files (ino 0: not there at mount) */
  struct {
    dev_t dev;
    ino_t ino;
  } db_files[3];
  size_t buffered; /* locked: bytes in all write buffers */
  /* locked: bytes of nodes, renderings, listings and write buffers
   * freed since the heap was last given back to the system (fs_unlock) */
  size_t freed;
  /* locked: nodes with a cached rendering, most recently used first, and
   * the bytes those hold */
  struct node *lru_head, *lru_tail;
  size_t cached;
  pthread_cond_t wake; /* signals the tomb timer */
  bool stopping;       /* locked */
  pthread_t timer;
  /* The watcher runs (watch.h): generated names, attributes, pages and
   * listings are cached by the kernel for long, and it tells the kernel
   * what to forget. Set before the first request, then fixed. */
  bool watching;
  struct watch *watch;
  /* The database check of the mount runs on a thread of its own
   * (fs_check_start); changes wait for it (fs_wait_check). checking is
   * locked; checked is signalled when it ends. */
  bool checking, check_started;
  pthread_t checker;
  pthread_cond_t checked;
};

/* The FUSE operations (ops.c). */
extern const struct fuse_lowlevel_ops fs_ops;

/* ---- fs.c: what every part of fs/ calls ---- */

void fs_lock(struct fs *fs);
/* Lets go of fs->lock. Renderings handed out while it is held are
 * borrowed, so the render cache is trimmed to its budget only here. */
void fs_unlock(struct fs *fs);
/* Runs the database check (PRAGMA quick_check) on a thread of its own
 * while the mount serves reads. Until it reports, changes wait
 * (fs_wait_check); when it fails, the log says so as a failed check at
 * mount would, and the mount is read-only (EROFS). */
void fs_check_start(struct fs *fs);
/* Waits for the check thread to end (at unmount). Without the lock. */
void fs_check_stop(struct fs *fs);
/* Takes fs->save_lock and fs->lock once the check has reported: the
 * start of every request that may write to the database (renames,
 * removals, new files, truncations); fs_unlock_write lets go of both. */
void fs_lock_write(struct fs *fs);
void fs_unlock_write(struct fs *fs);
/* The same with the lock held, for a request that learns only once it
 * holds the lock whether it may write (a flush). Lets go of the lock
 * while it waits: whatever was read under it before must be read
 * again. */
void fs_wait_check(struct fs *fs);

/* Notices what other programs did to the database since the last call
 * (mount_refresh) and logs what the user should hear of; a database
 * replaced or gone is passed on to the watcher. Lock held. */
void fs_refresh(struct fs *fs);
/* 0 when a change other than a save (a rename, a deletion, a new record
 * from a file) may be written now; else -errno, with a log line naming
 * what (a verb phrase, "rename of") and the file v. Lock held. */
int fs_may_change(struct fs *fs, const char *what, const struct vnode *v);
/* Maps an engine result to the errno the caller sees (positive): the one
 * table, eng_result(rc)->err. */
int fs_errno(int eng_rc);
/* Logs the store's message of a failed engine call (what: "render") and
 * returns fs_errno(rc), or EIO for a result without an errno. Lock
 * held. */
int fs_error(struct fs *fs, int rc, const char *what);
/* Appends "<session>/<path>" of the generated file v to out, for log
 * lines. Lock held. */
void fs_label(struct fs *fs, const struct vnode *v, struct buf *out);

/* The store, borrowed from the mount: valid while fs->lock is held and
 * until the next refresh (a replaced database file is reopened). */
static inline struct store *fs_store(const struct fs *fs) {
  return mount_store(fs->mount);
}

static inline void ts_from_ns(struct timespec *ts, int64_t ns) {
  ts->tv_sec = ns / 1000000000;
  ts->tv_nsec = ns % 1000000000;
}

#endif
