/* SPDX-License-Identifier: MIT */
/* mount.c: the engine side of a mount: its store and the checks around it,
 * the sync log of renders in batches, saves. No FUSE, no printing. */
#include "mount.h"
#include "util.h"

#include <string.h>

/* The file is looked at (stat) at most this often for a replacement. */
#define CHECK_EVERY_NS 100000000
/* The bounds of the sync log, as docs/reliability.md gives them. */
#define SYNCOPS_MAX_ROWS 100000
#define SYNCOPS_MAX_DAYS 30
#define SYNCOPS_PRUNE_EVERY 1000 /* operations written between prunings */
#define SYNCOPS_BATCH 256        /* queued operations that make a flush */
#define SYNCOPS_KEEP_MAX 10000   /* kept while the database refuses them */
#define SYNCOPS_BUSY_MS 100      /* the wait of a flush for a locked file */
#define BLOCKS_BUDGET (4u << 20) /* bytes of task pieces kept (load.c) */

/* An operation waiting for the sync log. */
struct pending_op {
  const char *type; /* a literal: "render", "save" */
  struct vnode f;   /* its path is made when written: the store may not
                       be able to name it when the operation fails */
  int64_t started_ns, ended_ns;
  int rc;
  char *error; /* what failed, or NULL */
};

/* How many group files keep a parse memo, and the most text one keeps. */
#define MOUNT_MEMO_FILES 4
#define MOUNT_MEMO_BYTES (8u << 20)

struct memo_slot {
  char *record; /* the group's id; NULL: unused */
  struct parse_memo *memo;
  uint64_t used;
};

struct mount {
  struct store *st; /* NULL only after a failed mount_open */
  /* The connection of saves (mount_save_*), opened at the first one; used
   * by one save at a time, which the caller serialises, apart from st. */
  struct store *wr;
  uint64_t wr_opened; /* the file it was opened on (opened) */
  bool saving;        /* a save runs on wr */
  char *path;
  int busy_ms;
  struct policy policy;
  uint64_t gen;
  /* The database file was deleted or replaced by one that cannot be
   * used: the store still reads the old one, and nothing is written. */
  bool gone;
  bool schema_newer; /* a newer taskfs upgraded the schema */
  bool readonly;     /* opened read-only */
  char *readonly_why;
  /* The check of the file opened at mount (mount_open_unchecked) has not
   * reported yet, or it found the file damaged: nothing is written. */
  bool checking, damaged;
  uint64_t opened;    /* moves when another file is opened at the path */
  char *msg;          /* mount_errmsg() */
  int64_t checked_ns; /* CLOCK_MONOTONIC of the last look at the file */
  struct pending_op *ops;
  size_t nops, capops;
  int64_t written;       /* operations written since the last pruning */
  struct blocks *blocks; /* pieces of this database's files; own lock */
  /* The task blocks of the group files saved last, for parsing their
   * next saves (parse_doc_memo); used as m->wr is, by one save at a
   * time. */
  struct memo_slot memos[MOUNT_MEMO_FILES];
  uint64_t memo_clock;
};

/* Prunes the sync log to its bounds in a transaction of its own. */
static void prune(struct store *st) {
  if (store_begin(st) != ENG_OK)
    return;
  if (store_syncops_prune(st, SYNCOPS_MAX_ROWS, SYNCOPS_MAX_DAYS) == ENG_OK)
    store_commit(st);
  else
    store_rollback(st);
}

static int open_store(const char *path, int busy_ms, bool check,
                      struct mount **out) {
  struct mount *m = xcalloc(1, sizeof *m);
  *out = m;
  m->path = xstrdup(path);
  m->busy_ms = busy_ms;
  m->blocks = blocks_new(BLOCKS_BUDGET);
  policy_default(&m->policy);
  int rc = store_open(path, 0, &m->st);
  if (rc == ENG_READONLY) {
    /* Shown as it is, with every change refused. */
    m->readonly_why = xstrdup(store_errmsg(m->st));
    store_close(m->st);
    rc = store_open(path, STORE_READONLY, &m->st);
    m->readonly = rc == ENG_OK;
  }
  /* A damaged database is not mounted: the message names its backups. */
  if (rc == ENG_OK && check)
    rc = store_check(m->st);
  if (rc) {
    str_set(&m->msg, store_errmsg(m->st));
    store_close(m->st);
    m->st = NULL;
    return rc;
  }
  m->checking = !check;
  if (!m->readonly && check)
    prune(m->st);
  store_set_busy_ms(m->st, busy_ms);
  store_set_source(m->st, "taskfs");
  return ENG_OK;
}

