/* SPDX-License-Identifier: MIT */
/* sqlite_syncops.c: the sync log (every render, save and resolution) and
 * the health figures computed from it. */
#include "store.h"
#include "sqlite.h"
#include "util.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static void ns_text(int64_t ns, char out[32]) {
  time_t sec = (time_t)(ns / 1000000000);
  struct tm tm;
  gmtime_r(&sec, &tm);
  size_t n = strftime(out, 32, "%Y-%m-%d %H:%M:%S", &tm);
  snprintf(out + n, 32 - n, ".%03u",
           (unsigned)((ns % 1000000000) / 1000000) % 1000u);
}

int sqlite_syncop_add(struct store *st, const struct syncop *op) {
  sqlite3_stmt *s = store_stmt(
      st, STMT_SYNCOP_ADD,
      "INSERT INTO sync_ops (type, file, session_id, started_at, ended_at,"
      " duration_us, status, error_kind, error, changes, conflicts, source)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)");
  if (!s)
    return ENG_DB;
  char start[32], end[32];
  ns_text(op->started_ns, start);
  ns_text(op->ended_ns, end);
  bind_text(s, 1, op->type);
  bind_text(s, 2, op->file);
  bind_text(s, 3, op->session_id);
  bind_text(s, 4, start);
  bind_text(s, 5, end);
  sqlite3_bind_int64(s, 6, (op->ended_ns - op->started_ns) / 1000);
  bind_text(s, 7, op->status);
  bind_text(s, 8, op->error_kind);
  bind_text(s, 9, op->error);
  sqlite3_bind_int(s, 10, op->changes);
  sqlite3_bind_int(s, 11, op->conflicts);
  bind_text(s, 12, st->source);
  return store_step_done(st, s);
}

int sqlite_syncops_prune(struct store *st, int max_rows, int max_age_days) {
  sqlite3_stmt *s = store_stmt(
      st, STMT_SYNCOP_PRUNE,
      "DELETE FROM sync_ops WHERE id <= (SELECT max(id) FROM sync_ops) - ?1"
      " OR started_at < strftime('%Y-%m-%d %H:%M:%f', 'now',"
      " '-' || ?2 || ' days')");
  if (!s)
    return ENG_DB;
  sqlite3_bind_int(s, 1, max_rows);
  sqlite3_bind_int(s, 2, max_age_days);
  return store_step_done(st, s);
}

/* The p-th percentile (0-1) of durations of one type, in ms. */
static double percentile(struct store *st, const char *session,
                         const char *type, int64_t count, double p) {
  if (count <= 0)
    return 0;
  sqlite3_stmt *s =
      store_stmt(st, STMT_SYNC_PCT,
                 "SELECT duration_us FROM sync_ops"
                 " WHERE (?1 IS NULL OR session_id = ?1)"
                 " AND (type = ?2 OR (?2 = 'save' AND type != 'render'))"
                 " ORDER BY duration_us LIMIT 1 OFFSET ?3");
  if (!s)
    return 0;
  bind_text(s, 1, session);
  bind_text(s, 2, type);
  int64_t off = (int64_t)((double)(count - 1) * p + 0.5);
  sqlite3_bind_int64(s, 3, off);
  double ms = 0;
  if (sqlite3_step(s) == SQLITE_ROW)
    ms = (double)sqlite3_column_int64(s, 0) / 1000.0;
  sqlite3_reset(s);
  return ms;
}

