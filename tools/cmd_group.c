/* SPDX-License-Identifier: MIT */
/* cmd_group.c: taskctl group create, list, show, set, rm and restore. */
#include "taskctl.h"
#include "util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Counts of a group's live tasks by status, and its effort totals. */
struct group_counts {
  int tasks, count[STATUS_COUNT];
  double estimate, actual;
};

/* From the store's aggregate when the group is live; a deleted group is
 * not in it, so its tasks are counted one by one. */
static int group_counts(struct ctl *c, const struct group *g,
                        const struct group_stats *stats, size_t nstats,
                        struct group_counts *out) {
  memset(out, 0, sizeof *out);
  for (size_t i = 0; i < nstats; i++) {
    if (strcmp(stats[i].group_id, g->id) != 0)
      continue;
    for (int k = 0; k < STATUS_COUNT; k++) {
      out->count[k] = stats[i].count[k];
      out->tasks += stats[i].count[k];
    }
    out->estimate = stats[i].estimate;
    out->actual = stats[i].actual;
    return 0;
  }
  struct task *ts = NULL;
  size_t nt = 0;
  int rc = store_task_list_group(c->st, g->id, false, &ts, &nt);
  if (rc)
    return ctl_fail_store(c, rc);
  for (size_t i = 0; i < nt; i++) {
    out->count[ts[i].status]++;
    out->tasks++;
    if (!isnan(ts[i].estimate))
      out->estimate += ts[i].estimate;
    if (!isnan(ts[i].actual))
      out->actual += ts[i].actual;
  }
  store_tasks_free(ts, nt);
  return 0;
}

int check_group_create(struct ctl *c) {
  if (!c->has[O_SESSION])
    return ctl_usage_error("'group create' needs --session S");
  if (!c->has[O_NAME] && !c->has[O_TITLE])
    return ctl_usage_error("'group create' needs --name NAME (or --title T)");
  return 0;
}

int cmd_group_create(struct ctl *c) {
  struct ops_fields f;
  char *id = NULL;
  ctl_fields(c, &f);
  int rc = ops_group_create(&c->ops, ctl_opt(c, O_SESSION), ctl_opt(c, O_ID),
                            &f, &id);
  int code = rc ? ctl_fail_ops(c, rc) : ctl_print_result(c, OWNER_GROUP, id);
  free(id);
  return code;
}

/* Adds the rows of one session's groups to t. */
static int list_session_groups(struct ctl *c, const char *session_id,
                               bool with_session, struct table *t) {
  struct group *gs = NULL;
  struct group_stats *stats = NULL;
  size_t ng = 0, nstats = 0;
  int code = 0;
  int rc = store_group_list(c->st, session_id, c->has[O_DELETED], &gs, &ng);
  if (!rc)
    rc = store_group_stats(c->st, session_id, &stats, &nstats);
  if (rc) {
    code = ctl_fail_store(c, rc);
    goto out;
  }
  for (size_t i = 0; i < ng; i++) {
    struct group_counts n;
    if ((code = group_counts(c, &gs[i], stats, nstats, &n)))
      break;
    char tasks[16], done[16];
    snprintf(tasks, sizeof tasks, "%d", n.tasks);
    snprintf(done, sizeof done, "%d", n.count[STATUS_COMPLETED]);
    struct buf title = BUF_INIT;
    buf_adds(&title, gs[i].title);
    if (gs[i].deleted)
      buf_adds(&title, " (deleted)");
    const char *row[] = {session_id,
                         gs[i].id,
                         gs[i].name,
                         status_name(gs[i].status),
                         priority_name(gs[i].priority),
                         tasks,
                         done,
                         title.ptr};
    table_row(t, with_session ? row : row + 1);
    buf_release(&title);
  }
out:
  store_groups_free(gs, ng);
  store_group_stats_free(stats, nstats);
  return code;
}

