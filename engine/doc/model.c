/* SPDX-License-Identifier: MIT */
/* model.c: record lifecycles and the value forms of model.h. */
#include "model.h"
#include "util.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *const status_names[STATUS_COUNT] = {"active", "blocked",
                                                       "planned", "completed"};
static const char *const status_titles[STATUS_COUNT] = {"Active", "Blocked",
                                                        "Planned", "Completed"};
static const char *const status_emojis[STATUS_COUNT] = {
    "\xf0\x9f\x94\x84", /* 🔄 */
    "\xf0\x9f\x9a\xab", /* 🚫 */
    "\xf0\x9f\x93\x8b", /* 📋 */
    "\xe2\x9c\x85",     /* ✅ */
};

const char *status_name(int status) {
  return status >= 0 && status < STATUS_COUNT ? status_names[status] : "?";
}

const char *status_title(int status) {
  return status >= 0 && status < STATUS_COUNT ? status_titles[status] : "?";
}

const char *status_emoji(int status) {
  return status >= 0 && status < STATUS_COUNT ? status_emojis[status] : "";
}

void words_normalize(const char *s, char *out, size_t size) {
  size_t n = 0;
  bool space = false;
  for (; *s && n + 1 < size; s++) {
    unsigned char c = (unsigned char)*s;
    if (isalnum(c)) {
      if (space && n > 0) {
        /* A space only when a letter fits after it. */
        if (n + 2 >= size)
          break;
        out[n++] = ' ';
      }
      space = false;
      out[n++] = (char)tolower(c);
    } else if (c == ' ' || c == '_' || c == '-' || c == '\t') {
      space = true;
    }
  }
  out[n] = '\0';
}

int status_parse(const char *s) {
  static const struct {
    const char *word;
    int status;
  } words[] = {
      {"active", STATUS_ACTIVE},       {"in progress", STATUS_ACTIVE},
      {"inprogress", STATUS_ACTIVE},   {"started", STATUS_ACTIVE},
      {"doing", STATUS_ACTIVE},        {"blocked", STATUS_BLOCKED},
      {"planned", STATUS_PLANNED},     {"todo", STATUS_PLANNED},
      {"to do", STATUS_PLANNED},       {"pending", STATUS_PLANNED},
      {"completed", STATUS_COMPLETED}, {"complete", STATUS_COMPLETED},
      {"done", STATUS_COMPLETED},
  };
  char w[64];
  if (!s)
    return -1;
  words_normalize(s, w, sizeof w);
  for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
    if (strcmp(w, words[i].word) == 0)
      return words[i].status;
  return -1;
}

static const char *const priority_names[PRIORITY_COUNT] = {"low", "medium",
                                                           "high", "critical"};
static const char *const priority_titles[PRIORITY_COUNT] = {"Low", "Medium",
                                                            "High", "Critical"};

const char *priority_name(int p) {
  return p >= 0 && p < PRIORITY_COUNT ? priority_names[p] : "?";
}

const char *priority_title(int p) {
  return p >= 0 && p < PRIORITY_COUNT ? priority_titles[p] : "?";
}

int priority_parse(const char *s) {
  char w[64];
  if (!s)
    return -1;
  words_normalize(s, w, sizeof w);
  for (int i = 0; i < PRIORITY_COUNT; i++)
    if (strcmp(w, priority_names[i]) == 0)
      return i;
  if (strcmp(w, "normal") == 0)
    return PRIORITY_MEDIUM;
  return -1;
}

const char *const session_statuses[] = {"active", "paused", "completed",
                                        "archived", NULL};

bool session_status_valid(const char *s) {
  for (int i = 0; s && session_statuses[i]; i++)
    if (strcmp(s, session_statuses[i]) == 0)
      return true;
  return false;
}

void strlist_add(struct strlist *l, const char *s) {
  XGROW(l->v, l->cap, l->n + 1);
  l->v[l->n++] = xstrdup(s);
}

void strlist_clear(struct strlist *l) {
  for (size_t i = 0; i < l->n; i++)
    free(l->v[i]);
  free(l->v);
  l->v = NULL;
  l->n = l->cap = 0;
}

bool strlist_eq(const struct strlist *a, const struct strlist *b) {
  if (a->n != b->n)
    return false;
  for (size_t i = 0; i < a->n; i++)
    if (strcmp(a->v[i], b->v[i]) != 0)
      return false;
  return true;
}

void strlist_copy(struct strlist *dst, const struct strlist *src) {
  strlist_clear(dst);
  for (size_t i = 0; i < src->n; i++)
    strlist_add(dst, src->v[i]);
}

