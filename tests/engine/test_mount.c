/* SPDX-License-Identifier: MIT */
/* test_mount.c: the engine side of a mount: opening, commits by another
 * connection, a newer schema, the file deleted, replaced and unusable,
 * the write rules, saves and the batched sync log. */
#include "fixture.h"
#include "harness.h"
#include "mount.h"
#include "store.h"
#include "sync.h"
#include "util.h"
#include "view.h"

#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/taskfs-test-mount-XXXXXX";

static char *tmp_path(const char *name) {
  return xasprintf("%s/%s", tmpdir, name);
}

static void sql(const char *path, const char *stmt) {
  sqlite3 *db;
  if (sqlite3_open(path, &db) != SQLITE_OK)
    die("open %s", path);
  char *err = NULL;
  if (sqlite3_exec(db, stmt, NULL, NULL, &err) != SQLITE_OK)
    die("sql %s: %s", stmt, err);
  sqlite3_close(db);
}

/* A fixture database at a new path of the temporary folder. */
static char *fixture_file(const char *name) {
  char *path = tmp_path(name);
  store_close(fixture_open_at(path));
  return path;
}

static void remove_db(const char *path) {
  const char *suffix[] = {"", "-wal", "-shm"};
  for (int i = 0; i < 3; i++) {
    char *p = xasprintf("%s%s", path, suffix[i]);
    unlink(p);
    free(p);
  }
}

/* Past the 100 ms between looks at the database file. */
static void after_check_interval(void) { usleep(120 * 1000); }

static struct vnode group_file(const char *id) {
  struct vnode v;
  vnode_init(&v);
  v.kind = VK_GROUP_MD;
  v.session = xstrdup("s1");
  v.record = xstrdup(id);
  return v;
}

static char *retitled(struct store *st, const struct vnode *f,
                      const char *title) {
  struct buf b = BUF_INIT;
  if (view_read(st, f, &b, NULL))
    die("read: %s", store_errmsg(st));
  const char *p = strstr(b.ptr, "\n# ");
  const char *end = p ? strchr(p + 1, '\n') : NULL;
  if (!end)
    die("no title in:\n%s", b.ptr);
  char *out = xasprintf("%.*s\n# %s%s", (int)(p - b.ptr), b.ptr, title, end);
  buf_release(&b);
  return out;
}

static int64_t logged(struct store *st, const char *type) {
  struct sync_stats s;
  if (store_sync_stats(st, NULL, &s))
    die("stats: %s", store_errmsg(st));
  return strcmp(type, "render") == 0 ? s.renders : s.saves;
}

static void test_open(void) {
  char *missing = tmp_path("missing.db");
  struct mount *m;
  INT_EQ(mount_open(missing, 1000, &m), ENG_NOTFOUND);
  OK(mount_errmsg(m)[0], "a failed open says why");
  mount_close(m);
  free(missing);

  char *path = fixture_file("open.db");
  RC_OK(mount_open(path, 1000, &m), NULL);
  OK(mount_readonly_why(m) == NULL, "opened for writing");
  STR_EQ(mount_path(m), path);
  const char *why = NULL;
  INT_EQ(mount_can_write(m, &why), ENG_OK);
  struct session s;
  session_init(&s);
  RC_OK(store_session_get(mount_store(m), "s1", &s), mount_store(m));
  session_release(&s);
  mount_close(m);
  free(path);
}

/* The check after the mount serves: nothing is written before its
 * result; a failed one makes the mount read-only. */
static void test_check_later(void) {
  char *path = fixture_file("later.db");
  struct mount *m;
  RC_OK(mount_open_unchecked(path, 1000, &m), NULL);
  OK(mount_checking(m), "the check is waited for");
  const char *why = NULL;
  INT_EQ(mount_can_write(m, &why), ENG_BUSY);
  uint64_t begun = mount_check_begin(m);
  char *msg = NULL;
  INT_EQ(mount_check_run(path, &msg), ENG_OK);
  OK(msg == NULL, "no message for a good check");
  OK(!mount_check_done(m, begun, ENG_OK), "a passed check changes nothing");
  OK(!mount_checking(m), "reported");
  INT_EQ(mount_can_write(m, &why), ENG_OK);
  mount_close(m);

  RC_OK(mount_open_unchecked(path, 1000, &m), NULL);
  begun = mount_check_begin(m);
  OK(mount_check_done(m, begun, ENG_CORRUPT), "a failed check: read-only");
  INT_EQ(mount_can_write(m, &why), ENG_READONLY);
  STR_EQ(why, "the database is damaged (PRAGMA quick_check failed)");
  mount_close(m);

  char *missing = tmp_path("gone.db");
  OK(mount_check_run(missing, &msg) != ENG_OK, "a missing file fails");
  OK(msg && msg[0], "and says why");
  free(msg);
  free(missing);
  free(path);
}

