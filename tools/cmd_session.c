/* SPDX-License-Identifier: MIT */
/* cmd_session.c: taskctl session create, list, show and set. */
#include "taskctl.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

/* Totals over the live groups of a session. */
struct totals {
  int groups, tasks, count[STATUS_COUNT];
  double estimate, actual;
};

static int session_totals(struct ctl *c, const char *id, struct totals *t) {
  struct group_stats *v = NULL;
  size_t n = 0;
  memset(t, 0, sizeof *t);
  int rc = store_group_stats(c->st, id, &v, &n);
  if (rc)
    return ctl_fail_store(c, rc);
  t->groups = (int)n;
  for (size_t i = 0; i < n; i++) {
    for (int k = 0; k < STATUS_COUNT; k++) {
      t->count[k] += v[i].count[k];
      t->tasks += v[i].count[k];
    }
    t->estimate += v[i].estimate;
    t->actual += v[i].actual;
  }
  store_group_stats_free(v, n);
  return 0;
}

int check_session_create(struct ctl *c) {
  const char *title = ctl_opt(c, O_TITLE);
  if (!title || !*title)
    return ctl_usage_error("'session create' needs --title T");
  return 0;
}

int cmd_session_create(struct ctl *c) {
  struct ops_fields f;
  char *id = NULL;
  ctl_fields(c, &f);
  int rc = ops_session_create(&c->ops, ctl_opt(c, O_ID), &f, &id);
  int code = rc ? ctl_fail_ops(c, rc) : ctl_print_result(c, OWNER_SESSION, id);
  free(id);
  return code;
}

static int list_text(struct ctl *c) {
  struct session *v = NULL;
  size_t n = 0;
  int rc = store_session_list(c->st, false, &v, &n);
  if (rc)
    return ctl_fail_store(c, rc);
  static const char *const header[] = {"ID",    "STATUS", "GROUPS",
                                       "TASKS", "DONE",   "TITLE"};
  struct table t;
  table_init(&t, 6, COL(2) | COL(3) | COL(4), header);
  int code = 0;
  for (size_t i = 0; i < n && !code; i++) {
    struct totals tot;
    if ((code = session_totals(c, v[i].id, &tot)))
      break;
    char groups[16], tasks[16], done[16];
    snprintf(groups, sizeof groups, "%d", tot.groups);
    snprintf(tasks, sizeof tasks, "%d", tot.tasks);
    snprintf(done, sizeof done, "%d", tot.count[STATUS_COMPLETED]);
    const char *row[] = {v[i].id, v[i].status, groups, tasks, done, v[i].title};
    table_row(&t, row);
  }
  if (!code)
    table_print(&t, stdout);
  table_release(&t);
  store_sessions_free(v, n);
  return code;
}

int cmd_session_list(struct ctl *c) {
  int rc = store_read_begin(c->st);
  if (rc)
    return ctl_fail_store(c, rc);
  int code;
  if (c->json) {
    json_t *v = NULL;
    rc = ops_sessions_json(&c->ops, &v);
    code = ctl_print_json(c, rc, v);
  } else {
    code = list_text(c);
  }
  store_read_end(c->st);
  return code;
}

static int show_text(struct ctl *c, const struct session *s) {
  struct totals t;
  int code = session_totals(c, s->id, &t);
  if (code)
    return code;
  struct group *gs = NULL;
  size_t ng = 0;
  int rc = store_group_list(c->st, s->id, false, &gs, &ng);
  if (rc)
    return ctl_fail_store(c, rc);
  struct buf names = BUF_INIT;
  for (size_t i = 0; i < ng; i++)
    buf_printf(&names, "%s%s", i ? ", " : "", gs[i].name);
  store_groups_free(gs, ng);

  char est[32], act[32];
  effort_format(t.estimate, est);
  effort_format(t.actual, act);
  out_kv("id", s->id);
  out_kv("title", s->title);
  out_kv("status", s->status);
  out_kv("mode", s->mode);
  out_kv("description", s->description);
  out_kvf("groups", "%d%s%s%s", t.groups, ng ? " (" : "", names.ptr,
          ng ? ")" : "");
  out_kvf("tasks", "%d (%d planned, %d active, %d blocked, %d completed)",
          t.tasks, t.count[STATUS_PLANNED], t.count[STATUS_ACTIVE],
          t.count[STATUS_BLOCKED], t.count[STATUS_COMPLETED]);
  out_kvf("progress", "%d%%",
          t.tasks ? t.count[STATUS_COMPLETED] * 100 / t.tasks : 0);
  out_kv("estimate", est);
  out_kv("actual", act);
  out_kv("created_at", s->created_at);
  out_kv("updated_at", s->updated_at);
  out_kvf("revision", "%lld", (long long)s->rev);
  buf_release(&names);
  return 0;
}

int cmd_session_show(struct ctl *c) {
  int rc = store_read_begin(c->st);
  if (rc)
    return ctl_fail_store(c, rc);
  struct session s;
  session_init(&s);
  int code = ctl_get_session(c, c->pos[0], &s);
  if (!code && c->json) {
    code = ctl_print_result(c, OWNER_SESSION, s.id);
  } else if (!code) {
    code = show_text(c, &s);
  }
  store_read_end(c->st);
  session_release(&s);
  return code;
}

int check_session_set(struct ctl *c) {
  if (!c->has[O_TITLE] && !c->has[O_STATUS] && !c->has[O_MODE] &&
      !c->has[O_DESCRIPTION])
    return ctl_usage_error("nothing to change: give --title, --status, "
                           "--mode or --description");
  return 0;
}

int cmd_session_set(struct ctl *c) {
  struct ops_fields f;
  ctl_fields(c, &f);
  int rc = ops_session_set(&c->ops, c->pos[0], &f);
  return rc ? ctl_fail_ops(c, rc)
            : ctl_print_result(c, OWNER_SESSION, c->pos[0]);
}
