/* SPDX-License-Identifier: MIT */
/* asof.c: records as they were at an earlier revision, read back from the
 * current rows and the history after it. Works on any backend: it reads
 * through the store's functions only. */
#include "store.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct asof {
  struct store *st;
  int64_t rev;
  struct change *ch; /* changes after rev, oldest first */
  size_t n;
  /* the changes sorted by table, record and age */
  const struct change **by_record;
};

static int cmp_by_record(const void *x, const void *y) {
  const struct change *a = *(const struct change *const *)x;
  const struct change *b = *(const struct change *const *)y;
  int c = strcmp(a->table, b->table);
  if (!c)
    c = strcmp(a->record, b->record);
  if (!c)
    c = a < b ? -1 : 1; /* one array, oldest first */
  return c;
}

/* The range [*lo, *hi) of a->by_record for one record. */
static void record_range(const struct asof *a, const char *table,
                         const char *record, size_t *lo, size_t *hi) {
  size_t l = 0, h = a->n;
  while (l < h) {
    size_t m = (l + h) / 2;
    const struct change *c = a->by_record[m];
    int d = strcmp(c->table, table);
    if (!d)
      d = strcmp(c->record, record);
    if (d < 0)
      l = m + 1;
    else
      h = m;
  }
  *lo = l;
  for (h = l; h < a->n; h++) {
    const struct change *c = a->by_record[h];
    if (strcmp(c->table, table) || strcmp(c->record, record))
      break;
  }
  *hi = h;
}

bool store_asof_touched(const struct asof *a, const char *table,
                        const char *record) {
  size_t lo, hi;
  record_range(a, table, record, &lo, &hi);
  return hi > lo;
}

int store_asof_open(struct store *st, int64_t rev, struct asof **out) {
  struct asof *a = xcalloc(1, sizeof *a);
  a->st = st;
  a->rev = rev;
  int rc = store_changes_since(st, rev, NULL, 0, &a->ch, &a->n);
  if (rc) {
    free(a);
    *out = NULL;
    return rc;
  }
  a->by_record = xmalloc((a->n + 1) * sizeof *a->by_record);
  for (size_t i = 0; i < a->n; i++)
    a->by_record[i] = &a->ch[i];
  xsort(a->by_record, a->n, sizeof *a->by_record, cmp_by_record);
  *out = a;
  return ENG_OK;
}

void store_asof_close(struct asof *a) {
  if (!a)
    return;
  store_changes_free(a->ch, a->n);
  free(a->by_record);
  free(a);
}

int64_t store_asof_rev(const struct asof *a) { return a->rev; }

/* Sets the field called field of rec, a record of kind, from its text
 * form; names that are no field of the kind (history rows of columns
 * since dropped) are passed over. */
static void set_field(int kind, void *rec, const char *field, const char *v) {
  int i = record_field_index(kind, field);
  if (i >= 0)
    record_field_set(kind, rec, i, v);
}

/* Sets every field a JSON object snapshot of the history names on rec. */
static int apply_snapshot(struct store *st, const char *json, int kind,
                          void *rec) {
  if (!record_fields_from_json(kind, rec, json))
    return store_fail(st, ENG_CORRUPT,
                      "the history holds a snapshot of a %s that is no JSON "
                      "object: %.80s",
                      record_kinds[kind].name, json);
  return ENG_OK;
}

/*
 * Undoes, newest first, the changes after a->rev of one record on rec,
 * which holds the current row when *present. Leaves *present telling
 * whether the record existed at a->rev.
 */
static int revert(struct asof *a, int kind, const char *record, void *rec,
                  bool *present) {
  const char *table = record_kinds[kind].name;
  size_t lo, hi;
  record_range(a, table, record, &lo, &hi);
  for (size_t i = hi; i-- > lo;) {
    const struct change *c = a->by_record[i];
    if (strcmp(c->op, "update") == 0) {
      if (*present && c->field)
        set_field(kind, rec, c->field, c->old_value);
    } else if (strcmp(c->op, "insert") == 0) {
      *present = false;
    } else if (strcmp(c->op, "delete") == 0) {
      int rc = apply_snapshot(a->st, c->old_value, kind, rec);
      if (rc)
        return rc;
      *present = true;
    }
  }
  return ENG_OK;
}

int store_asof_task(struct asof *a, const char *id, struct task *out) {
  int rc = store_task_get(a->st, id, out);
  bool present = rc == ENG_OK;
  if (rc && rc != ENG_NOTFOUND)
    return rc;
  if (!present) {
    task_release(out);
    str_set(&out->id, id);
  }
  if ((rc = revert(a, RK_TASK, id, out, &present)))
    return rc;
  if (!present)
    return store_fail(a->st, ENG_NOTFOUND, "task %s did not exist at %lld", id,
                      (long long)a->rev);
  return ENG_OK;
}

int store_asof_group(struct asof *a, const char *id, struct group *out) {
  int rc = store_group_get(a->st, id, out);
  bool present = rc == ENG_OK;
  if (rc && rc != ENG_NOTFOUND)
    return rc;
  if (!present) {
    group_release(out);
    str_set(&out->id, id);
  }
  if ((rc = revert(a, RK_GROUP, id, out, &present)))
    return rc;
  if (!present)
    return store_fail(a->st, ENG_NOTFOUND, "group %s did not exist at %lld", id,
                      (long long)a->rev);
  return ENG_OK;
}

