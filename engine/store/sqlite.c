/* SPDX-License-Identifier: MIT */
/* sqlite.c: the SQLite backend: connection, schema and migrations,
 * transactions, records, history. Knows nothing of markdown or FUSE. */
#include "store.h"
#include "sqlite.h"
#include "util.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The current time as the store keeps it, for printf-style formats. */
#define NOWF "strftime('%%Y-%%m-%%d %%H:%%M:%%f','now')"

/* ---- schema ---- */

/* A versioned table: its record kind, and how to find the id and the
 * session of a row (X is replaced by new or old). Its columns are the
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

/* The columns every versioned table ends with: its soft deletion and
 * what the triggers stamp. */
#define ROW_STAMPS                                                             \
  "  deleted INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),\n"          \
  "  created_at TEXT,\n"                                                       \
  "  updated_at TEXT,\n"                                                       \
  "  rev INTEGER NOT NULL DEFAULT 0,\n"                                        \
  "  created_rev INTEGER NOT NULL DEFAULT 0"

static const char schema_base[] =
    "CREATE TABLE revision (\n"
    "  id INTEGER PRIMARY KEY CHECK (id = 1),\n"
    "  rev INTEGER NOT NULL\n"
    ");\n"
    "INSERT INTO revision VALUES (1, 0);\n"
    "CREATE TABLE change_source (\n"
    "  id INTEGER PRIMARY KEY CHECK (id = 1),\n"
    "  source TEXT NOT NULL\n"
    ");\n"
    "INSERT INTO change_source VALUES (1, 'sql');\n"
    "CREATE TABLE sessions (\n"
    "  id TEXT PRIMARY KEY,\n"
    "  title TEXT NOT NULL,\n"
    "  status TEXT NOT NULL DEFAULT 'active'\n"
    "    CHECK (status IN ('active','paused','completed','archived')),\n"
    "  mode TEXT NOT NULL DEFAULT '',\n"
    "  description TEXT NOT NULL DEFAULT '',\n" ROW_STAMPS "\n"
    ");\n"
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
    "  position REAL NOT NULL DEFAULT 0,\n" ROW_STAMPS ",\n"
    "  members_rev INTEGER NOT NULL DEFAULT 0\n"
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
    "  estimate REAL CHECK (estimate IS NULL OR estimate >= 0),\n"
    "  actual REAL CHECK (actual IS NULL OR actual >= 0),\n"
    "  started_at TEXT,\n"
    "  completed_at TEXT,\n"
    "  dependencies TEXT NOT NULL DEFAULT '[]'\n"
    "    CHECK (json_valid(dependencies)\n"
    "           AND json_type(dependencies) = 'array'),\n"
    "  deliverables TEXT NOT NULL DEFAULT '[]'\n"
    "    CHECK (json_valid(deliverables)\n"
    "           AND json_type(deliverables) = 'array'),\n"
    "  current_status TEXT NOT NULL DEFAULT '',\n"
    "  position REAL NOT NULL DEFAULT 0,\n" ROW_STAMPS "\n"
    ");\n"
    "CREATE INDEX tasks_group ON tasks(group_id, position);\n"
    "CREATE INDEX tasks_group_rev ON tasks(group_id, rev);\n"
    "CREATE INDEX tasks_session_rev ON tasks(session_id, rev);\n"
    "CREATE INDEX tasks_session_status ON tasks(session_id, status, id)\n"
    "  WHERE deleted = 0;\n"
    "CREATE TABLE sections (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  owner_kind TEXT NOT NULL\n"
    "    CHECK (owner_kind IN ('session','group','task')),\n"
    "  owner_id TEXT NOT NULL,\n"
    "  key TEXT NOT NULL,\n"
    "  heading TEXT NOT NULL,\n"
    "  body TEXT NOT NULL DEFAULT '',\n"
    "  position REAL NOT NULL DEFAULT 0,\n" ROW_STAMPS "\n"
    ");\n"
    "CREATE UNIQUE INDEX sections_key ON sections(owner_kind, owner_id, key)\n"
    "  WHERE deleted = 0;\n"
    "CREATE INDEX sections_owner ON sections(owner_kind, owner_id, rev);\n"
    "CREATE TABLE history (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  revision INTEGER NOT NULL,\n"
    "  at TEXT NOT NULL,\n"
    "  source TEXT NOT NULL,\n"
    "  tbl TEXT NOT NULL,\n"
    "  rec TEXT NOT NULL,\n"
    "  op TEXT NOT NULL CHECK (op IN ('insert','update','delete')),\n"
    "  field TEXT,\n"
    "  old_value,\n"
    "  new_value,\n"
    "  session_id TEXT\n"
    ");\n"
    "CREATE INDEX history_revision ON history(revision);\n"
    "CREATE INDEX history_record ON history(tbl, rec, revision);\n"
    "CREATE INDEX history_session ON history(session_id, revision);\n"
    "CREATE TABLE drafts (\n"
    "  kind TEXT NOT NULL,\n"
    "  record TEXT NOT NULL,\n"
    "  session_id TEXT,\n"
    "  text BLOB NOT NULL,\n"
    "  diagnostics TEXT NOT NULL,\n"
    "  created_at TEXT NOT NULL,\n"
    "  PRIMARY KEY (kind, record)\n"
    ");\n"
    "CREATE TABLE save_memos (\n"
    "  kind TEXT NOT NULL,\n"
    "  record TEXT NOT NULL,\n"
    "  text_rev INTEGER NOT NULL,\n"
    "  applied_rev INTEGER NOT NULL,\n"
    "  created TEXT NOT NULL DEFAULT '[]',\n"
    "  saved_at TEXT NOT NULL,\n"
    "  PRIMARY KEY (kind, record)\n"
    ");\n"
    "CREATE TABLE backups (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  session_id TEXT,\n"
    "  kind TEXT NOT NULL,\n"
    "  record TEXT NOT NULL,\n"
    "  reason TEXT NOT NULL,\n"
    "  text BLOB NOT NULL,\n"
    "  created_at TEXT NOT NULL\n"
    ");\n"
    "CREATE INDEX backups_session ON backups(session_id, id);\n"
    "CREATE TRIGGER tasks_session_insert BEFORE INSERT ON tasks\n"
    "WHEN new.session_id IS NOT\n"
    "  (SELECT session_id FROM task_groups WHERE id = new.group_id)\n"
    "BEGIN SELECT RAISE(ABORT, 'a task belongs to the session of its group');"
    " END;\n"
    "CREATE TRIGGER tasks_session_update\n"
    "BEFORE UPDATE OF session_id, group_id ON tasks\n"
    "WHEN new.session_id IS NOT\n"
    "  (SELECT session_id FROM task_groups WHERE id = new.group_id)\n"
    "BEGIN SELECT RAISE(ABORT, 'a task belongs to the session of its group');"
    " END;\n";

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

