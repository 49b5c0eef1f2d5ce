/* SPDX-License-Identifier: MIT */
/* mcp_files.c: the files of the tree as MCP resources: their URIs, their
 * bytes (what the mount shows, from view_read) and what tells a change.
 * The MCP server's only caller of the engine's view and store. */
#include "mcp.h"
#include "util.h"
#include "view.h"

#include <stdlib.h>
#include <string.h>

/* ---- URIs ---- */

/* RFC 3986 unreserved characters, and the sub-delimiters and ":" "@"
 * that a path segment may hold as they are. */
static bool segment_char(unsigned char ch) {
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
         (ch >= '0' && ch <= '9') || strchr("-._~!$&'()*+,;=:@", ch) != NULL;
}

static void add_segment(struct buf *out, const char *s) {
  static const char hex[] = "0123456789ABCDEF";
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (segment_char(*p) && *p) {
      buf_addc(out, (char)*p);
    } else {
      buf_addc(out, '%');
      buf_addc(out, hex[*p >> 4]);
      buf_addc(out, hex[*p & 15]);
    }
  }
}

static int hexval(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

char *mcp_files_path(const char *uri) {
  if (!uri || strncmp(uri, MCP_URI_PREFIX, strlen(MCP_URI_PREFIX)) != 0)
    return NULL;
  struct buf out = BUF_INIT;
  for (const char *p = uri + strlen(MCP_URI_PREFIX); *p; p++) {
    if (*p == '?' || *p == '#')
      goto bad; /* a query or fragment names no file */
    if (*p != '%') {
      buf_addc(&out, *p);
      continue;
    }
    int hi = hexval(p[1]), lo = hi < 0 ? -1 : hexval(p[2]);
    /* A "/" or NUL inside a segment is no name of the tree. */
    if (lo < 0 || (hi == 0 && lo == 0) || (hi == 2 && lo == 15))
      goto bad;
    buf_addc(&out, (char)(hi << 4 | lo));
    p += 2;
  }
  return buf_detach(&out, NULL);
bad:
  buf_release(&out);
  return NULL;
}

/* The file at the decoded path, walked from the root as the mount looks
 * names up. ENG_NOTFOUND for anything but a file of the tree. */
static int lookup(struct store *st, const char *path, struct vnode *out) {
  struct vnode dir;
  vnode_init(&dir);
  dir.kind = VK_ROOT;
  char *copy = xstrdup(path), *save = NULL;
  int rc = ENG_NOTFOUND;
  for (char *name = strtok_r(copy, "/", &save); name;
       name = strtok_r(NULL, "/", &save)) {
    if (!view_is_dir(dir.kind)) {
      rc = ENG_NOTFOUND;
      break;
    }
    struct vnode child;
    vnode_init(&child);
    rc = view_lookup(st, &dir, name, &child);
    vnode_release(&dir);
    dir = child;
    if (rc)
      break;
  }
  if (rc == ENG_OK && view_is_dir(dir.kind))
    rc = ENG_NOTFOUND;
  /* Empty segments ("a//b") and a trailing "/" name no file either. */
  if (rc == ENG_OK && (strstr(path, "//") || !*path ||
                       path[strlen(path) - 1] == '/' || path[0] == '/'))
    rc = ENG_NOTFOUND;
  if (rc == ENG_OK)
    *out = dir;
  else
    vnode_release(&dir);
  free(copy);
  return rc;
}

/* ---- listing ---- */

struct entry {
  char *name;
  struct vnode v;
};

struct entries {
  struct entry *v;
  size_t n, cap;
};

static int collect(void *ctx, const char *name, const struct vnode *child) {
  struct entries *e = ctx;
  XGROW(e->v, e->cap, e->n + 1);
  e->v[e->n].name = xstrdup(name);
  vnode_init(&e->v[e->n].v);
  vnode_copy(&e->v[e->n].v, child);
  e->n++;
  return 0;
}

/* Adds the URIs of the files under dir, whose URI so far is prefix. The
 * entries of a directory are gathered before its subdirectories are
 * walked, so that no listing of the store is open during another. */
static int walk(struct store *st, const struct vnode *dir, struct buf *prefix,
                struct strlist *uris) {
  struct entries e = {0};
  int rc = view_list(st, dir, collect, &e);
  size_t len = prefix->len;
  for (size_t i = 0; rc == ENG_OK && i < e.n; i++) {
    buf_truncate(prefix, len);
    add_segment(prefix, e.v[i].name);
    if (view_is_dir(e.v[i].v.kind)) {
      buf_addc(prefix, '/');
      rc = walk(st, &e.v[i].v, prefix, uris);
    } else {
      strlist_add(uris, prefix->ptr);
    }
  }
  buf_truncate(prefix, len);
  for (size_t i = 0; i < e.n; i++) {
    free(e.v[i].name);
    vnode_release(&e.v[i].v);
  }
  free(e.v);
  return rc;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int mcp_files_list(struct store *st, struct strlist *uris) {
  struct vnode root;
  struct buf prefix = BUF_INIT;
  vnode_init(&root);
  root.kind = VK_ROOT;
  buf_adds(&prefix, MCP_URI_PREFIX);
  int rc = store_read_begin(st);
  if (rc == ENG_OK) {
    rc = walk(st, &root, &prefix, uris);
    store_read_end(st);
  }
  if (rc == ENG_OK)
    xsort(uris->v, uris->n, sizeof *uris->v, cmp_str);
  else
    strlist_clear(uris);
  buf_release(&prefix);
  vnode_release(&root);
  return rc;
}

/* ---- reading ---- */

int mcp_files_read(struct store *st, const char *uri, struct buf *out) {
  char *path = mcp_files_path(uri);
  if (!path)
    return ENG_NOTFOUND;
  struct vnode f;
  int rc = store_read_begin(st);
  if (rc == ENG_OK) {
    if ((rc = lookup(st, path, &f)) == ENG_OK) {
      struct render_info info = {0};
      rc = view_read(st, &f, out, &info);
      vnode_release(&f);
    }
    store_read_end(st);
  }
  free(path);
  return rc;
}

/* FNV-1a: enough to tell one text from the next. */
static uint64_t hash_bytes(const char *p, size_t n) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; i++)
    h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
  return h;
}

