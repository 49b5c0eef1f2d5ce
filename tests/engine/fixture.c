/* SPDX-License-Identifier: MIT */
/* fixture.c: the deterministic test database of fixture.h. */
#include "fixture.h"
#include "util.h"

#include <libpq-fe.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void must(int rc, struct store *st, const char *what) {
  if (rc)
    die("fixture: %s: %s", what, store_errmsg(st));
}

static void add_task(struct store *st, const char *id, const char *group,
                     const char *title, int status, int progress) {
  struct task t;
  task_init(&t);
  t.id = xstrdup(id);
  t.group_id = xstrdup(group);
  t.title = xstrdup(title);
  t.status = status;
  t.progress = progress;
  t.priority = PRIORITY_HIGH;
  t.specialist = xstrdup("implementer");
  t.estimate = 4;
  t.description = xstrdup("Describe it.");
  must(store_task_insert(st, &t), st, id);
  task_release(&t);
}

/* The connection that makes the schemas this process uses on
 * PostgreSQL, and drops them at exit. */
static PGconn *pg_admin_conn;
static int pg_schemas;

static void pg_admin(const char *sql) {
  PGresult *r = PQexec(pg_admin_conn, sql);
  if (PQresultStatus(r) != PGRES_COMMAND_OK)
    die("fixture: %s: %s", sql, PQerrorMessage(pg_admin_conn));
  PQclear(r);
}

static void pg_drop_schemas(void) {
  for (int i = 0; i < pg_schemas; i++) {
    char sql[96];
    snprintf(sql, sizeof sql, "DROP SCHEMA fixture_%d_%d CASCADE",
             (int)getpid(), i);
    pg_admin(sql);
  }
  PQfinish(pg_admin_conn);
}

char *fixture_pg_target(void) {
  const char *base = getenv("TASKFS_TEST_PG");
  if (!base || !*base)
    return NULL;
  if (!pg_admin_conn) {
    pg_admin_conn = PQconnectdb(base);
    if (PQstatus(pg_admin_conn) != CONNECTION_OK)
      die("fixture: cannot connect to TASKFS_TEST_PG: %s",
          PQerrorMessage(pg_admin_conn));
    /* After libpq's own exit handlers were registered, so that this one
     * runs before them. */
    atexit(pg_drop_schemas);
    pg_admin("SET client_min_messages = warning");
  }
  char sql[96];
  snprintf(sql, sizeof sql, "CREATE SCHEMA fixture_%d_%d", (int)getpid(),
           pg_schemas);
  pg_admin(sql);
  return xasprintf("%s%soptions=-csearch_path%%3Dfixture_%d_%d", base,
                   strchr(base, '?') ? "&" : "?", (int)getpid(), pg_schemas++);
}

struct store *fixture_open(void) {
  if (!getenv("TASKFS_FIXTURE_PG"))
    return fixture_open_at(":memory:");
  char *target = fixture_pg_target();
  if (!target) {
    printf("TASKFS_TEST_PG is not set: no PostgreSQL to test on\n");
    exit(77);
  }
  struct store *st = fixture_open_at(target);
  free(target);
  return st;
}

struct store *fixture_open_at(const char *path) {
  struct store *st;
  int rc = store_open(path, STORE_CREATE, &st);
  must(rc, st, "open");
  store_set_source(st, "test");
  must(store_begin(st), st, "begin");
  struct session s;
  session_init(&s);
  s.id = xstrdup("s1");
  s.title = xstrdup("Dashboard");
  s.mode = xstrdup("development");
  must(store_session_insert(st, &s), st, "session");
  session_release(&s);
  const char *groups[][3] = {{"frontend_group_001", "frontend", "Frontend"},
                             {"backend_group_001", "backend", "Backend"}};
  for (int i = 0; i < 2; i++) {
    struct group g;
    group_init(&g);
    g.id = xstrdup(groups[i][0]);
    g.session_id = xstrdup("s1");
    g.name = xstrdup(groups[i][1]);
    g.title = xstrdup(groups[i][2]);
    g.status = STATUS_ACTIVE;
    g.priority = PRIORITY_HIGH;
    must(store_group_insert(st, &g), st, "group");
    group_release(&g);
  }
  add_task(st, "t1", "frontend_group_001", "Set up project", STATUS_COMPLETED,
           100);
  add_task(st, "t2", "frontend_group_001", "Build layout", STATUS_ACTIVE, 60);
  add_task(st, "t3", "frontend_group_001", "Charts", STATUS_PLANNED, 0);
  add_task(st, "t4", "frontend_group_001", "Login form", STATUS_BLOCKED, 10);
  add_task(st, "t5", "backend_group_001", "API", STATUS_ACTIVE, 30);
  must(store_commit(st), st, "commit");
  return st;
}
