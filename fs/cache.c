/* SPDX-License-Identifier: MIT */
/* cache.c: renderings of generated files: made when what a file shows
 * changed, shared by its readers, kept within the render cache's budget. */
#include "cache.h"
#include "nodes.h"
#include "util.h"
#include "watch.h"

#include <errno.h>

struct content *content_new(void) {
  struct content *c = xcalloc(1, sizeof *c);
  c->refs = 1;
  buf_init(&c->data);
  return c;
}

struct content *content_ref(struct content *c) {
  if (c)
    __atomic_add_fetch(&c->refs, 1, __ATOMIC_RELAXED);
  return c;
}

void content_unref(struct content *c) {
  if (c && __atomic_sub_fetch(&c->refs, 1, __ATOMIC_ACQ_REL) == 0) {
    buf_release(&c->data);
    free(c);
  }
}

int cache_version(struct fs *fs, struct node *n, int64_t *out) {
  int64_t rev = 0;
  int rc = view_revision(fs_store(fs), &n->v, &rev);
  if (rc)
    return rc == ENG_NOTFOUND ? -ENOENT : -fs_error(fs, rc, "revision");
  struct buf rec = BUF_INIT;
  const char *dkind = view_draft_key(&n->v, &rec);
  if (dkind) {
    struct draft d = {0};
    rc = store_draft_get(fs_store(fs), dkind, rec.ptr, &d);
    if (rc == ENG_OK) {
      int64_t ns = 0;
      time_parse(d.created_at, &ns);
      rev = -ns;
    }
    store_draft_release(&d);
  }
  buf_release(&rec);
  if (rc && rc != ENG_NOTFOUND)
    return -fs_error(fs, rc, "draft");
  *out = rev;
  return 0;
}

static bool has_readers(const struct node *n) {
  for (const struct handle *h = n->handles; h; h = h->next)
    if (h->snap || h->held)
      return true;
  return false;
}

bool cache_held_readers(const struct node *n) {
  for (const struct handle *h = n->handles; h; h = h->next)
    if (h->held && !h->snap)
      return true;
  return false;
}

void cache_freeze(struct fs *fs, struct node *n) {
  node_detach(fs, n);
  n->frozen = true;
  /* The name's next inode keeps what the path served last: a text saved
   * there without front matter is based on it, also when the reader's
   * release had not come yet. */
  struct node *next = node_virt(fs, &n->v);
  if (!node_served(next) && node_served(n))
    next->served = content_ref(n->served);
  watch_node_frozen(fs, n);
}

struct content *node_served(struct node *n) {
  if (!n->served && n->served_version) {
    n->served = content_new();
    n->served->version = n->served_version;
    n->served->mtime_ns = n->served_mtime_ns;
    n->served_version = n->served_mtime_ns = 0;
  }
  return n->served;
}

/* ---- the budget: nodes with a rendering, most recently used first ---- */

static void lru_push(struct fs *fs, struct node *n) {
  n->lru_prev = NULL;
  n->lru_next = fs->lru_head;
  if (fs->lru_head)
    fs->lru_head->lru_prev = n;
  else
    fs->lru_tail = n;
  fs->lru_head = n;
}

void cache_drop(struct fs *fs, struct node *n) {
  if (!n->cache)
    return;
  if (n->lru_prev)
    n->lru_prev->lru_next = n->lru_next;
  else
    fs->lru_head = n->lru_next;
  if (n->lru_next)
    n->lru_next->lru_prev = n->lru_prev;
  else
    fs->lru_tail = n->lru_prev;
  n->lru_prev = n->lru_next = NULL;
  fs->cached -= n->cache->data.len;
  content_unref(n->cache);
  n->cache = NULL;
}

/* n's cached rendering was used: it is the last to be dropped. */
static void cache_touch(struct fs *fs, struct node *n) {
  if (!n->cache || fs->lru_head == n)
    return;
  struct content *c = content_ref(n->cache);
  cache_drop(fs, n);
  n->cache = c;
  fs->cached += c->data.len;
  lru_push(fs, n);
}

/* A rendering no handle or tomb holds: only its node keeps it (as its
 * cache, and maybe as what it served). */
static bool cache_idle(const struct node *n) {
  unsigned held = 1 + (n->served == n->cache);
  return n->opens == 0 &&
         __atomic_load_n(&n->cache->refs, __ATOMIC_ACQUIRE) == held;
}

/* A dropped rendering that was also what its file served stays known by
 * its version (the base of a save without a revision line), without its
 * bytes. */
void cache_trim(struct fs *fs) {
  size_t budget = (size_t)fs->opt.render_cache_mb << 20;
  struct node *n = fs->lru_tail;
  while (n && fs->cached > budget) {
    struct node *prev = n->lru_prev;
    if (cache_idle(n)) {
      if (n->served == n->cache) {
        n->served_version = n->served->version;
        n->served_mtime_ns = n->served->mtime_ns;
        content_unref(n->served);
        n->served = NULL;
      }
      fs->freed += n->cache->data.len;
      cache_drop(fs, n);
    }
    n = prev;
  }
}

/* Makes c (a new reference) n's cached rendering. */
static void cache_set(struct fs *fs, struct node *n, struct content *c) {
  cache_drop(fs, n);
  n->cache = c;
  n->last_version = c->version;
  n->last_size = (off_t)c->data.len;
  n->last_mtime_ns = c->mtime_ns;
  fs->cached += c->data.len;
  lru_push(fs, n);
}

/* ---- renderings ---- */

