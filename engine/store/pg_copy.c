/* SPDX-License-Identifier: MIT */
/* pg_copy.c: the PostgreSQL backend's whole tables as rows, for a copy of
 * a database into another (copy.c drives it): rows read through a cursor
 * in the caller's snapshot, rows written as given with the versioning
 * triggers disabled for the transaction, sequences set after the ids. */
#include "pg.h"
#include "store.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The type oids of the columns taskfs's schema has (pg_type.h, which is
 * the server's header). */
enum {
  OID_BYTEA = 17,
  OID_INT8 = 20,
  OID_INT2 = 21,
  OID_INT4 = 23,
  OID_FLOAT4 = 700,
  OID_FLOAT8 = 701,
};

/* Rows fetched from the cursor at a time. */
#define FETCH_ROWS "1000"

int pg_raw_count(struct store *st, const struct raw_table *t, int64_t *n) {
  char *sql = xasprintf("SELECT count(*) FROM %s", t->name);
  PGresult *r = NULL;
  int rc = pg_run(st, PG_RAW_COUNT + t->id, sql, NULL, &r);
  free(sql);
  if (rc)
    return rc;
  *n = PQntuples(r) ? pg_int(r, 0, 0) : 0;
  PQclear(r);
  return ENG_OK;
}

/* Runs sql, which returns rows, unprepared: *res for the caller to clear. */
static int query(struct store *st, const char *sql, PGresult **res) {
  PGresult *r = PQexec(pg(st)->conn, sql);
  if (PQresultStatus(r) != PGRES_TUPLES_OK) {
    int rc = pg_fail(st, r);
    PQclear(r);
    return rc;
  }
  *res = r;
  return ENG_OK;
}

/* Passes each row of r to row. Bytes of bytea columns are unescaped into
 * buffers that live for the call. */
static int pass_rows(const struct raw_table *t, PGresult *r, raw_row_fn *row,
                     void *arg) {
  struct raw_value v[RAW_MAX_COLUMNS];
  unsigned char *bytes[RAW_MAX_COLUMNS];
  int rows = PQntuples(r);
  for (int j = 0; j < rows; j++) {
    memset(bytes, 0, sizeof bytes);
    for (int i = 0; i < t->ncols; i++) {
      struct raw_value *x = &v[i];
      memset(x, 0, sizeof *x);
      if (PQgetisnull(r, j, i)) {
        x->type = RV_NULL;
        continue;
      }
      x->s = PQgetvalue(r, j, i);
      x->len = (size_t)PQgetlength(r, j, i);
      switch (PQftype(r, i)) {
      case OID_INT2:
      case OID_INT4:
      case OID_INT8:
        x->type = RV_INT;
        x->i = strtoll(x->s, NULL, 10);
        break;
      case OID_FLOAT4:
      case OID_FLOAT8:
        x->type = RV_REAL;
        x->r = strtod(x->s, NULL);
        break;
      case OID_BYTEA: {
        size_t n = 0;
        bytes[i] = PQunescapeBytea((const unsigned char *)x->s, &n);
        if (!bytes[i])
          die("out of memory reading bytes from PostgreSQL");
        x->type = RV_BLOB;
        x->s = (const char *)bytes[i];
        x->len = n;
        break;
      }
      default:
        x->type = RV_TEXT;
      }
    }
    int rc = row(arg, v);
    for (int i = 0; i < t->ncols; i++)
      PQfreemem(bytes[i]);
    if (rc)
      return rc;
  }
  return ENG_OK;
}

/* A cursor in the caller's snapshot, so that a large table is never held
 * whole in memory. */
int pg_raw_read(struct store *st, const struct raw_table *t, raw_row_fn *row,
                void *arg) {
  struct buf sql = BUF_INIT;
  buf_adds(&sql, "DECLARE taskfs_copy NO SCROLL CURSOR FOR SELECT ");
  for (int i = 0; i < t->ncols; i++)
    buf_printf(&sql, "%s%s", i ? ", " : "", t->cols[i]);
  buf_printf(&sql, " FROM %s ORDER BY %s", t->name, t->order);
  int rc = pg_exec(st, sql.ptr);
  buf_release(&sql);
  if (rc)
    return rc;
  for (;;) {
    PGresult *r = NULL;
    if ((rc = query(st, "FETCH " FETCH_ROWS " FROM taskfs_copy", &r)))
      break;
    bool last = PQntuples(r) == 0;
    rc = pass_rows(t, r, row, arg);
    PQclear(r);
    if (rc || last)
      break;
  }
  /* After a failure of the connection's own statement the transaction
   * is aborted and the cursor with it. */
  if (PQtransactionStatus(pg(st)->conn) == PQTRANS_INTRANS) {
    struct buf keep = BUF_INIT;
    buf_adds(&keep, st->err.ptr);
    int closed = pg_exec(st, "CLOSE taskfs_copy");
    if (rc == ENG_OK)
      rc = closed;
    else
      store_fail(st, rc, "%s", keep.ptr);
    buf_release(&keep);
  }
  return rc;
}

