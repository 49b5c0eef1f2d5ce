/* SPDX-License-Identifier: MIT */
/* test_store.c: revisions, history, as-of reads, triggers catching plain
 * SQL, ids, lists, drafts and memos, the sync log, and the failure results
 * of open. */
#include "fixture.h"
#include "harness.h"
#include "store.h"
#include "util.h"

#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/taskfs-test-store-XXXXXX";

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

static void test_revisions(void) {
  struct store *st = fixture_open();
  int64_t r0 = store_revision(st);
  OK(r0 >= 8, "fixture makes at least 8 revisions, got %lld", (long long)r0);

  struct task t;
  task_init(&t);
  RC_OK(store_task_get(st, "t2", &t), st);
  int64_t t2rev = t.rev;
  STR_EQ(t.title, "Build layout");
  INT_EQ(t.progress, 60);
  OK(t.started_at != NULL, "active task has a start time");

  /* A change bumps the revision once and stamps the row. */
  t.progress = 75;
  str_set(&t.title, "Build the layout");
  RC_OK(store_begin(st), st);
  RC_OK(store_task_update(st, &t), st);
  RC_OK(store_commit(st), st);
  INT_EQ(store_revision(st), r0 + 1);
  struct task u;
  task_init(&u);
  RC_OK(store_task_get(st, "t2", &u), st);
  INT_EQ(u.rev, r0 + 1);
  INT_EQ(u.progress, 75);
  OK(u.rev > t2rev, "row revision moved");

  /* Writing the same values changes nothing. */
  RC_OK(store_begin(st), st);
  RC_OK(store_task_update(st, &u), st);
  RC_OK(store_commit(st), st);
  INT_EQ(store_revision(st), r0 + 1);

  /* The history has one entry per changed field, with old and new. */
  struct change *ch;
  size_t n;
  RC_OK(store_changes_since(st, r0, NULL, 0, &ch, &n), st);
  INT_EQ(n, 2);
  for (size_t i = 0; i < n; i++) {
    STR_EQ(ch[i].table, "task");
    STR_EQ(ch[i].record, "t2");
    STR_EQ(ch[i].source, "test");
    STR_EQ(ch[i].session_id, "s1");
    INT_EQ(ch[i].rev, r0 + 1);
    if (str_eq(ch[i].field, "progress")) {
      STR_EQ(ch[i].old_value, "60");
      STR_EQ(ch[i].new_value, "75");
    } else {
      STR_EQ(ch[i].field, "title");
      STR_EQ(ch[i].old_value, "Build layout");
    }
  }
  store_changes_free(ch, n);

  /* As of r0 the task reads back as it was. */
  struct asof *a;
  RC_OK(store_asof_open(st, r0, &a), st);
  struct task old;
  task_init(&old);
  RC_OK(store_asof_task(a, "t2", &old), st);
  INT_EQ(old.progress, 60);
  STR_EQ(old.title, "Build layout");
  store_asof_close(a);

  /* Completing a task stamps completed_at; leaving completed clears it. */
  u.status = STATUS_COMPLETED;
  RC_OK(store_begin(st), st);
  RC_OK(store_task_update(st, &u), st);
  RC_OK(store_commit(st), st);
  RC_OK(store_task_get(st, "t2", &u), st);
  OK(u.completed_at != NULL, "completed_at set");
  u.status = STATUS_ACTIVE;
  RC_OK(store_begin(st), st);
  RC_OK(store_task_update(st, &u), st);
  RC_OK(store_commit(st), st);
  RC_OK(store_task_get(st, "t2", &u), st);
  OK(u.completed_at == NULL, "completed_at cleared");

  task_release(&t);
  task_release(&u);
  task_release(&old);
  store_close(st);
}

