/* SPDX-License-Identifier: MIT */
/* pg_history.c: on PostgreSQL, the history of changes, drafts, save
 * memos, backups, conflicts and the sync log with its health figures. */
#include "pg.h"
#include "store.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NOW "taskfs_now()"

/* ---- the history ---- */

#define CHANGE_COLS                                                            \
  "revision, at, source, tbl, rec, op, field, old_value, new_value,"           \
  " session_id"

static void read_change(const PGresult *r, int row, void *elem) {
  struct change *c = elem;
  c->rev = pg_int(r, row, 0);
  c->at = pg_text(r, row, 1);
  c->source = pg_text(r, row, 2);
  c->table = pg_text(r, row, 3);
  c->record = pg_text(r, row, 4);
  c->op = pg_text(r, row, 5);
  c->field = pg_text(r, row, 6);
  c->old_value = pg_text(r, row, 7);
  c->new_value = pg_text(r, row, 8);
  c->session_id = pg_text(r, row, 9);
}

static int collect_changes(int rc, PGresult *r, struct change **out,
                           size_t *n) {
  return pg_rows(rc, r, sizeof **out, read_change, (void **)out, n);
}

/* A LIMIT: NULL for none. */
static void param_limit(struct pg_params *p, size_t limit) {
  if (limit)
    pg_param_int(p, (int64_t)limit);
  else
    pg_param_text(p, NULL);
}

int pg_changes_since(struct store *st, int64_t rev, const char *session_id,
                     size_t limit, struct change **out, size_t *n) {
  struct pg_params p = {0};
  PGresult *r = NULL;
  int rc;
  pg_param_int(&p, rev);
  param_limit(&p, limit);
  if (session_id) {
    pg_param_text(&p, session_id);
    rc = pg_run(st, PG_CHANGES_SINCE_SESSION,
                "SELECT " CHANGE_COLS " FROM history"
                " WHERE session_id = $3 AND revision > $1"
                " ORDER BY revision, id LIMIT $2",
                &p, &r);
  } else {
    rc = pg_run(st, PG_CHANGES_SINCE,
                "SELECT " CHANGE_COLS " FROM history"
                " WHERE revision > $1 ORDER BY revision, id LIMIT $2",
                &p, &r);
  }
  return collect_changes(rc, r, out, n);
}

int pg_changes_recent(struct store *st, const char *session_id,
                      const char *source, size_t limit, struct change **out,
                      size_t *n) {
  struct pg_params p = {0};
  PGresult *r = NULL;
  pg_param_text(&p, session_id);
  pg_param_text(&p, source);
  param_limit(&p, limit);
  int rc = pg_run(st, PG_CHANGES_RECENT,
                  "SELECT " CHANGE_COLS " FROM history"
                  " WHERE ($1::text IS NULL OR session_id = $1)"
                  " AND ($2::text IS NULL OR source = $2)"
                  " ORDER BY revision DESC, id DESC LIMIT $3",
                  &p, &r);
  return collect_changes(rc, r, out, n);
}

int pg_last_change(struct store *st, const char *table, const char *record,
                   const char *field, struct change *out) {
  struct pg_params p = {0};
  pg_param_text(&p, table);
  pg_param_text(&p, record);
  pg_param_text(&p, field);
  PGresult *r;
  int rc = pg_run(st, PG_LAST_CHANGE,
                  "SELECT " CHANGE_COLS " FROM history"
                  " WHERE tbl = $1 AND rec = $2 AND field = $3"
                  " ORDER BY revision DESC, id DESC LIMIT 1",
                  &p, &r);
  if ((rc = pg_row(rc, r, read_change, out)) == ENG_NOTFOUND)
    return store_fail(st, rc, "no change of %s of %s %s", field, table, record);
  return rc;
}

/* ---- drafts ---- */

#define DRAFT_COLS "kind, record, text, diagnostics, created_at"

