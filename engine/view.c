/* SPDX-License-Identifier: MIT */
/* view.c: names, listings and contents of the generated tree. */
#include "view.h"
#include "conflict.h"
#include "load.h"
#include "report.h"
#include "names.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const status_dirs[STATUS_COUNT] = {"active", "blocked",
                                                      "planned", "completed"};

void vnode_init(struct vnode *v) { memset(v, 0, sizeof *v); }

void vnode_release(struct vnode *v) {
  free(v->session);
  free(v->record);
  vnode_init(v);
}

void vnode_copy(struct vnode *dst, const struct vnode *src) {
  vnode_release(dst);
  *dst = *src;
  dst->session = xstrdup(src->session);
  dst->record = xstrdup(src->record);
}

bool vnode_eq(const struct vnode *a, const struct vnode *b) {
  return a->kind == b->kind && a->status == b->status && a->notes == b->notes &&
         a->target == b->target && str_eq(a->session, b->session) &&
         str_eq(a->record, b->record);
}

bool view_is_dir(int kind) { return kind <= VK_BACKUPS; }

bool view_is_editable(int kind) {
  return kind == VK_SESSION_MD || kind == VK_GROUP_MD || kind == VK_TASK_MD ||
         kind == VK_NOTES_MD;
}

bool view_is_writable(int kind) {
  return view_is_editable(kind) || kind == VK_CONFLICT_MD;
}

static void make(struct vnode *out, int kind, const char *session,
                 const char *record) {
  vnode_release(out);
  out->kind = kind;
  out->session = xstrdup(session);
  out->record = xstrdup(record);
}

const char *view_draft_key(const struct vnode *f, struct buf *rec) {
  switch (f->kind) {
  case VK_SESSION_MD:
    buf_adds(rec, f->session);
    return "session";
  case VK_GROUP_MD:
    buf_adds(rec, f->record);
    return "group";
  case VK_TASK_MD:
    buf_adds(rec, f->record);
    return "task";
  case VK_NOTES_MD:
    buf_printf(rec, "%s/%s", f->session, notes_names[f->notes]);
    return "notes";
  }
  return NULL;
}

/* *yes: whether f holds a draft (a text that could not be applied). */
static int has_draft(struct store *st, const struct vnode *f, bool *yes) {
  struct buf rec = BUF_INIT;
  const char *kind = view_draft_key(f, &rec);
  struct draft d = {0};
  int rc = kind ? store_draft_get(st, kind, rec.ptr, &d) : ENG_NOTFOUND;
  *yes = rc == ENG_OK;
  store_draft_release(&d);
  buf_release(&rec);
  return rc == ENG_NOTFOUND ? ENG_OK : rc;
}

/* The file name of a backup: "<id>-<what it holds>.md". */
static void backup_name(const struct backup *b, struct buf *out) {
  struct buf what = BUF_INIT;
  if (b->field)
    buf_printf(&what, "%s-%s", b->target_id, b->field);
  else
    buf_printf(&what, "%s-%s", b->kind, b->record);
  for (char *p = what.ptr; *p; p++)
    if (*p == '/')
      *p = '_';
  buf_printf(out, "%lld-", (long long)b->id);
  name_for_file(what.ptr, out);
  buf_adds(out, ".md");
  buf_release(&what);
}

/* *yes: whether f has conflicts left to resolve. */
static int has_conflicts(struct store *st, const struct vnode *f, bool *yes) {
  struct buf rec = BUF_INIT;
  const char *kind = view_draft_key(f, &rec);
  struct conflict *v = NULL;
  size_t n = 0;
  int rc =
      kind ? store_conflict_list(st, NULL, kind, rec.ptr, true, &v, &n) : 0;
  *yes = rc == ENG_OK && n > 0;
  store_conflicts_free(v, n);
  buf_release(&rec);
  return rc;
}

/* Strips suffix from name into out; false when name does not end so. */
static bool stem(const char *name, const char *suffix, struct buf *out) {
  if (!str_ends(name, suffix) || strlen(name) == strlen(suffix))
    return false;
  buf_truncate(out, 0);
  buf_add(out, name, strlen(name) - strlen(suffix));
  return true;
}

