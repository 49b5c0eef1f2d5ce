/* SPDX-License-Identifier: MIT */
/* merge.c: diff3-style merge of lines. Each side is matched against the
 * base by a longest common subsequence; the base lines both sides kept
 * are the stable points, and between two stable points at most one side
 * may have changed (or both, the same way). */
#include "merge.h"
#include "util.h"

#include <stdint.h>
#include <string.h>

struct lines {
  const char **p; /* line starts */
  size_t *len;    /* line lengths, newline included */
  size_t n;
};

static void split(const char *s, struct lines *l) {
  size_t cap = 0;
  l->p = NULL;
  l->len = NULL;
  l->n = 0;
  size_t lcap = 0;
  while (*s) {
    const char *nl = strchr(s, '\n');
    size_t n = nl ? (size_t)(nl - s) + 1 : strlen(s);
    XGROW(l->p, cap, l->n + 1);
    XGROW(l->len, lcap, l->n + 1);
    l->p[l->n] = s;
    l->len[l->n] = n;
    l->n++;
    s += n;
  }
}

static bool same(const struct lines *a, size_t i, const struct lines *b,
                 size_t j) {
  return a->len[i] == b->len[j] && memcmp(a->p[i], b->p[j], a->len[i]) == 0;
}

/* For each base line, the line of other it is matched to, or SIZE_MAX,
 * by a longest common subsequence (quadratic: fine for notes and
 * descriptions; large texts fall back to no match beyond a bound). */
static size_t *match(const struct lines *base, const struct lines *other) {
  size_t n = base->n, m = other->n;
  size_t *map = xmalloc((n + 1) * sizeof *map);
  for (size_t i = 0; i < n; i++)
    map[i] = SIZE_MAX;
  if ((uint64_t)(n + 1) * (m + 1) > 16u << 20) {
    /* Too big to compare line by line: match the common head and tail. */
    size_t h = 0;
    while (h < n && h < m && same(base, h, other, h)) {
      map[h] = h;
      h++;
    }
    size_t t = 0;
    while (t < n - h && t < m - h && same(base, n - 1 - t, other, m - 1 - t)) {
      map[n - 1 - t] = m - 1 - t;
      t++;
    }
    return map;
  }
  uint32_t *tab = xcalloc((n + 1) * (m + 1), sizeof *tab);
#define T(i, j) tab[(size_t)(i) * (m + 1) + (j)]
  for (size_t i = n; i-- > 0;)
    for (size_t j = m; j-- > 0;)
      T(i, j) = same(base, i, other, j)     ? T(i + 1, j + 1) + 1
                : T(i + 1, j) > T(i, j + 1) ? T(i + 1, j)
                                            : T(i, j + 1);
  size_t i = 0, j = 0;
  while (i < n && j < m) {
    if (same(base, i, other, j)) {
      map[i++] = j++;
    } else if (T(i + 1, j) >= T(i, j + 1)) {
      i++;
    } else {
      j++;
    }
  }
#undef T
  free(tab);
  return map;
}

static void add_range(struct buf *out, const struct lines *l, size_t from,
                      size_t to) {
  for (size_t k = from; k < to; k++)
    buf_add(out, l->p[k], l->len[k]);
}

static bool range_eq(const struct lines *a, size_t af, size_t at,
                     const struct lines *b, size_t bf, size_t bt) {
  if (at - af != bt - bf)
    return false;
  for (size_t k = 0; k < at - af; k++)
    if (!same(a, af + k, b, bf + k))
      return false;
  return true;
}

bool merge_lines(const char *base, const char *ours, const char *theirs,
                 struct buf *out) {
  struct lines b, o, t;
  split(base ? base : "", &b);
  split(ours ? ours : "", &o);
  split(theirs ? theirs : "", &t);
  size_t *mo = match(&b, &o), *mt = match(&b, &t);
  struct buf res = BUF_INIT;
  bool clean = true;
  /* Walk stable points: base lines matched on both sides, in order. */
  size_t bi = 0, oi = 0, ti = 0;
  for (size_t k = 0; k <= b.n && clean; k++) {
    bool stable = k == b.n || (mo[k] != SIZE_MAX && mt[k] != SIZE_MAX &&
                               mo[k] >= oi && mt[k] >= ti);
    if (!stable)
      continue;
    size_t oe = k == b.n ? o.n : mo[k], te = k == b.n ? t.n : mt[k];
    /* The chunk between the previous stable point and this one. */
    bool o_changed = !range_eq(&b, bi, k, &o, oi, oe);
    bool t_changed = !range_eq(&b, bi, k, &t, ti, te);
    if (o_changed && t_changed && !range_eq(&o, oi, oe, &t, ti, te))
      clean = false;
    else if (o_changed)
      add_range(&res, &o, oi, oe);
    else
      add_range(&res, &t, ti, te);
    if (k < b.n) {
      add_range(&res, &b, k, k + 1);
      bi = k + 1;
      oi = oe + 1;
      ti = te + 1;
    }
  }
  if (clean)
    buf_add(out, res.ptr, res.len);
  buf_release(&res);
  free(mo);
  free(mt);
  free(b.p);
  free(b.len);
  free(o.p);
  free(o.len);
  free(t.p);
  free(t.len);
  return clean;
}
