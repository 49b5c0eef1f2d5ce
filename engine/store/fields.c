/* SPDX-License-Identifier: MIT */
/* fields.c: single fields of records in their text form, read and written
 * through the store's record functions, on any backend. */
#include "store.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- single fields ---- */

/* The versioned field called field of kind; "text" stands for a
 * section's heading and body together. *i is -1 for "text". */
static int versioned(struct store *st, const char *kind, const char *field,
                     int *k, int *i) {
  *k = record_kind_parse(kind);
  *i = *k < 0 ? -1 : record_field_index(*k, field);
  if (*k == RK_SECTION && str_eq(field, "text"))
    return ENG_OK;
  if (*i < 0 || *i >= record_kinds[*k].nversioned)
    return store_fail(st, ENG_INVALID, "'%s' is not a field of a %s", field,
                      kind);
  return ENG_OK;
}

/* The record of kind k with id into a new *rec (release and free it). */
static int load(struct store *st, int k, const char *id, void **rec) {
  *rec = xmalloc(record_kinds[k].size);
  record_init(k, *rec);
  return store_get(st, k, id, *rec);
}

static void unload(int k, void *rec) {
  record_release(k, rec);
  free(rec);
}

int store_field_get(struct store *st, const char *kind, const char *id,
                    const char *field, char **out) {
  int k, i, rc;
  void *rec;
  *out = NULL;
  if ((rc = versioned(st, kind, field, &k, &i)))
    return rc;
  if ((rc = load(st, k, id, &rec)) == ENG_OK) {
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
  int k, i, rc;
  void *rec;
  if ((rc = versioned(st, kind, field, &k, &i)))
    return rc;
  if ((rc = load(st, k, id, &rec)) == ENG_OK) {
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
