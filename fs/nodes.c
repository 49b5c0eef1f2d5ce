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

/* ---- the tables: chained through the nodes, doubling at load 1 ---- */

static void table_init(struct node_table *t) {
  t->nslots = 64;
  t->count = 0;
  t->slots = xcalloc(t->nslots, sizeof *t->slots);
}

static void table_release(struct node_table *t) {
  free(t->slots);
  t->slots = NULL;
  t->nslots = t->count = 0;
}

static size_t ino_hash(fuse_ino_t ino) {
  uint64_t h = ino * 0x9e3779b97f4a7c15ull;
  return (size_t)(h ^ (h >> 32));
}

static struct node **ino_slot(const struct node_table *t, fuse_ino_t ino) {
  return &t->slots[ino_hash(ino) & (t->nslots - 1)];
}

static struct node **key_slot(const struct node_table *t, uint32_t hash) {
  return &t->slots[hash & (t->nslots - 1)];
}

/* Doubles t; byino: the table of inode numbers, else of keys. */
static void table_grow(struct node_table *t, bool byino) {
  struct node_table old = *t;
  t->nslots *= 2;
  t->slots = xcalloc(t->nslots, sizeof *t->slots);
  for (size_t i = 0; i < old.nslots; i++) {
    struct node *n = old.slots[i];
    while (n) {
      struct node **link = byino ? &n->ino_next : &n->key_next;
      struct node *next = *link;
      struct node **slot =
          byino ? ino_slot(t, n->ino) : key_slot(t, n->key_hash);
      *link = *slot;
      *slot = n;
      n = next;
    }
  }
  free(old.slots);
}

static void ino_put(struct fs *fs, struct node *n) {
  if (fs->inodes.count + 1 > fs->inodes.nslots)
    table_grow(&fs->inodes, true);
  struct node **slot = ino_slot(&fs->inodes, n->ino);
  n->ino_next = *slot;
  *slot = n;
  fs->inodes.count++;
}

static void ino_del(struct fs *fs, struct node *n) {
  for (struct node **p = ino_slot(&fs->inodes, n->ino); *p; p = &(*p)->ino_next)
    if (*p == n) {
      *p = n->ino_next;
      n->ino_next = NULL;
      fs->inodes.count--;
      return;
    }
}

static void key_put(struct fs *fs, struct node *n, uint32_t hash) {
  if (fs->keys.count + 1 > fs->keys.nslots)
    table_grow(&fs->keys, false);
  n->key_hash = hash;
  struct node **slot = key_slot(&fs->keys, hash);
  n->key_next = *slot;
  *slot = n;
  n->keyed = true;
  fs->keys.count++;
}

/* ---- keys: what a node shows ---- */

static uint32_t hash_add(uint32_t h, const void *data, size_t len) {
  const unsigned char *p = data;
  for (size_t i = 0; i < len; i++) {
    h ^= p[i];
    h *= 16777619u;
  }
  return h;
}

/* A task's file is one node whatever status directory lists it, so that a
 * task moved between folders keeps its inode. */
static int key_status(const struct vnode *v) {
  return (v->kind == VK_TASK_MD ||
          ((v->kind == VK_ERROR_MD || v->kind == VK_CONFLICT_MD) &&
           v->target == VK_TASK_MD))
             ? 0
             : v->status;
}

static uint32_t vnode_hash(const struct vnode *v) {
  int f[4] = {v->kind, key_status(v), v->notes, v->target};
  const char *session = v->session ? v->session : "";
  const char *record = v->record ? v->record : "";
  uint32_t h = hash_add(2166136261u, f, sizeof f);
  h = hash_add(h, session, strlen(session) + 1);
  return hash_add(h, record, strlen(record));
}

static bool vnode_key_eq(const struct vnode *a, const struct vnode *b) {
  return a->kind == b->kind && key_status(a) == key_status(b) &&
         a->notes == b->notes && a->target == b->target &&
         strcmp(a->session ? a->session : "", b->session ? b->session : "") ==
             0 &&
         strcmp(a->record ? a->record : "", b->record ? b->record : "") == 0;
}

static uint32_t real_hash(dev_t dev, ino_t ino) {
  uint64_t f[2] = {(uint64_t)dev, (uint64_t)ino};
  return hash_add(2166136261u, f, sizeof f) ^ 0x5bd1e995u;
}

