/* SPDX-License-Identifier: MIT */
/* pg.c: the PostgreSQL backend: targets and their passwords, connection
 * and reconnection, errors, prepared statements, schema, triggers and
 * migrations, transactions and change notification. Knows nothing of
 * markdown or FUSE; the rows are in pg_records.c and pg_history.c. */
#include "pg.h"
#include "store.h"
#include "util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- targets ---- */

static bool starts_with(const char *s, const char *prefix) {
  return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool store_pg_target(const char *target) {
  return starts_with(target, "postgresql://") ||
         starts_with(target, "postgres://") || starts_with(target, "service=");
}

/* Appends the parameters of a URI's query (after '?') but password. */
static void add_query_without_password(struct buf *b, const char *q) {
  bool first = true;
  while (*q) {
    const char *end = strchr(q, '&');
    size_t n = end ? (size_t)(end - q) : strlen(q);
    if (!(n >= 9 && strncmp(q, "password=", 9) == 0) &&
        !(n == 8 && strncmp(q, "password", 8) == 0)) {
      buf_addc(b, first ? '?' : '&');
      buf_add(b, q, n);
      first = false;
    }
    q += n;
    if (*q == '&')
      q++;
  }
}

/* The end of a key/value string's value at p: quoted ('a b', with \'
 * escapes) or up to white space. */
static const char *kv_value_end(const char *p) {
  if (*p != '\'') {
    while (*p && *p != ' ' && *p != '\t' && *p != '\n')
      p++;
    return p;
  }
  for (p++; *p && *p != '\''; p++)
    if (*p == '\\' && p[1])
      p++;
  return *p ? p + 1 : p;
}

char *store_pg_redact(const char *target) {
  struct buf b = BUF_INIT;
  const char *scheme = strstr(target, "://");
  if (scheme) {
    const char *auth = scheme + 3;
    size_t auth_len = strcspn(auth, "/?");
    const char *at = NULL;
    for (const char *p = auth; p < auth + auth_len; p++)
      if (*p == '@')
        at = p;
    buf_add(&b, target, (size_t)(auth - target));
    if (at) {
      const char *colon = memchr(auth, ':', (size_t)(at - auth));
      buf_add(&b, auth, (size_t)((colon ? colon : at) - auth));
      buf_add(&b, at, (size_t)(auth + auth_len - at));
    } else {
      buf_add(&b, auth, auth_len);
    }
    const char *rest = auth + auth_len;
    const char *q = strchr(rest, '?');
    buf_add(&b, rest, q ? (size_t)(q - rest) : strlen(rest));
    if (q)
      add_query_without_password(&b, q + 1);
    return buf_detach(&b, NULL);
  }
  /* key=value pairs separated by white space */
  const char *p = target;
  while (*p) {
    const char *start = p;
    while (*p == ' ' || *p == '\t' || *p == '\n')
      p++;
    const char *key = p;
    while (*p && *p != '=' && *p != ' ' && *p != '\t' && *p != '\n')
      p++;
    size_t klen = (size_t)(p - key);
    while (*p == ' ' || *p == '\t')
      p++;
    if (*p == '=') {
      p++;
      while (*p == ' ' || *p == '\t')
        p++;
      p = kv_value_end(p);
    }
    if (!(klen == 8 && strncmp(key, "password", 8) == 0))
      buf_add(&b, start, (size_t)(p - start));
    if (p == start)
      p++;
  }
  return buf_detach(&b, NULL);
}

/* ---- errors ---- */

static bool sqlstate_is(const char *state, const char *code) {
  return state && strcmp(state, code) == 0;
}

static bool sqlstate_class(const char *state, const char *cls) {
  return state && strncmp(state, cls, 2) == 0;
}

/* The eng_rc of an SQLSTATE. */
static int rc_from_sqlstate(const char *state) {
  if (!state)
    return ENG_DB;
  if (sqlstate_is(state, "40001") || sqlstate_is(state, "40P01") ||
      sqlstate_is(state, "55P03") || sqlstate_is(state, "57014"))
    return ENG_BUSY;
  if (sqlstate_is(state, "23505"))
    return ENG_EXISTS;
  if (sqlstate_class(state, "23") || sqlstate_class(state, "22") ||
      sqlstate_is(state, "P0001"))
    return sqlstate_is(state, "22001") || sqlstate_is(state, "54000")
               ? ENG_TOOBIG
               : ENG_INVALID;
  if (sqlstate_is(state, "54000"))
    return ENG_TOOBIG;
  if (sqlstate_is(state, "25006") || sqlstate_is(state, "42501") ||
      sqlstate_class(state, "28"))
    return ENG_READONLY;
  if (sqlstate_is(state, "53100"))
    return ENG_FULL;
  if (sqlstate_is(state, "XX001") || sqlstate_is(state, "XX002"))
    return ENG_CORRUPT;
  if (sqlstate_is(state, "3D000"))
    return ENG_NOTFOUND;
  if (sqlstate_is(state, "42P01") || sqlstate_is(state, "42883"))
    return ENG_SCHEMA;
  return ENG_DB;
}

/* libpq's message on one line, without its trailing newline. */
static void add_message(struct buf *b, const char *msg) {
  size_t n = strlen(msg);
  while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
    n--;
  for (size_t i = 0; i < n; i++)
    buf_addc(b, msg[i] == '\n' ? ' ' : msg[i]);
}

int pg_fail(struct store *st, const PGresult *res) {
  PGconn *c = pg(st)->conn;
  struct buf msg = BUF_INIT;
  int rc;
  if (!c || PQstatus(c) != CONNECTION_OK) {
    add_message(&msg, c ? PQerrorMessage(c) : "no connection");
    rc = store_fail(st, ENG_DB,
                    "lost the connection to database %s (it is made again "
                    "on the next call): %s",
                    st->path, msg.ptr);
    buf_release(&msg);
    return rc;
  }
  const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
  const char *primary =
      res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
  add_message(&msg, primary ? primary : PQerrorMessage(c));
  rc = rc_from_sqlstate(state);
  switch (rc) {
  case ENG_BUSY:
    store_fail(st, rc,
               "database %s is locked by another program (waited %d ms): %s",
               st->path, st->busy_ms, msg.ptr);
    break;
  case ENG_READONLY:
    store_fail(st, rc, "database %s cannot be written: %s", st->path, msg.ptr);
    break;
  case ENG_FULL:
    store_fail(st, rc, "no space left for database %s: %s", st->path, msg.ptr);
    break;
  default:
    store_fail(st, rc, "%s", msg.ptr);
  }
  buf_release(&msg);
  return rc;
}

/* ---- parameters and results ---- */

static void param_add(struct pg_params *p, const char *v, int len, int fmt) {
  if (p->n >= PG_MAX_PARAMS)
    die("too many statement parameters");
  p->v[p->n] = v;
  p->len[p->n] = len;
  p->fmt[p->n] = fmt;
  p->owned[p->n] = NULL;
  p->type[p->n] = 0;
  p->n++;
}

void pg_param_text(struct pg_params *p, const char *v) {
  param_add(p, v, 0, 0);
}

void pg_param_take(struct pg_params *p, char *v) {
  param_add(p, v, 0, 0);
  p->owned[p->n - 1] = v;
}

void pg_param_int(struct pg_params *p, int64_t v) {
  param_add(p, NULL, 0, 0);
  snprintf(p->num[p->n - 1], sizeof p->num[0], "%lld", (long long)v);
  p->v[p->n - 1] = p->num[p->n - 1];
}

void pg_param_bool(struct pg_params *p, bool v) {
  param_add(p, v ? "t" : "f", 0, 0);
}

void pg_param_bin(struct pg_params *p, const void *v, size_t len) {
  if (len > INT32_MAX)
    die("parameter of %zu bytes", len);
  /* A non-NULL pointer even for no bytes: NULL would be SQL NULL. */
  param_add(p, v ? v : "", (int)len, 1);
}

static void params_release(struct pg_params *p) {
  if (!p)
    return;
  for (int i = 0; i < p->n; i++)
    free(p->owned[i]);
}

char *pg_text(const PGresult *r, int row, int col) {
  if (PQgetisnull(r, row, col))
    return NULL;
  return xstrndup(PQgetvalue(r, row, col), (size_t)PQgetlength(r, row, col));
}

char *pg_text_nn(const PGresult *r, int row, int col) {
  char *t = pg_text(r, row, col);
  return t ? t : xstrdup("");
}

int64_t pg_int(const PGresult *r, int row, int col) {
  if (PQgetisnull(r, row, col))
    return 0;
  return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

double pg_real(const PGresult *r, int row, int col) {
  if (PQgetisnull(r, row, col))
    return NAN;
  return strtod(PQgetvalue(r, row, col), NULL);
}

char *pg_bytes(const PGresult *r, int row, int col, size_t *len) {
  size_t n = 0;
  unsigned char *raw = NULL;
  if (!PQgetisnull(r, row, col)) {
    raw = PQunescapeBytea((const unsigned char *)PQgetvalue(r, row, col), &n);
    if (!raw)
      die("out of memory reading bytes from PostgreSQL");
  }
  char *out = xmalloc(n + 1);
  if (n)
    memcpy(out, raw, n);
  out[n] = '\0';
  PQfreemem(raw);
  *len = n;
  return out;
}

int pg_rows(int rc, PGresult *r, size_t size, pg_read_fn *read, void **out,
            size_t *n) {
  *out = NULL;
  *n = 0;
  if (rc)
    return rc;
  size_t len = (size_t)PQntuples(r);
  char *v = xcalloc(len + 1, size);
  for (size_t i = 0; i < len; i++)
    read(r, (int)i, v + i * size);
  PQclear(r);
  *out = v;
  *n = len;
  return ENG_OK;
}

int pg_select(struct store *st, int slot, const char *sql, struct pg_params *p,
              size_t size, pg_read_fn *read, void **out, size_t *n) {
  PGresult *r = NULL;
  int rc = pg_run(st, slot, sql, p, &r);
  return pg_rows(rc, r, size, read, out, n);
}

int pg_row(int rc, PGresult *r, pg_read_fn *read, void *out) {
  if (rc)
    return rc;
  bool found = PQntuples(r) > 0;
  if (found)
    read(r, 0, out);
  PQclear(r);
  return found ? ENG_OK : ENG_NOTFOUND;
}

/* ---- the connection ---- */

static int simple(struct store *st, int slot, const char *sql);

/* How long a statement waits for a lock held by another program. */
static int set_lock_timeout(struct store *st, int ms) {
  struct pg_params p = {0};
  pg_param_int(&p, ms > 0 ? ms : 1);
  return pg_run(st, PG_SET_LOCK_TIMEOUT,
                "SELECT set_config('lock_timeout', $1, false)", &p, NULL);
}

/* What every connection sets for itself: the wait for locks, read-only
 * transactions for a read-only store, and the channel of changes. */
static int session_setup(struct store *st) {
  int rc = set_lock_timeout(st, st->busy_ms);
  struct pg_params p = {0};
  pg_param_text(&p, st->readonly ? "on" : "off");
  if (rc == ENG_OK)
    rc = pg_run(st, PG_SET_READONLY,
                "SELECT set_config('default_transaction_read_only', $1,"
                " false), set_config('client_min_messages', 'warning',"
                " false)",
                &p, NULL);
  if (rc == ENG_OK)
    rc = simple(st, PG_LISTEN, "LISTEN taskfs");
  return rc;
}

/* A new connection has none of the old one's prepared statements; their
 * SQL is kept, to prepare them again on first use. */
static void forget_statements(struct store *st) {
  memset(pg(st)->prepared, 0, sizeof pg(st)->prepared);
}

/* A lost connection is made again before the next statement; what was
 * prepared on it is prepared again on first use. Not inside a transaction
 * of the lost connection: its statements fail until the caller ends it
 * (its work is gone), and the next one begins on a new connection. */
static int ensure_connection(struct store *st) {
  PGconn *c = pg(st)->conn;
  if (PQstatus(c) == CONNECTION_OK)
    return ENG_OK;
  if (pg(st)->in_transaction)
    return pg_fail(st, NULL);
  PQreset(c);
  forget_statements(st);
  if (PQstatus(c) != CONNECTION_OK)
    return pg_fail(st, NULL);
  pg(st)->reset = true;
  return session_setup(st);
}

int pg_exec(struct store *st, const char *sql) {
  PGresult *r = PQexec(pg(st)->conn, sql);
  ExecStatusType s = PQresultStatus(r);
  int rc =
      s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK ? ENG_OK : pg_fail(st, r);
  PQclear(r);
  return rc;
}

/* Prepares sql as the statement of slot on this connection, once. */
static int prepare(struct store *st, int slot, const char *sql,
                   const struct pg_params *p) {
  char *have = pg(st)->sql[slot];
  /* One slot, one statement: a slot reused for other SQL would run the
   * wrong statement. */
  if (have && sql && strcmp(have, sql) != 0)
    die("statement slot %d holds other SQL than '%s'", slot, sql);
  if (have && pg(st)->prepared[slot])
    return ENG_OK;
  if (!sql && !(sql = have))
    die("statement slot %d used before it was prepared", slot);
  char name[16];
  snprintf(name, sizeof name, "t%d", slot);
  PGresult *r =
      PQprepare(pg(st)->conn, name, sql, p ? p->n : 0, p ? p->type : NULL);
  int rc = PQresultStatus(r) == PGRES_COMMAND_OK ? ENG_OK : pg_fail(st, r);
  PQclear(r);
  if (rc == ENG_OK) {
    if (!have)
      pg(st)->sql[slot] = xstrdup(sql);
    pg(st)->prepared[slot] = true;
  }
  return rc;
}

static bool is_write(const char *sql) {
  return starts_with(sql, "INSERT") || starts_with(sql, "UPDATE") ||
         starts_with(sql, "DELETE");
}

static int simple(struct store *st, int slot, const char *sql) {
  return pg_run(st, slot, sql, NULL, NULL);
}

/* Runs the statement of slot once; *lost says whether the connection
 * was found lost by it. p stays the caller's. */
static int run_once(struct store *st, int slot, const char *sql,
                    const struct pg_params *p, PGresult **res, bool *lost) {
  *lost = false;
  int rc = ensure_connection(st);
  if (rc == ENG_OK)
    rc = prepare(st, slot, sql, p);
  if (rc)
    return rc;
  const char *text = pg(st)->sql[slot];
  bool savepoint = st->in_write && !pg(st)->bulk && is_write(text) &&
                   PQtransactionStatus(pg(st)->conn) == PQTRANS_INTRANS;
  if (savepoint && (rc = simple(st, PG_SAVEPOINT, "SAVEPOINT taskfs_stmt")))
    return rc;
  char name[16];
  snprintf(name, sizeof name, "t%d", slot);
  PGresult *r =
      PQexecPrepared(pg(st)->conn, name, p ? p->n : 0, p ? p->v : NULL,
                     p ? p->len : NULL, p ? p->fmt : NULL, 0);
  ExecStatusType s = PQresultStatus(r);
  if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK) {
    if (savepoint)
      rc = simple(st, PG_RELEASE, "RELEASE SAVEPOINT taskfs_stmt");
  } else {
    rc = pg_fail(st, r);
    *lost = PQstatus(pg(st)->conn) != CONNECTION_OK;
    if (savepoint && !*lost) {
      /* Keep the first message: the one of the statement. */
      struct buf keep = BUF_INIT;
      buf_adds(&keep, st->err.ptr);
      simple(st, PG_ROLLBACK_TO, "ROLLBACK TO SAVEPOINT taskfs_stmt");
      store_fail(st, rc, "%s", keep.ptr);
      buf_release(&keep);
    }
  }
  if (rc == ENG_OK && res)
    *res = r;
  else
    PQclear(r);
  return rc;
}

int pg_run(struct store *st, int slot, const char *sql, struct pg_params *p,
           PGresult **res) {
  if (res)
    *res = NULL;
  /* Whether the statement may be sent again on a new connection if this
   * one turns out lost (the server restarted, a connection killed): when
   * no transaction of the lost connection had begun and it changes
   * nothing (BEGIN, a read), so that nothing is applied twice. */
  bool again = !pg(st)->in_transaction;
  bool lost;
  int rc = run_once(st, slot, sql, p, res, &lost);
  if (rc && lost && again && pg(st)->sql[slot] && !is_write(pg(st)->sql[slot]))
    rc = run_once(st, slot, NULL, p, res, &lost);
  params_release(p);
  return rc;
}

int pg_run_built(struct store *st, int slot, int arg,
                 void (*build)(struct buf *, int), struct pg_params *p,
                 PGresult **res) {
  if (pg(st)->sql[slot])
    return pg_run(st, slot, NULL, p, res);
  struct buf sql = BUF_INIT;
  build(&sql, arg);
  int rc = pg_run(st, slot, sql.ptr, p, res);
  buf_release(&sql);
  return rc;
}

/* ---- schema ---- */

/* A versioned table: its record kind, and how to find the id and the
 * session of a row (X is replaced by NEW or OLD). Its columns are the
 * fields of record_kinds[kind]. */
struct table_desc {
  int kind;
  const char *key, *session_expr;
};

static const struct table_desc tables[] = {
    {RK_SESSION, "X.id", "X.id"},
    {RK_GROUP, "X.id", "X.session_id"},
    {RK_TASK, "X.id", "X.session_id"},
    {RK_SECTION, "CAST(X.id AS TEXT)",
     "CASE X.owner_kind WHEN 'session' THEN X.owner_id"
     " WHEN 'group' THEN (SELECT session_id FROM task_groups"
     " WHERE id = X.owner_id)"
     " ELSE (SELECT session_id FROM tasks WHERE id = X.owner_id) END"},
};

/* The columns every versioned table ends with: its soft deletion and the
 * store's record of its creation and last change. */
#define STORE_COLUMNS                                                          \
  "  deleted INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),\n"          \
  "  created_at TEXT,\n"                                                       \
  "  updated_at TEXT,\n"                                                       \
  "  rev BIGINT NOT NULL DEFAULT 0,\n"                                         \
  "  created_rev BIGINT NOT NULL DEFAULT 0"

/* The same tables as the SQLite backend's, in PostgreSQL's types; times
 * are text in SQLite's format ('YYYY-MM-DD HH:MM:SS.SSS', UTC) so that
 * everything above the store sees the same values. */
static const char schema_base[] =
    "CREATE TABLE taskfs_schema (\n"
    "  id INTEGER PRIMARY KEY CHECK (id = 1),\n"
    "  version INTEGER NOT NULL\n"
    ");\n"
    "INSERT INTO taskfs_schema VALUES (1, 0);\n"
    "CREATE FUNCTION taskfs_now() RETURNS text LANGUAGE sql VOLATILE AS\n"
    "  $$SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC',\n"
    "    'YYYY-MM-DD HH24:MI:SS.MS')$$;\n"
    "CREATE FUNCTION taskfs_source() RETURNS text LANGUAGE sql STABLE AS\n"
    "  $$SELECT coalesce(nullif(current_setting('taskfs.source', true), ''),"
    " 'sql')$$;\n"
    "CREATE FUNCTION taskfs_notify() RETURNS trigger LANGUAGE plpgsql AS\n"
    "  $$BEGIN PERFORM pg_notify('taskfs', current_schema()); RETURN NULL;"
    " END$$;\n"
    "CREATE TABLE revision (\n"
    "  id INTEGER PRIMARY KEY CHECK (id = 1),\n"
    "  rev BIGINT NOT NULL\n"
    ");\n"
    "INSERT INTO revision VALUES (1, 0);\n"
    "CREATE TRIGGER revision_notify AFTER UPDATE ON revision\n"
    "  FOR EACH STATEMENT EXECUTE FUNCTION taskfs_notify();\n"
    "CREATE TABLE sessions (\n"
    "  id TEXT PRIMARY KEY,\n"
    "  title TEXT NOT NULL,\n"
    "  status TEXT NOT NULL DEFAULT 'active'\n"
    "    CHECK (status IN ('active','paused','completed','archived')),\n"
    "  mode TEXT NOT NULL DEFAULT '',\n"
    "  description TEXT NOT NULL DEFAULT '',\n" STORE_COLUMNS ");\n"
    "CREATE TABLE task_groups (\n"
    "  id TEXT PRIMARY KEY,\n"
    "  session_id TEXT NOT NULL REFERENCES sessions(id),\n"
    "  name TEXT NOT NULL CHECK (length(name) > 0),\n"
    "  title TEXT NOT NULL,\n"
    "  description TEXT NOT NULL DEFAULT '',\n"
    "  status TEXT NOT NULL DEFAULT 'planned'\n"
    "    CHECK (status IN ('planned','active','blocked','completed')),\n"
    "  priority TEXT NOT NULL DEFAULT 'medium'\n"
    "    CHECK (priority IN ('low','medium','high','critical')),\n"
    "  specialist TEXT NOT NULL DEFAULT '',\n"
    "  position DOUBLE PRECISION NOT NULL DEFAULT 0,\n" STORE_COLUMNS ",\n"
    "  members_rev BIGINT NOT NULL DEFAULT 0\n"
    ");\n"
    "CREATE UNIQUE INDEX task_groups_name ON task_groups(session_id, name)\n"
    "  WHERE deleted = 0;\n"
    "CREATE INDEX task_groups_session ON task_groups(session_id, position);\n"
    "CREATE TABLE tasks (\n"
    "  id TEXT PRIMARY KEY,\n"
    "  session_id TEXT NOT NULL REFERENCES sessions(id),\n"
    "  group_id TEXT NOT NULL REFERENCES task_groups(id),\n"
    "  title TEXT NOT NULL,\n"
    "  description TEXT NOT NULL DEFAULT '',\n"
    "  status TEXT NOT NULL DEFAULT 'planned'\n"
    "    CHECK (status IN ('planned','active','blocked','completed')),\n"
    "  progress INTEGER NOT NULL DEFAULT 0\n"
    "    CHECK (progress BETWEEN 0 AND 100),\n"
    "  priority TEXT NOT NULL DEFAULT 'medium'\n"
    "    CHECK (priority IN ('low','medium','high','critical')),\n"
    "  specialist TEXT NOT NULL DEFAULT '',\n"
    "  estimate DOUBLE PRECISION CHECK (estimate IS NULL OR estimate >= 0),\n"
    "  actual DOUBLE PRECISION CHECK (actual IS NULL OR actual >= 0),\n"
    "  started_at TEXT,\n"
    "  completed_at TEXT,\n"
    "  dependencies TEXT NOT NULL DEFAULT '[]'\n"
    "    CHECK (json_typeof(dependencies::json) = 'array'),\n"
    "  deliverables TEXT NOT NULL DEFAULT '[]'\n"
    "    CHECK (json_typeof(deliverables::json) = 'array'),\n"
    "  current_status TEXT NOT NULL DEFAULT '',\n"
    "  position DOUBLE PRECISION NOT NULL DEFAULT 0,\n" STORE_COLUMNS ");\n"
    "CREATE INDEX tasks_group ON tasks(group_id, position);\n"
    "CREATE INDEX tasks_group_rev ON tasks(group_id, rev);\n"
    "CREATE INDEX tasks_session_rev ON tasks(session_id, rev);\n"
    "CREATE INDEX tasks_session_status ON tasks(session_id, status, id)\n"
    "  WHERE deleted = 0;\n"
    "CREATE TABLE sections (\n"
    "  id BIGSERIAL PRIMARY KEY,\n"
    "  owner_kind TEXT NOT NULL\n"
    "    CHECK (owner_kind IN ('session','group','task')),\n"
    "  owner_id TEXT NOT NULL,\n"
    "  key TEXT NOT NULL,\n"
    "  heading TEXT NOT NULL,\n"
    "  body TEXT NOT NULL DEFAULT '',\n"
    "  position DOUBLE PRECISION NOT NULL DEFAULT 0,\n" STORE_COLUMNS ");\n"
    "CREATE UNIQUE INDEX sections_key ON sections(owner_kind, owner_id, key)\n"
    "  WHERE deleted = 0;\n"
    "CREATE INDEX sections_owner ON sections(owner_kind, owner_id, rev);\n"
    "CREATE TABLE history (\n"
    "  id BIGSERIAL PRIMARY KEY,\n"
    "  revision BIGINT NOT NULL,\n"
    "  at TEXT NOT NULL,\n"
    "  source TEXT NOT NULL,\n"
    "  tbl TEXT NOT NULL,\n"
    "  rec TEXT NOT NULL,\n"
    "  op TEXT NOT NULL CHECK (op IN ('insert','update','delete')),\n"
    "  field TEXT,\n"
    "  old_value TEXT,\n"
    "  new_value TEXT,\n"
    "  session_id TEXT\n"
    ");\n"
    "CREATE INDEX history_revision ON history(revision);\n"
    "CREATE INDEX history_record ON history(tbl, rec, revision);\n"
    "CREATE INDEX history_session ON history(session_id, revision);\n"
    "CREATE FUNCTION taskfs_bump() RETURNS bigint LANGUAGE sql AS\n"
    "  $$UPDATE revision SET rev = rev + 1 WHERE id = 1 RETURNING rev$$;\n"
    "CREATE FUNCTION taskfs_log(r bigint, at text, tbl text, rec text,\n"
    "    op text, field text, o text, n text, session_id text)\n"
    "  RETURNS void LANGUAGE sql AS\n"
    "  $$INSERT INTO history (revision, at, source, tbl, rec, op, field,\n"
    "    old_value, new_value, session_id)\n"
    "    VALUES (r, at, taskfs_source(), tbl, rec, op, field, o, n,"
    " session_id)$$;\n"
    "CREATE TABLE drafts (\n"
    "  kind TEXT NOT NULL,\n"
    "  record TEXT NOT NULL,\n"
    "  session_id TEXT,\n"
    "  text BYTEA NOT NULL,\n"
    "  diagnostics TEXT NOT NULL,\n"
    "  created_at TEXT NOT NULL,\n"
    "  PRIMARY KEY (kind, record)\n"
    ");\n"
    "CREATE TABLE save_memos (\n"
    "  kind TEXT NOT NULL,\n"
    "  record TEXT NOT NULL,\n"
    "  text_rev BIGINT NOT NULL,\n"
    "  applied_rev BIGINT NOT NULL,\n"
    "  created TEXT NOT NULL DEFAULT '[]',\n"
    "  saved_at TEXT NOT NULL,\n"
    "  PRIMARY KEY (kind, record)\n"
    ");\n"
    "CREATE TABLE backups (\n"
    "  id BIGSERIAL PRIMARY KEY,\n"
    "  session_id TEXT,\n"
    "  kind TEXT NOT NULL,\n"
    "  record TEXT NOT NULL,\n"
    "  reason TEXT NOT NULL,\n"
    "  text BYTEA NOT NULL,\n"
    "  created_at TEXT NOT NULL\n"
    ");\n"
    "CREATE INDEX backups_session ON backups(session_id, id);\n"
    "CREATE TRIGGER drafts_notify AFTER INSERT OR UPDATE OR DELETE ON drafts\n"
    "  FOR EACH STATEMENT EXECUTE FUNCTION taskfs_notify();\n"
    "CREATE TRIGGER backups_notify AFTER INSERT OR UPDATE OR DELETE"
    " ON backups\n"
    "  FOR EACH STATEMENT EXECUTE FUNCTION taskfs_notify();\n"
    "CREATE FUNCTION tasks_session_check() RETURNS trigger\n"
    "LANGUAGE plpgsql AS $$BEGIN\n"
    "  IF NEW.session_id IS DISTINCT FROM\n"
    "     (SELECT session_id FROM task_groups WHERE id = NEW.group_id) THEN\n"
    "    RAISE EXCEPTION 'a task belongs to the session of its group'\n"
    "      USING ERRCODE = 'check_violation';\n"
    "  END IF;\n"
    "  RETURN NEW;\n"
    "END$$;\n"
    "CREATE TRIGGER tasks_session BEFORE INSERT OR UPDATE OF session_id,"
    " group_id\n"
    "  ON tasks FOR EACH ROW EXECUTE FUNCTION tasks_session_check();\n";

/* Replaces every "X." in tmpl with prefix "." and appends it. */
static void add_expr(struct buf *b, const char *tmpl, const char *prefix) {
  for (const char *p = tmpl; *p; p++) {
    if (p[0] == 'X' && p[1] == '.' &&
        (p == tmpl || !(p[-1] == '_' || (p[-1] >= 'a' && p[-1] <= 'z') ||
                        (p[-1] >= 'A' && p[-1] <= 'Z')))) {
      buf_adds(b, prefix);
    } else {
      buf_addc(b, *p);
    }
  }
}

/* Whether field f of a deleted row is kept in its snapshot: all but the
 * store's record of its last change. */
static bool in_snapshot(const char *f) {
  return !(str_eq(f, "rev") || str_eq(f, "updated_at") ||
           str_eq(f, "members_rev"));
}

/* The history row of a change of the row row (NEW or OLD) of t:
 * "PERFORM taskfs_log(r, now_, table, id, <what>, session);", where what
 * is the op, field, old and new value. */
static void add_log(struct buf *b, const struct table_desc *t, const char *row,
                    const char *what) {
  buf_printf(b, "    PERFORM taskfs_log(r, now_, '%s', ",
             record_kinds[t->kind].name);
  add_expr(b, t->key, row);
  buf_printf(b, ", %s, ", what);
  add_expr(b, t->session_expr, row);
  buf_adds(b, ");\n");
}

/* The group of a task that came or went (row NEW or OLD) changed its
 * members. */
static void add_members(struct buf *b, const char *row) {
  buf_printf(b,
             "    UPDATE task_groups SET members_rev = r"
             " WHERE id = %s.group_id;\n",
             row);
}

/*
 * The history and revision trigger of one versioned table, made from the
 * field table as the SQLite backend makes its triggers: an insert, each
 * update that changes a versioned field and each delete bump the revision
 * once for the row and stamp it; the history gets one row per changed
 * field, or the whole deleted row as JSON; a task coming to or leaving a
 * group bumps the group's members_rev. BEFORE triggers stamp the row
 * itself, so no second UPDATE runs.
 */
static void add_trigger(struct buf *b, const struct table_desc *t) {
  const struct record_kind_desc *d = &record_kinds[t->kind];
  bool tasks = t->kind == RK_TASK;
  const char *table = d->table, *kind = d->name;

  buf_printf(b,
             "CREATE FUNCTION %s_versioned() RETURNS trigger\n"
             "LANGUAGE plpgsql AS $fn$\n"
             "DECLARE\n"
             "  r bigint;\n"
             "  now_ text := taskfs_now();\n"
             "BEGIN\n",
             table);

  /* Insert: one revision, a history entry, the row stamped. */
  buf_adds(b, "  IF TG_OP = 'INSERT' THEN\n"
              "    r := taskfs_bump();\n"
              "    NEW.rev := r;\n"
              "    NEW.created_rev := r;\n"
              "    NEW.created_at := coalesce(NEW.created_at, now_);\n"
              "    NEW.updated_at := now_;\n");
  add_log(b, t, "NEW", "'insert', NULL, NULL, NULL");
  if (tasks)
    add_members(b, "NEW");
  buf_adds(b, "    RETURN NEW;\n  END IF;\n");

  /* Update of any versioned field: one revision for the row, one history
   * entry per changed field. */
  buf_adds(b, "  IF TG_OP = 'UPDATE' THEN\n"
              "    IF OLD.id IS DISTINCT FROM NEW.id THEN\n"
              "      RAISE EXCEPTION 'record ids cannot change'"
              " USING ERRCODE = 'check_violation';\n"
              "    END IF;\n"
              "    IF NOT (");
  for (int i = 0; i < d->nversioned; i++)
    buf_printf(b, "%sOLD.%s IS DISTINCT FROM NEW.%s", i ? " OR " : "",
               d->fields[i].name, d->fields[i].name);
  buf_printf(b,
             ") THEN\n      RETURN NEW;\n    END IF;\n"
             "    r := taskfs_bump();\n"
             "    PERFORM taskfs_log(r, now_, '%s', ",
             kind);
  add_expr(b, t->key, "NEW");
  buf_adds(b, ", 'update', v.f, v.o, v.n, ");
  add_expr(b, t->session_expr, "NEW");
  buf_adds(b, ")\n      FROM (VALUES ");
  for (int i = 0; i < d->nversioned; i++) {
    const char *f = d->fields[i].name;
    buf_printf(b, "%s(%d, '%s', OLD.%s::text, NEW.%s::text)", i ? ", " : "", i,
               f, f, f);
  }
  buf_adds(b, ") AS v(i, f, o, n)\n"
              "      WHERE v.o IS DISTINCT FROM v.n ORDER BY v.i;\n"
              "    NEW.rev := r;\n"
              "    NEW.updated_at := now_;\n");
  if (tasks)
    buf_adds(b, "    UPDATE task_groups SET members_rev = r\n"
                "      WHERE id IN (OLD.group_id, NEW.group_id)\n"
                "        AND (OLD.group_id IS DISTINCT FROM NEW.group_id"
                " OR OLD.deleted IS DISTINCT FROM NEW.deleted);\n");
  buf_adds(b, "    RETURN NEW;\n  END IF;\n");

  /* Delete (only plain SQL deletes; taskfs deletes softly): the whole row
   * is kept in the history so it can be read back as of earlier
   * revisions, numbers as JSON numbers. */
  struct buf snapshot = BUF_INIT;
  buf_adds(&snapshot, "'delete', NULL, json_build_object(");
  for (int i = 0, n = 0; i < d->nfields; i++) {
    const char *f = d->fields[i].name;
    if (in_snapshot(f))
      buf_printf(&snapshot, "%s'%s', OLD.%s", n++ ? ", " : "", f, f);
  }
  buf_adds(&snapshot, ")::text, NULL");
  buf_adds(b, "  r := taskfs_bump();\n");
  add_log(b, t, "OLD", snapshot.ptr);
  buf_release(&snapshot);
  if (tasks)
    add_members(b, "OLD");
  buf_printf(b,
             "  RETURN OLD;\n"
             "END\n$fn$;\n"
             "CREATE TRIGGER %s_versioned BEFORE INSERT OR UPDATE OR DELETE"
             " ON %s\n  FOR EACH ROW EXECUTE FUNCTION %s_versioned();\n",
             table, table, table);
}

static int migrate_to_1(struct store *st) {
  struct buf b = BUF_INIT;
  buf_adds(&b, schema_base);
  for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++)
    add_trigger(&b, &tables[i]);
  int rc = pg_exec(st, b.ptr);
  buf_release(&b);
  return rc;
}

