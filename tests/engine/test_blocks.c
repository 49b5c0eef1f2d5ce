/* SPDX-License-Identifier: MIT */
/* test_blocks.c: the cache of rendered task pieces (blocks.h) as a
 * property. Random databases get random changes, made by another
 * connection through the store and by plain SQL as any other program
 * would: task fields, dependencies, sections, groups and sessions
 * renamed, tasks moved between groups and statuses, deleted, restored,
 * deleted by SQL and inserted by SQL. After every change each session,
 * group and task file is rendered through one long-lived cache and
 * without it, and the two must be the same bytes. Also: the cache's own bound
 * and its use from several threads, and that a cold read after one task changed
 * renders that task's pieces only. */
#include "blocks.h"
#include "fixture.h"
#include "harness.h"
#include "load.h"
#include "util.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SEED 0x626c6f636b73ULL /* "blocks" */
#define DATABASES 12
#define STEPS 60

static uint64_t rng_state;

static uint64_t rnd(void) {
  /* xorshift64*: deterministic across platforms, unlike rand(). */
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 0x2545f4914f6cdd1dULL;
}

static int pick(int n) { return (int)(rnd() % (uint64_t)n); }
static bool chance(int percent) { return pick(100) < percent; }

static const char *const words[] = {
    "alpha", "Beta", "gamma", "x",  "42",  "β", "日本", "`code`", "**bold**",
    "|",     "#",    "- [ ]", "\\", "<b>", "—", "TODO", "3.5h"};

/* A few random words; with lines, maybe more than one line. */
static char *text(int nwords, bool lines) {
  struct buf b = BUF_INIT;
  int n = 1 + pick(nwords);
  for (int i = 0; i < n; i++) {
    if (i)
      buf_adds(&b, lines && chance(10) ? "\n\n" : " ");
    buf_adds(&b, words[pick((int)(sizeof words / sizeof *words))]);
  }
  return buf_detach(&b, NULL);
}

/* Adds s to l and frees it. */
static void add_owned(struct strlist *l, char *s) {
  strlist_add(l, s);
  free(s);
}

/* Changes that took effect, by the store and by plain SQL. */
static int changes_by_store, changes_by_sql;

/* ---- the database ---- */

struct db {
  char path[64];
  struct store *reader; /* renders, as the mount does */
  struct store *other;  /* another program on the store */
  sqlite3 *sql;         /* another program with plain SQL */
  int ntasks, ngroups;  /* ids made so far: t0.., g0.. */
};

static void must(int rc, struct store *st, const char *what) {
  if (rc)
    die("test_blocks: %s: %s", what, store_errmsg(st));
}

static void sql_exec(struct db *db, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *q = sqlite3_vmprintf(fmt, ap);
  va_end(ap);
  char *err = NULL;
  /* A rule the store keeps (a check, a trigger) may refuse a change of
   * plain SQL, as it would another program's: then nothing changed. */
  if (sqlite3_exec(db->sql, q, NULL, NULL, &err) == SQLITE_OK &&
      sqlite3_changes(db->sql) > 0)
    changes_by_sql++;
  sqlite3_free(err);
  sqlite3_free(q);
}

static char *group_id(int i) { return xasprintf("g%d", i); }
/* Not the fixture's t1..t5. */
static char *task_id(int i) { return xasprintf("k%d", i); }

static void add_group(struct db *db, const char *session) {
  struct group g;
  group_init(&g);
  int i = db->ngroups++;
  g.id = group_id(i);
  g.session_id = xstrdup(session);
  g.name = xasprintf("group-%d", i);
  g.title = text(3, false);
  g.description = text(8, true);
  g.status = pick(STATUS_COUNT);
  g.priority = pick(3);
  must(store_group_insert(db->other, &g), db->other, "group");
  group_release(&g);
}

