/* SPDX-License-Identifier: MIT */
/* store.c: the store above its backends: opening one by its target,
 * messages, the nesting of transactions, and the operations of the
 * backend's table (backend.h) under their names of store.h. */
#include "store.h"
#include "backend.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The PostgreSQL backend (pg*.c); its header brings libpq's along. */
extern const struct store_ops store_pg_ops;
char *store_pg_redact(const char *target);

static const struct store_ops *const backends[] = {&store_pg_ops,
                                                   &store_sqlite_ops};

static const struct store_ops *backend_of(const char *target) {
  for (size_t i = 0; i < sizeof backends / sizeof *backends; i++)
    if (backends[i]->accepts(target))
      return backends[i];
  return NULL;
}

bool store_is_file(const char *target) {
  return backend_of(target) == &store_sqlite_ops;
}

char *store_target_shown(const char *target) {
  return backend_of(target) == &store_pg_ops ? store_pg_redact(target)
                                             : xstrdup(target);
}

/* The arguments as given, for the life of the process. */
static char **given_args;

void store_hide_passwords(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    char *target = argv[i];
    char *eq = strchr(target, '=');
    if (strncmp(target, "--", 2) == 0 && eq)
      target = eq + 1;
    if (backend_of(target) != &store_pg_ops)
      continue;
    char *shown = store_pg_redact(target);
    size_t n = strlen(target), m = strlen(shown);
    if (strcmp(shown, target) != 0) {
      if (!given_args)
        given_args = xcalloc((size_t)argc, sizeof *given_args);
      given_args[i] = xstrdup(argv[i]);
      memset(target, 0, n);
      memcpy(target, shown, m < n ? m : n);
      argv[i] = given_args[i];
    }
    free(shown);
  }
}

int store_open(const char *target, int flags, struct store **out) {
  const struct store_ops *ops = backend_of(target);
  struct store *st = xcalloc(1, ops ? ops->size : sizeof *st);
  buf_init(&st->err);
  st->path = xstrdup(target);
  st->source = xstrdup("taskfs");
  st->busy_ms = 5000;
  st->readonly = (flags & (STORE_READONLY | STORE_BACKUP_FILE)) != 0;
  *out = st;
  if (!ops)
    return store_fail(st, ENG_INVALID,
                      "%s names no database this taskfs can open: give the "
                      "path of an SQLite file or a PostgreSQL URI "
                      "(postgresql://...) or service (service=NAME)",
                      target);
  st->ops = ops;
  int rc = ops->open(st, target, flags);
  if (rc == ENG_OK)
    buf_truncate(&st->err, 0);
  return rc;
}

void store_close(struct store *st) {
  if (!st)
    return;
  if (st->ops)
    st->ops->close(st);
  free(st->path);
  free(st->source);
  free(st->upgrade_backup);
  buf_release(&st->err);
  free(st);
}

const char *store_backend(const struct store *st) { return st->ops->name; }

const char *store_upgrade_backup(const struct store *st) {
  return st->upgrade_backup;
}

int store_fail(struct store *st, int rc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  buf_truncate(&st->err, 0);
  buf_vprintf(&st->err, fmt, ap);
  va_end(ap);
  return rc;
}

const char *store_errmsg(const struct store *st) {
  return st ? st->err.ptr : "out of memory";
}

const char *store_path(const struct store *st) { return st->path; }

void store_set_busy_ms(struct store *st, int ms) {
  st->busy_ms = ms;
  st->ops->set_busy_ms(st, ms);
}

void store_set_source(struct store *st, const char *source) {
  str_set(&st->source, source);
}

/* ---- transactions ---- */

int store_may_write(struct store *st) {
  if (st->readonly)
    return store_fail(st, ENG_READONLY, "database %s is open read-only",
                      st->path);
  if (st->in_write)
    die("nested write transaction");
  if (st->read_depth > 0)
    die("write transaction inside a read snapshot");
  return ENG_OK;
}