static void test_commits_by_others(void) {
  char *path = fixture_file("others.db");
  struct mount *m;
  RC_OK(mount_open(path, 1000, &m), NULL);
  mount_refresh(m);
  uint64_t gen = mount_gen(m);
  INT_EQ(mount_refresh(m), 0);
  INT_EQ(mount_gen(m), gen);

  sql(path, "UPDATE tasks SET progress = 70 WHERE id = 't2'");
  INT_EQ(mount_refresh(m), 0);
  OK(mount_gen(m) > gen, "a commit by another program moves the generation");
  gen = mount_gen(m);
  mount_changed(m);
  INT_EQ(mount_gen(m), gen + 1);

  /* A newer taskfs upgraded it: read-only, said once. */
  sql(path, "PRAGMA user_version = 99");
  INT_EQ(mount_refresh(m), MOUNT_NEWER);
  INT_EQ(mount_refresh(m), 0);
  const char *why = NULL;
  INT_EQ(mount_can_write(m, &why), ENG_READONLY);
  STR_EQ(why, "the database was upgraded by a newer taskfs");
  INT_EQ(eng_result(ENG_READONLY)->err, EROFS);
  mount_close(m);
  free(path);
}

static void test_file_deleted_replaced(void) {
  char *path = fixture_file("moved.db");
  struct mount *m;
  RC_OK(mount_open(path, 1000, &m), NULL);
  struct vnode f = group_file("frontend_group_001");
  char *text = retitled(mount_store(m), &f, "Frontend kept");
  /* A save before: the connection of saves is open on this file. */
  char *first = retitled(mount_store(m), &f, "Frontend of the old file");
  struct save_result res;
  save_result_init(&res);
  const char *why = NULL;
  RC_OK(mount_save(m, &f, first, strlen(first), NULL, &res, &why),
        mount_store(m));
  save_result_release(&res);
  free(first);

  remove_db(path);
  after_check_interval();
  INT_EQ(mount_refresh(m), MOUNT_DELETED);
  after_check_interval();
  INT_EQ(mount_refresh(m), 0);
  INT_EQ(mount_can_write(m, &why), ENG_GONE);
  INT_EQ(eng_result(ENG_GONE)->err, ESTALE);
  STR_EQ(why, "the database file was deleted or replaced by one that "
              "cannot be used");
  /* The last state is still read. */
  struct buf b = BUF_INIT;
  RC_OK(view_read(mount_store(m), &f, &b, NULL), mount_store(m));
  buf_release(&b);
  /* Nothing is tried. */
  save_result_init(&res);
  why = NULL;
  INT_EQ(mount_save(m, &f, text, strlen(text), NULL, &res, &why), ENG_GONE);
  OK(why != NULL, "a refused save says why");
  save_result_release(&res);

  /* A file that is no database at the path. */
  FILE *junk = fopen(path, "w");
  fputs("not a database\n", junk);
  fclose(junk);
  after_check_interval();
  INT_EQ(mount_refresh(m), 0); /* gone already: said once */
  unlink(path);

  /* A database back at the path: the mount follows it. */
  char *other = fixture_file("replacement.db");
  OK(rename(other, path) == 0, "rename");
  uint64_t gen = mount_gen(m);
  after_check_interval();
  INT_EQ(mount_refresh(m), MOUNT_REPLACED);
  OK(mount_gen(m) > gen, "a replacement moves the generation");
  INT_EQ(mount_can_write(m, &why), ENG_OK);
  /* The save lands in the new file, not in the one its connection had
   * open before. */
  save_result_init(&res);
  RC_OK(mount_save(m, &f, text, strlen(text), NULL, &res, &why),
        mount_store(m));
  save_result_release(&res);
  struct group g;
  group_init(&g);
  RC_OK(store_group_get(mount_store(m), "frontend_group_001", &g),
        mount_store(m));
  STR_EQ(g.title, "Frontend kept");
  group_release(&g);

  /* Replaced by a file that cannot be used. */
  remove_db(path);
  junk = fopen(path, "w");
  fputs("not a database either\n", junk);
  fclose(junk);
  after_check_interval();
  INT_EQ(mount_refresh(m), MOUNT_UNUSABLE);
  OK(mount_errmsg(m)[0], "an unusable file says why");
  INT_EQ(mount_can_write(m, &why), ENG_GONE);

  vnode_release(&f);
  free(text);
  free(other);
  mount_close(m);
  unlink(path);
  free(path);
}

