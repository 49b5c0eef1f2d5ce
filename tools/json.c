/* SPDX-License-Identifier: MIT */
/* json.c: taskctl's JSON from the store's records, with jansson. Record
 * fields walk the model's field table; the keys it has no field for (the
 * counts, a task's group name, the lists of an export) are added here. */
#include "json.h"
#include "util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The failed operations of the sync figures. */
#define LAST_ERRORS 10

void json_setup(void) { json_set_alloc_funcs(xmalloc, free); }

/* A value from a jansson constructor: with xmalloc, NULL means arguments
 * that no caller here passes. */
static json_t *must(json_t *v) {
  if (!v)
    die("cannot make a JSON value");
  return v;
}

/* Sets key of o to v, which it takes. */
static void put(json_t *o, const char *key, json_t *v) {
  if (json_object_set_new(o, key, must(v)) != 0)
    die("cannot set JSON key %s", key);
}

static void append(json_t *a, json_t *v) {
  if (json_array_append_new(a, must(v)) != 0)
    die("cannot append to a JSON array");
}

/* Hands v to *out when rc is ENG_OK, else releases it; returns rc. */
static int hand_over(int rc, json_t *v, json_t **out) {
  if (rc == ENG_OK)
    *out = v;
  else
    json_decref(v);
  return rc;
}

void json_print(json_t *v) {
  /* 15 digits print 0.1 as 0.1 (17 would give 0.10000000000000001). */
  char *text = json_dumps(must(v), JSON_COMPACT | JSON_ENCODE_ANY |
                                       JSON_REAL_PRECISION(15));
  if (!text)
    die("cannot write JSON");
  /* The hex digits of \u escapes in lower case, as the model's text forms
   * (strlist_to_json) write them, so that a list is the same bytes here
   * as in the database. */
  for (char *p = text; *p; p++)
    if (*p == '\\' && *++p == 'u')
      for (int i = 1; i <= 4; i++)
        p[i] = (char)tolower((unsigned char)p[i]);
  fputs(text, stdout);
  putchar('\n');
  free(text);
  json_decref(v);
}

/* The length of the well-formed UTF-8 character at s (of n bytes), or 0:
 * no overlong forms, no surrogates, nothing above U+10FFFF. */
static size_t utf8_char(const unsigned char *s, size_t n) {
  size_t len;
  unsigned cp, min;
  if (s[0] < 0x80)
    return 1;
  if (s[0] >= 0xc2 && s[0] <= 0xdf) {
    len = 2;
    cp = s[0] & 0x1fu;
    min = 0x80;
  } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
    len = 3;
    cp = s[0] & 0x0fu;
    min = 0x800;
  } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
    len = 4;
    cp = s[0] & 0x07u;
    min = 0x10000;
  } else {
    return 0;
  }
  if (n < len)
    return 0;
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xc0) != 0x80)
      return 0;
    cp = cp << 6 | (s[i] & 0x3fu);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
    return 0;
  return len;
}

json_t *json_strn(const char *s, size_t n) {
  if (!s)
    return must(json_null());
  json_t *v = json_stringn(s, n);
  if (v)
    return v;
  /* Not UTF-8 (a text saved through a mount, a value another program
   * wrote): JSON text must be, so each stray byte becomes U+FFFD. */
  struct buf b = BUF_INIT;
  for (size_t i = 0; i < n;) {
    size_t len = utf8_char((const unsigned char *)s + i, n - i);
    if (len) {
      buf_add(&b, s + i, len);
      i += len;
    } else {
      buf_adds(&b, "\xef\xbf\xbd");
      i++;
    }
  }
  v = must(json_stringn(b.ptr, b.len));
  buf_release(&b);
  return v;
}

json_t *json_str(const char *s) { return json_strn(s, s ? strlen(s) : 0); }

/* A real number; null for NAN (JSON has no such number). */
static json_t *real(double x) {
  json_t *v = json_real(x);
  return v ? v : must(json_null());
}

/* ---- records ---- */

/* Where a field's key goes: the id, then what the record belongs to, its
 * versioned fields, and last what the store keeps. */
static int field_rank(unsigned flags) {
  if (flags & FIELD_KEY)
    return 0;
  if (flags & FIELD_IDENTITY)
    return 1;
  if (flags & FIELD_STORE)
    return 3;
  return 2;
}

