/* SPDX-License-Identifier: MIT */
/* fields.c: single fields of records in their text form, read and written
 * through the store's record functions, on any backend. */
#include "store.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * The record of the versioned field called field of kind with id into a
 * new *rec (free it with unload, also on failure): *k its kind, *i the
 * field's index, -1 for "text", which stands for a section's heading and
 * body together.
 */
static int load(struct store *st, const char *kind, const char *id,
                const char *field, int *k, int *i, void **rec) {
  *rec = NULL;
  *k = record_kind_parse(kind);
  *i = *k < 0 ? -1 : record_field_index(*k, field);
  if (!(*k == RK_SECTION && str_eq(field, "text")) &&
      (*i < 0 || *i >= record_kinds[*k].nversioned))
    return store_fail(st, ENG_INVALID, "'%s' is not a field of a %s", field,
                      kind);
  *rec = xmalloc(record_kinds[*k].size);
  record_init(*k, *rec);
  return store_get(st, *k, id, *rec);
}

static void unload(int k, void *rec) {
  if (!rec)
    return;
  record_release(k, rec);
  free(rec);
}

int store_field_get(struct store *st, const char *kind, const char *id,
                    const char *field, char **out) {
  int k, i;
  void *rec;
  *out = NULL;
  int rc = load(st, kind, id, field, &k, &i, &rec);
  if (rc == ENG_OK) {
    if (i < 0) {
      const struct section *x = rec;
      *out = xasprintf("%s\n%s", x->heading, x->body);
    } else {
      *out = record_field_text(k, rec, i);
    }
  }
  unload(k, rec);
  return rc;
}

int store_field_set(struct store *st, const char *kind, const char *id,
                    const char *field, const char *value) {
  int k, i;
  void *rec;
  int rc = load(st, kind, id, field, &k, &i, &rec);
  if (rc == ENG_OK) {
    if (i < 0) {
      /* A section's text: its heading line, then its body. */
      struct section *x = rec;
      const char *v = value ? value : "";
      const char *nl = strchr(v, '\n');
      free(x->heading);
      free(x->body);
      x->heading = nl ? xstrndup(v, (size_t)(nl - v)) : xstrdup(v);
      x->body = xstrdup(nl ? nl + 1 : "");
    } else if (!record_field_set(k, rec, i, value)) {
      rc = store_fail(st, ENG_INVALID, "'%s' is not a value of the %s's %s",
                      value ? value : "null", kind, field);
    }
    if (rc == ENG_OK)
      rc = store_update(st, k, rec);
  }
  unload(k, rec);
  return rc;
}