static void read_draft(const PGresult *r, int row, void *elem) {
  struct draft *d = elem;
  d->kind = pg_text(r, row, 0);
  d->record = pg_text(r, row, 1);
  d->text = pg_bytes(r, row, 2, &d->len);
  d->diagnostics = pg_text_nn(r, row, 3);
  d->created_at = pg_text(r, row, 4);
}

int pg_draft_get(struct store *st, const char *kind, const char *record,
                 struct draft *out) {
  struct pg_params p = {0};
  pg_param_text(&p, kind);
  pg_param_text(&p, record);
  PGresult *r;
  int rc = pg_run(st, PG_DRAFT_GET,
                  "SELECT " DRAFT_COLS " FROM drafts"
                  " WHERE kind = $1 AND record = $2",
                  &p, &r);
  if ((rc = pg_row(rc, r, read_draft, out)) == ENG_NOTFOUND)
    return store_fail(st, rc, "no draft for %s %s", kind, record);
  return rc;
}

int pg_draft_put(struct store *st, const struct draft *d) {
  struct pg_params p = {0};
  pg_param_text(&p, d->kind);
  pg_param_text(&p, d->record);
  pg_param_bin(&p, d->text, d->len);
  pg_param_text(&p, d->diagnostics ? d->diagnostics : "");
  return pg_run(
      st, PG_DRAFT_PUT,
      "INSERT INTO drafts (kind, record, session_id, text, diagnostics,"
      " created_at) VALUES ($1, $2,"
      " CASE $1 WHEN 'group' THEN (SELECT session_id FROM task_groups"
      " WHERE id = $2) WHEN 'task' THEN (SELECT session_id FROM tasks"
      " WHERE id = $2) WHEN 'session' THEN $2"
      " ELSE CASE WHEN strpos($2, '/') > 0"
      " THEN left($2, strpos($2, '/') - 1) ELSE '' END END,"
      " $3, $4, " NOW ")"
      " ON CONFLICT (kind, record) DO UPDATE SET"
      " session_id = excluded.session_id, text = excluded.text,"
      " diagnostics = excluded.diagnostics,"
      " created_at = excluded.created_at",
      &p, NULL);
}

int pg_draft_delete(struct store *st, const char *kind, const char *record) {
  struct pg_params p = {0};
  pg_param_text(&p, kind);
  pg_param_text(&p, record);
  return pg_run(st, PG_DRAFT_DELETE,
                "DELETE FROM drafts WHERE kind = $1 AND record = $2", &p, NULL);
}

int pg_draft_list(struct store *st, const char *session_id, struct draft **out,
                  size_t *n) {
  struct pg_params p = {0};
  pg_param_text(&p, session_id);
  return pg_select(st, PG_DRAFT_LIST,
                   "SELECT " DRAFT_COLS " FROM drafts"
                   " WHERE $1::text IS NULL OR session_id = $1"
                   " ORDER BY created_at, kind, record",
                   &p, sizeof **out, read_draft, (void **)out, n);
}

/* ---- save memos ---- */

int pg_memo_get(struct store *st, const char *kind, const char *record,
                struct save_memo *out) {
  struct pg_params p = {0};
  pg_param_text(&p, kind);
  pg_param_text(&p, record);
  PGresult *r;
  int rc = pg_run(st, PG_MEMO_GET,
                  "SELECT text_rev, applied_rev, created FROM save_memos"
                  " WHERE kind = $1 AND record = $2",
                  &p, &r);
  if (rc)
    return rc;
  if (PQntuples(r) == 0) {
    PQclear(r);
    return store_fail(st, ENG_NOTFOUND, "no save of %s %s", kind, record);
  }
  out->kind = xstrdup(kind);
  out->record = xstrdup(record);
  out->text_rev = pg_int(r, 0, 0);
  out->applied_rev = pg_int(r, 0, 1);
  /* created: a JSON array of [title, id] pairs */
  struct strlist pairs = {0};
  strlist_from_json(PQgetvalue(r, 0, 2), &pairs);
  PQclear(r);
  for (size_t i = 0; i < pairs.n; i++) {
    struct strlist pair = {0};
    if (strlist_from_json(pairs.v[i], &pair) && pair.n == 2) {
      strlist_add(&out->created_titles, pair.v[0]);
      strlist_add(&out->created_ids, pair.v[1]);
    }
    strlist_clear(&pair);
  }
  strlist_clear(&pairs);
  return ENG_OK;
}

