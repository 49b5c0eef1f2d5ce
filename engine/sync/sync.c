/* SPDX-License-Identifier: MIT */
/* sync.c: applies saved texts and file operations to the store. For every
 * record and field of a saved file, three versions meet: the database as
 * of the text's revision (the base), the database now, and the file. A
 * field the file changed and the database did not is applied; a field
 * both changed differently is a conflict. Knows nothing of FUSE. */
#include "sync.h"
#include "apply.h"
#include "conflict.h"
#include "names.h"
#include "render.h"
#include "util.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

void save_result_init(struct save_result *r) {
  memset(r, 0, sizeof *r);
  vnode_init(&r->file);
  buf_init(&r->report);
}

void save_result_release(struct save_result *r) {
  vnode_release(&r->file);
  buf_release(&r->report);
  memset(r, 0, sizeof *r);
}

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Records an operation in the sync log. A failure to record (the store
 * is what failed) is not the operation's failure. */
static void record_in(struct store *st, const char *type,
                      const char *session_id, const struct vnode *f, int64_t t0,
                      int rc, struct save_result *res);

void sync_record(struct store *st, const char *type, const struct vnode *f,
                 int64_t t0, int rc, struct save_result *res) {
  record_in(st, type, f ? f->session : NULL, f, t0, rc, res);
}

/* The same for an operation of a session that no file names. */
static void record_in(struct store *st, const char *type,
                      const char *session_id, const struct vnode *f, int64_t t0,
                      int rc, struct save_result *res) {
  struct buf path = BUF_INIT;
  if (f)
    view_path(st, f, &path);
  struct syncop op = {
      .type = type,
      .file = f ? path.ptr : NULL,
      .session_id = session_id,
      .started_ns = t0,
      .ended_ns = now_ns(),
      .changes = res ? res->changes : 0,
      .conflicts = res ? res->conflicts : 0,
  };
  char *err = NULL;
  if (rc == ENG_OK) {
    op.status = op.conflicts ? "conflict" : "ok";
  } else {
    op.status = rc == ENG_PARSE ? "held" : "error";
    op.error_kind = eng_kind(rc);
    if (rc == ENG_PARSE && res && res->report.len) {
      err = xstrdup(res->report.ptr);
    } else {
      err = xstrdup(store_errmsg(st));
    }
    size_t n = strlen(err);
    while (n && err[n - 1] == '\n')
      err[--n] = '\0';
    op.error = err;
  }
  char *msg = xstrdup(store_errmsg(st)); /* keep the caller's message */
  bool added = !store_in_transaction(st) && store_syncop_add(st, &op) == ENG_OK;
  if (res)
    res->unrecorded = !added;
  store_fail(st, rc, "%s", msg);
  free(msg);
  free(err);
  buf_release(&path);
}

/* Ends a transaction: commits when rc is ENG_OK, else rolls back and
 * returns rc. */
static int end_transaction(struct store *st, int rc) {
  if (rc) {
    store_rollback(st);
    return rc;
  }
  return store_commit(st);
}

/* Sets c up for a save of doc to f by policy (NULL: the defaults). The
 * file is "new" until the caller names it in c->env. */
static void ctx_init(struct ctx *c, struct store *st, const struct vnode *f,
                     struct doc *doc, const struct policy *policy) {
  memset(c, 0, sizeof *c);
  c->st = st;
  c->f = f;
  c->doc = doc;
  c->dg = &doc->diags;
  if (policy)
    c->policy = *policy;
  else
    policy_default(&c->policy);
  c->env.policy = &c->policy;
  c->env.now_ns = now_ns();
  c->env.session_id = f->session;
  c->env.file_kind = "new";
  c->env.file_record = "";
  c->env.file_path = "";
  buf_init(&c->path);
}

static void ctx_release(struct ctx *c) {
  store_asof_close(c->base);
  store_asof_close(c->alt);
  store_memo_release(&c->memo);
  free(c->memo_used);
  strlist_clear(&c->created_titles);
  strlist_clear(&c->created_ids);
  buf_release(&c->path);
}

/* ---- saving ---- */

static int doc_kind_of(int vkind) {
  switch (vkind) {
  case VK_SESSION_MD:
    return DOC_SESSION;
  case VK_GROUP_MD:
    return DOC_GROUP;
  case VK_TASK_MD:
    return DOC_TASK;
  case VK_NOTES_MD:
    return DOC_NOTES;
  }
  return DOC_UNKNOWN;
}

static const char *doc_kind_name(int kind) {
  switch (kind) {
  case DOC_SESSION:
    return "session file";
  case DOC_GROUP:
    return "group file";
  case DOC_TASK:
    return "task file";
  case DOC_NOTES:
    return "notes file";
  }
  return "file";
}

