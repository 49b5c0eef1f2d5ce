/* SPDX-License-Identifier: MIT */
/* real.c: the ordinary files under the mount (files, folders, symbolic
 * links, FIFOs, sockets, device nodes), served from the real directory
 * under the mount point as libfuse's passthrough_ll serves a directory:
 * one node per real inode, reached through an O_PATH descriptor whatever
 * names it has. Knows nothing of the generated tree but its directories'
 * real counterparts (nodes.c). */
#include "real.h"
#include "nodes.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void proc_path(const struct node *n, char out[64]) {
  snprintf(out, 64, "/proc/self/fd/%d", n->fd);
}

int real_attr(const struct node *n, struct stat *st) {
  int rc = fstatat(n->fd, "", st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW);
  st->st_ino = n->ino;
  st->st_blksize = IO_BLOCK;
  return rc ? -errno : 0;
}

int real_lookup(struct fs *fs, struct node *dir, const char *name,
                struct node **out) {
  int dfd = node_open_dir(fs, dir, false);
  if (dfd < 0)
    return dfd == -ENOTDIR ? -ENOTDIR : -ENOENT;
  int fd = openat(dfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  int rc = fd < 0 ? -errno : 0;
  close(dfd);
  if (rc)
    return rc;
  struct stat st;
  if (fstat(fd, &st)) {
    rc = -errno;
    close(fd);
    return rc;
  }
  *out = node_real(fs, dir, name, fd, &st);
  return 0;
}

/* A file made through the mount belongs to the user who made it, as on
 * the file system underneath: the daemon (root, with allow_other) makes
 * it and gives it to the caller. Its group is the caller's, or the
 * folder's when the folder has the set-group-ID bit. */
static void give_to_caller(const struct fuse_ctx *ctx, int dfd,
                           const char *name) {
  if (!ctx || geteuid() != 0 ||
      (ctx->uid == geteuid() && ctx->gid == getegid()))
    return;
  struct stat d;
  gid_t gid =
      fstat(dfd, &d) == 0 && (d.st_mode & S_ISGID) ? (gid_t)-1 : ctx->gid;
  fchownat(dfd, name, ctx->uid, gid, AT_SYMLINK_NOFOLLOW);
}

/* After a name was made in dfd: its node. */
static int made(struct fs *fs, const struct fuse_ctx *ctx, struct node *dir,
                int dfd, const char *name, struct node **out) {
  give_to_caller(ctx, dfd, name);
  int fd = openat(dfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st)) {
    int rc = -errno;
    if (fd >= 0)
      close(fd);
    return rc;
  }
  *out = node_real(fs, dir, name, fd, &st);
  return 0;
}

int real_make(struct fs *fs, const struct fuse_ctx *ctx, struct node *dir,
              const char *name, const struct real_new *what,
              struct node **out) {
  int dfd = node_open_dir(fs, dir, true);
  if (dfd < 0)
    return dfd;
  int rc;
  if (what->link)
    rc = symlinkat(what->link, dfd, name);
  else if (S_ISDIR(what->mode))
    rc = mkdirat(dfd, name, what->mode & 07777);
  else
    rc = mknodat(dfd, name, what->mode, what->rdev);
  rc = rc ? -errno : made(fs, ctx, dir, dfd, name, out);
  close(dfd);
  return rc;
}

/* Whether fd is the database or one of its journal files: a program
 * that opens them through the mount would drop the daemon's SQLite locks
 * when it closes its descriptor (POSIX locks belong to the process). */
static bool is_database(const struct fs *fs, int fd) {
  struct stat st;
  if (fstat(fd, &st))
    return false;
  for (size_t i = 0; i < sizeof fs->db_files / sizeof *fs->db_files; i++)
    if (fs->db_files[i].ino && st.st_dev == fs->db_files[i].dev &&
        st.st_ino == fs->db_files[i].ino)
      return true;
  return false;
}

static int refuse_database(struct fs *fs, int fd) {
  if (!is_database(fs, fd))
    return fd;
  close(fd);
  fuse_log(FUSE_LOG_ERR,
           "taskfs: a file under the mount is the task database %s (a hard "
           "link to it): refused, since a program closing it would drop "
           "the daemon's locks; use taskctl on the database instead\n",
           mount_path(fs->mount));
  return -EACCES;
}

