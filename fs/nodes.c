/* SPDX-License-Identifier: MIT */
/* nodes.c: the inode table: nodes for generated entries (keyed by what
 * they show) and for ordinary files (keyed by device and inode), lookup
 * counts, the real path of each directory node, and the handles. */
#include "nodes.h"
#include "cache.h"
#include "util.h"
#include "watch.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

void node_ino_key(fuse_ino_t ino, char out[24]) {
  snprintf(out, 24, "%llu", (unsigned long long)ino);
}

/* A task's file is one node whatever status directory lists it, so that a
 * task moved between folders keeps its inode. */
static void vnode_key(const struct vnode *v, struct buf *out) {
  int status = (v->kind == VK_TASK_MD ||
                ((v->kind == VK_ERROR_MD || v->kind == VK_CONFLICT_MD) &&
                 v->target == VK_TASK_MD))
                   ? 0
                   : v->status;
  buf_printf(out, "%d/%d/%d/%d/", v->kind, status, v->notes, v->target);
  buf_adds(out, v->session ? v->session : "");
  buf_addc(out, '/');
  buf_adds(out, v->record ? v->record : "");
}

/* What a node freed while it still named its file leaves to the next node
 * of its key: its inode number, so that the file keeps its st_ino after
 * the kernel forgot the inode (git's index, rsync and backup tools compare
 * it), and the revision it last served, so that a text saved there
 * without front matter is still based on what was read from that path. */
struct past {
  fuse_ino_t ino;
  int64_t served_version, served_mtime_ns;
};

static void past_keep(struct fs *fs, const struct node *n) {
  struct past *p = xcalloc(1, sizeof *p);
  p->ino = n->ino;
  if (n->served && n->served->version > 0) {
    p->served_version = n->served->version;
    p->served_mtime_ns = n->served->mtime_ns;
  }
  free(hmap_del(&fs->past, n->key));
  hmap_put(&fs->past, n->key, p);
}

static struct node *node_new(struct fs *fs, int type, const char *key) {
  struct node *n = xcalloc(1, sizeof *n);
  struct past *p = hmap_del(&fs->past, key);
  n->ino = p ? p->ino : fs->next_ino++;
  if (p && p->served_version > 0) {
    /* Only the version: the base of a save is read as of it. */
    n->served = content_new();
    n->served->version = p->served_version;
    n->served->mtime_ns = p->served_mtime_ns;
  }
  free(p);
  n->kernel_size = -1;
  n->fd = -1;
  n->type = type;
  vnode_init(&n->v);
  char k[24];
  node_ino_key(n->ino, k);
  hmap_put(&fs->inodes, k, n);
  return n;
}

struct node *node_get(struct fs *fs, fuse_ino_t ino) {
  if (ino == FUSE_ROOT_ID)
    return fs->root_node;
  char k[24];
  node_ino_key(ino, k);
  return hmap_get(&fs->inodes, k);
}

struct node *node_virt(struct fs *fs, const struct vnode *v) {
  struct buf key = BUF_INIT;
  vnode_key(v, &key);
  struct node *n = hmap_get(&fs->virt, key.ptr);
  if (n) {
    /* The same record may be listed elsewhere now (a task's status). */
    n->v.status = v->status;
    buf_release(&key);
    return n;
  }
  n = node_new(fs, NT_VIRT, key.ptr);
  vnode_copy(&n->v, v);
  n->mode = view_is_dir(v->kind)        ? 0755
            : view_is_writable(v->kind) ? 0644
                                        : 0444;
  n->key = buf_detach(&key, NULL);
  hmap_put(&fs->virt, n->key, n);
  watch_node_new(fs, n);
  return n;
}

struct node *node_virt_known(struct fs *fs, const struct vnode *v) {
  struct buf key = BUF_INIT;
  vnode_key(v, &key);
  struct node *n = hmap_get(&fs->virt, key.ptr);
  buf_release(&key);
  return n;
}