static void test_asof_membership(void) {
  struct store *st = fixture_open();
  int64_t r0 = store_revision(st);
  int64_t grev0, grev1;
  RC_OK(
      store_owner_revision(st, OWNER_GROUP, "frontend_group_001", NULL, &grev0),
      st);

  /* Move t3 to backend, create t6 in frontend, delete t4 softly. */
  struct task t;
  task_init(&t);
  RC_OK(store_begin(st), st);
  RC_OK(store_task_get(st, "t3", &t), st);
  str_set(&t.group_id, "backend_group_001");
  RC_OK(store_task_update(st, &t), st);
  RC_OK(store_task_get(st, "t4", &t), st);
  t.deleted = true;
  RC_OK(store_task_update(st, &t), st);
  task_release(&t);
  t.group_id = xstrdup("frontend_group_001");
  t.title = xstrdup("New thing");
  RC_OK(store_task_insert(st, &t), st);
  STR_EQ(t.id, "new_thing_001");
  RC_OK(store_commit(st), st);

  /* The frontend file's revision moved though t3 is no longer in it. */
  RC_OK(
      store_owner_revision(st, OWNER_GROUP, "frontend_group_001", NULL, &grev1),
      st);
  OK(grev1 > grev0, "group revision %lld > %lld", (long long)grev1,
     (long long)grev0);

  struct asof *a;
  RC_OK(store_asof_open(st, r0, &a), st);
  struct task *v;
  size_t n;
  RC_OK(store_asof_group_tasks(a, "frontend_group_001", NULL, 0, &v, &n), st);
  INT_EQ(n, 4);
  if (n == 4) {
    STR_EQ(v[0].id, "t1");
    STR_EQ(v[2].id, "t3");
    OK(!v[3].deleted, "t4 was live at r0");
  }
  store_tasks_free(v, n);
  struct task nt;
  task_init(&nt);
  INT_EQ(store_asof_task(a, "new_thing_001", &nt), ENG_NOTFOUND);
  task_release(&nt);
  store_asof_close(a);

  /* Listing across groups, by status. */
  RC_OK(store_task_list(st, "s1", STATUS_ACTIVE, NULL, false, &v, &n), st);
  INT_EQ(n, 2);
  if (n == 2) {
    STR_EQ(v[0].id, "t2");
    STR_EQ(v[1].id, "t5");
  }
  store_tasks_free(v, n);
  RC_OK(store_task_list(st, NULL, -1, "backend_group_001", false, &v, &n), st);
  INT_EQ(n, 2);
  store_tasks_free(v, n);

  /* Now: t3 left, t6 joined, t4 is there but deleted. */
  RC_OK(store_task_list_group(st, "frontend_group_001", false, &v, &n), st);
  INT_EQ(n, 3);
  store_tasks_free(v, n);

  /* A second task with the same title gets the next number. */
  task_release(&t);
  t.group_id = xstrdup("frontend_group_001");
  t.title = xstrdup("New thing");
  RC_OK(store_begin(st), st);
  RC_OK(store_task_insert(st, &t), st);
  RC_OK(store_commit(st), st);
  STR_EQ(t.id, "new_thing_002");
  task_release(&t);
  store_close(st);
}