/* Conflicts a save could not settle, and backups of single values. */
static const char schema_2[] =
    "CREATE TABLE conflicts (\n"
    "  id BIGSERIAL PRIMARY KEY,\n"
    "  session_id TEXT NOT NULL,\n"
    "  file_kind TEXT NOT NULL,\n"
    "  file_record TEXT NOT NULL,\n"
    "  type TEXT NOT NULL,\n"
    "  target_kind TEXT NOT NULL,\n"
    "  target_id TEXT NOT NULL,\n"
    "  field TEXT NOT NULL,\n"
    "  label TEXT NOT NULL,\n"
    "  base_rev BIGINT NOT NULL DEFAULT 0,\n"
    "  base_value TEXT,\n"
    "  db_value TEXT,\n"
    "  file_value TEXT,\n"
    "  manual_value TEXT,\n"
    "  db_display TEXT NOT NULL DEFAULT '',\n"
    "  file_display TEXT NOT NULL DEFAULT '',\n"
    "  db_changed_at TEXT,\n"
    "  db_source TEXT,\n"
    "  detected_at TEXT NOT NULL,\n"
    "  status TEXT NOT NULL DEFAULT 'open'\n"
    "    CHECK (status IN ('open','manual','resolved')),\n"
    "  resolution TEXT CHECK (resolution IN ('db','file','manual')),\n"
    "  resolved_at TEXT,\n"
    "  manual_task TEXT,\n"
    "  note TEXT NOT NULL DEFAULT ''\n"
    ");\n"
    "CREATE INDEX conflicts_file ON conflicts(file_kind, file_record, "
    "status);\n"
    "CREATE INDEX conflicts_session ON conflicts(session_id, status);\n"
    "CREATE TRIGGER conflicts_notify AFTER INSERT OR UPDATE OR DELETE"
    " ON conflicts\n"
    "  FOR EACH STATEMENT EXECUTE FUNCTION taskfs_notify();\n"
    "ALTER TABLE backups ADD COLUMN target_kind TEXT;\n"
    "ALTER TABLE backups ADD COLUMN target_id TEXT;\n"
    "ALTER TABLE backups ADD COLUMN field TEXT;\n";

