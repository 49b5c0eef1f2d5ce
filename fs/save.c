/* SPDX-License-Identifier: MIT */
/* save.c: writers' buffers and their saves through the engine, the
 * .unsaved copies of texts the database could not take, and ordinary
 * files whose text becomes a generated file's. */
#include "save.h"
#include "cache.h"
#include "daemon.h"
#include "nodes.h"
#include "real.h"
#include "sync.h"
#include "tombs.h"
#include "util.h"
#include "virt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- new files in the real directory ---- */

/* Writes all of text to fd. The one write loop of fs/. */
static int write_all(int fd, const char *text, size_t len) {
  for (size_t off = 0; off < len;) {
    ssize_t w = write(fd, text + off, len - off);
    if (w < 0)
      return -errno;
    if (w == 0)
      return -EIO;
    off += (size_t)w;
  }
  return 0;
}

/* Creates name in dfd (never over an existing file: -EEXIST) holding
 * text; a file left half written is removed. */
static int write_file(int dfd, const char *name, mode_t mode, const char *text,
                      size_t len) {
  int fd = openat(dfd, name,
                  O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0)
    return -errno;
  int rc = write_all(fd, text, len);
  if (close(fd) && rc == 0)
    rc = -errno;
  if (rc)
    unlinkat(dfd, name, 0);
  return rc;
}

int save_file_new(int dfd, const char *name, mode_t mode, const char *text,
                  size_t len) {
  if (unlinkat(dfd, name, 0) && errno != ENOENT)
    return -errno;
  return write_file(dfd, name, mode, text, len);
}

/* Writes text to "<name>.unsaved-<time>" in dfd, with "-2", "-3", ...
 * after it when that name is taken: an earlier copy is never overwritten.
 * name holds the file's name, and then the name used. */
