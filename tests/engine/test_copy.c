/* SPDX-License-Identifier: MIT */
/* test_copy.c: whole databases copied between backends (store_copy):
 * records, history, as-of reads, drafts, memos, backups, conflicts, the
 * sync log and the next revision equal on both sides; a target that is
 * not empty refused untouched; a copy that fails half-way leaving the
 * target as it was. SQLite files always; PostgreSQL with TASKFS_TEST_PG. */
#include "fixture.h"
#include "harness.h"
#include "store.h"
#include "util.h"

#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/taskfs-test-copy-XXXXXX";

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

static struct store *open_at(const char *target) {
  struct store *st;
  int rc = store_open(target, 0, &st);
  OK(rc == ENG_OK, "open %s: %s", target, store_errmsg(st));
  store_set_source(st, "test");
  return st;
}

/* The fixture with a history of several revisions and a row in every
 * table: fields changed twice (a position that SQLite keeps as a real
 * among the history's values), a section, a draft, a memo, backups of a
 * text with a NUL in it and of a value, a conflict and the sync log. */
static struct store *make_source(const char *path) {
  struct store *st = fixture_open_at(path);
  struct task t;
  task_init(&t);
  RC_OK(store_begin(st), st);
  RC_OK(store_task_get(st, "t3", &t), st);
  str_set(&t.title, "Charts v2");
  t.progress = 40;
  t.position = 2.5;
  t.estimate = 0.1;
  RC_OK(store_task_update(st, &t), st);
  RC_OK(store_commit(st), st);
  RC_OK(store_begin(st), st);
  t.progress = 70;
  t.status = STATUS_ACTIVE;
  RC_OK(store_task_update(st, &t), st);
  struct section x;
  section_init(&x);
  x.owner_kind = OWNER_GROUP;
  x.owner_id = xstrdup("frontend_group_001");
  x.key = xstrdup("notes");
  x.heading = xstrdup("## Notes");
  x.body = xstrdup("Ship it.\n");
  RC_OK(store_section_insert(st, &x), st);
  section_release(&x);
  RC_OK(store_commit(st), st);
  task_release(&t);

  struct draft d = {.kind = "task",
                    .record = "t3",
                    .text = "not a task\n",
                    .len = 11,
                    .diagnostics = "1: no front matter",
                    .created_at = "2026-01-02 03:04:05.678"};
  RC_OK(store_draft_put(st, &d), st);
  struct save_memo m = {.kind = "group",
                        .record = "frontend_group_001",
                        .text_rev = 3,
                        .applied_rev = 8};
  strlist_add(&m.created_titles, "New one");
  strlist_add(&m.created_ids, "new_one_001");
  RC_OK(store_memo_put(st, &m), st);
  strlist_clear(&m.created_titles);
  strlist_clear(&m.created_ids);
  int64_t id;
  RC_OK(store_backup_add(st, "s1", "group", "frontend_group_001", "replaced",
                         "a\0b", 3, &id),
        st);
  RC_OK(
      store_backup_value(st, "s1", "task", "t3", "title", "Charts", "db", &id),
      st);
  struct conflict c;
  conflict_init(&c);
  c.session_id = xstrdup("s1");
  c.file_kind = xstrdup("group");
  c.file_record = xstrdup("frontend_group_001");
  c.type = xstrdup("task_status");
  c.target_kind = xstrdup("task");
  c.target_id = xstrdup("t3");
  c.field = xstrdup("status");
  c.label = xstrdup("Status of Charts");
  c.base_rev = 5;
  c.base_value = xstrdup("planned");
  c.db_value = xstrdup("active");
  c.file_value = xstrdup("completed");
  RC_OK(store_conflict_add(st, &c), st);
  conflict_release(&c);
  struct syncop op = {.type = "save",
                      .file = "task_groups/frontend.md",
                      .session_id = "s1",
                      .started_ns = 1700000000000000000,
                      .ended_ns = 1700000000002000000,
                      .status = "ok",
                      .changes = 2};
  RC_OK(store_syncop_add(st, &op), st);
  return st;
}

union any_record {
  struct session s;
  struct group g;
  struct task t;
  struct section x;
};

static void records_eq(struct store *a, struct store *b, int kind,
                       const char *id) {
  const struct record_kind_desc *d = &record_kinds[kind];
  union any_record ra, rb;
  record_init(kind, &ra);
  record_init(kind, &rb);
  RC_OK(store_get(a, kind, id, &ra), a);
  RC_OK(store_get(b, kind, id, &rb), b);
  for (int i = 0; i < d->nfields; i++)
    OK(record_field_eq(kind, &ra, &rb, i), "%s %s: field %s differs", d->name,
       id, d->fields[i].name);
  record_release(kind, &ra);
  record_release(kind, &rb);
}

