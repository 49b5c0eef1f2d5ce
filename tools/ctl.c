/* SPDX-License-Identifier: MIT */
/* ctl.c: what every taskctl command needs between the command line and
 * the store: value checks with readable messages, lookups by id or name
 * that say what to do when nothing is found, and the write transaction. */
#include "taskctl.h"
#include "util.h"

#include <math.h>

int ctl_parse_status(const char *what, const char *s, int *out) {
  int v = status_parse(s);
  if (v < 0)
    return ctl_fail(EXIT_INVALID,
                    "%s '%s' is not one of planned, active, blocked, "
                    "completed",
                    what, s);
  *out = v;
  return 0;
}

int ctl_parse_priority(const char *s, int *out) {
  int v = priority_parse(s);
  if (v < 0)
    return ctl_fail(EXIT_INVALID,
                    "priority '%s' is not one of low, medium, high, critical",
                    s);
  *out = v;
  return 0;
}

int ctl_parse_progress(const char *s, int *out) {
  switch (progress_parse(s, out)) {
  case 0:
    return 0;
  case -2:
    return ctl_fail(EXIT_INVALID, "progress '%s' is outside 0-100", s);
  default:
    return ctl_fail(EXIT_INVALID,
                    "progress '%s' is not a whole number such as 60 or 60%%",
                    s);
  }
}

int ctl_parse_effort(const char *what, const char *s, double *out) {
  if (!effort_parse(s, out))
    return ctl_fail(EXIT_INVALID,
                    "%s '%s' is not an effort such as 4h, 1.5h, 90m or 1h30m",
                    what, s);
  return 0;
}

int ctl_get_session(struct ctl *c, const char *id, struct session *out) {
  int rc = store_session_get(c->st, id, out);
  if (rc == ENG_NOTFOUND)
    return ctl_fail(EXIT_NOTFOUND,
                    "no session with id '%s'; 'taskctl session list' shows "
                    "them",
                    id);
  return rc ? ctl_fail_store(c, rc) : 0;
}

int ctl_get_group(struct ctl *c, const char *session_id, const char *ref,
                  struct group *out) {
  int rc = store_group_get(c->st, ref, out);
  if (rc == ENG_NOTFOUND && session_id) {
    struct session s;
    session_init(&s);
    rc = ctl_get_session(c, session_id, &s);
    session_release(&s);
    if (rc)
      return rc;
    rc = store_group_find(c->st, session_id, ref, out);
    if (rc == ENG_NOTFOUND)
      return ctl_fail(EXIT_NOTFOUND,
                      "no group with id or name '%s' in session %s; "
                      "'taskctl group list --session %s' shows them",
                      ref, session_id, session_id);
  } else if (rc == ENG_NOTFOUND) {
    return ctl_fail(EXIT_NOTFOUND,
                    "no group with id '%s'; give --session S to find it by "
                    "name, or see 'taskctl group list'",
                    ref);
  }
  return rc ? ctl_fail_store(c, rc) : 0;
}

int ctl_get_task(struct ctl *c, const char *id, struct task *out) {
  int rc = store_task_get(c->st, id, out);
  if (rc == ENG_NOTFOUND)
    return ctl_fail(EXIT_NOTFOUND,
                    "no task with id '%s'; 'taskctl task list' shows them", id);
  return rc ? ctl_fail_store(c, rc) : 0;
}

int ctl_write(struct ctl *c, int (*fn)(struct ctl *c, void *arg), void *arg) {
  int rc = store_begin(c->st);
  if (rc)
    return ctl_fail_store(c, rc);
  int code = fn(c, arg);
  if (code) {
    store_rollback(c->st);
    return code;
  }
  if ((rc = store_commit(c->st)))
    return ctl_fail_store(c, rc);
  return 0;
}

int ctl_print_json(struct ctl *c, int rc, json_t *v) {
  if (rc) {
    json_decref(v);
    return ctl_fail_store(c, rc);
  }
  json_print(v);
  return 0;
}

int ctl_print_result(struct ctl *c, int kind, const char *id) {
  if (!c->json) {
    printf("%s\n", id);
    return 0;
  }
  json_t *v = NULL;
  int rc = json_record_get(c->st,
                           kind == OWNER_SESSION ? RK_SESSION
                           : kind == OWNER_GROUP ? RK_GROUP
                                                 : RK_TASK,
                           id, &v);
  return ctl_print_json(c, rc, v);
}