static void test_save(void) {
  char *path = fixture_file("save.db");
  struct mount *m;
  RC_OK(mount_open(path, 1000, &m), NULL);
  struct vnode f = group_file("frontend_group_001");
  char *text = retitled(mount_store(m), &f, "Frontend saved");
  uint64_t gen = mount_gen(m);
  struct save_result res;
  save_result_init(&res);
  const char *why = NULL;
  RC_OK(mount_save(m, &f, text, strlen(text), NULL, &res, &why),
        mount_store(m));
  INT_EQ(res.outcome, SAVE_APPLIED);
  OK(res.changes >= 1, "the title changed");
  OK(mount_gen(m) > gen, "a save moves the generation");
  save_result_release(&res);

  /* A locked database: nothing stored, the save queued for the log. */
  mount_close(m);
  RC_OK(mount_open(path, 50, &m), NULL);
  char *again = retitled(mount_store(m), &f, "Frontend saved again");
  struct store *locker;
  RC_OK(store_open(path, 0, &locker), locker);
  RC_OK(store_begin(locker), locker);
  save_result_init(&res);
  why = NULL;
  INT_EQ(mount_save(m, &f, again, strlen(again), NULL, &res, &why), ENG_BUSY);
  OK(why && why[0], "a busy database says why");
  INT_EQ(mount_syncops_pending(m), 1);
  save_result_release(&res);
  store_rollback(locker);
  store_close(locker);
  int64_t saves = logged(mount_store(m), "save");
  mount_syncops_flush(m);
  INT_EQ(mount_syncops_pending(m), 0);
  INT_EQ(logged(mount_store(m), "save"), saves + 1);

  /* Not a group file: held with a diagnostic. */
  const char *bad = "---\ntaskfs: 1\ngroup: nope\n---\n# x\n";
  save_result_init(&res);
  INT_EQ(mount_save(m, &f, bad, strlen(bad), NULL, &res, &why), ENG_PARSE);
  INT_EQ(res.outcome, SAVE_HELD);
  save_result_release(&res);

  free(again);
  vnode_release(&f);
  free(text);
  mount_close(m);
  free(path);
}

struct apart {
  struct mount *m;
  struct save_job *job;
  const char *text;
  struct save_result res;
  int rc;
};

static void *run_apart(void *arg) {
  struct apart *a = arg;
  a->rc = mount_save_run(a->m, a->job, a->text, strlen(a->text), NULL, &a->res);
  return NULL;
}

/* A save in steps runs on a connection of its own: while it waits for a
 * database another program holds locked, the mount's store reads (the
 * last committed state), and the save lands once the lock is gone. */