static void random_task_fields(struct db *db, struct task *t) {
  free(t->title);
  t->title = text(4, false);
  free(t->description);
  t->description = text(10, true);
  t->status = pick(STATUS_COUNT);
  t->progress = pick(101);
  t->priority = pick(3);
  free(t->specialist);
  t->specialist = chance(70) ? text(1, false) : NULL;
  t->estimate = chance(70) ? pick(16) / 2.0 : NAN;
  t->actual = chance(40) ? pick(16) / 2.0 : NAN;
  strlist_clear(&t->deliverables);
  for (int k = pick(3); k > 0; k--)
    add_owned(&t->deliverables, text(3, false));
  strlist_clear(&t->dependencies);
  for (int k = pick(3); k > 0 && db->ntasks; k--)
    add_owned(&t->dependencies, task_id(pick(db->ntasks)));
  free(t->current_status);
  t->current_status = chance(30) ? text(6, true) : NULL;
}

static void add_task(struct db *db, int group) {
  struct task t;
  task_init(&t);
  int i = db->ntasks++;
  t.id = task_id(i);
  t.group_id = group_id(group);
  random_task_fields(db, &t);
  /* A task never depends on itself. */
  for (size_t k = 0; k < t.dependencies.n; k++)
    if (strcmp(t.dependencies.v[k], t.id) == 0)
      strlist_clear(&t.dependencies);
  if (store_task_insert(db->other, &t))
    db->ntasks--; /* refused by the store's rules: no such task */
  task_release(&t);
}

static void add_section(struct db *db, int owner_kind, const char *owner) {
  struct section x;
  section_init(&x);
  x.owner_kind = owner_kind;
  x.owner_id = xstrdup(owner);
  x.key = xasprintf("notes-%d", pick(1000));
  x.heading = xasprintf("## %s", x.key);
  x.body = text(10, true);
  store_section_insert(db->other, &x);
  section_release(&x);
}

static void db_open(struct db *db, int n) {
  snprintf(db->path, sizeof db->path, "/tmp/test_blocks_%d_%d.db",
           (int)getpid(), n);
  unlink(db->path);
  db->reader = fixture_open_at(db->path);
  must(store_open(db->path, 0, &db->other), db->other, "open");
  store_set_source(db->other, "other");
  if (sqlite3_open(db->path, &db->sql) != SQLITE_OK)
    die("test_blocks: sqlite3_open");
  sqlite3_busy_timeout(db->sql, 5000);
  db->ntasks = db->ngroups = 0;
  must(store_begin(db->other), db->other, "begin");
  struct session s;
  session_init(&s);
  s.id = xstrdup("s2");
  s.title = xstrdup("Second");
  must(store_session_insert(db->other, &s), db->other, "session");
  session_release(&s);
  for (int g = 2 + pick(3); g > 0; g--)
    add_group(db, chance(50) ? "s1" : "s2");
  for (int t = 5 + pick(30); t > 0; t--)
    add_task(db, pick(db->ngroups));
  for (int k = pick(6); k > 0; k--)
    add_section(db, chance(50) ? OWNER_TASK : OWNER_GROUP,
                chance(50) ? "g0" : "k0");
  must(store_commit(db->other), db->other, "commit");
}

static void db_close(struct db *db) {
  sqlite3_close(db->sql);
  store_close(db->other);
  store_close(db->reader);
  unlink(db->path);
  char *wal = xasprintf("%s-wal", db->path),
       *shm = xasprintf("%s-shm", db->path);
  unlink(wal);
  unlink(shm);
  free(wal);
  free(shm);
}

/* ---- changes ---- */

