/* SPDX-License-Identifier: MIT */
/* ops.c: the FUSE low-level operations. Generated entries are answered
 * from the engine's view of the store and saved back through it; every
 * other name is an ordinary file kept in the real directory under the
 * mount point. Writes no SQL. */
#include "cache.h"
#include "daemon.h"
#include "fs.h"
#include "mount.h"
#include "nodes.h"
#include "real.h"
#include "tombs.h"
#include "sync.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

static struct fs *FS(fuse_req_t req) { return fuse_req_userdata(req); }

/* The node that shows v now: a node frozen for its readers is left to
 * them. */
static struct node *current_node(struct fs *fs, const struct vnode *v) {
  struct node *n = node_virt(fs, v);
  if (view_is_dir(v->kind))
    return n;
  struct content *c;
  if (cache_content(fs, n, &c) == 0 && n->frozen)
    n = node_virt(fs, v);
  return n;
}

/* ---- attributes ---- */

static int node_attr(struct fs *fs, struct node *n, struct stat *st) {
  memset(st, 0, sizeof *st);
  if (n->type == NT_REAL)
    return real_attr(n, st);
  st->st_ino = n->ino;
  st->st_uid = fs->uid;
  st->st_gid = fs->gid;
  st->st_blksize = 4096;
  if (view_is_dir(n->v.kind)) {
    st->st_mode = S_IFDIR | n->mode;
    st->st_nlink = 2;
    int64_t ns = fs->mount_ns, rev;
    if (n->v.session &&
        store_owner_revision(fs_store(fs), OWNER_SESSION, n->v.session, NULL,
                             &rev) == ENG_OK) {
      int64_t t = store_revision_time(fs_store(fs), rev);
      if (t)
        ns = t;
    }
    ts_from_ns(&st->st_mtim, ns);
    st->st_ctim = st->st_atim = st->st_mtim;
    return 0;
  }
  st->st_mode = S_IFREG | n->mode;
  st->st_nlink = 1;
  if (n->writer && n->writer->dirty) {
    /* Being written: what the writer holds. */
    st->st_size = (off_t)n->writer->wbuf.len;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    st->st_mtim = now;
  } else {
    int64_t mtime_ns = 0;
    int rc = cache_stat(fs, n, &st->st_size, &mtime_ns);
    if (rc)
      return rc;
    ts_from_ns(&st->st_mtim, mtime_ns);
  }
  n->kernel_size = st->st_size;
  st->st_blocks = (blkcnt_t)((st->st_size + 511) / 512);
  st->st_ctim = st->st_atim = st->st_mtim;
  return 0;
}

/* Generated directories: fixed names whose attributes change only in
 * their time stamps, cached like ordinary files. */
static bool stable_dir(const struct node *n) {
  return n->type == NT_VIRT && view_is_dir(n->v.kind);
}

/* Attributes are cached like those of ordinary files. Those of a
 * generated file still follow the database at every path walk: its name
 * is looked up again each time (entry timeout 0, below), and the lookup's
 * reply carries the current size and time. While a generated file is
 * open they are not cached: a reader's size is that of its snapshot and
 * a writer's that of its buffer, and the kernel must ask which. */
static double attr_timeout(struct fs *fs, const struct node *n) {
  if (n->type == NT_VIRT && !view_is_dir(n->v.kind) && n->opens)
    return 0;
  return fs->opt.timeout;
}

/* Fills e for node n (found in parent) and counts the kernel's lookup. */
static int fill_entry(struct fs *fs, struct node *parent, struct node *n,
                      struct fuse_entry_param *e) {
  memset(e, 0, sizeof *e);
  int rc = node_attr(fs, n, &e->attr);
  if (rc)
    return rc;
  e->ino = n->ino;
  e->generation = 1;
  e->attr_timeout = attr_timeout(fs, n);
  /* Names of files in generated directories can change with the
   * database at any moment: the kernel asks again each time. */
  e->entry_timeout =
      stable_dir(n) || (n->type == NT_REAL && parent->type == NT_REAL)
          ? fs->opt.timeout
          : 0;
  n->nlookup++;
  return 0;
}

/* ---- names ---- */

/* What name means in parent: a generated node, an ordinary one, or
 * -ENOENT. The node is made if needed but not yet counted. */
static int resolve(struct fs *fs, struct node *parent, const char *name,
                   struct node **out) {
  if (parent->type == NT_VIRT) {
    if (!view_is_dir(parent->v.kind))
      return -ENOTDIR;
    if (!tomb_find(fs, parent->ino, name)) {
      struct vnode v;
      vnode_init(&v);
      int rc = view_lookup(fs_store(fs), &parent->v, name, &v);
      if (rc == ENG_OK) {
        *out = current_node(fs, &v);
        vnode_release(&v);
        return 0;
      }
      vnode_release(&v);
      if (rc != ENG_NOTFOUND)
        return -fs_error(fs, rc, "lookup");
    }
  }
  return real_lookup(fs, parent, name, out);
}

/* The generated file or directory name stands for in parent (not hidden
 * by a tomb), or false. */
static bool generated(struct fs *fs, struct node *parent, const char *name,
                      struct vnode *out) {
  if (parent->type != NT_VIRT || !view_is_dir(parent->v.kind) ||
      tomb_find(fs, parent->ino, name))
    return false;
  struct vnode v;
  vnode_init(&v);
  bool yes = view_lookup(fs_store(fs), &parent->v, name, &v) == ENG_OK;
  if (yes && out)
    vnode_copy(out, &v);
  vnode_release(&v);
  return yes;
}

/* ---- lifecycle ---- */

static void fs_init(void *userdata, struct fuse_conn_info *conn) {
  /* Writes must reach us one by one, and an O_TRUNC open must come as
   * one request: an edit is parsed from what a handle holds at close. */
  conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
  if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
    conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
  if (conn->capable & FUSE_CAP_AUTO_INVAL_DATA)
    conn->want |= FUSE_CAP_AUTO_INVAL_DATA;
  conn->want &= ~FUSE_CAP_READDIRPLUS;
}

static void fs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name) {
  daemon_trace("lookup", NULL);
  struct fs *fs = FS(req);
  struct fuse_entry_param e;
  fs_lock(fs);
  fs_refresh(fs);
  struct node *p = node_get(fs, parent), *n = NULL;
  int rc = p ? resolve(fs, p, name, &n) : -ENOENT;
  if (rc == 0)
    rc = fill_entry(fs, p, n, &e);
  fs_unlock(fs);
  if (rc)
    fuse_reply_err(req, -rc);
  else
    fuse_reply_entry(req, &e);
}

static void fs_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup) {
  daemon_trace("forget", NULL);
  struct fs *fs = FS(req);
  fs_lock(fs);
  struct node *n = node_get(fs, ino);
  if (n)
    node_forget(fs, n, nlookup);
  fs_unlock(fs);
  fuse_reply_none(req);
}

static void fs_forget_multi(fuse_req_t req, size_t count,
                            struct fuse_forget_data *forgets) {
  daemon_trace("forget_multi", NULL);
  struct fs *fs = FS(req);
  fs_lock(fs);
  for (size_t i = 0; i < count; i++) {
    struct node *n = node_get(fs, forgets[i].ino);
    if (n)
      node_forget(fs, n, forgets[i].nlookup);
  }
  fs_unlock(fs);
  fuse_reply_none(req);
}