/* Changes by another program through plain SQL are versioned too. */
static void test_plain_sql(void) {
  char *path = tmp_path("plain.db");
  struct store *st;
  RC_OK(store_open(path, STORE_CREATE, &st), st);
  struct session s;
  session_init(&s);
  s.id = xstrdup("s1");
  s.title = xstrdup("S");
  RC_OK(store_begin(st), st);
  RC_OK(store_session_insert(st, &s), st);
  struct group g;
  group_init(&g);
  g.session_id = xstrdup("s1");
  g.name = xstrdup("ops");
  g.title = xstrdup("Operations");
  RC_OK(store_group_insert(st, &g), st);
  STR_EQ(g.id, "ops_group_001");
  struct task t;
  task_init(&t);
  t.group_id = xstrdup(g.id);
  t.title = xstrdup("Rotate keys");
  RC_OK(store_task_insert(st, &t), st);
  STR_EQ(t.id, "rotate_keys_001");
  RC_OK(store_commit(st), st);
  store_poll(st);
  int64_t r0 = store_revision(st);

  sql(path, "UPDATE tasks SET status = 'active', progress = 20"
            " WHERE id = 'rotate_keys_001'");
  OK(store_poll(st), "poll sees the other connection's commit");
  OK(!store_poll(st), "and only once");
  INT_EQ(store_revision(st), r0 + 1);
  struct change *ch;
  size_t n;
  RC_OK(store_changes_since(st, r0, "s1", 0, &ch, &n), st);
  INT_EQ(n, 2);
  for (size_t i = 0; i < n; i++)
    STR_EQ(ch[i].source, "sql");
  store_changes_free(ch, n);

  /* A hard DELETE keeps the row in the history; as of before, it reads
   * back whole. */
  int64_t r1 = store_revision(st);
  sql(path, "DELETE FROM tasks WHERE id = 'rotate_keys_001'");
  struct task old;
  task_init(&old);
  INT_EQ(store_task_get(st, "rotate_keys_001", &old), ENG_NOTFOUND);
  struct asof *a;
  RC_OK(store_asof_open(st, r1, &a), st);
  RC_OK(store_asof_task(a, "rotate_keys_001", &old), st);
  STR_EQ(old.title, "Rotate keys");
  STR_EQ(old.group_id, "ops_group_001");
  INT_EQ(old.progress, 20);
  store_asof_close(a);

  /* Ids cannot change, even through SQL. */
  sqlite3 *db;
  sqlite3_open(path, &db);
  int rc =
      sqlite3_exec(db, "UPDATE task_groups SET id = 'x'", NULL, NULL, NULL);
  OK(rc != SQLITE_OK, "id update refused");
  sqlite3_close(db);

  task_release(&old);
  task_release(&t);
  group_release(&g);
  session_release(&s);
  store_close(st);
  unlink(path);
  free(path);
}

static void test_open_failures(void) {
  struct store *st;
  char *missing = tmp_path("missing.db");
  INT_EQ(store_open(missing, 0, &st), ENG_NOTFOUND);
  OK(strstr(store_errmsg(st), "taskctl init") != NULL, "%s", store_errmsg(st));
  store_close(st);

  char *other = tmp_path("other.db");
  sql(other, "CREATE TABLE t (x)");
  INT_EQ(store_open(other, STORE_CREATE, &st), ENG_SCHEMA);
  store_close(st);

  char *newer = tmp_path("newer.db");
  RC_OK(store_open(newer, STORE_CREATE, &st), st);
  store_close(st);
  sql(newer, "PRAGMA user_version = 99");
  INT_EQ(store_open(newer, 0, &st), ENG_SCHEMA);
  OK(strstr(store_errmsg(st), "newer") != NULL, "%s", store_errmsg(st));
  store_close(st);

  char *garbage = tmp_path("garbage.db");
  FILE *f = fopen(garbage, "w");
  fputs("this is not a database, just some text that is long enough to "
        "look like a header of something\n",
        f);
  fclose(f);
  int rc = store_open(garbage, 0, &st);
  OK(rc == ENG_SCHEMA || rc == ENG_CORRUPT, "garbage gives %d: %s", rc,
     store_errmsg(st));
  store_close(st);

  /* A database locked by another writer: ENG_BUSY after the bound. */
  char *locked = tmp_path("locked.db");
  RC_OK(store_open(locked, STORE_CREATE, &st), st);
  sqlite3 *db;
  sqlite3_open(locked, &db);
  sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
  store_set_busy_ms(st, 50);
  INT_EQ(store_begin(st), ENG_BUSY);
  OK(strstr(store_errmsg(st), "locked") != NULL, "%s", store_errmsg(st));
  sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
  sqlite3_close(db);
  RC_OK(store_begin(st), st);
  store_rollback(st);
  store_close(st);

  unlink(missing);
  unlink(other);
  unlink(newer);
  unlink(garbage);
  free(missing);
  free(other);
  free(newer);
  free(garbage);
  free(locked);
}