int pg_memo_put(struct store *st, const struct save_memo *m) {
  struct buf created = BUF_INIT;
  buf_addc(&created, '[');
  for (size_t i = 0; i < m->created_ids.n; i++) {
    struct strlist pair = {0};
    strlist_add(&pair, m->created_titles.v[i]);
    strlist_add(&pair, m->created_ids.v[i]);
    char *json = strlist_to_json(&pair);
    buf_printf(&created, "%s%s", i ? "," : "", json);
    free(json);
    strlist_clear(&pair);
  }
  buf_addc(&created, ']');
  struct pg_params p = {0};
  pg_param_text(&p, m->kind);
  pg_param_text(&p, m->record);
  pg_param_int(&p, m->text_rev);
  pg_param_int(&p, m->applied_rev);
  pg_param_take(&p, buf_detach(&created, NULL));
  return pg_run(st, PG_MEMO_PUT,
                "INSERT INTO save_memos (kind, record, text_rev, applied_rev,"
                " created, saved_at) VALUES ($1, $2, $3, $4, $5, " NOW ")"
                " ON CONFLICT (kind, record) DO UPDATE SET"
                " text_rev = excluded.text_rev,"
                " applied_rev = excluded.applied_rev,"
                " created = excluded.created, saved_at = excluded.saved_at",
                &p, NULL);
}

/* ---- backups ---- */

/* The id a statement ending "RETURNING id" gave. */
static int returned_id(int rc, PGresult *r, int64_t *id) {
  if (rc == ENG_OK && id && PQntuples(r))
    *id = pg_int(r, 0, 0);
  PQclear(r);
  return rc;
}

int pg_backup_add(struct store *st, const char *session_id, const char *kind,
                  const char *record, const char *reason, const char *text,
                  size_t len, int64_t *id) {
  struct pg_params p = {0};
  pg_param_text(&p, session_id);
  pg_param_text(&p, kind);
  pg_param_text(&p, record);
  pg_param_text(&p, reason);
  pg_param_bin(&p, text, len);
  PGresult *r = NULL;
  int rc = pg_run(st, PG_BACKUP_ADD,
                  "INSERT INTO backups (session_id, kind, record, reason,"
                  " text, created_at) VALUES ($1, $2, $3, $4, $5, " NOW ")"
                  " RETURNING id",
                  &p, &r);
  return returned_id(rc, r, id);
}

int pg_backup_value(struct store *st, const char *session_id,
                    const char *target_kind, const char *target_id,
                    const char *field, const char *value, const char *reason,
                    int64_t *id) {
  struct pg_params p = {0};
  pg_param_text(&p, session_id);
  pg_param_text(&p, target_kind);
  pg_param_text(&p, target_id);
  pg_param_text(&p, reason);
  pg_param_text(&p, value);
  pg_param_text(&p, field);
  PGresult *r = NULL;
  int rc = pg_run(st, PG_BACKUP_VALUE,
                  "INSERT INTO backups (session_id, kind, record, reason,"
                  " text, created_at, target_kind, target_id, field)"
                  " VALUES ($1, $2, $3, $4, convert_to(coalesce($5, ''),"
                  " 'UTF8'), " NOW ", $2, $3, $6) RETURNING id",
                  &p, &r);
  return returned_id(rc, r, id);
}

#define BACKUP_COLS                                                            \
  "id, session_id, kind, record, reason, created_at, target_kind,"             \
  " target_id, field, text"