static void real_key(dev_t dev, ino_t ino, struct buf *out) {
  buf_printf(out, "r%llx:%llx", (unsigned long long)dev,
             (unsigned long long)ino);
}

struct node *node_real_known(struct fs *fs, dev_t dev, ino_t ino) {
  struct buf key = BUF_INIT;
  real_key(dev, ino, &key);
  struct node *n = hmap_get(&fs->real, key.ptr);
  buf_release(&key);
  return n;
}

void node_name(struct fs *fs, struct node *n, struct node *dir,
               const char *name) {
  if (dir != n->parent) {
    if (dir)
      dir->children++;
    struct node *old = n->parent;
    n->parent = dir;
    if (old) {
      old->children--;
      node_maybe_free(fs, old);
    }
  }
  str_set(&n->name, dir ? name : NULL);
}

struct node *node_real(struct fs *fs, struct node *dir, const char *name,
                       int fd, const struct stat *st) {
  struct node *n = node_real_known(fs, st->st_dev, st->st_ino);
  if (n) {
    close(fd);
    node_name(fs, n, dir, name);
    return n;
  }
  struct buf key = BUF_INIT;
  real_key(st->st_dev, st->st_ino, &key);
  n = node_new(fs, NT_REAL, key.ptr);
  n->fd = fd;
  n->key = buf_detach(&key, NULL);
  hmap_put(&fs->real, n->key, n);
  node_name(fs, n, dir, name);
  return n;
}

void node_make_real(struct fs *fs, struct node *n, int fd,
                    const struct stat *st, struct node *dir, const char *name) {
  node_detach(fs, n);
  watch_node_gone(fs, n);
  vnode_release(&n->v);
  n->type = NT_REAL;
  n->fd = fd;
  struct buf key = BUF_INIT;
  real_key(st->st_dev, st->st_ino, &key);
  n->key = buf_detach(&key, NULL);
  hmap_put(&fs->real, n->key, n);
  node_name(fs, n, dir, name);
}

void node_make_virt(struct fs *fs, struct node *n, const struct vnode *v) {
  node_detach(fs, n);
  watch_names_free(n);
  node_name(fs, n, NULL, NULL);
  if (n->fd >= 0)
    close(n->fd);
  n->fd = -1;
  n->type = NT_VIRT;
  vnode_copy(&n->v, v);
  n->mode = 0644;
  struct buf key = BUF_INIT;
  vnode_key(v, &key);
  n->key = buf_detach(&key, NULL);
  hmap_put(&fs->virt, n->key, n);
}

void node_detach(struct fs *fs, struct node *n) {
  if (!n->key)
    return;
  hmap_del(n->type == NT_VIRT ? &fs->virt : &fs->real, n->key);
  free(n->key);
  n->key = NULL;
}

void node_maybe_free(struct fs *fs, struct node *n) {
  if (n == fs->root_node || n->nlookup || n->opens || n->children)
    return;
  if (n->key)
    past_keep(fs, n);
  node_detach(fs, n);
  char k[24];
  node_ino_key(n->ino, k);
  hmap_del(&fs->inodes, k);
  cache_drop(fs, n);
  content_unref(n->served);
  watch_node_gone(fs, n);
  vnode_release(&n->v);
  if (n->fd >= 0)
    close(n->fd);
  struct node *parent = n->parent;
  free(n->name);
  free(n);
  if (parent) {
    parent->children--;
    node_maybe_free(fs, parent);
  }
}

void node_forget(struct fs *fs, struct node *n, uint64_t count) {
  n->nlookup = count > n->nlookup ? 0 : n->nlookup - count;
  node_maybe_free(fs, n);
}

int node_check_dir(const struct node *n) {
  return n->type == NT_VIRT && !view_is_dir(n->v.kind) ? -ENOTDIR : 0;
}

/* ---- real paths ---- */