const char *const session_field_names[SF_COUNT] = {"title", "status", "mode",
                                                   "description", "deleted"};
const char *const group_field_names[GF_COUNT] = {
    "name",     "title",      "description", "status",
    "priority", "specialist", "position",    "deleted"};
const char *const task_field_names[TF_COUNT] = {
    "group_id",     "title",          "description",  "status",
    "progress",     "priority",       "specialist",   "estimate",
    "actual",       "started_at",     "completed_at", "dependencies",
    "deliverables", "current_status", "position",     "deleted"};
const char *const section_field_names[XF_COUNT] = {"key", "heading", "body",
                                                   "position", "deleted"};

int field_index(const char *const *names, int n, const char *name) {
  for (int i = 0; i < n; i++)
    if (strcmp(names[i], name) == 0)
      return i;
  return -1;
}

const char *owner_kind_name(int kind) {
  switch (kind) {
  case OWNER_SESSION:
    return "session";
  case OWNER_GROUP:
    return "group";
  case OWNER_TASK:
    return "task";
  }
  return "?";
}

int owner_kind_parse(const char *s) {
  if (str_eq(s, "session"))
    return OWNER_SESSION;
  if (str_eq(s, "group"))
    return OWNER_GROUP;
  if (str_eq(s, "task"))
    return OWNER_TASK;
  return -1;
}

void session_init(struct session *s) { memset(s, 0, sizeof *s); }

void session_release(struct session *s) {
  free(s->id);
  free(s->title);
  free(s->status);
  free(s->mode);
  free(s->description);
  free(s->created_at);
  free(s->updated_at);
  session_init(s);
}

void session_copy(struct session *dst, const struct session *src) {
  session_release(dst);
  *dst = *src;
  dst->id = xstrdup(src->id);
  dst->title = xstrdup(src->title);
  dst->status = xstrdup(src->status);
  dst->mode = xstrdup(src->mode);
  dst->description = xstrdup(src->description);
  dst->created_at = xstrdup(src->created_at);
  dst->updated_at = xstrdup(src->updated_at);
}

void group_init(struct group *g) {
  memset(g, 0, sizeof *g);
  g->status = STATUS_PLANNED;
  g->priority = PRIORITY_MEDIUM;
}

void group_release(struct group *g) {
  free(g->id);
  free(g->session_id);
  free(g->name);
  free(g->title);
  free(g->description);
  free(g->specialist);
  free(g->created_at);
  free(g->updated_at);
  group_init(g);
}

void group_copy(struct group *dst, const struct group *src) {
  group_release(dst);
  *dst = *src;
  dst->id = xstrdup(src->id);
  dst->session_id = xstrdup(src->session_id);
  dst->name = xstrdup(src->name);
  dst->title = xstrdup(src->title);
  dst->description = xstrdup(src->description);
  dst->specialist = xstrdup(src->specialist);
  dst->created_at = xstrdup(src->created_at);
  dst->updated_at = xstrdup(src->updated_at);
}

void task_init(struct task *t) {
  memset(t, 0, sizeof *t);
  t->status = STATUS_PLANNED;
  t->priority = PRIORITY_MEDIUM;
  t->estimate = NAN;
  t->actual = NAN;
}

void task_release(struct task *t) {
  free(t->id);
  free(t->session_id);
  free(t->group_id);
  free(t->title);
  free(t->description);
  free(t->specialist);
  free(t->current_status);
  free(t->started_at);
  free(t->completed_at);
  free(t->created_at);
  free(t->updated_at);
  strlist_clear(&t->deps);
  strlist_clear(&t->deliverables);
  task_init(t);
}

void task_copy(struct task *dst, const struct task *src) {
  task_release(dst);
  *dst = *src;
  dst->id = xstrdup(src->id);
  dst->session_id = xstrdup(src->session_id);
  dst->group_id = xstrdup(src->group_id);
  dst->title = xstrdup(src->title);
  dst->description = xstrdup(src->description);
  dst->specialist = xstrdup(src->specialist);
  dst->current_status = xstrdup(src->current_status);
  dst->started_at = xstrdup(src->started_at);
  dst->completed_at = xstrdup(src->completed_at);
  dst->created_at = xstrdup(src->created_at);
  dst->updated_at = xstrdup(src->updated_at);
  memset(&dst->deps, 0, sizeof dst->deps);
  memset(&dst->deliverables, 0, sizeof dst->deliverables);
  strlist_copy(&dst->deps, &src->deps);
  strlist_copy(&dst->deliverables, &src->deliverables);
}

