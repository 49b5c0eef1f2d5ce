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

/* Where a reading of taskfs.yaml is. */
struct loader {
  const char *path;
  struct buf *err;
  struct policy *p;
  int depth;
  char *key; /* key at depth 1 */
  char *sub; /* key at depth 2, under "conflicts" */
  bool in_conflicts;
};

static int mapping_start(struct loader *l, size_t line) {
  int rc = ENG_OK;
  if (l->depth == 1 && !(l->key && strcmp(l->key, "conflicts") == 0))
    rc = fail(l->err, l->path, line, "'%s' takes a single value",
              l->key ? l->key : "?");
  else if (l->depth == 2)
    rc = fail(l->err, l->path, line, "'%s' takes a strategy, not a mapping",
              l->sub ? l->sub : "?");
  l->in_conflicts = l->depth == 1;
  l->depth++;
  return rc;
}

static void mapping_end(struct loader *l) {
  l->depth--;
  if (l->depth == 1) {
    l->in_conflicts = false;
    free(l->key);
    l->key = NULL;
  }
}

/* The value v of the setting l->key (not "conflicts"). */
static int setting(struct loader *l, const char *v, size_t line) {
  if (strcmp(l->key, "auto_merge_window") == 0) {
    if (!parse_duration(v, &l->p->window_ns))
      return fail(l->err, l->path, line,
                  "auto_merge_window '%s' is not a duration like 300, "
                  "90s, 5m or 1h",
                  v);
  } else if (strcmp(l->key, "confirm_deletions") == 0) {
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (end == v || *end || errno || n < 0 || n > 1000000)
      return fail(l->err, l->path, line,
                  "confirm_deletions '%s' is not a number of tasks (0 "
                  "turns the confirmation off)",
                  v);
    l->p->confirm_deletions = (int)n;
  } else {
    return fail(l->err, l->path, line,
                "'conflicts' is a mapping of conflict type to "
                "strategy");
  }
  return ENG_OK;
}

/* A key or a value under "conflicts". */
static int conflicts_entry(struct loader *l, const char *v, size_t line) {
  int rc = ENG_OK;
  if (!l->sub) {
    if (find(type_names, CT_COUNT, v) < 0)
      rc = fail(l->err, l->path, line,
                "unknown conflict type '%s' (known: task_status, "
                "progress_update, user_content, structural_change, "
                "system_generated, other)",
                v);
    l->sub = xstrdup(v);
    return rc;
  }
  int s = find(strategy_names, ST_COUNT, v);
  if (s < 0)
    rc = fail(l->err, l->path, line,
              "unknown strategy '%s' for %s (known: auto_merge, "
              "user_choice, file_wins, database_wins, manual_task)",
              v, l->sub);
  else
    l->p->strategy[find(type_names, CT_COUNT, l->sub)] = s;
  free(l->sub);
  l->sub = NULL;
  return rc;
}

static int scalar(struct loader *l, const char *v, size_t line) {
  int rc = ENG_OK;
  if (l->depth == 0) {
    rc = fail(l->err, l->path, line, "taskfs.yaml is a mapping of settings");
  } else if (l->depth == 1 && !l->key) {
    if (strcmp(v, "conflicts") && strcmp(v, "auto_merge_window") &&
        strcmp(v, "confirm_deletions"))
      rc = fail(l->err, l->path, line,
                "unknown setting '%s' (known: conflicts, "
                "auto_merge_window, confirm_deletions)",
                v);
    l->key = xstrdup(v);
  } else if (l->depth == 1) {
    rc = setting(l, v, line);
    free(l->key);
    l->key = NULL;
  } else if (l->depth == 2 && l->in_conflicts) {
    rc = conflicts_entry(l, v, line);
  }
  return rc;
}

/* One parser event; *done at the end of the stream. */
static int event(struct loader *l, const yaml_event_t *ev, bool *done) {
  size_t line = ev->start_mark.line + 1;
  switch (ev->type) {
  case YAML_STREAM_END_EVENT:
    *done = true;
    return ENG_OK;
  case YAML_SEQUENCE_START_EVENT:
    return fail(l->err, l->path, line, "lists are not used in taskfs.yaml");
  case YAML_MAPPING_START_EVENT:
    return mapping_start(l, line);
  case YAML_MAPPING_END_EVENT:
    mapping_end(l);
    return ENG_OK;
  case YAML_SCALAR_EVENT:
    return scalar(l, (const char *)ev->data.scalar.value, line);
  default:
    return ENG_OK;
  }
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
  struct loader l = {.path = path, .err = err, .p = p};
  int rc = ENG_OK;
  for (bool done = false; !done && rc == ENG_OK;) {
    if (!yaml_parser_parse(&yp, &ev)) {
      rc = fail(err, path, yp.problem_mark.line + 1, "not valid YAML: %s",
                yp.problem ? yp.problem : "syntax error");
      break;
    }
    rc = event(&l, &ev, &done);
    yaml_event_delete(&ev);
  }
  free(l.key);
  free(l.sub);
  yaml_parser_delete(&yp);
  fclose(f);
  return rc;
}
