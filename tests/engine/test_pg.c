/* SPDX-License-Identifier: MIT */
/* test_pg.c: what is particular to the PostgreSQL backend: targets shown
 * without their password, changes by plain SQL of another program seen
 * and versioned, the source of changes, a lost connection made again,
 * a lock held elsewhere, a libpq service with the password in
 * PGPASSWORD. Needs TASKFS_TEST_PG but for the targets. */
#include "fixture.h"
#include "harness.h"
#include "pg.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void redacts(const char *target, const char *want) {
  char *got = store_pg_redact(target);
  STR_EQ(got, want);
  free(got);
}

static void test_targets(void) {
  OK(store_pg_target("postgresql://h/db"), "postgresql URI");
  OK(store_pg_target("postgres://h/db"), "postgres URI");
  OK(store_pg_target("service=team"), "service");
  OK(!store_pg_target("/var/lib/tasks.db"), "a file");
  OK(!store_pg_target("postgresql.db"), "a file named so");

  redacts("postgresql://u:s3cret@host:5432/db?sslmode=require",
          "postgresql://u@host:5432/db?sslmode=require");
  redacts("postgres://u:p%40ss@h/db", "postgres://u@h/db");
  redacts("postgresql://u@h/db", "postgresql://u@h/db");
  redacts("postgresql://h,h2:5433/db", "postgresql://h,h2:5433/db");
  redacts("postgresql:///db?host=/run/pg&password=x&port=5",
          "postgresql:///db?host=/run/pg&port=5");
  redacts("postgresql:///db?password=x", "postgresql:///db");
  redacts("postgresql://:pw@/db", "postgresql://@/db");
  redacts("service=team password=secret sslmode=verify-full",
          "service=team sslmode=verify-full");
  redacts("service=team password='a b\\' c' user=x", "service=team user=x");
  redacts("service=team password = x", "service=team");
}

/* Runs sql on a connection of its own, as another program would. */
static PGresult *other(const char *target, const char *sql) {
  PGconn *c = PQconnectdb(target);
  OK(PQstatus(c) == CONNECTION_OK, "%s", PQerrorMessage(c));
  PGresult *r = PQexec(c, sql);
  PQfinish(c);
  return r;
}

static void other_ok(const char *target, const char *sql) {
  PGresult *r = other(target, sql);
  ExecStatusType s = PQresultStatus(r);
  OK(s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK, "%s: %s", sql,
     PQresultErrorMessage(r));
  PQclear(r);
}

/* On the fixture's records (fixture.h): task t3 "Charts" is planned, at
 * 0%, estimated 4 hours, in frontend_group_001 of session s1. */