static void read_backup(const PGresult *r, int row, void *elem) {
  struct backup *b = elem;
  memset(b, 0, sizeof *b);
  b->id = pg_int(r, row, 0);
  b->session_id = pg_text(r, row, 1);
  b->kind = pg_text(r, row, 2);
  b->record = pg_text(r, row, 3);
  b->reason = pg_text_nn(r, row, 4);
  b->created_at = pg_text(r, row, 5);
  b->target_kind = pg_text(r, row, 6);
  b->target_id = pg_text(r, row, 7);
  b->field = pg_text(r, row, 8);
  b->text = pg_bytes(r, row, 9, &b->len);
}

int pg_backup_get(struct store *st, int64_t id, struct backup *out) {
  struct pg_params p = {0};
  pg_param_int(&p, id);
  PGresult *r;
  int rc = pg_run(st, PG_BACKUP_GET,
                  "SELECT " BACKUP_COLS " FROM backups WHERE id = $1", &p, &r);
  if ((rc = pg_row(rc, r, read_backup, out)) == ENG_NOTFOUND)
    return store_fail(st, rc, "no backup %lld", (long long)id);
  return rc;
}

int pg_backup_list(struct store *st, const char *session_id,
                   struct backup **out, size_t *n) {
  struct pg_params p = {0};
  pg_param_text(&p, session_id);
  return pg_select(st, PG_BACKUP_LIST,
                   "SELECT " BACKUP_COLS " FROM backups"
                   " WHERE $1::text IS NULL OR session_id = $1"
                   " ORDER BY id DESC",
                   &p, sizeof **out, read_backup, (void **)out, n);
}

/* ---- conflicts ---- */

#define CONFLICT_COLS                                                          \
  "id, session_id, file_kind, file_record, type, target_kind, target_id,"      \
  " field, label, base_rev, base_value, db_value, file_value, manual_value,"   \
  " db_display, file_display, db_changed_at, db_source, detected_at,"          \
  " status, resolution, resolved_at, manual_task, note"

static void read_conflict(const PGresult *r, int row, void *elem) {
  struct conflict *c = elem;
  conflict_init(c);
  char **text[] = {&c->session_id,    &c->file_kind,   &c->file_record,
                   &c->type,          &c->target_kind, &c->target_id,
                   &c->field,         &c->label,       NULL,
                   &c->base_value,    &c->db_value,    &c->file_value,
                   &c->manual_value,  &c->db_display,  &c->file_display,
                   &c->db_changed_at, &c->db_source,   &c->detected_at,
                   &c->status,        &c->resolution,  &c->resolved_at,
                   &c->manual_task,   &c->note};
  c->id = pg_int(r, row, 0);
  for (int i = 0; i < (int)(sizeof text / sizeof text[0]); i++)
    if (text[i])
      *text[i] = pg_text(r, row, i + 1);
  c->base_rev = pg_int(r, row, 9);
  if (!c->db_display)
    c->db_display = xstrdup("");
  if (!c->file_display)
    c->file_display = xstrdup("");
  if (!c->note)
    c->note = xstrdup("");
}

/* Parameters 2 to 13 of the conflict's insert and update. */
static void param_conflict_values(struct pg_params *p,
                                  const struct conflict *c) {
  pg_param_text(p, c->type);
  pg_param_text(p, c->label);
  pg_param_int(p, c->base_rev);
  pg_param_text(p, c->base_value);
  pg_param_text(p, c->db_value);
  pg_param_text(p, c->file_value);
  pg_param_text(p, c->db_display ? c->db_display : "");
  pg_param_text(p, c->file_display ? c->file_display : "");
  pg_param_text(p, c->db_changed_at);
  pg_param_text(p, c->db_source);
  pg_param_text(p, c->status ? c->status : "open");
  pg_param_text(p, c->manual_task);
}