void section_init(struct section *x) { memset(x, 0, sizeof *x); }

void section_release(struct section *x) {
  free(x->owner_id);
  free(x->key);
  free(x->heading);
  free(x->body);
  section_init(x);
}

void section_copy(struct section *dst, const struct section *src) {
  section_release(dst);
  *dst = *src;
  dst->owner_id = xstrdup(src->owner_id);
  dst->key = xstrdup(src->key);
  dst->heading = xstrdup(src->heading);
  dst->body = xstrdup(src->body);
}

static bool real_eq(double a, double b) {
  return (isnan(a) && isnan(b)) || a == b;
}

bool task_field_eq(const struct task *a, const struct task *b, int f) {
  switch (f) {
  case TF_GROUP:
    return str_eq(a->group_id, b->group_id);
  case TF_TITLE:
    return str_eq(a->title, b->title);
  case TF_DESCRIPTION:
    return str_eq(a->description, b->description);
  case TF_STATUS:
    return a->status == b->status;
  case TF_PROGRESS:
    return a->progress == b->progress;
  case TF_PRIORITY:
    return a->priority == b->priority;
  case TF_SPECIALIST:
    return str_eq(a->specialist, b->specialist);
  case TF_ESTIMATE:
    return real_eq(a->estimate, b->estimate);
  case TF_ACTUAL:
    return real_eq(a->actual, b->actual);
  case TF_STARTED:
    return str_eq(a->started_at, b->started_at);
  case TF_COMPLETED:
    return str_eq(a->completed_at, b->completed_at);
  case TF_DEPS:
    return strlist_eq(&a->deps, &b->deps);
  case TF_DELIVERABLES:
    return strlist_eq(&a->deliverables, &b->deliverables);
  case TF_CURRENT:
    return str_eq(a->current_status, b->current_status);
  case TF_POSITION:
    return a->position == b->position;
  case TF_DELETED:
    return a->deleted == b->deleted;
  }
  return true;
}

void task_field_copy(struct task *dst, const struct task *src, int f) {
  switch (f) {
  case TF_GROUP:
    str_set(&dst->group_id, src->group_id);
    str_set(&dst->session_id, src->session_id);
    break;
  case TF_TITLE:
    str_set(&dst->title, src->title);
    break;
  case TF_DESCRIPTION:
    str_set(&dst->description, src->description);
    break;
  case TF_STATUS:
    dst->status = src->status;
    break;
  case TF_PROGRESS:
    dst->progress = src->progress;
    break;
  case TF_PRIORITY:
    dst->priority = src->priority;
    break;
  case TF_SPECIALIST:
    str_set(&dst->specialist, src->specialist);
    break;
  case TF_ESTIMATE:
    dst->estimate = src->estimate;
    break;
  case TF_ACTUAL:
    dst->actual = src->actual;
    break;
  case TF_STARTED:
    str_set(&dst->started_at, src->started_at);
    break;
  case TF_COMPLETED:
    str_set(&dst->completed_at, src->completed_at);
    break;
  case TF_DEPS:
    strlist_copy(&dst->deps, &src->deps);
    break;
  case TF_DELIVERABLES:
    strlist_copy(&dst->deliverables, &src->deliverables);
    break;
  case TF_CURRENT:
    str_set(&dst->current_status, src->current_status);
    break;
  case TF_POSITION:
    dst->position = src->position;
    break;
  case TF_DELETED:
    dst->deleted = src->deleted;
    break;
  }
}

bool group_field_eq(const struct group *a, const struct group *b, int f) {
  switch (f) {
  case GF_NAME:
    return str_eq(a->name, b->name);
  case GF_TITLE:
    return str_eq(a->title, b->title);
  case GF_DESCRIPTION:
    return str_eq(a->description, b->description);
  case GF_STATUS:
    return a->status == b->status;
  case GF_PRIORITY:
    return a->priority == b->priority;
  case GF_SPECIALIST:
    return str_eq(a->specialist, b->specialist);
  case GF_POSITION:
    return a->position == b->position;
  case GF_DELETED:
    return a->deleted == b->deleted;
  }
  return true;
}