int real_create(struct fs *fs, const struct fuse_ctx *ctx, struct node *dir,
                const char *name, int flags, mode_t mode, struct node **out) {
  int dfd = node_open_dir(fs, dir, true);
  if (dfd < 0)
    return dfd;
  int fd = openat(dfd, name,
                  (flags & ~O_NOCTTY) | O_CREAT | O_NOFOLLOW | O_CLOEXEC, mode);
  int rc = fd < 0 ? -errno : 0;
  if (rc == 0)
    rc = made(fs, ctx, dir, dfd, name, out);
  close(dfd);
  if (rc == 0)
    return refuse_database(fs, fd);
  if (fd >= 0)
    close(fd);
  return rc;
}

int real_open(struct fs *fs, struct node *n, int flags) {
  char proc[64];
  proc_path(n, proc);
  int fd = open(proc, (flags & ~(O_CREAT | O_EXCL | O_NOCTTY | O_NOFOLLOW)) |
                          O_CLOEXEC);
  return fd < 0 ? -errno : refuse_database(fs, fd);
}

int real_open_handle(struct fs *fs, struct node *n, int flags,
                     struct handle **out) {
  int fd = real_open(fs, n, flags);
  if (fd < 0)
    return fd;
  struct handle *h = handle_new(HT_REAL, n);
  h->fd = fd;
  h->wrote = (flags & O_TRUNC) != 0;
  *out = h;
  return 0;
}

int real_create_handle(struct fs *fs, const struct fuse_ctx *ctx,
                       struct node *dir, const char *name, int flags,
                       mode_t mode, struct node **n, struct handle **out) {
  int fd = real_create(fs, ctx, dir, name, flags, mode, n);
  if (fd < 0)
    return fd;
  struct handle *h = handle_new(HT_REAL, *n);
  h->fd = fd;
  h->wrote = true;
  *out = h;
  return 0;
}

int real_flush(int fd) {
  int copy = dup(fd);
  if (copy < 0)
    return -errno;
  return close(copy) ? -errno : 0;
}

int real_read_all(struct fs *fs, struct node *n, struct buf *out, size_t max) {
  int fd = real_open(fs, n, O_RDONLY);
  if (fd < 0)
    return fd;
  char chunk[65536];
  ssize_t r;
  int rc = 0;
  while ((r = read(fd, chunk, sizeof chunk)) > 0) {
    if (out->len + (size_t)r > max) {
      rc = -EFBIG;
      break;
    }
    buf_add(out, chunk, (size_t)r);
  }
  if (r < 0)
    rc = -errno;
  close(fd);
  return rc;
}

int real_readlink(const struct node *n, char *buf, size_t size) {
  ssize_t len = readlinkat(n->fd, "", buf, size - 1);
  if (len < 0)
    return -errno;
  buf[len] = '\0';
  return 0;
}