/* The key of a node in fs->past, a string. */
static void vnode_key(const struct vnode *v, struct buf *out) {
  buf_printf(out, "%d/%d/%d/%d/", v->kind, key_status(v), v->notes, v->target);
  buf_adds(out, v->session ? v->session : "");
  buf_addc(out, '/');
  buf_adds(out, v->record ? v->record : "");
}

static void real_key(dev_t dev, ino_t ino, struct buf *out) {
  buf_printf(out, "r%llx:%llx", (unsigned long long)dev,
             (unsigned long long)ino);
}

static void node_key(const struct node *n, struct buf *out) {
  if (n->type == NT_VIRT)
    vnode_key(&n->v, out);
  else
    real_key(n->real_dev, n->real_ino, out);
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
  } else if (!n->served && n->served_version > 0) {
    p->served_version = n->served_version;
    p->served_mtime_ns = n->served_mtime_ns;
  }
  struct buf key = BUF_INIT;
  node_key(n, &key);
  free(hmap_del(&fs->past, key.ptr));
  hmap_put(&fs->past, key.ptr, p);
  buf_release(&key);
}

/* A new node of type, which will show what key names: the inode number
 * and served revision a freed node of that key left, if any. */
static struct node *node_new(struct fs *fs, int type, const char *key) {
  struct node *n = xcalloc(1, sizeof *n);
  struct past *p = hmap_del(&fs->past, key);
  n->ino = p ? p->ino : fs->next_ino++;
  if (p && p->served_version > 0) {
    /* Only the version: the base of a save is read as of it. */
    n->served_version = p->served_version;
    n->served_mtime_ns = p->served_mtime_ns;
  }
  free(p);
  n->kernel_size = -1;
  n->fd = -1;
  n->type = (uint8_t)type;
  vnode_init(&n->v);
  ino_put(fs, n);
  return n;
}

struct node *node_get(struct fs *fs, fuse_ino_t ino) {
  if (ino == FUSE_ROOT_ID)
    return fs->root_node;
  for (struct node *n = *ino_slot(&fs->inodes, ino); n; n = n->ino_next)
    if (n->ino == ino)
      return n;
  return NULL;
}

static struct node *virt_find(struct fs *fs, const struct vnode *v,
                              uint32_t hash) {
  for (struct node *n = *key_slot(&fs->keys, hash); n; n = n->key_next)
    if (n->key_hash == hash && n->type == NT_VIRT && vnode_key_eq(&n->v, v))
      return n;
  return NULL;
}

/* Frees the strings of n->v, which node_set_vnode made. */
static void node_vnode_release(struct node *n) {
  free(n->v.session ? n->v.session : n->v.record);
  vnode_init(&n->v);
}

/* n->v becomes a copy of v, its two strings in one block. */
static void node_set_vnode(struct node *n, const struct vnode *v) {
  node_vnode_release(n);
  size_t ls = v->session ? strlen(v->session) + 1 : 0;
  size_t lr = v->record ? strlen(v->record) + 1 : 0;
  char *block = ls + lr ? xmalloc(ls + lr) : NULL;
  n->v = *v;
  n->v.session = v->session ? memcpy(block, v->session, ls) : NULL;
  n->v.record = v->record ? memcpy(block + ls, v->record, lr) : NULL;
}

/* Makes n show v, in fs->keys. */
static void key_virt(struct fs *fs, struct node *n, const struct vnode *v,
                     uint32_t hash) {
  node_set_vnode(n, v);
  key_put(fs, n, hash);
}

struct node *node_virt(struct fs *fs, const struct vnode *v) {
  uint32_t hash = vnode_hash(v);
  struct node *n = virt_find(fs, v, hash);
  if (n) {
    /* The same record may be listed elsewhere now (a task's status). */
    n->v.status = v->status;
    return n;
  }
  struct buf key = BUF_INIT;
  vnode_key(v, &key);
  n = node_new(fs, NT_VIRT, key.ptr);
  buf_release(&key);
  key_virt(fs, n, v, hash);
  n->mode = view_is_dir(v->kind)        ? 0755
            : view_is_writable(v->kind) ? 0644
                                        : 0444;
  watch_node_new(fs, n);
  return n;
}

struct node *node_virt_known(struct fs *fs, const struct vnode *v) {
  return virt_find(fs, v, vnode_hash(v));
}