static void fs_getattr(fuse_req_t req, fuse_ino_t ino,
                       struct fuse_file_info *fi) {
  daemon_trace("getattr", NULL);
  struct fs *fs = FS(req);
  struct stat st;
  struct handle *h = fi ? (struct handle *)(uintptr_t)fi->fh : NULL;
  fs_lock(fs);
  fs_refresh(fs);
  struct node *n = node_get(fs, ino);
  int rc = n ? node_attr(fs, n, &st) : -ENOENT;
  if (rc == 0 && h && h->snap) {
    /* A reader's fstat (and the kernel's size check before its reads)
     * gives the size of the text it reads, even while another handle
     * rewrites the file in place. */
    st.st_size = (off_t)h->snap->data.len;
    n->kernel_size = st.st_size;
    st.st_blocks = (blkcnt_t)((st.st_size + 511) / 512);
    ts_from_ns(&st.st_mtim, h->snap->mtime_ns);
    st.st_ctim = st.st_atim = st.st_mtim;
  }
  double timeout = n ? attr_timeout(fs, n) : 0;
  fs_unlock(fs);
  if (rc)
    fuse_reply_err(req, -rc);
  else
    fuse_reply_attr(req, &st, timeout);
}

/* ---- saving ---- */

/* Creates "<name>.unsaved-<time>" in dfd, with "-2", "-3", ... after it
 * when that name is taken: an earlier copy is never overwritten. Returns
 * the descriptor or -errno; the name used is left in name. */
static int create_unsaved(int dfd, struct buf *name) {
  char stamp[32];
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
  size_t stem = name->len;
  for (int i = 1; i < 100; i++) {
    buf_truncate(name, stem);
    buf_printf(name, i == 1 ? ".unsaved-%s" : ".unsaved-%s-%d", stamp, i);
    int fd = openat(dfd, name->ptr,
                    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd >= 0 || errno != EEXIST)
      return fd >= 0 ? fd : -errno;
  }
  return -EEXIST;
}

static bool write_all(int fd, const char *text, size_t len) {
  for (size_t off = 0; off < len;) {
    ssize_t w = write(fd, text + off, len - off);
    if (w <= 0)
      return false;
    off += (size_t)w;
  }
  return true;
}

/* Keeps a text the database could not take as an ordinary file beside
 * its file ("<name>.unsaved-<time>"), so that it is not lost. Appends its
 * label ("<session>/<path>") to where, or nothing when that failed too. */
static void keep_unsaved(struct fs *fs, struct node *n, const char *text,
                         size_t len, struct buf *where) {
  struct vnode dir = n->v; /* borrows its strings */
  dir.record = NULL;
  int kind = n->v.kind == VK_CONFLICT_MD || n->v.kind == VK_ERROR_MD
                 ? n->v.target
                 : n->v.kind;
  dir.kind = kind == VK_GROUP_MD   ? VK_GROUPS
             : kind == VK_TASK_MD  ? VK_STATUS
             : kind == VK_NOTES_MD ? VK_NOTES
                                   : VK_SESSION;
  struct buf name = BUF_INIT;
  view_name(fs_store(fs), &n->v, &name);
  int dfd = node_open_vdir(fs, &dir, true);
  int fd = dfd < 0 ? dfd : create_unsaved(dfd, &name);
  bool ok = fd >= 0 && write_all(fd, text, len);
  if (fd >= 0 && close(fd))
    ok = false;
  if (fd >= 0 && !ok)
    unlinkat(dfd, name.ptr, 0);
  if (dfd >= 0)
    close(dfd);
  if (ok) {
    fs_label(fs, &dir, where);
    if (where->len && where->ptr[where->len - 1] != '/')
      buf_addc(where, '/');
    buf_adds(where, name.ptr);
  }
  buf_release(&name);
}

/* Logs a save that stored nothing, and keeps its text beside the file. */
static void save_refused(struct fs *fs, struct node *n, const char *text,
                         size_t len, int err, const char *why) {
  struct buf label = BUF_INIT, kept = BUF_INIT;
  fs_label(fs, &n->v, &label);
  keep_unsaved(fs, n, text, len, &kept);
  fuse_log(FUSE_LOG_ERR,
           "taskfs: save %s failed (%s): %s; nothing was applied, %s%s\n",
           label.ptr, strerror(err), why,
           kept.len ? "the text is kept in "
                    : "and the text could not be kept beside the file",
           kept.ptr);
  buf_release(&label);
  buf_release(&kept);
}

/*
 * Saves text as the new content of the generated file n. served is what
 * the file read when the text was made. Returns 0 when the database holds
 * the edit, -EBADMSG when the text was held with a diagnostic beside the
 * file, or another -errno when nothing could be stored (the text is then
 * kept in an .unsaved file beside the file).
 */
static int save_text(struct fs *fs, struct node *n, const char *text,
                     size_t len, struct content *served, bool replaces) {
  struct save_result res;
  save_result_init(&res);
  struct served sv = {0};
  if (served && served->version > 0) {
    sv.rev = served->version;
    sv.text = served->data.ptr;
    sv.len = served->data.len;
    sv.replaces = replaces;
  }
  struct buf label = BUF_INIT;
  fs_label(fs, &n->v, &label);
  daemon_trace("save", label.ptr);
  uint64_t gen = mount_gen(fs->mount);
  const char *why = NULL;
  int rc = mount_save(fs->mount, &n->v, text, len, &sv, &res, &why);
  int err = 0;
  if (rc == ENG_OK) {
    fuse_log(FUSE_LOG_INFO, "taskfs: saved %s: %d change%s, revision %lld\n",
             label.ptr, res.changes, res.changes == 1 ? "" : "s",
             (long long)res.rev);
    if (res.conflicts)
      fuse_log(FUSE_LOG_WARNING,
               "taskfs: %s: %d conflict%s with changes in the database; "
               "see its .conflict.md file\n",
               label.ptr, res.conflicts, res.conflicts == 1 ? "" : "s");
    if (res.warnings)
      fuse_log(FUSE_LOG_WARNING, "taskfs: %s: %s", label.ptr, res.report.ptr);
  } else if (rc == ENG_PARSE) {
    fuse_log(FUSE_LOG_WARNING,
             "taskfs: %s could not be applied; the text is kept there, see "
             "its .error.md file:\n%s",
             label.ptr, res.report.ptr);
    err = -EBADMSG;
  } else {
    err = -fs_errno(rc);
    save_refused(fs, n, text, len, -err, why);
  }
  buf_release(&label);
  save_result_release(&res);
  /* The save was tried: what the kernel holds of the file is older. */
  if (mount_gen(fs->mount) != gen)
    n->kernel_cached = false;
  return err;
}

/* A write refused part way leaves the buffer short of what the program
 * wrote: it is not saved (save_handle). */
static void write_refused(struct handle *h, int err) {
  if (!h->werr)
    h->werr = err;
}

/* Saves a writable handle's buffer if it changed. */
static int save_handle(struct fs *fs, struct handle *h) {
  if (h->type != HT_VIRT || !h->writable)
    return 0;
  if (h->werr) {
    if (h->dirty && h->wbuf.len) {
      char why[128];
      snprintf(why, sizeof why,
               "a write to it failed (%s), so the text is incomplete",
               strerror(h->werr));
      save_refused(fs, h->node, h->wbuf.ptr, h->wbuf.len, h->werr, why);
    }
    h->dirty = false;
    h->failed = true;
    return -h->werr;
  }
  if (!h->dirty)
    return 0;
  int rc =
      save_text(fs, h->node, h->wbuf.ptr, h->wbuf.len, h->base, h->replaces);
  if (rc == 0 || rc == -EBADMSG)
    h->dirty = false; /* stored (applied, or held at the path) */
  h->failed = rc != 0 && rc != -EBADMSG;
  return rc;
}