/* The trigger that versions the rows inserted into a versioned table:
 * one revision, a history entry, the row stamped. */
static void add_insert_trigger(struct buf *b, const struct table_desc *t) {
  const struct record_kind_desc *d = &record_kinds[t->kind];
  bool tasks = t->kind == RK_TASK;
  const char *table = d->table, *kind = d->name;
  const char *rev = "(SELECT rev FROM revision)";
  const char *src = "(SELECT source FROM change_source)";

  buf_printf(b,
             "CREATE TRIGGER %s_insert AFTER INSERT ON %s BEGIN\n"
             "  UPDATE revision SET rev = rev + 1;\n"
             "  UPDATE %s SET rev = %s, created_rev = %s,\n"
             "    created_at = coalesce(new.created_at, " NOWF "),\n"
             "    updated_at = " NOWF " WHERE rowid = new.rowid;\n"
             "  INSERT INTO history (revision, at, source, tbl, rec, op,"
             " session_id)\n"
             "    VALUES (%s, " NOWF ", %s, '%s', ",
             table, table, table, rev, rev, rev, src, kind);
  add_expr(b, t->key, "new");
  buf_adds(b, ", 'insert', ");
  add_expr(b, t->session_expr, "new");
  buf_adds(b, ");\n");
  if (tasks)
    buf_printf(b,
               "  UPDATE task_groups SET members_rev = %s"
               " WHERE id = new.group_id;\n",
               rev);
  buf_adds(b, "END;\n");
}

/* The history and revision triggers of one versioned table. */
static void add_triggers(struct buf *b, const struct table_desc *t) {
  const struct record_kind_desc *d = &record_kinds[t->kind];
  bool tasks = t->kind == RK_TASK;
  const char *table = d->table, *kind = d->name;
  const char *rev = "(SELECT rev FROM revision)";
  const char *src = "(SELECT source FROM change_source)";

  buf_printf(b,
             "CREATE TRIGGER %s_immutable_id BEFORE UPDATE OF id ON %s\n"
             "WHEN old.id IS NOT new.id\n"
             "BEGIN SELECT RAISE(ABORT, 'record ids cannot change'); END;\n",
             table, table);

  add_insert_trigger(b, t);

  /* Update of any versioned field: one revision for the row, one history
   * entry per changed field. Stamping rev and updated_at changes no
   * versioned field, so it does not fire this trigger again. */
  buf_printf(b, "CREATE TRIGGER %s_update AFTER UPDATE ON %s WHEN ", table,
             table);
  for (int i = 0; i < d->nversioned; i++)
    buf_printf(b, "%sold.%s IS NOT new.%s", i ? " OR " : "", d->fields[i].name,
               d->fields[i].name);
  buf_adds(b, " BEGIN\n  UPDATE revision SET rev = rev + 1;\n");
  buf_printf(b,
             "  INSERT INTO history (revision, at, source, tbl, rec, op,"
             " field, old_value, new_value, session_id)\n"
             "    SELECT %s, " NOWF ", %s, '%s', ",
             rev, src, kind);
  add_expr(b, t->key, "new");
  buf_adds(b, ", 'update', f, o, n, ");
  add_expr(b, t->session_expr, "new");
  buf_adds(b, " FROM (");
  for (int i = 0; i < d->nversioned; i++) {
    const char *f = d->fields[i].name;
    buf_printf(b,
               "%sSELECT '%s' AS f, old.%s AS o, new.%s AS n"
               " WHERE old.%s IS NOT new.%s",
               i ? " UNION ALL " : "", f, f, f, f, f);
  }
  buf_adds(b, ");\n");
  buf_printf(b,
             "  UPDATE %s SET rev = %s, updated_at = " NOWF
             " WHERE rowid = new.rowid;\n",
             table, rev);
  if (tasks)
    buf_printf(b,
               "  UPDATE task_groups SET members_rev = %s\n"
               "    WHERE id IN (old.group_id, new.group_id)\n"
               "      AND (old.group_id IS NOT new.group_id"
               " OR old.deleted IS NOT new.deleted);\n",
               rev);
  buf_adds(b, "END;\n");

  /* Delete (only plain SQL deletes; taskfs deletes softly): the whole row
   * is kept in the history so it can be read back as of earlier revisions. */
  buf_printf(b,
             "CREATE TRIGGER %s_delete AFTER DELETE ON %s BEGIN\n"
             "  UPDATE revision SET rev = rev + 1;\n"
             "  INSERT INTO history (revision, at, source, tbl, rec, op,"
             " old_value, session_id)\n"
             "    VALUES (%s, " NOWF ", %s, '%s', ",
             table, table, rev, src, kind);
  add_expr(b, t->key, "old");
  /* The row as it was: every field but the store's record of its last
   * change. */
  buf_adds(b, ", 'delete', json_object(");
  for (int i = 0, n = 0; i < d->nfields; i++) {
    const char *f = d->fields[i].name;
    if (str_eq(f, "rev") || str_eq(f, "updated_at") || str_eq(f, "members_rev"))
      continue;
    buf_printf(b, "%s'%s',old.%s", n++ ? "," : "", f, f);
  }
  buf_adds(b, "), ");
  add_expr(b, t->session_expr, "old");
  buf_adds(b, ");\n");
  if (tasks)
    buf_printf(b,
               "  UPDATE task_groups SET members_rev = %s"
               " WHERE id = old.group_id;\n",
               rev);
  buf_adds(b, "END;\n");
}

