/* SPDX-License-Identifier: MIT */
/* cmd_task.c: taskctl task add, set, show, list, rm and restore.
 * (task import is in cmd_import.c.) */
#include "taskctl.h"
#include "util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Options that cannot go together. */
static int check_task_fields(struct ctl *c) {
  if (c->has[O_DEPENDS] && c->has[O_NO_DEPENDS])
    return ctl_usage_error("--depends and --no-depends contradict each other");
  if (c->has[O_DELIVERABLE] && c->has[O_NO_DELIVERABLES])
    return ctl_usage_error(
        "--deliverable and --no-deliverables contradict each other");
  return 0;
}

int check_task_add(struct ctl *c) {
  if (!c->has[O_GROUP])
    return ctl_usage_error("'task add' needs --group G");
  if (!c->has[O_TITLE])
    return ctl_usage_error("'task add' needs --title T");
  return check_task_fields(c);
}

int cmd_task_add(struct ctl *c) {
  struct ops_fields f;
  char *id = NULL;
  ctl_fields(c, &f);
  int rc =
      ops_task_add(&c->ops, ctl_opt(c, O_SESSION), ctl_opt(c, O_ID), &f, &id);
  int code = rc ? ctl_fail_ops(c, rc) : ctl_print_result(c, OWNER_TASK, id);
  free(id);
  return code;
}

static int run_change(struct ctl *c, enum ops_change what) {
  struct ops_fields f;
  struct ops_task_note note;
  ctl_fields(c, &f);
  int rc = ops_task_change(&c->ops, c->pos[0], what, &f, &note);
  if (rc)
    return ctl_fail_ops(c, rc);
  if (note.group_deleted)
    fprintf(stderr,
            "taskctl: note: group %s is deleted, so the task stays hidden; "
            "'taskctl group restore %s' brings the group back\n",
            note.group_id, note.group_id);
  free(note.group_id);
  return ctl_print_result(c, OWNER_TASK, c->pos[0]);
}

int check_task_set(struct ctl *c) {
  unsigned fields = OPT_BIT(O_TITLE) | OPT_BIT(O_STATUS) | OPT_BIT(O_PROGRESS) |
                    OPT_BIT(O_PRIORITY) | OPT_BIT(O_SPECIALIST) |
                    OPT_BIT(O_DESCRIPTION) | OPT_BIT(O_ESTIMATE) |
                    OPT_BIT(O_ACTUAL) | OPT_BIT(O_GROUP) | OPT_BIT(O_DEPENDS) |
                    OPT_BIT(O_NO_DEPENDS) | OPT_BIT(O_DELIVERABLE) |
                    OPT_BIT(O_NO_DELIVERABLES) | OPT_BIT(O_CURRENT_STATUS);
  bool any = false;
  for (int o = 0; o < O_COUNT; o++)
    any |= c->has[o] && (fields & OPT_BIT(o));
  if (!any)
    return ctl_usage_error("nothing to change: give at least one field "
                           "option; 'taskctl task set --help' lists them");
  return check_task_fields(c);
}

int cmd_task_set(struct ctl *c) { return run_change(c, OPS_SET); }

int cmd_task_rm(struct ctl *c) { return run_change(c, OPS_REMOVE); }

int cmd_task_restore(struct ctl *c) { return run_change(c, OPS_RESTORE); }

/* ---- reading ---- */

static void join(struct buf *out, const struct strlist *l, const char *sep) {
  for (size_t i = 0; i < l->n; i++)
    buf_printf(out, "%s%s", i ? sep : "", l->v[i]);
}

static int show_text(struct ctl *c, const struct task *t) {
  struct group g;
  group_init(&g);
  int rc = store_group_get(c->st, t->group_id, &g);
  if (rc) {
    group_release(&g);
    return ctl_fail_store(c, rc);
  }
  char est[32], act[32];
  effort_format(t->estimate, est);
  effort_format(t->actual, act);
  struct buf deps = BUF_INIT, dels = BUF_INIT;
  join(&deps, &t->dependencies, ", ");
  join(&dels, &t->deliverables, "\n");
  out_kv("id", t->id);
  out_kv("title", t->title);
  out_kv("session", t->session_id);
  out_kvf("group", "%s (%s)", g.name, g.id);
  out_kv("status", status_name(t->status));
  out_kvf("progress", "%d%%", t->progress);
  out_kv("priority", priority_name(t->priority));
  out_kv("specialist", t->specialist);
  out_kv("estimate", est);
  out_kv("actual", act);
  out_kv("dependencies", deps.ptr);
  out_kv("deliverables", dels.ptr);
  out_kv("current_status", t->current_status);
  out_kv("description", t->description);
  out_kv("deleted", t->deleted ? "yes" : "no");
  out_kv("started_at", t->started_at);
  out_kv("completed_at", t->completed_at);
  out_kv("created_at", t->created_at);
  out_kv("updated_at", t->updated_at);
  out_kvf("revision", "%lld", (long long)t->rev);
  buf_release(&deps);
  buf_release(&dels);
  group_release(&g);
  return 0;
}