static int migrate_to_2(struct store *st) { return pg_exec(st, schema_2); }

/* The sync log: every render, save and resolution, for monitoring. Its
 * rows notify nobody: a render by one mount must not wake the others. */
static const char schema_3[] =
    "CREATE TABLE sync_ops (\n"
    "  id BIGSERIAL PRIMARY KEY,\n"
    "  type TEXT NOT NULL,\n"
    "  file TEXT,\n"
    "  session_id TEXT,\n"
    "  started_at TEXT NOT NULL,\n"
    "  ended_at TEXT NOT NULL,\n"
    "  duration_us BIGINT NOT NULL,\n"
    "  status TEXT NOT NULL\n"
    "    CHECK (status IN ('ok','conflict','held','error')),\n"
    "  error_kind TEXT,\n"
    "  error TEXT,\n"
    "  changes INTEGER NOT NULL DEFAULT 0,\n"
    "  conflicts INTEGER NOT NULL DEFAULT 0,\n"
    "  source TEXT\n"
    ");\n"
    "CREATE INDEX sync_ops_session ON sync_ops(session_id, id);\n"
    "CREATE INDEX sync_ops_time ON sync_ops(started_at);\n";

static int migrate_to_3(struct store *st) { return pg_exec(st, schema_3); }

static int (*const migrations[])(struct store *) = {migrate_to_1, migrate_to_2,
                                                    migrate_to_3};