/* The path of a generated directory's real counterpart, relative to
 * fs->realfd. */
static int vdir_relpath(struct fs *fs, const struct vnode *v, struct buf *out) {
  buf_adds(out, fs->realroot);
  if (v->kind == VK_ROOT)
    return 0;
  if (v->kind == VK_SESSION) {
    if (fs->root.kind == VK_ROOT) {
      buf_addc(out, '/');
      name_for_file(v->session, out);
    }
    return 0;
  }
  if (!view_is_dir(v->kind))
    return -ENOTDIR;
  if (fs->root.kind == VK_ROOT) {
    buf_addc(out, '/');
    name_for_file(v->session, out);
  }
  buf_addc(out, '/');
  return view_path(fs_store(fs), v, out) ? -EIO : 0;
}

/* The same confinement without openat2 (kernels before 5.6, valgrind):
 * one component at a time, ".." refused, "." skipped, no symlink
 * followed. */
static int open_by_components(int dirfd, const char *path, int flags) {
  char *copy = xstrdup(path);
  int cur = dirfd, rc = 0;
  char *save = NULL;
  char *c = strtok_r(copy, "/", &save);
  while (c && rc == 0) {
    char *next = strtok_r(NULL, "/", &save);
    if (strcmp(c, "..") == 0) {
      rc = -EXDEV;
      if (cur != dirfd)
        close(cur);
      break;
    }
    if (strcmp(c, ".") == 0 && next) {
      c = next;
      continue;
    }
    int f = next ? O_PATH | O_DIRECTORY : flags;
    int fd = openat(cur, c, f | O_NOFOLLOW | O_CLOEXEC, 0);
    if (fd < 0)
      rc = -errno;
    if (cur != dirfd)
      close(cur);
    cur = fd;
    c = next;
  }
  free(copy);
  if (rc == 0 && cur == dirfd) {
    cur = openat(dirfd, ".", flags | O_CLOEXEC, 0);
    if (cur < 0)
      rc = -errno;
  }
  return rc ? rc : cur;
}

/* openat2 confined to the real directory: no "..", no symlinks, no
 * magic links on the way, whatever is renamed underneath. */
static int open_beneath(int dirfd, const char *path, int flags) {
  static bool no_openat2;
  if (!no_openat2) {
    struct open_how how = {
        .flags = (uint64_t)flags | O_CLOEXEC,
        .resolve =
            RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
    };
    long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
    if (fd >= 0 || errno != ENOSYS)
      return fd < 0 ? -errno : (int)fd;
    no_openat2 = true;
  }
  return open_by_components(dirfd, path, flags);
}

/* mkdir -p of path below realfd, component by component. */
static int make_dirs(int realfd, const char *path) {
  char *copy = xstrdup(path);
  int rc = 0;
  for (char *p = copy; *p && rc == 0; p++) {
    if (*p != '/' || p == copy)
      continue;
    *p = '\0';
    int fd = open_beneath(realfd, copy, O_PATH | O_DIRECTORY);
    if (fd >= 0)
      close(fd);
    else if (fd == -ENOENT && mkdirat(realfd, copy, 0755) != 0 &&
             errno != EEXIST)
      rc = -errno;
    else if (fd != -ENOENT)
      rc = fd;
    *p = '/';
  }
  if (rc == 0) {
    int fd = open_beneath(realfd, copy, O_PATH | O_DIRECTORY);
    if (fd >= 0)
      close(fd);
    else if (fd == -ENOENT && mkdirat(realfd, copy, 0755) != 0 &&
             errno != EEXIST)
      rc = -errno;
    else if (fd != -ENOENT)
      rc = fd;
  }
  free(copy);
  return rc;
}

