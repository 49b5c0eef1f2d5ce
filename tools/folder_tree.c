/* SPDX-License-Identifier: MIT */
/* folder_tree.c: the folder sync's calls into the engine (view, sync,
 * parse), each the one the mount makes for the same file operation. No
 * files and no folders here: folder.c does those. */
#include "folder_tree.h"
#include "folder_state.h"
#include "model.h"
#include "names.h"
#include "render.h"
#include "sync.h"

#include <string.h>

void tree_root(const char *session, struct vnode *out) {
  vnode_release(out);
  out->kind = session ? VK_SESSION : VK_ROOT;
  out->session = xstrdup(session);
}

/* ---- the names a manifest keeps ---- */

static const struct {
  int kind;
  const char *name;
} kinds[] = {
    {VK_SESSION_MD, "session"},
    {VK_GROUP_MD, "group"},
    {VK_TASK_MD, "task"},
    {VK_NOTES_MD, "notes"},
    {VK_SYNC_STATUS, "sync_status"},
    {VK_EDIT_LOG, "edit_log"},
    {VK_ERROR_MD, "error"},
    {VK_CONFLICT_MD, "conflict"},
    {VK_BACKUP_MD, "backup"},
};

static const char *kind_name(int kind) {
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
    if (kinds[i].kind == kind)
      return kinds[i].name;
  return NULL;
}

static int kind_of(const char *name) {
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
    if (strcmp(kinds[i].name, name) == 0)
      return kinds[i].kind;
  return -1;
}

void tree_what(const struct vnode *v, struct buf *out) {
  const char *target = kind_name(v->target);
  buf_adds(out, kind_name(v->kind) ? kind_name(v->kind) : "?");
  buf_printf(out, " %s %s %s ", status_name(v->status), notes_names[v->notes],
             target ? target : "-");
  fstate_escape(v->session, out);
  buf_addc(out, ' ');
  fstate_escape(v->record, out);
}

bool tree_from_what(const char *what, struct vnode *out) {
  char *w[6];
  size_t n = 0;
  char *copy = xstrdup(what), *save = NULL;
  for (char *t = strtok_r(copy, " ", &save); t && n < 6;
       t = strtok_r(NULL, " ", &save))
    w[n++] = t;
  bool ok = n == 6 && !strtok_r(NULL, " ", &save);
  vnode_release(out);
  if (ok) {
    out->kind = kind_of(w[0]);
    out->status = status_parse(w[1]);
    out->notes = notes_index(w[2]);
    out->target = strcmp(w[3], "-") ? kind_of(w[3]) : 0;
    ok = out->kind >= 0 && out->status >= 0 && out->notes >= 0 &&
         out->target >= 0 &&
         fstate_unescape(w[4], strlen(w[4]), &out->session) &&
         fstate_unescape(w[5], strlen(w[5]), &out->record);
  }
  free(copy);
  if (!ok)
    vnode_release(out);
  return ok;
}

/* ---- the tree ---- */

struct listing {
  struct store *st;
  struct tree_item *v;
  size_t n, cap;
  const char *prefix;
};

static int add_item(void *ctx, const char *name, const struct vnode *child) {
  struct listing *l = ctx;
  XGROW(l->v, l->cap, l->n + 1);
  struct tree_item *it = &l->v[l->n++];
  it->path = *l->prefix ? xasprintf("%s/%s", l->prefix, name) : xstrdup(name);
  vnode_init(&it->v);
  vnode_copy(&it->v, child);
  return 0;
}

/* Lists root breadth first: the folders listed so far are walked in
 * turn (those descend accepts), and what fn adds of them is appended
 * after them. */