/* ---- errors ---- */

static int rc_from_sqlite(int rc) {
  switch (rc & 0xff) {
  case SQLITE_OK:
  case SQLITE_ROW:
  case SQLITE_DONE:
    return ENG_OK;
  case SQLITE_BUSY:
  case SQLITE_LOCKED:
    return ENG_BUSY;
  case SQLITE_READONLY:
  case SQLITE_PERM:
  case SQLITE_AUTH:
    return ENG_READONLY;
  case SQLITE_FULL:
    return ENG_FULL;
  case SQLITE_CORRUPT:
    return ENG_CORRUPT;
  case SQLITE_NOTADB:
    return ENG_SCHEMA;
  case SQLITE_CANTOPEN:
    return ENG_NOTFOUND;
  case SQLITE_CONSTRAINT:
    return (rc == SQLITE_CONSTRAINT_UNIQUE ||
            rc == SQLITE_CONSTRAINT_PRIMARYKEY)
               ? ENG_EXISTS
               : ENG_INVALID;
  case SQLITE_TOOBIG:
    return ENG_TOOBIG;
  case SQLITE_NOMEM:
    die("out of memory in SQLite");
  }
  return ENG_DB;
}

/* A failed write whose cause the system names: a full disk or quota, or
 * a file system that went read-only, are told apart from other I/O
 * errors. */
static int rc_from_ioerr(struct store *st, int src) {
  if (src != SQLITE_IOERR_WRITE && src != SQLITE_IOERR_FSYNC &&
      src != SQLITE_IOERR_TRUNCATE && src != SQLITE_IOERR_SHMSIZE)
    return ENG_DB;
  switch (sqlite3_system_errno(sq_db(st))) {
  case ENOSPC:
  case EDQUOT:
    return ENG_FULL;
  case EROFS:
  case EACCES:
  case EPERM:
    return ENG_READONLY;
  default:
    return ENG_DB;
  }
}

int store_sqlfail(struct store *st, int src) {
  int rc = (src & 0xff) == SQLITE_IOERR ? rc_from_ioerr(st, src)
                                        : rc_from_sqlite(src);
  const char *msg = sqlite3_errmsg(sq_db(st));
  switch (rc) {
  case ENG_BUSY:
    return store_fail(st, rc,
                      "database %s is locked by another program "
                      "(retried for %d ms)",
                      st->path, st->busy_ms);
  case ENG_READONLY:
    return store_fail(st, rc, "database %s cannot be written: %s", st->path,
                      msg);
  case ENG_FULL:
    return store_fail(st, rc, "no space left for database %s", st->path);
  case ENG_CORRUPT: {
    char *why = xstrdup(msg);
    store_fail_damaged(st, why);
    free(why);
    return rc;
  }
  default:
    return store_fail(st, rc, "%s", msg);
  }
}

/* ---- statements ---- */

sqlite3_stmt *store_stmt(struct store *st, int slot, const char *sql) {
  if (sq(st)->stmts[slot]) {
    /* One slot, one statement: a slot reused for other SQL would run
     * the wrong statement. */
    if (sql && strcmp(sqlite3_sql(sq(st)->stmts[slot]), sql) != 0)
      die("statement slot %d holds other SQL than '%s'", slot, sql);
    sqlite3_reset(sq(st)->stmts[slot]);
    sqlite3_clear_bindings(sq(st)->stmts[slot]);
    return sq(st)->stmts[slot];
  }
  int rc = sqlite3_prepare_v3(sq_db(st), sql, -1, SQLITE_PREPARE_PERSISTENT,
                              &sq(st)->stmts[slot], NULL);
  if (rc != SQLITE_OK) {
    store_sqlfail(st, rc);
    return NULL;
  }
  return sq(st)->stmts[slot];
}