static int write_unsaved(int dfd, struct buf *name, const char *text,
                         size_t len) {
  char stamp[32];
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
  size_t stem = name->len;
  for (int i = 1; i < 100; i++) {
    buf_truncate(name, stem);
    buf_printf(name, i == 1 ? ".unsaved-%s" : ".unsaved-%s-%d", stamp, i);
    int rc = write_file(dfd, name->ptr, 0644, text, len);
    if (rc != -EEXIST)
      return rc;
  }
  return -EEXIST;
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
  if (view_name(fs_store(fs), &n->v, &name) != ENG_OK || name.len == 0) {
    /* The store cannot name it now (a server out of reach): the name
     * the kernel looked it up by, else its record's. */
    buf_truncate(&name, 0);
    if (n->knames) {
      buf_adds(&name, n->knames->name);
    } else if (n->v.record) {
      name_for_file(n->v.record, &name);
      buf_adds(&name, ".md");
    }
  }
  int dfd = node_open_vdir(fs, &dir, true);
  int rc = dfd < 0 ? dfd : write_unsaved(dfd, &name, text, len);
  if (dfd >= 0)
    close(dfd);
  if (rc == 0) {
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

/* ---- saving ---- */

/* mount_save with fs->lock let go while the engine parses, merges and
 * applies, under fs->save_lock: other requests, reads above all, go on
 * meanwhile. The lock is held on entry and on return; the text, what
 * was served and the file's name are copied or held first. */
static int save_apart(struct fs *fs, const struct vnode *f, const char *text,
                      size_t len, struct content *served,
                      const struct served *sv, struct save_result *res,
                      const char **why) {
  char *copy = xmalloc(len + 1);
  memcpy(copy, text, len);
  copy[len] = '\0';
  struct content *held = content_ref(served);
  struct vnode v;
  vnode_init(&v);
  vnode_copy(&v, f);
  fs_unlock(fs);
  pthread_mutex_lock(&fs->save_lock);
  fs_lock(fs);
  fs_refresh(fs);
  struct save_job *j;
  int rc = mount_save_begin(fs->mount, &v, &j, why);
  if (rc == ENG_OK) {
    fs_unlock(fs);
    rc = mount_save_run(fs->mount, j, copy, len, sv, res);
    fs_lock(fs);
    mount_save_end(fs->mount, j, rc, res, why);
  }
  pthread_mutex_unlock(&fs->save_lock);
  vnode_release(&v);
  content_unref(held);
  free(copy);
  return rc;
}

int save_text(struct fs *fs, struct node *n, const char *text, size_t len,
              struct content *served, bool replaces, bool apart) {
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
  int rc = apart ? save_apart(fs, &n->v, text, len, served, &sv, &res, &why)
                 : mount_save(fs->mount, &n->v, text, len, &sv, &res, &why);
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

int save_handle(struct fs *fs, struct handle *h, bool apart) {
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
  uint64_t wseq = h->wseq;
  int rc = save_text(fs, h->node, h->wbuf.ptr, h->wbuf.len, h->base,
                     h->replaces, apart);
  /* Stored (applied, or held at the path), unless a write came through
   * the handle while the save went on without the lock. */
  if ((rc == 0 || rc == -EBADMSG) && h->wseq == wseq)
    h->dirty = false;
  h->failed = rc != 0 && rc != -EBADMSG;
  return rc;
}

int save_flush(struct fs *fs, struct handle *h) {
  /* Truncated and not written to: a shell's "> file" closes its first
   * descriptor before the command writes through the copy. The empty
   * text is saved at release if nothing comes. */
  if (!h->written && h->wbuf.len == 0)
    return 0;
  return save_handle(fs, h, true);
}

void save_release(struct fs *fs, struct handle *h) {
  if (!h->dirty || h->failed)
    return;
  fs_refresh(fs);
  save_handle(fs, h, true);
}

/* A generated file still open for writing when the filesystem goes away
 * (a signal, or an unmount the kernel did not wait for): its writer can no
 * longer close it, so its text is saved now, or kept beside the file when
 * that fails, as any failed save is. */
static void save_one_at_unmount(struct fs *fs, struct handle *h) {
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
    save_handle(fs, h, false);
  }
  buf_release(&label);
}

void save_at_unmount(struct fs *fs) {
  size_t n;
  struct handle **all = handles_all(fs, &n);
  for (size_t i = 0; i < n; i++)
    save_one_at_unmount(fs, all[i]);
  for (size_t i = 0; i < n; i++)
    handle_free(fs, all[i]);
  free(all);
}

/* ---- a writer's buffer ---- */

struct handle *save_open(struct fs *fs, struct node *n, struct content *base,
                         const struct content *text) {
  struct handle *h = handle_new(HT_VIRT, n);
  h->writable = true;
  h->base = content_ref(base);
  if (text) {
    buf_add(&h->wbuf, text->data.ptr, text->data.len);
    fs->buffered += text->data.len;
  } else {
    h->dirty = true;
    n->writer = h;
  }
  n->kernel_cached = false;
  return h;
}

/* A write refused part way leaves the buffer short of what the program
 * wrote: it is not saved (save_handle). */
static void write_refused(struct handle *h, int err) {
  if (!h->werr)
    h->werr = err;
}

/* Whether growing h's buffer to size stays within -o max_buffers. */
static bool fits(const struct fs *fs, const struct handle *h, size_t size) {
  size_t before = h->wbuf.len;
  return size <= before ||
         fs->buffered + (size - before) <= (size_t)fs->opt.max_buffers_mb << 20;
}

ssize_t save_write(struct fs *fs, struct handle *h, const char *data,
                   size_t len, off_t off) {
  if (!h->writable)
    return -EBADF;
  size_t end = (size_t)off + len;
  if (end > PARSE_MAX_BYTES) {
    write_refused(h, EFBIG);
    return -EFBIG;
  }
  if (!fits(fs, h, end)) {
    write_refused(h, ENOMEM);
    struct buf label = BUF_INIT;
    fs_label(fs, &h->node->v, &label);
    fuse_log(FUSE_LOG_ERR,
             "taskfs: write to %s refused (%s): the files being written "
             "through the mount would hold more than %d MiB together (-o "
             "max_buffers); close some of them, or mount with a larger "
             "max_buffers\n",
             label.ptr, strerror(ENOMEM), fs->opt.max_buffers_mb);
    buf_release(&label);
    return -ENOMEM;
  }
  size_t before = h->wbuf.len;
  buf_write_at(&h->wbuf, (size_t)off, data, len);
  fs->buffered += h->wbuf.len - before;
  h->dirty = true;
  h->wseq++;
  h->written = true;
  h->failed = false;
  h->node->writer = h;
  return (ssize_t)len;
}

char *save_copy(const struct handle *h, off_t off, size_t size, size_t *len) {
  const struct buf *b = &h->wbuf;
  size_t n = (size_t)off >= b->len ? 0 : b->len - (size_t)off;
  if (n > size)
    n = size;
  *len = n;
  return n ? xstrndup(b->ptr + off, n) : NULL;
}

int save_truncate(struct fs *fs, struct node *n, struct handle *h, off_t size) {
  bool own = h && h->type == HT_VIRT && h->writable;
  if ((size_t)size > PARSE_MAX_BYTES) {
    if (own)
      write_refused(h, EFBIG);
    return -EFBIG;
  }
  if (own) {
    if (!fits(fs, h, (size_t)size)) {
      write_refused(h, ENOMEM);
      return -ENOMEM;
    }
    size_t before = h->wbuf.len;
    buf_resize(&h->wbuf, (size_t)size);
    fs->buffered = fs->buffered - before + h->wbuf.len;
    h->dirty = true;
    h->wseq++;
    n->writer = h;
    n->kernel_cached = false;
    return 0;
  }
  /* truncate(2) by name: a save of the shortened text. */
  struct content *c;
  int rc = cache_content(fs, n, &c);
  if (rc)
    return rc;
  struct buf t = BUF_INIT;
  buf_add(&t, c->data.ptr, c->data.len);
  buf_resize(&t, (size_t)size);
  struct content *served = content_ref(c);
  rc = save_text(fs, n, t.ptr, t.len, served, false, false);
  content_unref(served);
  buf_release(&t);
  return rc == -EBADMSG ? 0 : rc;
}

/* ---- ordinary files whose text goes into the tree ---- */

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
    served = content_ref(node_served(old));
    node_detach(fs, old);
    node_maybe_free(fs, old);
  }
  real_unlink(fs, dir, name, false);
  node_make_virt(fs, n, v);
  content_unref(n->served);
  n->served = served;
  n->served_version = n->served_mtime_ns = 0;
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

/* The text of ordinary file n, in generated folder dir, given to the
 * engine as a new file there: a new group or task takes over the node
 * (or, under another name, the file goes). */
static void adopt_text(struct fs *fs, struct node *n, struct node *dir,
                       const struct buf *text) {
  struct save_result res;
  save_result_init(&res);
  struct served sv = {0};
  int rc = sync_create(fs_store(fs), &dir->v, n->name, text->ptr, text->len,
                       &sv, mount_policy(fs->mount), &res);
  if (rc) {
    fuse_log(FUSE_LOG_ERR, "taskfs: new file %s: %s\n", n->name,
             store_errmsg(fs_store(fs)));
    goto out;
  }
  if (res.outcome == SAVE_PLAIN)
    goto out;
  struct buf label = BUF_INIT;
  fs_label(fs, &res.file, &label);
  fuse_log(FUSE_LOG_INFO, "taskfs: %s: new %s from %s\n", label.ptr,
           res.file.kind == VK_GROUP_MD ? "group" : "task", n->name);
  buf_release(&label);
  mount_changed(fs->mount);
  /* The file now shows the record under its own name; when that is the
   * name the user gave, the inode stays the same. */
  struct buf name = BUF_INIT;
  view_name(fs_store(fs), &res.file, &name);
  char *was = xstrdup(n->name);
  if (strcmp(name.ptr, was) == 0) {
    become_virt(fs, n, dir, was, &res.file, text);
  } else {
    real_unlink(fs, dir, was, false);
    node_detach(fs, n);
  }
  free(was);
  buf_release(&name);
out:
  save_result_release(&res);
}

/* An ordinary file that lands under a name of a generated directory may
 * be a new group or task there. */
static void adopt(struct fs *fs, struct node *n) {
  struct node *dir = n->parent;
  if (!dir || dir->type != NT_VIRT ||
      (dir->v.kind != VK_GROUPS && dir->v.kind != VK_STATUS) ||
      n->name[0] == '.' || !str_ends(n->name, ".md"))
    return;
  struct stat st;
  const char *why;
  if (real_attr(n, &st) || !S_ISREG(st.st_mode) || st.st_nlink != 1)
    return;
  if (mount_can_write(fs->mount, &why)) {
    fuse_log(FUSE_LOG_ERR, "taskfs: new file %s stays an ordinary file: %s\n",
             n->name, why);
    return;
  }
  struct buf text = BUF_INIT;
  if (real_read_all(fs, n, &text, PARSE_MAX_BYTES) == 0)
    adopt_text(fs, n, dir, &text);
  buf_release(&text);
}

int save_flush_real(struct fs *fs, struct handle *h) {
  int rc = real_flush(h->fd);
  if (rc == 0 && h->wrote && h->node->type == NT_REAL && h->node->keyed) {
    h->wrote = false;
    adopt(fs, h->node);
  }
  return rc;
}

/* The ordinary file src, name in dir, renamed onto the generated file v
 * at newname in newdir (or onto its name in its grace time, served being
 * what it showed): its text is a save of that file. */
static int rename_over(struct fs *fs, struct node *src, struct node *dir,
                       const char *name, struct node *newdir,
                       const char *newname, const struct vnode *v,
                       struct content *served) {
  struct buf text = BUF_INIT;
  int rc = real_read_all(fs, src, &text, PARSE_MAX_BYTES);
  if (rc == 0) {
    struct node *dst = node_virt(fs, v);
    struct content *sv = content_ref(served ? served : node_served(dst));
    rc = save_text(fs, dst, text.ptr, text.len, sv, false, false);
    content_unref(sv);
    if (rc == 0 || rc == -EBADMSG) {
      /* The bytes are at the path, applied or held: the rename happened.
       * v may be the tomb's own: the tomb is freed last. */
      struct tomb *t = tomb_take(fs, newdir->ino, newname);
      become_virt(fs, src, dir, name, v, &text);
      if (t)
        tomb_free(t);
      rc = 0;
    }
  }
  buf_release(&text);
  return rc;
}

/* What rename(2) says of an ordinary file src renamed onto the managed
 * file target, before anything is read: 0 when it may go ahead. */
static int may_rename_over(struct node *src, const struct vnode *target,
                           bool in_grace, unsigned flags) {
  struct stat st;
  int rc = real_attr(src, &st);
  if (rc)
    return rc;
  if (!S_ISREG(st.st_mode))
    return S_ISDIR(st.st_mode) ? -EISDIR : -EPERM;
  if (flags & (RENAME_EXCHANGE | RENAME_NOREPLACE))
    return (flags & RENAME_NOREPLACE) && !in_grace ? -EEXIST : -EINVAL;
  if (!view_is_writable(target->kind))
    return view_is_dir(target->kind) ? -EISDIR : -EACCES;
  return 0;
}

int save_rename_file(struct fs *fs, struct node *dir, const char *name,
                     struct node *newdir, const char *newname, unsigned flags) {
  struct node *src = NULL;
  int rc = real_lookup(fs, dir, name, &src);
  if (rc)
    return rc;
  struct vnode over;
  vnode_init(&over);
  struct tomb *t = tomb_find(fs, newdir->ino, newname);
  int found = t ? 0 : virt_find(fs, newdir, newname, &over);
  if (found < 0) {
    rc = found;
  } else if (found || t) {
    const struct vnode *target = t ? &t->v : &over;
    rc = may_rename_over(src, target, t != NULL, flags);
    if (rc == 0)
      rc = rename_over(fs, src, dir, name, newdir, newname, target,
                       t ? t->served : NULL);
  } else {
    rc = real_rename(fs, dir, name, newdir, newname, flags);
    if (rc == 0 && !(flags & RENAME_EXCHANGE))
      adopt(fs, src);
  }
  vnode_release(&over);
  return rc;
}