static int walk(struct store *st, const struct vnode *root, view_list_fn fn,
                bool (*descend)(int kind), struct tree_item **out, size_t *n) {
  struct listing l = {.st = st, .prefix = ""};
  int rc = store_read_begin(st);
  if (rc)
    return rc;
  rc = view_list(st, root, fn, &l);
  for (size_t i = 0; i < l.n && rc == ENG_OK; i++) {
    if (!descend(l.v[i].v.kind))
      continue;
    char *prefix = xstrdup(l.v[i].path);
    struct vnode dir;
    vnode_init(&dir);
    vnode_copy(&dir, &l.v[i].v);
    l.prefix = prefix;
    rc = view_list(st, &dir, fn, &l);
    vnode_release(&dir);
    free(prefix);
  }
  store_read_end(st);
  if (rc) {
    tree_items_free(l.v, l.n);
    return rc;
  }
  *out = l.v;
  *n = l.n;
  return ENG_OK;
}

int tree_list(struct store *st, const struct vnode *root,
              struct tree_item **out, size_t *n) {
  return walk(st, root, add_item, view_is_dir, out, n);
}

static int add_dir(void *ctx, const char *name, const struct vnode *child) {
  return view_is_dir(child->kind) ? add_item(ctx, name, child) : 0;
}

/* Only these hold folders: listing a status folder would read every task
 * of the status. */
static bool holds_dirs(int kind) {
  return kind == VK_SESSION || kind == VK_TASKS || kind == VK_META;
}

int tree_dirs(struct store *st, const struct vnode *root,
              struct tree_item **out, size_t *n) {
  return walk(st, root, add_dir, holds_dirs, out, n);
}

void tree_items_free(struct tree_item *v, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free(v[i].path);
    vnode_release(&v[i].v);
  }
  free(v);
}

int tree_path(struct store *st, const struct vnode *root, const struct vnode *v,
              struct buf *out) {
  if (root->kind == VK_ROOT) {
    name_for_file(v->session, out);
    if (v->kind == VK_SESSION)
      return ENG_OK;
    buf_addc(out, '/');
  }
  return view_path(st, v, out);
}

int tree_lookup(struct store *st, const struct vnode *dir, const char *name,
                struct vnode *out) {
  return view_lookup(st, dir, name, out);
}

bool tree_is_dir(const struct vnode *v) { return view_is_dir(v->kind); }
bool tree_is_editable(const struct vnode *v) {
  return view_is_editable(v->kind);
}
bool tree_is_writable(const struct vnode *v) {
  return view_is_writable(v->kind);
}
bool tree_is_record(const struct vnode *v) {
  return v->kind == VK_GROUP_MD || v->kind == VK_TASK_MD;
}
bool tree_is_error(const struct vnode *v) { return v->kind == VK_ERROR_MD; }
bool tree_is_conflict(const struct vnode *v) {
  return v->kind == VK_CONFLICT_MD;
}
bool tree_is_versioned(const struct vnode *v) {
  return view_is_editable(v->kind) || v->kind == VK_EDIT_LOG;
}
bool tree_is_fixed(const struct vnode *v) { return v->kind == VK_BACKUP_MD; }
const char *tree_kind_name(const struct vnode *v) {
  const char *name = kind_name(v->kind);
  return name ? name : "folder";
}
bool tree_takes_new(const struct vnode *dir) {
  return dir->kind == VK_GROUPS || dir->kind == VK_STATUS;
}

bool tree_may_be_new(const char *name) {
  return name[0] != '.' && str_ends(name, ".md") && strlen(name) > 3;
}

void tree_target(const struct vnode *beside, struct vnode *out) {
  vnode_copy(out, beside);
  out->kind = beside->target;
  out->target = 0;
}

bool tree_same_record(const struct vnode *f, const struct vnode *g) {
  return tree_is_record(f) && f->kind == g->kind &&
         str_eq(f->session, g->session) && str_eq(f->record, g->record);
}

int tree_read(struct store *st, const struct vnode *f, struct buf *out,
              int64_t *rev, int64_t *mtime_ns) {
  struct render_info info = {0};
  int rc = view_read(st, f, out, &info);
  *rev = info.rev > 0 ? info.rev : 0;
  *mtime_ns = info.mtime_ns;
  return rc;
}