/* One change to task i through the store by the other program. */
static void change_task(struct db *db, int i) {
  struct task t;
  task_init(&t);
  char *id = task_id(i);
  if (store_task_get(db->other, id, &t) == ENG_OK) {
    switch (pick(8)) {
    case 0:
      random_task_fields(db, &t);
      break;
    case 1:
      free(t.title);
      t.title = text(4, false);
      break;
    case 2:
      t.status = pick(STATUS_COUNT);
      break;
    case 3:
      t.progress = pick(101);
      break;
    case 4:
      free(t.group_id);
      t.group_id = group_id(pick(db->ngroups)); /* a move */
      break;
    case 5:
      t.deleted = !t.deleted; /* deleted or restored */
      break;
    case 6:
      strlist_clear(&t.dependencies);
      if (db->ntasks > 1)
        add_owned(&t.dependencies, task_id((i + 1) % db->ntasks));
      break;
    default:
      add_owned(&t.deliverables, text(2, false));
    }
    store_task_update(db->other, &t);
  }
  task_release(&t);
  free(id);
}

static void change_group(struct db *db, int i) {
  struct group g;
  group_init(&g);
  char *id = group_id(i);
  if (store_group_get(db->other, id, &g) == ENG_OK) {
    switch (pick(4)) {
    case 0:
      free(g.name);
      g.name = xasprintf("renamed-%d", pick(1000));
      break;
    case 1:
      free(g.title);
      g.title = text(3, false);
      break;
    case 2:
      g.status = pick(STATUS_COUNT);
      break;
    default:
      free(g.description);
      g.description = text(8, true);
    }
    store_group_update(db->other, &g);
  }
  group_release(&g);
  free(id);
}

static void change_by_store(struct db *db) {
  int64_t before = store_revision(db->other);
  if (store_begin(db->other))
    return;
  switch (pick(6)) {
  case 0:
  case 1:
    change_task(db, pick(db->ntasks));
    break;
  case 2:
    change_group(db, pick(db->ngroups));
    break;
  case 3: {
    struct session s;
    session_init(&s);
    if (store_session_get(db->other, chance(50) ? "s1" : "s2", &s) == ENG_OK) {
      free(s.title);
      s.title = text(3, false);
      store_session_update(db->other, &s);
    }
    session_release(&s);
    break;
  }
  case 4:
    add_task(db, pick(db->ngroups));
    break;
  default: {
    char *owner =
        chance(50) ? task_id(pick(db->ntasks)) : group_id(pick(db->ngroups));
    add_section(db, owner[0] == 'k' ? OWNER_TASK : OWNER_GROUP, owner);
    free(owner);
  }
  }
  if (store_commit(db->other))
    store_rollback(db->other);
  else if (store_revision(db->other) != before)
    changes_by_store++;
}

static const char *const status_words[] = {"active", "blocked", "planned",
                                           "completed"};

static void change_by_sql(struct db *db) {
  int t = pick(db->ntasks), g = pick(db->ngroups);
  switch (pick(8)) {
  case 0:
    sql_exec(db, "UPDATE tasks SET title = %Q WHERE id = 'k%d'", "By SQL", t);
    break;
  case 1:
    sql_exec(db, "UPDATE tasks SET status = %Q WHERE id = 'k%d'",
             status_words[pick(4)], t);
    break;
  case 2:
    sql_exec(db,
             "UPDATE tasks SET dependencies = json_array('k%d')"
             " WHERE id = 'k%d'",
             pick(db->ntasks), t);
    break;
  case 3:
    sql_exec(db, "UPDATE tasks SET group_id = 'g%d' WHERE id = 'k%d'", g, t);
    break;
  case 4:
    sql_exec(db, "DELETE FROM tasks WHERE id = 'k%d'", t);
    break;
  case 5:
    sql_exec(db, "UPDATE task_groups SET name = 'sql-%d' WHERE id = 'g%d'",
             pick(1000), g);
    break;
  case 6:
    sql_exec(db, "UPDATE tasks SET deleted = 1 - deleted WHERE id = 'k%d'", t);
    break;
  default:
    sql_exec(db,
             "INSERT INTO tasks (id, session_id, group_id, title,"
             " status) SELECT 'k%d', session_id, id, 'New by SQL', 'planned'"
             " FROM task_groups WHERE id = 'g%d'",
             db->ntasks, g);
    if (sqlite3_changes(db->sql) == 1)
      db->ntasks++;
  }
}

