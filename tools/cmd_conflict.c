/* SPDX-License-Identifier: MIT */
/* cmd_conflict.c: taskctl conflicts, resolve, backups and restore-backup:
 * what saves through the mount could not settle, and the values they
 * overwrote. The deciding is the engine's (through ops_resolve and
 * ops_restore_backup); this file only asks and reports. */
#include "taskctl.h"
#include "config.h"
#include "sync.h"
#include "util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* The ID argument: a conflict or backup number. */
static int parse_id(const char *what, const char *s, int64_t *out) {
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  /* strtoll also takes blanks and a sign before the digits. */
  if (s[0] < '0' || s[0] > '9' || errno || *end || v <= 0)
    return ctl_usage_error("%s ID must be a number such as 3, not '%s'", what,
                           s);
  *out = v;
  return 0;
}

/* ---- conflicts ---- */

static int conflicts_text(struct ctl *c, const char *session_id) {
  bool all = c->has[O_ALL];
  static const char *const header[] = {"ID",   "TYPE",  "STATUS",
                                       "FILE", "FIELD", "LABEL"};
  struct conflict *v = NULL;
  size_t n = 0;
  int rc = store_conflict_list(c->st, session_id, NULL, NULL, !all, &v, &n);
  if (rc)
    return ctl_fail_store(c, rc);
  if (n == 0) {
    printf(all ? "no conflicts\n" : "no unresolved conflicts\n");
    store_conflicts_free(v, n);
    return 0;
  }
  struct table t;
  table_init(&t, 6, COL(0), header);
  for (size_t i = 0; i < n; i++) {
    char id[24];
    snprintf(id, sizeof id, "%" PRId64, v[i].id);
    struct buf status = BUF_INIT, file = BUF_INIT;
    buf_adds(&status, v[i].status);
    if (v[i].resolution)
      buf_printf(&status, " (%s)", v[i].resolution);
    /* The draft key of the file: the engine has no way back from it to
     * the file's path. */
    buf_printf(&file, "%s:%s", v[i].file_kind ? v[i].file_kind : "",
               v[i].file_record ? v[i].file_record : "");
    const char *row[] = {id,       v[i].type,  status.ptr,
                         file.ptr, v[i].field, v[i].label};
    table_row(&t, row);
    buf_release(&status);
    buf_release(&file);
  }
  table_print(&t, stdout);
  table_release(&t);
  store_conflicts_free(v, n);
  return 0;
}

static int conflicts_json(struct ctl *c, const char *session_id, json_t **out) {
  return ops_conflicts_json(&c->ops, session_id, c->has[O_ALL], out);
}

int cmd_conflicts(struct ctl *c) {
  return ctl_print_listing(c, conflicts_json, conflicts_text);
}

/* ---- resolve ---- */

int check_resolve(struct ctl *c) {
  int64_t id = 0;
  int code = parse_id("conflict", c->pos[0], &id);
  if (code)
    return code;
  if (c->has[O_KEEP] == c->has[O_VALUE])
    return ctl_usage_error("give either --keep db|file or --value TEXT");
  return 0;
}

int cmd_resolve(struct ctl *c) {
  int64_t id = 0;
  int code = parse_id("conflict", c->pos[0], &id);
  if (code)
    return code;
  const char *how = "manual", *value = ctl_opt(c, O_VALUE);
  if (c->has[O_KEEP]) {
    how = ctl_opt(c, O_KEEP);
    if (!str_eq(how, "db") && !str_eq(how, "file"))
      return ctl_fail(EXIT_INVALID, "--keep takes db or file, not '%s'", how);
  }
  struct conflict x;
  conflict_init(&x);
  int rc = ops_resolve(&c->ops, id, how, value, &x);
  if (rc) {
    conflict_release(&x);
    return ctl_fail_ops(c, rc);
  }
  if (c->json) {
    json_print(json_pack("{s:I,s:o,s:o}", "id", (json_int_t)id, "resolution",
                         json_str(x.resolution), "manual_task",
                         json_str(x.manual_task)));
  } else {
    printf("conflict %" PRId64 " resolved: %s\n", id,
           str_eq(how, "db")     ? "kept the database's version"
           : str_eq(how, "file") ? "kept the file's version"
                                 : "set to the given value");
    if (x.manual_task)
      printf("task %s, which asked to resolve it, is completed\n",
             x.manual_task);
  }
  conflict_release(&x);
  return code;
}