static void opt_eq(const char *what, const char *x, const char *y) {
  OK((!x && !y) || (x && y && strcmp(x, y) == 0), "%s: \"%s\" vs \"%s\"", what,
     x ? x : "(null)", y ? y : "(null)");
}

/* What every read of the store gives, the same on a and b. */
static void stores_eq(struct store *a, struct store *b) {
  INT_EQ(store_revision(b), store_revision(a));
  records_eq(a, b, RK_SESSION, "s1");
  records_eq(a, b, RK_GROUP, "frontend_group_001");
  records_eq(a, b, RK_GROUP, "backend_group_001");
  for (int i = 1; i <= 5; i++) {
    char id[8];
    snprintf(id, sizeof id, "t%d", i);
    records_eq(a, b, RK_TASK, id);
  }
  struct section *sa, *sb;
  size_t na, nb;
  RC_OK(store_section_list_all(a, &sa, &na), a);
  RC_OK(store_section_list_all(b, &sb, &nb), b);
  INT_EQ(nb, na);
  for (size_t i = 0; i < na && i < nb; i++)
    for (int f = 0; f < record_kinds[RK_SECTION].nfields; f++)
      OK(record_field_eq(RK_SECTION, &sa[i], &sb[i], f), "section field %s",
         record_kinds[RK_SECTION].fields[f].name);
  store_sections_free(sa, na);
  store_sections_free(sb, nb);

  /* The history, value for value as reads give it. */
  struct change *ca, *cb;
  RC_OK(store_changes_since(a, 0, NULL, 0, &ca, &na), a);
  RC_OK(store_changes_since(b, 0, NULL, 0, &cb, &nb), b);
  INT_EQ(nb, na);
  OK(na > 10, "a history of %zu changes", na);
  for (size_t i = 0; i < na && i < nb; i++) {
    INT_EQ(cb[i].rev, ca[i].rev);
    opt_eq("at", ca[i].at, cb[i].at);
    opt_eq("source", ca[i].source, cb[i].source);
    opt_eq("record", ca[i].record, cb[i].record);
    opt_eq("field", ca[i].field, cb[i].field);
    opt_eq("old value", ca[i].old_value, cb[i].old_value);
    opt_eq("new value", ca[i].new_value, cb[i].new_value);
  }
  store_changes_free(ca, na);
  store_changes_free(cb, nb);

  /* As of a revision before the changes to t3. */
  struct asof *xa, *xb;
  int64_t old = store_revision(a) - 3;
  RC_OK(store_asof_open(a, old, &xa), a);
  RC_OK(store_asof_open(b, old, &xb), b);
  struct task ta, tb;
  task_init(&ta);
  task_init(&tb);
  RC_OK(store_asof_task(xa, "t3", &ta), a);
  RC_OK(store_asof_task(xb, "t3", &tb), b);
  STR_EQ(tb.title, "Charts");
  for (int f = 0; f < TF_ALL; f++)
    OK(record_field_eq(RK_TASK, &ta, &tb, f), "as of %lld: task field %s",
       (long long)old, record_kinds[RK_TASK].fields[f].name);
  task_release(&ta);
  task_release(&tb);
  store_asof_close(xa);
  store_asof_close(xb);

  struct draft *da, *db;
  RC_OK(store_draft_list(a, NULL, &da, &na), a);
  RC_OK(store_draft_list(b, NULL, &db, &nb), b);
  INT_EQ(nb, 1);
  INT_EQ(nb, na);
  if (na && nb) {
    OK(db[0].len == da[0].len && memcmp(db[0].text, da[0].text, da[0].len) == 0,
       "draft text");
    STR_EQ(db[0].created_at, da[0].created_at);
  }
  store_drafts_free(da, na);
  store_drafts_free(db, nb);

  struct save_memo ma, mb;
  memset(&ma, 0, sizeof ma);
  memset(&mb, 0, sizeof mb);
  RC_OK(store_memo_get(a, "group", "frontend_group_001", &ma), a);
  RC_OK(store_memo_get(b, "group", "frontend_group_001", &mb), b);
  INT_EQ(mb.applied_rev, ma.applied_rev);
  OK(strlist_eq(&ma.created_ids, &mb.created_ids), "memo ids");
  store_memo_release(&ma);
  store_memo_release(&mb);

  struct backup *ba, *bb;
  RC_OK(store_backup_list(a, NULL, &ba, &na), a);
  RC_OK(store_backup_list(b, NULL, &bb, &nb), b);
  INT_EQ(nb, 2);
  INT_EQ(nb, na);
  for (size_t i = 0; i < na && i < nb; i++) {
    INT_EQ(bb[i].id, ba[i].id);
    OK(bb[i].len == ba[i].len && memcmp(bb[i].text, ba[i].text, ba[i].len) == 0,
       "backup %lld text", (long long)ba[i].id);
    opt_eq("backup field", ba[i].field, bb[i].field);
  }
  store_backups_free(ba, na);
  store_backups_free(bb, nb);

  struct conflict *fa, *fb;
  RC_OK(store_conflict_list(a, NULL, NULL, NULL, false, &fa, &na), a);
  RC_OK(store_conflict_list(b, NULL, NULL, NULL, false, &fb, &nb), b);
  INT_EQ(nb, 1);
  INT_EQ(nb, na);
  if (na && nb) {
    INT_EQ(fb[0].id, fa[0].id);
    opt_eq("conflict file value", fa[0].file_value, fb[0].file_value);
    opt_eq("conflict detected", fa[0].detected_at, fb[0].detected_at);
  }
  store_conflicts_free(fa, na);
  store_conflicts_free(fb, nb);

  struct sync_stats ya, yb;
  RC_OK(store_sync_stats(a, NULL, &ya), a);
  RC_OK(store_sync_stats(b, NULL, &yb), b);
  INT_EQ(yb.ops, ya.ops);
  INT_EQ(yb.saves, 1);
  OK(fabs(yb.save_p50_ms - ya.save_p50_ms) < 1e-9, "save p50");
}