int mount_open(const char *path, int busy_ms, struct mount **out) {
  return open_store(path, busy_ms, true, out);
}

int mount_open_unchecked(const char *path, int busy_ms, struct mount **out) {
  return open_store(path, busy_ms, false, out);
}

uint64_t mount_check_begin(const struct mount *m) { return m->opened; }

int mount_check_run(const char *path, char **msg) {
  struct store *st = NULL;
  int rc = store_open(path, STORE_READONLY, &st);
  if (rc == ENG_OK)
    rc = store_check(st);
  *msg = rc ? xstrdup(store_errmsg(st)) : NULL;
  store_close(st);
  return rc;
}

bool mount_check_done(struct mount *m, uint64_t begun, int rc) {
  if (!m->checking)
    return false;
  m->checking = false;
  /* Another file was opened at the path meanwhile: the check was of the
   * one it replaced. */
  if (begun != m->opened)
    return false;
  m->damaged = rc != ENG_OK;
  if (!m->damaged && !m->readonly)
    prune(m->st);
  return m->damaged;
}

bool mount_checking(const struct mount *m) { return m->checking; }

void mount_close(struct mount *m) {
  if (!m)
    return;
  mount_syncops_drop(m);
  free(m->ops);
  for (int i = 0; i < MOUNT_MEMO_FILES; i++) {
    free(m->memos[i].record);
    parse_memo_free(m->memos[i].memo);
  }
  if (m->st)
    store_close(m->st);
  if (m->wr)
    store_close(m->wr);
  free(m->path);
  free(m->readonly_why);
  free(m->msg);
  blocks_free(m->blocks);
  free(m);
}

const char *mount_readonly_why(const struct mount *m) {
  return m->readonly_why;
}

const char *mount_errmsg(const struct mount *m) {
  if (m->msg)
    return m->msg;
  return m->st ? store_errmsg(m->st) : "";
}

struct store *mount_store(const struct mount *m) {
  return m->st;
}

const char *mount_path(const struct mount *m) { return m->path; }

struct policy *mount_policy(struct mount *m) {
  return &m->policy;
}

uint64_t mount_gen(const struct mount *m) { return m->gen; }

struct blocks *mount_blocks(const struct mount *m) {
  return m->blocks;
}

void mount_changed(struct mount *m) { m->gen++; }

/* The database file deleted or replaced under the mount: a replacement is
 * opened; without one the mount keeps reading the old file (its last
 * state) and refuses changes. */
static unsigned check_file(struct mount *m) {
  int64_t now = time_mono_ns();
  if (now - m->checked_ns < CHECK_EVERY_NS)
    return 0;
  m->checked_ns = now;
  if (!m->gone && !store_moved(m->st))
    return 0;
  struct store *nst;
  int rc = store_open(m->path, 0, &nst);
  if (rc == ENG_OK) {
    store_set_busy_ms(nst, m->busy_ms);
    store_set_source(nst, "taskfs");
    store_close(m->st);
    m->st = nst;
    /* Another database: its revisions name other states of its tasks. */
    blocks_clear(m->blocks);
    m->gen++;
    m->gone = m->schema_newer = m->readonly = m->damaged = false;
    m->opened++;
    return MOUNT_REPLACED;
  }
  unsigned news = 0;
  if (!m->gone && rc == ENG_NOTFOUND) {
    news = MOUNT_DELETED;
  } else if (!m->gone) {
    str_set(&m->msg, store_errmsg(nst));
    news = MOUNT_UNUSABLE;
  }
  store_close(nst);
  m->gone = true;
  return news;
}

