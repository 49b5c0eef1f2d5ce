/* SPDX-License-Identifier: MIT */
/* watch.c: the watcher thread: commits by any program, the records they
 * changed, and the kernel's names, attributes, pages and listings that
 * show them. Reads the history on a connection of its own; asks the
 * kernel to forget only after fs->lock is let go. */
#include "watch.h"
#include "cache.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* PRAGMA data_version of its own connection, this often. */
#define POLL_NS 10000000
/* Without commits, the database file is looked at (a replacement) and
 * stale listings are invalidated again this often. */
#define IDLE_PASS_NS 100000000
/* Changes read one by one in a pass; past this many every file is
 * checked. */
#define CHANGES_MAX 20000

/* What the kernel is told to forget: name in parent, or when name is
 * NULL, the attributes and pages (or listing) of inode ino. */
struct note {
  fuse_ino_t parent, ino;
  char *name;
};

struct watch {
  pthread_t thread;
  pthread_mutex_t mu; /* guards stop, with cv */
  pthread_cond_t cv;
  bool stop;
  /* Only the watcher's thread uses these. */
  struct store *st;
  int64_t rev;   /* the revision of the last pass */
  char **drafts; /* "kind\trecord\tcreated_at" of the drafts held, sorted */
  size_t ndrafts;
  struct note *notes;
  size_t nnotes, capnotes;
  /* locked by fs->lock */
  uint64_t seq; /* passes that invalidated listings */
  bool all;     /* watch_forget_all */
  fuse_ino_t *stale;
  size_t nstale, capstale;
  int poke; /* atomic: stale listings wait */
};

/* Flags of a session in a pass. */
enum {
  S_FILES = 1, /* its files other than task files may show a change */
  S_TASKS = 2, /* its task files too */
  S_NAME = 4,  /* the session came or went: its directory's name */
};

struct pass {
  struct fs *fs;
  struct watch *w;
  bool all;             /* every generated node, unconditionally */
  bool every_file;      /* every file is checked */
  bool drafts;          /* a draft of a file other than a task's came or went */
  struct hmap tasks;    /* ids of tasks changed */
  struct hmap sessions; /* session id -> flags */
};

/* ---- the kernel's names of a node ---- */

void watch_name(struct node *n, fuse_ino_t parent, const char *name) {
  for (struct kname *k = n->knames; k; k = k->next)
    if (k->parent == parent && str_eq(k->name, name))
      return;
  size_t len = strlen(name);
  struct kname *k = xmalloc(sizeof *k + len + 1);
  k->parent = parent;
  memcpy(k->name, name, len + 1);
  k->next = n->knames;
  n->knames = k;
}

void watch_names_free(struct node *n) {
  while (n->knames) {
    struct kname *k = n->knames;
    n->knames = k->next;
    free(k);
  }
}

/* ---- notes ---- */

static void note(struct watch *w, fuse_ino_t parent, fuse_ino_t ino,
                 const char *name) {
  XGROW(w->notes, w->capnotes, w->nnotes + 1);
  w->notes[w->nnotes++] =
      (struct note){parent, ino, name ? xstrdup(name) : NULL};
}

/* The kernel forgets what it holds of n: its attributes and pages, and
 * with names, the names it was given for it. */
static void forget_node(struct watch *w, struct node *n, bool names) {
  note(w, 0, n->ino, NULL);
  if (!names)
    return;
  for (struct kname *k = n->knames; k; k = k->next)
    note(w, k->parent, 0, k->name);
  watch_names_free(n);
}

/* Sent without fs->lock: the kernel may wait for a request that needs
 * it (an entry's invalidation takes its directory's lock, which a
 * lookup there holds). */
static void send_notes(struct fs *fs, struct watch *w) {
  for (size_t i = 0; i < w->nnotes; i++) {
    struct note *t = &w->notes[i];
    if (t->name)
      fuse_lowlevel_notify_inval_entry(fs->se, t->parent, t->name,
                                       strlen(t->name));
    else
      fuse_lowlevel_notify_inval_inode(fs->se, t->ino, 0, 0);
    free(t->name);
  }
  w->nnotes = 0;
}

/* ---- what changed ---- */

static void add_session(struct pass *p, const char *id, unsigned flags) {
  uintptr_t old = (uintptr_t)hmap_get(&p->sessions, id);
  hmap_put(&p->sessions, id, (void *)(old | flags));
}

static unsigned session_flags(const struct pass *p, const char *id) {
  if (p->every_file)
    return S_FILES | S_TASKS | S_NAME;
  return id ? (unsigned)(uintptr_t)hmap_get(&p->sessions, id) : 0;
}