/* Field i of rec, from its text form and its type. */
static json_t *field_json(int kind, const void *rec, int i) {
  char *text = record_field_text(kind, rec, i);
  json_t *v;
  if (!text)
    return must(json_null());
  switch (record_kinds[kind].fields[i].type) {
  case FT_INT:
  case FT_INT64:
    v = json_integer(strtoll(text, NULL, 10));
    break;
  case FT_REAL:
  case FT_HOURS:
    v = real(strtod(text, NULL));
    break;
  case FT_BOOL:
    v = json_boolean(strcmp(text, "0") != 0);
    break;
  case FT_LIST: {
    struct strlist l = {0};
    strlist_from_json(text, &l);
    v = must(json_array());
    for (size_t k = 0; k < l.n; k++)
      append(v, json_str(l.v[k]));
    strlist_clear(&l);
    break;
  }
  default:
    v = json_str(text);
  }
  free(text);
  return must(v);
}

/* A key of the tool's own, placed after the field whose key is after. */
struct extra {
  const char *after, *key;
  json_t *value; /* taken */
};

static json_t *record_with(int kind, const void *rec, const struct extra *x,
                           size_t nx) {
  const struct record_kind_desc *d = &record_kinds[kind];
  json_t *o = must(json_object());
  for (int rank = 0; rank <= 3; rank++) {
    for (int i = 0; i < d->nfields; i++) {
      const struct record_field *f = &d->fields[i];
      if (!f->json || field_rank(f->flags) != rank)
        continue;
      put(o, f->json, field_json(kind, rec, i));
      for (size_t k = 0; k < nx; k++)
        if (str_eq(x[k].after, f->json))
          put(o, x[k].key, x[k].value);
    }
  }
  return o;
}

json_t *json_record(int kind, const void *rec) {
  return record_with(kind, rec, NULL, 0);
}

/* Live groups, live tasks and completed live tasks. */
struct counts {
  int64_t groups, tasks, completed;
};

static void count_tasks(const struct task *v, size_t n, struct counts *c) {
  for (size_t i = 0; i < n; i++) {
    c->tasks += !v[i].deleted;
    c->completed += !v[i].deleted && v[i].status == STATUS_COMPLETED;
  }
}

/* The live tasks of g: from stats (store_group_stats of its session) when
 * g is there, as live groups are, else counted one by one. */
static int group_counts(struct store *st, const struct group *g,
                        const struct group_stats *stats, size_t nstats,
                        struct counts *c) {
  memset(c, 0, sizeof *c);
  for (size_t i = 0; i < nstats; i++) {
    if (!str_eq(stats[i].group_id, g->id))
      continue;
    for (int k = 0; k < STATUS_COUNT; k++)
      c->tasks += stats[i].count[k];
    c->completed = stats[i].count[STATUS_COMPLETED];
    return ENG_OK;
  }
  struct task *v = NULL;
  size_t n = 0;
  int rc = store_task_list_group(st, g->id, false, &v, &n);
  count_tasks(v, n, c);
  store_tasks_free(v, n);
  return rc;
}

static json_t *session_json(const struct session *s, const struct counts *c) {
  const struct extra x[] = {
      {"deleted", "groups", json_integer(c->groups)},
      {"deleted", "tasks", json_integer(c->tasks)},
      {"deleted", "completed", json_integer(c->completed)}};
  return record_with(RK_SESSION, s, x, 3);
}

static json_t *group_json(const struct group *g, const struct counts *c) {
  const struct extra x[] = {
      {"deleted", "tasks", json_integer(c->tasks)},
      {"deleted", "completed", json_integer(c->completed)}};
  return record_with(RK_GROUP, g, x, 2);
}

static json_t *task_json(const struct task *t, const char *group_name) {
  const struct extra x[] = {{"group", "group_name", json_str(group_name)}};
  return record_with(RK_TASK, t, x, 1);
}

int json_session(struct store *st, const struct session *s, json_t **out) {
  struct group *gs = NULL;
  struct group_stats *stats = NULL;
  size_t ng = 0, nstats = 0;
  struct counts c = {0};
  /* Every group, deleted ones too: a live task of a deleted group counts
   * among the session's tasks. */
  int rc = store_group_list(st, s->id, true, &gs, &ng);
  if (rc == ENG_OK)
    rc = store_group_stats(st, s->id, &stats, &nstats);
  for (size_t i = 0; rc == ENG_OK && i < ng; i++) {
    struct counts g;
    rc = group_counts(st, &gs[i], stats, nstats, &g);
    c.groups += !gs[i].deleted;
    c.tasks += g.tasks;
    c.completed += g.completed;
  }
  store_groups_free(gs, ng);
  store_group_stats_free(stats, nstats);
  if (rc == ENG_OK)
    *out = session_json(s, &c);
  return rc;
}