enum { LATEST = (int)(sizeof migrations / sizeof migrations[0]) };

/* The schema version (0: no taskfs schema) and whether the schema holds
 * other tables. */
static int schema_version(struct store *st, int *version, bool *others) {
  PGresult *r;
  int rc = pg_run(st, PG_SCHEMA_TABLES,
                  "SELECT to_regclass('taskfs_schema') IS NOT NULL,"
                  " (SELECT count(*) FROM pg_catalog.pg_class c"
                  " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
                  " WHERE n.nspname = current_schema() AND c.relkind = 'r')",
                  NULL, &r);
  if (rc)
    return rc;
  bool versioned = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
  if (others)
    *others = pg_int(r, 0, 1) > 0;
  PQclear(r);
  *version = 0;
  if (!versioned)
    return ENG_OK;
  /* Prepared only once the table exists. */
  if ((rc = pg_run(st, PG_SCHEMA_VERSION,
                   "SELECT version FROM taskfs_schema WHERE id = 1", NULL, &r)))
    return rc;
  *version = PQntuples(r) ? (int)pg_int(r, 0, 0) : 0;
  PQclear(r);
  return ENG_OK;
}

/*
 * Creates or upgrades the schema. PostgreSQL changes a schema inside a
 * transaction, so a failed upgrade leaves the database as it was and no
 * backup is made first. An advisory lock keeps two programs from
 * migrating at once.
 */
