/* SPDX-License-Identifier: MIT */
/* cmd_stats.c: taskctl stats and log: the health figures of the sync log
 * and the edits applied through a mount. Figures and file names come from
 * the engine (the JSON from json.c); this file only lays them out. */
#include "taskctl.h"
#include "render.h"
#include "util.h"
#include "view.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Lines of "last errors" in the text form (the JSON has ten). */
#define TEXT_LAST_ERRORS 5
/* Values longer than this are cut in the text form of the log. */
#define TEXT_VALUE_MAX 40

/* ---- stats ---- */

static void add_metric(struct table *t, const char *name, const char *value) {
  const char *row[] = {name, value};
  table_row(t, row);
}

static void add_metricf(struct table *t, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void add_metricf(struct table *t, const char *name, const char *fmt,
                        ...) {
  struct buf b = BUF_INIT;
  va_list ap;
  va_start(ap, fmt);
  buf_vprintf(&b, fmt, ap);
  va_end(ap);
  add_metric(t, name, b.ptr);
  buf_release(&b);
}

static void print_figures(const struct sync_stats *x,
                          const struct strlist *kinds,
                          const struct strlist *counts) {
  static const char *const header[] = {"METRIC", "VALUE"};
  struct table t;
  table_init(&t, 2, 0, header);
  add_metricf(&t, "operations",
              "%" PRId64 " (%" PRId64 " renders, %" PRId64
              " saves and resolutions)",
              x->ops, x->renders, x->saves);
  add_metricf(&t, "sync success rate", "%.1f%% (%" PRId64 " of %" PRId64 ")",
              x->success_rate * 100.0, x->ok + x->with_conflicts, x->ops);
  add_metricf(&t, "conflict rate", "%.1f%% (%" PRId64 " of %" PRId64 " saves)",
              x->conflict_rate * 100.0, x->with_conflicts, x->saves);
  add_metricf(&t, "render time p50/p95", "%.2f ms / %.2f ms", x->render_p50_ms,
              x->render_p95_ms);
  add_metricf(&t, "save time p50/p95", "%.2f ms / %.2f ms", x->save_p50_ms,
              x->save_p95_ms);
  struct buf errors = BUF_INIT;
  for (size_t i = 0; i < kinds->n; i++)
    buf_printf(&errors, "%s%s %s", i ? ", " : "", kinds->v[i], counts->v[i]);
  add_metric(&t, "errors by kind", errors.len ? errors.ptr : "none");
  buf_release(&errors);
  add_metricf(&t, "user resolution rate",
              "%.1f%% (%" PRId64 " of %" PRId64 " conflicts resolved)",
              x->resolution_rate * 100.0, x->conflicts_resolved_by_user,
              x->conflicts_total);
  add_metricf(&t, "open conflicts", "%" PRId64, x->conflicts_open);
  table_print(&t, stdout);
  table_release(&t);
}

static void print_conflicts(const struct ops_open_conflicts *oc) {
  static const char *const header[] = {"ID",    "SESSION", "TYPE",
                                       "FIELD", "LABEL",   "FILE"};
  if (oc->n == 0)
    return;
  struct table t;
  table_init(&t, 6, COL(0), header);
  for (size_t i = 0; i < oc->n; i++) {
    char id[24];
    snprintf(id, sizeof id, "%" PRId64, oc->v[i].id);
    const char *row[] = {id,
                         oc->v[i].session_id,
                         oc->v[i].type,
                         oc->v[i].field,
                         oc->v[i].label,
                         oc->files.v[i]};
    table_row(&t, row);
  }
  putchar('\n');
  table_print(&t, stdout);
  table_release(&t);
}

static int stats_text(struct ctl *c, const char *session_id,
                      const struct ops_open_conflicts *oc) {
  struct sync_stats x;
  struct strlist kinds = {0}, counts = {0}, failed = {0};
  int rc = store_sync_stats(c->st, session_id, &x);
  if (rc == ENG_OK)
    rc = store_sync_error_kinds(c->st, session_id, &kinds, &counts);
  if (rc == ENG_OK)
    rc = store_syncops_failed(c->st, session_id, TEXT_LAST_ERRORS, &failed);
  if (rc == ENG_OK) {
    print_figures(&x, &kinds, &counts);
    print_conflicts(oc);
    if (failed.n)
      printf("\nlast errors, newest first:\n");
    for (size_t i = 0; i < failed.n; i++)
      printf("  %s\n", failed.v[i]);
  }
  strlist_clear(&kinds);
  strlist_clear(&counts);
  strlist_clear(&failed);
  return rc ? ctl_fail_store(c, rc) : 0;
}

int cmd_stats(struct ctl *c) {
  const char *session_id = ctl_opt(c, O_SESSION);
  int rc = store_read_begin(c->st);
  if (rc)
    return ctl_fail_store(c, rc);
  struct ops_open_conflicts oc = {0};
  int code = ctl_check_session(c, session_id);
  if (!code && c->json) {
    json_t *v = NULL;
    rc = ops_stats_json(&c->ops, session_id, &v);
    code = ctl_print_json(c, rc, v);
  } else if (!code && (rc = ops_open_conflicts(&c->ops, session_id, &oc))) {
    code = ctl_fail_ops(c, rc);
  } else if (!code) {
    code = stats_text(c, session_id, &oc);
  }
  ops_open_conflicts_release(&oc);
  store_read_end(c->st);
  return code;
}

/* ---- log ---- */

/* A value as one short line: the first line, cut at TEXT_VALUE_MAX bytes
 * (on a UTF-8 boundary), with "..." when anything was left out. */
static void short_value(const char *v, struct buf *out) {
  if (!v)
    return;
  size_t n = strcspn(v, "\n");
  bool cut = v[n] != '\0';
  if (n > TEXT_VALUE_MAX) {
    n = TEXT_VALUE_MAX;
    while (n > 0 && ((unsigned char)v[n] & 0xc0) == 0x80)
      n--;
    cut = true;
  }
  buf_add(out, v, n);
  if (cut)
    buf_adds(out, "...");
}

static void log_row(struct table *t, const struct change *x) {
  struct buf rev = BUF_INIT, time = BUF_INIT, record = BUF_INIT, old = BUF_INIT,
             new = BUF_INIT;
  buf_printf(&rev, "%" PRId64, x->rev);
  /* "YYYY-MM-DD HH:MM:SS", without the milliseconds. */
  size_t tn = x->at ? strlen(x->at) : 0;
  buf_add(&time, x->at ? x->at : "", tn > 19 ? 19 : tn);
  buf_printf(&record, "%s %s", x->table ? x->table : "",
             x->record ? x->record : "");
  const char *field = x->field;
  if (str_eq(x->op, "insert")) {
    field = "(created)";
  } else if (str_eq(x->op, "delete")) {
    field = "(removed)";
  } else {
    short_value(x->old_value, &old);
    short_value(x->new_value, &new);
  }
  const char *row[] = {rev.ptr, time.ptr, record.ptr, field, old.ptr, new.ptr};
  table_row(t, row);
  buf_release(&rev);
  buf_release(&time);
  buf_release(&record);
  buf_release(&old);
  buf_release(&new);
}

static void log_text(const struct change *v, size_t n) {
  static const char *const header[] = {"REV",   "TIME (UTC)", "RECORD",
                                       "FIELD", "OLD",        "NEW"};
  if (n == 0) {
    printf("no edits through a mount yet\n");
    return;
  }
  struct table t;
  table_init(&t, 6, COL(0), header);
  for (size_t i = 0; i < n; i++)
    log_row(&t, &v[i]);
  table_print(&t, stdout);
  table_release(&t);
}

/* --limit N: a whole number, 0 for no limit. */
static int parse_limit(const char *s, size_t *out) {
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (s[0] < '0' || s[0] > '9' || errno || *end || v < 0)
    return ctl_usage_error("--limit takes a number of edits such as 20 (0 "
                           "for all), not '%s'",
                           s);
  *out = (size_t)v;
  return 0;
}

int check_log(struct ctl *c) {
  size_t limit;
  const char *s = ctl_opt(c, O_LIMIT);
  return s ? parse_limit(s, &limit) : 0;
}

int cmd_log(struct ctl *c) {
  const char *session_id = ctl_opt(c, O_SESSION);
  size_t limit = 50;
  int code = ctl_opt(c, O_LIMIT) ? parse_limit(ctl_opt(c, O_LIMIT), &limit) : 0;
  if (code)
    return code;
  struct change *v = NULL;
  size_t n = 0;
  int rc = ops_changes(&c->ops, session_id, "taskfs", limit, &v, &n);
  if (rc)
    code = ctl_fail_ops(c, rc);
  else if (c->json)
    json_print(json_edit_log(v, n));
  else
    log_text(v, n);
  store_changes_free(v, n);
  return code;
}