void bind_text(sqlite3_stmt *s, int i, const char *v) {
  if (v)
    sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null(s, i);
}

void bind_real(sqlite3_stmt *s, int i, double v) {
  if (isnan(v))
    sqlite3_bind_null(s, i);
  else
    sqlite3_bind_double(s, i, v);
}

int sqlite_rows(struct store *st, sqlite3_stmt *s, size_t size,
                sqlite_read_fn *read, void **out, size_t *n) {
  char *v = NULL;
  size_t len = 0, cap = 0;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    if (len == cap) {
      cap = cap ? cap * 2 : 16;
      v = xrealloc(v, cap * size);
    }
    void *elem = v + len++ * size;
    memset(elem, 0, size);
    read(s, elem);
  }
  sqlite3_reset(s);
  *out = v;
  *n = len;
  return rc == SQLITE_DONE ? ENG_OK : store_sqlfail(st, rc);
}

char *col_text(sqlite3_stmt *s, int i) {
  if (sqlite3_column_type(s, i) == SQLITE_NULL)
    return NULL;
  const unsigned char *t = sqlite3_column_text(s, i);
  return xstrndup((const char *)t, (size_t)sqlite3_column_bytes(s, i));
}

char *col_text_nn(sqlite3_stmt *s, int i) {
  char *t = col_text(s, i);
  return t ? t : xstrdup("");
}

double col_real(sqlite3_stmt *s, int i) {
  if (sqlite3_column_type(s, i) == SQLITE_NULL)
    return NAN;
  return sqlite3_column_double(s, i);
}

/* Runs sql (no parameters, no rows expected). */
int store_exec(struct store *st, const char *sql) {
  char *msg = NULL;
  int rc = sqlite3_exec(sq_db(st), sql, NULL, NULL, &msg);
  if (rc != SQLITE_OK) {
    int e = rc_from_sqlite(rc);
    store_fail(st, e, "%s", msg ? msg : sqlite3_errstr(rc));
    sqlite3_free(msg);
    return e;
  }
  return ENG_OK;
}

/* Steps a statement that returns no rows and resets it. */
int store_step_done(struct store *st, sqlite3_stmt *s) {
  int rc = sqlite3_step(s);
  int e = ENG_OK;
  if (rc != SQLITE_DONE && rc != SQLITE_ROW)
    e = store_sqlfail(st, sqlite3_extended_errcode(sq_db(st)));
  sqlite3_reset(s);
  return e;
}

/* ---- open, migrate ---- */

static int migrate_to_1(struct store *st) {
  struct buf b = BUF_INIT;
  buf_adds(&b, schema_base);
  for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++)
    add_triggers(&b, &tables[i]);
  int rc = store_exec(st, b.ptr);
  buf_release(&b);
  return rc;
}

/* Conflicts a save could not settle, and backups of single values. */
static const char schema_2[] =
    "CREATE TABLE conflicts (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  session_id TEXT NOT NULL,\n"
    "  file_kind TEXT NOT NULL,\n"
    "  file_record TEXT NOT NULL,\n"
    "  type TEXT NOT NULL,\n"
    "  target_kind TEXT NOT NULL,\n"
    "  target_id TEXT NOT NULL,\n"
    "  field TEXT NOT NULL,\n"
    "  label TEXT NOT NULL,\n"
    "  base_rev INTEGER NOT NULL DEFAULT 0,\n"
    "  base_value,\n"
    "  db_value,\n"
    "  file_value,\n"
    "  manual_value,\n"
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
    "ALTER TABLE backups ADD COLUMN target_kind TEXT;\n"
    "ALTER TABLE backups ADD COLUMN target_id TEXT;\n"
    "ALTER TABLE backups ADD COLUMN field TEXT;\n";

static int migrate_to_2(struct store *st) { return store_exec(st, schema_2); }

/* The sync log: every render, save and resolution, for monitoring. */
static const char schema_3[] =
    "CREATE TABLE sync_ops (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  type TEXT NOT NULL,\n"
    "  file TEXT,\n"
    "  session_id TEXT,\n"
    "  started_at TEXT NOT NULL,\n"
    "  ended_at TEXT NOT NULL,\n"
    "  duration_us INTEGER NOT NULL,\n"
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

static int migrate_to_3(struct store *st) { return store_exec(st, schema_3); }

static int (*const migrations[])(struct store *) = {migrate_to_1, migrate_to_2,
                                                    migrate_to_3};

/* The integer the one-row query sql answers, into *out. */
static int query_int(struct store *st, const char *sql, int *out) {
  sqlite3_stmt *s;
  int rc = sqlite3_prepare_v2(sq_db(st), sql, -1, &s, NULL);
  if (rc != SQLITE_OK)
    return store_sqlfail(st, rc);
  rc = sqlite3_step(s);
  if (rc == SQLITE_ROW)
    *out = sqlite3_column_int(s, 0);
  else
    rc = store_sqlfail(st, sqlite3_extended_errcode(sq_db(st)));
  sqlite3_finalize(s);
  return rc == SQLITE_ROW ? ENG_OK : rc;
}

static int schema_version(struct store *st, int *version) {
  return query_int(st, "PRAGMA user_version", version);
}

static int has_user_tables(struct store *st, bool *yes) {
  int n = 0;
  int rc = query_int(st,
                     "SELECT count(*) FROM sqlite_schema"
                     " WHERE name NOT LIKE 'sqlite_%'",
                     &n);
  *yes = n > 0;
  return rc;
}