int cmd_task_show(struct ctl *c) {
  int rc = store_read_begin(c->st);
  if (rc)
    return ctl_fail_store(c, rc);
  struct task t;
  task_init(&t);
  int code = ctl_get_task(c, c->pos[0], &t);
  if (!code && c->json)
    code = ctl_print_result(c, OWNER_TASK, t.id);
  else if (!code)
    code = show_text(c, &t);
  store_read_end(c->st);
  task_release(&t);
  return code;
}

/* Adds the rows of one group's tasks (of one status, -1 for all). */
static int list_group_tasks(struct ctl *c, const struct group *g, int status,
                            struct table *t) {
  bool deleted = c->has[O_DELETED];
  struct task *ts = NULL;
  size_t nt = 0;
  if (g->deleted && !deleted)
    return 0;
  int rc = store_task_list_group(c->st, g->id, deleted, &ts, &nt);
  if (rc)
    return ctl_fail_store(c, rc);
  for (size_t i = 0; i < nt; i++) {
    if (status >= 0 && ts[i].status != status)
      continue;
    char progress[16];
    snprintf(progress, sizeof progress, "%d%%", ts[i].progress);
    struct buf title = BUF_INIT;
    buf_adds(&title, ts[i].title);
    if (ts[i].deleted || g->deleted)
      buf_adds(&title, ts[i].deleted ? " (deleted)" : " (group deleted)");
    const char *row[] = {ts[i].id, status_name(ts[i].status),
                         progress, priority_name(ts[i].priority),
                         g->name,  title.ptr};
    table_row(t, row);
    buf_release(&title);
  }
  store_tasks_free(ts, nt);
  return 0;
}

/* Walks sessions and groups rather than calling store_task_list, which
 * fails on this engine version ("ambiguous column name: id"). The order
 * is the same: by group position, then task position. */
static int list_session_tasks(struct ctl *c, const char *session_id, int status,
                              struct table *t) {
  struct group *gs = NULL;
  size_t ng = 0;
  int rc = store_group_list(c->st, session_id, c->has[O_DELETED], &gs, &ng);
  int code = rc ? ctl_fail_store(c, rc) : 0;
  for (size_t i = 0; i < ng && !code; i++)
    code = list_group_tasks(c, &gs[i], status, t);
  store_groups_free(gs, ng);
  return code;
}

static int list_text(struct ctl *c, const char *session_id, int status,
                     const struct group *g) {
  static const char *const header[] = {"ID",       "STATUS", "PROGRESS",
                                       "PRIORITY", "GROUP",  "TITLE"};
  struct table t;
  table_init(&t, 6, COL(2), header);
  int code = 0;
  if (g->id) {
    code = list_group_tasks(c, g, status, &t);
  } else if (session_id) {
    code = list_session_tasks(c, session_id, status, &t);
  } else {
    struct session *ss = NULL;
    size_t ns = 0;
    int rc = store_session_list(c->st, true, &ss, &ns);
    if (rc)
      code = ctl_fail_store(c, rc);
    for (size_t i = 0; i < ns && !code; i++)
      code = list_session_tasks(c, ss[i].id, status, &t);
    store_sessions_free(ss, ns);
  }
  if (!code)
    table_print(&t, stdout);
  table_release(&t);
  return code;
}

int cmd_task_list(struct ctl *c) {
  const char *session_id = ctl_opt(c, O_SESSION);
  int status = -1, code = 0;
  int rc;
  if (c->has[O_STATUS] &&
      (rc = ops_parse_status(&c->ops, ctl_opt(c, O_STATUS), &status)))
    return ctl_fail_ops(c, rc);
  rc = store_read_begin(c->st);
  if (rc)
    return ctl_fail_store(c, rc);
  struct session s;
  struct group g;
  session_init(&s);
  group_init(&g);
  if (session_id)
    code = ctl_get_session(c, session_id, &s);
  if (!code && c->has[O_GROUP])
    code = ctl_get_group(c, session_id, ctl_opt(c, O_GROUP), &g);
  if (!code && c->json) {
    json_t *v = NULL;
    rc = ops_tasks_json(&c->ops, session_id, status, g.id, c->has[O_DELETED],
                        &v);
    code = ctl_print_json(c, rc, v);
  } else if (!code) {
    code = list_text(c, session_id, status, &g);
  }
  store_read_end(c->st);
  session_release(&s);
  group_release(&g);
  return code;
}
