/* SPDX-License-Identifier: MIT */
/* hmap.c: chained hash map with string keys, doubling at load 1. */
#include "hmap.h"
#include "util.h"

#include <stdint.h>
#include <string.h>

struct hmap_entry {
  struct hmap_entry *next;
  uint64_t hash;
  void *value;
  char key[];
};

static uint64_t hash_str(const char *s) {
  uint64_t h = 14695981039346656037ull;
  for (; *s; s++) {
    h ^= (unsigned char)*s;
    h *= 1099511628211ull;
  }
  return h;
}

void hmap_init(struct hmap *m) {
  m->nslots = 64;
  m->count = 0;
  m->slots = xcalloc(m->nslots, sizeof *m->slots);
}

void hmap_release(struct hmap *m) {
  for (size_t i = 0; i < m->nslots; i++) {
    struct hmap_entry *e = m->slots[i];
    while (e) {
      struct hmap_entry *next = e->next;
      free(e);
      e = next;
    }
  }
  free(m->slots);
  m->slots = NULL;
  m->nslots = m->count = 0;
}

static void grow(struct hmap *m) {
  size_t n = m->nslots * 2;
  struct hmap_entry **slots = xcalloc(n, sizeof *slots);
  for (size_t i = 0; i < m->nslots; i++) {
    struct hmap_entry *e = m->slots[i];
    while (e) {
      struct hmap_entry *next = e->next;
      e->next = slots[e->hash & (n - 1)];
      slots[e->hash & (n - 1)] = e;
      e = next;
    }
  }
  free(m->slots);
  m->slots = slots;
  m->nslots = n;
}

void *hmap_get(const struct hmap *m, const char *key) {
  uint64_t h = hash_str(key);
  for (struct hmap_entry *e = m->slots[h & (m->nslots - 1)]; e; e = e->next)
    if (e->hash == h && strcmp(e->key, key) == 0)
      return e->value;
  return NULL;
}

void hmap_put(struct hmap *m, const char *key, void *value) {
  uint64_t h = hash_str(key);
  for (struct hmap_entry *e = m->slots[h & (m->nslots - 1)]; e; e = e->next)
    if (e->hash == h && strcmp(e->key, key) == 0) {
      e->value = value;
      return;
    }
  if (m->count + 1 > m->nslots)
    grow(m);
  size_t len = strlen(key);
  struct hmap_entry *e = xmalloc(sizeof *e + len + 1);
  memcpy(e->key, key, len + 1);
  e->hash = h;
  e->value = value;
  e->next = m->slots[h & (m->nslots - 1)];
  m->slots[h & (m->nslots - 1)] = e;
  m->count++;
}

void *hmap_del(struct hmap *m, const char *key) {
  uint64_t h = hash_str(key);
  struct hmap_entry **p = &m->slots[h & (m->nslots - 1)];
  for (; *p; p = &(*p)->next) {
    struct hmap_entry *e = *p;
    if (e->hash == h && strcmp(e->key, key) == 0) {
      void *v = e->value;
      *p = e->next;
      free(e);
      m->count--;
      return v;
    }
  }
  return NULL;
}

void hmap_each(const struct hmap *m, void (*fn)(void *ctx, void *value),
               void *ctx) {
  for (size_t i = 0; i < m->nslots; i++)
    for (struct hmap_entry *e = m->slots[i]; e; e = e->next)
      fn(ctx, e->value);
}