/* The text must be the file it is saved as. */
static void check_identity(struct ctx *c) {
  struct doc *d = c->doc;
  const struct vnode *f = c->f;
  int want = doc_kind_of(f->kind);
  if (d->kind != want) {
    diags_add(c->dg, DIAG_ERROR, 1,
              "this text is a %s, saved over a %s; save it under its own "
              "name",
              doc_kind_name(d->kind), doc_kind_name(want));
    return;
  }
  if (d->session && !str_eq(d->session, f->session))
    diags_add(c->dg, DIAG_ERROR, 1,
              "this text belongs to session %s, saved in session %s",
              d->session, f->session);
  if (want == DOC_GROUP && d->group && !str_eq(d->group, f->record))
    diags_add(c->dg, DIAG_ERROR, 1,
              "this text is the file of group %s, saved over the file of "
              "group %s; save it under that group's name",
              d->group, f->record);
  if (want == DOC_TASK) {
    const char *id = d->task                       ? d->task
                     : d->ntasks && d->tasks[0].id ? d->tasks[0].id
                                                   : NULL;
    if (id && !str_eq(id, f->record))
      diags_add(c->dg, DIAG_ERROR, 1,
                "this text is the file of task %s, saved over the file of "
                "task %s",
                id, f->record);
    if (d->ntasks && d->tasks[0].id && d->task &&
        !str_eq(d->tasks[0].id, d->task))
      diags_add(c->dg, DIAG_ERROR, d->tasks[0].line,
                "the heading names task %s but the front matter says %s",
                d->tasks[0].id, d->task);
  }
  if (want == DOC_NOTES && d->notes && !str_eq(d->notes, notes_names[f->notes]))
    diags_add(c->dg, DIAG_ERROR, 1,
              "this text is notes/%s.md, saved over notes/%s.md", d->notes,
              notes_names[f->notes]);
}

/* Warns about edits in generated parts (they are not kept) when the text
 * is based on what was last served. */
static void check_generated(struct ctx *c, const struct served *sv) {
  struct doc *d = c->doc;
  if (!sv || !sv->text || sv->rev != d->revision)
    return;
  for (size_t i = 0; i < d->ngenerated; i++) {
    const struct pgenerated *g = &d->generated[i];
    size_t s, e;
    if (!parse_find_generated(sv->text, sv->len, g->name, &s, &e))
      continue;
    if (e - s != g->end - g->start ||
        memcmp(sv->text + s, d->text + g->start, e - s) != 0) {
      const char *name = g->name;
      while (*name == '#' || *name == ' ')
        name++;
      if (str_starts(name, "field:"))
        name += 6;
      diags_add(c->dg, DIAG_WARNING, g->line,
                "'%s' is computed from the database; the edit here is not "
                "kept (the text you saved is kept as a backup)",
                name);
    }
  }
}

/* A held text that another text replaces at its path is kept as a
 * backup (unless the new text is the same): nothing written is lost.
 * Within a transaction. */
static int retire_draft(struct store *st, const char *session_id,
                        const char *kind, const char *record, const char *text,
                        size_t len, const char *reason) {
  struct draft old = {0};
  int rc = store_draft_get(st, kind, record, &old);
  if (rc == ENG_NOTFOUND)
    return ENG_OK;
  if (rc == ENG_OK && (old.len != len || memcmp(old.text, text, len) != 0))
    rc = store_backup_add(st, session_id, kind, record, reason, old.text,
                          old.len, NULL);
  if (rc == ENG_OK)
    rc = store_draft_delete(st, kind, record);
  store_draft_release(&old);
  return rc;
}

static int hold(struct store *st, const struct vnode *f, const char *text,
                size_t len, struct diags *dg, struct save_result *res) {
  struct buf rec = BUF_INIT, report = BUF_INIT;
  const char *kind = view_draft_key(f, &rec);
  diags_format(dg, &report);
  struct draft d = {.kind = (char *)kind,
                    .record = rec.ptr,
                    .text = (char *)text,
                    .len = len,
                    .diagnostics = report.ptr};
  int rc = store_begin(st);
  if (rc == ENG_OK) {
    rc = retire_draft(st, f->session, kind, rec.ptr, text, len,
                      "held text replaced by another that could not be "
                      "applied");
    if (rc == ENG_OK)
      rc = store_draft_put(st, &d);
    rc = end_transaction(st, rc);
  }
  buf_release(&rec);
  res->outcome = SAVE_HELD;
  buf_add(&res->report, report.ptr, report.len);
  buf_release(&report);
  return rc ? rc : ENG_PARSE;
}

