/* SPDX-License-Identifier: MIT */
/* ctl.c: what every taskctl command needs between the command line and
 * the shared operations of ops.c: their messages worded for the command
 * line and reported with exit statuses, and the JSON a write prints. */
#include "taskctl.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

void ctl_hint(struct buf *out, enum ops_hint h, const char *arg) {
  switch (h) {
  case HINT_SESSION_LIST:
    buf_adds(out, "'taskctl session list' shows them");
    break;
  case HINT_GROUP_LIST:
    if (arg)
      buf_printf(out, "'taskctl group list --session %s' shows them", arg);
    else
      buf_adds(out, "'taskctl group list' shows them");
    break;
  case HINT_GROUP_BY_NAME:
    buf_adds(out, "give --session S to find it by name, or see 'taskctl "
                  "group list'");
    break;
  case HINT_TASK_LIST:
    buf_adds(out, "'taskctl task list' shows them");
    break;
  case HINT_GROUP_RESTORE:
    buf_printf(out, "'taskctl group restore %s' brings it back", arg);
    break;
  case HINT_RESTORE_NAME:
    buf_adds(out, "restore it under another name with --name N");
    break;
  case HINT_CONFLICTS:
    buf_adds(out, "'taskctl conflicts' lists the unresolved ones");
    break;
  case HINT_BACKUPS:
    buf_adds(out, "'taskctl backups' lists them");
    break;
  case HINT_BUSY:
    buf_adds(out, "try again later, or wait longer with --busy-timeout MS");
    break;
  }
}

int ctl_fail_ops(struct ctl *c, int rc) {
  const char *msg = ops_errmsg(&c->ops);
  return ctl_fail(ctl_exit_code(rc, false), "%s",
                  *msg ? msg : eng_strerror(rc));
}

int ctl_get_session(struct ctl *c, const char *id, struct session *out) {
  int rc = ops_get_session(&c->ops, id, out);
  return rc ? ctl_fail_ops(c, rc) : 0;
}

int ctl_get_group(struct ctl *c, const char *session_id, const char *ref,
                  struct group *out) {
  int rc = ops_get_group(&c->ops, session_id, ref, out);
  return rc ? ctl_fail_ops(c, rc) : 0;
}

int ctl_get_task(struct ctl *c, const char *id, struct task *out) {
  int rc = ops_get_task(&c->ops, id, out);
  return rc ? ctl_fail_ops(c, rc) : 0;
}

int ctl_check_session(struct ctl *c, const char *session_id) {
  int rc = ops_check_session(&c->ops, session_id);
  return rc ? ctl_fail_ops(c, rc) : 0;
}

void ctl_fields(const struct ctl *c, struct ops_fields *f) {
  static const struct {
    int opt, field;
  } map[] = {
      {O_TITLE, OF_TITLE},
      {O_NAME, OF_NAME},
      {O_STATUS, OF_STATUS},
      {O_PROGRESS, OF_PROGRESS},
      {O_PRIORITY, OF_PRIORITY},
      {O_SPECIALIST, OF_SPECIALIST},
      {O_DESCRIPTION, OF_DESCRIPTION},
      {O_ESTIMATE, OF_ESTIMATE},
      {O_ACTUAL, OF_ACTUAL},
      {O_CURRENT_STATUS, OF_CURRENT_STATUS},
      {O_MODE, OF_MODE},
      {O_GROUP, OF_GROUP},
  };
  ops_fields_init(f);
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
    f->v[map[i].field] = ctl_opt(c, map[i].opt);
  if (c->has[O_DEPENDS] || c->has[O_NO_DEPENDS])
    f->dependencies = &c->opt[O_DEPENDS];
  if (c->has[O_DELIVERABLE] || c->has[O_NO_DELIVERABLES])
    f->deliverables = &c->opt[O_DELIVERABLE];
}

char *ctl_absolute_path(const char *path) {
  char *abs = realpath(path, NULL);
  if (abs)
    return abs;
  const char *slash = strrchr(path, '/');
  char *dir = slash ? xstrndup(path, (size_t)(slash - path)) : xstrdup(".");
  char *absdir = realpath(*dir ? dir : "/", NULL);
  char *out = absdir ? xasprintf("%s/%s", strcmp(absdir, "/") ? absdir : "",
                                 slash ? slash + 1 : path)
                     : xstrdup(path);
  free(absdir);
  free(dir);
  return out;
}

int ctl_print_json(struct ctl *c, int rc, json_t *v) {
  if (rc) {
    json_decref(v);
    return ctl_fail_ops(c, rc);
  }
  json_print(v);
  return 0;
}

int ctl_print_listing(struct ctl *c, ctl_json_fn json, ctl_text_fn text) {
  const char *session_id = ctl_opt(c, O_SESSION);
  int rc = store_read_begin(c->st);
  if (rc)
    return ctl_fail_store(c, rc);
  int code = ctl_check_session(c, session_id);
  if (!code && c->json) {
    json_t *v = NULL;
    rc = json(c, session_id, &v);
    code = ctl_print_json(c, rc, v);
  } else if (!code) {
    code = text(c, session_id);
  }
  store_read_end(c->st);
  return code;
}

int ctl_print_result(struct ctl *c, int kind, const char *id) {
  if (!c->json) {
    printf("%s\n", id);
    return 0;
  }
  json_t *v = NULL;
  int rc = ops_record_json(&c->ops, kind, id, &v);
  return ctl_print_json(c, rc, v);
}

int ctl_load_policy(struct ctl *c, struct policy *p) {
  int rc = ops_load_policy(&c->ops, p);
  return rc ? ctl_fail_ops(c, rc) : 0;
}
