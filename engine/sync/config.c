/* SPDX-License-Identifier: MIT */
/* config.c: taskfs.yaml. A mapping with the keys "conflicts" (a mapping of
 * conflict type to strategy), "auto_merge_window" (a duration) and
 * "confirm_deletions" (a number of tasks). */
#include "config.h"
#include "model.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <yaml.h>

static const char *const type_names[CT_COUNT] = {
    "task_status",       "progress_update",  "user_content",
    "structural_change", "system_generated", "other"};
static const char *const strategy_names[ST_COUNT] = {
    "auto_merge", "user_choice", "file_wins", "database_wins", "manual_task"};

const char *conflict_type_name(int t) {
  return t >= 0 && t < CT_COUNT ? type_names[t] : "?";
}

const char *strategy_name(int s) {
  return s >= 0 && s < ST_COUNT ? strategy_names[s] : "?";
}

void policy_default(struct policy *p) {
  p->strategy[CT_TASK_STATUS] = ST_AUTO_MERGE;
  p->strategy[CT_PROGRESS] = ST_AUTO_MERGE;
  p->strategy[CT_USER_CONTENT] = ST_FILE_WINS;
  p->strategy[CT_STRUCTURAL] = ST_USER_CHOICE;
  p->strategy[CT_SYSTEM] = ST_DATABASE_WINS;
  p->strategy[CT_OTHER] = ST_MANUAL_TASK;
  p->window_ns = 5LL * 60 * 1000000000;
  p->confirm_deletions = 3;
}

static int find(const char *const *names, int n, const char *s) {
  for (int i = 0; i < n; i++)
    if (strcmp(names[i], s) == 0)
      return i;
  return -1;
}

/* "300", "300s", "5m", "1h", "1.5m". */
static bool parse_duration(const char *s, int64_t *ns) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (end == s || errno || v < 0)
    return false;
  while (*end == ' ')
    end++;
  double scale = 1;
  if (*end == 's')
    end++;
  else if (*end == 'm')
    scale = 60, end++;
  else if (*end == 'h')
    scale = 3600, end++;
  /* inf, nan and spans past what nanoseconds in 64 bits hold (292
   * years) are not durations. */
  if (*end || !(v * scale <= 9.2e9))
    return false;
  *ns = (int64_t)(v * scale * 1e9);
  return true;
}

static int fail(struct buf *err, const char *path, size_t line, const char *fmt,
                ...) __attribute__((format(printf, 4, 5)));

static int fail(struct buf *err, const char *path, size_t line, const char *fmt,
                ...) {
  va_list ap;
  va_start(ap, fmt);
  buf_printf(err, "%s:%zu: ", path, line);
  buf_vprintf(err, fmt, ap);
  va_end(ap);
  return ENG_INVALID;
}

int policy_load(const char *path, struct policy *p, struct buf *err) {
  policy_default(p);
  FILE *f = fopen(path, "rb");
  if (!f) {
    if (errno == ENOENT)
      return ENG_NOTFOUND;
    buf_printf(err, "%s: %s", path, strerror(errno));
    return ENG_INVALID;
  }
  yaml_parser_t yp;
  yaml_event_t ev;
  if (!yaml_parser_initialize(&yp))
    die("yaml parser: out of memory");
  yaml_parser_set_input_file(&yp, f);
  int rc = ENG_OK, depth = 0;
  char *key = NULL; /* key at depth 1 */
  char *sub = NULL; /* key at depth 2, under "conflicts" */
  bool in_conflicts = false;
  for (bool done = false; !done && rc == ENG_OK;) {
    if (!yaml_parser_parse(&yp, &ev)) {
      rc = fail(err, path, yp.problem_mark.line + 1, "not valid YAML: %s",
                yp.problem ? yp.problem : "syntax error");
      break;
    }
    size_t line = ev.start_mark.line + 1;
    switch (ev.type) {
    case YAML_STREAM_END_EVENT:
      done = true;
      break;
    case YAML_SEQUENCE_START_EVENT:
      rc = fail(err, path, line, "lists are not used in taskfs.yaml");
      break;
    case YAML_MAPPING_START_EVENT:
      if (depth == 1 && !(key && strcmp(key, "conflicts") == 0))
        rc =
            fail(err, path, line, "'%s' takes a single value", key ? key : "?");
      else if (depth == 2)
        rc = fail(err, path, line, "'%s' takes a strategy, not a mapping",
                  sub ? sub : "?");
      in_conflicts = depth == 1;
      depth++;
      break;
    case YAML_MAPPING_END_EVENT:
      depth--;
      if (depth == 1) {
        in_conflicts = false;
        free(key);
        key = NULL;
      }
      break;
    case YAML_SCALAR_EVENT: {
      const char *v = (const char *)ev.data.scalar.value;
      if (depth == 0) {
        rc = fail(err, path, line, "taskfs.yaml is a mapping of settings");
      } else if (depth == 1 && !key) {
        if (strcmp(v, "conflicts") && strcmp(v, "auto_merge_window") &&
            strcmp(v, "confirm_deletions"))
          rc = fail(err, path, line,
                    "unknown setting '%s' (known: conflicts, "
                    "auto_merge_window, confirm_deletions)",
                    v);
        key = xstrdup(v);
      } else if (depth == 1) {
        if (strcmp(key, "auto_merge_window") == 0) {
          if (!parse_duration(v, &p->window_ns))
            rc = fail(err, path, line,
                      "auto_merge_window '%s' is not a duration like 300, "
                      "90s, 5m or 1h",
                      v);
        } else if (strcmp(key, "confirm_deletions") == 0) {
          char *end;
          errno = 0;
          long n = strtol(v, &end, 10);
          if (end == v || *end || errno || n < 0 || n > 1000000)
            rc = fail(err, path, line,
                      "confirm_deletions '%s' is not a number of tasks (0 "
                      "turns the confirmation off)",
                      v);
          else
            p->confirm_deletions = (int)n;
        } else {
          rc = fail(err, path, line,
                    "'conflicts' is a mapping of conflict type to "
                    "strategy");
        }
        free(key);
        key = NULL;
      } else if (depth == 2 && in_conflicts && !sub) {
        if (find(type_names, CT_COUNT, v) < 0)
          rc = fail(err, path, line,
                    "unknown conflict type '%s' (known: task_status, "
                    "progress_update, user_content, structural_change, "
                    "system_generated, other)",
                    v);
        sub = xstrdup(v);
      } else if (depth == 2 && in_conflicts) {
        int s = find(strategy_names, ST_COUNT, v);
        if (s < 0)
          rc = fail(err, path, line,
                    "unknown strategy '%s' for %s (known: auto_merge, "
                    "user_choice, file_wins, database_wins, manual_task)",
                    v, sub);
        else
          p->strategy[find(type_names, CT_COUNT, sub)] = s;
        free(sub);
        sub = NULL;
      }
      break;
    }
    default:
      break;
    }
    yaml_event_delete(&ev);
  }
  free(key);
  free(sub);
  yaml_parser_delete(&yp);
  fclose(f);
  return rc;
}