/* An ordinary node, reached as name in dir, becomes the generated file
 * v (it was renamed over it, or its text made a new record): the old
 * node of v is detached, the real file removed, and the handles open on
 * it read and write the text as a buffer of the generated file. */
static void become_virt(struct fs *fs, struct node *n, struct node *dir,
                        const char *name, const struct vnode *v,
                        const struct buf *text) {
  struct node *old = node_virt_known(fs, v);
  struct content *served = NULL;
  if (old && old != n) {
    served = content_ref(old->served);
    node_detach(fs, old);
    node_maybe_free(fs, old);
  }
  real_unlink(fs, dir, name, false);
  node_make_virt(fs, n, v);
  content_unref(n->served);
  n->served = served;
  for (struct handle *h = n->handles; h; h = h->next) {
    if (h->type != HT_REAL)
      continue;
    close(h->fd);
    h->fd = -1;
    h->type = HT_VIRT;
    h->writable = true;
    h->dirty = false;
    fs->buffered -= h->wbuf.len <= fs->buffered ? h->wbuf.len : fs->buffered;
    buf_truncate(&h->wbuf, 0);
    buf_add(&h->wbuf, text->ptr, text->len);
    fs->buffered += text->len;
  }
}

/* Writes len bytes of text to the new file name in dfd (an ordinary file
 * of that name is replaced, as rename(2) replaces it). Returns 0 or
 * -errno; a file left half written is removed. */
static int write_new(int dfd, const char *name, mode_t mode, const char *text,
                     size_t len) {
  if (unlinkat(dfd, name, 0) && errno != ENOENT)
    return -errno;
  int fd = openat(dfd, name,
                  O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0)
    return -errno;
  int rc = write_all(fd, text, len) ? 0 : -errno;
  if (close(fd) && rc == 0)
    rc = -errno;
  if (rc)
    unlinkat(dfd, name, 0);
  return rc;
}

/* A generated node becomes an ordinary file at parent/name holding its
 * current text (it was renamed away from its managed name). */
static int become_real(struct fs *fs, struct node *n, struct node *parent,
                       const char *name) {
  struct content *c = NULL;
  const char *text;
  size_t len;
  if (n->writer && n->writer->dirty) {
    text = n->writer->wbuf.ptr;
    len = n->writer->wbuf.len;
  } else {
    int rc = cache_content(fs, n, &c);
    if (rc)
      return rc;
    text = c->data.ptr;
    len = c->data.len;
  }
  int dfd = node_open_dir(fs, parent, true);
  if (dfd < 0)
    return dfd;
  int rc = write_new(dfd, name, n->mode & 0666, text, len);
  int pfd = rc ? -1 : openat(dfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  struct stat st;
  if (rc == 0 && (pfd < 0 || fstat(pfd, &st))) {
    rc = -errno;
    if (pfd >= 0)
      close(pfd);
  }
  if (rc) {
    close(dfd);
    return rc;
  }
  cache_drop(fs, n);
  node_make_real(fs, n, pfd, &st, parent, name);
  /* Handles keep reading what they read; writers now write the file. */
  for (struct handle *h = n->handles; h; h = h->next) {
    if (h->type != HT_VIRT || !h->writable)
      continue;
    int wfd = openat(dfd, name, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
    if (wfd >= 0) {
      h->type = HT_REAL;
      h->fd = wfd;
      h->writable = false;
      h->dirty = false;
    }
  }
  n->writer = NULL;
  close(dfd);
  return 0;
}

/* ---- attributes ---- */

static int virt_setattr(struct fs *fs, struct node *n, struct stat *attr,
                        int to_set, struct handle *h) {
  if (to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) {
    if (((to_set & FUSE_SET_ATTR_UID) && attr->st_uid != fs->uid) ||
        ((to_set & FUSE_SET_ATTR_GID) && attr->st_gid != fs->gid))
      return -EPERM;
  }
  if (to_set & FUSE_SET_ATTR_SIZE) {
    if (view_is_dir(n->v.kind))
      return -EISDIR;
    if (!view_is_writable(n->v.kind))
      return -EACCES;
    bool own = h && h->type == HT_VIRT && h->writable;
    if ((size_t)attr->st_size > PARSE_MAX_BYTES) {
      if (own)
        write_refused(h, EFBIG);
      return -EFBIG;
    }
    if (own) {
      size_t before = h->wbuf.len;
      if ((size_t)attr->st_size > before &&
          fs->buffered + ((size_t)attr->st_size - before) >
              (size_t)fs->opt.max_buffers_mb << 20) {
        write_refused(h, ENOMEM);
        return -ENOMEM;
      }
      buf_resize(&h->wbuf, (size_t)attr->st_size);
      fs->buffered = fs->buffered - before + h->wbuf.len;
      h->dirty = true;
      n->writer = h;
      n->kernel_cached = false;
    } else {
      /* truncate(2) by name: a save of the shortened text. */
      struct content *c;
      int rc = cache_content(fs, n, &c);
      if (rc)
        return rc;
      struct buf t = BUF_INIT;
      buf_add(&t, c->data.ptr, c->data.len);
      buf_resize(&t, (size_t)attr->st_size);
      struct content *served = content_ref(c);
      rc = save_text(fs, n, t.ptr, t.len, served, false);
      content_unref(served);
      buf_release(&t);
      if (rc && rc != -EBADMSG)
        return rc;
    }
  }
  if (to_set & FUSE_SET_ATTR_MODE)
    n->mode = attr->st_mode & 0777;
  /* Times of a generated file are those of the records it shows. */
  return 0;
}

static void fs_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
                       int to_set, struct fuse_file_info *fi) {
  daemon_trace("setattr", NULL);
  struct fs *fs = FS(req);
  struct stat st;
  struct handle *h = fi ? (struct handle *)(uintptr_t)fi->fh : NULL;
  fs_lock(fs);
  fs_refresh(fs);
  struct node *n = node_get(fs, ino);
  int rc =
      !n ? -ENOENT
      : n->type == NT_REAL
          ? real_setattr(n, attr, to_set, h && h->type == HT_REAL ? h->fd : -1)
          : virt_setattr(fs, n, attr, to_set, h);
  if (rc == 0 && h && n->type == NT_REAL && (to_set & FUSE_SET_ATTR_SIZE))
    h->wrote = true;
  if (rc == 0)
    rc = node_attr(fs, n, &st);
  double timeout = n ? attr_timeout(fs, n) : 0;
  fs_unlock(fs);
  if (rc)
    fuse_reply_err(req, -rc);
  else
    fuse_reply_attr(req, &st, timeout);
}

static void fs_readlink(fuse_req_t req, fuse_ino_t ino) {
  daemon_trace("readlink", NULL);
  struct fs *fs = FS(req);
  char target[PATH_MAX + 1];
  fs_lock(fs);
  struct node *n = node_get(fs, ino);
  int rc = !n                   ? -ENOENT
           : n->type == NT_REAL ? real_readlink(n, target, sizeof target)
                                : -EINVAL;
  fs_unlock(fs);
  if (rc)
    fuse_reply_err(req, -rc);
  else
    fuse_reply_readlink(req, target);
}

/* ---- making and removing names ---- */

/* Makes an ordinary directory, symbolic link or special file in the real
 * directory of parent. */
static void make_entry(fuse_req_t req, fuse_ino_t parent, const char *name,
                       const struct real_new *what) {
  struct fs *fs = FS(req);
  struct fuse_entry_param e;
  fs_lock(fs);
  fs_refresh(fs);
  struct node *p = node_get(fs, parent), *n = NULL;
  int rc = !p                                              ? -ENOENT
           : generated(fs, p, name, NULL)                  ? -EEXIST
           : tomb_find(fs, p->ino, name)                   ? -EPERM
           : p->type == NT_VIRT && !view_is_dir(p->v.kind) ? -ENOTDIR
                                                           : 0;
  if (rc == 0)
    rc = real_make(fs, fuse_req_ctx(req), p, name, what, &n);
  if (rc == 0)
    rc = fill_entry(fs, p, n, &e);
  fs_unlock(fs);
  if (rc)
    fuse_reply_err(req, -rc);
  else
    fuse_reply_entry(req, &e);
}

static void fs_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
                     mode_t mode) {
  daemon_trace("mkdir", NULL);
  struct real_new what = {.mode = S_IFDIR | (mode & 07777)};
  make_entry(req, parent, name, &what);
}

