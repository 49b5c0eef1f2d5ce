/* SPDX-License-Identifier: MIT */
/* watch.c: the watcher thread: commits by any program, the records they
 * changed, and the kernel's names, attributes, pages and listings that
 * show them. Reads the history on a connection of its own; asks the
 * kernel to forget only after fs->lock is let go. */
#include "watch.h"
#include "cache.h"
#include "names.h"
#include "nodes.h"
#include "util.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

/* A store that sends no notifications is polled this often (SQLite:
 * PRAGMA data_version of the watcher's own connection). */
#define POLL_MS 10
/* Without commits, the database file is looked at (a replacement), a
 * store that notifies is polled all the same, and stale listings are
 * invalidated again this often. */
#define IDLE_PASS_NS 100000000
/* The longest a save waits for the watcher's pass, in seconds. */
#define SYNC_WAIT_S 1
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
  pthread_mutex_t mu;  /* guards stop, the counts of passes, kick */
  int wake;            /* an eventfd: written to wake the watcher */
  pthread_cond_t done; /* a pass ended */
  bool stop;
  bool kick;               /* watch_sync asks for a pass now */
  bool unreachable;        /* the last pass could not read the store */
  uint64_t started, ended; /* passes */
  /* Only the watcher's thread uses these. */
  struct store *st;
  int64_t rev;   /* the revision of the last pass */
  char **drafts; /* "kind\trecord\tcreated_at" of the drafts held, sorted */
  size_t ndrafts;
  int64_t listing[3]; /* store_listing_mark at the last pass */
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
  S_TASKS = 2, /* every task file of it too */
  S_NAME = 4,  /* the session came or went: its directory's name */
};

/* A task or session a pass looks at. */
struct mark {
  char *id, *session; /* session: of a task */
  unsigned flags;     /* of a session */
};

struct pass {
  struct fs *fs;
  struct watch *w;
  bool all;        /* every generated node, unconditionally */
  bool every_file; /* every generated file is checked */
  /* Every directory's listing may differ: a draft, backup or conflict
   * came or went (their files have no revision of their own). */
  bool listings;
  bool non_tasks;       /* every file other than task files is checked */
  struct hmap tasks;    /* id -> struct mark: tasks whose file may differ */
  struct hmap groups;   /* id -> struct mark: groups changed */
  struct hmap sessions; /* id -> struct mark */
  fuse_ino_t *gone;     /* detached nodes whose names were forgotten */
  size_t ngone, capgone;
  /* Changed files whose readers read the kernel's pages: frozen after
   * the sweep, which must not add nodes while it walks them. */
  struct node **freeze;
  size_t nfreeze, capfreeze;
};

/* ---- the kernel's names of a node ---- */

/* The name of a task file by its id, which the kernel is given unless
 * the file was renamed: kept without a copy (kname_own). */
static bool own_name(const struct node *n, const char *name,
                     struct buf *scratch) {
  if (n->type != NT_VIRT || n->v.kind != VK_TASK_MD || !n->v.record)
    return false;
  buf_truncate(scratch, 0);
  name_for_file(n->v.record, scratch);
  buf_adds(scratch, ".md");
  return strcmp(scratch->ptr, name) == 0;
}