int pg_conflict_add(struct store *st, struct conflict *c) {
  struct pg_params p = {0};
  pg_param_text(&p, c->file_kind);
  pg_param_text(&p, c->file_record);
  pg_param_text(&p, c->target_kind);
  pg_param_text(&p, c->target_id);
  pg_param_text(&p, c->field);
  PGresult *r;
  int rc = pg_run(st, PG_CONFLICT_FIND,
                  "SELECT id FROM conflicts WHERE file_kind = $1"
                  " AND file_record = $2 AND target_kind = $3"
                  " AND target_id = $4 AND field = $5"
                  " AND status != 'resolved'",
                  &p, &r);
  if (rc)
    return rc;
  int64_t id = PQntuples(r) ? pg_int(r, 0, 0) : 0;
  PQclear(r);
  memset(&p, 0, sizeof p);
  if (id) {
    pg_param_int(&p, id);
    param_conflict_values(&p, c);
    rc = pg_run(st, PG_CONFLICT_UPDATE,
                "UPDATE conflicts SET type = $2, label = $3,"
                " base_rev = $4, base_value = $5, db_value = $6,"
                " file_value = $7, db_display = $8, file_display = $9,"
                " db_changed_at = $10, db_source = $11, status = $12,"
                " manual_task = coalesce($13, manual_task),"
                " manual_value = NULL, note = '',"
                " detected_at = " NOW " WHERE id = $1",
                &p, NULL);
    c->id = id;
    return rc;
  }
  pg_param_text(&p, c->session_id);
  param_conflict_values(&p, c);
  pg_param_text(&p, c->file_kind);
  pg_param_text(&p, c->file_record);
  pg_param_text(&p, c->target_kind);
  pg_param_text(&p, c->target_id);
  pg_param_text(&p, c->field);
  r = NULL;
  rc = pg_run(
      st, PG_CONFLICT_INSERT,
      "INSERT INTO conflicts (session_id, type, label, base_rev, base_value,"
      " db_value, file_value, db_display, file_display, db_changed_at,"
      " db_source, status, manual_task, file_kind, file_record,"
      " target_kind, target_id, field, detected_at)"
      " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13,"
      " $14, $15, $16, $17, $18, " NOW ") RETURNING id",
      &p, &r);
  return returned_id(rc, r, &c->id);
}

int pg_conflict_get(struct store *st, int64_t id, struct conflict *out) {
  struct pg_params p = {0};
  pg_param_int(&p, id);
  PGresult *r;
  int rc =
      pg_run(st, PG_CONFLICT_GET,
             "SELECT " CONFLICT_COLS " FROM conflicts WHERE id = $1", &p, &r);
  if ((rc = pg_row(rc, r, read_conflict, out)) == ENG_NOTFOUND)
    return store_fail(st, rc, "no conflict %lld", (long long)id);
  return rc;
}

int pg_conflict_list(struct store *st, const char *session_id,
                     const char *file_kind, const char *file_record,
                     bool open_only, struct conflict **out, size_t *n) {
  struct pg_params p = {0};
  pg_param_text(&p, session_id);
  pg_param_text(&p, file_kind);
  pg_param_text(&p, file_record);
  pg_param_bool(&p, open_only);
  return pg_select(
      st, PG_CONFLICT_LIST,
      "SELECT " CONFLICT_COLS " FROM conflicts"
      " WHERE ($1::text IS NULL OR session_id = $1)"
      " AND ($2::text IS NULL OR (file_kind = $2 AND file_record = $3))"
      " AND (NOT $4::boolean OR status != 'resolved') ORDER BY id",
      &p, sizeof **out, read_conflict, (void **)out, n);
}

int pg_conflict_resolve(struct store *st, int64_t id, const char *resolution) {
  struct pg_params p = {0};
  pg_param_int(&p, id);
  pg_param_text(&p, resolution);
  PGresult *r;
  int rc = pg_run(st, PG_CONFLICT_RESOLVE,
                  "UPDATE conflicts SET status = 'resolved',"
                  " resolution = $2, resolved_at = " NOW
                  " WHERE id = $1 AND status != 'resolved'",
                  &p, &r);
  if (rc)
    return rc;
  bool none = strcmp(PQcmdTuples(r), "0") == 0;
  PQclear(r);
  if (none)
    return store_fail(st, ENG_NOTFOUND, "no open conflict %lld", (long long)id);
  return ENG_OK;
}