static void fs_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
                       const char *name) {
  daemon_trace("symlink", NULL);
  struct real_new what = {.link = link};
  make_entry(req, parent, name, &what);
}

/* Regular files, FIFOs, sockets and device nodes, as on the file system
 * underneath (the kernel has checked CAP_MKNOD of the caller for a
 * device). */
static void fs_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
                     mode_t mode, dev_t rdev) {
  daemon_trace("mknod", NULL);
  struct real_new what = {.mode = mode, .rdev = rdev};
  make_entry(req, parent, name, &what);
}

/* Unlinks a generated file: an error file discards what it explains; an
 * editable file's name goes away until it is made again. */
static int unlink_virt(struct fs *fs, struct node *p, const char *name,
                       const struct vnode *v) {
  int rc = view_is_writable(v->kind) || v->kind == VK_ERROR_MD
               ? fs_may_change(fs, "removal of", v)
               : 0;
  if (rc)
    return rc;
  if (v->kind == VK_ERROR_MD) {
    struct vnode t;
    vnode_init(&t);
    vnode_copy(&t, v);
    t.kind = v->target;
    rc = sync_discard(fs_store(fs), &t);
    vnode_release(&t);
    mount_changed(fs->mount);
    return rc ? -fs_error(fs, rc, "discard") : 0;
  }
  if (!view_is_writable(v->kind))
    return view_is_dir(v->kind) ? -EISDIR : -EPERM;
  struct node *n = node_virt(fs, v);
  struct content *shown = NULL;
  if (cache_content(fs, n, &shown))
    shown = n->served;
  tomb_add(fs, p->ino, name, v, shown, true);
  node_detach(fs, n);
  node_maybe_free(fs, n);
  return 0;
}

static void fs_unlink(fuse_req_t req, fuse_ino_t parent, const char *name) {
  daemon_trace("unlink", NULL);
  struct fs *fs = FS(req);
  fs_lock(fs);
  fs_refresh(fs);
  struct node *p = node_get(fs, parent);
  struct vnode v;
  vnode_init(&v);
  int rc;
  if (!p) {
    rc = -ENOENT;
  } else if (generated(fs, p, name, &v)) {
    rc = unlink_virt(fs, p, name, &v);
  } else {
    rc = real_unlink(fs, p, name, false);
  }
  vnode_release(&v);
  fs_unlock(fs);
  fuse_reply_err(req, -rc);
}

static void fs_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name) {
  daemon_trace("rmdir", NULL);
  struct fs *fs = FS(req);
  fs_lock(fs);
  fs_refresh(fs);
  struct node *p = node_get(fs, parent);
  int rc = !p                             ? -ENOENT
           : generated(fs, p, name, NULL) ? -EPERM
                                          : real_unlink(fs, p, name, true);
  fs_unlock(fs);
  fuse_reply_err(req, -rc);
}

/* ---- rename ---- */

/* A generated file renamed to another name: the engine decides what it
 * means (a group renamed, a task's status); otherwise the text moves to
 * an ordinary file and the managed name goes away as with unlink. */
static int rename_virt(struct fs *fs, struct node *p, const char *name,
                       const struct vnode *v, struct node *np,
                       const char *newname, unsigned flags) {
  struct node *n = node_virt(fs, v);
  if (!view_is_writable(v->kind))
    return -EPERM;
  struct vnode target;
  vnode_init(&target);
  bool over = generated(fs, np, newname, &target);
  int rc = 0;
  if (over && (flags & RENAME_NOREPLACE)) {
    rc = -EEXIST;
    goto out;
  }
  if (flags & RENAME_EXCHANGE) {
    rc = -EINVAL;
    goto out;
  }
  if (np->type == NT_VIRT && view_is_dir(np->v.kind)) {
    /* Within the generated tree a rename may change a record. */
    if ((rc = fs_may_change(fs, "rename of", v)))
      goto out;
    struct vnode moved;
    vnode_init(&moved);
    int erc = ENG_PERM;
    if (!over || (target.kind == v->kind &&
                  (v->kind == VK_GROUP_MD || vnode_eq(&target, v)))) {
      if (over && !vnode_eq(&target, v) && target.kind == VK_GROUP_MD) {
        /* The group whose file is replaced is deleted (restorable). */
        erc = sync_delete(fs_store(fs), &target);
        if (erc)
          goto engine;
        struct node *old = node_virt(fs, &target);
        node_detach(fs, old);
        node_maybe_free(fs, old);
      }
      erc = sync_rename(fs_store(fs), v, &np->v, newname, &moved);
    }
  engine:
    if (erc == ENG_OK) {
      /* Same record, new name: the node keeps its inode. */
      n->v.status = moved.status;
      mount_changed(fs->mount);
      vnode_release(&moved);
      goto out;
    }
    vnode_release(&moved);
    if (erc != ENG_PERM) {
      rc = -fs_error(fs, erc, "rename");
      goto out;
    }
    if (over) {
      /* Onto another generated file of a different kind. */
      rc = -EPERM;
      goto out;
    }
  }
  /* Renamed away from its managed name. */
  struct content *served = content_ref(n->served);
  rc = become_real(fs, n, np, newname);
  if (rc == 0)
    tomb_add(fs, p->ino, name, v, served, false);
  content_unref(served);
out:
  vnode_release(&target);
  return rc;
}

/* An ordinary file renamed onto a generated file, or onto the name of one
 * that was unlinked: its text is a save of that file. */
static int rename_over(struct fs *fs, struct node *src, struct node *p,
                       const char *name, struct node *np, const char *newname,
                       const struct vnode *v, struct content *served) {
  struct buf text = BUF_INIT;
  int rc = real_read_all(fs, src, &text, PARSE_MAX_BYTES);
  if (rc == 0) {
    struct node *dst = node_virt(fs, v);
    struct content *sv = content_ref(served ? served : dst->served);
    rc = save_text(fs, dst, text.ptr, text.len, sv, false);
    content_unref(sv);
    if (rc == 0 || rc == -EBADMSG) {
      /* The bytes are at the path, applied or held: the rename happened.
       * v may be the tomb's own: the tomb is freed last. */
      struct tomb *t = tomb_take(fs, np->ino, newname);
      become_virt(fs, src, p, name, v, &text);
      if (t)
        tomb_free(t);
      rc = 0;
    }
  }
  buf_release(&text);
  return rc;
}