/* A render inside a write transaction that is rolled back: its
 * revisions are given again to the next change, which must not find the
 * pieces rendered here. */
static void render_in_rollback(struct db *db, struct blocks *cache) {
  if (store_begin(db->reader))
    return;
  struct task t;
  task_init(&t);
  char *id = task_id(pick(db->ntasks));
  if (store_task_get(db->reader, id, &t) == ENG_OK) {
    free(t.title);
    t.title = xstrdup("Rolled back");
    if (store_task_update(db->reader, &t) == ENG_OK) {
      struct buf b = BUF_INIT;
      load_render_cached(db->reader, cache, DOC_GROUP, t.group_id, 0, 0, &b,
                         NULL);
      buf_truncate(&b, 0);
      load_render_cached(db->reader, cache, DOC_TASK, id, 0, 0, &b, NULL);
      buf_release(&b);
    }
  }
  task_release(&t);
  free(id);
  store_rollback(db->reader);
}

/* ---- the property ---- */

static int compared, differed;

/* The file of kind and id, through cache and without: the same bytes. */
static void check_file(struct db *db, struct blocks *cache, int kind,
                       const char *id, int step) {
  struct buf cached = BUF_INIT, fresh = BUF_INIT;
  struct render_info ci = {0}, fi = {0};
  int rc1 = load_render_cached(db->reader, cache, kind, id, 0, 0, &cached, &ci);
  int rc2 = load_render(db->reader, kind, id, 0, &fresh, &fi);
  INT_EQ(rc1, rc2);
  compared++;
  if (cached.len != fresh.len || memcmp(cached.ptr, fresh.ptr, fresh.len)) {
    if (differed++ < 3)
      fprintf(stderr,
              "step %d, %s %s: cached rendering differs:\n"
              "--- cached\n%s\n--- fresh\n%s\n",
              step,
              kind == DOC_GROUP  ? "group"
              : kind == DOC_TASK ? "task"
                                 : "session",
              id, cached.ptr, fresh.ptr);
    OK(false, "step %d: %s differs", step, id);
  }
  INT_EQ(ci.rev, fi.rev);
  /* Given the revision (as a mount read it in the same transaction), the
   * same bytes again. */
  if (rc1 == ENG_OK && fi.rev > 0) {
    struct buf known = BUF_INIT;
    struct render_info ki = {0};
    RC_OK(
        load_render_cached(db->reader, cache, kind, id, 0, fi.rev, &known, &ki),
        db->reader);
    OK(known.len == fresh.len && memcmp(known.ptr, fresh.ptr, fresh.len) == 0,
       "step %d: %s differs with its revision given", step, id);
    INT_EQ(ki.rev, fi.rev);
    buf_release(&known);
  }
  buf_release(&cached);
  buf_release(&fresh);
}

static void check_all(struct db *db, struct blocks *cache, int step) {
  check_file(db, cache, DOC_SESSION, "s1", step);
  check_file(db, cache, DOC_SESSION, "s2", step);
  for (int g = 0; g < db->ngroups; g++) {
    char *id = group_id(g);
    check_file(db, cache, DOC_GROUP, id, step);
    free(id);
  }
  for (int t = 0; t < db->ntasks; t++) {
    char *id = task_id(t);
    check_file(db, cache, DOC_TASK, id, step);
    free(id);
  }
}