static int migrate(struct store *st, bool may_write) {
  int version = 0, rc;
  bool tables_exist = false;
  int latest = (int)(sizeof migrations / sizeof migrations[0]);

  if ((rc = schema_version(st, &version)))
    return rc;
  if (version > latest)
    return store_fail(st, ENG_SCHEMA,
                      "database %s has schema version %d, newer than this "
                      "taskfs (%d); upgrade taskfs to use it",
                      st->path, version, latest);
  if (version == latest)
    return ENG_OK;
  if ((rc = has_user_tables(st, &tables_exist)))
    return rc;
  if (version == 0 && tables_exist)
    return store_fail(st, ENG_SCHEMA,
                      "%s is an SQLite database but not a taskfs one "
                      "(it has tables and no taskfs schema version)",
                      st->path);
  if (!may_write)
    return store_fail(st, version == 0 ? ENG_NOTFOUND : ENG_SCHEMA,
                      version == 0 ? "%s holds no taskfs database; create it "
                                     "with 'taskctl init'"
                                   : "database %s needs an upgrade of its "
                                     "schema; open it once read-write",
                      st->path);
  if ((rc = store_begin_write(st)))
    return rc;
  /* Another process may have migrated while we waited for the lock. */
  if ((rc = schema_version(st, &version)))
    goto fail;
  if (version > 0 && version < latest && !sq(st)->memory) {
    /* The write lock is held and nothing is changed yet: the backup is
     * exactly the file that is about to be upgraded. */
    char reason[64];
    snprintf(reason, sizeof reason, "before-schema-%d-to-%d", version, latest);
    free(st->upgrade_backup);
    st->upgrade_backup = NULL;
    if ((rc = store_dbbackup_auto(st, reason, &st->upgrade_backup))) {
      char *why = xstrdup(st->err.ptr);
      store_fail(st, rc,
                 "database %s has schema version %d and needs an upgrade to "
                 "%d, which starts with a backup of it; the backup failed, "
                 "so nothing was changed: %s",
                 st->path, version, latest, why);
      free(why);
      goto fail;
    }
  }
  for (int v = version; v < latest; v++) {
    if ((rc = migrations[v](st)))
      goto fail;
  }
  char sql[64];
  snprintf(sql, sizeof sql, "PRAGMA user_version = %d", latest);
  if ((rc = store_exec(st, sql)))
    goto fail;
  return store_commit(st);
fail:
  store_rollback(st);
  return rc;
}