/* An ordinary file that lands under a name of a generated directory may
 * be a new group or task there. */
static void maybe_adopt(struct fs *fs, struct node *n) {
  struct node *dir = n->parent;
  if (!dir || dir->type != NT_VIRT ||
      (dir->v.kind != VK_GROUPS && dir->v.kind != VK_STATUS) ||
      n->name[0] == '.' || !str_ends(n->name, ".md"))
    return;
  struct stat st;
  const char *why;
  if (node_attr(fs, n, &st) || !S_ISREG(st.st_mode) || st.st_nlink != 1)
    return;
  if (mount_can_write(fs->mount, &why)) {
    fuse_log(FUSE_LOG_ERR, "taskfs: new file %s stays an ordinary file: %s\n",
             n->name, why);
    return;
  }
  struct buf text = BUF_INIT;
  if (real_read_all(fs, n, &text, PARSE_MAX_BYTES) == 0) {
    struct save_result res;
    save_result_init(&res);
    struct served sv = {0};
    int rc = sync_create(fs_store(fs), &dir->v, n->name, text.ptr, text.len,
                         &sv, mount_policy(fs->mount), &res);
    if (rc)
      fuse_log(FUSE_LOG_ERR, "taskfs: new file %s: %s\n", n->name,
               store_errmsg(fs_store(fs)));
    else if (res.outcome != SAVE_PLAIN) {
      struct buf label = BUF_INIT;
      fs_label(fs, &res.file, &label);
      fuse_log(FUSE_LOG_INFO, "taskfs: %s: new %s from %s\n", label.ptr,
               res.file.kind == VK_GROUP_MD ? "group" : "task", n->name);
      buf_release(&label);
      mount_changed(fs->mount);
      /* The file now shows the record under its own name; when that is
       * the name the user gave, the inode stays the same. */
      struct buf name = BUF_INIT;
      view_name(fs_store(fs), &res.file, &name);
      char *was = xstrdup(n->name);
      if (strcmp(name.ptr, was) == 0) {
        become_virt(fs, n, dir, was, &res.file, &text);
      } else {
        real_unlink(fs, dir, was, false);
        node_detach(fs, n);
      }
      free(was);
      buf_release(&name);
    }
    save_result_release(&res);
  }
  buf_release(&text);
}

static void fs_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
                      fuse_ino_t newparent, const char *newname,
                      unsigned int flags) {
  daemon_trace("rename", NULL);
  struct fs *fs = FS(req);
  fs_lock(fs);
  fs_refresh(fs);
  struct node *p = node_get(fs, parent), *np = node_get(fs, newparent);
  struct vnode v, dst;
  vnode_init(&v);
  vnode_init(&dst);
  int rc = 0;
  if (!p || !np) {
    rc = -ENOENT;
    goto out;
  }
  if (np->type == NT_VIRT && !view_is_dir(np->v.kind)) {
    rc = -ENOTDIR;
    goto out;
  }
  if (generated(fs, p, name, &v)) {
    rc = view_is_dir(v.kind) ? -EPERM
                             : rename_virt(fs, p, name, &v, np, newname, flags);
    goto out;
  }
  struct node *src = NULL;
  if ((rc = real_lookup(fs, p, name, &src)))
    goto out;
  struct tomb *t = tomb_find(fs, np->ino, newname);
  if (generated(fs, np, newname, &dst) || t) {
    struct stat st;
    if ((rc = node_attr(fs, src, &st)))
      goto out;
    if (!S_ISREG(st.st_mode)) {
      rc = S_ISDIR(st.st_mode) ? -EISDIR : -EPERM;
      goto out;
    }
    if (flags & (RENAME_EXCHANGE | RENAME_NOREPLACE)) {
      rc = (flags & RENAME_NOREPLACE) && !t ? -EEXIST : -EINVAL;
      goto out;
    }
    const struct vnode *target = t ? &t->v : &dst;
    if (!view_is_writable(target->kind)) {
      rc = view_is_dir(target->kind) ? -EISDIR : -EACCES;
      goto out;
    }
    rc = rename_over(fs, src, p, name, np, newname, target,
                     t ? t->served : NULL);
    goto out;
  }
  /* Both ordinary. */
  rc = real_rename(fs, p, name, np, newname, flags);
  if (rc == 0 && !(flags & RENAME_EXCHANGE))
    maybe_adopt(fs, src);
out:
  vnode_release(&v);
  vnode_release(&dst);
  fs_unlock(fs);
  fuse_reply_err(req, -rc);
}

static void fs_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
                    const char *newname) {
  daemon_trace("link", NULL);
  struct fs *fs = FS(req);
  struct fuse_entry_param e;
  fs_lock(fs);
  fs_refresh(fs);
  struct node *n = node_get(fs, ino), *np = node_get(fs, newparent);
  int rc = 0;
  if (!n || !np)
    rc = -ENOENT;
  else if (n->type != NT_REAL || generated(fs, np, newname, NULL) ||
           tomb_find(fs, np->ino, newname))
    rc = -EPERM;
  struct node *linked = NULL;
  if (rc == 0)
    rc = real_link(fs, n, np, newname);
  if (rc == 0)
    rc = real_lookup(fs, np, newname, &linked);
  if (rc == 0)
    rc = fill_entry(fs, np, linked, &e);
  fs_unlock(fs);
  if (rc)
    fuse_reply_err(req, -rc);
  else
    fuse_reply_entry(req, &e);
}

/* ---- files ---- */

/* Opens a generated file. A reader gets the rendering of this moment, so
 * it never sees a torn document; the kernel keeps its cached pages only
 * when they hold this same rendering. A writer gets a private buffer that
 * is saved when it is closed or synced. */
static int virt_open(struct fs *fs, struct node *n, struct fuse_file_info *fi,
                     struct handle **out) {
  if (view_is_dir(n->v.kind))
    return -EISDIR;
  bool write = (fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC);
  if (write && !view_is_writable(n->v.kind))
    return -EACCES;
  struct content *c;
  int rc = cache_content(fs, n, &c);
  if (rc)
    return rc;
  /* What this path served: a handle that can read sees this text; one
   * that only writes (or truncates) builds on what was last read. */
  bool reads = (fi->flags & O_ACCMODE) != O_WRONLY && !(fi->flags & O_TRUNC);
  if (reads || !n->served) {
    content_unref(n->served);
    n->served = content_ref(c);
  }
  struct handle *h = handle_new(HT_VIRT, n);
  if (write) {
    h->writable = true;
    h->base = content_ref(n->served);
    if (fi->flags & O_TRUNC) {
      h->dirty = true;
      n->writer = h;
    } else {
      buf_add(&h->wbuf, c->data.ptr, c->data.len);
      fs->buffered += c->data.len;
    }
    /* The writer's bytes are not the file's text until they are saved:
     * keep them out of the page cache. */
    fi->direct_io = 1;
    n->kernel_cached = false;
  } else {
    h->snap = content_ref(c);
    /* The size the kernel has (from the lookup just before, say) may be
     * of an earlier rendering: it would cut the reads short. */
    if (n->kernel_size != (off_t)c->data.len) {
      fuse_lowlevel_notify_inval_inode(fs->se, n->ino, -1, 0);
      n->kernel_size = -1;
    }
    if (n->kernel_cached && n->kernel_version == c->version) {
      fi->keep_cache = 1;
    } else {
      fi->keep_cache = 0;
      n->kernel_cached = true;
      n->kernel_version = c->version;
    }
    fi->noflush = 1;
  }
  *out = h;
  return 0;
}