static void test_plain_sql(const char *target) {
  struct store *st = fixture_open_at(target);
  OK(!strstr(store_path(st), "taskfs-secret"), "no password in %s",
     store_path(st));
  STR_EQ(store_backend(st), "postgresql");
  const char *g = "frontend_group_001";
  store_poll(st);
  OK(!store_poll(st), "nothing new");
  int64_t r0 = store_revision(st);
  struct group before;
  group_init(&before);
  RC_OK(store_group_get(st, g, &before), st);

  /* Another program's UPDATE: one revision, a history row per field,
   * from "sql", and a notification that store_poll reads. */
  other_ok(target, "UPDATE tasks SET status = 'active', progress = 20"
                   " WHERE id = 't3'");
  OK(store_poll(st), "poll sees the other connection's commit");
  /* Its notification may come a moment later and be reported again, but
   * poll then settles. */
  int polls = 0;
  while (store_poll(st) && polls < 50) {
    usleep(10000);
    polls++;
  }
  OK(polls < 50, "poll settles");
  INT_EQ(store_revision(st), r0 + 1);
  struct change *ch;
  size_t n;
  RC_OK(store_changes_since(st, r0, "s1", 0, &ch, &n), st);
  INT_EQ(n, 2);
  for (size_t i = 0; i < n; i++) {
    STR_EQ(ch[i].source, "sql");
    INT_EQ(ch[i].rev, r0 + 1);
  }
  if (n == 2) {
    STR_EQ(ch[0].field, "status");
    STR_EQ(ch[0].old_value, "planned");
    STR_EQ(ch[1].field, "progress");
    STR_EQ(ch[1].new_value, "20");
  }
  store_changes_free(ch, n);
  struct task now;
  task_init(&now);
  RC_OK(store_task_get(st, "t3", &now), st);
  INT_EQ(now.rev, r0 + 1);
  OK(now.updated_at && strlen(now.updated_at) == 23 &&
         now.updated_at[10] == ' ' && now.updated_at[19] == '.',
     "updated_at in SQLite's format: %s", now.updated_at);

  /* A change of a task's group bumps both groups' members_rev; a hard
   * DELETE keeps the row whole in the history, numbers as numbers. */
  int64_t r1 = store_revision(st);
  other_ok(target, "DELETE FROM tasks WHERE id = 't3'");
  struct group after;
  group_init(&after);
  RC_OK(store_group_get(st, g, &after), st);
  INT_EQ(after.members_rev, r1 + 1);
  OK(after.members_rev > before.members_rev, "members_rev bumped");
  INT_EQ(store_task_get(st, "t3", &now), ENG_NOTFOUND);
  struct asof *a;
  RC_OK(store_asof_open(st, r1, &a), st);
  struct task old;
  task_init(&old);
  RC_OK(store_asof_task(a, "t3", &old), st);
  STR_EQ(old.title, "Charts");
  STR_EQ(old.group_id, g);
  INT_EQ(old.progress, 20);
  OK(old.estimate == 4, "estimate %g", old.estimate);
  store_asof_close(a);
  PGresult *r =
      other(target, "SELECT old_value::json->>'progress',"
                    " json_typeof(old_value::json->'progress') FROM history"
                    " WHERE op = 'delete'");
  OK(PQntuples(r) == 1, "one snapshot");
  if (PQntuples(r) == 1) {
    STR_EQ(PQgetvalue(r, 0, 0), "20");
    STR_EQ(PQgetvalue(r, 0, 1), "number");
  }
  PQclear(r);

  /* Ids cannot change, even through SQL. */
  r = other(target, "UPDATE task_groups SET id = 'x'");
  OK(PQresultStatus(r) == PGRES_FATAL_ERROR, "id update refused");
  PQclear(r);

  /* The source of this program's changes. */
  store_set_source(st, "taskctl");
  RC_OK(store_begin(st), st);
  RC_OK(store_field_set(st, "group", g, "title", "Ops"), st);
  RC_OK(store_commit(st), st);
  struct change last;
  memset(&last, 0, sizeof last);
  RC_OK(store_last_change(st, "group", g, "title", &last), st);
  STR_EQ(last.source, "taskctl");
  STR_EQ(last.new_value, "Ops");
  store_change_release(&last);

  /* A failed statement leaves the transaction usable, as on SQLite. */
  RC_OK(store_begin(st), st);
  struct group dup;
  group_init(&dup);
  dup.id = xstrdup(g);
  dup.session_id = xstrdup("s1");
  dup.name = xstrdup("other");
  dup.title = xstrdup("Other");
  INT_EQ(store_group_insert(st, &dup), ENG_EXISTS);
  RC_OK(store_field_set(st, "group", g, "title", "Ops 2"), st);
  RC_OK(store_commit(st), st);
  group_release(&dup);

  task_release(&old);
  task_release(&now);
  group_release(&after);
  group_release(&before);
  store_close(st);
}

/* The backend process of st ended by the server: the call that finds out
 * fails with ENG_DB, and the next one works on a new connection. */
static void test_reconnect(const char *target) {
  struct store *st;
  /* A name of its own, so that no other test's connection is ended. */
  char *named =
      xasprintf("%s&application_name=test_pg_%d", target, (int)getpid());
  RC_OK(store_open(named, 0, &st), st);
  store_poll(st);
  char *kill = xasprintf("SELECT pg_terminate_backend(pid) FROM"
                         " pg_stat_activity WHERE application_name ="
                         " 'test_pg_%d'",
                         (int)getpid());
  PGresult *r = other(target, kill);
  INT_EQ(PQntuples(r), 1);
  PQclear(r);
  free(named);
  struct session s;
  session_init(&s);
  INT_EQ(store_session_get(st, "s1", &s), ENG_DB);
  OK(strstr(store_errmsg(st), "lost the connection"), "%s", store_errmsg(st));
  OK(!strstr(store_errmsg(st), "taskfs-secret"), "%s", store_errmsg(st));
  RC_OK(store_session_get(st, "s1", &s), st);
  STR_EQ(s.title, "Dashboard");
  OK(store_poll(st), "a new connection may have missed changes");

  /* Lost inside a transaction: its statements fail until it is ended,
   * and the next transaction runs on a new connection. */
  RC_OK(store_begin(st), st);
  PQclear(other(target, kill));
  INT_EQ(store_field_set(st, "session", "s1", "title", "Lost"), ENG_DB);
  INT_EQ(store_field_set(st, "session", "s1", "title", "Lost"), ENG_DB);
  /* Whether a record exists is not answered either: no "no". */
  bool yes = true;
  INT_EQ(store_exists(st, RK_SESSION, "s1", &yes), ENG_DB);
  OK(!yes, "no answer given");
  store_rollback(st);
  RC_OK(store_begin(st), st);
  RC_OK(store_field_set(st, "session", "s1", "title", "Found"), st);
  RC_OK(store_commit(st), st);
  /* And inside a read snapshot. */
  RC_OK(store_read_begin(st), st);
  PQclear(other(target, kill));
  INT_EQ(store_session_get(st, "s1", &s), ENG_DB);
  store_read_end(st);
  RC_OK(store_read_begin(st), st);
  RC_OK(store_session_get(st, "s1", &s), st);
  STR_EQ(s.title, "Found");
  store_read_end(st);
  free(kill);
  session_release(&s);
  store_close(st);
}