/* A session whose id is not a safe name: the made names compared. */
static int lookup_session_made(struct store *st, const char *name,
                               struct vnode *out) {
  struct session *v;
  size_t n;
  int rc = store_session_list(st, false, &v, &n);
  if (rc)
    return rc;
  rc = ENG_NOTFOUND;
  struct buf b = BUF_INIT;
  for (size_t i = 0; i < n && rc; i++) {
    buf_truncate(&b, 0);
    name_for_file(v[i].id, &b);
    if (strcmp(b.ptr, name) == 0) {
      make(out, VK_SESSION, v[i].id, NULL);
      rc = ENG_OK;
    }
  }
  buf_release(&b);
  store_sessions_free(v, n);
  return rc;
}

/* The session whose directory is called name. A store that fails is
 * that failure, not "no such file". */
static int lookup_session(struct store *st, const char *name,
                          struct vnode *out) {
  struct session s;
  session_init(&s);
  int rc = name_is_safe(name) ? store_session_get(st, name, &s) : ENG_NOTFOUND;
  if (rc == ENG_OK && !s.deleted) {
    make(out, VK_SESSION, s.id, NULL);
  } else if (rc == ENG_OK || rc == ENG_NOTFOUND) {
    rc = ENG_NOTFOUND;
    if (strchr(name, '~'))
      rc = lookup_session_made(st, name, out);
  }
  session_release(&s);
  return rc;
}

static int lookup_group(struct store *st, const char *session,
                        const char *stem_name, struct vnode *out) {
  struct group g;
  group_init(&g);
  int rc = name_is_safe(stem_name)
               ? store_group_find(st, session, stem_name, &g)
               : ENG_NOTFOUND;
  if (rc == ENG_OK) {
    make(out, VK_GROUP_MD, session, g.id);
  } else if (rc != ENG_NOTFOUND) {
    goto out;
  } else if (strchr(stem_name, '~')) {
    struct group *v;
    size_t n;
    if ((rc = store_group_list(st, session, false, &v, &n)))
      goto out;
    rc = ENG_NOTFOUND;
    struct buf b = BUF_INIT;
    for (size_t i = 0; i < n && rc; i++) {
      buf_truncate(&b, 0);
      name_for_file(v[i].name, &b);
      if (strcmp(b.ptr, stem_name) == 0) {
        make(out, VK_GROUP_MD, session, v[i].id);
        rc = ENG_OK;
      }
    }
    buf_release(&b);
    store_groups_free(v, n);
  }
out:
  group_release(&g);
  return rc;
}

static int lookup_task(struct store *st, const char *session, int status,
                       const char *stem_name, struct vnode *out) {
  struct task_place t = {0};
  int rc = id_is_valid(stem_name) ? store_task_place(st, stem_name, &t)
                                  : ENG_NOTFOUND;
  if (rc == ENG_OK) {
    rc = ENG_NOTFOUND;
    if (t.live && t.group_live && t.status == status &&
        str_eq(t.session_id, session)) {
      make(out, VK_TASK_MD, session, stem_name);
      out->status = status;
      rc = ENG_OK;
    }
  } else if (rc != ENG_NOTFOUND) {
    goto out;
  } else if (strchr(stem_name, '~')) {
    char **ids;
    size_t n;
    if ((rc = store_task_ids(st, session, status, &ids, &n)))
      goto out;
    rc = ENG_NOTFOUND;
    struct buf b = BUF_INIT;
    for (size_t i = 0; i < n; i++) {
      buf_truncate(&b, 0);
      name_for_file(ids[i], &b);
      if (rc && strcmp(b.ptr, stem_name) == 0) {
        make(out, VK_TASK_MD, session, ids[i]);
        out->status = status;
        rc = ENG_OK;
      }
      free(ids[i]);
    }
    free(ids);
    buf_release(&b);
  }
out:
  store_task_place_release(&t);
  return rc;
}

/* What a session directory holds, in listing order. */
static const struct {
  const char *name;
  int kind;
} session_entries[] = {{"session.md", VK_SESSION_MD},
                       {"task_groups", VK_GROUPS},
                       {"tasks", VK_TASKS},
                       {"notes", VK_NOTES},
                       {"meta", VK_META}};