int json_group(struct store *st, const struct group *g, json_t **out) {
  struct group_stats *stats = NULL;
  size_t nstats = 0;
  struct counts c;
  int rc = g->deleted ? ENG_OK
                      : store_group_stats(st, g->session_id, &stats, &nstats);
  if (rc == ENG_OK)
    rc = group_counts(st, g, stats, nstats, &c);
  store_group_stats_free(stats, nstats);
  if (rc == ENG_OK)
    *out = group_json(g, &c);
  return rc;
}

int json_task(struct store *st, const struct task *t, json_t **out) {
  struct group g;
  group_init(&g);
  int rc = store_group_get(st, t->group_id, &g);
  if (rc == ENG_OK)
    *out = task_json(t, g.name);
  group_release(&g);
  return rc;
}

int json_record_get(struct store *st, int kind, const char *id, json_t **out) {
  union {
    struct session s;
    struct group g;
    struct task t;
  } r;
  if (kind != RK_SESSION && kind != RK_GROUP && kind != RK_TASK)
    return store_fail(st, ENG_INVALID, "no JSON for record kind %d", kind);
  record_init(kind, &r);
  int rc = store_get(st, kind, id, &r);
  if (rc == ENG_OK)
    rc = kind == RK_SESSION ? json_session(st, &r.s, out)
         : kind == RK_GROUP ? json_group(st, &r.g, out)
                            : json_task(st, &r.t, out);
  record_release(kind, &r);
  return rc;
}

/* ---- lists ---- */

int json_sessions(struct store *st, json_t **out) {
  struct session *v = NULL;
  size_t n = 0;
  json_t *a = must(json_array());
  int rc = store_session_list(st, false, &v, &n);
  for (size_t i = 0; rc == ENG_OK && i < n; i++) {
    json_t *s;
    if ((rc = json_session(st, &v[i], &s)) == ENG_OK)
      append(a, s);
  }
  store_sessions_free(v, n);
  return hand_over(rc, a, out);
}

/* Appends the groups of one session to a. */
static int session_groups(struct store *st, const char *session_id,
                          bool include_deleted, json_t *a) {
  struct group *gs = NULL;
  struct group_stats *stats = NULL;
  size_t ng = 0, nstats = 0;
  int rc = store_group_list(st, session_id, include_deleted, &gs, &ng);
  if (rc == ENG_OK)
    rc = store_group_stats(st, session_id, &stats, &nstats);
  for (size_t i = 0; rc == ENG_OK && i < ng; i++) {
    struct counts c;
    if ((rc = group_counts(st, &gs[i], stats, nstats, &c)) == ENG_OK)
      append(a, group_json(&gs[i], &c));
  }
  store_groups_free(gs, ng);
  store_group_stats_free(stats, nstats);
  return rc;
}

static int by_id(const void *a, const void *b) {
  return strcmp(((const struct session *)a)->id,
                ((const struct session *)b)->id);
}

int json_groups(struct store *st, const char *session_id, bool include_deleted,
                json_t **out) {
  json_t *a = must(json_array());
  if (session_id)
    return hand_over(session_groups(st, session_id, include_deleted, a), a,
                     out);
  /* The groups of deleted sessions too, as their ids order them. */
  struct session *v = NULL;
  size_t n = 0;
  int rc = store_session_list(st, true, &v, &n);
  xsort(v, n, sizeof *v, by_id);
  for (size_t i = 0; rc == ENG_OK && i < n; i++)
    rc = session_groups(st, v[i].id, include_deleted, a);
  store_sessions_free(v, n);
  return hand_over(rc, a, out);
}

