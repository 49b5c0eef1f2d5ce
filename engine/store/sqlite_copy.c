/* SPDX-License-Identifier: MIT */
/* sqlite_copy.c: the SQLite backend's whole tables as rows, for a copy of
 * a database into another (copy.c drives it): rows read with the storage
 * class SQLite holds them in, rows written as given with the triggers
 * that version inserts dropped for the transaction. */
#include "store.h"
#include "sqlite.h"
#include "util.h"

#include <string.h>

int sqlite_raw_count(struct store *st, const struct raw_table *t, int64_t *n) {
  char *sql = xasprintf("SELECT count(*) FROM %s", t->name);
  sqlite3_stmt *s = NULL;
  int rc = sqlite3_prepare_v2(sq_db(st), sql, -1, &s, NULL);
  free(sql);
  if (rc != SQLITE_OK)
    return store_sqlfail(st, rc);
  rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) {
    *n = sqlite3_column_int64(s, 0);
    rc = ENG_OK;
  } else {
    rc = store_sqlfail(st, sqlite3_extended_errcode(sq_db(st)));
  }
  sqlite3_finalize(s);
  return rc;
}

/* Column i of the current row of s as the value it is. */
static void read_value(sqlite3_stmt *s, int i, struct raw_value *v) {
  memset(v, 0, sizeof *v);
  switch (sqlite3_column_type(s, i)) {
  case SQLITE_INTEGER:
    v->type = RV_INT;
    v->i = sqlite3_column_int64(s, i);
    break;
  case SQLITE_FLOAT:
    v->type = RV_REAL;
    v->r = sqlite3_column_double(s, i);
    break;
  case SQLITE_BLOB:
    v->type = RV_BLOB;
    v->s = sqlite3_column_blob(s, i);
    v->len = (size_t)sqlite3_column_bytes(s, i);
    if (!v->s)
      v->s = "";
    return;
  case SQLITE_NULL:
    v->type = RV_NULL;
    return;
  default:
    v->type = RV_TEXT;
    break;
  }
  /* The text SQLite reads of a number is what reads through the store
   * show of it (a history value of 2.0 is "2.0"). */
  v->s = (const char *)sqlite3_column_text(s, i);
  v->len = (size_t)sqlite3_column_bytes(s, i);
  if (!v->s)
    die("out of memory in SQLite");
}

int sqlite_raw_read(struct store *st, const struct raw_table *t,
                    raw_row_fn *row, void *arg) {
  struct buf sql = BUF_INIT;
  struct raw_value v[RAW_MAX_COLUMNS];
  sqlite3_stmt *s = NULL;
  buf_adds(&sql, "SELECT ");
  for (int i = 0; i < t->ncols; i++)
    buf_printf(&sql, "%s%s", i ? ", " : "", t->cols[i]);
  buf_printf(&sql, " FROM %s ORDER BY %s", t->name, t->order);
  int rc = sqlite3_prepare_v2(sq_db(st), sql.ptr, -1, &s, NULL);
  buf_release(&sql);
  if (rc != SQLITE_OK)
    return store_sqlfail(st, rc);
  for (;;) {
    int r = sqlite3_step(s);
    if (r == SQLITE_DONE) {
      rc = ENG_OK;
      break;
    }
    if (r != SQLITE_ROW) {
      rc = store_sqlfail(st, sqlite3_extended_errcode(sq_db(st)));
      break;
    }
    for (int i = 0; i < t->ncols; i++)
      read_value(s, i, &v[i]);
    if ((rc = row(arg, v)))
      break;
  }
  sqlite3_finalize(s);
  return rc;
}

/* The triggers that version inserts fire for the rows of any program,
 * and SQLite cannot turn them off: the copy's transaction drops them and
 * makes them again before its commit, so no other connection sees them
 * missing, and a rollback brings them back. */
int sqlite_raw_begin(struct store *st) {
  struct buf sql = BUF_INIT;
  for (int k = 0; k < RK_COUNT; k++)
    buf_printf(&sql, "DROP TRIGGER %s_insert;\n", record_kinds[k].table);
  int rc = store_exec(st, sql.ptr);
  buf_release(&sql);
  return rc;
}

/* The insert of t's rows, prepared once per table. */
static sqlite3_stmt *insert_stmt(struct store *st, const struct raw_table *t) {
  if (sq(st)->raw_insert && sq(st)->raw_table == t->id)
    return sq(st)->raw_insert;
  sqlite3_finalize(sq(st)->raw_insert);
  sq(st)->raw_insert = NULL;
  struct buf sql = BUF_INIT;
  buf_printf(&sql, "INSERT INTO %s (", t->name);
  for (int i = 0; i < t->ncols; i++)
    buf_printf(&sql, "%s%s", i ? ", " : "", t->cols[i]);
  buf_adds(&sql, ") VALUES (");
  for (int i = 0; i < t->ncols; i++)
    buf_printf(&sql, "%s?%d", i ? ", " : "", i + 1);
  buf_adds(&sql, ")");
  int rc =
      sqlite3_prepare_v2(sq_db(st), sql.ptr, -1, &sq(st)->raw_insert, NULL);
  buf_release(&sql);
  if (rc != SQLITE_OK) {
    store_sqlfail(st, rc);
    return NULL;
  }
  sq(st)->raw_table = t->id;
  return sq(st)->raw_insert;
}

int sqlite_raw_insert(struct store *st, const struct raw_table *t,
                      const struct raw_value *row) {
  sqlite3_stmt *s = insert_stmt(st, t);
  if (!s)
    return ENG_DB;
  for (int i = 0; i < t->ncols; i++) {
    const struct raw_value *v = &row[i];
    /* Each value keeps its storage class; the column's affinity makes of
     * it what SQLite makes of any value written there. */
    switch (v->type) {
    case RV_INT:
      sqlite3_bind_int64(s, i + 1, v->i);
      break;
    case RV_REAL:
      sqlite3_bind_double(s, i + 1, v->r);
      break;
    case RV_TEXT:
      sqlite3_bind_text(s, i + 1, v->s, (int)v->len, SQLITE_TRANSIENT);
      break;
    case RV_BLOB:
      sqlite3_bind_blob(s, i + 1, v->s, (int)v->len, SQLITE_TRANSIENT);
      break;
    default:
      sqlite3_bind_null(s, i + 1);
    }
  }
  int rc = store_step_done(st, s);
  sqlite3_clear_bindings(s);
  return rc;
}

int sqlite_raw_set_revision(struct store *st, int64_t rev) {
  sqlite3_stmt *s = NULL;
  int rc = sqlite3_prepare_v2(
      sq_db(st), "UPDATE revision SET rev = ?1 WHERE id = 1", -1, &s, NULL);
  if (rc != SQLITE_OK)
    return store_sqlfail(st, rc);
  sqlite3_bind_int64(s, 1, rev);
  rc = store_step_done(st, s);
  sqlite3_finalize(s);
  return rc;
}

/* SQLite hands out the next row id after the largest one given: nothing
 * to set but the triggers. */
int sqlite_raw_end(struct store *st) {
  sqlite3_finalize(sq(st)->raw_insert);
  sq(st)->raw_insert = NULL;
  struct buf sql = BUF_INIT;
  sqlite_insert_triggers(&sql);
  int rc = store_exec(st, sql.ptr);
  buf_release(&sql);
  return rc;
}