/* A saved conflict file: the options ticked in it are applied. */
static int save_conflicts(struct store *st, const struct vnode *f,
                          const char *text, size_t len,
                          struct save_result *res) {
  struct vnode t;
  vnode_init(&t);
  vnode_copy(&t, f);
  t.kind = f->target;
  struct buf rec = BUF_INIT;
  const char *kind = view_draft_key(&t, &rec);
  int rc = kind ? store_begin(st) : ENG_PERM;
  if (rc == ENG_OK) {
    rc = conflict_apply_file(st, kind, rec.ptr, text, len, &res->report);
    if (rc == ENG_OK || rc == ENG_PARSE) {
      int crc = store_commit(st);
      if (crc)
        rc = crc;
    } else {
      store_rollback(st);
    }
  }
  res->outcome = rc == ENG_OK ? SAVE_APPLIED : SAVE_HELD;
  buf_release(&rec);
  vnode_release(&t);
  return rc;
}

/* ---- the save pipeline ---- */

/*
 * One save of a text to an editable file, as save() takes it through its
 * stages: parse (the text, checked against the file it is saved as),
 * choose the base, merge (the three-way merge of every record the file
 * shows, applied in the transaction), keep (the held draft it replaces,
 * the memo, the backup of a text with parts not kept) and commit. A text
 * that cannot be applied whole is held instead (hold()).
 */
struct save_ctx {
  struct ctx c;
  const char *text;
  size_t len;
  const struct served *served;
  bool use_memo;
  struct save_result *res;
  struct doc doc;
  const char *dkind; /* the file's draft key: kind and record */
  struct buf rec;
  int64_t rev; /* the file's revision after the save */
};

/* Parses the text, as the kind of file it is saved as, and checks that
 * it is that file. ENG_PERM for a file that takes no saves. */
static int save_parse(struct save_ctx *s) {
  struct ctx *c = &s->c;
  s->dkind = view_draft_key(c->f, &s->rec);
  if (!s->dkind)
    return ENG_PERM;
  view_path(c->st, c->f, &c->path);
  c->env.file_kind = s->dkind;
  c->env.file_record = s->rec.ptr;
  c->env.file_path = c->path.ptr;
  parse_doc_memo(s->text, s->len, doc_kind_of(c->f->kind),
                 s->served ? s->served->memo : NULL, &s->doc);
  if (!s->doc.diags.errors)
    check_identity(c);
  return ENG_OK;
}

/* The base: the text's revision, or what this path served last. When the
 * same old text was saved before, that save's memo gives the alternative
 * base; a store that cannot tell fails the save. */
static int save_choose_base(struct save_ctx *s) {
  struct ctx *c = &s->c;
  const struct served *sv = s->served;
  int64_t base = s->doc.revision;
  if (sv && sv->replaces && sv->rev > 0) {
    base = sv->rev;
  } else if (base < 0 && !s->doc.diags.errors) {
    base = sv && sv->rev > 0 ? sv->rev : 0;
    if (base > 0)
      diags_add(c->dg, DIAG_WARNING, 1,
                "no 'revision:' in the front matter: taken as based on "
                "revision %lld, the last one read from this file",
                (long long)base);
  }
  c->base_rev = base;
  c->env.base_rev = base;
  if (s->doc.diags.errors || base <= 0 || !s->use_memo)
    return ENG_OK;
  int rc = store_memo_get(c->st, s->dkind, s->rec.ptr, &c->memo);
  if (rc == ENG_OK) {
    c->has_memo = c->memo.text_rev == base && c->memo.applied_rev > base;
    c->memo_used = xcalloc(c->memo.created_ids.n + 1, sizeof *c->memo_used);
  }
  return rc == ENG_NOTFOUND ? ENG_OK : rc;
}

/* Opens the database as of the base and the alternative base. Within the
 * transaction. */
static int save_open_bases(struct ctx *c) {
  int rc = ENG_OK;
  if (c->base_rev > 0)
    rc = store_asof_open(c->st, c->base_rev, &c->base);
  if (rc == ENG_OK && c->has_memo) {
    rc = store_asof_open(c->st, c->memo.applied_rev, &c->alt);
    c->alt_rev = c->memo.applied_rev;
  }
  return rc;
}

/* Merges the file's records into the database's. Within the
 * transaction. */
static int save_merge(struct ctx *c) {
  switch (c->f->kind) {
  case VK_GROUP_MD:
    return apply_group(c);
  case VK_TASK_MD:
    return apply_task(c);
  case VK_SESSION_MD:
    return apply_session(c);
  case VK_NOTES_MD:
    return apply_notes(c);
  }
  return ENG_OK;
}