int json_tasks(struct store *st, const char *session_id, int status,
               const char *group_id, bool include_deleted, json_t **out) {
  struct task *v = NULL;
  size_t n = 0;
  struct group g;
  group_init(&g);
  json_t *a = must(json_array());
  int rc = store_task_list(st, session_id, status, group_id, include_deleted,
                           &v, &n);
  /* The tasks come group by group: one lookup per group. */
  for (size_t i = 0; rc == ENG_OK && i < n; i++) {
    if (!str_eq(g.id, v[i].group_id)) {
      group_release(&g);
      if ((rc = store_group_get(st, v[i].group_id, &g)))
        break;
    }
    append(a, task_json(&v[i], g.name));
  }
  group_release(&g);
  store_tasks_free(v, n);
  return hand_over(rc, a, out);
}

/* ---- the whole database ---- */

/* The live sections of an owner (enum owner_kind). */
static int sections_json(struct store *st, int owner_kind, const char *id,
                         json_t **out) {
  struct section *v = NULL;
  size_t n = 0;
  json_t *a = must(json_array());
  int rc = store_section_list(st, owner_kind, id, false, &v, &n);
  for (size_t i = 0; rc == ENG_OK && i < n; i++)
    append(a, json_record(RK_SECTION, &v[i]));
  store_sections_free(v, n);
  return hand_over(rc, a, out);
}

/* Adds the live sections of an owner to o, its JSON, as "sections". */
static int add_sections(struct store *st, int owner_kind, const char *id,
                        json_t *o) {
  json_t *x;
  int rc = sections_json(st, owner_kind, id, &x);
  if (rc == ENG_OK)
    put(o, "sections", x);
  return rc;
}

/* A group with its tasks in place of their count; adds its counts to
 * the session's. */
static int export_group(struct store *st, const struct group *g,
                        struct counts *session, json_t **out) {
  struct task *v = NULL;
  size_t n = 0;
  struct counts c = {0};
  json_t *tasks = must(json_array());
  int rc = store_task_list_group(st, g->id, true, &v, &n);
  for (size_t i = 0; rc == ENG_OK && i < n; i++) {
    json_t *t = task_json(&v[i], g->name);
    rc = add_sections(st, OWNER_TASK, v[i].id, t);
    append(tasks, t);
  }
  count_tasks(v, n, &c);
  store_tasks_free(v, n);
  json_t *o = group_json(g, &c);
  put(o, "tasks", tasks);
  if (rc == ENG_OK)
    rc = add_sections(st, OWNER_GROUP, g->id, o);
  session->groups += !g->deleted;
  session->tasks += c.tasks;
  session->completed += c.completed;
  return hand_over(rc, o, out);
}

static int export_session(struct store *st, const struct session *s,
                          json_t **out) {
  struct group *gs = NULL;
  size_t ng = 0;
  struct counts c = {0};
  json_t *groups = must(json_array());
  int rc = store_group_list(st, s->id, true, &gs, &ng);
  for (size_t i = 0; rc == ENG_OK && i < ng; i++) {
    json_t *g;
    if ((rc = export_group(st, &gs[i], &c, &g)) == ENG_OK)
      append(groups, g);
  }
  store_groups_free(gs, ng);
  json_t *o = session_json(s, &c);
  put(o, "groups", groups);
  if (rc == ENG_OK)
    rc = add_sections(st, OWNER_SESSION, s->id, o);
  return hand_over(rc, o, out);
}

int json_export(struct store *st, json_t **out) {
  int rc = store_read_begin(st);
  if (rc)
    return rc;
  struct session *v = NULL;
  size_t n = 0;
  json_t *sessions = must(json_array());
  json_t *o = must(json_object());
  put(o, "taskfs", json_integer(1));
  put(o, "revision", json_integer(store_revision(st)));
  rc = store_session_list(st, true, &v, &n);
  for (size_t i = 0; rc == ENG_OK && i < n; i++) {
    json_t *s;
    if ((rc = export_session(st, &v[i], &s)) == ENG_OK)
      append(sessions, s);
  }
  store_sessions_free(v, n);
  put(o, "sessions", sessions);
  store_read_end(st);
  return hand_over(rc, o, out);
}

/* ---- conflicts, backups, figures, edits ---- */

