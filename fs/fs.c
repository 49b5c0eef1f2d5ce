/* SPDX-License-Identifier: MIT */
/* fs.c: what every part of fs/ calls: the lock, the mount's news and
 * refusals in the log, engine errors as errno. No FUSE request here. */
#include "cache.h"
#include "fs.h"
#include "util.h"
#include "watch.h"

#include <errno.h>
#include <string.h>

void fs_lock(struct fs *fs) { pthread_mutex_lock(&fs->lock); }

void fs_unlock(struct fs *fs) {
  if (fs->cached > (size_t)fs->opt.render_cache_mb << 20)
    cache_trim(fs);
  pthread_mutex_unlock(&fs->lock);
}

int fs_errno(int rc) { return eng_result(rc)->err; }

int fs_error(struct fs *fs, int rc, const char *what) {
  fuse_log(FUSE_LOG_ERR, "taskfs: %s: %s\n", what, store_errmsg(fs_store(fs)));
  int err = fs_errno(rc);
  return err ? err : EIO; /* a failure is never a success */
}

void fs_label(struct fs *fs, const struct vnode *v, struct buf *out) {
  if (v->session) {
    buf_adds(out, v->session);
    buf_addc(out, '/');
  }
  view_path(fs_store(fs), v, out);
}

void fs_refresh(struct fs *fs) {
  unsigned news = mount_refresh(fs->mount);
  /* The database as the store shows it: a URI without its password. */
  const char *db = store_path(mount_store(fs->mount));
  if (news & (MOUNT_REPLACED | MOUNT_DELETED | MOUNT_UNUSABLE))
    watch_forget_all(fs);
  if (news & MOUNT_REPLACED)
    fuse_log(FUSE_LOG_WARNING,
             "taskfs: database %s was replaced; the mount now shows the new "
             "one\n",
             db);
  if (news & MOUNT_DELETED)
    fuse_log(FUSE_LOG_ERR,
             "taskfs: database %s was deleted; the mount shows its last "
             "state and refuses saves (ESTALE) until a database is back at "
             "that path\n",
             db);
  if (news & MOUNT_UNUSABLE)
    fuse_log(FUSE_LOG_ERR,
             "taskfs: database %s was replaced by a file this taskfs cannot "
             "use (%s); the mount shows the last state of the old one and "
             "refuses saves (ESTALE) until a usable database is at that "
             "path\n",
             db, mount_errmsg(fs->mount));
  if (news & MOUNT_NEWER)
    fuse_log(FUSE_LOG_ERR,
             "taskfs: database %s was upgraded by a newer taskfs; the "
             "mount is read-only (EROFS) until it is mounted again with "
             "that version\n",
             db);
}

int fs_may_change(struct fs *fs, const char *what, const struct vnode *v) {
  const char *why;
  int rc = mount_can_write(fs->mount, &why);
  if (rc == ENG_OK)
    return 0;
  int err = fs_errno(rc);
  struct buf label = BUF_INIT;
  fs_label(fs, v, &label);
  fuse_log(FUSE_LOG_ERR, "taskfs: %s %s refused (%s): %s\n", what, label.ptr,
           strerror(err), why);
  buf_release(&label);
  return -err;
}