static int real_handle(struct fs *fs, struct node *n, struct fuse_file_info *fi,
                       struct handle **out) {
  int fd = real_open(fs, n, fi->flags);
  if (fd < 0)
    return fd;
  struct handle *h = handle_new(HT_REAL, n);
  h->fd = fd;
  h->wrote = (fi->flags & O_TRUNC) != 0;
  *out = h;
  return 0;
}

static void fs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  daemon_trace("open", NULL);
  struct fs *fs = FS(req);
  struct handle *h = NULL;
  fs_lock(fs);
  fs_refresh(fs);
  struct node *n = node_get(fs, ino);
  int rc = !n                   ? -ENOENT
           : n->type == NT_VIRT ? virt_open(fs, n, fi, &h)
                                : real_handle(fs, n, fi, &h);
  fs_unlock(fs);
  if (rc) {
    fuse_reply_err(req, -rc);
    return;
  }
  fi->fh = (uintptr_t)h;
  if (fuse_reply_open(req, fi) == -ENOENT) {
    /* The opener was interrupted: nobody will release this handle. */
    fs_lock(fs);
    handle_free(fs, h);
    fs_unlock(fs);
  }
}

static void fs_create(fuse_req_t req, fuse_ino_t parent, const char *name,
                      mode_t mode, struct fuse_file_info *fi) {
  daemon_trace("create", NULL);
  struct fs *fs = FS(req);
  struct fuse_entry_param e;
  struct handle *h = NULL;
  struct vnode v;
  vnode_init(&v);
  fs_lock(fs);
  fs_refresh(fs);
  struct node *p = node_get(fs, parent), *n = NULL;
  struct tomb *t = NULL;
  int rc = 0;
  if (!p) {
    rc = -ENOENT;
  } else if (p->type == NT_VIRT && !view_is_dir(p->v.kind)) {
    rc = -ENOTDIR;
  } else if (generated(fs, p, name, &v)) {
    /* It appeared since the kernel looked: open it as asked. */
    if (fi->flags & O_EXCL) {
      rc = -EEXIST;
    } else {
      n = node_virt(fs, &v);
      rc = virt_open(fs, n, fi, &h);
    }
  } else if ((t = tomb_take(fs, parent, name))) {
    /* A managed name made again: its text will be a save of the same
     * record. */
    n = node_virt(fs, &t->v);
    h = handle_new(HT_VIRT, n);
    h->writable = true;
    h->dirty = true;
    h->base = content_ref(t->served);
    h->replaces = t->unlinked;
    content_unref(n->served);
    n->served = content_ref(t->served);
    n->writer = h;
    n->kernel_cached = false;
    fi->direct_io = 1;
    tomb_free(t);
  } else {
    int fd = real_create(fs, fuse_req_ctx(req), p, name, fi->flags, mode, &n);
    if (fd < 0) {
      rc = fd;
    } else {
      h = handle_new(HT_REAL, n);
      h->fd = fd;
      h->wrote = true;
    }
  }
  if (rc == 0) {
    rc = fill_entry(fs, p, n, &e);
    if (rc) {
      handle_free(fs, h);
      h = NULL;
    }
  }
  vnode_release(&v);
  fs_unlock(fs);
  if (rc) {
    fuse_reply_err(req, -rc);
    return;
  }
  fi->fh = (uintptr_t)h;
  if (fuse_reply_create(req, &e, fi) == -ENOENT) {
    fs_lock(fs);
    handle_free(fs, h);
    fs_unlock(fs);
  }
}

static void fs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                    struct fuse_file_info *fi) {
  daemon_trace("read", NULL);
  struct fs *fs = FS(req);
  struct handle *h = (struct handle *)(uintptr_t)fi->fh;
  if (h->type == HT_REAL) {
    struct fuse_bufvec buf = FUSE_BUFVEC_INIT(size);
    buf.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
    buf.buf[0].fd = h->fd;
    buf.buf[0].pos = off;
    fuse_reply_data(req, &buf, FUSE_BUF_SPLICE_MOVE);
    return;
  }
  if (h->snap) {
    /* A snapshot never changes: no lock needed to copy from it. It is
     * held until the reply is written: the kernel may release the handle
     * as soon as it has the bytes. */
    struct content *c = content_ref(h->snap);
    const struct buf *b = &c->data;
    size_t n = (size_t)off >= b->len ? 0 : b->len - (size_t)off;
    fuse_reply_buf(req, n ? b->ptr + off : NULL, n < size ? n : size);
    content_unref(c);
    return;
  }
  fs_lock(fs);
  const struct buf *b = &h->wbuf;
  size_t n = (size_t)off >= b->len ? 0 : b->len - (size_t)off;
  if (n > size)
    n = size;
  char *copy = n ? xstrndup(b->ptr + off, n) : NULL;
  fs_unlock(fs);
  fuse_reply_buf(req, copy, n);
  free(copy);
}

static void fs_write_buf(fuse_req_t req, fuse_ino_t ino, struct fuse_bufvec *in,
                         off_t off, struct fuse_file_info *fi) {
  daemon_trace("write_buf", NULL);
  struct fs *fs = FS(req);
  struct handle *h = (struct handle *)(uintptr_t)fi->fh;
  size_t size = fuse_buf_size(in);
  if (h->type == HT_REAL) {
    struct fuse_bufvec out = FUSE_BUFVEC_INIT(size);
    out.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
    out.buf[0].fd = h->fd;
    out.buf[0].pos = off;
    ssize_t n = fuse_buf_copy(&out, in, 0);
    if (n < 0) {
      fuse_reply_err(req, (int)-n);
      return;
    }
    fs_lock(fs);
    h->wrote = true;
    fs_unlock(fs);
    fuse_reply_write(req, (size_t)n);
    return;
  }
  if (!h->writable) {
    fuse_reply_err(req, EBADF);
    return;
  }
  if ((size_t)off + size > PARSE_MAX_BYTES) {
    fs_lock(fs);
    write_refused(h, EFBIG);
    fs_unlock(fs);
    fuse_reply_err(req, EFBIG);
    return;
  }
  char *data = xmalloc(size ? size : 1);
  struct fuse_bufvec dst = FUSE_BUFVEC_INIT(size);
  dst.buf[0].mem = data;
  ssize_t got = fuse_buf_copy(&dst, in, 0);
  if (got < 0) {
    free(data);
    fuse_reply_err(req, (int)-got);
    return;
  }
  fs_lock(fs);
  size_t before = h->wbuf.len, after = (size_t)off + (size_t)got;
  if (after > before &&
      fs->buffered + (after - before) > (size_t)fs->opt.max_buffers_mb << 20) {
    struct buf label = BUF_INIT;
    fs_label(fs, &h->node->v, &label);
    write_refused(h, ENOMEM);
    fs_unlock(fs);
    free(data);
    fuse_log(FUSE_LOG_ERR,
             "taskfs: write to %s refused (%s): the files being written "
             "through the mount would hold more than %d MiB together (-o "
             "max_buffers); close some of them, or mount with a larger "
             "max_buffers\n",
             label.ptr, strerror(ENOMEM), fs->opt.max_buffers_mb);
    buf_release(&label);
    fuse_reply_err(req, ENOMEM);
    return;
  }
  buf_write_at(&h->wbuf, (size_t)off, data, (size_t)got);
  fs->buffered += h->wbuf.len - before;
  h->dirty = true;
  h->written = true;
  h->failed = false;
  h->node->writer = h;
  fs_unlock(fs);
  free(data);
  fuse_reply_write(req, (size_t)got);
}