#define NSESSION_ENTRIES (sizeof session_entries / sizeof session_entries[0])

/* name is "<stem>.error.md" beside a file of dir that holds a draft, or
 * "<stem>.conflict.md" beside one with unresolved conflicts. */
static int lookup_beside(struct store *st, const struct vnode *dir,
                         const char *name, const char *suffix, int kind,
                         struct vnode *out) {
  struct buf s = BUF_INIT;
  struct vnode target;
  vnode_init(&target);
  int rc = ENG_NOTFOUND;
  bool yes = false;
  if (!stem(name, suffix, &s))
    goto out;
  buf_adds(&s, ".md");
  rc = view_lookup(st, dir, s.ptr, &target);
  if (rc == ENG_OK && !view_is_editable(target.kind))
    rc = ENG_NOTFOUND;
  if (rc == ENG_OK)
    rc = kind == VK_ERROR_MD ? has_draft(st, &target, &yes)
                             : has_conflicts(st, &target, &yes);
  if (rc == ENG_OK && !yes)
    rc = ENG_NOTFOUND;
  if (rc == ENG_OK) {
    make(out, kind, target.session, target.record);
    out->target = target.kind;
    out->status = target.status;
    out->notes = target.notes;
  }
out:
  vnode_release(&target);
  buf_release(&s);
  return rc;
}

int view_lookup(struct store *st, const struct vnode *dir, const char *name,
                struct vnode *out) {
  struct buf s = BUF_INIT;
  int rc = ENG_NOTFOUND;
  if (str_ends(name, ".error.md") && dir->kind != VK_ROOT)
    return lookup_beside(st, dir, name, ".error.md", VK_ERROR_MD, out);
  if (str_ends(name, ".conflict.md") && dir->kind != VK_ROOT)
    return lookup_beside(st, dir, name, ".conflict.md", VK_CONFLICT_MD, out);
  switch (dir->kind) {
  case VK_ROOT:
    rc = lookup_session(st, name, out);
    break;
  case VK_SESSION:
    for (size_t i = 0; i < NSESSION_ENTRIES; i++)
      if (strcmp(name, session_entries[i].name) == 0) {
        make(out, session_entries[i].kind, dir->session, NULL);
        rc = ENG_OK;
      }
    break;
  case VK_GROUPS:
    if (stem(name, ".md", &s))
      rc = lookup_group(st, dir->session, s.ptr, out);
    break;
  case VK_TASKS:
    for (int i = 0; i < STATUS_COUNT; i++)
      if (strcmp(name, status_dirs[i]) == 0) {
        make(out, VK_STATUS, dir->session, NULL);
        out->status = i;
        rc = ENG_OK;
      }
    break;
  case VK_STATUS:
    if (stem(name, ".md", &s))
      rc = lookup_task(st, dir->session, dir->status, s.ptr, out);
    break;
  case VK_NOTES:
    if (stem(name, ".md", &s) && notes_index(s.ptr) >= 0) {
      make(out, VK_NOTES_MD, dir->session, NULL);
      out->notes = notes_index(s.ptr);
      rc = ENG_OK;
    }
    break;
  case VK_BACKUPS: {
    char *end;
    long long id = strtoll(name, &end, 10);
    struct backup b = {0};
    if (end != name && *end == '-' && store_backup_get(st, id, &b) == ENG_OK &&
        str_eq(b.session_id, dir->session)) {
      backup_name(&b, &s);
      if (strcmp(s.ptr, name) == 0) {
        char rec[32];
        snprintf(rec, sizeof rec, "%lld", id);
        make(out, VK_BACKUP_MD, dir->session, rec);
        rc = ENG_OK;
      }
    }
    store_backup_release(&b);
    break;
  }
  case VK_META:
    if (strcmp(name, "backups") == 0) {
      make(out, VK_BACKUPS, dir->session, NULL);
      rc = ENG_OK;
    } else if (strcmp(name, "sync_status.md") == 0) {
      make(out, VK_SYNC_STATUS, dir->session, NULL);
      rc = ENG_OK;
    } else if (strcmp(name, "edit_log.md") == 0) {
      make(out, VK_EDIT_LOG, dir->session, NULL);
      rc = ENG_OK;
    }
    break;
  }
  buf_release(&s);
  return rc;
}