int real_setattr(struct node *n, const struct stat *attr, int to_set, int hfd) {
  char proc[64];
  proc_path(n, proc);
  struct stat st;
  if (fstatat(n->fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
    return -errno;
  bool link = S_ISLNK(st.st_mode);
  if (to_set & FUSE_SET_ATTR_MODE) {
    /* chmod of a symbolic link is not a thing on Linux. */
    if (link)
      return -EOPNOTSUPP;
    if (hfd >= 0 ? fchmod(hfd, attr->st_mode & 07777)
                 : chmod(proc, attr->st_mode & 07777))
      return -errno;
  }
  if (to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) {
    uid_t uid = (to_set & FUSE_SET_ATTR_UID) ? attr->st_uid : (uid_t)-1;
    gid_t gid = (to_set & FUSE_SET_ATTR_GID) ? attr->st_gid : (gid_t)-1;
    if (fchownat(n->fd, "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
      return -errno;
  }
  if (to_set & FUSE_SET_ATTR_SIZE) {
    if (hfd >= 0 ? ftruncate(hfd, attr->st_size)
                 : truncate(proc, attr->st_size))
      return -errno;
  }
  if (to_set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME)) {
    struct timespec tv[2] = {{0, UTIME_OMIT}, {0, UTIME_OMIT}};
    if (to_set & FUSE_SET_ATTR_ATIME_NOW)
      tv[0].tv_nsec = UTIME_NOW;
    else if (to_set & FUSE_SET_ATTR_ATIME)
      tv[0] = attr->st_atim;
    if (to_set & FUSE_SET_ATTR_MTIME_NOW)
      tv[1].tv_nsec = UTIME_NOW;
    else if (to_set & FUSE_SET_ATTR_MTIME)
      tv[1] = attr->st_mtim;
    int rc = hfd >= 0 ? futimens(hfd, tv)
             : link   ? utimensat(n->fd, "", tv, AT_EMPTY_PATH)
                      : utimensat(AT_FDCWD, proc, tv, 0);
    if (rc)
      return -errno;
  }
  return 0;
}

/* The known node of name in dfd, or NULL. */
static struct node *known(struct fs *fs, int dfd, const char *name) {
  struct stat st;
  if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW))
    return NULL;
  return node_real_known(fs, st.st_dev, st.st_ino);
}

/* The node last reached as name in dir is about to lose that name (it is
 * unlinked). */
static void name_gone(struct fs *fs, struct node *dir, int dfd,
                      const char *name) {
  struct node *n = known(fs, dfd, name);
  if (n && n->parent == dir && str_eq(n->name, name))
    node_name(fs, n, NULL, NULL);
}

int real_unlink(struct fs *fs, struct node *dir, const char *name,
                bool is_dir) {
  int dfd = node_open_dir(fs, dir, false);
  if (dfd < 0)
    return -ENOENT;
  name_gone(fs, dir, dfd, name);
  int rc = unlinkat(dfd, name, is_dir ? AT_REMOVEDIR : 0) ? -errno : 0;
  close(dfd);
  return rc;
}

int real_rename(struct fs *fs, struct node *dir, const char *name,
                struct node *newdir, const char *newname, unsigned flags) {
  int sfd = node_open_dir(fs, dir, false);
  if (sfd < 0)
    return -ENOENT;
  int dfd = node_open_dir(fs, newdir, true);
  if (dfd < 0) {
    close(sfd);
    return dfd;
  }
  struct node *src = known(fs, sfd, name);
  struct node *dst = known(fs, dfd, newname);
  int rc = renameat2(sfd, name, dfd, newname, flags) ? -errno : 0;
  if (rc == 0) {
    /* Nodes follow their files; only the names they were reached by
     * change. */
    if (dst && dst->parent == newdir && str_eq(dst->name, newname))
      node_name(fs, dst, (flags & RENAME_EXCHANGE) ? dir : NULL, name);
    if (src)
      node_name(fs, src, newdir, newname);
  }
  close(sfd);
  close(dfd);
  return rc;
}

int real_link(struct fs *fs, struct node *n, struct node *newdir,
              const char *newname) {
  char proc[64];
  proc_path(n, proc);
  int dfd = node_open_dir(fs, newdir, true);
  if (dfd < 0)
    return dfd;
  /* linkat with AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH; the /proc link
   * of the descriptor names the same inode for anyone. */
  int rc = linkat(AT_FDCWD, proc, dfd, newname, AT_SYMLINK_FOLLOW) ? -errno : 0;
  close(dfd);
  return rc;
}

static int cmp_entry(const void *a, const void *b) {
  return strcmp(((const struct dir_entry *)a)->name,
                ((const struct dir_entry *)b)->name);
}

int real_list(struct fs *fs, struct node *dir, struct handle *h) {
  size_t before = h->nentries;
  xsort(h->entries, before, sizeof *h->entries, cmp_entry);
  int pfd = node_open_dir(fs, dir, false);
  if (pfd == -ENOENT && dir->type == NT_VIRT)
    return 0; /* no real counterpart yet: nothing of the user's in it */
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
  struct stat st;
  dev_t dev = fstat(fd, &st) == 0 ? st.st_dev : 0;
  struct dirent *de;
  while ((de = readdir(d))) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    /* Generated names win over ordinary files of the same name. */
    struct dir_entry key = {.name = de->d_name};
    if (xsearch(&key, h->entries, before, sizeof key, cmp_entry))
      continue;
    struct node *known = node_real_known(fs, dev, de->d_ino);
    handle_add_entry(h, de->d_name, (mode_t)DTTOIF(de->d_type),
                     known ? known->ino : UNKNOWN_INO);
  }
  closedir(d);
  return 0;
}

int real_opendir(struct fs *fs, struct node *dir, struct handle **out) {
  struct handle *h = handle_new_dir(dir);
  int rc = real_list(fs, dir, h);
  if (rc) {
    handle_free(fs, h);
    return rc;
  }
  *out = h;
  return 0;
}

int real_xattr_fd(const struct node *n) {
  struct stat st;
  if (fstatat(n->fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
    return -errno;
  if (S_ISLNK(st.st_mode))
    return -ENOTSUP;
  int fd = fcntl(n->fd, F_DUPFD_CLOEXEC, 0);
  return fd < 0 ? -errno : fd;
}