/* Renders n afresh into a new content (with one reference). version is
 * what cache_version gave; *snap (when snap is not NULL): it was read in
 * the read transaction still open, in which the render takes the
 * revision from it instead of reading it again, and which it ends (the
 * sync log may be written next). */
static int render(struct fs *fs, struct node *n, int64_t version, bool *snap,
                  struct content **out) {
  struct content *c = content_new();
  struct render_info info = {0};
  /* The health figures include the renders waiting for the sync log. */
  if (n->v.kind == VK_SYNC_STATUS)
    mount_syncops_flush(fs->mount);
  int64_t t0 = time_now_ns();
  bool known = snap && *snap && version > 0;
  int rc = view_read_cached(fs_store(fs), mount_blocks(fs->mount), &n->v,
                            known ? version : 0, &c->data, &info);
  if (snap && *snap) {
    store_read_end(fs_store(fs));
    *snap = false;
  }
  if (n->v.kind != VK_SYNC_STATUS && rc != ENG_NOTFOUND)
    mount_syncop_queue(fs->mount, "render", &n->v, t0, rc, NULL);
  if (rc) {
    content_unref(c);
    return rc == ENG_NOTFOUND ? -ENOENT : -fs_error(fs, rc, "render");
  }
  /* Kept for long: without the slack of its growth (up to half). */
  if (c->data.cap > c->data.len + 1) {
    c->data.ptr = xrealloc(c->data.ptr, c->data.len + 1);
    c->data.cap = c->data.len + 1;
  }
  c->version = version;
  c->mtime_ns = info.mtime_ns ? info.mtime_ns : fs->mount_ns;
  *out = c;
  return 0;
}

/* cache_content's work once the rendering it holds is not known to be
 * current; *snap: inside a read transaction of the store (render ends
 * it). */
static int content_of(struct fs *fs, struct node *n, uint64_t gen, bool *snap,
                      struct content **out) {
  int64_t version = 0;
  int rc = cache_version(fs, n, &version);
  if (rc && (rc == -ENOENT || !n->cache))
    return rc;
  if (rc || (n->cache && n->cache->version == version && version > 0)) {
    /* The same rendering; or the store cannot be read now (a server out
     * of reach), and what the mount holds is served, as the kernel serves
     * the pages it holds, until the store answers again. */
    if (!rc)
      n->cache_gen = gen;
    cache_touch(fs, n);
    *out = n->cache;
    return 0;
  }
  if (!n->frozen && has_readers(n)) {
    cache_freeze(fs, n);
    if (cache_held_readers(n))
      return -ESTALE;
    if (n->cache) {
      *out = n->cache;
      return 0;
    }
  }
  struct content *c = NULL;
  if ((rc = render(fs, n, version, snap, &c)))
    return rc;
  cache_set(fs, n, c);
  n->cache_gen = mount_gen(fs->mount);
  *out = c;
  return 0;
}

int cache_content(struct fs *fs, struct node *n, struct content **out) {
  if (n->frozen && cache_held_readers(n))
    return -ESTALE;
  uint64_t gen = mount_gen(fs->mount);
  if (n->cache && (n->frozen || n->cache_gen == gen)) {
    cache_touch(fs, n);
    *out = n->cache;
    return 0;
  }
  /* A file the store makes from its records and that holds no rendering
   * renders now: its version and its rendering are read in one read
   * transaction, so its revision is read once. One that holds a
   * rendering usually only checks its version (no transaction added). */
  struct store *st = fs_store(fs);
  bool snap = !n->cache && view_is_editable(n->v.kind) &&
              store_read_begin(st) == ENG_OK;
  int rc = content_of(fs, n, gen, &snap, out);
  if (snap)
    store_read_end(st);
  return rc;
}

int cache_stat(struct fs *fs, struct node *n, off_t *size, int64_t *mtime_ns) {
  if (!n->cache && n->last_version > 0) {
    int64_t version = n->last_version;
    if (n->cache_gen != mount_gen(fs->mount)) {
      int rc = cache_version(fs, n, &version);
      if (rc == -ENOENT)
        return rc;
      if (rc)
        version = n->last_version; /* unread: what the mount holds */
    }
    if (version == n->last_version) {
      n->cache_gen = mount_gen(fs->mount);
      *size = n->last_size;
      *mtime_ns = n->last_mtime_ns;
      return 0;
    }
  }
  struct content *c;
  int rc = cache_content(fs, n, &c);
  if (rc == -ESTALE) {
    /* Frozen for readers of the kernel's pages: the size and time of
     * what they opened. */
    *size = n->cache ? (off_t)n->cache->data.len : n->last_size;
    *mtime_ns = n->cache ? n->cache->mtime_ns : n->last_mtime_ns;
    return 0;
  }
  if (rc)
    return rc;
  *size = (off_t)c->data.len;
  *mtime_ns = c->mtime_ns;
  return 0;
}

int cache_snapshot(struct fs *fs, struct node *n, struct content **out) {
  struct content *c;
  int rc = cache_content(fs, n, &c);
  if (rc == 0) {
    *out = content_ref(c);
    return 0;
  }
  if (rc != -ESTALE)
    return rc;
  if (n->cache) {
    *out = content_ref(n->cache);
    return 0;
  }
  /* Its text was not kept: the reader reads what the kernel still holds,
   * and the text of now for any page the kernel let go. */
  int64_t version = 0;
  if ((rc = cache_version(fs, n, &version)))
    return rc;
  return render(fs, n, version, NULL, out);
}