/* The file of a draft or conflict key (kind, record) if it lives in dir:
 * ENG_OK with f made, ENG_NOTFOUND when it lives elsewhere or no more, or
 * the store's failure. */
static int file_in_dir(struct store *st, const struct vnode *dir,
                       const char *kind, const char *record, struct vnode *f) {
  int rc = ENG_NOTFOUND;
  if (strcmp(kind, "session") == 0 && dir->kind == VK_SESSION) {
    make(f, VK_SESSION_MD, dir->session, NULL);
    rc = ENG_OK;
  } else if (strcmp(kind, "group") == 0 && dir->kind == VK_GROUPS) {
    struct group g;
    group_init(&g);
    rc = store_group_get(st, record, &g);
    if (rc == ENG_OK && (g.deleted || !str_eq(g.session_id, dir->session)))
      rc = ENG_NOTFOUND;
    group_release(&g);
    if (rc == ENG_OK)
      make(f, VK_GROUP_MD, dir->session, record);
  } else if (strcmp(kind, "task") == 0 && dir->kind == VK_STATUS) {
    struct task t;
    task_init(&t);
    struct group g;
    group_init(&g);
    rc = store_task_get(st, record, &t);
    if (rc == ENG_OK && (t.status != dir->status || t.deleted ||
                         !str_eq(t.session_id, dir->session)))
      rc = ENG_NOTFOUND;
    if (rc == ENG_OK)
      rc = store_group_get(st, t.group_id, &g);
    if (rc == ENG_OK && g.deleted)
      rc = ENG_NOTFOUND;
    task_release(&t);
    group_release(&g);
    if (rc == ENG_OK) {
      make(f, VK_TASK_MD, dir->session, record);
      f->status = dir->status;
    }
  } else if (strcmp(kind, "notes") == 0 && dir->kind == VK_NOTES) {
    const char *slash = strchr(record, '/');
    int idx = slash ? notes_index(slash + 1) : -1;
    if (idx >= 0 &&
        strncmp(record, dir->session, (size_t)(slash - record)) == 0) {
      make(f, VK_NOTES_MD, dir->session, NULL);
      f->notes = idx;
      rc = ENG_OK;
    }
  }
  return rc;
}

/* Calls fn for the file beside f named with suffix, of kind. */
static int list_one_beside(struct store *st, const struct vnode *f,
                           const char *suffix, int kind, view_list_fn fn,
                           void *ctx) {
  struct buf name = BUF_INIT;
  int rc = view_name(st, f, &name);
  if (rc == ENG_OK && str_ends(name.ptr, ".md")) {
    buf_truncate(&name, name.len - 3);
    buf_adds(&name, suffix);
    struct vnode e;
    vnode_init(&e);
    make(&e, kind, f->session, f->record);
    e.target = f->kind;
    e.status = f->status;
    e.notes = f->notes;
    rc = fn(ctx, name.ptr, &e);
    vnode_release(&e);
  }
  buf_release(&name);
  return rc;
}

/* Lists the error and conflict files of a directory. */
static int list_beside(struct store *st, const struct vnode *dir,
                       view_list_fn fn, void *ctx) {
  struct draft *ds;
  size_t n;
  int rc = store_draft_list(st, dir->session, &ds, &n);
  if (rc)
    return rc;
  for (size_t i = 0; i < n && rc == ENG_OK; i++) {
    struct vnode f;
    vnode_init(&f);
    rc = file_in_dir(st, dir, ds[i].kind, ds[i].record, &f);
    if (rc == ENG_OK)
      rc = list_one_beside(st, &f, ".error.md", VK_ERROR_MD, fn, ctx);
    else if (rc == ENG_NOTFOUND)
      rc = ENG_OK;
    vnode_release(&f);
  }
  store_drafts_free(ds, n);
  struct conflict *cs;
  size_t nc;
  if (rc ||
      (rc = store_conflict_list(st, dir->session, NULL, NULL, true, &cs, &nc)))
    return rc;
  for (size_t i = 0; i < nc && rc == ENG_OK; i++) {
    bool seen = false;
    for (size_t k = 0; k < i && !seen; k++)
      seen = str_eq(cs[k].file_kind, cs[i].file_kind) &&
             str_eq(cs[k].file_record, cs[i].file_record);
    if (seen)
      continue;
    struct vnode f;
    vnode_init(&f);
    rc = file_in_dir(st, dir, cs[i].file_kind, cs[i].file_record, &f);
    if (rc == ENG_OK)
      rc = list_one_beside(st, &f, ".conflict.md", VK_CONFLICT_MD, fn, ctx);
    else if (rc == ENG_NOTFOUND)
      rc = ENG_OK;
    vnode_release(&f);
  }
  store_conflicts_free(cs, nc);
  return rc;
}