static int migrate(struct store *st, bool may_create) {
  int version, rc;
  bool others = false;
  if ((rc = schema_version(st, &version, &others)))
    return rc;
  if (version > LATEST)
    return store_fail(st, ENG_SCHEMA,
                      "database %s has schema version %d, newer than this "
                      "taskfs (%d); upgrade taskfs to use it",
                      st->path, version, LATEST);
  if (version == LATEST)
    return ENG_OK;
  if (version == 0 && others)
    return store_fail(st, ENG_SCHEMA,
                      "%s is a PostgreSQL database but not a taskfs one (its "
                      "schema has tables and no taskfs schema version)",
                      st->path);
  if (version == 0 && !may_create)
    return store_fail(st, ENG_NOTFOUND,
                      "%s holds no taskfs database; create it with "
                      "'taskctl -d %s init'",
                      st->path, st->path);
  if (st->readonly)
    return store_fail(st, ENG_SCHEMA,
                      "database %s needs an upgrade of its schema; open it "
                      "once read-write",
                      st->path);
  if ((rc = simple(st, PG_BEGIN, "BEGIN")))
    return rc;
  if ((rc = simple(st, PG_MIGRATE_LOCK,
                   "SELECT pg_advisory_xact_lock(7461736)")))
    goto fail;
  /* Another program may have migrated while we waited for the lock. */
  if ((rc = schema_version(st, &version, NULL)))
    goto fail;
  for (int v = version; v < LATEST; v++)
    if ((rc = migrations[v](st)))
      goto fail;
  struct pg_params p = {0};
  pg_param_int(&p, LATEST);
  if ((rc = pg_run(st, PG_SET_VERSION,
                   "UPDATE taskfs_schema SET version = $1::int", &p, NULL)) ||
      (rc = simple(st, PG_COMMIT, "COMMIT")))
    goto fail;
  return ENG_OK;
fail:
  simple(st, PG_ROLLBACK, "ROLLBACK");
  return rc;
}