static json_t *conflict_json(const struct conflict *c) {
  json_t *o = must(json_object());
  put(o, "id", json_integer(c->id));
  put(o, "session", json_str(c->session_id));
  put(o, "file_kind", json_str(c->file_kind));
  put(o, "file_record", json_str(c->file_record));
  put(o, "type", json_str(c->type));
  put(o, "target_kind", json_str(c->target_kind));
  put(o, "target", json_str(c->target_id));
  put(o, "field", json_str(c->field));
  put(o, "label", json_str(c->label));
  put(o, "base", json_str(c->base_value));
  put(o, "database", json_str(c->db_value));
  put(o, "file", json_str(c->file_value));
  put(o, "database_changed_at", json_str(c->db_changed_at));
  put(o, "database_source", json_str(c->db_source));
  put(o, "detected_at", json_str(c->detected_at));
  put(o, "status", json_str(c->status));
  put(o, "resolution", json_str(c->resolution));
  put(o, "resolved_at", json_str(c->resolved_at));
  put(o, "manual_task", json_str(c->manual_task));
  put(o, "note", json_str(c->note));
  return o;
}

int json_conflicts(struct store *st, const char *session_id, bool open_only,
                   json_t **out) {
  struct conflict *v = NULL;
  size_t n = 0;
  json_t *a = must(json_array());
  int rc = store_conflict_list(st, session_id, NULL, NULL, open_only, &v, &n);
  for (size_t i = 0; rc == ENG_OK && i < n; i++)
    append(a, conflict_json(&v[i]));
  store_conflicts_free(v, n);
  return hand_over(rc, a, out);
}

static json_t *backup_json(const struct backup *b) {
  json_t *o = must(json_object());
  put(o, "id", json_integer(b->id));
  put(o, "session", json_str(b->session_id));
  put(o, "kind", json_str(b->kind));
  put(o, "record", json_str(b->record));
  put(o, "field", json_str(b->field));
  put(o, "reason", json_str(b->reason));
  put(o, "created_at", json_str(b->created_at));
  put(o, "size", json_integer((json_int_t)b->len));
  put(o, "text", json_strn(b->text, b->len));
  return o;
}

int json_backups(struct store *st, const char *session_id, json_t **out) {
  struct backup *v = NULL;
  size_t n = 0;
  json_t *a = must(json_array());
  int rc = store_backup_list(st, session_id, &v, &n);
  for (size_t i = 0; rc == ENG_OK && i < n; i++)
    append(a, backup_json(&v[i]));
  store_backups_free(v, n);
  return hand_over(rc, a, out);
}

/* The errors by kind, as an object in the order of the kinds' names. */
static json_t *errors_by_kind(struct strlist *kinds, struct strlist *counts) {
  for (size_t i = 1; i < kinds->n; i++)
    for (size_t k = i; k > 0 && strcmp(kinds->v[k - 1], kinds->v[k]) > 0; k--) {
      char *t = kinds->v[k];
      kinds->v[k] = kinds->v[k - 1];
      kinds->v[k - 1] = t;
      t = counts->v[k];
      counts->v[k] = counts->v[k - 1];
      counts->v[k - 1] = t;
    }
  json_t *o = must(json_object());
  for (size_t i = 0; i < kinds->n; i++) {
    json_t *key = json_str(kinds->v[i]);
    put(o, json_string_value(key),
        json_integer(strtoll(counts->v[i], NULL, 10)));
    json_decref(key);
  }
  return o;
}

static json_t *open_conflicts(const struct conflict *v, size_t n,
                              const struct strlist *files) {
  json_t *a = must(json_array());
  for (size_t i = 0; i < n; i++) {
    json_t *o = must(json_object());
    put(o, "id", json_integer(v[i].id));
    put(o, "session", json_str(v[i].session_id));
    put(o, "file", json_str(files && i < files->n ? files->v[i] : NULL));
    put(o, "file_kind", json_str(v[i].file_kind));
    put(o, "file_record", json_str(v[i].file_record));
    put(o, "type", json_str(v[i].type));
    put(o, "label", json_str(v[i].label));
    put(o, "field", json_str(v[i].field));
    put(o, "status", json_str(v[i].status));
    append(a, o);
  }
  return a;
}

static json_t *last_errors(const struct sync_failure *v, size_t n) {
  json_t *a = must(json_array());
  for (size_t i = 0; i < n; i++) {
    json_t *o = must(json_object());
    put(o, "at", json_str(v[i].at));
    put(o, "type", json_str(v[i].type));
    put(o, "file", json_str(v[i].file));
    put(o, "status", json_str(v[i].status));
    put(o, "kind", json_str(v[i].kind));
    put(o, "error", json_str(v[i].error));
    append(a, o);
  }
  return a;
}

