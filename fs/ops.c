/* SPDX-License-Identifier: MIT */
/* ops.c: the FUSE low-level operations, thin: each finds its node or
 * handle under the lock, decides once whether it is generated or
 * ordinary, calls virt.c, save.c or real.c, and replies. Writes no SQL. */
#include "cache.h"
#include "daemon.h"
#include "fs.h"
#include "nodes.h"
#include "real.h"
#include "save.h"
#include "util.h"
#include "virt.h"
#include "watch.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>

static struct fs *FS(fuse_req_t req) { return fuse_req_userdata(req); }

static struct handle *handle_of(const struct fuse_file_info *fi) {
  return fi ? (struct handle *)(uintptr_t)fi->fh : NULL;
}

/* ---- replies ---- */

/* How long the kernel keeps generated names and attributes while the
 * watcher runs: until it is told to forget them. */
#define WATCHED_TIMEOUT 86400.0

/*
 * Fills e with the attributes of n, how long the kernel may keep them
 * (attr_timeout) and how long its name in parent (entry_timeout; parent
 * is NULL when no name was looked up). An ordinary file's are cached as
 * on any file system (-o timeout). A generated file's name and
 * attributes are cached for long while the watcher runs, which tells the
 * kernel to forget them when a commit changes what they show; without
 * it, the name is looked up again at every path walk (entry timeout 0).
 * While a generated file is open for writing its attributes are not
 * cached at all (a writer's size is that of its buffer, a reader's that
 * of its snapshot, and the kernel must ask which); readers alone read
 * what the node shows (a node whose text changed under its readers is
 * frozen with their snapshot). Generated directories are fixed names
 * whose attributes change only in their time stamps.
 */
static bool has_writers(const struct node *n) {
  for (const struct handle *h = n->handles; h; h = h->next)
    if (h->type != HT_VIRT || h->writable)
      return true;
  return false;
}

static int node_entry(struct fs *fs, const struct node *parent, struct node *n,
                      struct fuse_entry_param *e) {
  memset(e, 0, sizeof *e);
  e->ino = n->ino;
  e->generation = 1;
  e->attr_timeout = e->entry_timeout = fs->opt.timeout;
  if (n->type == NT_REAL) {
    if (!parent || parent->type != NT_REAL)
      e->entry_timeout = 0;
    return real_attr(n, &e->attr);
  }
  if (fs->watching)
    e->attr_timeout = e->entry_timeout = WATCHED_TIMEOUT;
  bool file = !view_is_dir(n->v.kind);
  if (file && !fs->watching)
    e->entry_timeout = 0;
  if (file && has_writers(n))
    e->attr_timeout = 0;
  int rc = virt_attr(fs, n, &e->attr);
  if (rc == 0 && file && !n->watch_known) {
    /* What the kernel holds from now on, for the watcher to compare. */
    n->watch_version = n->last_version;
    n->watch_known = true;
  }
  return rc;
}

/* Fills e for node n found as name in parent, and counts the kernel's
 * lookup. */
static int fill_entry(struct fs *fs, struct node *parent, const char *name,
                      struct node *n, struct fuse_entry_param *e) {
  int rc = node_entry(fs, parent, n, e);
  if (rc)
    return rc;
  n->nlookup++;
  if (fs->watching && n->type == NT_VIRT && parent->type == NT_VIRT)
    watch_name(n, parent->ino, name);
  return 0;
}

static void reply_attr(fuse_req_t req, int rc,
                       const struct fuse_entry_param *e) {
  if (rc)
    fuse_reply_err(req, -rc);
  else
    fuse_reply_attr(req, &e->attr, e->attr_timeout);
}

static void reply_entry(fuse_req_t req, int rc,
                        const struct fuse_entry_param *e) {
  if (rc)
    fuse_reply_err(req, -rc);
  else
    fuse_reply_entry(req, e);
}

