/* SPDX-License-Identifier: MIT */
/* blocks.h: a bounded cache of rendered pieces of files (a group file's
 * task blocks and overview rows, a task file's task), keyed by the
 * caller. Knows nothing of the store or of what a key means: load.c
 * makes the keys from what each piece shows.
 *
 * Thread-safe: one mutex guards the table, so the daemon's threads may
 * share one cache. A text is copied in and out under it, so nothing
 * handed out can be dropped under its reader.
 */
#ifndef TASKFS_BLOCKS_H
#define TASKFS_BLOCKS_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

struct blocks;

/* Counters since the cache was made (blocks_clear keeps them). */
struct blocks_stats {
  size_t hits, misses; /* blocks_get calls that found the key, or not */
  size_t count, bytes; /* entries held and the bytes they take */
};

/* A new empty cache that holds at most budget bytes of keys and texts
 * (entries bigger than a quarter of it are not kept). Free it with
 * blocks_free. */
struct blocks *blocks_new(size_t budget);
void blocks_free(struct blocks *b);
/* Drops every entry (the store they came from was replaced). */
void blocks_clear(struct blocks *b);

/* Appends the text kept under key (klen bytes, any bytes) to out and
 * returns true; returns false and appends nothing when it is not held.
 * A hit makes the entry the last to be dropped. */
bool blocks_get(struct blocks *b, const char *key, size_t klen,
                struct buf *out);
/* Keeps a copy of text under key, replacing what was there, and drops
 * the least recently used entries while over the budget. */
void blocks_put(struct blocks *b, const char *key, size_t klen,
                const char *text, size_t len);

void blocks_stats(struct blocks *b, struct blocks_stats *out);

#endif
