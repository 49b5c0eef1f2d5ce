/* SPDX-License-Identifier: MIT */
/* copy.c: a whole database copied into another, of the same backend or
 * the other, history and stamps as they are. Reads and writes rows
 * through the backends' raw operations (backend.h); knows no SQL. */
#include "store.h"
#include "backend.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* ---- the tables ---- */

struct column {
  const char *name;
  int kind; /* enum raw_kind */
};

/* The tables that are not records, as both backends create them. */
static const struct {
  const char *name, *order;
  bool serial;
  struct column cols[RAW_MAX_COLUMNS];
} plain_tables[] = {
    {"history",
     "id",
     true,
     {{"id", RAW_INT},
      {"revision", RAW_INT},
      {"at", RAW_TEXT},
      {"source", RAW_TEXT},
      {"tbl", RAW_TEXT},
      {"rec", RAW_TEXT},
      {"op", RAW_TEXT},
      {"field", RAW_TEXT},
      {"old_value", RAW_ANY},
      {"new_value", RAW_ANY},
      {"session_id", RAW_TEXT}}},
    {"drafts",
     "kind, record",
     false,
     {{"kind", RAW_TEXT},
      {"record", RAW_TEXT},
      {"session_id", RAW_TEXT},
      {"text", RAW_BLOB},
      {"diagnostics", RAW_TEXT},
      {"created_at", RAW_TEXT}}},
    {"save_memos",
     "kind, record",
     false,
     {{"kind", RAW_TEXT},
      {"record", RAW_TEXT},
      {"text_rev", RAW_INT},
      {"applied_rev", RAW_INT},
      {"created", RAW_TEXT},
      {"saved_at", RAW_TEXT}}},
    {"backups",
     "id",
     true,
     {{"id", RAW_INT},
      {"session_id", RAW_TEXT},
      {"kind", RAW_TEXT},
      {"record", RAW_TEXT},
      {"reason", RAW_TEXT},
      {"text", RAW_BLOB},
      {"created_at", RAW_TEXT},
      {"target_kind", RAW_TEXT},
      {"target_id", RAW_TEXT},
      {"field", RAW_TEXT}}},
    {"conflicts",
     "id",
     true,
     {{"id", RAW_INT},
      {"session_id", RAW_TEXT},
      {"file_kind", RAW_TEXT},
      {"file_record", RAW_TEXT},
      {"type", RAW_TEXT},
      {"target_kind", RAW_TEXT},
      {"target_id", RAW_TEXT},
      {"field", RAW_TEXT},
      {"label", RAW_TEXT},
      {"base_rev", RAW_INT},
      {"base_value", RAW_ANY},
      {"db_value", RAW_ANY},
      {"file_value", RAW_ANY},
      {"manual_value", RAW_ANY},
      {"db_display", RAW_TEXT},
      {"file_display", RAW_TEXT},
      {"db_changed_at", RAW_TEXT},
      {"db_source", RAW_TEXT},
      {"detected_at", RAW_TEXT},
      {"status", RAW_TEXT},
      {"resolution", RAW_TEXT},
      {"resolved_at", RAW_TEXT},
      {"manual_task", RAW_TEXT},
      {"note", RAW_TEXT}}},
    {"sync_ops",
     "id",
     true,
     {{"id", RAW_INT},
      {"type", RAW_TEXT},
      {"file", RAW_TEXT},
      {"session_id", RAW_TEXT},
      {"started_at", RAW_TEXT},
      {"ended_at", RAW_TEXT},
      {"duration_us", RAW_INT},
      {"status", RAW_TEXT},
      {"error_kind", RAW_TEXT},
      {"error", RAW_TEXT},
      {"changes", RAW_INT},
      {"conflicts", RAW_INT},
      {"source", RAW_TEXT}}},
};

/* The column kind of a record field's type. */
static int field_kind(int type) {
  switch (type) {
  case FT_INT:
  case FT_BOOL:
  case FT_INT64:
    return RAW_INT;
  case FT_REAL:
  case FT_HOURS:
    return RAW_REAL;
  default:
    return RAW_TEXT;
  }
}

size_t store_raw_tables(struct raw_table *out) {
  size_t n = 0;
  /* Records first, sessions before the groups and tasks that refer to
   * them: their columns are the fields of the model's table. */
  for (int k = 0; k < RK_COUNT; k++, n++) {
    const struct record_kind_desc *d = &record_kinds[k];
    struct raw_table *t = &out[n];
    memset(t, 0, sizeof *t);
    t->id = (int)n;
    t->name = d->table;
    t->order = "id";
    t->serial = k == RK_SECTION;
    t->versioned = true;
    if (d->nfields > RAW_MAX_COLUMNS)
      die("table %s has more than %d columns", d->table, RAW_MAX_COLUMNS);
    for (int i = 0; i < d->nfields; i++) {
      t->cols[i] = d->fields[i].name;
      t->kinds[i] = field_kind(d->fields[i].type);
    }
    t->ncols = d->nfields;
  }
  for (size_t p = 0; p < sizeof plain_tables / sizeof *plain_tables; p++, n++) {
    struct raw_table *t = &out[n];
    memset(t, 0, sizeof *t);
    t->id = (int)n;
    t->name = plain_tables[p].name;
    t->order = plain_tables[p].order;
    t->serial = plain_tables[p].serial;
    for (int i = 0; i < RAW_MAX_COLUMNS && plain_tables[p].cols[i].name; i++) {
      t->cols[i] = plain_tables[p].cols[i].name;
      t->kinds[i] = plain_tables[p].cols[i].kind;
      t->ncols = i + 1;
    }
  }
  return n;
}