static void test_property(void) {
  rng_state = SEED;
  for (int n = 0; n < DATABASES; n++) {
    struct db db;
    db_open(&db, n);
    /* Budgets from a few pieces (constant eviction) to all of them. */
    size_t budget = n % 3 == 0 ? 4096 : n % 3 == 1 ? 64 << 10 : 64 << 20;
    struct blocks *cache = blocks_new(budget);
    check_all(&db, cache, 0);
    for (int step = 1; step <= STEPS; step++) {
      int what = pick(10);
      if (what < 6)
        change_by_store(&db);
      else if (what < 9)
        change_by_sql(&db);
      else
        render_in_rollback(&db, cache);
      check_all(&db, cache, step);
    }
    struct blocks_stats s;
    blocks_stats(cache, &s);
    OK(s.bytes <= budget, "%zu bytes held over a budget of %zu", s.bytes,
       budget);
    /* The smallest budget holds fewer pieces than a file shows. */
    OK(budget == 4096 || s.hits > 0,
       "database %d: no piece came from the "
       "cache",
       n);
    blocks_free(cache);
    db_close(&db);
  }
  OK(compared > 10000, "only %d renderings compared", compared);
  OK(changes_by_store > 200 && changes_by_sql > 100,
     "%d changes by the store, %d by SQL", changes_by_store, changes_by_sql);
  printf("property: %d changes by the store, %d by SQL; %d renderings "
         "compared, %d differed\n",
         changes_by_store, changes_by_sql, compared, differed);
}

/* After one task's change, a group file's cold read renders that task's
 * two pieces and takes every other one from the cache. */
static void test_one_change(void) {
  struct db db;
  rng_state = SEED + 1;
  db_open(&db, 100);
  must(store_begin(db.other), db.other, "begin");
  for (int t = 0; t < 40; t++)
    add_task(&db, 0);
  must(store_commit(db.other), db.other, "commit");
  struct blocks *cache = blocks_new(64 << 20);
  struct buf b = BUF_INIT;
  RC_OK(load_render_cached(db.reader, cache, DOC_GROUP, "g0", 0, 0, &b, NULL),
        db.reader);
  struct task *ts = NULL;
  size_t nt = 0;
  RC_OK(store_task_list_group(db.reader, "g0", false, &ts, &nt), db.reader);
  if (nt < 10)
    die("test_blocks: %zu tasks in g0", nt);
  sql_exec(&db, "UPDATE tasks SET title = 'Changed' WHERE id = '%s'",
           ts[nt / 2].id);
  struct blocks_stats before, after;
  blocks_stats(cache, &before);
  buf_truncate(&b, 0);
  RC_OK(load_render_cached(db.reader, cache, DOC_GROUP, "g0", 0, 0, &b, NULL),
        db.reader);
  blocks_stats(cache, &after);
  INT_EQ(after.misses - before.misses, 2);
  INT_EQ(after.hits - before.hits, 2 * (nt - 1));
  OK(strstr(b.ptr, "Changed") != NULL, "the change is shown");
  store_tasks_free(ts, nt);
  buf_release(&b);
  blocks_free(cache);
  db_close(&db);
}

/* Pieces rendered inside a write transaction that rolls back are not
 * kept: the next commit stamps the same revision (and here, by plain SQL,
 * the same time) on another state of the task. */
static void test_rollback(void) {
  struct db db;
  rng_state = SEED + 2;
  db_open(&db, 101);
  struct blocks *cache = blocks_new(64 << 20);
  struct task t;
  task_init(&t);
  RC_OK(store_begin(db.reader), db.reader);
  RC_OK(store_task_get(db.reader, "k0", &t), db.reader);
  free(t.title);
  t.title = xstrdup("Rolled back");
  RC_OK(store_task_update(db.reader, &t), db.reader);
  task_release(&t);
  task_init(&t);
  RC_OK(store_task_get(db.reader, "k0", &t), db.reader);
  struct buf b = BUF_INIT;
  RC_OK(load_render_cached(db.reader, cache, DOC_GROUP, t.group_id, 0, 0, &b,
                           NULL),
        db.reader);
  buf_truncate(&b, 0);
  RC_OK(load_render_cached(db.reader, cache, DOC_TASK, "k0", 0, 0, &b, NULL),
        db.reader);
  OK(strstr(b.ptr, "Rolled back") != NULL, "rendered in the transaction");
  store_rollback(db.reader);
  sql_exec(&db, "UPDATE tasks SET title = 'Committed' WHERE id = 'k0'");
  sql_exec(&db, "UPDATE tasks SET updated_at = '%s' WHERE id = 'k0'",
           t.updated_at);
  struct task now;
  task_init(&now);
  RC_OK(store_task_get(db.reader, "k0", &now), db.reader);
  INT_EQ(now.rev, t.rev);
  STR_EQ(now.updated_at, t.updated_at);
  check_file(&db, cache, DOC_GROUP, t.group_id, 0);
  check_file(&db, cache, DOC_TASK, "k0", 0);
  task_release(&now);
  task_release(&t);
  buf_release(&b);
  blocks_free(cache);
  db_close(&db);
}