/* One change of the history: what it may show in. */
static void mark(struct pass *p, const struct change *c) {
  if (!c->session_id || !c->table || !c->record) {
    p->every_file = true;
    return;
  }
  unsigned flags = S_FILES;
  if (str_eq(c->table, "task")) {
    hmap_put(&p->tasks, c->record, p);
  } else {
    /* A session's, group's or user section's change may show in every
     * file of the session. */
    flags |= S_TASKS;
    if (str_eq(c->table, "session") &&
        (!str_eq(c->op, "update") || (c->field && str_eq(c->field, "deleted"))))
      flags |= S_NAME;
  }
  add_session(p, c->session_id, flags);
}

/* The changes committed since the last pass. */
static void read_changes(struct pass *p) {
  struct watch *w = p->w;
  int64_t rev = store_revision(w->st);
  if (rev == w->rev)
    return;
  struct change *c = NULL;
  size_t n = 0;
  if (rev < w->rev || store_changes_since(w->st, w->rev, NULL, CHANGES_MAX + 1,
                                          &c, &n) != ENG_OK) {
    p->every_file = true;
  } else if (n > CHANGES_MAX) {
    p->every_file = true;
  } else {
    for (size_t i = 0; i < n; i++)
      mark(p, &c[i]);
  }
  store_changes_free(c, n);
  w->rev = rev;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A draft that came or went (it has no revision: the text a file reads
 * changes without one). */
static void mark_draft(struct pass *p, const char *key) {
  const char *tab = strchr(key, '\t');
  if (tab && (size_t)(tab - key) == 4 && strncmp(key, "task", 4) == 0) {
    char *id = xstrdup(tab + 1);
    char *end = strchr(id, '\t');
    if (end)
      *end = '\0';
    hmap_put(&p->tasks, id, p);
    free(id);
  } else {
    p->drafts = true;
  }
}

static void free_drafts(struct watch *w) {
  for (size_t i = 0; i < w->ndrafts; i++)
    free(w->drafts[i]);
  free(w->drafts);
  w->drafts = NULL;
  w->ndrafts = 0;
}

/* The drafts held now, against those of the last pass (p NULL: only
 * read). */
static void read_drafts(struct watch *w, struct pass *p) {
  struct draft *d = NULL;
  size_t n = 0;
  if (store_draft_list(w->st, NULL, &d, &n) != ENG_OK) {
    if (p)
      p->every_file = true;
    return;
  }
  char **keys = xcalloc(n ? n : 1, sizeof *keys);
  for (size_t i = 0; i < n; i++)
    keys[i] = xasprintf("%s\t%s\t%s", d[i].kind, d[i].record,
                        d[i].created_at ? d[i].created_at : "");
  store_drafts_free(d, n);
  qsort(keys, n, sizeof *keys, cmp_str);
  for (size_t i = 0, j = 0; p && (i < w->ndrafts || j < n);) {
    int c = i == w->ndrafts ? 1 : j == n ? -1 : strcmp(w->drafts[i], keys[j]);
    if (c <= 0)
      i++;
    if (c >= 0)
      j++;
    if (c)
      mark_draft(p, c < 0 ? w->drafts[i - 1] : keys[j - 1]);
  }
  free_drafts(w);
  w->drafts = keys;
  w->ndrafts = n;
}

/* ---- a pass over the nodes ---- */

static bool is_fresh_always(int kind) {
  return kind == VK_SYNC_STATUS || kind == VK_ERROR_MD ||
         kind == VK_CONFLICT_MD;
}

static void sweep_node(void *ctx, void *value) {
  struct pass *p = ctx;
  struct node *n = value;
  if (n->type != NT_VIRT)
    return;
  if (p->all) {
    n->watch_known = false;
    n->listing_inval = p->w->seq;
    forget_node(p->w, n, true);
    return;
  }
  if (!n->key) {
    /* Frozen for its readers, or renamed over: its names lead to another
     * inode now. */
    if (n->knames)
      forget_node(p->w, n, true);
    return;
  }
  int kind = n->v.kind;
  if (view_is_dir(kind)) {
    /* Listings are cheap to take again; conflict, error and backup files
     * come and go without a revision. */
    n->listing_inval = p->w->seq;
    forget_node(p->w, n,
                kind == VK_SESSION &&
                    (session_flags(p, n->v.session) & S_NAME));
    return;
  }
  if (is_fresh_always(kind)) {
    forget_node(p->w, n, true);
    return;
  }
  if (kind == VK_BACKUP_MD)
    return; /* a backup never changes */
  unsigned flags = session_flags(p, n->v.session);
  bool check = kind == VK_TASK_MD
                   ? (flags & S_TASKS) || hmap_get(&p->tasks, n->v.record)
                   : (flags & S_FILES) || p->drafts;
  if (!check)
    return;
  int64_t version = 0;
  int rc = cache_version(p->fs, n, &version);
  if (rc == 0 && n->watch_known && version == n->watch_version)
    return;
  n->watch_known = rc == 0;
  n->watch_version = version;
  forget_node(p->w, n, true);
}

/* The watcher's own connection, read-only when the mount's is. */
static int open_store(struct fs *fs, struct store **out) {
  int flags = mount_readonly_why(fs->mount) ? STORE_READONLY : 0;
  int rc = store_open(mount_path(fs->mount), flags, out);
  if (rc == ENG_READONLY) {
    store_close(*out);
    rc = store_open(mount_path(fs->mount), STORE_READONLY, out);
  }
  return rc;
}

/* The database file was replaced: the watcher reads the new one. A file
 * that cannot be opened leaves it reading the old one, as the mount
 * does. */
static void reopen(struct fs *fs, struct watch *w) {
  struct store *st = NULL;
  if (open_store(fs, &st) == ENG_OK) {
    store_close(w->st);
    w->st = st;
  } else if (st) {
    store_close(st);
  }
  store_poll(w->st);
  w->rev = store_revision(w->st);
  read_drafts(w, NULL);
}

static void run_pass(struct fs *fs, struct watch *w, bool commits) {
  struct pass p = {.fs = fs, .w = w};
  hmap_init(&p.tasks);
  hmap_init(&p.sessions);
  if (commits) {
    read_changes(&p);
    read_drafts(w, &p);
  }
  fs_lock(fs);
  fs_refresh(fs);
  p.all = w->all;
  w->all = false;
  if (p.all)
    reopen(fs, w);
  if (commits || p.all) {
    w->seq++;
    hmap_each(&fs->inodes, sweep_node, &p);
  }
  __atomic_store_n(&w->poke, 0, __ATOMIC_RELAXED);
  for (size_t i = 0; i < w->nstale; i++)
    note(w, 0, w->stale[i], NULL);
  w->nstale = 0;
  fs_unlock(fs);
  send_notes(fs, w);
  hmap_release(&p.tasks);
  hmap_release(&p.sessions);
}

/* Waits ns; true when the watcher is to stop. */
static bool wait_stop(struct watch *w, int64_t ns) {
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  int64_t t = until.tv_nsec + ns;
  until.tv_sec += (time_t)(t / 1000000000);
  until.tv_nsec = t % 1000000000;
  pthread_mutex_lock(&w->mu);
  if (!w->stop)
    pthread_cond_timedwait(&w->cv, &w->mu, &until);
  bool stop = w->stop;
  pthread_mutex_unlock(&w->mu);
  return stop;
}

static void *watch_main(void *arg) {
  struct fs *fs = arg;
  struct watch *w = fs->watch;
  int64_t last = time_mono_ns();
  while (!wait_stop(w, POLL_NS)) {
    /* No lock: the connection is the watcher's own. */
    bool commits = store_poll(w->st);
    int64_t now = time_mono_ns();
    if (!commits && now - last < IDLE_PASS_NS &&
        !__atomic_load_n(&w->poke, __ATOMIC_RELAXED))
      continue;
    last = now;
    run_pass(fs, w, commits);
  }
  return NULL;
}

/* ---- starting and stopping ---- */

void watch_start(struct fs *fs) {
  struct watch *w = xcalloc(1, sizeof *w);
  int rc = open_store(fs, &w->st);
  if (rc) {
    fuse_log(FUSE_LOG_WARNING,
             "taskfs: cannot watch %s for changes (%s): generated files "
             "are not cached by the kernel\n",
             mount_path(fs->mount), w->st ? store_errmsg(w->st) : "");
    store_close(w->st);
    free(w);
    return;
  }
  store_poll(w->st);
  w->rev = store_revision(w->st);
  read_drafts(w, NULL);
  pthread_mutex_init(&w->mu, NULL);
  pthread_cond_init(&w->cv, NULL);
  fs->watch = w;
  fs->watching = true;
  if (pthread_create(&w->thread, NULL, watch_main, fs))
    die("cannot start the watcher thread");
}

void watch_stop(struct fs *fs) {
  struct watch *w = fs->watch;
  if (!w)
    return;
  pthread_mutex_lock(&w->mu);
  w->stop = true;
  pthread_cond_signal(&w->cv);
  pthread_mutex_unlock(&w->mu);
  pthread_join(w->thread, NULL);
  fs_lock(fs);
  fs->watch = NULL;
  fs_unlock(fs);
  for (size_t i = 0; i < w->nnotes; i++)
    free(w->notes[i].name);
  free(w->notes);
  free(w->stale);
  free_drafts(w);
  store_close(w->st);
  pthread_mutex_destroy(&w->mu);
  pthread_cond_destroy(&w->cv);
  free(w);
}

/* ---- what the handlers tell it ---- */

void watch_forget_all(struct fs *fs) {
  if (fs->watch)
    fs->watch->all = true;
}

uint64_t watch_seq(const struct fs *fs) {
  return fs->watch ? fs->watch->seq : 0;
}

void watch_stale_listing(struct fs *fs, struct node *dir) {
  struct watch *w = fs->watch;
  if (!w)
    return;
  XGROW(w->stale, w->capstale, w->nstale + 1);
  w->stale[w->nstale++] = dir->ino;
  __atomic_store_n(&w->poke, 1, __ATOMIC_RELAXED);
}
