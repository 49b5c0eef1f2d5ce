/* SPDX-License-Identifier: MIT */
/* blocks.c: rendered pieces of files in a hash table with a least
 * recently used list and a byte budget. Knows nothing of the store, of
 * markdown or of what its keys mean. */
#include "blocks.h"
#include "util.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>

struct entry {
  struct entry *chain;         /* the next entry of its slot */
  struct entry *newer, *older; /* the LRU list */
  uint64_t hash;
  size_t klen, len;
  char bytes[]; /* key, then text */
};

struct blocks {
  pthread_mutex_t lock;
  /* protected by lock: */
  struct entry **slots;
  size_t nslots, count, bytes, budget;
  struct entry *newest, *oldest;
  size_t hits, misses;
};

/* What an entry counts against the budget: its bytes and its header. */
static size_t weight(const struct entry *e) {
  return sizeof *e + e->klen + e->len;
}

static uint64_t hash_bytes(const char *p, size_t n) {
  uint64_t h = 14695981039346656037ull;
  for (size_t i = 0; i < n; i++) {
    h ^= (unsigned char)p[i];
    h *= 1099511628211ull;
  }
  return h;
}

struct blocks *blocks_new(size_t budget) {
  struct blocks *b = xcalloc(1, sizeof *b);
  pthread_mutex_init(&b->lock, NULL);
  b->nslots = 256;
  b->slots = xcalloc(b->nslots, sizeof *b->slots);
  b->budget = budget;
  return b;
}

static void drop_all(struct blocks *b) {
  struct entry *e = b->newest;
  while (e) {
    struct entry *next = e->older;
    free(e);
    e = next;
  }
  memset(b->slots, 0, b->nslots * sizeof *b->slots);
  b->newest = b->oldest = NULL;
  b->count = b->bytes = 0;
}

void blocks_free(struct blocks *b) {
  if (!b)
    return;
  drop_all(b);
  free(b->slots);
  pthread_mutex_destroy(&b->lock);
  free(b);
}

void blocks_clear(struct blocks *b) {
  pthread_mutex_lock(&b->lock);
  drop_all(b);
  pthread_mutex_unlock(&b->lock);
}

/* ---- the LRU list ---- */

static void unlink_lru(struct blocks *b, struct entry *e) {
  if (e->newer)
    e->newer->older = e->older;
  else
    b->newest = e->older;
  if (e->older)
    e->older->newer = e->newer;
  else
    b->oldest = e->newer;
  e->newer = e->older = NULL;
}

static void push_newest(struct blocks *b, struct entry *e) {
  e->newer = NULL;
  e->older = b->newest;
  if (b->newest)
    b->newest->newer = e;
  else
    b->oldest = e;
  b->newest = e;
}

/* ---- the table ---- */

/* The link that points at the entry of key, or at the NULL ending its
 * slot's chain. */
static struct entry **find(struct blocks *b, const char *key, size_t klen,
                           uint64_t h) {
  struct entry **p = &b->slots[h & (b->nslots - 1)];
  for (; *p; p = &(*p)->chain)
    if ((*p)->hash == h && (*p)->klen == klen &&
        memcmp((*p)->bytes, key, klen) == 0)
      break;
  return p;
}

static void remove_entry(struct blocks *b, struct entry *e) {
  struct entry **p = find(b, e->bytes, e->klen, e->hash);
  *p = e->chain;
  unlink_lru(b, e);
  b->count--;
  b->bytes -= weight(e);
  free(e);
}

/* Doubles the slots at load 1, so a lookup stays a short chain however
 * many entries the budget holds. */
static void grow(struct blocks *b) {
  size_t n = b->nslots * 2;
  struct entry **slots = xcalloc(n, sizeof *slots);
  for (size_t i = 0; i < b->nslots; i++) {
    struct entry *e = b->slots[i];
    while (e) {
      struct entry *next = e->chain;
      e->chain = slots[e->hash & (n - 1)];
      slots[e->hash & (n - 1)] = e;
      e = next;
    }
  }
  free(b->slots);
  b->slots = slots;
  b->nslots = n;
}

bool blocks_get(struct blocks *b, const char *key, size_t klen,
                struct buf *out) {
  uint64_t h = hash_bytes(key, klen);
  pthread_mutex_lock(&b->lock);
  struct entry *e = *find(b, key, klen, h);
  if (e) {
    b->hits++;
    unlink_lru(b, e);
    push_newest(b, e);
    buf_add(out, e->bytes + e->klen, e->len);
  } else {
    b->misses++;
  }
  pthread_mutex_unlock(&b->lock);
  return e != NULL;
}

void blocks_put(struct blocks *b, const char *key, size_t klen,
                const char *text, size_t len) {
  struct entry *e = xmalloc(sizeof *e + klen + len);
  e->hash = hash_bytes(key, klen);
  e->klen = klen;
  e->len = len;
  memcpy(e->bytes, key, klen);
  memcpy(e->bytes + klen, text, len);
  pthread_mutex_lock(&b->lock);
  struct entry *old = *find(b, key, klen, e->hash);
  if (old)
    remove_entry(b, old);
  if (weight(e) > b->budget / 4) {
    pthread_mutex_unlock(&b->lock);
    free(e);
    return;
  }
  if (b->count + 1 > b->nslots)
    grow(b);
  struct entry **slot = &b->slots[e->hash & (b->nslots - 1)];
  e->chain = *slot;
  *slot = e;
  push_newest(b, e);
  b->count++;
  b->bytes += weight(e);
  while (b->bytes > b->budget && b->oldest)
    remove_entry(b, b->oldest);
  pthread_mutex_unlock(&b->lock);
}

void blocks_stats(struct blocks *b, struct blocks_stats *out) {
  pthread_mutex_lock(&b->lock);
  *out = (struct blocks_stats){.hits = b->hits,
                               .misses = b->misses,
                               .count = b->count,
                               .bytes = b->bytes};
  pthread_mutex_unlock(&b->lock);
}
