/* SPDX-License-Identifier: MIT */
/* ops.c: the FUSE low-level operations. Generated entries are answered
 * from the engine's view of the store; every other name is an ordinary
 * file kept in the real directory under the mount point. */
#include "fs.h"
#include "nodes.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>

/* d_ino of entries the kernel has not looked up yet (it ignores it). */
#define UNKNOWN_INO 0xffffffffu

static struct fs *FS(fuse_req_t req) { return fuse_req_userdata(req); }

static void lock(struct fs *fs) { pthread_mutex_lock(&fs->lock); }
static void unlock(struct fs *fs) { pthread_mutex_unlock(&fs->lock); }

int fs_errno(int rc) {
  switch (rc) {
  case ENG_OK:
  case ENG_CONFLICT:
    return 0;
  case ENG_NOTFOUND:
    return ENOENT;
  case ENG_INVALID:
    return EINVAL;
  case ENG_EXISTS:
    return EEXIST;
  case ENG_BUSY:
    return EBUSY;
  case ENG_READONLY:
    return EROFS;
  case ENG_FULL:
    return ENOSPC;
  case ENG_PARSE:
    return EBADMSG;
  case ENG_TOOBIG:
    return EFBIG;
  case ENG_PERM:
    return EPERM;
  default:
    return EIO;
  }
}

/* Logs an engine failure and returns its errno. */
static int engine_error(struct fs *fs, int rc, const char *what) {
  fuse_log(FUSE_LOG_ERR, "taskfs: %s: %s\n", what, store_errmsg(fs->st));
  return fs_errno(rc);
}

/* Notices changes made to the store by any program since the last call. */
static void refresh(struct fs *fs) {
  if (store_poll(fs->st))
    fs->gen++;
}

static void ts_from_ns(struct timespec *ts, int64_t ns) {
  ts->tv_sec = ns / 1000000000;
  ts->tv_nsec = ns % 1000000000;
}

/* The current rendering of a generated file, re-rendered only when what
 * it shows changed. Borrowed: valid while fs->lock is held (take a
 * reference to keep it). */
static int virt_content(struct fs *fs, struct node *n, struct content **out) {
  if (n->cache && n->cache_gen == fs->gen) {
    *out = n->cache;
    return 0;
  }
  int64_t rev = 0;
  int rc = view_revision(fs->st, &n->v, &rev);
  if (rc)
    return -engine_error(fs, rc, "revision");
  /* A held draft reads instead of the rendering; its version is the
   * negated time it was held, so a new draft or its removal shows. */
  struct buf rec = BUF_INIT;
  const char *dkind = view_draft_key(&n->v, &rec);
  if (dkind) {
    struct draft d = {0};
    if (store_draft_get(fs->st, dkind, rec.ptr, &d) == ENG_OK) {
      int64_t ns = 0;
      time_parse(d.created_at, &ns);
      rev = -ns;
    }
    store_draft_release(&d);
  }
  buf_release(&rec);
  if (n->cache && n->cache->version == rev && rev != 0) {
    n->cache_gen = fs->gen;
    *out = n->cache;
    return 0;
  }
  struct content *c = xcalloc(1, sizeof *c);
  c->refs = 1;
  buf_init(&c->data);
  struct render_info info = {0};
  rc = view_read(fs->st, &n->v, &c->data, &info);
  if (rc) {
    content_unref(c);
    return rc == ENG_NOTFOUND ? -ENOENT : -engine_error(fs, rc, "render");
  }
  c->version = rev;
  c->mtime_ns = info.mtime_ns ? info.mtime_ns : fs->mount_ns;
  content_unref(n->cache);
  n->cache = c;
  n->cache_gen = fs->gen;
  *out = c;
  return 0;
}

