/* SPDX-License-Identifier: MIT */
/* model.c: record lifecycles and the value forms of model.h. */
#include "model.h"
#include "util.h"

#include <ctype.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
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

/* ---- the field table ---- */

#define SESSION_ROW(e, member, type, flags, ct, json)                          \
  {#member, type, flags, ct, json, offsetof(struct session, member)},
#define GROUP_ROW(e, member, type, flags, ct, json)                            \
  {#member, type, flags, ct, json, offsetof(struct group, member)},
#define TASK_ROW(e, member, type, flags, ct, json)                             \
  {#member, type, flags, ct, json, offsetof(struct task, member)},
#define SECTION_ROW(e, member, type, flags, ct, json)                          \
  {#member, type, flags, ct, json, offsetof(struct section, member)},

static const struct record_field session_fields[] = {
    SESSION_FIELDS(SESSION_ROW)};
static const struct record_field group_fields[] = {GROUP_FIELDS(GROUP_ROW)};
static const struct record_field task_fields[] = {TASK_FIELDS(TASK_ROW)};
static const struct record_field section_fields[] = {
    SECTION_FIELDS(SECTION_ROW)};

const struct record_kind_desc record_kinds[RK_COUNT] = {
    [RK_SESSION] = {"session", "sessions", sizeof(struct session),
                    session_fields, SF_ALL, SF_COUNT, SF_ID},
    [RK_GROUP] = {"group", "task_groups", sizeof(struct group), group_fields,
                  GF_ALL, GF_COUNT, GF_ID},
    [RK_TASK] = {"task", "tasks", sizeof(struct task), task_fields, TF_ALL,
                 TF_COUNT, TF_ID},
    [RK_SECTION] = {"section", "sections", sizeof(struct section),
                    section_fields, XF_ALL, XF_COUNT, XF_ID},
};

int record_kind_parse(const char *name) {
  for (int k = 0; k < RK_COUNT; k++)
    if (str_eq(name, record_kinds[k].name))
      return k;
  return -1;
}

int record_field_index(int kind, const char *name) {
  const struct record_kind_desc *d = &record_kinds[kind];
  for (int i = 0; i < d->nfields; i++)
    if (str_eq(name, d->fields[i].name))
      return i;
  return -1;
}

/* The member of field f in rec. */
#define AT(rec, f, T) ((T *)((char *)(rec) + (f)->offset))
#define CAT(rec, f, T) ((const T *)((const char *)(rec) + (f)->offset))

void record_init(int kind, void *rec) {
  const struct record_kind_desc *d = &record_kinds[kind];
  memset(rec, 0, d->size);
  for (int i = 0; i < d->nfields; i++) {
    const struct record_field *f = &d->fields[i];
    if (f->type == FT_STATUS)
      *AT(rec, f, int) = STATUS_PLANNED;
    else if (f->type == FT_PRIORITY)
      *AT(rec, f, int) = PRIORITY_MEDIUM;
    else if (f->type == FT_HOURS)
      *AT(rec, f, double) = NAN;
  }
}

void record_release(int kind, void *rec) {
  const struct record_kind_desc *d = &record_kinds[kind];
  for (int i = 0; i < d->nfields; i++) {
    const struct record_field *f = &d->fields[i];
    if (f->type == FT_TEXT || f->type == FT_LINE || f->type == FT_OPT)
      free(*AT(rec, f, char *));
    else if (f->type == FT_LIST)
      strlist_clear(AT(rec, f, struct strlist));
  }
  record_init(kind, rec);
}

void record_copy(int kind, void *dst, const void *src) {
  const struct record_kind_desc *d = &record_kinds[kind];
  record_release(kind, dst);
  memcpy(dst, src, d->size);
  for (int i = 0; i < d->nfields; i++) {
    const struct record_field *f = &d->fields[i];
    if (f->type == FT_TEXT || f->type == FT_LINE || f->type == FT_OPT) {
      *AT(dst, f, char *) = xstrdup(*CAT(src, f, char *));
    } else if (f->type == FT_LIST) {
      memset(AT(dst, f, struct strlist), 0, sizeof(struct strlist));
      strlist_copy(AT(dst, f, struct strlist), CAT(src, f, struct strlist));
    }
  }
}

static bool real_eq(double a, double b) {
  return (isnan(a) && isnan(b)) || a == b;
}

bool record_field_eq(int kind, const void *a, const void *b, int i) {
  const struct record_field *f = &record_kinds[kind].fields[i];
  switch (f->type) {
  case FT_TEXT:
  case FT_LINE:
  case FT_OPT:
    return str_eq(*CAT(a, f, char *), *CAT(b, f, char *));
  case FT_STATUS:
  case FT_PRIORITY:
  case FT_OWNER:
  case FT_INT:
    return *CAT(a, f, int) == *CAT(b, f, int);
  case FT_REAL:
  case FT_HOURS:
    return real_eq(*CAT(a, f, double), *CAT(b, f, double));
  case FT_BOOL:
    return *CAT(a, f, bool) == *CAT(b, f, bool);
  case FT_LIST:
    return strlist_eq(CAT(a, f, struct strlist), CAT(b, f, struct strlist));
  case FT_INT64:
    return *CAT(a, f, int64_t) == *CAT(b, f, int64_t);
  }
  return true;
}

void record_field_copy(int kind, void *dst, const void *src, int i) {
  const struct record_field *f = &record_kinds[kind].fields[i];
  switch (f->type) {
  case FT_TEXT:
  case FT_LINE:
  case FT_OPT:
    str_set(AT(dst, f, char *), *CAT(src, f, char *));
    break;
  case FT_STATUS:
  case FT_PRIORITY:
  case FT_OWNER:
  case FT_INT:
    *AT(dst, f, int) = *CAT(src, f, int);
    break;
  case FT_REAL:
  case FT_HOURS:
    *AT(dst, f, double) = *CAT(src, f, double);
    break;
  case FT_BOOL:
    *AT(dst, f, bool) = *CAT(src, f, bool);
    break;
  case FT_LIST:
    strlist_copy(AT(dst, f, struct strlist), CAT(src, f, struct strlist));
    break;
  case FT_INT64:
    *AT(dst, f, int64_t) = *CAT(src, f, int64_t);
    break;
  }
  /* A task belongs to the session of its group. */
  if (kind == RK_TASK && i == TF_GROUP)
    record_field_copy(kind, dst, src, TF_SESSION);
}

char *record_field_text(int kind, const void *rec, int i) {
  const struct record_field *f = &record_kinds[kind].fields[i];
  switch (f->type) {
  case FT_TEXT:
  case FT_LINE: {
    const char *v = *CAT(rec, f, char *);
    return xstrdup(v ? v : "");
  }
  case FT_OPT:
    return xstrdup(*CAT(rec, f, char *));
  case FT_STATUS:
    return xstrdup(status_name(*CAT(rec, f, int)));
  case FT_PRIORITY:
    return xstrdup(priority_name(*CAT(rec, f, int)));
  case FT_OWNER:
    return xstrdup(owner_kind_name(*CAT(rec, f, int)));
  case FT_INT:
    return xasprintf("%d", *CAT(rec, f, int));
  case FT_REAL:
  case FT_HOURS: {
    double v = *CAT(rec, f, double);
    return isnan(v) ? NULL : xasprintf("%.17g", v);
  }
  case FT_BOOL:
    return xstrdup(*CAT(rec, f, bool) ? "1" : "0");
  case FT_LIST:
    return strlist_to_json(CAT(rec, f, struct strlist));
  case FT_INT64:
    return xasprintf("%lld", (long long)*CAT(rec, f, int64_t));
  }
  return NULL;
}

bool record_field_set(int kind, void *rec, int i, const char *text) {
  const struct record_field *f = &record_kinds[kind].fields[i];
  switch (f->type) {
  case FT_TEXT:
  case FT_LINE:
    str_set(AT(rec, f, char *), text ? text : "");
    return true;
  case FT_OPT:
    str_set(AT(rec, f, char *), text);
    return true;
  case FT_STATUS: {
    int v = status_parse(text);
    *AT(rec, f, int) = v < 0 ? STATUS_PLANNED : v;
    return true;
  }
  case FT_PRIORITY: {
    int v = priority_parse(text);
    *AT(rec, f, int) = v < 0 ? PRIORITY_MEDIUM : v;
    return true;
  }
  case FT_OWNER:
    *AT(rec, f, int) = owner_kind_parse(text);
    return true;
  case FT_INT:
    *AT(rec, f, int) = text ? atoi(text) : 0;
    return true;
  case FT_REAL:
    *AT(rec, f, double) = text ? strtod(text, NULL) : 0;
    return true;
  case FT_HOURS:
    *AT(rec, f, double) = text ? strtod(text, NULL) : NAN;
    return true;
  case FT_BOOL:
    *AT(rec, f, bool) = text && strcmp(text, "0") != 0;
    return true;
  case FT_LIST:
    return strlist_from_json(text ? text : "[]", AT(rec, f, struct strlist));
  case FT_INT64:
    *AT(rec, f, int64_t) = text ? strtoll(text, NULL, 10) : 0;
    return true;
  }
  return false;
}

/* ---- JSON text forms ---- */

/* Appends s as a JSON string, escaped as SQLite's json functions escape:
 * the quote, the backslash and control characters; the rest as it is. */
static void json_quote(struct buf *b, const char *s) {
  static const char special[32] = {
      ['\b'] = 'b', ['\t'] = 't', ['\n'] = 'n', ['\f'] = 'f', ['\r'] = 'r'};
  buf_addc(b, '"');
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\')
      buf_printf(b, "\\%c", *p);
    else if (*p < 0x20 && special[*p])
      buf_printf(b, "\\%c", special[*p]);
    else if (*p < 0x20)
      buf_printf(b, "\\u%04x", *p);
    else
      buf_addc(b, (char)*p);
  }
  buf_addc(b, '"');
}

char *strlist_to_json(const struct strlist *l) {
  struct buf b = BUF_INIT;
  buf_addc(&b, '[');
  for (size_t i = 0; i < l->n; i++) {
    if (i)
      buf_addc(&b, ',');
    json_quote(&b, l->v[i]);
  }
  buf_addc(&b, ']');
  return buf_detach(&b, NULL);
}

char *record_fields_json(int kind, const void *rec, unsigned flags) {
  const struct record_kind_desc *d = &record_kinds[kind];
  struct buf b = BUF_INIT;
  buf_addc(&b, '{');
  for (int i = 0, n = 0; i < d->nfields; i++) {
    if (!(d->fields[i].flags & flags))
      continue;
    if (n++)
      buf_addc(&b, ',');
    json_quote(&b, d->fields[i].name);
    buf_addc(&b, ':');
    char *v = record_field_text(kind, rec, i);
    if (v)
      json_quote(&b, v);
    else
      buf_adds(&b, "null");
    free(v);
  }
  buf_addc(&b, '}');
  return buf_detach(&b, NULL);
}

static const char *json_space(const char *p) {
  while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
    p++;
  return p;
}

static int hex4(const char *p) {
  int v = 0;
  for (int i = 0; i < 4; i++) {
    int c = p[i];
    int d = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                   : -1;
    if (d < 0)
      return -1;
    v = v * 16 + d;
  }
  return v;
}

static void put_utf8(struct buf *b, unsigned cp) {
  if (cp < 0x80) {
    buf_addc(b, (char)cp);
  } else if (cp < 0x800) {
    buf_addc(b, (char)(0xc0 | cp >> 6));
    buf_addc(b, (char)(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    buf_addc(b, (char)(0xe0 | cp >> 12));
    buf_addc(b, (char)(0x80 | ((cp >> 6) & 0x3f)));
    buf_addc(b, (char)(0x80 | (cp & 0x3f)));
  } else {
    buf_addc(b, (char)(0xf0 | cp >> 18));
    buf_addc(b, (char)(0x80 | ((cp >> 12) & 0x3f)));
    buf_addc(b, (char)(0x80 | ((cp >> 6) & 0x3f)));
    buf_addc(b, (char)(0x80 | (cp & 0x3f)));
  }
}

/* A JSON string at *p (after its opening quote) into out; *p is left
 * after its closing quote. */
static bool json_string(const char **pp, struct buf *out) {
  const char *p = *pp;
  for (;;) {
    unsigned char c = (unsigned char)*p;
    if (c == '\0')
      return false;
    if (c == '"')
      break;
    if (c != '\\') {
      buf_addc(out, (char)c);
      p++;
      continue;
    }
    p++;
    switch (*p) {
    case '"':
    case '\\':
    case '/':
      buf_addc(out, *p);
      break;
    case 'b':
      buf_addc(out, '\b');
      break;
    case 'f':
      buf_addc(out, '\f');
      break;
    case 'n':
      buf_addc(out, '\n');
      break;
    case 'r':
      buf_addc(out, '\r');
      break;
    case 't':
      buf_addc(out, '\t');
      break;
    case 'u': {
      int cp = hex4(p + 1);
      if (cp < 0)
        return false;
      p += 4;
      if (cp >= 0xd800 && cp < 0xdc00 && p[1] == '\\' && p[2] == 'u') {
        int lo = hex4(p + 3);
        if (lo >= 0xdc00 && lo < 0xe000) {
          cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
          p += 6;
        }
      }
      put_utf8(out, (unsigned)cp);
      break;
    }
    default:
      return false;
    }
    p++;
  }
  *pp = p + 1;
  return true;
}

/* Skips one JSON value that is not a string (a number, true, an object
 * without strings holding brackets): to its end at depth 0. */
static const char *json_skip(const char *p) {
  int depth = 0;
  for (; *p; p++) {
    if (*p == '"') {
      struct buf tmp = BUF_INIT;
      p++;
      bool ok = json_string(&p, &tmp);
      buf_release(&tmp);
      if (!ok)
        return NULL;
      p--;
    } else if (*p == '[' || *p == '{') {
      depth++;
    } else if (*p == ']' || *p == '}') {
      if (depth == 0)
        return p;
      depth--;
    } else if (*p == ',' && depth == 0) {
      return p;
    }
  }
  return NULL;
}

bool strlist_from_json(const char *text, struct strlist *out) {
  strlist_clear(out);
  const char *p = json_space(text);
  if (*p++ != '[')
    return false;
  p = json_space(p);
  if (*p == ']')
    return *json_space(p + 1) == '\0';
  for (;;) {
    struct buf item = BUF_INIT;
    if (*p == '"') {
      p++;
      if (!json_string(&p, &item)) {
        buf_release(&item);
        strlist_clear(out);
        return false;
      }
    } else {
      const char *end = json_skip(p);
      if (!end) {
        strlist_clear(out);
        return false;
      }
      const char *e = end;
      while (e > p &&
             (e[-1] == ' ' || e[-1] == '\n' || e[-1] == '\t' || e[-1] == '\r'))
        e--;
      buf_add(&item, p, (size_t)(e - p));
      p = end;
    }
    strlist_add(out, item.ptr);
    buf_release(&item);
    p = json_space(p);
    if (*p == ']') {
      if (*json_space(p + 1) == '\0')
        return true;
      strlist_clear(out);
      return false;
    }
    if (*p++ != ',') {
      strlist_clear(out);
      return false;
    }
    p = json_space(p);
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

bool record_fields_from_json(int kind, void *rec, const char *json) {
  const char *p = json_space(json);
  if (*p++ != '{')
    return false;
  p = json_space(p);
  if (*p == '}')
    return *json_space(p + 1) == '\0';
  for (;;) {
    struct buf key = BUF_INIT, value = BUF_INIT;
    bool null = false, ok = *p == '"';
    if (ok) {
      p++;
      ok = json_string(&p, &key);
    }
    if (ok) {
      p = json_space(p);
      ok = *p++ == ':';
      p = json_space(p);
    }
    if (ok && *p == '"') {
      p++;
      ok = json_string(&p, &value);
    } else if (ok && strncmp(p, "null", 4) == 0) {
      null = true;
      p += 4;
    } else if (ok && (*p == '-' || (*p >= '0' && *p <= '9'))) {
      /* A number (the history's snapshots keep numeric columns so):
       * its text is its text form. */
      const char *start = p;
      while (*p && strchr("+-.0123456789eE", *p))
        p++;
      buf_add(&value, start, (size_t)(p - start));
    } else {
      ok = false;
    }
    if (ok) {
      int i = record_field_index(kind, key.ptr);
      if (i >= 0)
        record_field_set(kind, rec, i, null ? NULL : value.ptr);
      p = json_space(p);
    }
    buf_release(&key);
    buf_release(&value);
    if (!ok)
      return false;
    if (*p == '}')
      return *json_space(p + 1) == '\0';
    if (*p++ != ',')
      return false;
    p = json_space(p);
  }
}