/* ---- open and close ---- */

static bool pg_accepts(const char *target) { return store_pg_target(target); }

static bool pg_poll(struct store *st);

static int pg_open(struct store *st, const char *target, int flags) {
  pg(st)->conninfo = xstrdup(target);
  /* What is shown of the target never holds its password. */
  free(st->path);
  st->path = store_pg_redact(target);
  if (flags & STORE_BACKUP_FILE)
    return store_fail(st, ENG_INVALID,
                      "%s is a PostgreSQL database, not a backup file",
                      st->path);
  /* Servers list the connection as "taskfs" unless the target names
   * itself otherwise. A server that does not answer is given up on in
   * seconds, not at TCP's minutes: a connection attempt after 10, an
   * established connection after 10 without an acknowledgement or 15
   * idle ones without a keepalive answer. The target may set any of
   * these: its settings come after, and win. */
  const char *const keys[] = {"connect_timeout",
                              "keepalives",
                              "keepalives_idle",
                              "keepalives_interval",
                              "keepalives_count",
                              "tcp_user_timeout",
                              "dbname",
                              "fallback_application_name",
                              NULL};
  const char *const values[] = {"10",    "1",    "5",      "5", "2",
                                "10000", target, "taskfs", NULL};
  pg(st)->conn = PQconnectdbParams(keys, values, 1);
  if (!pg(st)->conn)
    die("out of memory connecting to PostgreSQL");
  if (PQstatus(pg(st)->conn) != CONNECTION_OK) {
    struct buf msg = BUF_INIT;
    add_message(&msg, PQerrorMessage(pg(st)->conn));
    int rc = strstr(msg.ptr, "does not exist") ? ENG_NOTFOUND
             : strstr(msg.ptr, "password") || strstr(msg.ptr, "authentication")
                 ? ENG_PERM
                 : ENG_DB;
    if (strstr(msg.ptr, "no password supplied"))
      store_fail(st, rc,
                 "cannot connect to database %s: the server asks for a "
                 "password and none was given; give it in the environment "
                 "(PGPASSWORD), in ~/.pgpass (or the file PGPASSFILE "
                 "names), in a service file (service=NAME), or in the URI "
                 "given with -d",
                 st->path);
    else
      store_fail(st, rc, "cannot connect to database %s: %s", st->path,
                 msg.ptr);
    buf_release(&msg);
    return rc;
  }
  int rc = session_setup(st);
  if (rc == ENG_OK)
    rc = migrate(st, (flags & STORE_CREATE) != 0);
  if (rc == ENG_OK)
    pg_poll(st);
  return rc;
}