static int list_text(struct ctl *c, const char *session_id) {
  static const char *const header[] = {"SESSION",  "ID",    "NAME", "STATUS",
                                       "PRIORITY", "TASKS", "DONE", "TITLE"};
  bool all = session_id == NULL;
  struct table t;
  /* Without a session filter, a first column says whose group it is. */
  table_init(&t, all ? 8 : 7, all ? COL(5) | COL(6) : COL(4) | COL(5),
             all ? header : header + 1);
  int code = 0;
  if (!all) {
    code = list_session_groups(c, session_id, false, &t);
  } else {
    struct session *ss = NULL;
    size_t ns = 0;
    int rc = store_session_list(c->st, false, &ss, &ns);
    if (rc)
      code = ctl_fail_store(c, rc);
    for (size_t i = 0; i < ns && !code; i++)
      code = list_session_groups(c, ss[i].id, true, &t);
    store_sessions_free(ss, ns);
  }
  if (!code)
    table_print(&t, stdout);
  table_release(&t);
  return code;
}

static int list_json(struct ctl *c, const char *session_id, json_t **out) {
  return ops_groups_json(&c->ops, session_id, c->has[O_DELETED], out);
}

int cmd_group_list(struct ctl *c) {
  return ctl_print_listing(c, list_json, list_text);
}

static int show_text(struct ctl *c, const struct group *g) {
  struct group_counts n;
  int code = group_counts(c, g, NULL, 0, &n);
  if (code)
    return code;
  char est[32], act[32];
  effort_format(n.estimate, est);
  effort_format(n.actual, act);
  out_kv("id", g->id);
  out_kv("session", g->session_id);
  out_kv("name", g->name);
  out_kv("title", g->title);
  out_kv("status", status_name(g->status));
  out_kv("priority", priority_name(g->priority));
  out_kv("specialist", g->specialist);
  out_kv("description", g->description);
  out_kvf("tasks", "%d (%d planned, %d active, %d blocked, %d completed)",
          n.tasks, n.count[STATUS_PLANNED], n.count[STATUS_ACTIVE],
          n.count[STATUS_BLOCKED], n.count[STATUS_COMPLETED]);
  out_kvf("progress", "%d%%",
          n.tasks ? n.count[STATUS_COMPLETED] * 100 / n.tasks : 0);
  out_kv("estimate", est);
  out_kv("actual", act);
  out_kv("deleted", g->deleted ? "yes" : "no");
  out_kv("created_at", g->created_at);
  out_kv("updated_at", g->updated_at);
  out_kvf("revision", "%lld", (long long)g->rev);
  return 0;
}

int cmd_group_show(struct ctl *c) {
  int rc = store_read_begin(c->st);
  if (rc)
    return ctl_fail_store(c, rc);
  struct group g;
  group_init(&g);
  int code = ctl_get_group(c, ctl_opt(c, O_SESSION), c->pos[0], &g);
  if (!code && c->json)
    code = ctl_print_result(c, OWNER_GROUP, g.id);
  else if (!code)
    code = show_text(c, &g);
  store_read_end(c->st);
  group_release(&g);
  return code;
}

static int run_change(struct ctl *c, enum ops_change what) {
  struct ops_fields f;
  char *id = NULL;
  ctl_fields(c, &f);
  int rc = ops_group_change(&c->ops, ctl_opt(c, O_SESSION), c->pos[0], what, &f,
                            &id);
  int code = rc ? ctl_fail_ops(c, rc) : ctl_print_result(c, OWNER_GROUP, id);
  free(id);
  return code;
}

int check_group_set(struct ctl *c) {
  unsigned fields = OPT_BIT(O_NAME) | OPT_BIT(O_TITLE) | OPT_BIT(O_STATUS) |
                    OPT_BIT(O_PRIORITY) | OPT_BIT(O_SPECIALIST) |
                    OPT_BIT(O_DESCRIPTION);
  bool any = false;
  for (int o = 0; o < O_COUNT; o++)
    any |= c->has[o] && (fields & OPT_BIT(o));
  if (!any)
    return ctl_usage_error("nothing to change: give --name, --title, "
                           "--status, --priority, --specialist or "
                           "--description");
  return 0;
}

int cmd_group_set(struct ctl *c) { return run_change(c, OPS_SET); }

int cmd_group_rm(struct ctl *c) { return run_change(c, OPS_REMOVE); }

int cmd_group_restore(struct ctl *c) { return run_change(c, OPS_RESTORE); }