/* The kernel's attributes of ino are stale (virt_open). Called without
 * fs->lock: the kernel may wait for a request that needs it. */
static void inval_attr(struct fs *fs, fuse_ino_t ino, bool inval) {
  if (inval)
    fuse_lowlevel_notify_inval_inode(fs->se, ino, -1, 0);
}

/* After fuse_reply_open or fuse_reply_create returned reply_rc: ENOENT
 * means the opener was interrupted, and nobody will release h. */
static void reply_opened(struct fs *fs, int reply_rc, struct handle *h) {
  if (reply_rc != -ENOENT)
    return;
  fs_lock(fs);
  handle_free(fs, h);
  fs_unlock(fs);
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

/* Called once the session has ended and the kernel sends no more
 * requests. Handles the kernel never released are saved and freed here. */
static void fs_destroy(void *userdata) {
  struct fs *fs = userdata;
  fs_lock_write(fs);
  fs_refresh(fs);
  save_at_unmount(fs);
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
  fs_unlock_write(fs);
}

/* ---- names and attributes ---- */

static void fs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name) {
  daemon_trace("lookup", NULL);
  struct fs *fs = FS(req);
  struct fuse_entry_param e;
  fs_lock(fs);
  fs_refresh(fs);
  struct node *p = node_get(fs, parent), *n = NULL;
  int rc = !p                   ? -ENOENT
           : p->type == NT_VIRT ? virt_lookup(fs, p, name, &n)
                                : real_lookup(fs, p, name, &n);
  if (rc == 0)
    rc = fill_entry(fs, p, name, n, &e);
  fs_unlock(fs);
  reply_entry(req, rc, &e);
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
  struct fuse_entry_param e;
  struct handle *h = handle_of(fi);
  fs_lock(fs);
  fs_refresh(fs);
  struct node *n = node_get(fs, ino);
  int rc = n ? node_entry(fs, NULL, n, &e) : -ENOENT;
  if (rc == 0 && h && h->snap) {
    /* A reader's fstat (and the kernel's size check before its reads)
     * gives the size of the text it reads, even while another handle
     * rewrites the file in place. */
    struct stat *st = &e.attr;
    st->st_size = (off_t)h->snap->data.len;
    n->kernel_size = st->st_size;
    st->st_blocks = (blkcnt_t)((st->st_size + 511) / 512);
    ts_from_ns(&st->st_mtim, h->snap->mtime_ns);
    st->st_ctim = st->st_atim = st->st_mtim;
  }
  fs_unlock(fs);
  reply_attr(req, rc, &e);
}