static void pg_close(struct store *st) {
  for (int i = 0; i < PG_SLOT_COUNT; i++)
    free(pg(st)->sql[i]);
  if (pg(st)->conn)
    PQfinish(pg(st)->conn);
  pg(st)->conn = NULL;
  free(pg(st)->conninfo);
}

/* Takes effect now, or on the next connection made, which sets it. A
 * failure (in a failed transaction) keeps the message of the failure
 * the caller is about to read. */
static void pg_set_busy_ms(struct store *st, int ms) {
  if (PQstatus(pg(st)->conn) != CONNECTION_OK)
    return;
  struct buf keep = BUF_INIT;
  buf_adds(&keep, st->err.ptr);
  if (set_lock_timeout(st, ms))
    store_fail(st, ENG_DB, "%s", keep.ptr);
  buf_release(&keep);
}

/* ---- transactions ---- */

static void pg_rollback(struct store *st) {
  PGTransactionStatusType t = PQtransactionStatus(pg(st)->conn);
  if (t == PQTRANS_INTRANS || t == PQTRANS_INERROR)
    simple(st, PG_ROLLBACK, "ROLLBACK");
  pg(st)->in_transaction = false;
  pg(st)->bulk = false;
}

/* One attempt: BEGIN, the source of the changes, and the row lock on the
 * revision counter that every write takes, so writers follow one another
 * as SQLite's BEGIN IMMEDIATE makes them (waiting up to lock_timeout). */
static int begin_once(struct store *st) {
  int rc = simple(st, PG_BEGIN, "BEGIN");
  if (rc)
    return rc;
  pg(st)->in_transaction = true;
  struct pg_params p = {0};
  pg_param_text(&p, st->source);
  if ((rc = pg_run(st, PG_SET_SOURCE,
                   "SELECT set_config('taskfs.source', $1, true)", &p, NULL)) ==
      ENG_OK)
    rc = simple(st, PG_LOCK_REVISION,
                "SELECT rev FROM revision WHERE id = 1 FOR UPDATE");
  if (rc)
    pg_rollback(st);
  return rc;
}

/* A serialization failure or deadlock is tried again after a growing
 * sleep (10 ms doubling, at most five times); a lock still held after
 * lock_timeout is ENG_BUSY at once. */
static bool retryable(const struct store *st) {
  return strstr(st->err.ptr, "deadlock") ||
         strstr(st->err.ptr, "could not serialize");
}

static void backoff(int attempt) {
  struct timespec ts = {0, (long)(10000000L << attempt)};
  nanosleep(&ts, NULL);
}

static int pg_begin(struct store *st) {
  int rc;
  for (int attempt = 0;; attempt++) {
    rc = begin_once(st);
    if (rc != ENG_BUSY || attempt >= 5 || !retryable(st))
      return rc;
    backoff(attempt);
  }
}

static int pg_commit(struct store *st) {
  PGresult *r = NULL;
  int rc = pg_run(st, PG_COMMIT, "COMMIT", NULL, &r);
  if (rc == ENG_OK || PQstatus(pg(st)->conn) != CONNECTION_OK)
    pg(st)->in_transaction = false;
  /* COMMIT of a transaction that failed rolls it back and says so. */
  if (rc == ENG_OK && strcmp(PQcmdStatus(r), "COMMIT") != 0)
    rc = store_fail(st, ENG_DB,
                    "the transaction on %s failed and was rolled back",
                    st->path);
  PQclear(r);
  if (rc)
    pg_rollback(st);
  else
    pg(st)->own_commit = true;
  return rc;
}

static int pg_read_begin(struct store *st) {
  int rc = simple(st, PG_READ_BEGIN, "BEGIN ISOLATION LEVEL REPEATABLE READ");
  if (rc == ENG_OK)
    pg(st)->in_transaction = true;
  /* Take the snapshot now, so that every later query sees it. */
  if (rc == ENG_OK &&
      (rc = simple(st, PG_REVISION, "SELECT rev FROM revision WHERE id = 1")))
    pg_rollback(st);
  return rc;
}

static void pg_read_end(struct store *st) {
  if (PQtransactionStatus(pg(st)->conn) != PQTRANS_IDLE)
    simple(st, PG_READ_END, "COMMIT");
  pg(st)->in_transaction = false;
}

/* ---- change detection ---- */

static int64_t pg_revision(struct store *st) {
  PGresult *r;
  if (pg_run(st, PG_REVISION, "SELECT rev FROM revision WHERE id = 1", NULL,
             &r))
    return 0;
  int64_t rev = PQntuples(r) ? pg_int(r, 0, 0) : 0;
  PQclear(r);
  return rev;
}

static int pg_listing_mark(struct store *st, int64_t mark[3]) {
  PGresult *r;
  int rc = pg_run(st, PG_LISTING_MARK, STORE_LISTING_MARK_SQL, NULL, &r);
  if (rc)
    return rc;
  for (int i = 0; i < 3; i++)
    mark[i] = PQntuples(r) ? pg_int(r, 0, i) : 0;
  PQclear(r);
  return ENG_OK;
}