struct node *node_real_known(struct fs *fs, dev_t dev, ino_t ino) {
  uint32_t hash = real_hash(dev, ino);
  for (struct node *n = *key_slot(&fs->keys, hash); n; n = n->key_next)
    if (n->key_hash == hash && n->type == NT_REAL && n->real_dev == dev &&
        n->real_ino == ino)
      return n;
  return NULL;
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

/* Makes n the node of real inode st, in fs->keys. */
static void key_real(struct fs *fs, struct node *n, const struct stat *st) {
  n->real_dev = st->st_dev;
  n->real_ino = st->st_ino;
  key_put(fs, n, real_hash(st->st_dev, st->st_ino));
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
  buf_release(&key);
  n->fd = fd;
  key_real(fs, n, st);
  node_name(fs, n, dir, name);
  return n;
}

void node_make_real(struct fs *fs, struct node *n, int fd,
                    const struct stat *st, struct node *dir, const char *name) {
  node_detach(fs, n);
  watch_node_gone(fs, n);
  node_vnode_release(n);
  n->type = NT_REAL;
  n->fd = fd;
  key_real(fs, n, st);
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
  n->mode = 0644;
  n->last_version = n->last_mtime_ns = 0;
  n->last_size = 0;
  key_virt(fs, n, v, vnode_hash(v));
}

void node_detach(struct fs *fs, struct node *n) {
  if (!n->keyed)
    return;
  for (struct node **p = key_slot(&fs->keys, n->key_hash); *p;
       p = &(*p)->key_next)
    if (*p == n) {
      *p = n->key_next;
      fs->keys.count--;
      break;
    }
  n->key_next = NULL;
  n->keyed = false;
}

void node_maybe_free(struct fs *fs, struct node *n) {
  if (n == fs->root_node || n->nlookup || n->opens || n->children)
    return;
  if (n->keyed)
    past_keep(fs, n);
  node_detach(fs, n);
  ino_del(fs, n);
  cache_drop(fs, n);
  content_unref(n->served);
  watch_node_gone(fs, n);
  node_vnode_release(n);
  if (n->fd >= 0)
    close(n->fd);
  struct node *parent = n->parent;
  free(n->name);
  free(n);
  fs->freed += sizeof *n;
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
  fs->freed += h->wbuf.cap + h->capentries * (sizeof *h->entries + 32);
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

static void collect_handles(void *ctx, struct node *n) {
  struct handle_list *l = ctx;
  for (struct handle *h = n->handles; h; h = h->next) {
    XGROW(l->v, l->cap, l->n + 1);
    l->v[l->n++] = h;
  }
}

struct handle **handles_all(struct fs *fs, size_t *n) {
  struct handle_list l = {0};
  nodes_each(fs, collect_handles, &l);
  *n = l.n;
  return l.v;
}

/* ---- the tables ---- */

void nodes_init(struct fs *fs) {
  fs->next_ino = FUSE_ROOT_ID;
  table_init(&fs->inodes);
  table_init(&fs->keys);
  hmap_init(&fs->past);
  hmap_init(&fs->watched);
  fs->root_node = node_virt(fs, &fs->root); /* the first: inode 1 */
}

void nodes_each(struct fs *fs, void (*fn)(void *ctx, struct node *n),
                void *ctx) {
  for (size_t i = 0; i < fs->inodes.nslots; i++)
    for (struct node *n = fs->inodes.slots[i]; n; n = n->ino_next)
      fn(ctx, n);
}

static void free_node(struct node *n) {
  if (n->fd >= 0)
    close(n->fd);
  content_unref(n->cache);
  content_unref(n->served);
  watch_names_free(n);
  node_vnode_release(n);
  free(n->name);
  free(n);
}

static void free_past(void *ctx, void *value) {
  (void)ctx;
  free(value);
}

void nodes_free_all(struct fs *fs) {
  for (size_t i = 0; i < fs->inodes.nslots; i++) {
    struct node *n = fs->inodes.slots[i];
    while (n) {
      struct node *next = n->ino_next;
      free_node(n);
      n = next;
    }
  }
  table_release(&fs->inodes);
  table_release(&fs->keys);
  hmap_each(&fs->past, free_past, NULL);
  hmap_release(&fs->past);
  hmap_release(&fs->watched);
  fs->root_node = NULL;
}