/* Replaces the connection of st by an in-memory copy of its database. */
static int load_into_memory(struct store *st) {
  sqlite3 *mem = NULL;
  int rc = sqlite3_open_v2(":memory:", &mem,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX |
                               SQLITE_OPEN_EXRESCODE,
                           NULL);
  if (!mem)
    die("out of memory opening SQLite");
  if (rc == SQLITE_OK) {
    sqlite3_backup *b = sqlite3_backup_init(mem, "main", sq_db(st), "main");
    if (b) {
      sqlite3_backup_step(b, -1);
      rc = sqlite3_backup_finish(b);
    } else {
      rc = sqlite3_extended_errcode(mem);
    }
  }
  if (rc != SQLITE_OK) {
    int e = (rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOTADB
                ? store_fail_damaged(st, sqlite3_errmsg(mem))
                : store_fail(st, rc_from_sqlite(rc), "cannot read %s: %s",
                             st->path, sqlite3_errmsg(mem));
    sqlite3_close_v2(mem);
    return e;
  }
  for (int i = 0; i < STMT_COUNT; i++) {
    sqlite3_finalize(sq(st)->stmts[i]);
    sq(st)->stmts[i] = NULL;
  }
  sqlite3_close_v2(sq_db(st));
  sq(st)->db = mem;
  sq(st)->memory = true;
  sqlite3_extended_result_codes(sq_db(st), 1);
  return store_exec(st, "PRAGMA foreign_keys = ON; "
                        "PRAGMA temp_store = MEMORY");
}

/*
 * The checks of a backup file to restore from: it reads back whole, and
 * it is a taskfs database this build can read. An older schema is
 * upgraded in a copy in memory, never in the file.
 */
static int open_backup_file(struct store *st) {
  int version, rc;
  bool has_tables = false;
  int latest = (int)(sizeof migrations / sizeof migrations[0]);
  if ((rc = store_check(st)))
    return rc;
  if ((rc = schema_version(st, &version)) ||
      (rc = has_user_tables(st, &has_tables)))
    return rc;
  if (version == 0)
    return store_fail(st, ENG_SCHEMA,
                      has_tables
                          ? "%s is an SQLite database but not a taskfs one"
                          : "%s holds no taskfs database",
                      st->path);
  if (version > latest)
    return store_fail(st, ENG_SCHEMA,
                      "%s has schema version %d, newer than this taskfs "
                      "(%d); restore it with a taskfs of that version",
                      st->path, version, latest);
  if (version == latest)
    return ENG_OK;
  if ((rc = load_into_memory(st)))
    return rc;
  st->readonly = false;
  rc = migrate(st, true);
  st->readonly = true;
  return rc;
}

/* The result of a file that SQLite refused as a database: a damaged one
 * when it starts like an SQLite file, else some other file. */
static int not_a_database(struct store *st) {
  if (strcmp(st->path, ":memory:") != 0 && store_file_is_sqlite(st->path)) {
    char *why = xstrdup(st->err.ptr);
    store_fail_damaged(st, why);
    free(why);
    return ENG_CORRUPT;
  }
  return store_fail(st, ENG_SCHEMA, "%s is not an SQLite database", st->path);
}

/*
 * Reopens a read-only store as immutable. A WAL database on a file system
 * that cannot be written (read-only media, a read-only bind mount) has no
 * -shm file and cannot make one, and SQLite reads it only this way. An
 * immutable connection takes no locks and does not notice changes made to
 * the file by other means.
 */
static int reopen_immutable(struct store *st) {
  struct buf uri = BUF_INIT;
  /* "file://" + "/abs/path" has an empty authority; a relative path
   * follows "file:" directly. */
  buf_adds(&uri, st->path[0] == '/' ? "file://" : "file:");
  for (const char *p = st->path; *p; p++) {
    if (*p == '%' || *p == '?' || *p == '#')
      buf_printf(&uri, "%%%02X", (unsigned)(unsigned char)*p);
    else
      buf_addc(&uri, *p);
  }
  buf_adds(&uri, "?immutable=1");
  sqlite3_close_v2(sq_db(st));
  sq(st)->db = NULL;
  int rc = sqlite3_open_v2(uri.ptr, &sq(st)->db,
                           SQLITE_OPEN_READONLY | SQLITE_OPEN_URI |
                               SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE,
                           NULL);
  buf_release(&uri);
  if (!sq_db(st))
    die("out of memory opening SQLite");
  if (rc != SQLITE_OK)
    return store_fail(st, rc_from_sqlite(rc), "cannot open database %s: %s",
                      st->path, sqlite3_errmsg(sq_db(st)));
  sqlite3_extended_result_codes(sq_db(st), 1);
  return store_exec(st, "PRAGMA foreign_keys = ON; "
                        "PRAGMA temp_store = MEMORY");
}

static bool sqlite_accepts(const char *target) {
  return !strstr(target, "://");
}

static bool sqlite_poll(struct store *st);

static int sqlite_open(struct store *st, const char *path, int flags) {
  int rc;
  sq(st)->backup_file = (flags & STORE_BACKUP_FILE) != 0;
  if (sq(st)->backup_file)
    flags &= ~STORE_CREATE;

  bool memory = strcmp(path, ":memory:") == 0;
  sq(st)->memory = memory;
  if (!memory && !(flags & STORE_CREATE) && access(path, F_OK) != 0)
    return sq(st)->backup_file
               ? store_fail(st, ENG_NOTFOUND, "no backup file %s: %s", path,
                            strerror(errno))
               : store_fail(st, ENG_NOTFOUND,
                            "no database at %s; create one with 'taskctl "
                            "init' or name another with -d",
                            path);
  if (!memory && !sq(st)->backup_file && (rc = store_file_check(st, path)))
    return rc;
  int oflags =
      SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE |
      (st->readonly ? SQLITE_OPEN_READONLY
                    : SQLITE_OPEN_READWRITE |
                          ((flags & STORE_CREATE) ? SQLITE_OPEN_CREATE : 0));
  rc = sqlite3_open_v2(path, &sq(st)->db, oflags, NULL);
  if (rc != SQLITE_OK) {
    if (!sq_db(st))
      die("out of memory opening SQLite");
    int e = rc_from_sqlite(rc);
    if (e == ENG_NOTFOUND && !memory && access(path, F_OK) == 0)
      return store_fail(st, ENG_READONLY,
                        "cannot open database %s for writing: the file and "
                        "its folder must be writable (SQLite keeps its "
                        "-wal and -shm files beside it)",
                        path);
    return store_fail(st, e, "cannot open database %s: %s", path,
                      sqlite3_errmsg(sq_db(st)));
  }
  sqlite3_extended_result_codes(sq_db(st), 1);
  sqlite3_busy_timeout(sq_db(st), st->busy_ms);
  /* Statement journals of trigger-heavy inserts stay in memory. */
  if ((rc = store_exec(st, "PRAGMA foreign_keys = ON; "
                           "PRAGMA temp_store = MEMORY")))
    return rc;
  if (!st->readonly && !memory) {
    /* WAL lets readers (the mount) and one writer work at once. */
    rc = store_exec(st, "PRAGMA journal_mode = WAL");
    if (rc == ENG_SCHEMA || rc == ENG_CORRUPT)
      return not_a_database(st);
    if (rc == ENG_NOTFOUND)
      return store_fail(st, ENG_READONLY,
                        "cannot open database %s for writing: the file and "
                        "its folder must be writable (SQLite keeps its -wal "
                        "and -shm files beside it)",
                        path);
    if (rc)
      return rc;
    /* A commit is on disk when it returns: a save whose close() returned
     * 0 survives a power failure (NORMAL would fsync the log only at
     * checkpoints). */
    if ((rc = store_exec(st, "PRAGMA synchronous = FULL")))
      return rc;
  }
  rc = sq(st)->backup_file ? open_backup_file(st) : migrate(st, !st->readonly);
  if (rc == ENG_NOTFOUND && st->readonly && !memory &&
      access(path, F_OK) == 0 && strstr(st->err.ptr, "unable to open")) {
    rc = reopen_immutable(st);
    if (rc == ENG_OK)
      rc = sq(st)->backup_file ? open_backup_file(st) : migrate(st, false);
  }
  if (rc == ENG_NOTFOUND && !memory && access(path, F_OK) == 0 &&
      strstr(st->err.ptr, "unable to open"))
    return store_fail(st, ENG_READONLY,
                      "cannot open database %s for writing: the file and "
                      "its folder must be writable (SQLite keeps its -wal "
                      "and -shm files beside it)",
                      path);
  if (rc == ENG_SCHEMA && strstr(st->err.ptr, "not a database"))
    return not_a_database(st);
  if (rc == ENG_DB && strstr(st->err.ptr, "not a database"))
    return not_a_database(st);
  if (rc)
    return rc;
  sqlite_poll(st);
  return ENG_OK;
}

static void sqlite_close(struct store *st) {
  for (int i = 0; i < STMT_COUNT; i++)
    sqlite3_finalize(sq(st)->stmts[i]);
  sqlite3_finalize(sq(st)->raw_insert);
  if (sq_db(st))
    sqlite3_close_v2(sq_db(st));
}

const char *store_sqlite_version(void) { return sqlite3_libversion(); }

static void sqlite_set_busy_ms(struct store *st, int ms) {
  sqlite3_busy_timeout(sq_db(st), ms);
}

/* ---- transactions ---- */

/* BEGIN IMMEDIATE: SQLite's busy handler retries a locked database with
 * growing sleeps (1 ms up to 100 ms) until busy_ms have passed, the
 * bounded exponential backoff. Past it: ENG_BUSY, and nothing changed. */
static int begin_immediate(struct store *st) {
  sqlite3_stmt *s = store_stmt(st, STMT_BEGIN, "BEGIN IMMEDIATE");
  if (!s)
    return ENG_DB;
  int rc = sqlite3_step(s);
  sqlite3_reset(s);
  return rc == SQLITE_DONE ? ENG_OK : store_sqlfail(st, rc);
}

static void rollback(struct store *st) {
  if (!sqlite3_get_autocommit(sq_db(st)))
    sqlite3_exec(sq_db(st), "ROLLBACK", NULL, NULL, NULL);
}

int store_begin_write(struct store *st) {
  int rc = store_may_write(st);
  if (rc)
    return rc;
  rc = begin_immediate(st);
  if (rc == ENG_OK)
    st->in_write = true;
  return rc;
}

int store_begin_source(struct store *st) {
  int rc;
  sqlite3_stmt *s = store_stmt(
      st, STMT_SET_SOURCE, "UPDATE change_source SET source = ?1 WHERE id = 1");
  if (!s) {
    store_rollback(st);
    return ENG_DB;
  }
  bind_text(s, 1, st->source);
  if ((rc = store_step_done(st, s))) {
    store_rollback(st);
    return rc;
  }
  return ENG_OK;
}

static int sqlite_begin(struct store *st) {
  int rc = begin_immediate(st);
  if (rc)
    return rc;
  sqlite3_stmt *s = store_stmt(
      st, STMT_SET_SOURCE, "UPDATE change_source SET source = ?1 WHERE id = 1");
  if (!s)
    rc = ENG_DB;
  else {
    bind_text(s, 1, st->source);
    rc = store_step_done(st, s);
  }
  if (rc)
    rollback(st);
  return rc;
}

static int sqlite_commit(struct store *st) {
  /* Changes by other programs are recorded as coming from "sql". */
  sqlite3_stmt *s = store_stmt(st, STMT_RESET_SOURCE,
                               "UPDATE change_source SET source = 'sql'"
                               " WHERE id = 1");
  int rc = s ? store_step_done(st, s) : ENG_DB;
  if (rc == ENG_OK) {
    s = store_stmt(st, STMT_COMMIT, "COMMIT");
    rc = ENG_DB;
    if (s) {
      int src = sqlite3_step(s);
      sqlite3_reset(s);
      rc = src == SQLITE_DONE ? ENG_OK : store_sqlfail(st, src);
    }
  }
  if (rc)
    rollback(st);
  else
    sq(st)->own_commit = true;
  return rc;
}

static int sqlite_read_begin(struct store *st) {
  sqlite3_stmt *s = store_stmt(st, STMT_READ_BEGIN, "BEGIN DEFERRED");
  int rc = s ? store_step_done(st, s) : ENG_DB;
  if (rc)
    return rc;
  /* Take the read snapshot now, so that every later query sees it. */
  s = store_stmt(st, STMT_REVISION, "SELECT rev FROM revision WHERE id = 1");
  if (s) {
    sqlite3_step(s);
    sqlite3_reset(s);
  }
  return ENG_OK;
}

static void sqlite_read_end(struct store *st) {
  if (!sqlite3_get_autocommit(sq_db(st)))
    sqlite3_exec(sq_db(st), "COMMIT", NULL, NULL, NULL);
}

/* SQLite tells nobody of commits: the file's data_version is polled. */
static int sqlite_notify_fd(struct store *st) {
  (void)st;
  return -1;
}

static bool sqlite_moved(struct store *st) {
  int moved = 0;
  if (sqlite3_file_control(sq_db(st), "main", SQLITE_FCNTL_HAS_MOVED, &moved) !=
      SQLITE_OK)
    return false;
  return moved != 0;
}

static int sqlite_schema_check(struct store *st, bool *newer) {
  int version = 0;
  int rc = schema_version(st, &version);
  *newer =
      rc == ENG_OK && version > (int)(sizeof migrations / sizeof migrations[0]);
  return rc;
}

static int64_t sqlite_revision(struct store *st) {
  sqlite3_stmt *s =
      store_stmt(st, STMT_REVISION, "SELECT rev FROM revision WHERE id = 1");
  if (!s)
    return 0;
  int64_t rev = 0;
  if (sqlite3_step(s) == SQLITE_ROW)
    rev = sqlite3_column_int64(s, 0);
  sqlite3_reset(s);
  return rev;
}

static int sqlite_listing_mark(struct store *st, int64_t mark[3]) {
  sqlite3_stmt *s = store_stmt(st, STMT_LISTING_MARK, STORE_LISTING_MARK_SQL);
  if (!s)
    return ENG_DB;
  int rc = sqlite3_step(s);
  for (int i = 0; i < 3; i++)
    mark[i] = rc == SQLITE_ROW ? sqlite3_column_int64(s, i) : 0;
  sqlite3_reset(s);
  return rc == SQLITE_ROW ? ENG_OK : store_sqlfail(st, rc);
}

static bool sqlite_poll(struct store *st) {
  sqlite3_stmt *s = store_stmt(st, STMT_DATA_VERSION, "PRAGMA data_version");
  if (!s)
    return true;
  bool changed = sq(st)->own_commit;
  if (sqlite3_step(s) == SQLITE_ROW) {
    unsigned dv = (unsigned)sqlite3_column_int(s, 0);
    changed |= dv != sq(st)->data_version;
    sq(st)->data_version = dv;
  } else {
    changed = true;
  }
  sqlite3_reset(s);
  sq(st)->own_commit = false;
  return changed;
}

static int64_t sqlite_revision_time(struct store *st, int64_t rev) {
  sqlite3_stmt *s = store_stmt(st, STMT_REVISION_TIME,
                               "SELECT at FROM history WHERE revision = ?1"
                               " LIMIT 1");
  if (!s)
    return 0;
  sqlite3_bind_int64(s, 1, rev);
  int64_t ns = 0;
  if (sqlite3_step(s) == SQLITE_ROW)
    time_parse((const char *)sqlite3_column_text(s, 0), &ns);
  sqlite3_reset(s);
  return ns;
}

void sqlite_insert_triggers(struct buf *b) {
  for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++)
    add_insert_trigger(b, &tables[i]);
}