int node_open_dir(struct fs *fs, const struct node *dir, bool create) {
  if (dir->type == NT_VIRT)
    return node_open_vdir(fs, &dir->v, create);
  int fd = openat(dir->fd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  return fd < 0 ? -errno : fd;
}

int node_open_vdir(struct fs *fs, const struct vnode *v, bool create) {
  struct buf path = BUF_INIT;
  int rc = vdir_relpath(fs, v, &path);
  if (rc == 0) {
    rc = open_beneath(fs->realfd, path.ptr, O_PATH | O_DIRECTORY);
    if (rc == -ENOENT && create) {
      rc = make_dirs(fs->realfd, path.ptr);
      if (rc == 0)
        rc = open_beneath(fs->realfd, path.ptr, O_PATH | O_DIRECTORY);
    }
  }
  buf_release(&path);
  return rc;
}

/* ---- handles ---- */

struct handle *handle_new(int type, struct node *n) {
  struct handle *h = xcalloc(1, sizeof *h);
  h->type = type;
  h->node = n;
  h->fd = -1;
  buf_init(&h->wbuf);
  n->opens++;
  h->next = n->handles;
  n->handles = h;
  return h;
}

void handle_add_entry(struct handle *h, const char *name, mode_t type,
                      fuse_ino_t ino) {
  XGROW(h->entries, h->capentries, h->nentries + 1);
  h->entries[h->nentries].name = xstrdup(name);
  h->entries[h->nentries].type = type;
  h->entries[h->nentries].ino = ino;
  h->nentries++;
}

struct handle *handle_new_dir(struct node *n) {
  struct handle *h = handle_new(HT_DIR, n);
  handle_add_entry(h, ".", S_IFDIR, n->ino);
  handle_add_entry(h, "..", S_IFDIR, UNKNOWN_INO);
  h->listed = true;
  return h;
}

static void handle_unlink(struct handle *h) {
  struct node *n = h->node;
  for (struct handle **p = &n->handles; *p; p = &(*p)->next)
    if (*p == h) {
      *p = h->next;
      break;
    }
  if (n->writer == h)
    n->writer = NULL;
  h->next = NULL;
}

void handle_free(struct fs *fs, struct handle *h) {
  fs->buffered -= h->wbuf.len <= fs->buffered ? h->wbuf.len : fs->buffered;
  if (h->fd >= 0)
    close(h->fd);
  content_unref(h->snap);
  content_unref(h->base);
  buf_release(&h->wbuf);
  for (size_t i = 0; i < h->nentries; i++)
    free(h->entries[i].name);
  free(h->entries);
  handle_unlink(h);
  h->node->opens--;
  node_maybe_free(fs, h->node);
  free(h);
}

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

struct handle **handles_all(struct fs *fs, size_t *n) {
  struct handle_list l = {0};
  hmap_each(&fs->inodes, collect_handles, &l);
  *n = l.n;
  return l.v;
}

/* ---- the tables ---- */

void nodes_init(struct fs *fs) {
  fs->next_ino = FUSE_ROOT_ID;
  hmap_init(&fs->inodes);
  hmap_init(&fs->virt);
  hmap_init(&fs->real);
  hmap_init(&fs->past);
  hmap_init(&fs->watched);
  fs->root_node = node_virt(fs, &fs->root); /* the first: inode 1 */
}

static void free_node(void *ctx, void *value) {
  struct node *n = value;
  if (n->fd >= 0)
    close(n->fd);
  content_unref(n->cache);
  content_unref(n->served);
  watch_names_free(n);
  vnode_release(&n->v);
  free(n->key);
  free(n->name);
  free(n);
}

static void free_past(void *ctx, void *value) {
  (void)ctx;
  free(value);
}

void nodes_free_all(struct fs *fs) {
  hmap_each(&fs->inodes, free_node, NULL);
  hmap_release(&fs->inodes);
  hmap_release(&fs->virt);
  hmap_release(&fs->real);
  hmap_each(&fs->past, free_past, NULL);
  hmap_release(&fs->past);
  hmap_release(&fs->watched);
  fs->root_node = NULL;
}