/* Fills the attributes of a node. */
static int node_attr(struct fs *fs, struct node *n, struct stat *st) {
  memset(st, 0, sizeof *st);
  st->st_ino = n->ino;
  if (n->type == NT_REAL) {
    int dfd = node_open_dir(fs, n->parent, false);
    if (dfd < 0)
      return dfd;
    int rc = fstatat(dfd, n->name, st, AT_SYMLINK_NOFOLLOW) ? -errno : 0;
    close(dfd);
    st->st_ino = n->ino;
    return rc;
  }
  st->st_uid = fs->uid;
  st->st_gid = fs->gid;
  st->st_blksize = 4096;
  if (view_is_dir(n->v.kind)) {
    st->st_mode = S_IFDIR | n->mode;
    st->st_nlink = 2;
    int64_t ns = fs->mount_ns;
    int64_t rev;
    if (n->v.session &&
        store_owner_revision(fs->st, OWNER_SESSION, n->v.session, NULL, &rev) ==
            ENG_OK) {
      int64_t t = store_revision_time(fs->st, rev);
      if (t)
        ns = t;
    }
    ts_from_ns(&st->st_mtim, ns);
    st->st_ctim = st->st_atim = st->st_mtim;
    return 0;
  }
  struct content *c;
  int rc = virt_content(fs, n, &c);
  if (rc)
    return rc;
  st->st_mode = S_IFREG | n->mode;
  st->st_nlink = 1;
  st->st_size = (off_t)c->data.len;
  st->st_blocks = (blkcnt_t)((c->data.len + 511) / 512);
  ts_from_ns(&st->st_mtim, c->mtime_ns);
  st->st_ctim = st->st_atim = st->st_mtim;
  return 0;
}

static double entry_timeout(struct fs *fs, struct node *parent,
                            struct node *n) {
  if (n->type == NT_VIRT || parent->type == NT_VIRT)
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
  e->attr_timeout = n->type == NT_VIRT ? 0 : fs->opt.timeout;
  e->entry_timeout = entry_timeout(fs, parent, n);
  n->nlookup++;
  return 0;
}

/* What name means in parent: a generated node, an ordinary one, or
 * -ENOENT. The node is made if needed but not yet counted. */
static int resolve(struct fs *fs, struct node *parent, const char *name,
                   struct node **out) {
  if (parent->type == NT_VIRT) {
    if (!view_is_dir(parent->v.kind))
      return -ENOTDIR;
    struct vnode v;
    vnode_init(&v);
    int rc = view_lookup(fs->st, &parent->v, name, &v);
    if (rc == ENG_OK) {
      *out = node_virt(fs, &v);
      vnode_release(&v);
      return 0;
    }
    vnode_release(&v);
    if (rc != ENG_NOTFOUND)
      return -engine_error(fs, rc, "lookup");
  }
  int dfd = node_open_dir(fs, parent, false);
  if (dfd < 0)
    return dfd == -ENOTDIR ? -ENOTDIR : -ENOENT;
  struct stat st;
  int rc = fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) ? -errno : 0;
  close(dfd);
  if (rc)
    return rc;
  *out = node_real(fs, parent, name);
  return 0;
}

static bool is_generated(struct fs *fs, struct node *parent, const char *name) {
  if (parent->type != NT_VIRT)
    return false;
  struct vnode v;
  vnode_init(&v);
  bool yes = view_lookup(fs->st, &parent->v, name, &v) == ENG_OK;
  vnode_release(&v);
  return yes;
}

/* ---- lifecycle ---- */

static void fs_init(void *userdata, struct fuse_conn_info *conn) {
  /* Writes must reach us one by one: an edit is parsed from what the
   * handle holds when it is closed. */
  conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
  if (conn->capable & FUSE_CAP_AUTO_INVAL_DATA)
    conn->want |= FUSE_CAP_AUTO_INVAL_DATA;
  conn->want &= ~FUSE_CAP_READDIRPLUS;
}

/* ---- names ---- */

static void fs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name) {
  struct fs *fs = FS(req);
  struct fuse_entry_param e;
  lock(fs);
  refresh(fs);
  struct node *p = node_get(fs, parent), *n = NULL;
  int rc = p ? resolve(fs, p, name, &n) : -ENOENT;
  if (rc == 0)
    rc = fill_entry(fs, p, n, &e);
  unlock(fs);
  if (rc)
    fuse_reply_err(req, -rc);
  else
    fuse_reply_entry(req, &e);
}