const struct store_ops store_sqlite_ops = {
    .name = "sqlite",
    .accepts = sqlite_accepts,
    .size = sizeof(struct sqlite_store),
    .open = sqlite_open,
    .close = sqlite_close,
    .set_busy_ms = sqlite_set_busy_ms,
    .begin = sqlite_begin,
    .commit = sqlite_commit,
    .rollback = rollback,
    .read_begin = sqlite_read_begin,
    .read_end = sqlite_read_end,
    .revision = sqlite_revision,
    .listing_mark = sqlite_listing_mark,
    .poll = sqlite_poll,
    .notify_fd = sqlite_notify_fd,
    .moved = sqlite_moved,
    .schema_check = sqlite_schema_check,
    .revision_time = sqlite_revision_time,
    .get = sqlite_get,
    .query = sqlite_query,
    .insert = sqlite_insert,
    .update = sqlite_update,
    .exists = sqlite_exists,
    .id_max = sqlite_id_max,
    .next_position = sqlite_next_position,
    .task_ids = sqlite_task_ids,
    .task_place = sqlite_task_place,
    .owner_revision = sqlite_owner_revision,
    .group_stats = sqlite_group_stats,
    .group_revs = sqlite_group_revs,
    .group_stats_of = sqlite_group_stats_of,
    .task_events = sqlite_task_events,
    .changes_since = sqlite_changes_since,
    .changes_recent = sqlite_changes_recent,
    .last_change = sqlite_last_change,
    .draft_get = sqlite_draft_get,
    .draft_put = sqlite_draft_put,
    .draft_delete = sqlite_draft_delete,
    .draft_list = sqlite_draft_list,
    .memo_get = sqlite_memo_get,
    .memo_put = sqlite_memo_put,
    .backup_add = sqlite_backup_add,
    .backup_value = sqlite_backup_value,
    .backup_get = sqlite_backup_get,
    .backup_list = sqlite_backup_list,
    .conflict_add = sqlite_conflict_add,
    .conflict_get = sqlite_conflict_get,
    .conflict_list = sqlite_conflict_list,
    .conflict_resolve = sqlite_conflict_resolve,
    .conflict_note = sqlite_conflict_note,
    .syncop_add = sqlite_syncop_add,
    .syncops_prune = sqlite_syncops_prune,
    .sync_stats = sqlite_sync_stats,
    .sync_last_ns = sqlite_sync_last_ns,
    .sync_error_kinds = sqlite_sync_error_kinds,
    .sync_failures = sqlite_sync_failures,
    .check = sqlite_check,
    .dbbackup_write = sqlite_dbbackup_write,
    .restore = sqlite_restore,
    .raw_count = sqlite_raw_count,
    .raw_read = sqlite_raw_read,
    .raw_begin = sqlite_raw_begin,
    .raw_insert = sqlite_raw_insert,
    .raw_set_revision = sqlite_raw_set_revision,
    .raw_end = sqlite_raw_end,
};
