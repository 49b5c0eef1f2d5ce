/* SPDX-License-Identifier: MIT */
/* test_backup.c: whole-database backups (the copy, automatic backups and
 * their list), restore of records, the backup before a schema upgrade and
 * damaged databases. Works on files in a temporary folder. */
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

static void set_group_name(struct store *st, const char *id, const char *name) {
  struct group g;
  group_init(&g);
  must(store_group_get(st, id, &g), st, id);
  str_set(&g.name, name);
  must(store_group_update(st, &g), st, id);
  group_release(&g);
}

static void add_section(struct store *st, int kind, const char *owner,
                        const char *key, const char *body) {
  struct section x;
  section_init(&x);
  x.owner_kind = kind;
  x.owner_id = xstrdup(owner);
  x.key = xstrdup(key);
  x.heading = xasprintf("## %s", key);
  x.body = xstrdup(body);
  x.position = 1;
  must(store_section_insert(st, &x), st, key);
  section_release(&x);
}

/* Checks that live holds the records of backup: each with the same
 * versioned fields, and every other record of live deleted. */
static int session_cmp(const void *a, const void *b) {
  return strcmp(((const struct session *)a)->id,
                ((const struct session *)b)->id);
}
static int group_cmp(const void *a, const void *b) {
  return strcmp(((const struct group *)a)->id, ((const struct group *)b)->id);
}
static int task_cmp(const void *a, const void *b) {
  return strcmp(((const struct task *)a)->id, ((const struct task *)b)->id);
}