static void fs_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup) {
  struct fs *fs = FS(req);
  lock(fs);
  struct node *n = node_get(fs, ino);
  if (n)
    node_forget(fs, n, nlookup);
  unlock(fs);
  fuse_reply_none(req);
}

static void fs_forget_multi(fuse_req_t req, size_t count,
                            struct fuse_forget_data *forgets) {
  struct fs *fs = FS(req);
  lock(fs);
  for (size_t i = 0; i < count; i++) {
    struct node *n = node_get(fs, forgets[i].ino);
    if (n)
      node_forget(fs, n, forgets[i].nlookup);
  }
  unlock(fs);
  fuse_reply_none(req);
}

static void fs_getattr(fuse_req_t req, fuse_ino_t ino,
                       struct fuse_file_info *fi) {
  struct fs *fs = FS(req);
  struct stat st;
  lock(fs);
  refresh(fs);
  struct node *n = node_get(fs, ino);
  int rc = n ? node_attr(fs, n, &st) : -ENOENT;
  double timeout = n && n->type == NT_REAL ? fs->opt.timeout : 0;
  unlock(fs);
  if (rc)
    fuse_reply_err(req, -rc);
  else
    fuse_reply_attr(req, &st, timeout);
}

/* chmod of an ordinary file without following a symlink. */
static int real_chmod(int fd, mode_t mode) {
  char proc[64];
  snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
  return chmod(proc, mode) ? -errno : 0;
}

static int real_setattr(struct fs *fs, struct node *n, struct stat *attr,
                        int to_set, struct fuse_file_info *fi) {
  struct handle *h = fi ? (struct handle *)(uintptr_t)fi->fh : NULL;
  int fd = h && h->type == HT_REAL ? h->fd : -1;
  int dfd = node_open_dir(fs, n->parent, false);
  if (dfd < 0)
    return dfd;
  int rc = 0;
  if (to_set & FUSE_SET_ATTR_MODE) {
    int pfd = openat(dfd, n->name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (pfd < 0) {
      rc = -errno;
    } else {
      struct stat st;
      if (fstat(pfd, &st) == 0 && S_ISLNK(st.st_mode))
        rc = -EOPNOTSUPP;
      else
        rc = real_chmod(pfd, attr->st_mode & 07777);
      close(pfd);
    }
  }
  if (!rc && (to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID))) {
    uid_t uid = (to_set & FUSE_SET_ATTR_UID) ? attr->st_uid : (uid_t)-1;
    gid_t gid = (to_set & FUSE_SET_ATTR_GID) ? attr->st_gid : (gid_t)-1;
    if (fchownat(dfd, n->name, uid, gid, AT_SYMLINK_NOFOLLOW))
      rc = -errno;
  }
  if (!rc && (to_set & FUSE_SET_ATTR_SIZE)) {
    if (fd >= 0) {
      rc = ftruncate(fd, attr->st_size) ? -errno : 0;
    } else {
      int wfd = openat(dfd, n->name, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
      if (wfd < 0) {
        rc = -errno;
      } else {
        rc = ftruncate(wfd, attr->st_size) ? -errno : 0;
        close(wfd);
      }
    }
  }
  if (!rc && (to_set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME))) {
    struct timespec tv[2] = {{0, UTIME_OMIT}, {0, UTIME_OMIT}};
    if (to_set & FUSE_SET_ATTR_ATIME_NOW)
      tv[0].tv_nsec = UTIME_NOW;
    else if (to_set & FUSE_SET_ATTR_ATIME)
      tv[0] = attr->st_atim;
    if (to_set & FUSE_SET_ATTR_MTIME_NOW)
      tv[1].tv_nsec = UTIME_NOW;
    else if (to_set & FUSE_SET_ATTR_MTIME)
      tv[1] = attr->st_mtim;
    if (fd >= 0)
      rc = futimens(fd, tv) ? -errno : 0;
    else
      rc = utimensat(dfd, n->name, tv, AT_SYMLINK_NOFOLLOW) ? -errno : 0;
  }
  close(dfd);
  return rc;
}