int mcp_files_state(struct store *st, const char *uri,
                    struct mcp_file_state *out) {
  memset(out, 0, sizeof *out);
  char *path = mcp_files_path(uri);
  if (!path)
    return ENG_OK; /* never a file: never changes */
  struct vnode f;
  int rc = store_read_begin(st);
  if (rc)
    goto out;
  rc = lookup(st, path, &f);
  if (rc == ENG_NOTFOUND) {
    rc = ENG_OK;
    goto end;
  }
  if (rc)
    goto end;
  out->exists = true;
  rc = view_revision(st, &f, &out->rev);
  /* A held draft has no revision of its own: the time it was kept, as
   * the mount tells it. */
  struct buf rec = BUF_INIT;
  const char *dkind = rc ? NULL : view_draft_key(&f, &rec);
  if (dkind) {
    struct draft d = {0};
    if (store_draft_get(st, dkind, rec.ptr, &d) == ENG_OK) {
      int64_t ns = 0;
      time_parse(d.created_at, &ns);
      out->hash = hash_bytes(d.text, d.len) ^ (uint64_t)ns;
    }
    store_draft_release(&d);
  }
  buf_release(&rec);
  /* Files without a revision (sync status, error and conflict files)
   * are told apart by their text. */
  if (rc == ENG_OK && out->rev == 0) {
    struct buf text = BUF_INIT;
    struct render_info info = {0};
    if ((rc = view_read(st, &f, &text, &info)) == ENG_OK)
      out->hash = hash_bytes(text.ptr, text.len);
    buf_release(&text);
  }
  vnode_release(&f);
end:
  store_read_end(st);
out:
  free(path);
  return rc;
}

bool mcp_file_state_eq(const struct mcp_file_state *a,
                       const struct mcp_file_state *b) {
  return a->exists == b->exists && a->rev == b->rev && a->hash == b->hash;
}