void group_field_copy(struct group *dst, const struct group *src, int f) {
  switch (f) {
  case GF_NAME:
    str_set(&dst->name, src->name);
    break;
  case GF_TITLE:
    str_set(&dst->title, src->title);
    break;
  case GF_DESCRIPTION:
    str_set(&dst->description, src->description);
    break;
  case GF_STATUS:
    dst->status = src->status;
    break;
  case GF_PRIORITY:
    dst->priority = src->priority;
    break;
  case GF_SPECIALIST:
    str_set(&dst->specialist, src->specialist);
    break;
  case GF_POSITION:
    dst->position = src->position;
    break;
  case GF_DELETED:
    dst->deleted = src->deleted;
    break;
  }
}

bool session_field_eq(const struct session *a, const struct session *b, int f) {
  switch (f) {
  case SF_TITLE:
    return str_eq(a->title, b->title);
  case SF_STATUS:
    return str_eq(a->status, b->status);
  case SF_MODE:
    return str_eq(a->mode, b->mode);
  case SF_DESCRIPTION:
    return str_eq(a->description, b->description);
  case SF_DELETED:
    return a->deleted == b->deleted;
  }
  return true;
}

void session_field_copy(struct session *dst, const struct session *src, int f) {
  switch (f) {
  case SF_TITLE:
    str_set(&dst->title, src->title);
    break;
  case SF_STATUS:
    str_set(&dst->status, src->status);
    break;
  case SF_MODE:
    str_set(&dst->mode, src->mode);
    break;
  case SF_DESCRIPTION:
    str_set(&dst->description, src->description);
    break;
  case SF_DELETED:
    dst->deleted = src->deleted;
    break;
  }
}

void task_set_status(struct task *t, int status) {
  t->status = status;
  if (status == STATUS_COMPLETED)
    t->progress = 100;
}

void effort_format(double hours, char out[32]) {
  if (isnan(hours)) {
    out[0] = '\0';
    return;
  }
  /* Two decimals at most, trailing zeros dropped: 4h, 1.5h, 0.25h. A
   * value the store would refuse (beyond EFFORT_MAX) still fits. */
  int n = snprintf(out, 32, "%.2f", hours);
  if (n < 0 || n > 29) {
    snprintf(out, 32, "%.6gh", hours);
    return;
  }
  char *dot = strchr(out, '.');
  if (dot) {
    char *end = out + strlen(out) - 1;
    while (end > dot && *end == '0')
      *end-- = '\0';
    if (end == dot)
      *end = '\0';
  }
  strcat(out, "h");
}

static const char *skip_space(const char *s) {
  while (*s == ' ' || *s == '\t')
    s++;
  return s;
}

/* A decimal number: digits, optionally a point and more digits. */
static bool read_decimal(const char **s, double *v) {
  const char *p = *s;
  double x = 0;
  bool digits = false;
  for (; isdigit((unsigned char)*p); p++, digits = true)
    x = x * 10 + (*p - '0');
  if (*p == '.') {
    double scale = 0.1;
    for (p++; isdigit((unsigned char)*p); p++, digits = true) {
      x += (*p - '0') * scale;
      scale /= 10;
    }
  }
  if (!digits)
    return false;
  *s = p;
  *v = x;
  return true;
}

bool effort_parse(const char *s, double *hours) {
  s = skip_space(s);
  if (*s == '\0' || strcmp(s, "-") == 0 || strcmp(s, "\xe2\x80\x94") == 0) {
    *hours = NAN;
    return true;
  }
  double total = 0;
  int parts = 0;
  while (*s) {
    double v;
    if (!read_decimal(&s, &v))
      return false;
    s = skip_space(s);
    if (*s == 'h' || *s == 'H') {
      total += v;
      s++;
    } else if (*s == 'm' || *s == 'M') {
      total += v / 60.0;
      s++;
    } else if (*s == '\0' && parts == 0) {
      total += v;
    } else {
      return false;
    }
    parts++;
    s = skip_space(s);
  }
  if (!(total <= EFFORT_MAX))
    return false;
  *hours = round(total * 100.0) / 100.0;
  return true;
}

int progress_parse(const char *s, int *out) {
  s = skip_space(s);
  if (!isdigit((unsigned char)*s))
    return -1;
  long v = 0;
  for (; isdigit((unsigned char)*s); s++) {
    v = v * 10 + (*s - '0');
    if (v > 100000)
      return -2;
  }
  s = skip_space(s);
  if (*s == '%')
    s++;
  s = skip_space(s);
  if (*s)
    return -1;
  if (v > 100)
    return -2;
  *out = (int)v;
  return 0;
}

void time_display(const char *stored, char out[32]) {
  if (!stored || strlen(stored) < 16) {
    out[0] = '\0';
    return;
  }
  snprintf(out, 32, "%.16s UTC", stored);
}