static int virt_setattr(struct fs *fs, struct node *n, struct stat *attr,
                        int to_set, struct fuse_file_info *fi) {
  if (to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) {
    if (((to_set & FUSE_SET_ATTR_UID) && attr->st_uid != fs->uid) ||
        ((to_set & FUSE_SET_ATTR_GID) && attr->st_gid != fs->gid))
      return -EPERM;
  }
  if (to_set & FUSE_SET_ATTR_SIZE)
    return view_is_dir(n->v.kind) ? -EISDIR : -EROFS;
  if (to_set & FUSE_SET_ATTR_MODE)
    n->mode = attr->st_mode & 0777;
  /* Times of a generated file are those of the records it shows. */
  return 0;
}

static void fs_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
                       int to_set, struct fuse_file_info *fi) {
  struct fs *fs = FS(req);
  struct stat st;
  lock(fs);
  refresh(fs);
  struct node *n = node_get(fs, ino);
  int rc = !n                   ? -ENOENT
           : n->type == NT_REAL ? real_setattr(fs, n, attr, to_set, fi)
                                : virt_setattr(fs, n, attr, to_set, fi);
  if (rc == 0)
    rc = node_attr(fs, n, &st);
  double timeout = n && n->type == NT_REAL ? fs->opt.timeout : 0;
  unlock(fs);
  if (rc)
    fuse_reply_err(req, -rc);
  else
    fuse_reply_attr(req, &st, timeout);
}

static void fs_readlink(fuse_req_t req, fuse_ino_t ino) {
  struct fs *fs = FS(req);
  char target[PATH_MAX + 1];
  lock(fs);
  struct node *n = node_get(fs, ino);
  int rc = -EINVAL;
  ssize_t len = 0;
  if (n && n->type == NT_REAL) {
    int dfd = node_open_dir(fs, n->parent, false);
    rc = dfd;
    if (dfd >= 0) {
      len = readlinkat(dfd, n->name, target, sizeof target - 1);
      rc = len < 0 ? -errno : 0;
      close(dfd);
    }
  }
  unlock(fs);
  if (rc) {
    fuse_reply_err(req, -rc);
    return;
  }
  target[len] = '\0';
  fuse_reply_readlink(req, target);
}

/* Makes an ordinary entry with fn in the real directory of parent. */
static void make_entry(fuse_req_t req, fuse_ino_t parent, const char *name,
                       int (*fn)(int dfd, const char *name, const void *arg),
                       const void *arg) {
  struct fs *fs = FS(req);
  struct fuse_entry_param e;
  lock(fs);
  refresh(fs);
  struct node *p = node_get(fs, parent);
  int rc = !p ? -ENOENT : is_generated(fs, p, name) ? -EEXIST : 0;
  if (rc == 0 && p->type == NT_VIRT && !view_is_dir(p->v.kind))
    rc = -ENOTDIR;
  if (rc == 0) {
    int dfd = node_open_dir(fs, p, true);
    rc = dfd < 0 ? dfd : fn(dfd, name, arg);
    if (dfd >= 0)
      close(dfd);
  }
  if (rc == 0)
    rc = fill_entry(fs, p, node_real(fs, p, name), &e);
  unlock(fs);
  if (rc)
    fuse_reply_err(req, -rc);
  else
    fuse_reply_entry(req, &e);
}

static int do_mkdir(int dfd, const char *name, const void *arg) {
  return mkdirat(dfd, name, *(const mode_t *)arg) ? -errno : 0;
}

static void fs_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
                     mode_t mode) {
  make_entry(req, parent, name, do_mkdir, &mode);
}

static int do_symlink(int dfd, const char *name, const void *arg) {
  return symlinkat(arg, dfd, name) ? -errno : 0;
}

static void fs_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
                       const char *name) {
  make_entry(req, parent, name, do_symlink, link);
}

struct mknod_arg {
  mode_t mode;
  dev_t rdev;
};

static int do_mknod(int dfd, const char *name, const void *arg) {
  const struct mknod_arg *a = arg;
  if (!S_ISREG(a->mode) && !S_ISFIFO(a->mode) && !S_ISSOCK(a->mode))
    return -EPERM;
  return mknodat(dfd, name, a->mode, a->rdev) ? -errno : 0;
}