static void test_constraints(void) {
  struct store *st = fixture_open();
  struct task t;
  task_init(&t);
  RC_OK(store_task_get(st, "t1", &t), st);
  t.progress = 140;
  RC_OK(store_begin(st), st);
  INT_EQ(store_task_update(st, &t), ENG_INVALID);
  t.progress = 50;
  strlist_add(&t.dependencies, "t1");
  INT_EQ(store_task_update(st, &t), ENG_INVALID);
  store_rollback(st);

  struct group g;
  group_init(&g);
  g.session_id = xstrdup("s1");
  g.name = xstrdup("frontend");
  g.title = xstrdup("Again");
  RC_OK(store_begin(st), st);
  INT_EQ(store_group_insert(st, &g), ENG_EXISTS);
  str_set(&g.name, "../etc");
  free(g.id);
  g.id = NULL;
  INT_EQ(store_group_insert(st, &g), ENG_INVALID);
  store_rollback(st);
  group_release(&g);
  task_release(&t);
  store_close(st);
}

/* Lists with quotes, newlines and empty items are stored and read back. */
static void test_lists(void) {
  struct store *st = fixture_open();
  struct task t;
  task_init(&t);
  RC_OK(store_task_get(st, "t3", &t), st);
  strlist_add(&t.deliverables, "Chart \"wrapper\"\nwith a newline");
  strlist_add(&t.deliverables, "");
  strlist_add(&t.dependencies, "t1");
  RC_OK(store_begin(st), st);
  RC_OK(store_task_update(st, &t), st);
  RC_OK(store_commit(st), st);
  struct task u;
  task_init(&u);
  RC_OK(store_task_get(st, "t3", &u), st);
  INT_EQ(u.deliverables.n, 2);
  if (u.deliverables.n == 2) {
    STR_EQ(u.deliverables.v[0], "Chart \"wrapper\"\nwith a newline");
    STR_EQ(u.deliverables.v[1], "");
  }
  INT_EQ(u.dependencies.n, 1);
  task_release(&t);
  task_release(&u);
  store_close(st);
}

/* The groups' stats one at a time agree with the session's, and a
 * group's rev moves with its tasks' changes, arrivals and departures
 * only. */
static void same_stats(struct store *st, const char *session) {
  struct group_stats *all, *revs;
  size_t n, nr;
  RC_OK(store_group_stats(st, session, &all, &n), st);
  RC_OK(store_group_revs(st, session, &revs, &nr), st);
  INT_EQ(nr, n);
  for (size_t i = 0; i < n && i < nr; i++) {
    STR_EQ(revs[i].group_id, all[i].group_id);
    struct group_stats one;
    memset(&one, 0xff, sizeof one);
    RC_OK(store_group_stats_of(st, revs[i].group_id, &one), st);
    for (int k = 0; k < STATUS_COUNT; k++)
      INT_EQ(one.count[k], all[i].count[k]);
    INT_EQ(one.progress_sum, all[i].progress_sum);
    OK(one.estimate == all[i].estimate && one.actual == all[i].actual,
       "%s: estimate %g/%g, actual %g/%g", all[i].group_id, one.estimate,
       all[i].estimate, one.actual, all[i].actual);
  }
  store_group_stats_free(all, n);
  store_group_stats_free(revs, nr);
}

static void group_revs(struct store *st, int64_t *front, int64_t *back) {
  struct group_stats *v;
  size_t n;
  RC_OK(store_group_revs(st, "s1", &v, &n), st);
  INT_EQ(n, 2);
  *front = *back = -1;
  for (size_t i = 0; i < n; i++) {
    if (str_eq(v[i].group_id, "frontend_group_001"))
      *front = v[i].rev;
    else if (str_eq(v[i].group_id, "backend_group_001"))
      *back = v[i].rev;
  }
  OK(*front > 0 && *back > 0, "revs %lld, %lld", (long long)*front,
     (long long)*back);
  store_group_stats_free(v, n);
}