int pg_conflict_note(struct store *st, int64_t id, const char *manual,
                     const char *note) {
  struct pg_params p = {0};
  pg_param_int(&p, id);
  pg_param_text(&p, manual);
  pg_param_text(&p, note ? note : "");
  return pg_run(st, PG_CONFLICT_NOTE,
                "UPDATE conflicts SET manual_value = $2, note = $3"
                " WHERE id = $1",
                &p, NULL);
}

/* ---- the sync log ---- */

static void ns_text(int64_t ns, char out[32]) {
  time_t sec = (time_t)(ns / 1000000000);
  struct tm tm;
  gmtime_r(&sec, &tm);
  size_t n = strftime(out, 32, "%Y-%m-%d %H:%M:%S", &tm);
  snprintf(out + n, 32 - n, ".%03u",
           (unsigned)((ns % 1000000000) / 1000000) % 1000u);
}

int pg_syncop_add(struct store *st, const struct syncop *op) {
  char start[32], end[32];
  ns_text(op->started_ns, start);
  ns_text(op->ended_ns, end);
  struct pg_params p = {0};
  pg_param_text(&p, op->type);
  pg_param_text(&p, op->file);
  pg_param_text(&p, op->session_id);
  pg_param_text(&p, start);
  pg_param_text(&p, end);
  pg_param_int(&p, (op->ended_ns - op->started_ns) / 1000);
  pg_param_text(&p, op->status);
  pg_param_text(&p, op->error_kind);
  pg_param_text(&p, op->error);
  pg_param_int(&p, op->changes);
  pg_param_int(&p, op->conflicts);
  pg_param_text(&p, st->source);
  return pg_run(
      st, PG_SYNCOP_ADD,
      "INSERT INTO sync_ops (type, file, session_id, started_at, ended_at,"
      " duration_us, status, error_kind, error, changes, conflicts, source)"
      " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
      &p, NULL);
}

int pg_syncops_prune(struct store *st, int max_rows, int max_age_days) {
  struct pg_params p = {0};
  pg_param_int(&p, max_rows);
  pg_param_int(&p, max_age_days);
  return pg_run(st, PG_SYNCOP_PRUNE,
                "DELETE FROM sync_ops WHERE id <= (SELECT max(id)"
                " FROM sync_ops) - $1::bigint"
                " OR started_at < to_char(clock_timestamp() AT TIME ZONE"
                " 'UTC' - make_interval(days => $2::int),"
                " 'YYYY-MM-DD HH24:MI:SS.MS')",
                &p, NULL);
}

/* The p-th percentile (0-1) of durations of one type, in ms. */
static double percentile(struct store *st, const char *session,
                         const char *type, int64_t count, double q) {
  if (count <= 0)
    return 0;
  struct pg_params p = {0};
  pg_param_text(&p, session);
  pg_param_text(&p, type);
  pg_param_int(&p, (int64_t)((double)(count - 1) * q + 0.5));
  PGresult *r;
  if (pg_run(st, PG_SYNC_PCT,
             "SELECT duration_us FROM sync_ops"
             " WHERE ($1::text IS NULL OR session_id = $1)"
             " AND (type = $2 OR ($2 = 'save' AND type != 'render'))"
             " ORDER BY duration_us LIMIT 1 OFFSET $3",
             &p, &r))
    return 0;
  double ms = PQntuples(r) ? (double)pg_int(r, 0, 0) / 1000.0 : 0;
  PQclear(r);
  return ms;
}