static bool drain_notifications(PGconn *c) {
  bool any = false;
  PGnotify *n;
  while ((n = PQnotifies(c))) {
    any = true;
    PQfreemem(n);
  }
  return any;
}

/*
 * Whether anything may have changed since the last call: a commit of this
 * connection; a revision counter or schema version other than the last
 * one seen, which a commit of any program makes visible before its COMMIT
 * returns (a newer taskfs that upgrades the schema changes the version,
 * which no trigger reports); a notification on the channel "taskfs" (sent
 * by the triggers of every commit that changed records, drafts, backups or
 * conflicts, and read from the socket without waiting, but delivered a
 * moment after the commit); or a connection made again. Costs one small
 * query, none inside a transaction (whose snapshot would not show the
 * counter moving).
 */
static bool pg_poll(struct store *st) {
  PGconn *c = pg(st)->conn;
  bool changed = pg(st)->own_commit || pg(st)->reset;
  pg(st)->own_commit = false;
  pg(st)->reset = false;
  if (PQstatus(c) != CONNECTION_OK || !PQconsumeInput(c)) {
    ensure_connection(st);
    pg(st)->reset = false;
    return true;
  }
  changed |= drain_notifications(c) || pg(st)->notified;
  pg(st)->notified = false;
  if (!pg(st)->in_transaction) {
    int64_t rev = 0;
    int version = 0;
    PGresult *r;
    if (pg_run(st, PG_POLL,
               "SELECT (SELECT rev FROM revision WHERE id = 1),"
               " (SELECT version FROM taskfs_schema WHERE id = 1)",
               NULL, &r) == ENG_OK) {
      rev = pg_int(r, 0, 0);
      version = (int)pg_int(r, 0, 1);
      PQclear(r);
    }
    changed |= rev != pg(st)->seen_rev || version != pg(st)->seen_version;
    pg(st)->seen_rev = rev;
    pg(st)->seen_version = version;
    /* One that came with the answer may be of a commit the query did
     * not see: the next call says so (the socket will not). */
    pg(st)->notified = drain_notifications(c);
  }
  return changed;
}

static int pg_notify_fd(struct store *st) {
  PGconn *c = pg(st)->conn;
  return PQstatus(c) == CONNECTION_OK ? PQsocket(c) : -1;
}

static bool pg_moved(struct store *st) { return false; }

static int pg_schema_check(struct store *st, bool *newer) {
  int version = 0;
  int rc = schema_version(st, &version, NULL);
  *newer = rc == ENG_OK && version > LATEST;
  return rc;
}

static int64_t pg_revision_time(struct store *st, int64_t rev) {
  struct pg_params p = {0};
  pg_param_int(&p, rev);
  PGresult *r;
  if (pg_run(st, PG_REVISION_TIME,
             "SELECT at FROM history WHERE revision = $1 LIMIT 1", &p, &r))
    return 0;
  int64_t ns = 0;
  if (PQntuples(r) && !PQgetisnull(r, 0, 0))
    time_parse(PQgetvalue(r, 0, 0), &ns);
  PQclear(r);
  return ns;
}

/* ---- the whole database ---- */

/* The server keeps its own data safe; what can be checked from here is
 * that the schema is taskfs's and every row of its tables can be read. */
static int pg_check(struct store *st) {
  int version;
  int rc = schema_version(st, &version, NULL);
  if (rc)
    return rc;
  if (version != LATEST)
    return store_fail(st, ENG_SCHEMA, "database %s has schema version %d",
                      st->path, version);
  return simple(st, PG_CHECK,
                "SELECT (SELECT count(*) FROM sessions),"
                " (SELECT count(*) FROM task_groups),"
                " (SELECT count(*) FROM tasks),"
                " (SELECT count(*) FROM sections),"
                " (SELECT count(*) FROM history),"
                " (SELECT count(*) FROM drafts),"
                " (SELECT count(*) FROM save_memos),"
                " (SELECT count(*) FROM backups),"
                " (SELECT count(*) FROM conflicts),"
                " (SELECT count(*) FROM sync_ops)");
}

static int pg_dbbackup_write(struct store *st, const char *path, int flags,
                             int64_t *rev) {
  return store_fail(st, ENG_INVALID,
                    "database %s is on PostgreSQL: back it up with pg_dump "
                    "(taskfs writes backup files of SQLite databases only)",
                    st->path);
}

static int pg_restore(struct store *st, struct store *from, char **snapshot,
                      struct store_restore_stats *stats) {
  return store_fail(st, ENG_INVALID,
                    "database %s is on PostgreSQL: restore it with "
                    "pg_restore or psql from a dump made by pg_dump",
                    st->path);
}

const struct store_ops store_pg_ops = {
    .name = "postgresql",
    .accepts = pg_accepts,
    .size = sizeof(struct pg_store),
    .open = pg_open,
    .close = pg_close,
    .set_busy_ms = pg_set_busy_ms,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .read_begin = pg_read_begin,
    .read_end = pg_read_end,
    .revision = pg_revision,
    .listing_mark = pg_listing_mark,
    .poll = pg_poll,
    .notify_fd = pg_notify_fd,
    .moved = pg_moved,
    .schema_check = pg_schema_check,
    .revision_time = pg_revision_time,
    .get = pg_get,
    .query = pg_query,
    .insert = pg_insert,
    .update = pg_update,
    .exists = pg_exists,
    .id_max = pg_id_max,
    .next_position = pg_next_position,
    .task_ids = pg_task_ids,
    .task_place = pg_task_place,
    .owner_revision = pg_owner_revision,
    .group_stats = pg_group_stats,
    .group_revs = pg_group_revs,
    .group_stats_of = pg_group_stats_of,
    .task_events = pg_task_events,
    .changes_since = pg_changes_since,
    .changes_recent = pg_changes_recent,
    .last_change = pg_last_change,
    .draft_get = pg_draft_get,
    .draft_put = pg_draft_put,
    .draft_delete = pg_draft_delete,
    .draft_list = pg_draft_list,
    .memo_get = pg_memo_get,
    .memo_put = pg_memo_put,
    .backup_add = pg_backup_add,
    .backup_value = pg_backup_value,
    .backup_get = pg_backup_get,
    .backup_list = pg_backup_list,
    .conflict_add = pg_conflict_add,
    .conflict_get = pg_conflict_get,
    .conflict_list = pg_conflict_list,
    .conflict_resolve = pg_conflict_resolve,
    .conflict_note = pg_conflict_note,
    .syncop_add = pg_syncop_add,
    .syncops_prune = pg_syncops_prune,
    .sync_stats = pg_sync_stats,
    .sync_last_ns = pg_sync_last_ns,
    .sync_error_kinds = pg_sync_error_kinds,
    .sync_failures = pg_sync_failures,
    .check = pg_check,
    .dbbackup_write = pg_dbbackup_write,
    .restore = pg_restore,
    .raw_count = pg_raw_count,
    .raw_read = pg_raw_read,
    .raw_begin = pg_raw_begin,
    .raw_insert = pg_raw_insert,
    .raw_set_revision = pg_raw_set_revision,
    .raw_end = pg_raw_end,
};