int store_begin(struct store *st) {
  int rc = store_may_write(st);
  if (rc)
    return rc;
  rc = st->ops->begin(st);
  st->in_write = rc == ENG_OK;
  return rc;
}

int store_commit(struct store *st) {
  if (!st->in_write)
    die("commit outside a transaction");
  /* A commit that fails is rolled back by the backend. */
  int rc = st->ops->commit(st);
  st->in_write = false;
  return rc;
}

void store_rollback(struct store *st) {
  if (!st->in_write)
    return;
  st->ops->rollback(st);
  st->in_write = false;
}

bool store_in_transaction(const struct store *st) { return st->in_write; }

int store_read_begin(struct store *st) {
  if (st->in_write || st->read_depth++ > 0)
    return ENG_OK;
  int rc = st->ops->read_begin(st);
  if (rc)
    st->read_depth = 0;
  return rc;
}

void store_read_end(struct store *st) {
  if (st->in_write || st->read_depth == 0)
    return;
  if (--st->read_depth == 0)
    st->ops->read_end(st);
}

/* ---- change detection and health ---- */

bool store_moved(struct store *st) { return st->ops->moved(st); }

int store_schema_check(struct store *st, bool *newer) {
  return st->ops->schema_check(st, newer);
}

int64_t store_revision(struct store *st) { return st->ops->revision(st); }

bool store_poll(struct store *st) { return st->ops->poll(st); }

int store_notify_fd(struct store *st) { return st->ops->notify_fd(st); }

int64_t store_revision_time(struct store *st, int64_t rev) {
  return st->ops->revision_time(st, rev);
}

/* ---- what files show ---- */

int store_task_ids(struct store *st, const char *session_id, int status,
                   char ***ids, size_t *n) {
  return st->ops->task_ids(st, session_id, status, ids, n);
}

int store_task_place(struct store *st, const char *id, struct task_place *out) {
  *out = (struct task_place){.status = -1};
  return st->ops->task_place(st, id, out);
}

void store_task_place_release(struct task_place *p) {
  free(p->session_id);
  p->session_id = NULL;
}

int store_owner_revision(struct store *st, int owner_kind, const char *id,
                         const char *section_key, int64_t *rev) {
  return st->ops->owner_revision(st, owner_kind, id, section_key, rev);
}

int store_group_stats(struct store *st, const char *session_id,
                      struct group_stats **out, size_t *n) {
  return st->ops->group_stats(st, session_id, out, n);
}

int store_group_revs(struct store *st, const char *session_id,
                     struct group_stats **out, size_t *n) {
  return st->ops->group_revs(st, session_id, out, n);
}

int store_group_stats_of(struct store *st, const char *group_id,
                         struct group_stats *out) {
  return st->ops->group_stats_of(st, group_id, out);
}

void store_group_stats_free(struct group_stats *v, size_t n) {
  for (size_t i = 0; i < n; i++)
    free(v[i].group_id);
  free(v);
}

int store_task_events(struct store *st, const char *session_id, size_t limit,
                      struct task_event **out, size_t *n) {
  return st->ops->task_events(st, session_id, limit, out, n);
}

void store_task_events_free(struct task_event *v, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free(v[i].at);
    free(v[i].task_id);
    free(v[i].title);
    free(v[i].group_name);
    free(v[i].op);
    free(v[i].status);
  }
  free(v);
}

/* ---- history ---- */

int store_changes_since(struct store *st, int64_t rev, const char *session_id,
                        size_t limit, struct change **out, size_t *n) {
  return st->ops->changes_since(st, rev, session_id, limit, out, n);
}

int store_changes_recent(struct store *st, const char *session_id,
                         const char *source, size_t limit, struct change **out,
                         size_t *n) {
  return st->ops->changes_recent(st, session_id, source, limit, out, n);
}

int store_last_change(struct store *st, const char *table, const char *record,
                      const char *field, struct change *out) {
  return st->ops->last_change(st, table, record, field, out);
}