int pg_sync_stats(struct store *st, const char *session,
                  struct sync_stats *out) {
  memset(out, 0, sizeof *out);
  struct pg_params p = {0};
  pg_param_text(&p, session);
  PGresult *r;
  int rc = pg_run(st, PG_SYNC_STATS,
                  "SELECT count(*), count(*) FILTER (WHERE status = 'ok'),"
                  " count(*) FILTER (WHERE status = 'error'),"
                  " count(*) FILTER (WHERE status = 'held'),"
                  " count(*) FILTER (WHERE status = 'conflict'),"
                  " count(*) FILTER (WHERE type = 'render'),"
                  " count(*) FILTER (WHERE type != 'render'),"
                  " count(*) FILTER (WHERE type != 'render'"
                  "  AND status IN ('ok', 'conflict')),"
                  " (SELECT count(*) FROM conflicts WHERE $1::text IS NULL"
                  "  OR session_id = $1),"
                  " (SELECT count(*) FROM conflicts WHERE ($1::text IS NULL"
                  "  OR session_id = $1) AND status != 'resolved'),"
                  " (SELECT count(*) FROM conflicts WHERE ($1::text IS NULL"
                  "  OR session_id = $1) AND status = 'resolved')"
                  " FROM sync_ops WHERE $1::text IS NULL OR session_id = $1",
                  &p, &r);
  if (rc)
    return rc;
  out->ops = pg_int(r, 0, 0);
  out->ok = pg_int(r, 0, 1);
  out->errors = pg_int(r, 0, 2);
  out->held = pg_int(r, 0, 3);
  out->with_conflicts = pg_int(r, 0, 4);
  out->renders = pg_int(r, 0, 5);
  out->saves = pg_int(r, 0, 6);
  int64_t saves_ok = pg_int(r, 0, 7);
  out->conflicts_total = pg_int(r, 0, 8);
  out->conflicts_open = pg_int(r, 0, 9);
  out->conflicts_resolved_by_user = pg_int(r, 0, 10);
  PQclear(r);
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

int pg_sync_last_ns(struct store *st, const char *session, int64_t *ns) {
  *ns = 0;
  struct pg_params p = {0};
  pg_param_text(&p, session);
  PGresult *r;
  int rc = pg_run(st, PG_SYNC_LAST,
                  "SELECT max(ended_at) FROM sync_ops WHERE session_id = $1"
                  " AND type != 'render'",
                  &p, &r);
  if (rc)
    return rc;
  if (PQntuples(r) && !PQgetisnull(r, 0, 0))
    time_parse(PQgetvalue(r, 0, 0), ns);
  PQclear(r);
  return ENG_OK;
}

int pg_sync_error_kinds(struct store *st, const char *session,
                        struct strlist *kinds, struct strlist *counts) {
  struct pg_params p = {0};
  pg_param_text(&p, session);
  PGresult *r;
  int rc = pg_run(st, PG_SYNC_ERRKINDS,
                  "SELECT coalesce(error_kind, 'other'), count(*)"
                  " FROM sync_ops WHERE ($1::text IS NULL OR session_id = $1)"
                  " AND status IN ('error', 'held')"
                  " GROUP BY 1 ORDER BY 2 DESC, 1",
                  &p, &r);
  if (rc)
    return rc;
  for (int i = 0; i < PQntuples(r); i++) {
    strlist_add(kinds, PQgetvalue(r, i, 0));
    strlist_add(counts, PQgetvalue(r, i, 1));
  }
  PQclear(r);
  return ENG_OK;
}

static void read_failure(const PGresult *r, int row, void *elem) {
  struct sync_failure *f = elem;
  f->at = pg_text(r, row, 0);
  f->type = pg_text(r, row, 1);
  f->file = pg_text(r, row, 2);
  f->status = pg_text(r, row, 3);
  f->kind = pg_text(r, row, 4);
  f->error = pg_text(r, row, 5);
}

int pg_sync_failures(struct store *st, const char *session, size_t limit,
                     struct sync_failure **out, size_t *n) {
  struct pg_params p = {0};
  pg_param_text(&p, session);
  pg_param_int(&p, (int64_t)limit);
  return pg_select(st, PG_SYNC_FAILURES,
                   "SELECT started_at, type, file, status, error_kind, error"
                   " FROM sync_ops WHERE ($1::text IS NULL OR session_id = $1)"
                   " AND status IN ('error', 'held') ORDER BY id DESC"
                   " LIMIT $2",
                   &p, sizeof **out, read_failure, (void **)out, n);
}