int store_asof_session(struct asof *a, const char *id, struct session *out) {
  int rc = store_session_get(a->st, id, out);
  bool present = rc == ENG_OK;
  if (rc && rc != ENG_NOTFOUND)
    return rc;
  if (!present) {
    session_release(out);
    str_set(&out->id, id);
  }
  if ((rc = revert(a, RK_SESSION, id, out, &present)))
    return rc;
  if (!present)
    return store_fail(a->st, ENG_NOTFOUND, "session %s did not exist at %lld",
                      id, (long long)a->rev);
  return ENG_OK;
}

static int cmp_task_pos(const void *x, const void *y) {
  const struct task *a = x, *b = y;
  if (a->position != b->position)
    return a->position < b->position ? -1 : 1;
  return strcmp(a->id, b->id);
}

static bool strlist_has(const struct strlist *l, const char *s) {
  for (size_t i = 0; i < l->n; i++)
    if (strcmp(l->v[i], s) == 0)
      return true;
  return false;
}

int store_asof_group_tasks(struct asof *a, const char *group_id,
                           const struct task *rows, size_t nrows,
                           struct task **out, size_t *n) {
  struct task *own = NULL;
  size_t nown = 0;
  int rc = ENG_OK;
  if (!rows) {
    if ((rc = store_task_list_group(a->st, group_id, true, &own, &nown)))
      return rc;
    rows = own;
    nrows = nown;
  }
  const struct task *cur = rows;
  size_t ncur = nrows;
  struct strlist ids = {0};
  for (size_t i = 0; i < ncur; i++)
    strlist_add(&ids, cur[i].id);
  /* Tasks that left the group, or were deleted by SQL, after rev. */
  struct strlist gone = {0};
  for (size_t i = 0; i < a->n; i++) {
    struct change *c = &a->ch[i];
    if (strcmp(c->table, "task") != 0 || strlist_has(&ids, c->record) ||
        strlist_has(&gone, c->record))
      continue;
    bool was_here =
        (str_eq(c->field, "group_id") && str_eq(c->old_value, group_id)) ||
        (str_eq(c->op, "delete") && c->old_value &&
         strstr(c->old_value, group_id));
    if (was_here)
      strlist_add(&gone, c->record);
  }
  strlist_clear(&ids);
  struct task *v = xcalloc(ncur + gone.n + 1, sizeof *v);
  size_t len = 0;
  /* Rows of the group now: only those changed since are read back. */
  for (size_t i = 0; i < ncur && rc == ENG_OK; i++) {
    task_init(&v[len]);
    bool present = true;
    task_copy(&v[len], &cur[i]);
    rc = revert(a, RK_TASK, cur[i].id, &v[len], &present);
    if (rc == ENG_OK && present && str_eq(v[len].group_id, group_id))
      len++;
    else
      task_release(&v[len]);
  }
  for (size_t i = 0; i < gone.n && rc == ENG_OK; i++) {
    task_init(&v[len]);
    rc = store_asof_task(a, gone.v[i], &v[len]);
    if (rc == ENG_NOTFOUND) {
      rc = ENG_OK;
      task_release(&v[len]);
    } else if (rc == ENG_OK && str_eq(v[len].group_id, group_id)) {
      len++;
    } else {
      task_release(&v[len]);
    }
  }
  store_tasks_free(own, nown);
  strlist_clear(&gone);
  if (rc) {
    store_tasks_free(v, len);
    return rc;
  }
  xsort(v, len, sizeof *v, cmp_task_pos);
  *out = v;
  *n = len;
  return ENG_OK;
}

static int cmp_section_pos(const void *x, const void *y) {
  const struct section *a = x, *b = y;
  if (a->position != b->position)
    return a->position < b->position ? -1 : 1;
  return a->id < b->id ? -1 : a->id > b->id;
}

int store_asof_sections(struct asof *a, int owner_kind, const char *owner_id,
                        struct section **out, size_t *n) {
  struct section *cur = NULL;
  size_t ncur = 0;
  int rc = store_section_list(a->st, owner_kind, owner_id, true, &cur, &ncur);
  if (rc)
    return rc;
  struct section *v = xcalloc(ncur + 1, sizeof *v);
  size_t len = 0;
  for (size_t i = 0; i < ncur; i++) {
    char rec[32];
    snprintf(rec, sizeof rec, "%lld", (long long)cur[i].id);
    bool present = true;
    section_init(&v[len]);
    section_copy(&v[len], &cur[i]);
    rc = revert(a, RK_SECTION, rec, &v[len], &present);
    if (rc) {
      store_sections_free(v, len + 1);
      store_sections_free(cur, ncur);
      return rc;
    }
    if (present && !v[len].deleted)
      len++;
    else
      section_release(&v[len]);
  }
  store_sections_free(cur, ncur);
  xsort(v, len, sizeof *v, cmp_section_pos);
  *out = v;
  *n = len;
  return ENG_OK;
}