static void fs_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
                       int to_set, struct fuse_file_info *fi) {
  daemon_trace("setattr", NULL);
  struct fs *fs = FS(req);
  struct fuse_entry_param e;
  struct handle *h = handle_of(fi);
  /* A truncation not through a writer's buffer may be a save. */
  bool saves = (to_set & FUSE_SET_ATTR_SIZE) &&
               !(h && h->type == HT_VIRT && h->writable);
  if (saves)
    fs_lock_write(fs);
  else
    fs_lock(fs);
  fs_refresh(fs);
  struct node *n = node_get(fs, ino);
  int rc;
  if (!n) {
    rc = -ENOENT;
  } else if (n->type == NT_VIRT) {
    rc = virt_setattr(fs, n, attr, to_set, h);
  } else {
    /* A handle of a generated file has no descriptor (-1). */
    rc = real_setattr(n, attr, to_set, h ? h->fd : -1);
    if (rc == 0 && h && (to_set & FUSE_SET_ATTR_SIZE))
      h->wrote = true;
  }
  if (rc == 0)
    rc = node_entry(fs, NULL, n, &e);
  if (saves)
    fs_unlock_write(fs);
  else
    fs_unlock(fs);
  reply_attr(req, rc, &e);
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

/* Makes an ordinary directory, symbolic link or special file. */
static void make_entry(fuse_req_t req, fuse_ino_t parent, const char *name,
                       const struct real_new *what) {
  struct fs *fs = FS(req);
  const struct fuse_ctx *ctx = fuse_req_ctx(req);
  struct fuse_entry_param e;
  fs_lock(fs);
  fs_refresh(fs);
  struct node *p = node_get(fs, parent), *n = NULL;
  int rc = !p                   ? -ENOENT
           : p->type == NT_VIRT ? virt_make(fs, ctx, p, name, what, &n)
                                : real_make(fs, ctx, p, name, what, &n);
  if (rc == 0)
    rc = fill_entry(fs, p, name, n, &e);
  fs_unlock(fs);
  reply_entry(req, rc, &e);
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

static void remove_entry(fuse_req_t req, fuse_ino_t parent, const char *name,
                         bool is_dir) {
  struct fs *fs = FS(req);
  fs_lock_write(fs);
  fs_refresh(fs);
  struct node *p = node_get(fs, parent);
  int rc = !p                   ? -ENOENT
           : p->type == NT_VIRT ? virt_unlink(fs, p, name, is_dir)
                                : real_unlink(fs, p, name, is_dir);
  fs_unlock_write(fs);
  fuse_reply_err(req, -rc);
}

static void fs_unlink(fuse_req_t req, fuse_ino_t parent, const char *name) {
  daemon_trace("unlink", NULL);
  remove_entry(req, parent, name, false);
}

static void fs_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name) {
  daemon_trace("rmdir", NULL);
  remove_entry(req, parent, name, true);
}

static void fs_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
                      fuse_ino_t newparent, const char *newname,
                      unsigned int flags) {
  daemon_trace("rename", NULL);
  struct fs *fs = FS(req);
  fs_lock_write(fs);
  fs_refresh(fs);
  struct node *p = node_get(fs, parent), *np = node_get(fs, newparent);
  int rc = !p || !np ? -ENOENT : node_check_dir(np);
  if (rc == 0)
    rc = p->type == NT_VIRT ? virt_rename(fs, p, name, np, newname, flags)
                            : save_rename_file(fs, p, name, np, newname, flags);
  if (rc == 0 && fs->watching)
    virt_renamed(fs, np, newname);
  fs_unlock_write(fs);
  fuse_reply_err(req, -rc);
}

static void fs_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
                    const char *newname) {
  daemon_trace("link", NULL);
  struct fs *fs = FS(req);
  struct fuse_entry_param e;
  fs_lock_write(fs);
  fs_refresh(fs);
  struct node *n = node_get(fs, ino), *np = node_get(fs, newparent);
  struct node *linked = NULL;
  int rc = !n || !np             ? -ENOENT
           : n->type != NT_REAL  ? -EPERM
           : np->type == NT_VIRT ? virt_link(fs, n, np, newname)
                                 : real_link(fs, n, np, newname);
  if (rc == 0)
    rc = real_lookup(fs, np, newname, &linked);
  if (rc == 0)
    rc = fill_entry(fs, np, newname, linked, &e);
  fs_unlock_write(fs);
  reply_entry(req, rc, &e);
}

/* ---- files ---- */

static void fs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  daemon_trace("open", NULL);
  struct fs *fs = FS(req);
  struct handle *h = NULL;
  bool inval = false;
  fs_lock(fs);
  fs_refresh(fs);
  struct node *n = node_get(fs, ino);
  int rc = !n                   ? -ENOENT
           : n->type == NT_VIRT ? virt_open(fs, n, fi, &h, &inval)
                                : real_open_handle(fs, n, fi->flags, &h);
  fs_unlock(fs);
  inval_attr(fs, ino, inval);
  if (rc) {
    fuse_reply_err(req, -rc);
    return;
  }
  fi->fh = (uintptr_t)h;
  reply_opened(fs, fuse_reply_open(req, fi), h);
}