/* After an ordinary file written in a generated directory is closed, it
 * may turn out to be a new group or task. */
static int flush_real(struct fs *fs, struct handle *h) {
  int fd = dup(h->fd);
  int rc = fd < 0 ? -errno : close(fd) ? -errno : 0;
  if (rc == 0 && h->wrote && h->node->type == NT_REAL && h->node->key) {
    h->wrote = false;
    maybe_adopt(fs, h->node);
  }
  return rc;
}

static void fs_flush(fuse_req_t req, fuse_ino_t ino,
                     struct fuse_file_info *fi) {
  daemon_trace("flush", NULL);
  struct fs *fs = FS(req);
  struct handle *h = (struct handle *)(uintptr_t)fi->fh;
  fs_lock(fs);
  fs_refresh(fs);
  int rc = 0;
  if (h->type == HT_REAL)
    rc = flush_real(fs, h);
  else if (h->written || h->wbuf.len)
    rc = save_handle(fs, h);
  /* Else truncated and not written to: a shell's "> file" closes its
   * first descriptor before the command writes through the copy. The
   * empty text is saved at release if nothing comes. */
  fs_unlock(fs);
  fuse_reply_err(req, -rc);
}

static void fs_release(fuse_req_t req, fuse_ino_t ino,
                       struct fuse_file_info *fi) {
  daemon_trace("release", NULL);
  struct fs *fs = FS(req);
  struct handle *h = (struct handle *)(uintptr_t)fi->fh;
  fs_lock(fs);
  if (h->type == HT_VIRT && h->dirty && !h->failed) {
    /* Written without a flush (a write through mmap): save it now. */
    fs_refresh(fs);
    save_handle(fs, h);
  }
  handle_free(fs, h);
  fs_unlock(fs);
  fuse_reply_err(req, 0);
}

static void fs_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
                     struct fuse_file_info *fi) {
  daemon_trace("fsync", NULL);
  struct fs *fs = FS(req);
  struct handle *h = (struct handle *)(uintptr_t)fi->fh;
  int rc = 0;
  if (h->type == HT_REAL) {
    rc = (datasync ? fdatasync(h->fd) : fsync(h->fd)) ? -errno : 0;
  } else {
    fs_lock(fs);
    fs_refresh(fs);
    rc = save_handle(fs, h);
    fs_unlock(fs);
  }
  fuse_reply_err(req, -rc);
}

/* ---- teardown ---- */

struct handle_list {
  struct handle **v;
  size_t n, cap;
};

static void collect_handles(void *ctx, void *value) {
  struct handle_list *l = ctx;
  for (struct handle *h = ((struct node *)value)->handles; h; h = h->next) {
    XGROW(l->v, l->cap, l->n + 1);
    l->v[l->n++] = h;
  }
}

/* A generated file still open for writing when the filesystem goes away
 * (a signal, or an unmount the kernel did not wait for): its writer can no
 * longer close it, so its text is saved now, or kept beside the file when
 * that fails, as any failed save is. */
static void save_at_unmount(struct fs *fs, struct handle *h) {
  /* A failed save kept its text already, and its writer was told. */
  if (h->type != HT_VIRT || !h->writable || !h->dirty || h->failed)
    return;
  struct buf label = BUF_INIT;
  fs_label(fs, &h->node->v, &label);
  if (h->wbuf.len == 0) {
    /* Opened with O_TRUNC and nothing written yet: no text to lose. */
    fuse_log(FUSE_LOG_WARNING,
             "taskfs: %s was open for writing at unmount with nothing "
             "written to it; it is left as it was\n",
             label.ptr);
  } else {
    fuse_log(FUSE_LOG_WARNING,
             "taskfs: %s was still open for writing at unmount; saving the "
             "%zu bytes written to it\n",
             label.ptr, h->wbuf.len);
    save_handle(fs, h);
  }
  buf_release(&label);
}

/* Called once the session has ended and the kernel sends no more
 * requests. Handles the kernel never released are saved and freed here. */
static void fs_destroy(void *userdata) {
  struct fs *fs = userdata;
  struct handle_list l = {0};
  fs_lock(fs);
  fs_refresh(fs);
  hmap_each(&fs->inodes, collect_handles, &l);
  for (size_t i = 0; i < l.n; i++)
    save_at_unmount(fs, l.v[i]);
  for (size_t i = 0; i < l.n; i++)
    handle_free(fs, l.v[i]);
  /* The last chance for the sync log: what a database still locked (or
   * full) does not take now is lost. */
  mount_syncops_flush(fs->mount);
  size_t lost = mount_syncops_pending(fs->mount);
  if (lost) {
    fuse_log(FUSE_LOG_WARNING,
             "taskfs: %zu operation%s could not be written to the sync log "
             "at unmount\n",
             lost, lost == 1 ? "" : "s");
    mount_syncops_drop(fs->mount);
  }
  fs_unlock(fs);
  free(l.v);
}

/* ---- directories ---- */

struct listing {
  struct fs *fs;
  struct node *dir;
  struct handle *h;
  size_t cap;
  size_t generated; /* the first entries, sorted: the generated names */
};

static void add_entry(struct listing *l, const char *name, mode_t type,
                      fuse_ino_t ino) {
  struct handle *h = l->h;
  XGROW(h->entries, l->cap, h->nentries + 1);
  h->entries[h->nentries].name = xstrdup(name);
  h->entries[h->nentries].type = type;
  h->entries[h->nentries].ino = ino;
  h->nentries++;
}

static int list_virt(void *ctx, const char *name, const struct vnode *v) {
  struct listing *l = ctx;
  if (tomb_find(l->fs, l->dir->ino, name))
    return 0;
  struct node *n = node_virt_known(l->fs, v);
  add_entry(l, name, view_is_dir(v->kind) ? S_IFDIR : S_IFREG,
            n ? n->ino : UNKNOWN_INO);
  return 0;
}

static int cmp_entry(const void *a, const void *b) {
  return strcmp(((const struct dir_entry *)a)->name,
                ((const struct dir_entry *)b)->name);
}

static bool listed(const struct handle *h, size_t n, const char *name) {
  struct dir_entry key = {.name = (char *)name};
  return xsearch(&key, h->entries, n, sizeof key, cmp_entry) != NULL;
}

static void list_real_entry(void *ctx, const char *name, mode_t type,
                            struct node *known) {
  struct listing *l = ctx;
  /* Generated names win over ordinary files of the same name. */
  if (!listed(l->h, l->generated, name))
    add_entry(l, name, type, known ? known->ino : UNKNOWN_INO);
}

static int list_real(struct listing *l, struct node *dir) {
  l->generated = l->h->nentries;
  xsort(l->h->entries, l->generated, sizeof *l->h->entries, cmp_entry);
  return real_list(l->fs, dir, list_real_entry, l);
}