unsigned mount_refresh(struct mount *m) {
  unsigned news = check_file(m);
  if (store_poll(m->st)) {
    m->gen++;
    bool newer = false;
    if (store_schema_check(m->st, &newer) == ENG_OK && newer &&
        !m->schema_newer) {
      m->schema_newer = true;
      news |= MOUNT_NEWER;
    }
  }
  return news;
}

int mount_can_write(const struct mount *m, const char **why) {
  if (m->gone) {
    *why = "the database file was deleted or replaced by one that cannot "
           "be used";
    return ENG_GONE;
  }
  if (m->schema_newer) {
    *why = "the database was upgraded by a newer taskfs";
    return ENG_READONLY;
  }
  if (m->readonly) {
    *why = "the database is read-only";
    return ENG_READONLY;
  }
  if (m->damaged) {
    *why = "the database is damaged (PRAGMA quick_check failed)";
    return ENG_READONLY;
  }
  if (m->checking) {
    *why = "the database check has not finished";
    return ENG_BUSY;
  }
  return ENG_OK;
}

/* The memo of group file f: its own, or the least recently used one,
 * emptied; NULL for other files. */
static struct memo_slot *memo_slot(struct mount *m, const struct vnode *f) {
  if (f->kind != VK_GROUP_MD || !f->record)
    return NULL;
  struct memo_slot *lru = &m->memos[0];
  for (int i = 0; i < MOUNT_MEMO_FILES; i++) {
    struct memo_slot *s = &m->memos[i];
    if (s->record && strcmp(s->record, f->record) == 0) {
      s->used = ++m->memo_clock;
      return s;
    }
    if (s->used < lru->used)
      lru = s;
  }
  str_set(&lru->record, f->record);
  parse_memo_free(lru->memo);
  lru->memo = parse_memo_new();
  lru->used = ++m->memo_clock;
  return lru;
}

struct save_job {
  struct vnode f;
  struct store *st;
  struct memo_slot *slot;
  int64_t t0;
  char *msg; /* the store's message of a failure */
};

/* The connection of saves, on the file st reads now. */
static int writer(struct mount *m) {
  if (m->wr && m->wr_opened == m->opened)
    return ENG_OK;
  if (m->wr)
    store_close(m->wr);
  m->wr = NULL;
  struct store *wr = NULL;
  int rc = store_open(m->path, 0, &wr);
  if (rc) {
    str_set(&m->msg, store_errmsg(wr));
    store_close(wr);
    return rc;
  }
  store_set_busy_ms(wr, m->busy_ms);
  store_set_source(wr, "taskfs");
  m->wr = wr;
  m->wr_opened = m->opened;
  return ENG_OK;
}

int mount_save_begin(struct mount *m, const struct vnode *f,
                     struct save_job **out, const char **why) {
  *out = NULL;
  int64_t t0 = time_now_ns();
  int rc = mount_can_write(m, why);
  if (rc)
    return rc;
  if ((rc = writer(m))) {
    *why = m->msg;
    mount_syncop_queue(m, "save", f, t0, rc, m->msg);
    return rc;
  }
  struct save_job *j = xcalloc(1, sizeof *j);
  vnode_init(&j->f);
  vnode_copy(&j->f, f);
  j->st = m->wr;
  j->slot = memo_slot(m, f);
  j->t0 = t0;
  m->saving = true;
  *out = j;
  return ENG_OK;
}

int mount_save_run(struct mount *m, struct save_job *j, const char *text,
                   size_t len, const struct served *served,
                   struct save_result *res) {
  struct served sv = served ? *served : (struct served){0};
  if (j->slot)
    sv.memo = j->slot->memo;
  int rc = sync_save(j->st, &j->f, text, len, &sv, &m->policy, res);
  if (j->slot) {
    struct parse_memo_stats ms;
    parse_memo_stats(j->slot->memo, &ms);
    if (ms.bytes > MOUNT_MEMO_BYTES) {
      parse_memo_free(j->slot->memo);
      j->slot->memo = parse_memo_new();
    }
  }
  if (rc != ENG_OK && rc != ENG_PARSE)
    j->msg = xstrdup(store_errmsg(j->st));
  return rc;
}