/* A write lock held by another program: ENG_BUSY after busy_ms. */
static void test_busy(const char *target) {
  struct store *st;
  RC_OK(store_open(target, 0, &st), st);
  store_set_busy_ms(st, 200);
  PGconn *c = PQconnectdb(target);
  PQclear(PQexec(c, "BEGIN"));
  PQclear(PQexec(c, "UPDATE revision SET rev = rev WHERE id = 1"));
  INT_EQ(store_begin(st), ENG_BUSY);
  OK(strstr(store_errmsg(st), "locked by another program"), "%s",
     store_errmsg(st));
  PQclear(PQexec(c, "ROLLBACK"));
  PQfinish(c);
  RC_OK(store_begin(st), st);
  RC_OK(store_commit(st), st);
  store_close(st);
}

/* A newer taskfs upgrading the schema under an open store changes no
 * record and sends no notification: store_poll still reports it, so that
 * a mount checks the schema and turns read-only. */
static void test_schema_upgraded(const char *target) {
  struct store *st;
  RC_OK(store_open(target, 0, &st), st);
  int polls = 0;
  while (store_poll(st) && polls < 50) {
    usleep(10000);
    polls++;
  }
  OK(!store_poll(st), "nothing new");
  bool newer = true;
  RC_OK(store_schema_check(st, &newer), st);
  OK(!newer, "the schema is this build's");
  other_ok(target, "UPDATE taskfs_schema SET version = version + 1");
  OK(store_poll(st), "poll sees the schema upgraded");
  RC_OK(store_schema_check(st, &newer), st);
  OK(newer, "the schema is newer than this build's");
  OK(!store_poll(st), "nothing new after that");
  other_ok(target, "UPDATE taskfs_schema SET version = version - 1");
  OK(store_poll(st), "poll sees the schema changed back");
  store_close(st);
}

static void test_open_failures(const char *target) {
  struct store *st;
  /* A schema with no taskfs tables, without STORE_CREATE. */
  char *empty = fixture_pg_target();
  INT_EQ(store_open(empty, 0, &st), ENG_NOTFOUND);
  OK(strstr(store_errmsg(st), "taskctl"), "%s", store_errmsg(st));
  store_close(st);
  free(empty);
  /* A wrong password: refused, and not shown. */
  const char *at = strstr(target, "taskfs-secret");
  if (at) {
    char *wrong = xasprintf("%.*swrong-one%s", (int)(at - target), target,
                            at + strlen("taskfs-secret"));
    OK(store_open(wrong, 0, &st) != ENG_OK, "wrong password refused");
    OK(!strstr(store_errmsg(st), "wrong-one"), "%s", store_errmsg(st));
    OK(!strstr(store_path(st), "wrong-one"), "%s", store_path(st));
    store_close(st);
    free(wrong);
  }
  /* Whole-database backups are pg_dump's. */
  RC_OK(store_open(target, 0, &st), st);
  INT_EQ(store_dbbackup_write(st, "/tmp/never.db", 0, NULL), ENG_INVALID);
  OK(strstr(store_errmsg(st), "pg_dump"), "%s", store_errmsg(st));
  store_close(st);
}

/* A libpq service naming the same database, and the password in
 * PGPASSWORD: libpq's usual places, nothing of them in the target. */
static void test_service(const char *target) {
  char *err = NULL;
  PQconninfoOption *opts = PQconninfoParse(target, &err);
  OK(opts != NULL, "%s", err ? err : "");
  if (!opts) {
    PQfreemem(err);
    return;
  }
  char dir[] = "/tmp/test_pg.XXXXXX";
  OK(mkdtemp(dir) != NULL, "mkdtemp");
  char *file = xasprintf("%s/pg_service.conf", dir);
  FILE *f = fopen(file, "w");
  fprintf(f, "[taskfs_test]\n");
  for (PQconninfoOption *o = opts; o->keyword; o++) {
    if (!o->val)
      continue;
    if (strcmp(o->keyword, "password") == 0)
      setenv("PGPASSWORD", o->val, 1);
    else
      fprintf(f, "%s=%s\n", o->keyword, o->val);
  }
  fclose(f);
  PQconninfoFree(opts);
  setenv("PGSERVICEFILE", file, 1);

  struct store *st;
  RC_OK(store_open("service=taskfs_test", 0, &st), st);
  STR_EQ(store_path(st), "service=taskfs_test");
  struct session s;
  session_init(&s);
  RC_OK(store_session_get(st, "s1", &s), st);
  STR_EQ(s.title, "Found");
  session_release(&s);
  store_close(st);

  unsetenv("PGSERVICEFILE");
  unsetenv("PGPASSWORD");
  unlink(file);
  rmdir(dir);
  free(file);
}

int main(void) {
  test_targets();
  char *target = fixture_pg_target();
  if (!target) {
    int rc = harness_done("pg");
    printf("TASKFS_TEST_PG is not set: only the targets were tested\n");
    return rc ? rc : 77;
  }
  test_plain_sql(target);
  test_reconnect(target);
  test_busy(target);
  test_schema_upgraded(target);
  test_service(target);
  test_open_failures(target);
  free(target);
  return harness_done("pg");
}