/* ---- backups ---- */

static void backup_what(const struct backup *b, struct buf *out) {
  if (b->field)
    buf_printf(out, "%s %s %s", b->target_kind, b->target_id, b->field);
  else
    buf_printf(out, "%s %s", b->kind, b->record);
}

static int backups_text(struct ctl *c, const char *session_id) {
  static const char *const header[] = {"ID", "CREATED", "WHAT", "SIZE",
                                       "REASON"};
  struct backup *v = NULL;
  size_t n = 0;
  int rc = store_backup_list(c->st, session_id, &v, &n);
  if (rc)
    return ctl_fail_store(c, rc);
  if (n == 0) {
    printf("no backups\n");
    store_backups_free(v, n);
    return 0;
  }
  struct table t;
  table_init(&t, 5, COL(0) | COL(3), header);
  for (size_t i = 0; i < n; i++) {
    char id[24], size[24];
    snprintf(id, sizeof id, "%" PRId64, v[i].id);
    snprintf(size, sizeof size, "%zu", v[i].len);
    /* Stored as "YYYY-MM-DD HH:MM:SS.sss" in UTC; minutes are enough. */
    struct buf created = BUF_INIT, what = BUF_INIT;
    if (v[i].created_at)
      buf_printf(&created, "%.16s UTC", v[i].created_at);
    backup_what(&v[i], &what);
    const char *row[] = {id, created.ptr, what.ptr, size, v[i].reason};
    table_row(&t, row);
    buf_release(&created);
    buf_release(&what);
  }
  table_print(&t, stdout);
  table_release(&t);
  store_backups_free(v, n);
  return 0;
}

static int backups_json(struct ctl *c, const char *session_id, json_t **out) {
  return ops_backups_json(&c->ops, session_id, out);
}

int cmd_backups(struct ctl *c) {
  return ctl_print_listing(c, backups_json, backups_text);
}

/* ---- restore-backup ---- */

/* Prints the lines of a save report on stderr, one "taskctl:" line each. */
static void print_report(int64_t id, const struct buf *report) {
  for (const char *p = report->ptr; *p;) {
    const char *nl = strchr(p, '\n');
    int n = nl ? (int)(nl - p) : (int)strlen(p);
    if (n)
      fprintf(stderr, "taskctl: backup %" PRId64 ": %.*s\n", id, n, p);
    if (!nl)
      break;
    p = nl + 1;
  }
}

/* What a restored backup did. */
static int restore_report(struct ctl *c, int64_t id, const struct backup *b,
                          const struct save_result *res) {
  print_report(id, &res->report);
  if (c->json) {
    json_print(json_pack("{s:I,s:i,s:i,s:o,s:o,s:o}", "id", (json_int_t)id,
                         "changes", res->changes, "conflicts", res->conflicts,
                         "kind", json_str(b->kind), "record",
                         json_str(b->record), "field", json_str(b->field)));
    return 0;
  }
  if (b->field) {
    printf("backup %" PRId64 " restored\n", id);
    return 0;
  }
  printf("backup %" PRId64 " restored: %d change%s, %d conflict%s\n", id,
         res->changes, res->changes == 1 ? "" : "s", res->conflicts,
         res->conflicts == 1 ? "" : "s");
  if (res->conflicts)
    printf("'taskctl conflicts' lists the conflicts\n");
  return 0;
}

int check_restore_backup(struct ctl *c) {
  int64_t id = 0;
  return parse_id("backup", c->pos[0], &id);
}

int cmd_restore_backup(struct ctl *c) {
  int64_t id = 0;
  int code = parse_id("backup", c->pos[0], &id);
  if (code)
    return code;
  struct backup b;
  struct save_result res;
  memset(&b, 0, sizeof b);
  save_result_init(&res);
  int rc = ops_restore_backup(&c->ops, id, &b, &res);
  if (rc) {
    code = ctl_fail_ops(c, rc);
    if (rc == ENG_PARSE)
      print_report(id, &res.report);
  } else {
    code = restore_report(c, id, &b, &res);
  }
  save_result_release(&res);
  store_backup_release(&b);
  return code;
}