static void fs_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
                     mode_t mode, dev_t rdev) {
  struct mknod_arg a = {mode, rdev};
  make_entry(req, parent, name, do_mknod, &a);
}

static void fs_unlink(fuse_req_t req, fuse_ino_t parent, const char *name) {
  struct fs *fs = FS(req);
  lock(fs);
  refresh(fs);
  struct node *p = node_get(fs, parent);
  int rc = !p ? -ENOENT : is_generated(fs, p, name) ? -EROFS : 0;
  if (rc == 0) {
    int dfd = node_open_dir(fs, p, false);
    rc = dfd < 0 ? -ENOENT : unlinkat(dfd, name, 0) ? -errno : 0;
    if (dfd >= 0)
      close(dfd);
  }
  if (rc == 0) {
    struct node *n = node_real_find(fs, p, name);
    if (n)
      node_detach(fs, n);
  }
  unlock(fs);
  fuse_reply_err(req, -rc);
}

static void fs_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name) {
  struct fs *fs = FS(req);
  lock(fs);
  refresh(fs);
  struct node *p = node_get(fs, parent);
  int rc = !p ? -ENOENT : is_generated(fs, p, name) ? -EPERM : 0;
  if (rc == 0) {
    int dfd = node_open_dir(fs, p, false);
    rc = dfd < 0 ? -ENOENT : unlinkat(dfd, name, AT_REMOVEDIR) ? -errno : 0;
    if (dfd >= 0)
      close(dfd);
  }
  if (rc == 0) {
    struct node *n = node_real_find(fs, p, name);
    if (n)
      node_detach(fs, n);
  }
  unlock(fs);
  fuse_reply_err(req, -rc);
}

static void fs_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
                      fuse_ino_t newparent, const char *newname,
                      unsigned int flags) {
  struct fs *fs = FS(req);
  lock(fs);
  refresh(fs);
  struct node *p = node_get(fs, parent), *np = node_get(fs, newparent);
  int rc = 0;
  if (!p || !np)
    rc = -ENOENT;
  else if (is_generated(fs, p, name) || is_generated(fs, np, newname))
    rc = -EROFS;
  if (rc == 0) {
    int sfd = node_open_dir(fs, p, false);
    int dfd = sfd < 0 ? sfd : node_open_dir(fs, np, true);
    if (sfd < 0)
      rc = -ENOENT;
    else if (dfd < 0)
      rc = dfd;
    else if (renameat2(sfd, name, dfd, newname, flags))
      rc = -errno;
    if (sfd >= 0)
      close(sfd);
    if (dfd >= 0)
      close(dfd);
  }
  if (rc == 0) {
    struct node *n = node_real_find(fs, p, name);
    struct node *other = node_real_find(fs, np, newname);
    if (flags & RENAME_EXCHANGE) {
      if (n)
        node_detach(fs, n);
      if (other)
        node_detach(fs, other);
    } else if (n) {
      node_move(fs, n, np, newname);
    } else if (other) {
      node_detach(fs, other);
    }
  }
  unlock(fs);
  fuse_reply_err(req, -rc);
}

static void fs_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
                    const char *newname) {
  struct fs *fs = FS(req);
  struct fuse_entry_param e;
  lock(fs);
  refresh(fs);
  struct node *n = node_get(fs, ino), *np = node_get(fs, newparent);
  int rc = 0;
  if (!n || !np)
    rc = -ENOENT;
  else if (n->type != NT_REAL || is_generated(fs, np, newname))
    rc = -EPERM;
  if (rc == 0) {
    int sfd = node_open_dir(fs, n->parent, false);
    int dfd = sfd < 0 ? sfd : node_open_dir(fs, np, true);
    if (sfd < 0 || dfd < 0)
      rc = sfd < 0 ? sfd : dfd;
    else if (linkat(sfd, n->name, dfd, newname, 0))
      rc = -errno;
    if (sfd >= 0)
      close(sfd);
    if (dfd >= 0)
      close(dfd);
  }
  if (rc == 0)
    rc = fill_entry(fs, np, node_real(fs, np, newname), &e);
  unlock(fs);
  if (rc)
    fuse_reply_err(req, -rc);
  else
    fuse_reply_entry(req, &e);
}