/* The bound: entries beyond the budget go, least recently used first. */
static void test_bound(void) {
  struct blocks *b = blocks_new(4096);
  char key[32], text[200];
  memset(text, 'x', sizeof text);
  for (int i = 0; i < 100; i++) {
    snprintf(key, sizeof key, "k%d", i);
    blocks_put(b, key, strlen(key), text, sizeof text);
    struct buf out = BUF_INIT;
    OK(blocks_get(b, "k0", 2, &out), "k0 kept while used");
    buf_release(&out);
  }
  struct blocks_stats s;
  blocks_stats(b, &s);
  OK(s.bytes <= 4096 && s.count > 5, "%zu entries, %zu bytes", s.count,
     s.bytes);
  struct buf out = BUF_INIT;
  OK(!blocks_get(b, "k1", 2, &out), "k1 dropped");
  OK(blocks_get(b, "k99", 3, &out) && out.len == sizeof text, "k99 kept");
  blocks_put(b, "big", 3, buf_empty, 0);
  char *big = xcalloc(1, 2048);
  blocks_put(b, "big", 3, big, 2048); /* over a quarter: not kept */
  buf_truncate(&out, 0);
  OK(!blocks_get(b, "big", 3, &out), "an entry over a quarter is not kept");
  free(big);
  buf_release(&out);
  blocks_clear(b);
  blocks_stats(b, &s);
  INT_EQ(s.count, 0);
  INT_EQ(s.bytes, 0);
  blocks_free(b);
}

/* Threads sharing one small cache: every text read back is the one put
 * under its key. */
static struct blocks *shared;
static int thread_errors;

static void *hammer(void *arg) {
  uint64_t x = (uintptr_t)arg * 0x9e3779b97f4a7c15ULL + 1;
  struct buf out = BUF_INIT;
  char key[32], want[64];
  for (int i = 0; i < 20000; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    int k = (int)(x % 300);
    snprintf(key, sizeof key, "key-%d", k);
    snprintf(want, sizeof want, "text of %d, %.*s", k, k % 30,
             "..............................");
    buf_truncate(&out, 0);
    if (x & 1)
      blocks_put(shared, key, strlen(key), want, strlen(want));
    else if (blocks_get(shared, key, strlen(key), &out) &&
             strcmp(out.ptr, want) != 0)
      __atomic_add_fetch(&thread_errors, 1, __ATOMIC_RELAXED);
  }
  buf_release(&out);
  return NULL;
}

static void test_threads(void) {
  shared = blocks_new(8192);
  pthread_t th[4];
  for (uintptr_t i = 0; i < 4; i++)
    pthread_create(&th[i], NULL, hammer, (void *)i);
  for (int i = 0; i < 4; i++)
    pthread_join(th[i], NULL);
  INT_EQ(thread_errors, 0);
  struct blocks_stats s;
  blocks_stats(shared, &s);
  OK(s.bytes <= 8192, "%zu bytes", s.bytes);
  blocks_free(shared);
}

int main(void) {
  test_bound();
  test_threads();
  test_one_change();
  test_rollback();
  test_property();
  return harness_done("blocks");
}
