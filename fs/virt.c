/* SPDX-License-Identifier: MIT */
/* virt.c: the generated side of each operation: what a name means, what a
 * generated file's attributes are, and what opening, truncating, removing
 * and renaming one does. Ordinary names fall through to real.c. */
#include "virt.h"
#include "cache.h"
#include "nodes.h"
#include "save.h"
#include "sync.h"
#include "tombs.h"
#include "util.h"
#include "watch.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h> /* RENAME_NOREPLACE, RENAME_EXCHANGE */
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- names ---- */

int virt_find(struct fs *fs, struct node *dir, const char *name,
              struct vnode *out) {
  if (dir->type != NT_VIRT || !view_is_dir(dir->v.kind) ||
      tomb_find(fs, dir->ino, name))
    return 0;
  struct vnode v;
  vnode_init(&v);
  int rc = view_lookup(fs_store(fs), &dir->v, name, &v);
  if (rc == ENG_OK && out)
    vnode_copy(out, &v);
  vnode_release(&v);
  return rc == ENG_OK         ? 1
         : rc == ENG_NOTFOUND ? 0
                              : -fs_error(fs, rc, "lookup");
}

/* The node that shows v now: a node frozen for its readers is left to
 * them. */
static struct node *current_node(struct fs *fs, const struct vnode *v) {
  struct node *n = node_virt(fs, v);
  if (view_is_dir(v->kind))
    return n;
  struct content *c;
  cache_content(fs, n, &c);
  if (n->frozen)
    n = node_virt(fs, v);
  return n;
}

int virt_lookup(struct fs *fs, struct node *dir, const char *name,
                struct node **out) {
  int rc = node_check_dir(dir);
  if (rc)
    return rc;
  if (!tomb_find(fs, dir->ino, name)) {
    struct vnode v;
    vnode_init(&v);
    rc = view_lookup(fs_store(fs), &dir->v, name, &v);
    if (rc == ENG_OK)
      *out = current_node(fs, &v);
    vnode_release(&v);
    if (rc != ENG_NOTFOUND)
      return rc ? -fs_error(fs, rc, "lookup") : 0;
  }
  return real_lookup(fs, dir, name, out);
}

/* ---- attributes ---- */

/* A generated directory's time is that of the last change to its
 * session. */
static void dir_attr(struct fs *fs, struct node *n, struct stat *st) {
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
}