/* ---- files ---- */

static struct handle *handle_new(int type, struct node *n) {
  struct handle *h = xcalloc(1, sizeof *h);
  h->type = type;
  h->node = n;
  h->fd = -1;
  buf_init(&h->wbuf);
  n->opens++;
  return h;
}

static void handle_free(struct fs *fs, struct handle *h) {
  if (h->fd >= 0)
    close(h->fd);
  content_unref(h->snap);
  buf_release(&h->wbuf);
  for (size_t i = 0; i < h->nentries; i++)
    free(h->entries[i].name);
  free(h->entries);
  h->node->opens--;
  node_maybe_free(fs, h->node);
  free(h);
}

/* Opens a generated file for reading: the handle keeps the rendering of
 * this moment, so a reader never sees a torn document. The kernel keeps
 * its cached pages only when they hold this same rendering. */
static int virt_open(struct fs *fs, struct node *n, struct fuse_file_info *fi,
                     struct handle **out) {
  if (view_is_dir(n->v.kind))
    return -EISDIR;
  if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC))
    return -EROFS;
  struct content *c;
  int rc = virt_content(fs, n, &c);
  if (rc)
    return rc;
  struct handle *h = handle_new(HT_VIRT, n);
  h->snap = c;
  c->refs++;
  if (n->kernel_cached && n->kernel_version == c->version) {
    fi->keep_cache = 1;
  } else if (n->opens > 1) {
    /* Others still read an older rendering through the page cache:
     * this handle reads its own snapshot directly. */
    fi->direct_io = 1;
  } else {
    fi->keep_cache = 0;
    n->kernel_cached = true;
    n->kernel_version = c->version;
  }
  fi->noflush = 1;
  *out = h;
  return 0;
}

static int real_open(struct fs *fs, struct node *n, struct fuse_file_info *fi,
                     struct handle **out) {
  int flags = fi->flags & ~(O_CREAT | O_EXCL | O_NOCTTY);
  int fd = node_open_real(fs, n, flags | O_NOFOLLOW);
  if (fd < 0)
    return fd;
  struct handle *h = handle_new(HT_REAL, n);
  h->fd = fd;
  *out = h;
  return 0;
}

static void fs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  struct fs *fs = FS(req);
  struct handle *h = NULL;
  lock(fs);
  refresh(fs);
  struct node *n = node_get(fs, ino);
  int rc = !n                   ? -ENOENT
           : n->type == NT_VIRT ? virt_open(fs, n, fi, &h)
                                : real_open(fs, n, fi, &h);
  unlock(fs);
  if (rc) {
    fuse_reply_err(req, -rc);
    return;
  }
  fi->fh = (uintptr_t)h;
  if (fuse_reply_open(req, fi) == -ENOENT) {
    /* The opener was interrupted: nobody will release this handle. */
    lock(fs);
    handle_free(fs, h);
    unlock(fs);
  }
}

static void fs_create(fuse_req_t req, fuse_ino_t parent, const char *name,
                      mode_t mode, struct fuse_file_info *fi) {
  struct fs *fs = FS(req);
  struct fuse_entry_param e;
  struct handle *h = NULL;
  lock(fs);
  refresh(fs);
  struct node *p = node_get(fs, parent);
  int rc = 0;
  if (!p)
    rc = -ENOENT;
  else if (p->type == NT_VIRT && !view_is_dir(p->v.kind))
    rc = -ENOTDIR;
  else if (is_generated(fs, p, name))
    rc = (fi->flags & O_EXCL) ? -EEXIST : -EROFS;
  int fd = -1;
  if (rc == 0) {
    int dfd = node_open_dir(fs, p, true);
    if (dfd < 0) {
      rc = dfd;
    } else {
      fd = openat(dfd, name,
                  (fi->flags & ~O_NOCTTY) | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
                  mode);
      if (fd < 0)
        rc = -errno;
      close(dfd);
    }
  }
  struct node *n = NULL;
  if (rc == 0) {
    n = node_real(fs, p, name);
    rc = fill_entry(fs, p, n, &e);
    if (rc)
      close(fd);
  }
  if (rc == 0) {
    h = handle_new(HT_REAL, n);
    h->fd = fd;
  }
  unlock(fs);
  if (rc) {
    fuse_reply_err(req, -rc);
    return;
  }
  fi->fh = (uintptr_t)h;
  if (fuse_reply_create(req, &e, fi) == -ENOENT) {
    lock(fs);
    handle_free(fs, h);
    unlock(fs);
  }
}