/* ---- the copy ---- */

/* Where the rows of one table go. */
struct sink {
  struct store *to;
  const struct raw_table *t;
  int64_t rows;
  bool failed; /* the message is on to */
};

static int put_row(void *arg, const struct raw_value *row) {
  struct sink *k = arg;
  int rc = k->to->ops->raw_insert(k->to, k->t, row);
  if (rc) {
    k->failed = true;
    return rc;
  }
  k->rows++;
  return ENG_OK;
}

/* What the target holds, for the message that refuses it; empty when it
 * holds nothing. */
static int describe_contents(struct store *to, const struct raw_table *tables,
                             size_t n, struct buf *out) {
  for (size_t i = 0; i < n; i++) {
    int64_t rows = 0;
    int rc = to->ops->raw_count(to, &tables[i], &rows);
    if (rc)
      return rc;
    if (rows)
      buf_printf(out, "%s%s %lld", out->len ? ", " : "", tables[i].name,
                 (long long)rows);
  }
  int64_t rev = store_revision(to);
  if (rev)
    buf_printf(out, "%srevision %lld", out->len ? "; " : "", (long long)rev);
  return ENG_OK;
}

/* The copy checked inside its transaction: rows per table and the
 * revision as the source has them, and the target's integrity. */
static int verify(struct store *from, struct store *to, const char *shown,
                  const struct raw_table *tables, size_t n,
                  struct store_copy_stats *stats) {
  for (size_t i = 0; i < n; i++) {
    int64_t a = 0, b = 0;
    int rc = from->ops->raw_count(from, &tables[i], &a);
    if (rc)
      return rc;
    if ((rc = to->ops->raw_count(to, &tables[i], &b))) {
      store_fail(from, rc, "%s", store_errmsg(to));
      return rc;
    }
    if (a != b || a != stats->tables[i].rows)
      return store_fail(from, ENG_DB,
                        "the copy in %s holds %lld rows of %s where %s has "
                        "%lld (%lld copied)",
                        shown, (long long)b, tables[i].name, store_path(from),
                        (long long)a, (long long)stats->tables[i].rows);
  }
  int64_t rev = store_revision(to);
  if (rev != stats->rev)
    return store_fail(from, ENG_DB,
                      "the copy in %s is at revision %lld where %s is at "
                      "%lld",
                      shown, (long long)rev, store_path(from),
                      (long long)stats->rev);
  int rc = store_check(to);
  if (rc)
    store_fail(from, rc, "the copy fails its check: %s", store_errmsg(to));
  return rc;
}

/* Removes the database file at path and the files SQLite keeps beside
 * it. */
static void remove_database_file(const char *path) {
  static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
  for (size_t i = 0; i < sizeof suffixes / sizeof *suffixes; i++) {
    char *p = xasprintf("%s%s", path, suffixes[i]);
    unlink(p);
    free(p);
  }
}

int store_copy(struct store *from, const char *target,
               struct store_copy_stats *stats) {
  struct raw_table tables[RAW_MAX_TABLES];
  size_t n = store_raw_tables(tables);
  struct store *to = NULL;
  struct buf contents = BUF_INIT;
  char *shown = store_target_shown(target);
  bool reading = false;
  int rc;

  memset(stats, 0, sizeof *stats);
  stats->created = store_is_file(target) && strcmp(target, ":memory:") != 0 &&
                   access(target, F_OK) != 0 && errno == ENOENT;
  if ((rc = store_open(target, STORE_CREATE, &to))) {
    store_fail(from, rc, "%s", store_errmsg(to));
    goto out;
  }
  store_set_source(to, "copy");
  store_set_busy_ms(to, from->busy_ms);

  if ((rc = store_read_begin(from)))
    goto out;
  reading = true;
  if ((rc = store_begin(to)) || (rc = to->ops->raw_begin(to))) {
    store_fail(from, rc, "%s", store_errmsg(to));
    goto out;
  }
  if ((rc = describe_contents(to, tables, n, &contents))) {
    store_fail(from, rc, "%s", store_errmsg(to));
    goto out;
  }
  if (contents.len) {
    rc = store_fail(from, ENG_NOTEMPTY,
                    "database %s is not empty (it holds %s); copy into a new "
                    "database or an empty one (as 'taskctl init' makes it); "
                    "nothing was changed",
                    shown, contents.ptr);
    goto out;
  }

  stats->rev = store_revision(from);
  stats->ntables = n;
  for (size_t i = 0; i < n; i++) {
    struct sink k = {to, &tables[i], 0, false};
    stats->tables[i].name = tables[i].name;
    rc = from->ops->raw_read(from, &tables[i], put_row, &k);
    stats->tables[i].rows = k.rows;
    if (rc) {
      if (k.failed)
        store_fail(from, rc, "cannot copy the rows of %s into %s: %s",
                   tables[i].name, shown, store_errmsg(to));
      goto out;
    }
  }
  if ((rc = to->ops->raw_set_revision(to, stats->rev)) ||
      (rc = to->ops->raw_end(to))) {
    store_fail(from, rc, "%s", store_errmsg(to));
    goto out;
  }
  if ((rc = verify(from, to, shown, tables, n, stats)))
    goto out;
  if ((rc = store_commit(to)))
    store_fail(from, rc, "%s", store_errmsg(to));

out:
  if (rc && to)
    store_rollback(to);
  if (reading)
    store_read_end(from);
  store_close(to);
  if (rc && stats->created)
    remove_database_file(target);
  buf_release(&contents);
  free(shown);
  return rc;
}