static void same_records(struct store *live, struct store *backup) {
  struct session *sl, *sb;
  size_t nl, nb;
  RC_OK(store_session_list(live, true, &sl, &nl), live);
  RC_OK(store_session_list(backup, true, &sb, &nb), backup);
  xsort(sl, nl, sizeof *sl, session_cmp);
  for (size_t i = 0; i < nb; i++) {
    struct session *l = xsearch(&sb[i], sl, nl, sizeof *sl, session_cmp);
    OK(l != NULL, "session %s restored", sb[i].id);
    for (int f = 0; l && f < SF_COUNT; f++)
      OK(session_field_eq(l, &sb[i], f), "session %s field %s", sb[i].id,
         record_kinds[RK_SESSION].fields[f].name);
  }
  for (size_t i = 0; i < nl; i++) {
    if (!xsearch(&sl[i], sb, nb, sizeof *sb, session_cmp))
      OK(sl[i].deleted, "session %s not in the backup is deleted", sl[i].id);
    struct group *gl, *gb = NULL;
    size_t ml, mb = 0;
    RC_OK(store_group_list(live, sl[i].id, true, &gl, &ml), live);
    store_group_list(backup, sl[i].id, true, &gb, &mb);
    xsort(gb, mb, sizeof *gb, group_cmp);
    for (size_t j = 0; j < ml; j++) {
      struct group *b = xsearch(&gl[j], gb, mb, sizeof *gb, group_cmp);
      if (!b) {
        OK(gl[j].deleted, "group %s not in the backup is deleted", gl[j].id);
        continue;
      }
      for (int f = 0; f < GF_COUNT; f++)
        OK(group_field_eq(&gl[j], b, f), "group %s field %s", gl[j].id,
           record_kinds[RK_GROUP].fields[f].name);
    }
    INT_EQ(ml >= mb, 1);
    store_groups_free(gl, ml);
    store_groups_free(gb, mb);
  }
  xsort(sb, nb, sizeof *sb, session_cmp);
  store_sessions_free(sl, nl);
  store_sessions_free(sb, nb);

  struct task *tl, *tb;
  RC_OK(store_task_list(live, NULL, -1, NULL, true, &tl, &nl), live);
  RC_OK(store_task_list(backup, NULL, -1, NULL, true, &tb, &nb), backup);
  xsort(tl, nl, sizeof *tl, task_cmp);
  xsort(tb, nb, sizeof *tb, task_cmp);
  for (size_t i = 0; i < nb; i++) {
    struct task *l = xsearch(&tb[i], tl, nl, sizeof *tl, task_cmp);
    OK(l != NULL, "task %s restored", tb[i].id);
    for (int f = 0; l && f < TF_COUNT; f++)
      OK(task_field_eq(l, &tb[i], f), "task %s field %s", tb[i].id,
         record_kinds[RK_TASK].fields[f].name);
    if (l)
      STR_EQ(l->created_at, tb[i].created_at);
  }
  for (size_t i = 0; i < nl; i++)
    if (!xsearch(&tl[i], tb, nb, sizeof *tb, task_cmp))
      OK(tl[i].deleted, "task %s not in the backup is deleted", tl[i].id);
  store_tasks_free(tl, nl);
  store_tasks_free(tb, nb);

  /* Live sections by owner and key: row ids may differ where the
   * backup's id was taken here by another record. */
  struct section *xl, *xb;
  RC_OK(store_section_list_all(live, &xl, &nl), live);
  RC_OK(store_section_list_all(backup, &xb, &nb), backup);
  size_t live_l = 0, live_b = 0;
  for (size_t i = 0; i < nb; i++) {
    if (xb[i].deleted)
      continue;
    live_b++;
    bool found = false;
    for (size_t j = 0; j < nl && !found; j++)
      found = !xl[j].deleted && xl[j].owner_kind == xb[i].owner_kind &&
              str_eq(xl[j].owner_id, xb[i].owner_id) &&
              str_eq(xl[j].key, xb[i].key) &&
              str_eq(xl[j].heading, xb[i].heading) &&
              str_eq(xl[j].body, xb[i].body) &&
              xl[j].position == xb[i].position;
    OK(found, "section %s of %s restored", xb[i].key, xb[i].owner_id);
  }
  for (size_t j = 0; j < nl; j++)
    live_l += !xl[j].deleted;
  INT_EQ(live_l, live_b);
  store_sections_free(xl, nl);
  store_sections_free(xb, nb);
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

/* ---- restore ---- */

static void test_round_trip(void) {
  char *dir = test_dir("round");
  char *db = xasprintf("%s/tasks.db", dir);
  char *bk = xasprintf("%s/backup.db", dir);
  struct store *st = fixture_open_at(db);
  add_section(st, OWNER_TASK, "t1", "notes", "Keep this.");
  int64_t at_backup = 0;
  RC_OK(store_dbbackup_write(st, bk, 0, &at_backup), st);

  /* Changes after the backup, of every kind. */
  RC_OK(store_begin(st), st);
  set_task(st, "t2", 95, "Build the whole layout");
  set_group_name(st, "backend_group_001", "server");
  struct task t;
  task_init(&t);
  t.group_id = xstrdup("frontend_group_001");
  t.id = xstrdup("t9");
  t.title = xstrdup("Added later");
  RC_OK(store_task_insert(st, &t), st);
  task_release(&t);
  struct section x;
  section_init(&x);
  RC_OK(store_section_get(st, OWNER_TASK, "t1", "notes", &x), st);
  str_set(&x.body, "Changed.");
  RC_OK(store_section_update(st, &x), st);
  section_release(&x);
  RC_OK(store_commit(st), st);
  /* A draft and a memo: a user's, and not versioned. */
  struct draft d = {.kind = "group",
                    .record = "frontend_group_001",
                    .text = "held text",
                    .len = 9,
                    .diagnostics = "1: bad"};
  RC_OK(store_draft_put(st, &d), st);
  int64_t before = store_revision(st);

  struct store *from;
  RC_OK(store_open(bk, STORE_BACKUP_FILE, &from), from);
  char *snap = NULL;
  struct store_restore_stats stats;
  RC_OK(store_restore(st, from, &snap, &stats), st);
  INT_EQ(stats.from_rev, at_backup);
  OK(stats.rev > before, "revision moved forward: %lld > %lld",
     (long long)stats.rev, (long long)before);
  INT_EQ(stats.rev, store_revision(st));
  INT_EQ(stats.changed, 3); /* t2, the group, the section */
  INT_EQ(stats.deleted, 1); /* t9 */
  INT_EQ(stats.inserted, 0);
  same_records(st, from);

  /* t9 is deleted softly, and can be brought back. */
  task_init(&t);
  RC_OK(store_task_get(st, "t9", &t), st);
  OK(t.deleted, "t9 deleted");
  task_release(&t);

  /* The history has the restored values, from "restore". */
  struct change *ch;
  size_t n;
  RC_OK(store_changes_since(st, before, NULL, 0, &ch, &n), st);
  OK(n >= 5, "%zu changes", n);
  bool progress = false, name = false;
  for (size_t i = 0; i < n; i++) {
    STR_EQ(ch[i].source, "restore");
    if (str_eq(ch[i].record, "t2") && str_eq(ch[i].field, "progress")) {
      progress = true;
      STR_EQ(ch[i].old_value, "95");
      STR_EQ(ch[i].new_value, "60");
    }
    if (str_eq(ch[i].record, "backend_group_001") &&
        str_eq(ch[i].field, "name")) {
      name = true;
      STR_EQ(ch[i].new_value, "backend");
    }
  }
  OK(progress && name, "progress and name restored in the history");
  store_changes_free(ch, n);

  /* The state replaced is kept as an automatic backup. */
  OK(snap && strstr(snap, "/taskfs-backups/tasks.db-") &&
         str_ends(snap, "-before-restore.db"),
     "%s", snap ? snap : "(null)");
  if (snap) {
    INT_EQ(sql_int(snap, "SELECT progress FROM tasks WHERE id = 't2'"), 95);
    INT_EQ(sql_int(snap, "SELECT rev FROM revision"), before);
  }
  /* The draft is still there. */
  struct draft got;
  memset(&got, 0, sizeof got);
  RC_OK(store_draft_get(st, "group", "frontend_group_001", &got), st);
  store_draft_release(&got);

  /* Restoring the same backup again changes nothing. */
  free(snap);
  int64_t again = store_revision(st);
  RC_OK(store_restore(st, from, &snap, &stats), st);
  INT_EQ(store_revision(st), again);
  INT_EQ(stats.changed + stats.inserted + stats.deleted, 0);

  free(snap);
  store_close(from);
  store_close(st);
  free(bk);
  free(db);
  free(dir);
}

static void test_swapped_names(void) {
  char *dir = test_dir("swap");
  char *db = xasprintf("%s/tasks.db", dir);
  char *bk = xasprintf("%s/backup.db", dir);
  struct store *st = fixture_open_at(db);
  add_section(st, OWNER_GROUP, "frontend_group_001", "notes", "N");
  add_section(st, OWNER_GROUP, "frontend_group_001", "risks", "R");
  RC_OK(store_dbbackup_write(st, bk, 0, NULL), st);

  /* Swap the two group names and the two section keys through a
   * temporary name, and rename one chain: a third group takes a name a
   * renamed group gives up. */
  RC_OK(store_begin(st), st);
  set_group_name(st, "frontend_group_001", "tmp");
  set_group_name(st, "backend_group_001", "frontend");
  set_group_name(st, "frontend_group_001", "backend");
  struct section *xs;
  size_t nx;
  RC_OK(store_section_list(st, OWNER_GROUP, "frontend_group_001", false, &xs,
                           &nx),
        st);
  INT_EQ(nx, 2);
  str_set(&xs[0].key, "tmp");
  RC_OK(store_section_update(st, &xs[0]), st);
  str_set(&xs[1].key, "notes");
  RC_OK(store_section_update(st, &xs[1]), st);
  str_set(&xs[0].key, "risks");
  RC_OK(store_section_update(st, &xs[0]), st);
  store_sections_free(xs, nx);
  RC_OK(store_commit(st), st);
  int64_t before = store_revision(st);

  struct store *from;
  RC_OK(store_open(bk, STORE_BACKUP_FILE, &from), from);
  char *snap = NULL;
  struct store_restore_stats stats;
  RC_OK(store_restore(st, from, &snap, &stats), st);
  same_records(st, from);
  INT_EQ(stats.changed, 4);

  /* Each record went from its old name to its new one: no temporary
   * name in the history. */
  struct change *ch;
  size_t n;
  RC_OK(store_changes_since(st, before, NULL, 0, &ch, &n), st);
  int names = 0, keys = 0;
  for (size_t i = 0; i < n; i++) {
    if (str_eq(ch[i].field, "name")) {
      names++;
      if (str_eq(ch[i].record, "frontend_group_001")) {
        STR_EQ(ch[i].old_value, "backend");
        STR_EQ(ch[i].new_value, "frontend");
      } else {
        STR_EQ(ch[i].old_value, "frontend");
        STR_EQ(ch[i].new_value, "backend");
      }
    }
    if (str_eq(ch[i].field, "key")) {
      keys++;
      OK(!str_eq(ch[i].new_value, "tmp") && !str_eq(ch[i].old_value, "tmp"),
         "no temporary key");
    }
  }
  INT_EQ(names, 2);
  INT_EQ(keys, 2);
  INT_EQ(n, 4);
  store_changes_free(ch, n);
  /* The unique indexes are back. */
  INT_EQ(sql_int(db, "SELECT count(*) FROM sqlite_schema WHERE name IN"
                     " ('task_groups_name', 'sections_key')"),
         2);
  free(snap);
  store_close(from);

  /* A chain: a new group takes "backend" once backend_group_001 is
   * "server"; restoring writes the chain in the order that works. */
  char *bk2 = xasprintf("%s/backup2.db", dir);
  RC_OK(store_begin(st), st);
  set_group_name(st, "backend_group_001", "server");
  struct group g;
  group_init(&g);
  g.session_id = xstrdup("s1");
  g.name = xstrdup("backend");
  g.id = xstrdup("new_group");
  RC_OK(store_group_insert(st, &g), st);
  group_release(&g);
  RC_OK(store_commit(st), st);
  RC_OK(store_dbbackup_write(st, bk2, 0, NULL), st);
  /* ... and back, then restore the chain. */
  RC_OK(store_begin(st), st);
  group_init(&g);
  RC_OK(store_group_get(st, "new_group", &g), st);
  g.deleted = true;
  RC_OK(store_group_update(st, &g), st);
  group_release(&g);
  set_group_name(st, "backend_group_001", "backend");
  RC_OK(store_commit(st), st);
  before = store_revision(st);
  RC_OK(store_open(bk2, STORE_BACKUP_FILE, &from), from);
  RC_OK(store_restore(st, from, &snap, &stats), st);
  same_records(st, from);
  RC_OK(store_changes_since(st, before, NULL, 0, &ch, &n), st);
  for (size_t i = 0; i < n; i++)
    OK(!str_eq(ch[i].field, "name") ||
           str_eq(ch[i].record, "backend_group_001"),
       "only the renamed group's name changes: %s", ch[i].record);
  store_changes_free(ch, n);
  free(snap);
  store_close(from);

  store_close(st);
  free(bk2);
  free(bk);
  free(db);
  free(dir);
}

static void test_delete_and_reinsert(void) {
  char *dir = test_dir("reinsert");
  char *db = xasprintf("%s/tasks.db", dir);
  char *bk = xasprintf("%s/backup.db", dir);
  struct store *st = fixture_open_at(db);
  add_section(st, OWNER_TASK, "t3", "notes", "Three's notes.");
  RC_OK(store_dbbackup_write(st, bk, 0, NULL), st);
  store_close(st);

  /* Records removed by plain SQL, and records added after the backup. */
  sql(db, "DELETE FROM sections WHERE owner_id = 't3';"
          " DELETE FROM tasks WHERE id = 't3';"
          " DELETE FROM tasks WHERE group_id = 'backend_group_001';"
          " DELETE FROM task_groups WHERE id = 'backend_group_001';");
  RC_OK(store_open(db, 0, &st), st);
  struct session s;
  session_init(&s);
  s.id = xstrdup("s2");
  s.title = xstrdup("Later");
  RC_OK(store_begin(st), st);
  RC_OK(store_session_insert(st, &s), st);
  session_release(&s);
  add_section(st, OWNER_SESSION, "s2", "notes/decisions", "Later notes.");
  RC_OK(store_commit(st), st);
  int64_t before = store_revision(st);

  struct store *from;
  RC_OK(store_open(bk, STORE_BACKUP_FILE, &from), from);
  char *snap = NULL;
  struct store_restore_stats stats;
  RC_OK(store_restore(st, from, &snap, &stats), st);
  OK(stats.rev > before, "revision moved forward");
  /* t3, its section, the backend group and t5 come back with their ids;
   * s2 and its section are deleted softly. */
  INT_EQ(stats.inserted, 4);
  INT_EQ(stats.deleted, 2);
  struct task t;
  task_init(&t);
  RC_OK(store_task_get(st, "t3", &t), st);
  STR_EQ(t.title, "Charts");
  OK(!t.deleted, "t3 live");
  task_release(&t);
  session_init(&s);
  RC_OK(store_session_get(st, "s2", &s), st);
  OK(s.deleted, "s2 deleted softly");
  session_release(&s);
  /* SQLite gave the id of t3's section, removed, to s2's: that one is
   * another record, deleted, and t3's comes back with a new id. */
  struct section x;
  section_init(&x);
  RC_OK(store_section_get(st, OWNER_TASK, "t3", "notes", &x), st);
  STR_EQ(x.body, "Three's notes.");
  int64_t old_id = sql_int(bk, "SELECT id FROM sections WHERE owner_id = 't3'");
  OK(x.id != old_id, "a new id: %lld", (long long)x.id);
  section_release(&x);
  INT_EQ(sql_int(db, "SELECT deleted FROM sections WHERE owner_id = 's2'"), 1);
  INT_EQ(sql_int(db, "SELECT id FROM sections WHERE owner_id = 's2'"), old_id);

  /* The inserts are in the history, from "restore". */
  struct change *ch;
  size_t n;
  RC_OK(store_changes_since(st, before, NULL, 0, &ch, &n), st);
  int inserts = 0;
  for (size_t i = 0; i < n; i++) {
    STR_EQ(ch[i].source, "restore");
    inserts += str_eq(ch[i].op, "insert");
  }
  INT_EQ(inserts, 4);
  store_changes_free(ch, n);
  same_records(st, from);

  free(snap);
  store_close(from);
  store_close(st);
  free(bk);
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

static void test_backup_file_checks(void) {
  char *dir = test_dir("checks");
  struct store *from;
  char *missing = xasprintf("%s/missing.db", dir);
  INT_EQ(store_open(missing, STORE_BACKUP_FILE, &from), ENG_NOTFOUND);
  OK(strstr(store_errmsg(from), "no backup file") != NULL, "%s",
     store_errmsg(from));
  store_close(from);
  OK(!exists(missing), "nothing created");

  touch(dir, "text.db");
  char *text = xasprintf("%s/text.db", dir);
  INT_EQ(store_open(text, STORE_BACKUP_FILE, &from), ENG_SCHEMA);
  store_close(from);

  char *other = xasprintf("%s/other.db", dir);
  sql(other, "CREATE TABLE t (x)");
  INT_EQ(store_open(other, STORE_BACKUP_FILE, &from), ENG_SCHEMA);
  OK(strstr(store_errmsg(from), "not a taskfs") != NULL, "%s",
     store_errmsg(from));
  store_close(from);

  char *newer = old_database(dir, "newer.db");
  sql(newer, "PRAGMA user_version = 99");
  INT_EQ(store_open(newer, STORE_BACKUP_FILE, &from), ENG_SCHEMA);
  OK(strstr(store_errmsg(from), "newer") != NULL, "%s", store_errmsg(from));
  store_close(from);

  /* An older schema is read through an upgraded copy in memory; the file
   * stays as it is, and nothing is saved beside it. */
  char *older = old_database(dir, "older.db");
  RC_OK(store_open(older, STORE_BACKUP_FILE, &from), from);
  INT_EQ(store_revision(from),
         sql_int(older, "SELECT rev FROM revision WHERE id = 1"));
  char *live = xasprintf("%s/live.db", dir);
  char *cmd = xasprintf("cp %s %s", older, live);
  if (system(cmd) != 0)
    die("cp");
  free(cmd);
  struct store *st;
  RC_OK(store_open(live, 0, &st), st);
  set_task(st, "t1", 50, NULL);
  char *snap = NULL;
  struct store_restore_stats stats;
  RC_OK(store_restore(st, from, &snap, &stats), st);
  INT_EQ(stats.changed, 1);
  same_records(st, from);
  free(snap);
  store_close(st);
  store_close(from);
  INT_EQ(sql_int(older, "PRAGMA user_version"), 2);
  char *bdir = store_dbbackup_dir(older);
  INT_EQ(count_files(bdir, "older.db"), 0);
  free(bdir);

  /* A group that moved to another session cannot be restored. */
  char *moved = xasprintf("%s/moved.db", dir);
  st = fixture_open_at(moved);
  char *bk = xasprintf("%s/moved-backup.db", dir);
  RC_OK(store_dbbackup_write(st, bk, 0, NULL), st);
  store_close(st);
  sql(moved, "INSERT INTO sessions (id, title) VALUES ('s9', 'Other');"
             " UPDATE task_groups SET session_id = 's9'"
             " WHERE id = 'backend_group_001';"
             " UPDATE tasks SET session_id = 's9' WHERE id = 't5'");
  RC_OK(store_open(moved, 0, &st), st);
  int64_t before = store_revision(st);
  RC_OK(store_open(bk, STORE_BACKUP_FILE, &from), from);
  INT_EQ(store_restore(st, from, &snap, &stats), ENG_INVALID);
  OK(strstr(store_errmsg(st), "backend_group_001") != NULL, "%s",
     store_errmsg(st));
  INT_EQ(store_revision(st), before);
  free(snap);
  store_close(from);
  store_close(st);

  free(bk);
  free(moved);
  free(live);
  free(older);
  free(newer);
  free(other);
  free(text);
  free(missing);
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

  /* Damaged as a backup file too. */
  char *bad_backup = xasprintf("%s/bad-backup.db", dir);
  char *cmd = xasprintf("cp %s %s", db, bad_backup);
  if (system(cmd) != 0)
    die("cp");
  free(cmd);
  struct store *from;
  INT_EQ(store_open(bad_backup, STORE_BACKUP_FILE, &from), ENG_CORRUPT);
  OK(strstr(store_errmsg(from), "backup") != NULL, "%s", store_errmsg(from));
  store_close(from);

  /* The damaged file goes aside with its -wal, the backup takes its
   * place. */
  touch(dir, "tasks.db-wal");
  RC_OK(store_open(good, STORE_BACKUP_FILE, &from), from);
  struct strlist moved = {0};
  RC_OK(store_dbbackup_install(from, db, &moved), from);
  INT_EQ(moved.n, 2);
  if (moved.n == 2) {
    OK(strstr(moved.v[0], "/tasks.db.damaged-") && exists(moved.v[0]), "%s",
       moved.v[0]);
    OK(str_ends(moved.v[1], "-wal") && exists(moved.v[1]), "%s", moved.v[1]);
  }
  char *wal = xasprintf("%s-wal", db);
  OK(!exists(wal), "the -wal file went aside too");
  free(wal);
  store_close(from);
  RC_OK(store_open(db, 0, &st), st);
  RC_OK(store_check(st), st);
  INT_EQ(sql_int(db, "SELECT count(*) FROM tasks"), 405);
  store_close(st);

  /* A missing database: nothing to move, the copy is put in place. */
  char *gone = xasprintf("%s/gone.db", dir);
  RC_OK(store_open(good, STORE_BACKUP_FILE, &from), from);
  struct strlist none = {0};
  RC_OK(store_dbbackup_install(from, gone, &none), from);
  INT_EQ(none.n, 0);
  /* ... and never over a file that appeared. */
  INT_EQ(store_dbbackup_install(from, good, &none), ENG_INVALID);
  store_close(from);
  RC_OK(store_open(gone, 0, &st), st);
  RC_OK(store_check(st), st);
  store_close(st);

  strlist_clear(&moved);
  strlist_clear(&none);
  free(gone);
  free(bad_backup);
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
  test_round_trip();
  test_swapped_names();
  test_delete_and_reinsert();
  test_upgrade_backup();
  test_backup_file_checks();
  test_damaged();
  char *cmd = xasprintf("rm -rf %s", tmpdir);
  if (system(cmd) != 0)
    fprintf(stderr, "could not remove %s\n", tmpdir);
  free(cmd);
  return harness_done("backup");
}