int view_list(struct store *st, const struct vnode *dir, view_list_fn fn,
              void *ctx) {
  struct vnode c;
  struct buf name = BUF_INIT;
  int rc = ENG_OK;
  vnode_init(&c);
  switch (dir->kind) {
  case VK_ROOT: {
    struct session *v;
    size_t n;
    if ((rc = store_session_list(st, false, &v, &n)))
      break;
    for (size_t i = 0; i < n && rc == ENG_OK; i++) {
      buf_truncate(&name, 0);
      name_for_file(v[i].id, &name);
      make(&c, VK_SESSION, v[i].id, NULL);
      rc = fn(ctx, name.ptr, &c);
    }
    store_sessions_free(v, n);
    break;
  }
  case VK_SESSION: {
    for (size_t i = 0; i < NSESSION_ENTRIES && !rc; i++) {
      make(&c, session_entries[i].kind, dir->session, NULL);
      rc = fn(ctx, session_entries[i].name, &c);
    }
    if (!rc)
      rc = list_beside(st, dir, fn, ctx);
    break;
  }
  case VK_GROUPS: {
    struct group *v;
    size_t n;
    if ((rc = store_group_list(st, dir->session, false, &v, &n)))
      break;
    for (size_t i = 0; i < n && rc == ENG_OK; i++) {
      buf_truncate(&name, 0);
      name_for_file(v[i].name, &name);
      buf_adds(&name, ".md");
      make(&c, VK_GROUP_MD, dir->session, v[i].id);
      rc = fn(ctx, name.ptr, &c);
    }
    store_groups_free(v, n);
    if (!rc)
      rc = list_beside(st, dir, fn, ctx);
    break;
  }
  case VK_TASKS:
    for (int i = 0; i < STATUS_COUNT && !rc; i++) {
      make(&c, VK_STATUS, dir->session, NULL);
      c.status = i;
      rc = fn(ctx, status_dirs[i], &c);
    }
    break;
  case VK_STATUS: {
    char **ids;
    size_t n;
    if ((rc = store_task_ids(st, dir->session, dir->status, &ids, &n)))
      break;
    for (size_t i = 0; i < n; i++) {
      if (rc == ENG_OK) {
        buf_truncate(&name, 0);
        name_for_file(ids[i], &name);
        buf_adds(&name, ".md");
        make(&c, VK_TASK_MD, dir->session, ids[i]);
        c.status = dir->status;
        rc = fn(ctx, name.ptr, &c);
      }
      free(ids[i]);
    }
    free(ids);
    if (!rc)
      rc = list_beside(st, dir, fn, ctx);
    break;
  }
  case VK_NOTES:
    for (int i = 0; i < NOTES_COUNT && !rc; i++) {
      buf_truncate(&name, 0);
      buf_printf(&name, "%s.md", notes_names[i]);
      make(&c, VK_NOTES_MD, dir->session, NULL);
      c.notes = i;
      rc = fn(ctx, name.ptr, &c);
    }
    if (!rc)
      rc = list_beside(st, dir, fn, ctx);
    break;
  case VK_META:
    make(&c, VK_SYNC_STATUS, dir->session, NULL);
    rc = fn(ctx, "sync_status.md", &c);
    if (!rc) {
      make(&c, VK_EDIT_LOG, dir->session, NULL);
      rc = fn(ctx, "edit_log.md", &c);
    }
    if (!rc) {
      make(&c, VK_BACKUPS, dir->session, NULL);
      rc = fn(ctx, "backups", &c);
    }
    break;
  case VK_BACKUPS: {
    struct backup *v;
    size_t n;
    if ((rc = store_backup_list(st, dir->session, &v, &n)))
      break;
    for (size_t i = 0; i < n && rc == ENG_OK; i++) {
      buf_truncate(&name, 0);
      backup_name(&v[i], &name);
      char rec[32];
      snprintf(rec, sizeof rec, "%lld", (long long)v[i].id);
      make(&c, VK_BACKUP_MD, dir->session, rec);
      rc = fn(ctx, name.ptr, &c);
    }
    store_backups_free(v, n);
    break;
  }
  }
  vnode_release(&c);
  buf_release(&name);
  return rc;
}