void mount_save_end(struct mount *m, struct save_job *j, int rc,
                    const struct save_result *res, const char **why) {
  if (rc != ENG_OK && rc != ENG_PARSE) {
    str_set(&m->msg, j->msg);
    *why = m->msg;
    /* A save the engine could not record (a database that cannot be
     * written, a server out of reach) goes to the sync log later. */
    if (res->unrecorded)
      mount_syncop_queue(m, "save", &j->f, j->t0, rc, m->msg);
  }
  m->saving = false;
  m->gen++;
  vnode_release(&j->f);
  free(j->msg);
  free(j);
}

int mount_save(struct mount *m, const struct vnode *f, const char *text,
               size_t len, const struct served *served, struct save_result *res,
               const char **why) {
  struct save_job *j;
  int rc = mount_save_begin(m, f, &j, why);
  if (rc)
    return rc;
  rc = mount_save_run(m, j, text, len, served, res);
  mount_save_end(m, j, rc, res, why);
  return rc;
}

void mount_syncop_queue(struct mount *m, const char *type,
                        const struct vnode *f, int64_t started_ns, int rc,
                        const char *error) {
  XGROW(m->ops, m->capops, m->nops + 1);
  struct pending_op *o = &m->ops[m->nops++];
  o->type = type;
  vnode_init(&o->f);
  vnode_copy(&o->f, f);
  o->started_ns = started_ns;
  o->ended_ns = time_now_ns();
  o->rc = rc;
  o->error = xstrdup(error);
  if (m->nops >= SYNCOPS_BATCH)
    mount_syncops_flush(m);
}

void mount_syncops_flush(struct mount *m) {
  if (m->nops == 0)
    return;
  /* Nothing is written before the check has passed, nor while a save
   * holds the database: a render does not wait for it. */
  if ((m->checking || m->saving) && m->nops < SYNCOPS_KEEP_MAX)
    return;
  const char *why;
  if (mount_can_write(m, &why) || store_in_transaction(m->st))
    goto drop;
  /* Renders are never held up by a locked database. */
  store_set_busy_ms(m->st, SYNCOPS_BUSY_MS);
  int rc = store_begin(m->st);
  struct buf path = BUF_INIT;
  for (size_t i = 0; i < m->nops && rc == ENG_OK; i++) {
    struct pending_op *o = &m->ops[i];
    buf_truncate(&path, 0);
    view_path(m->st, &o->f, &path);
    struct syncop op = {.type = o->type,
                        .file = path.ptr,
                        .session_id = o->f.session,
                        .started_ns = o->started_ns,
                        .ended_ns = o->ended_ns,
                        .status = o->rc ? "error" : "ok",
                        .error_kind = o->rc ? eng_kind(o->rc) : NULL,
                        .error = o->error};
    rc = store_syncop_add(m->st, &op);
  }
  buf_release(&path);
  if (rc == ENG_OK && (m->written += (int64_t)m->nops) >= SYNCOPS_PRUNE_EVERY) {
    rc = store_syncops_prune(m->st, SYNCOPS_MAX_ROWS, SYNCOPS_MAX_DAYS);
    m->written = 0;
  }
  if (rc == ENG_OK)
    rc = store_commit(m->st);
  else if (store_in_transaction(m->st))
    store_rollback(m->st);
  store_set_busy_ms(m->st, m->busy_ms);
  if (rc && m->nops < SYNCOPS_KEEP_MAX)
    return; /* tried again at the next flush */
drop:
  mount_syncops_drop(m);
}

size_t mount_syncops_pending(const struct mount *m) { return m->nops; }

void mount_syncops_drop(struct mount *m) {
  for (size_t i = 0; i < m->nops; i++) {
    vnode_release(&m->ops[i].f);
    free(m->ops[i].error);
  }
  m->nops = 0;
}