/* The next change gets the same revision on both, and new rows the next
 * ids: the triggers are back and the counters follow the copy. */
static void next_change_eq(struct store *a, struct store *b) {
  struct store *st[2] = {a, b};
  int64_t rev[2], hist[2], backup[2];
  for (int i = 0; i < 2; i++) {
    struct task t;
    task_init(&t);
    RC_OK(store_begin(st[i]), st[i]);
    RC_OK(store_task_get(st[i], "t4", &t), st[i]);
    str_set(&t.title, "After the copy");
    RC_OK(store_task_update(st[i], &t), st[i]);
    RC_OK(store_commit(st[i]), st[i]);
    task_release(&t);
    rev[i] = store_revision(st[i]);
    struct change c;
    memset(&c, 0, sizeof c);
    RC_OK(store_last_change(st[i], "task", "t4", "title", &c), st[i]);
    hist[i] = c.rev;
    store_change_release(&c);
    RC_OK(store_backup_add(st[i], "s1", "task", "t4", "replaced", "x", 1,
                           &backup[i]),
          st[i]);
  }
  INT_EQ(rev[1], rev[0]);
  INT_EQ(hist[1], rev[1]);
  INT_EQ(backup[1], backup[0]);
}

static void test_file_to_file(void) {
  char *src_path = tmp_path("src.db"), *dst_path = tmp_path("dst.db");
  struct store *src = make_source(src_path);
  struct store_copy_stats s;
  RC_OK(store_copy(src, dst_path, &s), src);
  OK(s.created, "a new file");
  INT_EQ(s.rev, store_revision(src));
  INT_EQ(s.ntables, STORE_COPY_TABLES);
  STR_EQ(s.tables[4].name, "history");
  OK(s.tables[4].rows > 10, "history rows copied");
  struct store *dst = open_at(dst_path);
  stores_eq(src, dst);
  RC_OK(store_check(dst), dst);

  /* Not empty now: refused, and nothing changes. */
  int64_t rev = store_revision(dst);
  store_close(dst);
  INT_EQ(store_copy(src, dst_path, &s), ENG_NOTEMPTY);
  OK(strstr(store_errmsg(src), "is not empty"), "%s", store_errmsg(src));
  dst = open_at(dst_path);
  INT_EQ(store_revision(dst), rev);
  stores_eq(src, dst);
  next_change_eq(src, dst);
  store_close(dst);
  store_close(src);
  free(src_path);
  free(dst_path);
}

/* A target made by 'taskctl init' is empty; the copy's transaction gives
 * history to no copied row. */
static void test_into_initialised(void) {
  char *src_path = tmp_path("init-src.db"), *dst_path = tmp_path("init.db");
  struct store *src = make_source(src_path);
  struct store *dst;
  RC_OK(store_open(dst_path, STORE_CREATE, &dst), dst);
  store_close(dst);
  struct store_copy_stats s;
  RC_OK(store_copy(src, dst_path, &s), src);
  OK(!s.created, "the file was there");
  dst = open_at(dst_path);
  stores_eq(src, dst);
  store_close(dst);
  store_close(src);
  free(src_path);
  free(dst_path);
}

/* The source with a row every target refuses: a task of no group,
 * written by plain SQL past the checks. */
static struct store *make_bad_source(const char *path) {
  store_close(make_source(path));
  sql(path, "PRAGMA foreign_keys = OFF; DROP TRIGGER tasks_session_insert;"
            " INSERT INTO tasks (id, session_id, group_id, title)"
            " VALUES ('zz_orphan', 's1', 'no_such_group', 'Orphan')");
  return open_at(path);
}