int view_name(struct store *st, const struct vnode *v, struct buf *out) {
  int rc = ENG_OK;
  switch (v->kind) {
  case VK_ROOT:
    break;
  case VK_SESSION:
    name_for_file(v->session, out);
    break;
  case VK_GROUPS:
    buf_adds(out, "task_groups");
    break;
  case VK_TASKS:
    buf_adds(out, "tasks");
    break;
  case VK_STATUS:
    buf_adds(out, status_dirs[v->status]);
    break;
  case VK_NOTES:
    buf_adds(out, "notes");
    break;
  case VK_META:
    buf_adds(out, "meta");
    break;
  case VK_BACKUPS:
    buf_adds(out, "backups");
    break;
  case VK_BACKUP_MD: {
    struct backup b = {0};
    if ((rc = store_backup_get(st, strtoll(v->record, NULL, 10), &b)) == ENG_OK)
      backup_name(&b, out);
    store_backup_release(&b);
    break;
  }
  case VK_SESSION_MD:
    buf_adds(out, "session.md");
    break;
  case VK_GROUP_MD: {
    struct group g;
    group_init(&g);
    if ((rc = store_group_get(st, v->record, &g)) == ENG_OK) {
      name_for_file(g.name, out);
      buf_adds(out, ".md");
    }
    group_release(&g);
    break;
  }
  case VK_TASK_MD:
    name_for_file(v->record, out);
    buf_adds(out, ".md");
    break;
  case VK_NOTES_MD:
    buf_printf(out, "%s.md", notes_names[v->notes]);
    break;
  case VK_SYNC_STATUS:
    buf_adds(out, "sync_status.md");
    break;
  case VK_EDIT_LOG:
    buf_adds(out, "edit_log.md");
    break;
  case VK_ERROR_MD:
  case VK_CONFLICT_MD: {
    struct vnode t = *v;
    t.kind = v->target;
    size_t start = out->len;
    rc = view_name(st, &t, out);
    if (rc == ENG_OK && out->len >= start + 3) {
      buf_truncate(out, out->len - 3);
      buf_adds(out, v->kind == VK_ERROR_MD ? ".error.md" : ".conflict.md");
    }
    break;
  }
  }
  return rc;
}

int view_path(struct store *st, const struct vnode *v, struct buf *out) {
  switch (v->kind) {
  case VK_ROOT:
  case VK_SESSION:
    return ENG_OK;
  case VK_GROUPS:
  case VK_TASKS:
  case VK_NOTES:
  case VK_META:
  case VK_SESSION_MD:
    return view_name(st, v, out);
  case VK_STATUS:
    buf_adds(out, "tasks/");
    return view_name(st, v, out);
  case VK_GROUP_MD:
    buf_adds(out, "task_groups/");
    return view_name(st, v, out);
  case VK_TASK_MD:
    buf_printf(out, "tasks/%s/", status_dirs[v->status]);
    return view_name(st, v, out);
  case VK_NOTES_MD:
    buf_adds(out, "notes/");
    return view_name(st, v, out);
  case VK_SYNC_STATUS:
  case VK_EDIT_LOG:
  case VK_BACKUPS:
    buf_adds(out, "meta/");
    return view_name(st, v, out);
  case VK_BACKUP_MD:
    buf_adds(out, "meta/backups/");
    return view_name(st, v, out);
  case VK_ERROR_MD:
  case VK_CONFLICT_MD: {
    struct vnode t = *v;
    t.kind = v->target;
    size_t start = out->len;
    int rc = view_path(st, &t, out);
    if (rc == ENG_OK && out->len >= start + 3) {
      buf_truncate(out, out->len - 3);
      buf_adds(out, v->kind == VK_ERROR_MD ? ".error.md" : ".conflict.md");
    }
    return rc;
  }
  }
  return ENG_NOTFOUND;
}