/* ---- drafts and save memos ---- */

int store_draft_get(struct store *st, const char *kind, const char *record,
                    struct draft *out) {
  return st->ops->draft_get(st, kind, record, out);
}

int store_draft_put(struct store *st, const struct draft *d) {
  return st->ops->draft_put(st, d);
}

int store_draft_delete(struct store *st, const char *kind, const char *record) {
  return st->ops->draft_delete(st, kind, record);
}

int store_draft_list(struct store *st, const char *session_id,
                     struct draft **out, size_t *n) {
  return st->ops->draft_list(st, session_id, out, n);
}

int store_memo_get(struct store *st, const char *kind, const char *record,
                   struct save_memo *out) {
  return st->ops->memo_get(st, kind, record, out);
}

int store_memo_put(struct store *st, const struct save_memo *m) {
  return st->ops->memo_put(st, m);
}

/* ---- backups ---- */

int store_backup_add(struct store *st, const char *session_id, const char *kind,
                     const char *record, const char *reason, const char *text,
                     size_t len, int64_t *id) {
  return st->ops->backup_add(st, session_id, kind, record, reason, text, len,
                             id);
}

int store_backup_value(struct store *st, const char *session_id,
                       const char *target_kind, const char *target_id,
                       const char *field, const char *value, const char *reason,
                       int64_t *id) {
  return st->ops->backup_value(st, session_id, target_kind, target_id, field,
                               value, reason, id);
}

int store_backup_get(struct store *st, int64_t id, struct backup *out) {
  return st->ops->backup_get(st, id, out);
}

int store_listing_mark(struct store *st, int64_t mark[3]) {
  return st->ops->listing_mark(st, mark);
}

int store_backup_list(struct store *st, const char *session_id,
                      struct backup **out, size_t *n) {
  return st->ops->backup_list(st, session_id, out, n);
}

/* ---- conflicts ---- */

int store_conflict_add(struct store *st, struct conflict *c) {
  return st->ops->conflict_add(st, c);
}

int store_conflict_get(struct store *st, int64_t id, struct conflict *out) {
  return st->ops->conflict_get(st, id, out);
}

int store_conflict_list(struct store *st, const char *session_id,
                        const char *file_kind, const char *file_record,
                        bool open_only, struct conflict **out, size_t *n) {
  return st->ops->conflict_list(st, session_id, file_kind, file_record,
                                open_only, out, n);
}

int store_conflict_resolve(struct store *st, int64_t id,
                           const char *resolution) {
  return st->ops->conflict_resolve(st, id, resolution);
}

int store_conflict_note(struct store *st, int64_t id, const char *manual,
                        const char *note) {
  return st->ops->conflict_note(st, id, manual, note);
}

/* ---- the sync log ---- */

int store_syncop_add(struct store *st, const struct syncop *op) {
  return st->ops->syncop_add(st, op);
}

int store_syncops_prune(struct store *st, int max_rows, int max_age_days) {
  return st->ops->syncops_prune(st, max_rows, max_age_days);
}

int store_sync_stats(struct store *st, const char *session_id,
                     struct sync_stats *out) {
  return st->ops->sync_stats(st, session_id, out);
}

int store_sync_last_ns(struct store *st, const char *session_id, int64_t *ns) {
  return st->ops->sync_last_ns(st, session_id, ns);
}

int store_sync_error_kinds(struct store *st, const char *session_id,
                           struct strlist *kinds, struct strlist *counts) {
  return st->ops->sync_error_kinds(st, session_id, kinds, counts);
}

int store_sync_failures(struct store *st, const char *session_id, size_t limit,
                        struct sync_failure **out, size_t *n) {
  return st->ops->sync_failures(st, session_id, limit, out, n);
}

/* ---- the whole database ---- */

int store_check(struct store *st) { return st->ops->check(st); }