static void fs_create(fuse_req_t req, fuse_ino_t parent, const char *name,
                      mode_t mode, struct fuse_file_info *fi) {
  daemon_trace("create", NULL);
  struct fs *fs = FS(req);
  const struct fuse_ctx *ctx = fuse_req_ctx(req);
  struct fuse_entry_param e;
  struct handle *h = NULL;
  bool inval = false;
  fs_lock(fs);
  fs_refresh(fs);
  struct node *p = node_get(fs, parent), *n = NULL;
  int rc = !p ? -ENOENT
           : p->type == NT_VIRT
               ? virt_create(fs, ctx, p, name, mode, fi, &n, &h, &inval)
               : real_create_handle(fs, ctx, p, name, fi->flags, mode, &n, &h);
  fuse_ino_t ino = n ? n->ino : 0;
  if (rc == 0 && (rc = fill_entry(fs, p, name, n, &e))) {
    handle_free(fs, h);
    h = NULL;
  }
  fs_unlock(fs);
  inval_attr(fs, ino, inval);
  if (rc) {
    fuse_reply_err(req, -rc);
    return;
  }
  fi->fh = (uintptr_t)h;
  reply_opened(fs, fuse_reply_create(req, &e, fi), h);
}

static void fs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                    struct fuse_file_info *fi) {
  daemon_trace("read", NULL);
  struct fs *fs = FS(req);
  struct handle *h = handle_of(fi);
  if (h->type == HT_REAL) {
    struct fuse_bufvec buf = FUSE_BUFVEC_INIT(size);
    buf.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
    buf.buf[0].fd = h->fd;
    buf.buf[0].pos = off;
    fuse_reply_data(req, &buf, FUSE_BUF_SPLICE_MOVE);
    return;
  }
  struct content *snap = __atomic_load_n(&h->snap, __ATOMIC_ACQUIRE);
  if (!snap && h->held) {
    /* The kernel let go of pages it held when this handle opened. */
    fs_lock(fs);
    fs_refresh(fs);
    int rc = virt_read_snap(fs, h);
    snap = h->snap;
    fs_unlock(fs);
    if (rc) {
      fuse_reply_err(req, -rc);
      return;
    }
  }
  if (snap) {
    /* A snapshot never changes: no lock needed to copy from it. It is
     * held until the reply is written: the kernel may release the handle
     * as soon as it has the bytes. */
    struct content *c = content_ref(snap);
    const struct buf *b = &c->data;
    size_t n = (size_t)off >= b->len ? 0 : b->len - (size_t)off;
    fuse_reply_buf(req, n ? b->ptr + off : NULL, n < size ? n : size);
    content_unref(c);
    return;
  }
  size_t n;
  fs_lock(fs);
  char *copy = save_copy(h, off, size, &n);
  fs_unlock(fs);
  fuse_reply_buf(req, copy, n);
  free(copy);
}

static void fs_write_buf(fuse_req_t req, fuse_ino_t ino, struct fuse_bufvec *in,
                         off_t off, struct fuse_file_info *fi) {
  daemon_trace("write_buf", NULL);
  struct fs *fs = FS(req);
  struct handle *h = handle_of(fi);
  size_t size = fuse_buf_size(in);
  struct fuse_bufvec out = FUSE_BUFVEC_INIT(size);
  char *data = NULL;
  bool real = h->type == HT_REAL;
  if (real) {
    out.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
    out.buf[0].fd = h->fd;
    out.buf[0].pos = off;
  } else {
    /* Copied before the lock is taken: the bytes may come from a pipe. */
    out.buf[0].mem = data = xmalloc(size ? size : 1);
  }
  ssize_t n = fuse_buf_copy(&out, in, 0);
  fs_lock(fs);
  if (n >= 0 && real)
    h->wrote = true;
  else if (n >= 0)
    n = save_write(fs, h, data, (size_t)n, off);
  fs_unlock(fs);
  free(data);
  if (n < 0)
    fuse_reply_err(req, (int)-n);
  else
    fuse_reply_write(req, (size_t)n);
}