/* Remembers what a save of this text from its base did: saves of the same
 * old text build on each other, and the tasks the earlier ones made are
 * still the text's id-less blocks. */
static int save_memo(struct save_ctx *s) {
  struct ctx *c = &s->c;
  struct save_memo m = {.kind = (char *)s->dkind,
                        .record = s->rec.ptr,
                        .text_rev = c->base_rev,
                        .applied_rev = s->rev};
  if (c->has_memo)
    for (size_t i = 0; i < c->memo.created_ids.n; i++) {
      strlist_add(&c->created_titles, c->memo.created_titles.v[i]);
      strlist_add(&c->created_ids, c->memo.created_ids.v[i]);
    }
  m.created_titles = c->created_titles;
  m.created_ids = c->created_ids;
  return store_memo_put(c->st, &m);
}

/* What the save keeps beside the records: a held text it replaces becomes
 * a backup, the memo, and a text with edits in generated parts is backed
 * up. Within the transaction. */
static int save_keep(struct save_ctx *s) {
  struct ctx *c = &s->c;
  const char *session = c->f->session;
  int rc = retire_draft(c->st, session, s->dkind, s->rec.ptr, s->text, s->len,
                        "held text replaced by a later save");
  if (rc == ENG_OK)
    rc = view_revision(c->st, c->f, &s->rev);
  if (rc == ENG_OK && c->changes)
    rc = save_memo(s);
  if (rc == ENG_OK && s->doc.diags.warnings)
    rc = store_backup_add(c->st, session, s->dkind, s->rec.ptr,
                          "saved text with parts not kept", s->text, s->len,
                          NULL);
  return rc;
}

static int save_commit(struct save_ctx *s) {
  int rc = store_commit(s->c.st);
  if (rc)
    return rc;
  s->res->outcome = SAVE_APPLIED;
  s->res->changes = s->c.changes;
  s->res->conflicts = s->c.env.recorded;
  s->res->rev = s->rev;
  diags_format(s->c.dg, &s->res->report);
  return ENG_OK;
}

/* The stages that run in the transaction: all of them apply, or none. */
static int save_apply(struct save_ctx *s) {
  struct store *st = s->c.st;
  int rc = store_begin(st);
  if (rc)
    return rc;
  if ((rc = save_open_bases(&s->c)) == ENG_OK)
    rc = save_merge(&s->c);
  if (rc == ENG_OK && s->doc.diags.errors) {
    store_rollback(st);
    return hold(st, s->c.f, s->text, s->len, s->c.dg, s->res);
  }
  if (rc == ENG_OK)
    rc = save_keep(s);
  if (rc) {
    store_rollback(st);
    return rc;
  }
  return save_commit(s);
}

/* use_memo: a text saved again from the same old revision builds on its
 * earlier save (an editor that did not reload); off for texts that come
 * from elsewhere (a backup brought back). */
static int save(struct store *st, const struct vnode *f, const char *text,
                size_t len, const struct served *served,
                const struct policy *policy, bool use_memo,
                struct save_result *res) {
  vnode_copy(&res->file, f);
  if (f->kind == VK_CONFLICT_MD)
    return save_conflicts(st, f, text, len, res);
  struct save_ctx s = {.text = text,
                       .len = len,
                       .served = served,
                       .use_memo = use_memo,
                       .res = res};
  ctx_init(&s.c, st, f, &s.doc, policy);
  buf_init(&s.rec);
  int rc = save_parse(&s);
  if (rc == ENG_OK)
    rc = save_choose_base(&s);
  if (rc == ENG_OK) {
    if (s.doc.diags.errors) {
      rc = hold(st, f, text, len, s.c.dg, res);
    } else {
      check_generated(&s.c, served);
      rc = save_apply(&s);
    }
    res->errors = s.doc.diags.errors;
    res->warnings = s.doc.diags.warnings;
  }
  ctx_release(&s.c);
  doc_release(&s.doc);
  buf_release(&s.rec);
  return rc;
}

int sync_save(struct store *st, const struct vnode *f, const char *text,
              size_t len, const struct served *served,
              const struct policy *policy, struct save_result *res) {
  int64_t t0 = now_ns();
  int rc = save(st, f, text, len, served, policy, true, res);
  sync_record(st, f->kind == VK_CONFLICT_MD ? "resolve" : "save", f, t0, rc,
              res);
  return rc;
}

/* ---- new files ---- */