int virt_attr(struct fs *fs, struct node *n, struct stat *st) {
  st->st_ino = n->ino;
  st->st_uid = fs->uid;
  st->st_gid = fs->gid;
  st->st_blksize = IO_BLOCK;
  if (view_is_dir(n->v.kind)) {
    dir_attr(fs, n, st);
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

static int readers_keep(struct fs *fs, struct node *n);

int virt_setattr(struct fs *fs, struct node *n, const struct stat *attr,
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
    readers_keep(fs, n);
    int rc = save_truncate(fs, n, h, attr->st_size);
    if (rc)
      return rc;
  }
  if (to_set & FUSE_SET_ATTR_MODE)
    n->mode = attr->st_mode & 0777;
  /* Times of a generated file are those of the records it shows. */
  return 0;
}

/* ---- opening ---- */

/* A reader's handle: the snapshot c, and what the kernel may keep of
 * earlier reads. */
static struct handle *open_reader(struct node *n, struct content *c,
                                  struct fuse_file_info *fi, bool *inval) {
  struct handle *h = handle_new(HT_VIRT, n);
  h->snap = content_ref(c);
  /* The size the kernel has (from the lookup just before, say) may be
   * of an earlier rendering: it would cut the reads short. */
  if (n->kernel_size != (off_t)c->data.len) {
    *inval = true;
    n->kernel_size = -1;
  }
  /* Version 0 is a file rendered afresh at every change (the sync
   * status): its pages are never known to hold this rendering. */
  if (n->kernel_cached && n->kernel_version == c->version && c->version != 0) {
    fi->keep_cache = 1;
  } else {
    /* Another version: its time too is news to the kernel. */
    if (n->kernel_cached && n->kernel_version != c->version)
      *inval = true;
    fi->keep_cache = 0;
    n->kernel_cached = true;
    n->kernel_version = c->version;
  }
  fi->noflush = 1;
  return h;
}

/* A reader of what the kernel holds: when the kernel was given the
 * version n shows now, and its size, the open needs no rendering. The
 * kernel keeps its pages (keep_cache) and the handle renders only when a
 * read comes for a page the kernel let go. NULL when that is not so. */
static struct handle *open_held(struct fs *fs, struct node *n,
                                struct fuse_file_info *fi) {
  int64_t version = n->last_version;
  if (!n->kernel_cached || n->frozen || version == 0 ||
      n->kernel_version != version || n->kernel_size != n->last_size)
    return NULL;
  uint64_t gen = mount_gen(fs->mount);
  if (n->cache_gen != gen) {
    int64_t now = 0;
    if (cache_version(fs, n, &now) || now != version)
      return NULL;
    n->cache_gen = gen;
  }
  /* What this path served: this version, with its text while the cache
   * holds it (only its version and time otherwise: node_served). */
  int64_t served = n->served ? n->served->version : n->served_version;
  if (n->cache) {
    content_unref(n->served);
    n->served = content_ref(n->cache);
  } else if (served != version) {
    content_unref(n->served);
    n->served = NULL;
    n->served_version = version;
    n->served_mtime_ns = n->last_mtime_ns;
  }
  struct handle *h = handle_new(HT_VIRT, n);
  h->held = true;
  fi->keep_cache = 1;
  fi->noflush = 1;
  return h;
}

/* The readers of n that took no snapshot yet take the text n shows now
 * (one text for all: they opened on the same pages), before n stops
 * showing it (renamed away, unlinked) or when the kernel let go of a
 * page they read. */
static int readers_keep(struct fs *fs, struct node *n) {
  struct content *c = NULL;
  int rc = 0;
  for (struct handle *h = n->handles; h; h = h->next) {
    if (h->type != HT_VIRT || !h->held || h->snap)
      continue;
    if (!c && (rc = cache_snapshot(fs, n, &c)))
      break;
    __atomic_store_n(&h->snap, content_ref(c), __ATOMIC_RELEASE);
  }
  content_unref(c);
  return rc;
}

int virt_read_snap(struct fs *fs, struct handle *h) {
  if (h->snap)
    return 0;
  return h->node->type == NT_VIRT ? readers_keep(fs, h->node) : -EIO;
}

int virt_open(struct fs *fs, struct node *n, struct fuse_file_info *fi,
              struct handle **out, bool *inval) {
  if (view_is_dir(n->v.kind))
    return -EISDIR;
  bool write = (fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC);
  if (write && !view_is_writable(n->v.kind))
    return -EACCES;
  if (!write && (*out = open_held(fs, n, fi)))
    return 0;
  /* When the text changed under readers of the kernel's pages, this
   * inode goes on showing them those pages, and an open of it now (it
   * raced the watcher's pass, which gives the name a new inode) is told
   * ESTALE, on which the kernel looks the name up again and opens the
   * new inode. */
  struct content *c;
  int rc = cache_content(fs, n, &c);
  if (rc)
    return rc;
  /* A writer may truncate the kernel's pages: the readers that read
   * them take their snapshot first. */
  if (write)
    readers_keep(fs, n);
  /* What this path served: a handle that can read sees this text; one
   * that only writes (or truncates) builds on what was last read. */
  bool reads = (fi->flags & O_ACCMODE) != O_WRONLY && !(fi->flags & O_TRUNC);
  if (reads || !node_served(n)) {
    content_unref(n->served);
    n->served = content_ref(c);
  }
  if (!write) {
    *out = open_reader(n, c, fi, inval);
    return 0;
  }
  *out = save_open(fs, n, n->served, (fi->flags & O_TRUNC) ? NULL : c);
  /* The writer's bytes are not the file's text until they are saved:
   * keep them out of the page cache. */
  fi->direct_io = 1;
  return 0;
}

int virt_create(struct fs *fs, const struct fuse_ctx *ctx, struct node *dir,
                const char *name, mode_t mode, struct fuse_file_info *fi,
                struct node **n, struct handle **out, bool *inval) {
  int rc = node_check_dir(dir);
  if (rc)
    return rc;
  struct vnode v;
  vnode_init(&v);
  struct tomb *t = NULL;
  int found = virt_find(fs, dir, name, &v);
  if (found < 0) {
    rc = found;
  } else if (found) {
    /* It appeared since the kernel looked: open it as asked. */
    if (fi->flags & O_EXCL) {
      rc = -EEXIST;
    } else {
      *n = node_virt(fs, &v);
      rc = virt_open(fs, *n, fi, out, inval);
    }
  } else if ((t = tomb_take(fs, dir->ino, name))) {
    /* A managed name made again: its text will be a save of the same
     * record. */
    *n = node_virt(fs, &t->v);
    content_unref((*n)->served);
    (*n)->served = content_ref(t->served);
    (*n)->served_version = (*n)->served_mtime_ns = 0;
    *out = save_open(fs, *n, t->served, NULL);
    (*out)->replaces = t->unlinked;
    fi->direct_io = 1;
    tomb_free(t);
  } else {
    rc = real_create_handle(fs, ctx, dir, name, fi->flags, mode, n, out);
  }
  vnode_release(&v);
  return rc;
}

/* ---- making and removing names ---- */

int virt_make(struct fs *fs, const struct fuse_ctx *ctx, struct node *dir,
              const char *name, const struct real_new *what,
              struct node **out) {
  int found = virt_find(fs, dir, name, NULL);
  int rc = found < 0                               ? found
           : found                                 ? -EEXIST
           : tomb_find(fs, dir->ino, name) != NULL ? -EPERM
                                                   : node_check_dir(dir);
  return rc ? rc : real_make(fs, ctx, dir, name, what, out);
}

int virt_link(struct fs *fs, struct node *n, struct node *newdir,
              const char *newname) {
  int found = virt_find(fs, newdir, newname, NULL);
  if (found < 0)
    return found;
  if (found || tomb_find(fs, newdir->ino, newname))
    return -EPERM;
  return real_link(fs, n, newdir, newname);
}

/* Unlinks the generated file v, name in dir. */
static int unlink_file(struct fs *fs, struct node *dir, const char *name,
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
  readers_keep(fs, n);
  struct content *shown = NULL;
  if (cache_content(fs, n, &shown))
    shown = node_served(n);
  tomb_add(fs, dir->ino, name, v, shown, true);
  node_detach(fs, n);
  node_maybe_free(fs, n);
  return 0;
}

int virt_unlink(struct fs *fs, struct node *dir, const char *name,
                bool is_dir) {
  struct vnode v;
  vnode_init(&v);
  int rc = virt_find(fs, dir, name, &v);
  if (rc == 0)
    rc = real_unlink(fs, dir, name, is_dir);
  else if (rc > 0)
    rc = is_dir ? -EPERM : unlink_file(fs, dir, name, &v);
  vnode_release(&v);
  return rc;
}

/* ---- rename ---- */

/* The writers of n, now the ordinary file name in dfd, write that file;
 * readers keep reading what they read. */
static void writers_to_real(struct node *n, int dfd, const char *name) {
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
}

/* A generated node becomes an ordinary file at parent/name holding its
 * current text (it was renamed away from its managed name). */
static int become_real(struct fs *fs, struct node *n, struct node *parent,
                       const char *name) {
  readers_keep(fs, n);
  const struct buf *text =
      n->writer && n->writer->dirty ? &n->writer->wbuf : NULL;
  struct content *c = NULL;
  int rc = text ? 0 : cache_content(fs, n, &c);
  if (rc)
    return rc;
  if (!text)
    text = &c->data;
  int dfd = node_open_dir(fs, parent, true);
  if (dfd < 0)
    return dfd;
  rc = save_file_new(dfd, name, n->mode & 0666, text->ptr, text->len);
  int pfd = rc ? -1 : openat(dfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  struct stat st;
  if (rc == 0 && (pfd < 0 || fstat(pfd, &st))) {
    rc = -errno;
    if (pfd >= 0)
      close(pfd);
  }
  if (rc == 0) {
    cache_drop(fs, n);
    node_make_real(fs, n, pfd, &st, parent, name);
    writers_to_real(n, dfd, name);
  }
  close(dfd);
  return rc;
}

/* Renamed away from its managed name: the text moves to an ordinary
 * file, and the managed name goes into a tomb, as with unlink. */
static int rename_away(struct fs *fs, struct node *n, struct node *dir,
                       const char *name, const struct vnode *v,
                       struct node *newdir, const char *newname) {
  struct content *served = content_ref(node_served(n));
  int rc = become_real(fs, n, newdir, newname);
  if (rc == 0)
    tomb_add(fs, dir->ino, name, v, served, false);
  content_unref(served);
  return rc;
}

/* Within the generated tree a rename may change a record: a group file
 * renamed in task_groups/ (over another group's file, that group is
 * deleted, restorable), a task file moved to another status folder.
 * Returns an engine result: ENG_PERM when it means no record change.
 * over is the generated file at the new name, or NULL. */
static int rename_record(struct fs *fs, struct node *n, const struct vnode *v,
                         struct node *newdir, const char *newname,
                         const struct vnode *over) {
  if (over &&
      !(over->kind == v->kind && (v->kind == VK_GROUP_MD || vnode_eq(over, v))))
    return ENG_PERM;
  if (over && !vnode_eq(over, v) && over->kind == VK_GROUP_MD) {
    int rc = sync_delete(fs_store(fs), over);
    if (rc)
      return rc;
    struct node *old = node_virt(fs, over);
    node_detach(fs, old);
    node_maybe_free(fs, old);
  }
  struct vnode moved;
  vnode_init(&moved);
  int rc = sync_rename(fs_store(fs), v, &newdir->v, newname, &moved);
  if (rc == ENG_OK) {
    /* Same record, new name: the node keeps its inode. */
    n->v.status = moved.status;
    mount_changed(fs->mount);
  }
  vnode_release(&moved);
  return rc;
}

/* The generated file v, name in dir, renamed to newname in newdir. */
static int rename_file(struct fs *fs, struct node *dir, const char *name,
                       const struct vnode *v, struct node *newdir,
                       const char *newname, unsigned flags) {
  struct node *n = node_virt(fs, v);
  if (!view_is_writable(v->kind))
    return -EPERM;
  struct vnode over;
  vnode_init(&over);
  int rc = virt_find(fs, newdir, newname, &over);
  if (rc < 0)
    goto out;
  bool is_over = rc > 0;
  rc = 0;
  if (is_over && (flags & RENAME_NOREPLACE)) {
    rc = -EEXIST;
    goto out;
  }
  if (flags & RENAME_EXCHANGE) {
    rc = -EINVAL;
    goto out;
  }
  if (newdir->type == NT_VIRT && view_is_dir(newdir->v.kind)) {
    if ((rc = fs_may_change(fs, "rename of", v)))
      goto out;
    int erc = rename_record(fs, n, v, newdir, newname, is_over ? &over : NULL);
    if (erc != ENG_PERM) {
      rc = erc ? -fs_error(fs, erc, "rename") : 0;
      goto out;
    }
    if (is_over) {
      /* Onto another generated file of a different kind. */
      rc = -EPERM;
      goto out;
    }
  }
  rc = rename_away(fs, n, dir, name, v, newdir, newname);
out:
  vnode_release(&over);
  return rc;
}

int virt_rename(struct fs *fs, struct node *dir, const char *name,
                struct node *newdir, const char *newname, unsigned flags) {
  struct vnode v;
  vnode_init(&v);
  int rc = virt_find(fs, dir, name, &v);
  if (rc == 0)
    rc = save_rename_file(fs, dir, name, newdir, newname, flags);
  else if (rc > 0 && view_is_dir(v.kind))
    rc = -EPERM;
  else if (rc > 0)
    rc = rename_file(fs, dir, name, &v, newdir, newname, flags);
  vnode_release(&v);
  return rc;
}

/* ---- listing ---- */

struct listing {
  struct fs *fs;
  struct node *dir;
  struct handle *h;
};

static int list_entry(void *ctx, const char *name, const struct vnode *v) {
  struct listing *l = ctx;
  if (tomb_find(l->fs, l->dir->ino, name))
    return 0;
  struct node *n = node_virt_known(l->fs, v);
  handle_add_entry(l->h, name, view_is_dir(v->kind) ? S_IFDIR : S_IFREG,
                   n ? n->ino : UNKNOWN_INO);
  return 0;
}

int virt_opendir(struct fs *fs, struct node *dir, struct handle **out) {
  int rc = node_check_dir(dir);
  if (rc)
    return rc;
  *out = handle_new_dir(dir);
  (*out)->listed = false;
  return 0;
}

int virt_list(struct fs *fs, struct handle *h) {
  struct listing l = {fs, h->node, h};
  int erc = view_list(fs_store(fs), &h->node->v, list_entry, &l);
  int rc = erc ? -fs_error(fs, erc, "list") : real_list(fs, h->node, h);
  if (rc) {
    /* Listed again at the next readdir: only "." and ".." stay. */
    while (h->nentries > 2)
      free(h->entries[--h->nentries].name);
    return rc;
  }
  h->listed = true;
  h->listed_seq = watch_seq(fs);
  return 0;
}

void virt_renamed(struct fs *fs, struct node *newdir, const char *newname) {
  struct vnode v;
  vnode_init(&v);
  struct node *n;
  if (virt_find(fs, newdir, newname, &v) > 0 && (n = node_virt_known(fs, &v)))
    watch_name(n, newdir->ino, newname);
  vnode_release(&v);
}