int view_revision(struct store *st, const struct vnode *f, int64_t *rev) {
  switch (f->kind) {
  case VK_SYNC_STATUS:
    *rev = 0; /* from the sync log, which has no revision: always fresh */
    return ENG_OK;
  case VK_SESSION_MD:
  case VK_EDIT_LOG:
    return store_owner_revision(st, OWNER_SESSION, f->session, NULL, rev);
  case VK_GROUP_MD:
    return store_owner_revision(st, OWNER_GROUP, f->record, NULL, rev);
  case VK_TASK_MD:
    return store_owner_revision(st, OWNER_TASK, f->record, NULL, rev);
  case VK_NOTES_MD: {
    char key[32];
    snprintf(key, sizeof key, "notes/%s", notes_names[f->notes]);
    return store_owner_revision(st, OWNER_SESSION, f->session, key, rev);
  }
  case VK_ERROR_MD:
  case VK_CONFLICT_MD:
    *rev = 0;
    return ENG_OK;
  case VK_BACKUP_MD:
    *rev = 1; /* a backup never changes */
    return ENG_OK;
  }
  return ENG_NOTFOUND;
}

int view_read(struct store *st, const struct vnode *f, struct buf *out,
              struct render_info *info) {
  return view_read_cached(st, NULL, f, 0, out, info);
}

int view_read_cached(struct store *st, struct blocks *cache,
                     const struct vnode *f, int64_t known_rev, struct buf *out,
                     struct render_info *info) {
  if (view_is_editable(f->kind) && !known_rev) {
    struct buf rec = BUF_INIT;
    const char *kind = view_draft_key(f, &rec);
    struct draft d = {0};
    int rc = store_draft_get(st, kind, rec.ptr, &d);
    buf_release(&rec);
    if (rc == ENG_OK) {
      buf_add(out, d.text, d.len);
      render_info_set(info, 0, d.created_at);
      store_draft_release(&d);
      return ENG_OK;
    }
    if (rc != ENG_NOTFOUND)
      return rc;
  }
  switch (f->kind) {
  case VK_SESSION_MD:
    return load_render_cached(st, cache, DOC_SESSION, f->session, 0, known_rev,
                              out, info);
  case VK_GROUP_MD:
    return load_render_cached(st, cache, DOC_GROUP, f->record, 0, known_rev,
                              out, info);
  case VK_TASK_MD:
    return load_render_cached(st, cache, DOC_TASK, f->record, 0, known_rev, out,
                              info);
  case VK_NOTES_MD:
    return load_render(st, DOC_NOTES, f->session, f->notes, out, info);
  case VK_SYNC_STATUS:
    return report_sync_status(st, f->session, out, info);
  case VK_EDIT_LOG:
    return report_edit_log(st, f->session, out, info);
  case VK_BACKUP_MD:
    return report_backup(st, strtoll(f->record, NULL, 10), out, info);
  case VK_ERROR_MD:
  case VK_CONFLICT_MD: {
    struct vnode t = *f;
    t.kind = f->target;
    struct buf rec = BUF_INIT, path = BUF_INIT;
    const char *kind = view_draft_key(&t, &rec);
    int rc = view_path(st, &t, &path);
    if (rc == ENG_OK && f->kind == VK_ERROR_MD) {
      rc = report_error(st, kind, rec.ptr, path.ptr, out, info);
    } else if (rc == ENG_OK) {
      int64_t ns = 0;
      rc = conflict_render(st, f->session, kind, rec.ptr, path.ptr, out, &ns);
      if (info) {
        info->rev = 0;
        info->mtime_ns = ns;
      }
    }
    buf_release(&rec);
    buf_release(&path);
    return rc;
  }
  }
  return ENG_NOTFOUND;
}