/* A text written to a new name in a generated directory. */
struct new_file {
  struct store *st;
  const struct vnode *dir;
  const char *stem; /* the name without .md */
  const char *text;
  size_t len;
  const struct served *served;
  const struct policy *policy;
  struct save_result *res;
};

static bool is_candidate(const char *name, struct buf *stem) {
  if (name[0] == '.' || !str_ends(name, ".md"))
    return false;
  buf_truncate(stem, 0);
  buf_add(stem, name, strlen(name) - 3);
  return name_is_safe(stem->ptr);
}

/* *yes: whether any task block names an existing task (then the text is
 * a copy of a file, not a new one). */
static int names_existing_task(struct store *st, const struct doc *d,
                               bool *yes) {
  *yes = false;
  int rc = ENG_OK;
  for (size_t i = 0; i < d->ntasks && rc == ENG_OK && !*yes; i++)
    if (d->tasks[i].id)
      rc = store_task_exists(st, d->tasks[i].id, yes);
  return rc;
}

/* The new file f holds what the text made: changes records. */
static void made(const struct new_file *nf, const struct vnode *f,
                 int changes) {
  nf->res->outcome = SAVE_APPLIED;
  nf->res->changes = changes;
  vnode_copy(&nf->res->file, f);
  view_revision(nf->st, f, &nf->res->rev);
}

/* Saves the text as the file (of kind, with status for a task file) of
 * the existing record id, re-created under its own name. A deleted
 * record comes back first, in a transaction of its own. */
static int resave(const struct new_file *nf, int kind, const char *id,
                  int status, bool deleted) {
  struct store *st = nf->st;
  int rc = deleted ? store_begin(st) : ENG_OK;
  if (deleted && rc == ENG_OK)
    rc = end_transaction(
        st, store_field_set(st, kind == VK_GROUP_MD ? "group" : "task", id,
                            "deleted", "0"));
  if (rc)
    return rc;
  struct vnode f;
  vnode_init(&f);
  f.kind = kind;
  f.status = status;
  f.session = xstrdup(nf->dir->session);
  f.record = xstrdup(id);
  rc = save(st, &f, nf->text, nf->len, nf->served, nf->policy, true, nf->res);
  vnode_release(&f);
  return rc;
}

/* A file of an existing group re-created under its own name (after an
 * unlink): a save of that group, which it brings back if it was deleted.
 * A copy under another name stays a plain file. */
static int resave_group(const struct new_file *nf, const char *id) {
  struct group g;
  group_init(&g);
  int rc = ENG_OK;
  if (store_group_get(nf->st, id, &g) == ENG_OK &&
      str_eq(g.session_id, nf->dir->session) && str_eq(g.name, nf->stem))
    rc = resave(nf, VK_GROUP_MD, g.id, 0, g.deleted);
  group_release(&g);
  return rc;
}

/* A new group named after the file, with its tasks and sections, made in
 * one transaction: text that cannot be applied whole leaves no group
 * behind and stays an ordinary file. */
static int new_group(const struct new_file *nf, struct doc *doc) {
  struct store *st = nf->st;
  struct group g;
  group_init(&g);
  g.session_id = xstrdup(nf->dir->session);
  g.name = xstrdup(nf->stem);
  g.title = apply_norm_line(doc->title);
  g.status = doc->status >= 0 ? doc->status : STATUS_PLANNED;
  g.priority = doc->priority >= 0 ? doc->priority : PRIORITY_MEDIUM;
  g.specialist = xstrdup(doc->has_specialist ? doc->specialist : "");
  g.description = apply_norm_text(doc->description);
  struct vnode f;
  vnode_init(&f);
  f.kind = VK_GROUP_MD;
  f.session = xstrdup(nf->dir->session);
  struct ctx c;
  ctx_init(&c, st, &f, doc, nf->policy);
  int rc = store_begin(st);
  if (rc == ENG_OK) {
    rc = store_group_insert(st, &g);
    if (rc == ENG_OK) {
      f.record = xstrdup(g.id);
      rc = apply_group(&c);
    }
    if (rc || doc->diags.errors) {
      store_rollback(st);
      if (rc == ENG_EXISTS || rc == ENG_INVALID)
        rc = ENG_OK;
    } else if ((rc = store_commit(st)) == ENG_OK) {
      made(nf, &f, c.changes + 1);
    }
  }
  ctx_release(&c);
  vnode_release(&f);
  group_release(&g);
  return rc;
}