static void fs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                    struct fuse_file_info *fi) {
  struct handle *h = (struct handle *)(uintptr_t)fi->fh;
  if (h->type == HT_REAL) {
    struct fuse_bufvec buf = FUSE_BUFVEC_INIT(size);
    buf.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
    buf.buf[0].fd = h->fd;
    buf.buf[0].pos = off;
    fuse_reply_data(req, &buf, FUSE_BUF_SPLICE_MOVE);
    return;
  }
  /* A snapshot never changes: no lock needed to copy from it. */
  const struct buf *b = &h->snap->data;
  if ((size_t)off >= b->len) {
    fuse_reply_buf(req, NULL, 0);
    return;
  }
  size_t n = b->len - (size_t)off;
  fuse_reply_buf(req, b->ptr + off, n < size ? n : size);
}

static void fs_write_buf(fuse_req_t req, fuse_ino_t ino, struct fuse_bufvec *in,
                         off_t off, struct fuse_file_info *fi) {
  struct handle *h = (struct handle *)(uintptr_t)fi->fh;
  if (h->type != HT_REAL) {
    fuse_reply_err(req, EBADF);
    return;
  }
  struct fuse_bufvec out = FUSE_BUFVEC_INIT(fuse_buf_size(in));
  out.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
  out.buf[0].fd = h->fd;
  out.buf[0].pos = off;
  ssize_t n = fuse_buf_copy(&out, in, 0);
  if (n < 0)
    fuse_reply_err(req, (int)-n);
  else
    fuse_reply_write(req, (size_t)n);
}

static void fs_flush(fuse_req_t req, fuse_ino_t ino,
                     struct fuse_file_info *fi) {
  struct handle *h = (struct handle *)(uintptr_t)fi->fh;
  int rc = 0;
  if (h->type == HT_REAL) {
    /* Reports errors a close would (as on NFS). */
    int fd = dup(h->fd);
    rc = fd < 0 ? errno : close(fd) ? errno : 0;
  }
  fuse_reply_err(req, rc);
}

static void fs_release(fuse_req_t req, fuse_ino_t ino,
                       struct fuse_file_info *fi) {
  struct fs *fs = FS(req);
  struct handle *h = (struct handle *)(uintptr_t)fi->fh;
  lock(fs);
  handle_free(fs, h);
  unlock(fs);
  fuse_reply_err(req, 0);
}

static void fs_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
                     struct fuse_file_info *fi) {
  struct handle *h = (struct handle *)(uintptr_t)fi->fh;
  int rc = 0;
  if (h->type == HT_REAL)
    rc = (datasync ? fdatasync(h->fd) : fsync(h->fd)) ? errno : 0;
  fuse_reply_err(req, rc);
}

/* ---- directories ---- */

struct listing {
  struct fs *fs;
  struct handle *h;
  size_t cap;
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
  struct buf key = BUF_INIT;
  vnode_key(v, &key);
  struct node *n = hmap_get(&l->fs->virt, key.ptr);
  buf_release(&key);
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
  return bsearch(&key, h->entries, n, sizeof key, cmp_entry) != NULL;
}

static int list_real(struct listing *l, struct node *dir) {
  int pfd = node_open_dir(l->fs, dir, false);
  if (pfd == -ENOENT && dir->type == NT_VIRT)
    return 0;
  if (pfd < 0)
    return pfd;
  int fd = openat(pfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  close(pfd);
  if (fd < 0)
    return -errno;
  DIR *d = fdopendir(fd);
  if (!d) {
    close(fd);
    return -errno;
  }
  /* Generated names win over ordinary files of the same name. */
  size_t generated = l->h->nentries;
  qsort(l->h->entries, generated, sizeof *l->h->entries, cmp_entry);
  struct dirent *de;
  while ((de = readdir(d))) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    if (listed(l->h, generated, de->d_name))
      continue;
    struct node *n = node_real_find(l->fs, dir, de->d_name);
    add_entry(l, de->d_name, (mode_t)DTTOIF(de->d_type),
              n ? n->ino : UNKNOWN_INO);
  }
  closedir(d);
  return 0;
}