static void change_task(struct store *st, const char *id, int field,
                        const char *value) {
  struct task t;
  task_init(&t);
  RC_OK(store_task_get(st, id, &t), st);
  RC_OK(store_begin(st), st);
  if (field == TF_GROUP) {
    free(t.group_id);
    t.group_id = xstrdup(value);
  } else if (field == TF_DELETED) {
    t.deleted = true;
  } else {
    free(t.title);
    t.title = xstrdup(value);
  }
  RC_OK(store_task_update(st, &t), st);
  RC_OK(store_commit(st), st);
  task_release(&t);
}

static void test_group_stats(void) {
  struct store *st = fixture_open();
  int64_t f0, b0, f1, b1, f2, b2, f3, b3;
  same_stats(st, "s1");
  group_revs(st, &f0, &b0);
  /* t5 is the backend group's: only its rev moves. */
  change_task(st, "t5", TF_TITLE, "Renamed");
  group_revs(st, &f1, &b1);
  INT_EQ(f1, f0);
  OK(b1 > b0, "backend rev %lld after %lld", (long long)b1, (long long)b0);
  /* t4 leaves frontend for backend: both move. */
  change_task(st, "t4", TF_GROUP, "backend_group_001");
  group_revs(st, &f2, &b2);
  OK(f2 > f1 && b2 > b1, "both revs move with a departure");
  same_stats(st, "s1");
  /* A task deleted: its group's rev moves and it is no longer counted. */
  struct group_stats one;
  RC_OK(store_group_stats_of(st, "frontend_group_001", &one), st);
  int before = 0;
  for (int k = 0; k < STATUS_COUNT; k++)
    before += one.count[k];
  change_task(st, "t1", TF_DELETED, NULL);
  group_revs(st, &f3, &b3);
  OK(f3 > f2, "frontend rev moves with a deletion");
  INT_EQ(b3, b2);
  RC_OK(store_group_stats_of(st, "frontend_group_001", &one), st);
  int after = 0;
  for (int k = 0; k < STATUS_COUNT; k++)
    after += one.count[k];
  INT_EQ(after, before - 1);
  same_stats(st, "s1");
  store_close(st);
}

/* The failed operations of the sync log and the newest changes, of one
 * session and of all, read back as records. */
static void test_sync_failures_and_recent(void) {
  struct store *st = fixture_open();
  struct session s2;
  session_init(&s2);
  s2.id = xstrdup("s2");
  s2.title = xstrdup("Other");
  RC_OK(store_session_insert(st, &s2), st);
  session_release(&s2);
  const struct syncop ops[] = {
      {"save", "task_groups/frontend.md", "s1", 1000000000, 1002000000, "held",
       "parse", "line 3: bad\nprogress", 0, 0},
      {"render", "session.md", "s1", 2000000000, 2001000000, "ok", NULL, NULL,
       0, 0},
      {"delete", NULL, "s2", 3000000000, 3001000000, "error", "busy", NULL, 0,
       0},
  };
  for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
    RC_OK(store_syncop_add(st, &ops[i]), st);
  struct sync_failure *f;
  size_t n;
  RC_OK(store_sync_failures(st, NULL, 10, &f, &n), st);
  INT_EQ(n, 2);
  if (n == 2) {
    STR_EQ(f[0].type, "delete");
    OK(f[0].file == NULL && f[0].error == NULL, "no file, no message");
    STR_EQ(f[0].kind, "busy");
    STR_EQ(f[1].at, "1970-01-01 00:00:01.000");
    STR_EQ(f[1].file, "task_groups/frontend.md");
    STR_EQ(f[1].status, "held");
    STR_EQ(f[1].error, "line 3: bad\nprogress");
  }
  store_sync_failures_free(f, n);
  RC_OK(store_sync_failures(st, "s1", 10, &f, &n), st);
  INT_EQ(n, 1);
  store_sync_failures_free(f, n);
  RC_OK(store_sync_failures(st, NULL, 1, &f, &n), st);
  INT_EQ(n, 1);
  store_sync_failures_free(f, n);

  struct task t;
  task_init(&t);
  RC_OK(store_task_get(st, "t1", &t), st);
  store_set_source(st, "taskfs");
  str_set(&t.title, "By the mount");
  RC_OK(store_begin(st), st);
  RC_OK(store_task_update(st, &t), st);
  RC_OK(store_commit(st), st);
  store_set_source(st, "test");
  struct session s;
  session_init(&s);
  RC_OK(store_session_get(st, "s2", &s), st);
  str_set(&s.title, "Other, renamed");
  RC_OK(store_session_update(st, &s), st);
  session_release(&s);
  task_release(&t);
  struct change *c;
  RC_OK(store_changes_recent(st, NULL, NULL, 2, &c, &n), st);
  INT_EQ(n, 2);
  if (n == 2) {
    STR_EQ(c[0].record, "s2");
    STR_EQ(c[1].record, "t1");
    OK(c[0].rev > c[1].rev, "newest first");
  }
  store_changes_free(c, n);
  RC_OK(store_changes_recent(st, NULL, "taskfs", 0, &c, &n), st);
  INT_EQ(n, 1);
  if (n == 1) {
    STR_EQ(c[0].field, "title");
    STR_EQ(c[0].new_value, "By the mount");
  }
  store_changes_free(c, n);
  RC_OK(store_changes_recent(st, "s2", "taskfs", 0, &c, &n), st);
  INT_EQ(n, 0);
  store_changes_free(c, n);
  store_close(st);
}