int store_dbbackup_write(struct store *st, const char *path, int flags,
                         int64_t *rev) {
  return st->ops->dbbackup_write(st, path, flags, rev);
}

int store_restore(struct store *st, struct store *from, char **snapshot,
                  struct store_restore_stats *stats) {
  return st->ops->restore(st, from, snapshot, stats);
}

/* ---- releasing what the store fills ---- */

void store_backup_release(struct backup *b) {
  free(b->session_id);
  free(b->kind);
  free(b->record);
  free(b->reason);
  free(b->created_at);
  free(b->target_kind);
  free(b->target_id);
  free(b->field);
  free(b->text);
  memset(b, 0, sizeof *b);
}

void store_backups_free(struct backup *v, size_t n) {
  for (size_t i = 0; i < n; i++)
    store_backup_release(&v[i]);
  free(v);
}

void conflict_init(struct conflict *c) { memset(c, 0, sizeof *c); }

void conflict_release(struct conflict *c) {
  char **fields[] = {
      &c->session_id,  &c->file_kind,    &c->file_record,   &c->type,
      &c->target_kind, &c->target_id,    &c->field,         &c->label,
      &c->base_value,  &c->db_value,     &c->file_value,    &c->manual_value,
      &c->db_display,  &c->file_display, &c->db_changed_at, &c->db_source,
      &c->detected_at, &c->status,       &c->resolution,    &c->resolved_at,
      &c->manual_task, &c->note};
  for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
    free(*fields[i]);
  conflict_init(c);
}

void store_conflicts_free(struct conflict *v, size_t n) {
  for (size_t i = 0; i < n; i++)
    conflict_release(&v[i]);
  free(v);
}

void store_sync_failures_free(struct sync_failure *v, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free(v[i].at);
    free(v[i].type);
    free(v[i].file);
    free(v[i].status);
    free(v[i].kind);
    free(v[i].error);
  }
  free(v);
}

int store_syncops_failed(struct store *st, const char *session_id, size_t limit,
                         struct strlist *lines) {
  struct sync_failure *v;
  size_t n;
  int rc = store_sync_failures(st, session_id, limit, &v, &n);
  if (rc)
    return rc;
  for (size_t i = 0; i < n; i++) {
    struct buf b = BUF_INIT;
    buf_printf(&b, "%.19s UTC %s %s: %s", v[i].at ? v[i].at : "", v[i].type,
               v[i].file ? v[i].file : "", v[i].status);
    if (v[i].kind)
      buf_printf(&b, " (%s)", v[i].kind);
    if (v[i].error) {
      buf_adds(&b, ": ");
      for (const char *p = v[i].error; *p; p++)
        if (*p == '\n')
          buf_adds(&b, "; ");
        else
          buf_addc(&b, *p);
    }
    strlist_add(lines, b.ptr);
    buf_release(&b);
  }
  store_sync_failures_free(v, n);
  return ENG_OK;
}

void store_change_release(struct change *c) {
  free(c->at);
  free(c->source);
  free(c->table);
  free(c->record);
  free(c->op);
  free(c->field);
  free(c->old_value);
  free(c->new_value);
  free(c->session_id);
  memset(c, 0, sizeof *c);
}

void store_changes_free(struct change *v, size_t n) {
  for (size_t i = 0; i < n; i++)
    store_change_release(&v[i]);
  free(v);
}

void store_draft_release(struct draft *d) {
  free(d->kind);
  free(d->record);
  free(d->text);
  free(d->diagnostics);
  free(d->created_at);
  memset(d, 0, sizeof *d);
}

void store_drafts_free(struct draft *v, size_t n) {
  for (size_t i = 0; i < n; i++)
    store_draft_release(&v[i]);
  free(v);
}

void store_memo_release(struct save_memo *m) {
  free(m->kind);
  free(m->record);
  strlist_clear(&m->created_titles);
  strlist_clear(&m->created_ids);
  memset(m, 0, sizeof *m);
}
