/* SPDX-License-Identifier: MIT */
/* test_backup.c: whole-database backups (the copy, automatic backups and
 * their list), the backup before a schema upgrade and damaged databases. Works
 * on files in a temporary folder. */
#include "fixture.h"
#include "harness.h"
#include "store.h"
#include "util.h"

#include <dirent.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/taskfs-test-backup-XXXXXX";

/* A new folder for one test, so that each has its own taskfs-backups. */
static char *test_dir(const char *name) {
  char *d = xasprintf("%s/%s", tmpdir, name);
  if (mkdir(d, 0700) != 0)
    die("mkdir %s", d);
  return d;
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

/* The first column of the first row of a query, as an integer. */
static long long sql_int(const char *path, const char *query) {
  sqlite3 *db;
  sqlite3_stmt *s;
  long long v = -1;
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
    die("open %s", path);
  if (sqlite3_prepare_v2(db, query, -1, &s, NULL) == SQLITE_OK &&
      sqlite3_step(s) == SQLITE_ROW)
    v = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  sqlite3_close(db);
  return v;
}

static bool exists(const char *path) { return access(path, F_OK) == 0; }

/* Files of dir whose names contain part. */
static int count_files(const char *dir, const char *part) {
  DIR *d = opendir(dir);
  int n = 0;
  struct dirent *de;
  if (!d)
    return 0;
  while ((de = readdir(d)))
    if (strstr(de->d_name, part))
      n++;
  closedir(d);
  return n;
}

static void must(int rc, struct store *st, const char *what) {
  if (rc)
    die("%s: %s", what, store_errmsg(st));
}

static void set_task(struct store *st, const char *id, int progress,
                     const char *title) {
  struct task t;
  task_init(&t);
  must(store_task_get(st, id, &t), st, id);
  t.progress = progress;
  if (title)
    str_set(&t.title, title);
  must(store_task_update(st, &t), st, id);
  task_release(&t);
}

/* ---- the copy ---- */

static void test_copy(void) {
  char *dir = test_dir("copy");
  char *db = xasprintf("%s/tasks.db", dir);
  char *bk = xasprintf("%s/copy.db", dir);
  struct store *st = fixture_open_at(db);

  int64_t rev = 0;
  RC_OK(store_dbbackup_write(st, bk, 0, &rev), st);
  INT_EQ(rev, store_revision(st));
  /* One file in rollback-journal mode, with the data. */
  char head[20];
  int fd = open(bk, O_RDONLY);
  OK(fd >= 0 && read(fd, head, sizeof head) == sizeof head, "read header");
  close(fd);
  INT_EQ(head[18], 1);
  INT_EQ(head[19], 1);
  INT_EQ(sql_int(bk, "SELECT count(*) FROM tasks"), 5);
  INT_EQ(sql_int(bk, "SELECT rev FROM revision"), rev);

  /* An existing file is kept unless forced. */
  set_task(st, "t2", 70, NULL);
  INT_EQ(store_dbbackup_write(st, bk, 0, &rev), ENG_EXISTS);
  OK(strstr(store_errmsg(st), "exists") != NULL, "%s", store_errmsg(st));
  INT_EQ(sql_int(bk, "SELECT progress FROM tasks WHERE id = 't2'"), 60);
  RC_OK(store_dbbackup_write(st, bk, STORE_DBBACKUP_FORCE, &rev), st);
  INT_EQ(sql_int(bk, "SELECT progress FROM tasks WHERE id = 't2'"), 70);

  /* Never onto the database itself, even forced. */
  INT_EQ(store_dbbackup_write(st, db, STORE_DBBACKUP_FORCE, NULL), ENG_INVALID);
  /* A missing folder: nothing is left anywhere. */
  char *nowhere = xasprintf("%s/missing/copy.db", dir);
  INT_EQ(store_dbbackup_write(st, nowhere, 0, NULL), ENG_NOTFOUND);
  INT_EQ(count_files(dir, ".tmp-"), 0);

  /* Inside a write transaction the copy is the last commit. */
  int64_t before = store_revision(st);
  char *in_tx = xasprintf("%s/in-tx.db", dir);
  RC_OK(store_begin(st), st);
  set_task(st, "t2", 80, NULL);
  RC_OK(store_dbbackup_write(st, in_tx, 0, &rev), st);
  RC_OK(store_commit(st), st);
  INT_EQ(rev, before);
  INT_EQ(sql_int(in_tx, "SELECT progress FROM tasks WHERE id = 't2'"), 70);

  /* Inside a read snapshot the copy is that snapshot. */
  char *in_read = xasprintf("%s/in-read.db", dir);
  RC_OK(store_read_begin(st), st);
  RC_OK(store_dbbackup_write(st, in_read, 0, &rev), st);
  store_read_end(st);
  INT_EQ(rev, store_revision(st));
  INT_EQ(count_files(dir, ".tmp-"), 0);

  store_close(st);
  free(in_read);
  free(in_tx);
  free(nowhere);
  free(bk);
  free(db);
  free(dir);
}

/* ---- automatic backups and their list ---- */

static void touch(const char *dir, const char *name) {
  char *p = xasprintf("%s/%s", dir, name);
  FILE *f = fopen(p, "w");
  if (!f)
    die("create %s", p);
  fputs("x", f);
  fclose(f);
  free(p);
}

static void test_auto_and_list(void) {
  char *dir = test_dir("auto");
  char *db = xasprintf("%s/tasks.db", dir);
  struct store *st = fixture_open_at(db);
  char *bdir = store_dbbackup_dir(db);
  char *want = xasprintf("%s/taskfs-backups", dir);
  STR_EQ(bdir, want);
  free(want);
  OK(!exists(bdir), "no folder before the first automatic backup");

  char *p1 = NULL, *p2 = NULL;
  RC_OK(store_dbbackup_auto(st, "before-restore", &p1), st);
  RC_OK(store_dbbackup_auto(st, "before-restore", &p2), st);
  struct stat sb;
  OK(stat(bdir, &sb) == 0 && (sb.st_mode & 0777) == 0700, "folder is 0700");
  OK(p1 && p2 && strcmp(p1, p2) != 0, "two names");
  OK(str_ends(p1, "-before-restore.db"), "%s", p1);
  OK(p2 && strstr(p2, "-before-restore") != NULL, "%s", p2);
  INT_EQ(sql_int(p1, "SELECT count(*) FROM tasks"), 5);

  /* Other files of the folder are not listed; names are read back. */
  touch(bdir, "tasks.db-20200101-120000-before-schema-2-to-3.db");
  touch(bdir, "tasks.db-20200101-120000-before-schema-2-to-3-2.db");
  touch(bdir, "tasks.db-20200101-120000-before-restore.db.tmp-abcdef");
  touch(bdir, "other.db-20200101-120000-before-restore.db");
  touch(bdir, "tasks.db-notatime-before-restore.db");
  touch(bdir, "tasks.db-20190101-000000-by-hand.db");
  struct dbbackup *v;
  size_t n;
  RC_OK(store_dbbackup_list(db, &v, &n), NULL);
  INT_EQ(n, 5);
  if (n == 5) {
    /* Newest first; the same second by the number after the reason. */
    OK(v[0].time_ns >= v[1].time_ns, "newest first");
    STR_EQ(v[2].reason, "before-schema-2-to-3");
    INT_EQ(v[2].seq, 2);
    STR_EQ(v[3].reason, "before-schema-2-to-3");
    INT_EQ(v[3].seq, 1);
    INT_EQ(v[3].time_ns, 1577880000LL * 1000000000);
    INT_EQ(v[3].size, 1);
    STR_EQ(v[4].reason, "by-hand");
    STR_EQ(v[0].reason, "before-restore");
    OK(strcmp(v[0].path, p2) == 0 || strcmp(v[0].path, p1) == 0, "%s",
       v[0].path);
  }
  store_dbbackups_free(v, n);

  struct buf json = BUF_INIT;
  RC_OK(store_dbbackup_list_json(db, &json), NULL);
  OK(json.ptr[0] == '[' && strstr(json.ptr, "\"reason\":\"by-hand\"") &&
         strstr(json.ptr, "\"time\":\"2020-01-01 12:00:00\""),
     "%s", json.ptr);
  buf_release(&json);

  /* A database without a folder has none. */
  char *elsewhere = xasprintf("%s/sub/tasks.db", dir);
  RC_OK(store_dbbackup_list(elsewhere, &v, &n), NULL);
  INT_EQ(n, 0);
  store_dbbackups_free(v, n);

  /* In memory there is nothing to back up. */
  struct store *mem = fixture_open();
  char *p3 = NULL;
  INT_EQ(store_dbbackup_auto(mem, "before-restore", &p3), ENG_INVALID);
  OK(p3 == NULL, "no path");
  store_close(mem);

  store_close(st);
  free(elsewhere);
  free(p1);
  free(p2);
  free(bdir);
  free(db);
  free(dir);
}

/* ---- schema versions ---- */

/* A database of schema version 2: the fixture, without what version 3
 * added. */
static char *old_database(const char *dir, const char *name) {
  char *db = xasprintf("%s/%s", dir, name);
  struct store *st = fixture_open_at(db);
  store_close(st);
  sql(db, "DROP TABLE sync_ops; PRAGMA user_version = 2");
  return db;
}

static void test_upgrade_backup(void) {
  char *dir = test_dir("upgrade");
  char *db = old_database(dir, "tasks.db");
  struct store *st;
  RC_OK(store_open(db, 0, &st), st);
  const char *snap = store_upgrade_backup(st);
  OK(snap && strstr(snap, "/taskfs-backups/tasks.db-") &&
         str_ends(snap, "-before-schema-2-to-3.db"),
     "%s", snap ? snap : "(null)");
  if (snap) {
    INT_EQ(sql_int(snap, "PRAGMA user_version"), 2);
    INT_EQ(sql_int(snap, "SELECT count(*) FROM sqlite_schema"
                         " WHERE name = 'sync_ops'"),
           0);
    INT_EQ(sql_int(snap, "SELECT count(*) FROM tasks"), 5);
  }
  store_close(st);
  INT_EQ(sql_int(db, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
  struct dbbackup *v;
  size_t n;
  RC_OK(store_dbbackup_list(db, &v, &n), NULL);
  INT_EQ(n, 1);
  if (n == 1)
    STR_EQ(v[0].reason, "before-schema-2-to-3");
  store_dbbackups_free(v, n);
  /* Opened again: nothing to upgrade, no new backup. */
  RC_OK(store_open(db, 0, &st), st);
  OK(store_upgrade_backup(st) == NULL, "no backup without an upgrade");
  store_close(st);

  /* A new database needs none. */
  char *fresh_dir = test_dir("fresh");
  char *fresh = xasprintf("%s/tasks.db", fresh_dir);
  RC_OK(store_open(fresh, STORE_CREATE, &st), st);
  OK(store_upgrade_backup(st) == NULL, "no backup of a new database");
  store_close(st);
  char *fresh_backups = store_dbbackup_dir(fresh);
  OK(!exists(fresh_backups), "no folder for a new database");

  /* When the backup cannot be made, nothing is upgraded. */
  char *blocked_dir = test_dir("blocked");
  char *blocked = old_database(blocked_dir, "tasks.db");
  char *bdir = store_dbbackup_dir(blocked);
  touch(blocked_dir, "taskfs-backups");
  int rc = store_open(blocked, 0, &st);
  OK(rc != ENG_OK, "open fails when the backup fails");
  OK(strstr(store_errmsg(st), "nothing was changed") &&
         strstr(store_errmsg(st), "taskfs-backups"),
     "%s", store_errmsg(st));
  store_close(st);
  INT_EQ(sql_int(blocked, "PRAGMA user_version"), 2);

  free(bdir);
  free(blocked);
  free(blocked_dir);
  free(fresh_backups);
  free(fresh);
  free(fresh_dir);
  free(db);
  free(dir);
}

/* ---- damaged databases ---- */

/* Overwrites a stretch in the middle of the file. */
static void damage(const char *path) {
  int fd = open(path, O_RDWR);
  struct stat sb;
  if (fd < 0 || fstat(fd, &sb) != 0)
    die("open %s", path);
  off_t at = (sb.st_size / 2) & ~(off_t)4095;
  char junk[4096];
  memset(junk, 0x5a, sizeof junk);
  if (pwrite(fd, junk, sizeof junk, at) != (ssize_t)sizeof junk)
    die("write %s", path);
  close(fd);
}

static void test_damaged(void) {
  char *dir = test_dir("damaged");
  char *db = xasprintf("%s/tasks.db", dir);
  char *good = xasprintf("%s/good.db", dir);
  struct store *st = fixture_open_at(db);
  /* Enough rows for a file of many pages. */
  RC_OK(store_begin(st), st);
  for (int i = 0; i < 400; i++) {
    struct task t;
    task_init(&t);
    t.group_id = xstrdup("frontend_group_001");
    t.title = xasprintf("Task number %d", i);
    t.description = xasprintf("%0400d", i);
    RC_OK(store_task_insert(st, &t), st);
    task_release(&t);
  }
  RC_OK(store_commit(st), st);
  RC_OK(store_check(st), st);
  char *auto_path = NULL;
  RC_OK(store_dbbackup_auto(st, "before-restore", &auto_path), st);
  RC_OK(store_dbbackup_write(st, good, 0, NULL), st);
  store_close(st);

  damage(db);
  int open_rc = store_open(db, 0, &st);
  int rc = open_rc == ENG_OK ? store_check(st) : open_rc;
  INT_EQ(rc, ENG_CORRUPT);
  const char *msg = store_errmsg(st);
  OK(strstr(msg, "is damaged") && auto_path && strstr(msg, auto_path) &&
         strstr(msg, "taskctl -d ") && strstr(msg, " restore "),
     "%s", msg);

  /* A backup of it is refused, and leaves no file. */
  char *copy = xasprintf("%s/copy.db", dir);
  if (open_rc == ENG_OK) {
    int brc = store_dbbackup_write(st, copy, 0, NULL);
    OK(brc == ENG_CORRUPT, "backup of a damaged database: %d %s", brc,
       store_errmsg(st));
  }
  OK(!exists(copy), "no copy");
  INT_EQ(count_files(dir, ".tmp-"), 0);
  store_close(st);

  free(copy);
  free(auto_path);
  free(good);
  free(db);
  free(dir);
}

int main(void) {
  if (!mkdtemp(tmpdir))
    die("mkdtemp");
  test_copy();
  test_auto_and_list();
  test_upgrade_backup();
  test_damaged();
  char *cmd = xasprintf("rm -rf %s", tmpdir);
  if (system(cmd) != 0)
    fprintf(stderr, "could not remove %s\n", tmpdir);
  free(cmd);
  return harness_done("backup");
}