int tree_revision(struct store *st, const struct vnode *f, int64_t *rev) {
  return view_revision(st, f, rev);
}

/* ---- what changed ---- */

/* Beyond this many changes since the last pass every file is looked at. */
#define FILTER_MAX_CHANGES 5000

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int tree_filter_since(struct store *st, int64_t rev, struct tree_filter *out) {
  memset(out, 0, sizeof *out);
  struct change *v;
  size_t n;
  int rc = store_changes_since(st, rev, NULL, FILTER_MAX_CHANGES + 1, &v, &n);
  if (rc)
    return rc;
  /* A task file shows its task, its group and its sections: when only
   * task rows changed, no other task's file did. A group, section or
   * plain SQL change of anything else may reach any of them. */
  out->all = n > FILTER_MAX_CHANGES;
  for (size_t i = 0; i < n && !out->all; i++) {
    if (strcmp(v[i].table, "session") == 0)
      continue; /* shown only by the session's own files */
    if (strcmp(v[i].table, "task") || !v[i].record) {
      out->all = true;
      break;
    }
    out->tasks = xrealloc(out->tasks, (out->ntasks + 1) * sizeof *out->tasks);
    out->tasks[out->ntasks++] = xstrdup(v[i].record);
  }
  store_changes_free(v, n);
  xsort(out->tasks, out->ntasks, sizeof *out->tasks, cmp_str);
  return ENG_OK;
}

bool tree_filter_may_change(const struct tree_filter *flt,
                            const struct vnode *v) {
  if (flt->all || v->kind != VK_TASK_MD)
    return true;
  const char *key = v->record;
  return xsearch(&key, flt->tasks, flt->ntasks, sizeof *flt->tasks, cmp_str);
}

void tree_filter_release(struct tree_filter *flt) {
  for (size_t i = 0; i < flt->ntasks; i++)
    free(flt->tasks[i]);
  free(flt->tasks);
  memset(flt, 0, sizeof *flt);
}

/* ---- saves ---- */

void tree_result_init(struct tree_result *r) {
  memset(r, 0, sizeof *r);
  vnode_init(&r->file);
  buf_init(&r->report);
}

void tree_result_release(struct tree_result *r) {
  vnode_release(&r->file);
  buf_release(&r->report);
}

static void take_result(struct tree_result *r, struct save_result *sr) {
  r->outcome = sr->outcome == SAVE_APPLIED ? TREE_APPLIED
               : sr->outcome == SAVE_HELD  ? TREE_HELD
                                           : TREE_PLAIN;
  vnode_copy(&r->file, &sr->file);
  buf_add(&r->report, sr->report.ptr, sr->report.len);
  r->errors = sr->errors;
  r->warnings = sr->warnings;
  r->changes = sr->changes;
  r->conflicts = sr->conflicts;
}

int tree_save(struct store *st, const struct vnode *f, const char *text,
              size_t len, int64_t served_rev, const char *served,
              size_t served_len, const struct policy *policy,
              struct tree_result *res) {
  struct save_result sr;
  save_result_init(&sr);
  /* The text is based on the revision it names, as any save through the
   * mount (never "replaces": see docs/folder.md on git). */
  struct served sv = {.rev = served_rev > 0 ? served_rev : 0,
                      .text = served_rev > 0 ? served : NULL,
                      .len = served_rev > 0 ? served_len : 0};
  int rc = sync_save(st, f, text, len, &sv, policy, &sr);
  take_result(res, &sr);
  save_result_release(&sr);
  return rc;
}

int tree_create(struct store *st, const struct vnode *dir, const char *name,
                const char *text, size_t len, const struct policy *policy,
                struct tree_result *res) {
  struct save_result sr;
  save_result_init(&sr);
  struct served sv = {0};
  int rc = sync_create(st, dir, name, text, len, &sv, policy, &sr);
  take_result(res, &sr);
  save_result_release(&sr);
  return rc;
}