int sqlite_sync_stats(struct store *st, const char *session,
                      struct sync_stats *out) {
  memset(out, 0, sizeof *out);
  int64_t saves_ok = 0;
  sqlite3_stmt *s = store_stmt(
      st, STMT_SYNC_STATS,
      "SELECT count(*), total(status = 'ok'), total(status = 'error'),"
      " total(status = 'held'), total(status = 'conflict'),"
      " total(type = 'render'), total(type != 'render'),"
      " total(type != 'render' AND status IN ('ok', 'conflict')),"
      " (SELECT count(*) FROM conflicts WHERE ?1 IS NULL"
      "  OR session_id = ?1),"
      " (SELECT count(*) FROM conflicts WHERE (?1 IS NULL"
      "  OR session_id = ?1) AND status != 'resolved'),"
      " (SELECT count(*) FROM conflicts WHERE (?1 IS NULL"
      "  OR session_id = ?1) AND status = 'resolved')"
      " FROM sync_ops WHERE ?1 IS NULL OR session_id = ?1");
  if (!s)
    return ENG_DB;
  bind_text(s, 1, session);
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) {
    out->ops = sqlite3_column_int64(s, 0);
    out->ok = (int64_t)sqlite3_column_double(s, 1);
    out->errors = (int64_t)sqlite3_column_double(s, 2);
    out->held = (int64_t)sqlite3_column_double(s, 3);
    out->with_conflicts = (int64_t)sqlite3_column_double(s, 4);
    out->renders = (int64_t)sqlite3_column_double(s, 5);
    out->saves = (int64_t)sqlite3_column_double(s, 6);
    saves_ok = (int64_t)sqlite3_column_double(s, 7);
    out->conflicts_total = sqlite3_column_int64(s, 8);
    out->conflicts_open = sqlite3_column_int64(s, 9);
    out->conflicts_resolved_by_user = sqlite3_column_int64(s, 10);
  }
  sqlite3_reset(s);
  if (rc != SQLITE_ROW)
    return store_sqlfail(st, rc);
  out->success_rate =
      out->ops ? (double)(out->ok + out->with_conflicts) / out->ops : 1;
  out->save_success_rate = out->saves ? (double)saves_ok / out->saves : 1;
  out->conflict_rate =
      out->saves ? (double)out->with_conflicts / out->saves : 0;
  out->resolution_rate =
      out->conflicts_total
          ? (double)out->conflicts_resolved_by_user / out->conflicts_total
          : 1;
  out->render_p50_ms = percentile(st, session, "render", out->renders, 0.5);
  out->render_p95_ms = percentile(st, session, "render", out->renders, 0.95);
  out->save_p50_ms = percentile(st, session, "save", out->saves, 0.5);
  out->save_p95_ms = percentile(st, session, "save", out->saves, 0.95);
  return ENG_OK;
}

int sqlite_sync_last_ns(struct store *st, const char *session, int64_t *ns) {
  *ns = 0;
  sqlite3_stmt *s =
      store_stmt(st, STMT_SYNC_LAST,
                 "SELECT max(ended_at) FROM sync_ops WHERE session_id = ?1"
                 " AND type != 'render'");
  if (!s)
    return ENG_DB;
  bind_text(s, 1, session);
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW && sqlite3_column_type(s, 0) == SQLITE_TEXT)
    time_parse((const char *)sqlite3_column_text(s, 0), ns);
  sqlite3_reset(s);
  return rc == SQLITE_ROW ? ENG_OK : store_sqlfail(st, rc);
}

int sqlite_sync_error_kinds(struct store *st, const char *session,
                            struct strlist *kinds, struct strlist *counts) {
  sqlite3_stmt *s = store_stmt(
      st, STMT_SYNC_ERRKINDS,
      "SELECT coalesce(error_kind, 'other'), count(*) FROM sync_ops"
      " WHERE (?1 IS NULL OR session_id = ?1)"
      " AND status IN ('error', 'held') GROUP BY 1 ORDER BY 2 DESC, 1");
  if (!s)
    return ENG_DB;
  bind_text(s, 1, session);
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    strlist_add(kinds, (const char *)sqlite3_column_text(s, 0));
    strlist_add(counts, (const char *)sqlite3_column_text(s, 1));
  }
  sqlite3_reset(s);
  return rc == SQLITE_DONE ? ENG_OK : store_sqlfail(st, rc);
}

static void read_failure(sqlite3_stmt *s, void *elem) {
  struct sync_failure *f = elem;
  f->at = col_text(s, 0);
  f->type = col_text(s, 1);
  f->file = col_text(s, 2);
  f->status = col_text(s, 3);
  f->kind = col_text(s, 4);
  f->error = col_text(s, 5);
}

int sqlite_sync_failures(struct store *st, const char *session, size_t limit,
                         struct sync_failure **out, size_t *n) {
  sqlite3_stmt *s = store_stmt(
      st, STMT_SYNC_FAILURES,
      "SELECT started_at, type, file, status, error_kind, error FROM sync_ops"
      " WHERE (?1 IS NULL OR session_id = ?1)"
      " AND status IN ('error', 'held') ORDER BY id DESC LIMIT ?2");
  if (!s)
    return ENG_DB;
  bind_text(s, 1, session);
  sqlite3_bind_int64(s, 2, (int64_t)limit);
  return sqlite_rows(st, s, sizeof **out, read_failure, (void **)out, n);
}