static void fs_opendir(fuse_req_t req, fuse_ino_t ino,
                       struct fuse_file_info *fi) {
  struct fs *fs = FS(req);
  lock(fs);
  refresh(fs);
  struct node *n = node_get(fs, ino);
  int rc = 0;
  if (!n)
    rc = -ENOENT;
  else if (n->type == NT_VIRT && !view_is_dir(n->v.kind))
    rc = -ENOTDIR;
  struct handle *h = NULL;
  if (rc == 0) {
    h = handle_new(HT_DIR, n);
    struct listing l = {fs, h, 0};
    add_entry(&l, ".", S_IFDIR, n->ino);
    add_entry(&l, "..", S_IFDIR, UNKNOWN_INO);
    if (n->type == NT_VIRT) {
      int erc = view_list(fs->st, &n->v, list_virt, &l);
      if (erc)
        rc = -engine_error(fs, erc, "list");
    }
    if (rc == 0)
      rc = list_real(&l, n);
    if (rc) {
      handle_free(fs, h);
      h = NULL;
    }
  }
  unlock(fs);
  if (rc) {
    fuse_reply_err(req, -rc);
    return;
  }
  fi->fh = (uintptr_t)h;
  if (fuse_reply_open(req, fi) == -ENOENT) {
    lock(fs);
    handle_free(fs, h);
    unlock(fs);
  }
}

static void fs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                       struct fuse_file_info *fi) {
  struct handle *h = (struct handle *)(uintptr_t)fi->fh;
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
  fs_release(req, ino, fi);
}

static void fs_statfs(fuse_req_t req, fuse_ino_t ino) {
  struct fs *fs = FS(req);
  struct statvfs sv;
  if (fstatvfs(fs->realfd, &sv)) {
    fuse_reply_err(req, errno);
    return;
  }
  fuse_reply_statfs(req, &sv);
}

/* ---- extended attributes: ordinary files only ---- */

static int xattr_path(struct fs *fs, fuse_ino_t ino, char proc[64], int *pfd) {
  struct node *n = node_get(fs, ino);
  if (!n)
    return -ENOENT;
  if (n->type != NT_REAL)
    return -ENOTSUP;
  int fd = node_open_real(fs, n, O_PATH | O_NOFOLLOW);
  if (fd < 0)
    return fd;
  struct stat st;
  if (fstat(fd, &st) == 0 && S_ISLNK(st.st_mode)) {
    close(fd);
    return -ENOTSUP;
  }
  snprintf(proc, 64, "/proc/self/fd/%d", fd);
  *pfd = fd;
  return 0;
}

static void fs_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
                        const char *value, size_t size, int flags) {
  struct fs *fs = FS(req);
  char proc[64];
  int fd = -1;
  lock(fs);
  int rc = xattr_path(fs, ino, proc, &fd);
  unlock(fs);
  if (rc == 0) {
    rc = setxattr(proc, name, value, size, flags) ? -errno : 0;
    close(fd);
  }
  fuse_reply_err(req, -rc);
}

static void fs_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
                        size_t size) {
  struct fs *fs = FS(req);
  char proc[64];
  int fd = -1;
  lock(fs);
  int rc = xattr_path(fs, ino, proc, &fd);
  unlock(fs);
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
  struct fs *fs = FS(req);
  char proc[64];
  int fd = -1;
  lock(fs);
  int rc = xattr_path(fs, ino, proc, &fd);
  unlock(fs);
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
  struct fs *fs = FS(req);
  char proc[64];
  int fd = -1;
  lock(fs);
  int rc = xattr_path(fs, ino, proc, &fd);
  unlock(fs);
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