static int create_group(const struct new_file *nf) {
  struct doc doc;
  parse_doc(nf->text, nf->len, DOC_GROUP, &doc);
  bool group = !doc.diags.errors && doc.kind == DOC_GROUP && doc.title &&
               (!doc.session || str_eq(doc.session, nf->dir->session));
  int rc = ENG_OK;
  bool copy = false;
  if (group && doc.group)
    rc = resave_group(nf, doc.group);
  else if (group && (rc = names_existing_task(nf->st, &doc, &copy)) == ENG_OK &&
           !copy)
    rc = new_group(nf, &doc);
  doc_release(&doc);
  return rc;
}

/* Makes the task of block p, and its sections, in group g; its id is the
 * file's name when that is free, and f (c's file) is named after it. In
 * the caller's transaction; *new_id is NULL when no task was made. */
static int new_task_in(struct ctx *c, const struct new_file *nf,
                       const struct ptask *p, const struct group *g,
                       struct vnode *f, char **new_id) {
  const char *stem = nf->stem;
  bool taken = true;
  int rc = id_is_valid(stem) ? store_task_exists(nf->st, stem, &taken) : ENG_OK;
  if (rc)
    return rc;
  rc = apply_new_task(c, p, g->id, nf->dir->status, 0, taken ? NULL : stem,
                      new_id);
  if (rc == ENG_OK && !c->dg->errors) {
    f->record = xstrdup(*new_id);
    rc = apply_sections(c, OWNER_TASK, *new_id, p->sections, p->nsections,
                        NOTES_PLACEHOLDER, NULL, NULL);
  }
  return rc;
}

/* A new task, of the block of a task file whose Group names a group, with
 * the status of the directory, made in one transaction. */
static int new_task(const struct new_file *nf, struct doc *doc) {
  struct store *st = nf->st;
  struct group g;
  group_init(&g);
  if (store_group_find(st, nf->dir->session, doc->tasks[0].group_name, &g) !=
      ENG_OK) {
    group_release(&g);
    return ENG_OK;
  }
  struct vnode f;
  vnode_init(&f);
  f.kind = VK_TASK_MD;
  f.session = xstrdup(nf->dir->session);
  struct ctx c;
  ctx_init(&c, st, &f, doc, nf->policy);
  char *new_id = NULL;
  int rc = store_begin(st);
  if (rc == ENG_OK) {
    rc = new_task_in(&c, nf, &doc->tasks[0], &g, &f, &new_id);
    if (rc || doc->diags.errors || !new_id)
      store_rollback(st);
    else
      rc = store_commit(st);
  }
  if (rc == ENG_OK && new_id && !doc->diags.errors) {
    struct task t;
    task_init(&t);
    store_task_get(st, new_id, &t);
    f.status = t.status;
    task_release(&t);
    made(nf, &f, c.changes);
  }
  free(new_id);
  ctx_release(&c);
  vnode_release(&f);
  group_release(&g);
  return rc;
}

/* A task file re-created under its own name is a save of it, which
 * brings it back if it was deleted. */
static int resave_task(const struct new_file *nf, const char *id) {
  struct task t;
  task_init(&t);
  int rc = ENG_OK;
  if (strcmp(id, nf->stem) == 0 && store_task_get(nf->st, id, &t) == ENG_OK &&
      str_eq(t.session_id, nf->dir->session))
    rc = resave(nf, VK_TASK_MD, id, t.status, t.deleted);
  task_release(&t);
  return rc;
}

static int create_task_file(const struct new_file *nf) {
  struct doc doc;
  parse_doc(nf->text, nf->len, DOC_TASK, &doc);
  bool task = !doc.diags.errors && doc.kind == DOC_TASK && doc.ntasks == 1 &&
              (!doc.session || str_eq(doc.session, nf->dir->session));
  const char *id = !task ? NULL : doc.task ? doc.task : doc.tasks[0].id;
  int rc = ENG_OK;
  if (id)
    rc = resave_task(nf, id);
  else if (task && doc.tasks[0].group_name)
    rc = new_task(nf, &doc);
  doc_release(&doc);
  return rc;
}

static int create(struct store *st, const struct vnode *dir, const char *name,
                  const char *text, size_t len, const struct served *served,
                  const struct policy *policy, struct save_result *res) {
  struct buf stem = BUF_INIT;
  int rc = ENG_OK;
  res->outcome = SAVE_PLAIN;
  if (is_candidate(name, &stem)) {
    struct new_file nf = {st, dir, stem.ptr, text, len, served, policy, res};
    if (dir->kind == VK_GROUPS)
      rc = create_group(&nf);
    else if (dir->kind == VK_STATUS)
      rc = create_task_file(&nf);
  }
  buf_release(&stem);
  return rc;
}