/* The versioning triggers are disabled in the copy's transaction only:
 * other connections see the change of the catalog at the commit, when
 * they are enabled again. Needs the tables' owner, who made them with
 * 'taskctl init'. */
int pg_raw_begin(struct store *st) {
  struct buf sql = BUF_INIT;
  for (int k = 0; k < RK_COUNT; k++)
    buf_printf(&sql, "ALTER TABLE %s DISABLE TRIGGER %s_versioned;\n",
               record_kinds[k].table, record_kinds[k].table);
  int rc = pg_exec(st, sql.ptr);
  buf_release(&sql);
  if (rc == ENG_OK)
    pg(st)->bulk = true;
  return rc;
}

/* Appends value v for a column of kind as the parameter PostgreSQL reads
 * into it. */
static void add_param(struct pg_params *p, int kind,
                      const struct raw_value *v) {
  if (v->type == RV_NULL) {
    pg_param_text(p, NULL);
    return;
  }
  if (kind == RAW_BLOB) {
    pg_param_bin(p, v->s, v->len);
    return;
  }
  if (kind == RAW_REAL && v->type == RV_REAL) {
    /* Every digit of the double: an SQLite text of it has 15. */
    pg_param_take(p, xasprintf("%.17g", v->r));
    return;
  }
  if (v->type == RV_BLOB) {
    pg_param_take(p, xstrndup(v->s, v->len));
    return;
  }
  pg_param_text(p, v->s);
}

int pg_raw_insert(struct store *st, const struct raw_table *t,
                  const struct raw_value *row) {
  struct pg_params p = {0};
  for (int i = 0; i < t->ncols; i++)
    add_param(&p, t->kinds[i], &row[i]);
  if (pg(st)->sql[PG_RAW_INSERT + t->id])
    return pg_run(st, PG_RAW_INSERT + t->id, NULL, &p, NULL);
  struct buf sql = BUF_INIT;
  buf_printf(&sql, "INSERT INTO %s (", t->name);
  for (int i = 0; i < t->ncols; i++)
    buf_printf(&sql, "%s%s", i ? ", " : "", t->cols[i]);
  buf_adds(&sql, ") VALUES (");
  for (int i = 0; i < t->ncols; i++)
    buf_printf(&sql, "%s$%d", i ? ", " : "", i + 1);
  buf_adds(&sql, ")");
  int rc = pg_run(st, PG_RAW_INSERT + t->id, sql.ptr, &p, NULL);
  buf_release(&sql);
  return rc;
}

int pg_raw_set_revision(struct store *st, int64_t rev) {
  struct pg_params p = {0};
  pg_param_int(&p, rev);
  return pg_run(st, PG_RAW_REVISION,
                "UPDATE revision SET rev = $1 WHERE id = 1", &p, NULL);
}

int pg_raw_end(struct store *st) {
  struct raw_table tables[RAW_MAX_TABLES];
  size_t n = store_raw_tables(tables);
  struct buf sql = BUF_INIT;
  pg(st)->bulk = false;
  for (int k = 0; k < RK_COUNT; k++)
    buf_printf(&sql, "ALTER TABLE %s ENABLE TRIGGER %s_versioned;\n",
               record_kinds[k].table, record_kinds[k].table);
  /* The next id handed out follows the largest one copied. */
  for (size_t i = 0; i < n; i++)
    if (tables[i].serial)
      buf_printf(&sql,
                 "SELECT setval(pg_get_serial_sequence('%s', 'id'), max(id))"
                 " FROM %s HAVING max(id) IS NOT NULL;\n",
                 tables[i].name, tables[i].name);
  int rc = pg_exec(st, sql.ptr);
  buf_release(&sql);
  return rc;
}