static void test_drafts_and_memos(void) {
  struct store *st = fixture_open();
  struct draft d = {.kind = "group",
                    .record = "frontend_group_001",
                    .text = "bad\0bytes",
                    .len = 9,
                    .diagnostics = "3: progress 140% is above 100%"};
  RC_OK(store_draft_put(st, &d), st);
  struct draft got = {0};
  RC_OK(store_draft_get(st, "group", "frontend_group_001", &got), st);
  INT_EQ(got.len, 9);
  OK(memcmp(got.text, "bad\0bytes", 9) == 0, "draft bytes kept");
  store_draft_release(&got);
  struct draft *v;
  size_t n;
  RC_OK(store_draft_list(st, "s1", &v, &n), st);
  INT_EQ(n, 1);
  store_drafts_free(v, n);
  RC_OK(store_draft_delete(st, "group", "frontend_group_001"), st);
  INT_EQ(store_draft_get(st, "group", "frontend_group_001", &got),
         ENG_NOTFOUND);

  struct save_memo m = {
      .kind = "group", .record = "g", .text_rev = 5, .applied_rev = 9};
  strlist_add(&m.created_titles, "One");
  strlist_add(&m.created_ids, "one_001");
  RC_OK(store_memo_put(st, &m), st);
  strlist_clear(&m.created_titles);
  strlist_clear(&m.created_ids);
  struct save_memo g2 = {0};
  RC_OK(store_memo_get(st, "group", "g", &g2), st);
  INT_EQ(g2.text_rev, 5);
  INT_EQ(g2.applied_rev, 9);
  INT_EQ(g2.created_ids.n, 1);
  if (g2.created_ids.n == 1) {
    STR_EQ(g2.created_ids.v[0], "one_001");
    STR_EQ(g2.created_titles.v[0], "One");
  }
  store_memo_release(&g2);
  store_close(st);
}

int main(void) {
  if (!mkdtemp(tmpdir))
    die("mkdtemp");
  test_revisions();
  test_asof_membership();
  test_plain_sql();
  test_open_failures();
  test_constraints();
  test_lists();
  test_group_stats();
  test_drafts_and_memos();
  test_sync_failures_and_recent();
  char *cmd = xasprintf("rm -rf %s", tmpdir);
  if (system(cmd) != 0)
    fprintf(stderr, "could not remove %s\n", tmpdir);
  free(cmd);
  return harness_done("store");
}