static void fs_flush(fuse_req_t req, fuse_ino_t ino,
                     struct fuse_file_info *fi) {
  daemon_trace("flush", NULL);
  struct fs *fs = FS(req);
  struct handle *h = handle_of(fi);
  fs_lock(fs);
  if (h->type == HT_VIRT ? h->writable : h->wrote)
    fs_wait_check(fs);
  fs_refresh(fs);
  bool saves = h->type == HT_VIRT && h->writable && h->dirty;
  int rc = h->type == HT_REAL ? save_flush_real(fs, h) : save_flush(fs, h);
  fs_unlock(fs);
  /* When close() returns, the other files the save changed show it. */
  if (saves)
    watch_sync(fs);
  fuse_reply_err(req, -rc);
}

static void fs_release(fuse_req_t req, fuse_ino_t ino,
                       struct fuse_file_info *fi) {
  daemon_trace("release", NULL);
  struct fs *fs = FS(req);
  struct handle *h = handle_of(fi);
  fs_lock(fs);
  if (h->type == HT_VIRT && h->writable)
    fs_wait_check(fs);
  if (h->type == HT_VIRT)
    save_release(fs, h);
  handle_free(fs, h);
  fs_unlock(fs);
  fuse_reply_err(req, 0);
}

static void fs_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
                     struct fuse_file_info *fi) {
  daemon_trace("fsync", NULL);
  struct fs *fs = FS(req);
  struct handle *h = handle_of(fi);
  int rc = 0;
  if (h->type == HT_REAL) {
    rc = (datasync ? fdatasync(h->fd) : fsync(h->fd)) ? -errno : 0;
  } else {
    fs_lock(fs);
    fs_wait_check(fs);
    fs_refresh(fs);
    bool saves = h->writable && h->dirty;
    rc = save_handle(fs, h, true);
    fs_unlock(fs);
    if (saves)
      watch_sync(fs);
  }
  fuse_reply_err(req, -rc);
}

/* ---- directories ---- */

static void fs_opendir(fuse_req_t req, fuse_ino_t ino,
                       struct fuse_file_info *fi) {
  daemon_trace("opendir", NULL);
  struct fs *fs = FS(req);
  struct handle *h = NULL;
  fs_lock(fs);
  fs_refresh(fs);
  struct node *n = node_get(fs, ino);
  int rc = !n                   ? -ENOENT
           : n->type == NT_VIRT ? virt_opendir(fs, n, &h)
                                : real_opendir(fs, n, &h);
  fs_unlock(fs);
  /* ENOSYS would tell the kernel never to open a directory again. */
  if (rc == -ENOSYS)
    rc = -EIO;
  if (rc) {
    fuse_reply_err(req, -rc);
    return;
  }
  /* A generated listing is kept by the kernel until the watcher tells it
   * to forget it. */
  if (fs->watching && !h->listed) {
    fi->cache_readdir = 1;
    fi->keep_cache = 1;
  }
  fi->fh = (uintptr_t)h;
  reply_opened(fs, fuse_reply_open(req, fi), h);
}

static void fs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                       struct fuse_file_info *fi) {
  daemon_trace("readdir", NULL);
  struct handle *h = handle_of(fi);
  if (!h) {
    fuse_reply_err(req, EBADF);
    return;
  }
  if (!h->listed) {
    /* A generated directory is listed when the kernel first asks: with
     * its listing cached, it never does. */
    struct fs *fs = FS(req);
    fs_lock(fs);
    fs_refresh(fs);
    int rc = h->listed ? 0 : virt_list(fs, h);
    fs_unlock(fs);
    if (rc) {
      fuse_reply_err(req, -rc);
      return;
    }
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
  struct handle *h = handle_of(fi);
  fs_lock(fs);
  struct node *n = h->node;
  if (h->listed && n->type == NT_VIRT && h->listed_seq < n->listing_inval)
    watch_stale_listing(fs, n);
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