int tree_rename(struct store *st, const struct vnode *f,
                const struct vnode *newdir, const char *newname,
                struct vnode *out) {
  return sync_rename(st, f, newdir, newname, out);
}

int tree_delete(struct store *st, const struct vnode *f) {
  return sync_delete(st, f);
}

int tree_discard(struct store *st, const struct vnode *f) {
  return sync_discard(st, f);
}

int tree_keep_db(struct store *st, const struct vnode *f) {
  return sync_keep_db(st, f);
}

/* s without the white space at its ends; the caller frees it. */
static char *trimmed(const char *s) {
  if (!s)
    return xstrdup("");
  while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
    s++;
  size_t n = strlen(s);
  while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' ||
               s[n - 1] == '\r'))
    n--;
  return xstrndup(s, n);
}

bool tree_made_since(struct store *st, const struct vnode *dir,
                     const char *text, size_t len, int64_t rev,
                     struct vnode *out) {
  bool groups = dir->kind == VK_GROUPS;
  if (!groups && dir->kind != VK_STATUS)
    return false;
  struct doc d;
  parse_doc(text, len, groups ? DOC_GROUP : DOC_TASK, &d);
  char *title = trimmed(groups          ? d.title
                        : d.ntasks == 1 ? d.tasks[0].title
                                        : NULL);
  const char *group_name =
      !groups && d.ntasks == 1 ? d.tasks[0].group_name : NULL;
  struct change *v = NULL;
  size_t n = 0;
  bool found = false;
  if (*title &&
      store_changes_since(st, rev, dir->session, 0, &v, &n) == ENG_OK) {
    for (size_t i = 0; i < n && !found; i++) {
      if (strcmp(v[i].op, "insert") || !v[i].record)
        continue;
      if (groups && strcmp(v[i].table, "group") == 0) {
        struct group g;
        group_init(&g);
        char *t = NULL;
        if (store_group_get(st, v[i].record, &g) == ENG_OK && !g.deleted &&
            strcmp(t = trimmed(g.title), title) == 0) {
          vnode_release(out);
          out->kind = VK_GROUP_MD;
          out->session = xstrdup(g.session_id);
          out->record = xstrdup(g.id);
          found = true;
        }
        free(t);
        group_release(&g);
      } else if (!groups && strcmp(v[i].table, "task") == 0) {
        struct task t;
        struct group g;
        task_init(&t);
        group_init(&g);
        char *tt = NULL;
        if (store_task_get(st, v[i].record, &t) == ENG_OK && !t.deleted &&
            strcmp(tt = trimmed(t.title), title) == 0 &&
            store_group_get(st, t.group_id, &g) == ENG_OK &&
            (!group_name || str_eq(g.name, group_name))) {
          vnode_release(out);
          out->kind = VK_TASK_MD;
          out->status = t.status;
          out->session = xstrdup(t.session_id);
          out->record = xstrdup(t.id);
          found = true;
        }
        free(tt);
        task_release(&t);
        group_release(&g);
      }
    }
  }
  store_changes_free(v, n);
  free(title);
  doc_release(&d);
  return found;
}

void tree_identity(const char *text, size_t len, const struct vnode *f,
                   char **session, char **record) {
  struct doc d;
  parse_doc(text, len, f->kind == VK_GROUP_MD ? DOC_GROUP : DOC_TASK, &d);
  *session = xstrdup(d.session);
  if (f->kind == VK_GROUP_MD)
    *record = xstrdup(d.kind == DOC_GROUP ? d.group : NULL);
  else
    *record = xstrdup(d.kind != DOC_TASK ? NULL
                      : d.task           ? d.task
                      : d.ntasks         ? d.tasks[0].id
                                         : NULL);
  doc_release(&d);
}