int sync_create(struct store *st, const struct vnode *dir, const char *name,
                const char *text, size_t len, const struct served *served,
                const struct policy *policy, struct save_result *res) {
  int64_t t0 = now_ns();
  int rc = create(st, dir, name, text, len, served, policy, res);
  if (rc != ENG_OK || res->outcome != SAVE_PLAIN)
    sync_record(st, "create", res->file.kind ? &res->file : NULL, t0, rc, res);
  return rc;
}

/* ---- renames, deletions, discards ---- */

/* Renames group gid to name. */
static int rename_group(struct store *st, const char *gid, const char *name) {
  struct group g;
  group_init(&g);
  int rc = store_begin(st);
  if (rc == ENG_OK) {
    rc = store_group_get(st, gid, &g);
    if (rc == ENG_OK && !str_eq(g.name, name)) {
      str_set(&g.name, name);
      rc = store_group_update(st, &g);
    }
    rc = end_transaction(st, rc);
  }
  group_release(&g);
  return rc;
}

/* Gives task id the status of the directory its file moved to. */
static int move_task(struct store *st, const char *id, int status) {
  struct task t;
  task_init(&t);
  int rc = store_begin(st);
  if (rc == ENG_OK) {
    rc = store_task_get(st, id, &t);
    if (rc == ENG_OK && t.status != status) {
      task_set_status(&t, status);
      rc = store_task_update(st, &t);
    }
    rc = end_transaction(st, rc);
  }
  task_release(&t);
  return rc;
}

static int rename_file(struct store *st, const struct vnode *f,
                       const struct vnode *newdir, const char *newname,
                       struct vnode *out) {
  struct buf stem = BUF_INIT, cur = BUF_INIT;
  int rc = ENG_PERM;
  bool same_session = str_eq(f->session, newdir->session);
  if (same_session && f->kind == VK_GROUP_MD && newdir->kind == VK_GROUPS &&
      is_candidate(newname, &stem)) {
    if ((rc = rename_group(st, f->record, stem.ptr)) == ENG_OK)
      vnode_copy(out, f);
  } else if (same_session && f->kind == VK_TASK_MD &&
             newdir->kind == VK_STATUS && view_name(st, f, &cur) == ENG_OK &&
             strcmp(cur.ptr, newname) == 0) {
    if ((rc = move_task(st, f->record, newdir->status)) == ENG_OK) {
      vnode_copy(out, f);
      out->status = newdir->status;
    }
  }
  buf_release(&stem);
  buf_release(&cur);
  return rc;
}

int sync_rename(struct store *st, const struct vnode *f,
                const struct vnode *newdir, const char *newname,
                struct vnode *out) {
  int64_t t0 = now_ns();
  int rc = rename_file(st, f, newdir, newname, out);
  if (rc != ENG_PERM)
    sync_record(st, "rename", f, t0, rc, NULL);
  return rc;
}

/* In a transaction. */
static int delete_record(struct store *st, const struct vnode *f) {
  int rc = ENG_PERM;
  if (f->kind == VK_GROUP_MD) {
    struct group g;
    group_init(&g);
    rc = store_group_get(st, f->record, &g);
    if (rc == ENG_OK && !g.deleted) {
      g.deleted = true;
      rc = store_group_update(st, &g);
    }
    group_release(&g);
  } else if (f->kind == VK_TASK_MD) {
    struct task t;
    task_init(&t);
    rc = store_task_get(st, f->record, &t);
    if (rc == ENG_OK && !t.deleted) {
      t.deleted = true;
      rc = store_task_update(st, &t);
    }
    task_release(&t);
  }
  return rc;
}

static int delete_file(struct store *st, const struct vnode *f) {
  int rc = store_begin(st);
  return rc ? rc : end_transaction(st, delete_record(st, f));
}

static int discard(struct store *st, const struct vnode *f) {
  struct buf rec = BUF_INIT;
  const char *kind = view_draft_key(f, &rec);
  struct draft d = {0};
  int rc = kind ? store_begin(st) : ENG_PERM;
  if (rc == ENG_OK) {
    rc = store_draft_get(st, kind, rec.ptr, &d);
    if (rc == ENG_OK)
      rc = store_backup_add(st, f->session, kind, rec.ptr,
                            "discarded text that could not be applied", d.text,
                            d.len, NULL);
    if (rc == ENG_OK)
      rc = store_draft_delete(st, kind, rec.ptr);
    rc = end_transaction(st, rc);
  }
  store_draft_release(&d);
  buf_release(&rec);
  return rc;
}