static void test_save_apart(void) {
  char *path = fixture_file("apart.db");
  struct mount *m;
  RC_OK(mount_open(path, 10000, &m), NULL);
  struct vnode f = group_file("frontend_group_001");
  char *text = retitled(mount_store(m), &f, "Frontend saved apart");
  struct buf before = BUF_INIT;
  RC_OK(view_read(mount_store(m), &f, &before, NULL), mount_store(m));

  struct store *locker;
  RC_OK(store_open(path, 0, &locker), locker);
  RC_OK(store_begin(locker), locker);
  struct apart a = {.m = m, .text = text};
  save_result_init(&a.res);
  const char *why = NULL;
  RC_OK(mount_save_begin(m, &f, &a.job, &why), mount_store(m));
  pthread_t th;
  OK(pthread_create(&th, NULL, run_apart, &a) == 0, "thread");
  /* The save waits for the lock; the mount's store reads meanwhile, and
   * a render's sync log record waits for the save (no write meanwhile). */
  usleep(200 * 1000);
  for (int i = 0; i < 3; i++) {
    struct buf now = BUF_INIT;
    RC_OK(view_read(mount_store(m), &f, &now, NULL), mount_store(m));
    STR_EQ(now.ptr, before.ptr);
    buf_release(&now);
  }
  mount_syncop_queue(m, "render", &f, time_now_ns(), ENG_OK, NULL);
  mount_syncops_flush(m);
  INT_EQ(mount_syncops_pending(m), 1);
  store_rollback(locker);
  store_close(locker);
  pthread_join(th, NULL);
  RC_OK(a.rc, mount_store(m));
  uint64_t gen = mount_gen(m);
  mount_save_end(m, a.job, a.rc, &a.res, &why);
  OK(mount_gen(m) > gen, "the end of a save moves the generation");
  save_result_release(&a.res);
  struct group g;
  group_init(&g);
  RC_OK(store_group_get(mount_store(m), "frontend_group_001", &g),
        mount_store(m));
  STR_EQ(g.title, "Frontend saved apart");
  group_release(&g);
  mount_syncops_flush(m);
  INT_EQ(mount_syncops_pending(m), 0);

  buf_release(&before);
  vnode_release(&f);
  free(text);
  mount_close(m);
  free(path);
}

static void test_syncops(void) {
  char *path = fixture_file("syncops.db");
  struct mount *m;
  RC_OK(mount_open(path, 1000, &m), NULL);
  struct vnode f = group_file("frontend_group_001");
  int64_t before = logged(mount_store(m), "render");

  for (int i = 0; i < 3; i++)
    mount_syncop_queue(m, "render", &f, time_now_ns(), ENG_OK, NULL);
  INT_EQ(mount_syncops_pending(m), 3);
  INT_EQ(logged(mount_store(m), "render"), before);
  mount_syncops_flush(m);
  INT_EQ(mount_syncops_pending(m), 0);
  INT_EQ(logged(mount_store(m), "render"), before + 3);

  /* A full batch is written as it fills. */
  for (int i = 0; i < 256; i++)
    mount_syncop_queue(m, "render", &f, time_now_ns(), ENG_OK, NULL);
  INT_EQ(mount_syncops_pending(m), 0);
  INT_EQ(logged(mount_store(m), "render"), before + 3 + 256);

  /* A locked database keeps the batch for later. */
  struct store *locker;
  RC_OK(store_open(path, 0, &locker), locker);
  RC_OK(store_begin(locker), locker);
  mount_syncop_queue(m, "render", &f, time_now_ns(), ENG_OK, NULL);
  mount_syncops_flush(m);
  INT_EQ(mount_syncops_pending(m), 1);
  store_rollback(locker);
  store_close(locker);
  mount_syncops_flush(m);
  INT_EQ(mount_syncops_pending(m), 0);

  /* Inside a transaction, or while changes are refused, it is dropped. */
  mount_syncop_queue(m, "render", &f, time_now_ns(), ENG_OK, NULL);
  RC_OK(store_begin(mount_store(m)), mount_store(m));
  mount_syncops_flush(m);
  INT_EQ(mount_syncops_pending(m), 0);
  store_rollback(mount_store(m));
  mount_syncop_queue(m, "render", &f, time_now_ns(), ENG_OK, NULL);
  mount_syncops_drop(m);
  INT_EQ(mount_syncops_pending(m), 0);

  vnode_release(&f);
  mount_close(m);
  free(path);
}

int main(void) {
  if (!mkdtemp(tmpdir))
    die("mkdtemp");
  test_open();
  test_check_later();
  test_commits_by_others();
  test_file_deleted_replaced();
  test_save();
  test_save_apart();
  test_syncops();
  char *cmd = xasprintf("rm -rf %s", tmpdir);
  if (system(cmd) != 0)
    fprintf(stderr, "could not remove %s\n", tmpdir);
  free(cmd);
  return harness_done("mount");
}