/* A row the target refuses (a task of no group, written into the source
 * by plain SQL) fails the copy at the tasks: a new file is removed, an
 * initialised one keeps no row and its triggers. */
static void test_failure_half_way(void) {
  char *src_path = tmp_path("bad-src.db"), *dst_path = tmp_path("bad.db");
  char *init_path = tmp_path("bad-init.db");
  struct store *src = make_bad_source(src_path);
  struct store_copy_stats s;
  int rc = store_copy(src, dst_path, &s);
  OK(rc != ENG_OK, "the copy fails");
  OK(strstr(store_errmsg(src), "tasks"), "%s", store_errmsg(src));
  OK(access(dst_path, F_OK) != 0, "no file left at %s", dst_path);

  struct store *dst;
  RC_OK(store_open(init_path, STORE_CREATE, &dst), dst);
  store_close(dst);
  OK(store_copy(src, init_path, &s) != ENG_OK, "the copy fails");
  dst = open_at(init_path);
  INT_EQ(store_revision(dst), 0);
  struct session *v;
  size_t n;
  RC_OK(store_session_list(dst, true, &v, &n), dst);
  INT_EQ(n, 0);
  store_sessions_free(v, n);
  /* The triggers are there: a new session is a revision with history. */
  struct session x;
  session_init(&x);
  x.id = xstrdup("s9");
  x.title = xstrdup("After");
  RC_OK(store_session_insert(dst, &x), dst);
  session_release(&x);
  INT_EQ(store_revision(dst), 1);
  struct change *c;
  RC_OK(store_changes_since(dst, 0, NULL, 0, &c, &n), dst);
  INT_EQ(n, 1);
  if (n)
    STR_EQ(c[0].record, "s9");
  store_changes_free(c, n);
  store_close(dst);
  store_close(src);
  free(src_path);
  free(dst_path);
  free(init_path);
}

/* SQLite to PostgreSQL and back, and PostgreSQL to another schema. */
static void test_pg(void) {
  char *pg1 = fixture_pg_target(), *pg2 = fixture_pg_target();
  char *src_path = tmp_path("pg-src.db"), *back_path = tmp_path("back.db");
  struct store *src = make_source(src_path);
  struct store_copy_stats s;
  RC_OK(store_copy(src, pg1, &s), src);
  OK(!strstr(store_errmsg(src), "taskfs-secret"), "no password");
  struct store *p1 = open_at(pg1);
  stores_eq(src, p1);
  INT_EQ(store_copy(src, pg1, &s), ENG_NOTEMPTY);
  OK(!strstr(store_errmsg(src), "taskfs-secret"), "no password in: %s",
     store_errmsg(src));

  RC_OK(store_copy(p1, back_path, &s), p1);
  struct store *back = open_at(back_path);
  stores_eq(src, back);
  RC_OK(store_copy(p1, pg2, &s), p1);
  struct store *p2 = open_at(pg2);
  stores_eq(p1, p2);
  next_change_eq(p1, p2);
  next_change_eq(src, back);
  store_close(p2);
  store_close(back);
  store_close(p1);
  store_close(src);

  /* A failure half-way leaves the schema empty, its triggers on. */
  char *pg3 = fixture_pg_target(), *bad_path = tmp_path("pg-bad.db");
  src = make_bad_source(bad_path);
  OK(store_copy(src, pg3, &s) != ENG_OK, "the copy fails");
  OK(strstr(store_errmsg(src), "tasks"), "%s", store_errmsg(src));
  struct store *p3 = open_at(pg3);
  INT_EQ(store_revision(p3), 0);
  struct session *v;
  size_t n;
  RC_OK(store_session_list(p3, true, &v, &n), p3);
  INT_EQ(n, 0);
  store_sessions_free(v, n);
  struct session x;
  session_init(&x);
  x.id = xstrdup("s9");
  x.title = xstrdup("After");
  RC_OK(store_session_insert(p3, &x), p3);
  session_release(&x);
  INT_EQ(store_revision(p3), 1);
  store_close(p3);
  store_close(src);
  free(pg1);
  free(pg2);
  free(pg3);
  free(src_path);
  free(back_path);
  free(bad_path);
}

int main(void) {
  if (!mkdtemp(tmpdir))
    die("mkdtemp");
  test_file_to_file();
  test_into_initialised();
  test_failure_half_way();
  char *pg = fixture_pg_target();
  if (pg) {
    free(pg);
    test_pg();
  } else {
    printf("TASKFS_TEST_PG is not set: copies to PostgreSQL not tested\n");
  }
  char *rm = xasprintf("rm -rf %s", tmpdir);
  if (system(rm) != 0)
    fprintf(stderr, "cannot remove %s\n", tmpdir);
  free(rm);
  return harness_done("copy");
}