static int keep_db(struct store *st, const struct vnode *f) {
  struct buf rec = BUF_INIT;
  const char *kind = view_draft_key(f, &rec);
  struct conflict *v = NULL;
  size_t n = 0;
  int rc = kind ? store_begin(st) : ENG_PERM;
  if (rc == ENG_OK) {
    rc = store_conflict_list(st, NULL, kind, rec.ptr, true, &v, &n);
    for (size_t i = 0; i < n && rc == ENG_OK; i++)
      rc = conflict_resolve(st, v[i].id, "db", NULL);
    rc = end_transaction(st, rc);
  }
  store_conflicts_free(v, n);
  buf_release(&rec);
  return rc;
}

/* An operation op on f that began at t0 ended with rc: recorded. */
static int recorded(struct store *st, const char *op, const struct vnode *f,
                    int64_t t0, int rc) {
  sync_record(st, op, f, t0, rc, NULL);
  return rc;
}

int sync_delete(struct store *st, const struct vnode *f) {
  int64_t t0 = now_ns();
  return recorded(st, "delete", f, t0, delete_file(st, f));
}

int sync_discard(struct store *st, const struct vnode *f) {
  int64_t t0 = now_ns();
  return recorded(st, "discard", f, t0, discard(st, f));
}

int sync_keep_db(struct store *st, const struct vnode *f) {
  int64_t t0 = now_ns();
  return recorded(st, "resolve", f, t0, keep_db(st, f));
}

int sync_resolve(struct store *st, int64_t id, const char *how,
                 const char *manual) {
  int64_t t0 = now_ns();
  struct conflict c;
  conflict_init(&c);
  char *session = NULL;
  if (store_conflict_get(st, id, &c) == ENG_OK)
    session = xstrdup(c.session_id);
  conflict_release(&c);
  int rc = store_begin(st);
  if (rc == ENG_OK)
    rc = end_transaction(st, conflict_resolve(st, id, how, manual));
  record_in(st, "resolve", session, NULL, t0, rc, NULL);
  free(session);
  return rc;
}

/* ---- backups brought back ---- */

/* A backed-up value goes back into its field (a block: the task comes
 * back as it was); the value it replaces is backed up first. */
static int restore_value(struct store *st, int64_t id, const struct backup *b) {
  bool block = str_eq(b->field, "block");
  const char *field = block ? "deleted" : b->field;
  char *now = NULL;
  int rc = store_begin(st);
  if (rc)
    return rc;
  rc = store_field_get(st, b->target_kind, b->target_id, field, &now);
  if (rc == ENG_OK) {
    char reason[96];
    snprintf(reason, sizeof reason, "before restoring backup %lld",
             (long long)id);
    rc = store_backup_value(st, b->session_id, b->target_kind, b->target_id,
                            field, now, reason, NULL);
  }
  if (rc == ENG_OK && block)
    rc = conflict_restore_block(st, b->target_id, b->text);
  else if (rc == ENG_OK)
    rc = store_field_set(st, b->target_kind, b->target_id, b->field, b->text);
  free(now);
  return end_transaction(st, rc);
}

/* The file a backed-up text was saved to; f->kind stays 0 when there is
 * none. */
static void backup_file(struct store *st, const struct backup *b,
                        struct vnode *f) {
  f->session = xstrdup(b->session_id);
  if (str_eq(b->kind, "group")) {
    f->kind = VK_GROUP_MD;
    f->record = xstrdup(b->record);
  } else if (str_eq(b->kind, "task")) {
    struct task t;
    task_init(&t);
    f->kind = VK_TASK_MD;
    f->record = xstrdup(b->record);
    if (store_task_get(st, b->record, &t) == ENG_OK)
      f->status = t.status;
    task_release(&t);
  } else if (str_eq(b->kind, "session")) {
    f->kind = VK_SESSION_MD;
  } else if (str_eq(b->kind, "notes")) {
    const char *slash = strchr(b->record, '/');
    f->kind = VK_NOTES_MD;
    f->notes = slash ? notes_index(slash + 1) : -1;
  }
}

int sync_restore_backup(struct store *st, int64_t id,
                        const struct policy *policy, struct save_result *res) {
  struct backup b = {0};
  int rc = store_backup_get(st, id, &b);
  if (rc)
    return rc;
  res->outcome = SAVE_APPLIED;
  if (b.field) {
    rc = restore_value(st, id, &b);
    res->changes = rc == ENG_OK;
  } else {
    /* A whole text: saved to its file again. */
    struct vnode f;
    vnode_init(&f);
    backup_file(st, &b, &f);
    if (!f.kind || f.notes < 0)
      rc = store_fail(st, ENG_INVALID, "backup %lld has no file to go to",
                      (long long)id);
    else
      rc = save(st, &f, b.text, b.len, NULL, policy, false, res);
    vnode_release(&f);
  }
  store_backup_release(&b);
  return rc;
}
