/* SPDX-License-Identifier: MIT */
/* fs.c: what every part of fs/ calls: the lock, the mount's news and
 * refusals in the log, engine errors as errno. No FUSE request here. */
#include "cache.h"
#include "fs.h"
#include "util.h"
#include "watch.h"

#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

void fs_lock(struct fs *fs) { pthread_mutex_lock(&fs->lock); }

/* Bytes freed (renderings, nodes) after which the heap's free pages are
 * given back to the system. */
#define TRIM_AFTER (8u << 20)

void fs_unlock(struct fs *fs) {
  if (fs->cached > (size_t)fs->opt.render_cache_mb << 20)
    cache_trim(fs);
  bool trim = fs->freed >= TRIM_AFTER;
  if (trim)
    fs->freed = 0;
  pthread_mutex_unlock(&fs->lock);
  /* Freed memory in the middle of the heap stays resident otherwise. */
  if (trim)
    malloc_trim(0);
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

/* The file the check waits for while it exists, for tests that need a
 * save to come while the check runs (TASKFS_TEST_HOLD_CHECK). */
static void hold_check(void) {
  const char *hold = getenv("TASKFS_TEST_HOLD_CHECK");
  struct stat st;
  while (hold && *hold && stat(hold, &st) == 0)
    usleep(10000);
}

static void *check_main(void *arg) {
  struct fs *fs = arg;
  /* The check reads the whole file: it gives way to the requests. */
  setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 19);
  fs_lock(fs);
  uint64_t begun = mount_check_begin(fs->mount);
  char *path = xstrdup(mount_path(fs->mount));
  fs_unlock(fs);
  hold_check();
  int64_t t0 = time_mono_ns();
  char *msg = NULL;
  int rc = mount_check_run(path, &msg);
  fs_lock(fs);
  if (mount_check_done(fs->mount, begun, rc))
    fuse_log(FUSE_LOG_ERR,
             "taskfs: %s; the mount is read-only: saves fail with EROFS and "
             "their text is kept beside the file\n",
             msg);
  else if (rc == ENG_OK)
    fuse_log(FUSE_LOG_DEBUG, "taskfs: database check passed in %.1f s\n",
             (double)(time_mono_ns() - t0) / 1e9);
  fs->checking = false;
  pthread_cond_broadcast(&fs->checked);
  fs_unlock(fs);
  free(msg);
  free(path);
  return NULL;
}

void fs_check_start(struct fs *fs) {
  pthread_cond_init(&fs->checked, NULL);
  fs_lock(fs);
  fs->checking = mount_checking(fs->mount);
  fs_unlock(fs);
  if (!fs->checking)
    return;
  if (pthread_create(&fs->checker, NULL, check_main, fs) == 0) {
    fs->check_started = true;
    return;
  }
  /* No thread: the check runs now, before the first request. */
  check_main(fs);
}

void fs_check_stop(struct fs *fs) {
  if (fs->check_started)
    pthread_join(fs->checker, NULL);
  fs->check_started = false;
}

void fs_wait_check(struct fs *fs) {
  while (fs->checking)
    pthread_cond_wait(&fs->checked, &fs->lock);
}

void fs_lock_write(struct fs *fs) {
  pthread_mutex_lock(&fs->save_lock);
  fs_lock(fs);
  fs_wait_check(fs);
}

void fs_unlock_write(struct fs *fs) {
  fs_unlock(fs);
  pthread_mutex_unlock(&fs->save_lock);
}