int json_sync_stats(struct store *st, const char *session_id,
                    const struct conflict *open, size_t n,
                    const struct strlist *files, json_t **out) {
  struct sync_stats x;
  struct strlist kinds = {0}, counts = {0};
  struct sync_failure *f = NULL;
  size_t nf = 0;
  int rc = store_sync_stats(st, session_id, &x);
  if (rc == ENG_OK)
    rc = store_sync_error_kinds(st, session_id, &kinds, &counts);
  if (rc == ENG_OK)
    rc = store_sync_failures(st, session_id, LAST_ERRORS, &f, &nf);
  if (rc == ENG_OK) {
    json_t *o = must(json_object());
    put(o, "session", json_str(session_id));
    put(o, "operations", json_integer(x.ops));
    put(o, "ok", json_integer(x.ok));
    put(o, "errors", json_integer(x.errors));
    put(o, "held", json_integer(x.held));
    put(o, "with_conflicts", json_integer(x.with_conflicts));
    put(o, "renders", json_integer(x.renders));
    put(o, "saves", json_integer(x.saves));
    put(o, "success_rate", real(x.success_rate));
    put(o, "conflict_rate", real(x.conflict_rate));
    put(o, "render_p50_ms", real(x.render_p50_ms));
    put(o, "render_p95_ms", real(x.render_p95_ms));
    put(o, "save_p50_ms", real(x.save_p50_ms));
    put(o, "save_p95_ms", real(x.save_p95_ms));
    put(o, "conflicts_total", json_integer(x.conflicts_total));
    put(o, "conflicts_open", json_integer(x.conflicts_open));
    put(o, "conflicts_resolved", json_integer(x.conflicts_resolved_by_user));
    put(o, "resolution_rate", real(x.resolution_rate));
    put(o, "errors_by_kind", errors_by_kind(&kinds, &counts));
    put(o, "open_conflicts", open_conflicts(open, n, files));
    put(o, "last_errors", last_errors(f, nf));
    *out = o;
  }
  strlist_clear(&kinds);
  strlist_clear(&counts);
  store_sync_failures_free(f, nf);
  return rc;
}

/* A value as the history holds it: a number where the field of the
 * record kind is one (as its column keeps it), else text. */
static json_t *history_value(const char *kind, const char *field,
                             const char *text) {
  if (!text)
    return must(json_null());
  int k = record_kind_parse(kind);
  int i = k >= 0 && field ? record_field_index(k, field) : -1;
  char *end;
  switch (i >= 0 ? record_kinds[k].fields[i].type : FT_TEXT) {
  case FT_INT:
  case FT_INT64:
  case FT_BOOL: {
    long long v = strtoll(text, &end, 10);
    if (*text && !*end)
      return must(json_integer(v));
    break;
  }
  case FT_REAL:
  case FT_HOURS: {
    double v = strtod(text, &end);
    if (*text && !*end)
      return real(v);
    break;
  }
  default:
    break;
  }
  return json_str(text);
}

static json_t *change_json(const struct change *c) {
  json_t *o = must(json_object());
  put(o, "revision", json_integer(c->rev));
  put(o, "at", json_str(c->at));
  put(o, "session", json_str(c->session_id));
  put(o, "record_kind", json_str(c->table));
  put(o, "record", json_str(c->record));
  put(o, "op", json_str(c->op));
  put(o, "field", json_str(c->field));
  put(o, "old", history_value(c->table, c->field, c->old_value));
  put(o, "new", history_value(c->table, c->field, c->new_value));
  return o;
}

json_t *json_edit_log(const struct change *v, size_t n) {
  json_t *a = must(json_array());
  for (size_t i = 0; i < n; i++)
    append(a, change_json(&v[i]));
  return a;
}

int json_dbbackups(const char *db_path, json_t **out) {
  struct dbbackup *v = NULL;
  size_t n = 0;
  int rc = store_dbbackup_list(db_path, &v, &n);
  if (rc)
    return rc;
  json_t *a = must(json_array());
  for (size_t i = 0; i < n; i++) {
    char when[24];
    time_t t = (time_t)(v[i].time_ns / 1000000000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
    json_t *o = must(json_object());
    put(o, "path", json_str(v[i].path));
    put(o, "time", json_str(when));
    put(o, "reason", json_str(v[i].reason));
    put(o, "size", json_integer(v[i].size));
    append(a, o);
  }
  store_dbbackups_free(v, n);
  *out = a;
  return ENG_OK;
}