void watch_name(struct node *n, fuse_ino_t parent, const char *name) {
  if (!n->kname_own || n->kparent == parent) {
    struct buf own = BUF_INIT;
    bool is_own = own_name(n, name, &own);
    buf_release(&own);
    if (is_own) {
      n->kname_own = true;
      n->kparent = parent;
      return;
    }
  }
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
  n->kname_own = false;
  n->kparent = 0;
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

/* The kernel forgets what it holds of n: with pages, its attributes and
 * pages (never those readers read as their only copy), and with names,
 * the names it was given for it. */
static void forget_node(struct watch *w, struct node *n, bool pages,
                        bool names) {
  if (pages && !cache_held_readers(n))
    note(w, 0, n->ino, NULL);
  if (!names)
    return;
  if (n->kname_own) {
    struct buf own = BUF_INIT;
    name_for_file(n->v.record, &own);
    buf_adds(&own, ".md");
    note(w, n->kparent, 0, own.ptr);
    buf_release(&own);
  }
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

static struct mark *mark_of(struct hmap *m, const char *id) {
  struct mark *k = hmap_get(m, id);
  if (!k) {
    k = xcalloc(1, sizeof *k);
    k->id = xstrdup(id);
    hmap_put(m, id, k);
  }
  return k;
}

static void add_record(struct hmap *m, const char *id, const char *session) {
  struct mark *k = mark_of(m, id);
  if (!k->session && session)
    k->session = xstrdup(session);
}

static void add_task(struct pass *p, const char *id, const char *session) {
  add_record(&p->tasks, id, session);
}

static void add_session(struct pass *p, const char *id, unsigned flags) {
  mark_of(&p->sessions, id)->flags |= flags;
}

static void free_mark(void *ctx, void *value) {
  struct mark *k = value;
  free(k->id);
  free(k->session);
  free(k);
}

static unsigned session_flags(const struct pass *p, const char *id) {
  if (p->every_file)
    return S_FILES | S_TASKS;
  const struct mark *k = id ? hmap_get(&p->sessions, id) : NULL;
  return k ? k->flags : 0;
}

/* Group gid's file (also when the row is gone), and its tasks, whose
 * files show its name. */
static void mark_group(struct pass *p, const char *gid, const char *session) {
  add_record(&p->groups, gid, session);
  struct task *t = NULL;
  size_t n = 0;
  if (store_task_list_group(p->w->st, gid, true, &t, &n) != ENG_OK) {
    add_session(p, session, S_TASKS);
    return;
  }
  for (size_t i = 0; i < n; i++)
    add_task(p, t[i].id, session);
  store_tasks_free(t, n);
}

/* A user section shows in the file of its owner. */
static void mark_section(struct pass *p, const char *id, const char *session) {
  struct section x;
  memset(&x, 0, sizeof x);
  if (store_get(p->w->st, RK_SECTION, id, &x) != ENG_OK) {
    add_session(p, session, S_TASKS);
  } else if (x.owner_kind == OWNER_TASK && x.owner_id) {
    add_task(p, x.owner_id, session);
  }
  section_release(&x);
}

/* One change of the history: the files it may show in. A task's change
 * shows in its own file and in the session's others (its group's file,
 * the overview, the edit log, the listings). */
static void mark(struct pass *p, const struct change *c) {
  if (!c->session_id || !c->table || !c->record) {
    p->every_file = true;
    return;
  }
  unsigned flags = S_FILES;
  /* A record that moved to another group or session left a listing of
   * a session the change does not name. */
  if (c->field &&
      (str_eq(c->field, "group_id") || str_eq(c->field, "session_id")))
    p->listings = true;
  if (str_eq(c->table, "task")) {
    add_task(p, c->record, c->session_id);
  } else if (str_eq(c->table, "group")) {
    mark_group(p, c->record, c->session_id);
  } else if (str_eq(c->table, "section")) {
    mark_section(p, c->record, c->session_id);
  } else if (str_eq(c->table, "session")) {
    flags |= S_TASKS;
    if (!str_eq(c->op, "update") || (c->field && str_eq(c->field, "deleted")))
      flags |= S_NAME;
  } else {
    p->every_file = true;
  }
  add_session(p, c->session_id, flags);
}

/* The changes committed since the last pass. */
/* Reads what changed since the last pass; false when the store cannot be
 * read now (a server out of reach): nothing is known to have changed,
 * and the kernel keeps what it holds until the store answers again. */
static bool read_changes(struct pass *p) {
  struct watch *w = p->w;
  int64_t rev = store_revision(w->st);
  if (rev == 0 && w->rev > 0)
    return false;
  if (rev == w->rev)
    return true;
  struct change *c = NULL;
  size_t n = 0;
  if (rev < w->rev || store_changes_since(w->st, w->rev, NULL, CHANGES_MAX + 1,
                                          &c, &n) != ENG_OK) {
    p->every_file = true;
  } else if (n > CHANGES_MAX) {
    p->every_file = true;
  } else {
    for (size_t i = 0; i < n && !p->every_file; i++)
      mark(p, &c[i]);
  }
  store_changes_free(c, n);
  w->rev = rev;
  return true;
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
    add_task(p, id, NULL);
    free(id);
  } else {
    p->non_tasks = true;
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
    if (c) {
      mark_draft(p, c < 0 ? w->drafts[i - 1] : keys[j - 1]);
      p->listings = true;
    }
  }
  free_drafts(w);
  w->drafts = keys;
  w->ndrafts = n;
}

/* ---- a pass over the nodes ---- */

/* Files without a revision of their own: rendered afresh at every
 * change, or a backup, which never changes but may be pruned. */
static bool always_checked(int kind) {
  return kind == VK_SYNC_STATUS || kind == VK_ERROR_MD ||
         kind == VK_CONFLICT_MD || kind == VK_BACKUP_MD;
}

/* Changed file n, whose readers read the kernel's pages, is frozen for
 * them after the sweep (true), which must not add nodes while it walks
 * them; the kernel then forgets its names only. */
static bool freeze_later(struct pass *p, struct node *n) {
  if (!n->keyed || view_is_dir(n->v.kind) || !cache_held_readers(n))
    return false;
  XGROW(p->freeze, p->capfreeze, p->nfreeze + 1);
  p->freeze[p->nfreeze++] = n;
  return true;
}

/* A generated file whose version may have moved: the kernel forgets it
 * when it did, or when it is gone. */
static void check_file(struct pass *p, struct node *n) {
  if (!n || n->type != NT_VIRT || !n->keyed || view_is_dir(n->v.kind))
    return;
  int64_t version = 0;
  int rc = cache_version(p->fs, n, &version);
  if (rc == 0 && n->watch_known && version == n->watch_version)
    return;
  n->watch_known = rc == 0;
  n->watch_version = version;
  /* An open gave the kernel this version already (pages, size and time):
   * only its names may be stale (a task file moved). */
  bool current = rc == 0 && n->kernel_cached && n->kernel_version == version &&
                 n->last_version == version && n->kernel_size == n->last_size;
  if (rc == 0 && !current && freeze_later(p, n))
    return;
  forget_node(p->w, n, !current, true);
}

static void check_vnode(struct pass *p, int kind, const char *session,
                        const char *record, int notes) {
  struct vnode v;
  vnode_init(&v);
  v.kind = kind;
  v.session = (char *)session;
  v.record = (char *)record;
  v.notes = notes;
  check_file(p, node_virt_known(p->fs, &v));
}

static void any_named(void *ctx, void *value) {
  bool *yes = ctx;
  if (((const struct mark *)value)->flags & S_NAME)
    *yes = true;
}

/* Whether directory n's listing may have changed in this pass: a change
 * in its session (or, for the top directory, a session that came or
 * went), or a file without a revision that came or went anywhere. */
static bool listing_changed(struct pass *p, const struct node *n) {
  if (p->listings || p->every_file)
    return true;
  if (n->v.session)
    return session_flags(p, n->v.session) != 0;
  bool named = false;
  hmap_each(&p->sessions, any_named, &named);
  return named;
}

/* Directories whose listing may have changed, files without a revision
 * (conflict, error and backup files come and go without one), and
 * frozen nodes whose names lead to another inode now. */
static void sweep_watched(void *ctx, void *value) {
  struct pass *p = ctx;
  struct node *n = value;
  if (!n->keyed) {
    forget_node(p->w, n, true, true);
    XGROW(p->gone, p->capgone, p->ngone + 1);
    p->gone[p->ngone++] = n->ino;
  } else if (view_is_dir(n->v.kind)) {
    if (!listing_changed(p, n))
      return;
    n->listing_inval = p->w->seq;
    forget_node(p->w, n, true,
                n->v.kind == VK_SESSION &&
                    (session_flags(p, n->v.session) & S_NAME));
  } else {
    forget_node(p->w, n, true, true);
  }
}

static void sweep_task(void *ctx, void *value) {
  struct pass *p = ctx;
  const struct mark *k = value;
  if (k->session) {
    check_vnode(p, VK_TASK_MD, k->session, k->id, 0);
    return;
  }
  /* A task's draft names no session: look the task up. */
  struct task t;
  memset(&t, 0, sizeof t);
  if (store_get(p->w->st, RK_TASK, k->id, &t) == ENG_OK && t.session_id)
    check_vnode(p, VK_TASK_MD, t.session_id, k->id, 0);
  else
    p->every_file = true;
  task_release(&t);
}

static void sweep_group(void *ctx, void *value) {
  const struct mark *k = value;
  check_vnode(ctx, VK_GROUP_MD, k->session, k->id, 0);
}

/* The session's files other than task files. */
static void sweep_session(void *ctx, void *value) {
  struct pass *p = ctx;
  const struct mark *k = value;
  if (!(k->flags & S_FILES))
    return;
  check_vnode(p, VK_SESSION_MD, k->id, NULL, 0);
  check_vnode(p, VK_EDIT_LOG, k->id, NULL, 0);
  for (int i = 0; i < NOTES_COUNT; i++)
    check_vnode(p, VK_NOTES_MD, k->id, NULL, i);
  struct group *g = NULL;
  size_t n = 0;
  if (store_group_list(fs_store(p->fs), k->id, true, &g, &n) != ENG_OK) {
    p->non_tasks = true;
    return;
  }
  for (size_t i = 0; i < n; i++)
    check_vnode(p, VK_GROUP_MD, k->id, g[i].id, 0);
  store_groups_free(g, n);
}

/* Every node, when the changes could not be told one by one. */
static void sweep_any(void *ctx, struct node *n) {
  struct pass *p = ctx;
  if (n->type != NT_VIRT || !n->keyed || view_is_dir(n->v.kind) ||
      always_checked(n->v.kind))
    return;
  bool task = n->v.kind == VK_TASK_MD;
  if (task ? (session_flags(p, n->v.session) & S_TASKS)
           : p->non_tasks || (session_flags(p, n->v.session) & S_FILES))
    check_file(p, n);
}

static void forget_any(void *ctx, struct node *n) {
  struct pass *p = ctx;
  if (n->type != NT_VIRT)
    return;
  n->watch_known = false;
  n->listing_inval = p->w->seq;
  if (!freeze_later(p, n))
    forget_node(p->w, n, true, true);
}

static void any_tasks(void *ctx, void *value) {
  bool *yes = ctx;
  if (((const struct mark *)value)->flags & S_TASKS)
    *yes = true;
}

/* Lock held. */
static void sweep(struct pass *p) {
  struct fs *fs = p->fs;
  if (p->all) {
    nodes_each(fs, forget_any, p);
    return;
  }
  hmap_each(&fs->watched, sweep_watched, p);
  for (size_t i = 0; i < p->ngone; i++) {
    char k[24];
    node_ino_key(p->gone[i], k);
    hmap_del(&fs->watched, k);
  }
  hmap_each(&p->tasks, sweep_task, p);
  hmap_each(&p->groups, sweep_group, p);
  hmap_each(&p->sessions, sweep_session, p);
  bool tasks = p->every_file;
  hmap_each(&p->sessions, any_tasks, &tasks);
  if (tasks || p->non_tasks)
    nodes_each(fs, sweep_any, p);
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
  hmap_init(&p.groups);
  hmap_init(&p.sessions);
  w->unreachable = commits && !read_changes(&p);
  if (w->unreachable)
    goto out;
  if (commits) {
    read_drafts(w, &p);
    int64_t mark[3];
    if (store_listing_mark(w->st, mark) != ENG_OK) {
      p.listings = true;
    } else if (memcmp(mark, w->listing, sizeof mark) != 0) {
      p.listings = true;
      memcpy(w->listing, mark, sizeof mark);
    }
  }
  fs_lock(fs);
  fs_refresh(fs);
  p.all = w->all;
  w->all = false;
  if (p.all)
    reopen(fs, w);
  if (commits || p.all) {
    w->seq++;
    sweep(&p);
  }
  for (size_t i = 0; i < p.nfreeze; i++) {
    struct node *n = p.freeze[i];
    if (n->keyed && !n->frozen)
      cache_freeze(fs, n);
    forget_node(w, n, true, true);
  }
  __atomic_store_n(&w->poke, 0, __ATOMIC_RELAXED);
  for (size_t i = 0; i < w->nstale; i++)
    note(w, 0, w->stale[i], NULL);
  w->nstale = 0;
  fs_unlock(fs);
  send_notes(fs, w);
out:;
  struct hmap *maps[] = {&p.tasks, &p.groups, &p.sessions};
  for (size_t i = 0; i < 3; i++) {
    hmap_each(maps[i], free_mark, NULL);
    hmap_release(maps[i]);
  }
  free(p.gone);
  free(p.freeze);
}

/* Wakes the watcher from its wait. */
static void wake(struct watch *w) {
  uint64_t one = 1;
  while (write(w->wake, &one, sizeof one) < 0 && errno == EINTR)
    ;
}

/* Waits until the store may have a commit to tell of (its notification
 * descriptor is readable, or POLL_MS passed for a store without one), at
 * most ms, or until kicked; true when the watcher is to stop. *kicked
 * says whether watch_sync waits for this pass, which is then counted as
 * started. */
static bool wait_stop(struct watch *w, int ms, bool *kicked) {
  struct pollfd p[2] = {{.fd = w->wake, .events = POLLIN},
                        {.fd = store_notify_fd(w->st), .events = POLLIN}};
  if (p[1].fd < 0 && ms > POLL_MS && !w->unreachable)
    ms = POLL_MS;
  if (poll(p, 2, ms) > 0 && (p[0].revents & POLLIN)) {
    uint64_t n;
    if (read(w->wake, &n, sizeof n) < 0 && errno != EAGAIN)
      die("watcher: cannot read its eventfd: %s", strerror(errno));
  }
  pthread_mutex_lock(&w->mu);
  bool stop = w->stop;
  *kicked = w->kick;
  w->kick = false;
  w->started++;
  pthread_mutex_unlock(&w->mu);
  return stop;
}

static void *watch_main(void *arg) {
  struct fs *fs = arg;
  struct watch *w = fs->watch;
  int64_t last = time_mono_ns();
  bool kicked, commits = false;
  /* After a pass for commits the store is asked again at once: what came
   * during that pass may wait in the connection, not on its socket. */
  /* A store out of reach is tried again at the idle pace. */
  while (!wait_stop(
      w, commits && !w->unreachable ? 0 : (int)(IDLE_PASS_NS / 1000000),
      &kicked)) {
    /* No lock: the connection is the watcher's own. */
    commits = store_poll(w->st) || kicked;
    int64_t now = time_mono_ns();
    if (commits || now - last >= IDLE_PASS_NS ||
        __atomic_load_n(&w->poke, __ATOMIC_RELAXED)) {
      last = now;
      run_pass(fs, w, commits);
    }
    pthread_mutex_lock(&w->mu);
    w->ended = w->started;
    pthread_cond_broadcast(&w->done);
    pthread_mutex_unlock(&w->mu);
  }
  pthread_mutex_lock(&w->mu);
  w->ended = UINT64_MAX; /* nobody waits for a stopped watcher */
  pthread_cond_broadcast(&w->done);
  pthread_mutex_unlock(&w->mu);
  return NULL;
}

void watch_sync(struct fs *fs) {
  struct watch *w = fs->watch;
  if (!w)
    return;
  /* Bounded: should every worker wait here while the pass waits for a
   * directory lock whose holder needs a worker, the pass goes on
   * without them. */
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += SYNC_WAIT_S;
  pthread_mutex_lock(&w->mu);
  /* A pass that starts from now on sees the commit just made. */
  uint64_t need = w->started + 1;
  w->kick = true;
  wake(w);
  while (w->ended < need &&
         pthread_cond_timedwait(&w->done, &w->mu, &until) == 0)
    ;
  pthread_mutex_unlock(&w->mu);
}

/* ---- starting and stopping ---- */

void watch_start(struct fs *fs) {
  struct watch *w = xcalloc(1, sizeof *w);
  int rc = open_store(fs, &w->st);
  if (rc) {
    fuse_log(FUSE_LOG_WARNING,
             "taskfs: cannot watch %s for changes (%s): generated files "
             "are not cached by the kernel\n",
             store_path(mount_store(fs->mount)),
             w->st ? store_errmsg(w->st) : "");
    store_close(w->st);
    free(w);
    return;
  }
  store_poll(w->st);
  w->rev = store_revision(w->st);
  read_drafts(w, NULL);
  w->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (w->wake < 0)
    die("cannot make the watcher's eventfd: %s", strerror(errno));
  pthread_mutex_init(&w->mu, NULL);
  pthread_cond_init(&w->done, NULL);
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
  wake(w);
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
  close(w->wake);
  pthread_mutex_destroy(&w->mu);
  pthread_cond_destroy(&w->done);
  free(w);
}

/* ---- what the handlers tell it ---- */

void watch_node_new(struct fs *fs, struct node *n) {
  if (!view_is_dir(n->v.kind) && !always_checked(n->v.kind))
    return;
  char k[24];
  node_ino_key(n->ino, k);
  hmap_put(&fs->watched, k, n);
}

void watch_node_frozen(struct fs *fs, struct node *n) {
  char k[24];
  node_ino_key(n->ino, k);
  hmap_put(&fs->watched, k, n);
}

void watch_node_gone(struct fs *fs, struct node *n) {
  char k[24];
  node_ino_key(n->ino, k);
  hmap_del(&fs->watched, k);
  watch_names_free(n);
}

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
  wake(w);
}