static void fs_opendir(fuse_req_t req, fuse_ino_t ino,
                       struct fuse_file_info *fi) {
  daemon_trace("opendir", NULL);
  struct fs *fs = FS(req);
  fs_lock(fs);
  fs_refresh(fs);
  struct node *n = node_get(fs, ino);
  int rc = 0;
  if (!n)
    rc = -ENOENT;
  else if (n->type == NT_VIRT && !view_is_dir(n->v.kind))
    rc = -ENOTDIR;
  struct handle *h = NULL;
  if (rc == 0) {
    h = handle_new(HT_DIR, n);
    struct listing l = {fs, n, h, 0, 0};
    add_entry(&l, ".", S_IFDIR, n->ino);
    add_entry(&l, "..", S_IFDIR, UNKNOWN_INO);
    if (n->type == NT_VIRT) {
      int erc = view_list(fs_store(fs), &n->v, list_virt, &l);
      if (erc)
        rc = -fs_error(fs, erc, "list");
    }
    if (rc == 0)
      rc = list_real(&l, n);
    if (rc) {
      handle_free(fs, h);
      h = NULL;
    }
  }
  fs_unlock(fs);
  /* ENOSYS would tell the kernel never to open a directory again. */
  if (rc == -ENOSYS)
    rc = -EIO;
  if (rc) {
    fuse_reply_err(req, -rc);
    return;
  }
  fi->fh = (uintptr_t)h;
  if (fuse_reply_open(req, fi) == -ENOENT) {
    fs_lock(fs);
    handle_free(fs, h);
    fs_unlock(fs);
  }
}

static void fs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                       struct fuse_file_info *fi) {
  daemon_trace("readdir", NULL);
  struct handle *h = (struct handle *)(uintptr_t)fi->fh;
  if (!h) {
    fuse_reply_err(req, EBADF);
    return;
  }
  char *out = xmalloc(size);
  size_t used = 0;
  for (size_t i = (size_t)off; i < h->nentries; i++) {
    struct stat st = {.st_ino = h->entries[i].ino,
                      .st_mode = h->entries[i].type};
    size_t need = fuse_add_direntry(req, out + used, size - used,
                                    h->entries[i].name, &st, (off_t)i + 1);
    if (need > size - used)
      break;
    used += need;
  }
  fuse_reply_buf(req, out, used);
  free(out);
}

static void fs_releasedir(fuse_req_t req, fuse_ino_t ino,
                          struct fuse_file_info *fi) {
  daemon_trace("releasedir", NULL);
  struct fs *fs = FS(req);
  struct handle *h = (struct handle *)(uintptr_t)fi->fh;
  fs_lock(fs);
  handle_free(fs, h);
  fs_unlock(fs);
  fuse_reply_err(req, 0);
}

static void fs_statfs(fuse_req_t req, fuse_ino_t ino) {
  daemon_trace("statfs", NULL);
  struct fs *fs = FS(req);
  struct statvfs sv;
  if (fstatvfs(fs->realfd, &sv)) {
    fuse_reply_err(req, errno);
    return;
  }
  fuse_reply_statfs(req, &sv);
}

/* ---- extended attributes: ordinary files only ---- */

/* A /proc path for the xattr calls made without the lock: of a copy of
 * the node's descriptor, which stays valid if the node goes. */
static int xattr_path(struct fs *fs, fuse_ino_t ino, char proc[64], int *pfd) {
  struct node *n = node_get(fs, ino);
  if (!n)
    return -ENOENT;
  if (n->type != NT_REAL)
    return -ENOTSUP;
  int fd = real_xattr_fd(n);
  if (fd < 0)
    return fd;
  snprintf(proc, 64, "/proc/self/fd/%d", fd);
  *pfd = fd;
  return 0;
}

static void fs_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
                        const char *value, size_t size, int flags) {
  daemon_trace("setxattr", NULL);
  struct fs *fs = FS(req);
  char proc[64];
  int fd = -1;
  fs_lock(fs);
  int rc = xattr_path(fs, ino, proc, &fd);
  fs_unlock(fs);
  if (rc == 0) {
    rc = setxattr(proc, name, value, size, flags) ? -errno : 0;
    close(fd);
  }
  fuse_reply_err(req, -rc);
}

static void fs_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
                        size_t size) {
  daemon_trace("getxattr", NULL);
  struct fs *fs = FS(req);
  char proc[64];
  int fd = -1;
  fs_lock(fs);
  int rc = xattr_path(fs, ino, proc, &fd);
  fs_unlock(fs);
  if (rc == -ENOTSUP) {
    fuse_reply_err(req, ENODATA);
    return;
  }
  if (rc) {
    fuse_reply_err(req, -rc);
    return;
  }
  char *v = size ? xmalloc(size) : NULL;
  ssize_t n = getxattr(proc, name, v, size);
  int e = errno;
  close(fd);
  if (n < 0)
    fuse_reply_err(req, e);
  else if (size == 0)
    fuse_reply_xattr(req, (size_t)n);
  else
    fuse_reply_buf(req, v, (size_t)n);
  free(v);
}

static void fs_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size) {
  daemon_trace("listxattr", NULL);
  struct fs *fs = FS(req);
  char proc[64];
  int fd = -1;
  fs_lock(fs);
  int rc = xattr_path(fs, ino, proc, &fd);
  fs_unlock(fs);
  if (rc == -ENOTSUP) {
    if (size == 0)
      fuse_reply_xattr(req, 0);
    else
      fuse_reply_buf(req, NULL, 0);
    return;
  }
  if (rc) {
    fuse_reply_err(req, -rc);
    return;
  }
  char *v = size ? xmalloc(size) : NULL;
  ssize_t n = listxattr(proc, v, size);
  int e = errno;
  close(fd);
  if (n < 0)
    fuse_reply_err(req, e);
  else if (size == 0)
    fuse_reply_xattr(req, (size_t)n);
  else
    fuse_reply_buf(req, v, (size_t)n);
  free(v);
}

static void fs_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name) {
  daemon_trace("removexattr", NULL);
  struct fs *fs = FS(req);
  char proc[64];
  int fd = -1;
  fs_lock(fs);
  int rc = xattr_path(fs, ino, proc, &fd);
  fs_unlock(fs);
  if (rc == -ENOTSUP) {
    fuse_reply_err(req, ENODATA);
    return;
  }
  if (rc == 0) {
    rc = removexattr(proc, name) ? -errno : 0;
    close(fd);
  }
  fuse_reply_err(req, -rc);
}

const struct fuse_lowlevel_ops fs_ops = {
    .init = fs_init,
    .destroy = fs_destroy,
    .lookup = fs_lookup,
    .forget = fs_forget,
    .forget_multi = fs_forget_multi,
    .getattr = fs_getattr,
    .setattr = fs_setattr,
    .readlink = fs_readlink,
    .mknod = fs_mknod,
    .mkdir = fs_mkdir,
    .unlink = fs_unlink,
    .rmdir = fs_rmdir,
    .symlink = fs_symlink,
    .rename = fs_rename,
    .link = fs_link,
    .open = fs_open,
    .create = fs_create,
    .read = fs_read,
    .write_buf = fs_write_buf,
    .flush = fs_flush,
    .release = fs_release,
    .fsync = fs_fsync,
    .opendir = fs_opendir,
    .readdir = fs_readdir,
    .releasedir = fs_releasedir,
    .statfs = fs_statfs,
    .setxattr = fs_setxattr,
    .getxattr = fs_getxattr,
    .listxattr = fs_listxattr,
    .removexattr = fs_removexattr,
};
