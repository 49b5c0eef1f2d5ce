/* SPDX-License-Identifier: MIT */
/* tombs.c: managed names gone until made again or until their grace
 * passes, and the one timer thread of the mount. */
#include "tombs.h"
#include "cache.h"
#include "sync.h"
#include "util.h"

#include <string.h>
#include <time.h>

/* The link that points at the tomb of name in dir, or NULL. */
static struct tomb **tomb_link(struct fs *fs, fuse_ino_t dir,
                               const char *name) {
  for (struct tomb **t = &fs->tombs; *t; t = &(*t)->next)
    if ((*t)->dir == dir && strcmp((*t)->name, name) == 0)
      return t;
  return NULL;
}

struct tomb *tomb_find(struct fs *fs, fuse_ino_t dir, const char *name) {
  struct tomb **p = tomb_link(fs, dir, name);
  return p ? *p : NULL;
}

void tomb_free(struct tomb *t) {
  free(t->name);
  vnode_release(&t->v);
  content_unref(t->served);
  free(t);
}

struct tomb *tomb_take(struct fs *fs, fuse_ino_t dir, const char *name) {
  struct tomb **p = tomb_link(fs, dir, name);
  if (!p)
    return NULL;
  struct tomb *t = *p;
  *p = t->next;
  return t;
}

void tomb_add(struct fs *fs, fuse_ino_t dir, const char *name,
              const struct vnode *v, struct content *served, bool unlinked) {
  struct tomb *old = tomb_take(fs, dir, name);
  if (old)
    tomb_free(old);
  struct tomb *t = xcalloc(1, sizeof *t);
  t->dir = dir;
  t->name = xstrdup(name);
  vnode_init(&t->v);
  vnode_copy(&t->v, v);
  t->expires_ns = time_mono_ns() + (int64_t)(fs->opt.grace * 1e9);
  t->served = content_ref(served);
  t->unlinked = unlinked;
  t->next = fs->tombs;
  fs->tombs = t;
  pthread_cond_signal(&fs->wake);
}

/* The grace passed: a group or task file that did not come back means
 * its record is deleted (softly); other files simply reappear. */
static void tomb_expire(struct fs *fs, struct tomb *t) {
  if ((t->v.kind == VK_CONFLICT_MD || t->v.kind == VK_GROUP_MD ||
       t->v.kind == VK_TASK_MD) &&
      fs_may_change(fs, "removal of", &t->v)) {
    mount_changed(fs->mount); /* the name comes back: nothing was changed */
    return;
  }
  if (t->v.kind == VK_CONFLICT_MD) {
    /* A conflict file removed: the database's versions stay. */
    struct vnode f;
    vnode_init(&f);
    vnode_copy(&f, &t->v);
    f.kind = t->v.target;
    if (sync_keep_db(fs_store(fs), &f))
      fuse_log(FUSE_LOG_ERR, "taskfs: resolving conflicts: %s\n",
               store_errmsg(fs_store(fs)));
    vnode_release(&f);
    mount_changed(fs->mount);
    return;
  }
  if (t->v.kind != VK_GROUP_MD && t->v.kind != VK_TASK_MD)
    return;
  struct buf label = BUF_INIT;
  fs_label(fs, &t->v, &label);
  int rc = sync_delete(fs_store(fs), &t->v);
  if (rc && rc != ENG_NOTFOUND)
    fuse_log(FUSE_LOG_ERR, "taskfs: delete %s: %s\n", label.ptr,
             store_errmsg(fs_store(fs)));
  else
    fuse_log(FUSE_LOG_INFO,
             "taskfs: %s removed: %s deleted (restorable "
             "with taskctl)\n",
             label.ptr, t->v.kind == VK_GROUP_MD ? "group" : "task");
  buf_release(&label);
  mount_changed(fs->mount);
}

static void *timer_main(void *arg) {
  struct fs *fs = arg;
  fs_lock(fs);
  while (!fs->stopping) {
    int64_t now = time_mono_ns(), next = INT64_MAX;
    for (struct tomb **p = &fs->tombs; *p;) {
      struct tomb *t = *p;
      if (t->expires_ns <= now) {
        *p = t->next;
        tomb_expire(fs, t);
        tomb_free(t);
        continue;
      }
      if (t->expires_ns < next)
        next = t->expires_ns;
      p = &t->next;
    }
    /* Renders wait at most 2 s for the sync log. */
    if (mount_syncops_pending(fs->mount))
      mount_syncops_flush(fs->mount);
    if (mount_syncops_pending(fs->mount) || next - now > 2000000000)
      next = now + 2000000000;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    int64_t wait = next == INT64_MAX ? 3600000000000LL : next - now;
    int64_t ns = until.tv_nsec + wait % 1000000000;
    until.tv_sec += (time_t)(wait / 1000000000 + ns / 1000000000);
    until.tv_nsec = ns % 1000000000;
    pthread_cond_timedwait(&fs->wake, &fs->lock, &until);
  }
  fs_unlock(fs);
  return NULL;
}

void tombs_start(struct fs *fs) {
  pthread_cond_init(&fs->wake, NULL);
  if (pthread_create(&fs->timer, NULL, timer_main, fs))
    die("cannot start the timer thread");
}

void tombs_stop(struct fs *fs) {
  fs_lock(fs);
  fs->stopping = true;
  pthread_cond_signal(&fs->wake);
  fs_unlock(fs);
  pthread_join(fs->timer, NULL);
  fs_lock(fs);
  while (fs->tombs) {
    struct tomb *t = fs->tombs;
    fs->tombs = t->next;
    tomb_expire(fs, t);
    tomb_free(t);
  }
  fs_unlock(fs);
}
