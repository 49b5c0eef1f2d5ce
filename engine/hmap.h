/* SPDX-License-Identifier: MIT */
/* hmap.h: a string-keyed hash map of pointers.
 * Not thread-safe; the map owns copies of its keys, not the values. */
#ifndef TASKFS_HMAP_H
#define TASKFS_HMAP_H

#include <stddef.h>

struct hmap_entry;
struct hmap {
  struct hmap_entry **slots;
  size_t nslots, count;
};

void hmap_init(struct hmap *m);
/* Frees the table and keys; values are the caller's. */
void hmap_release(struct hmap *m);
void *hmap_get(const struct hmap *m, const char *key);
/* Sets key to value, replacing any previous value. */
void hmap_put(struct hmap *m, const char *key, void *value);
/* Removes key; returns its value or NULL. */
void *hmap_del(struct hmap *m, const char *key);
/* Calls fn for every value; fn must not change the map. */
void hmap_each(const struct hmap *m, void (*fn)(void *ctx, void *value),
               void *ctx);

#endif
