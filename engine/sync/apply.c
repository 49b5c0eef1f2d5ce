/* SPDX-License-Identifier: MIT */
/* apply.c: the merge stage of a save: the values a file gives, the
 * three-way choice per field, sections, the tasks of a file, and the
 * session, group, task and notes files merged into their records. */
#include "apply.h"
#include "names.h"
#include "render.h"
#include "util.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* ---- text forms ---- */

/* Free text as compared: no leading blank lines, no trailing space. */
char *apply_norm_text(const char *s) {
  if (!s)
    return xstrdup("");
  const char *p = s;
  for (const char *q = s; *q; q++) {
    if (*q == '\n')
      p = q + 1;
    else if (!isspace((unsigned char)*q))
      break;
  }
  size_t n = strlen(p);
  while (n && isspace((unsigned char)p[n - 1]))
    n--;
  return xstrndup(p, n);
}

static bool text_same(const char *a, const char *b) {
  char *x = apply_norm_text(a), *y = apply_norm_text(b);
  bool same = strcmp(x, y) == 0;
  free(x);
  free(y);
  return same;
}

/* A one-line value as compared: line breaks as spaces, trimmed. */
char *apply_norm_line(const char *s) {
  if (!s)
    return xstrdup("");
  while (isspace((unsigned char)*s))
    s++;
  char *out = xstrdup(s);
  for (char *p = out; *p; p++)
    if (*p == '\n' || *p == '\r')
      *p = ' ';
  size_t n = strlen(out);
  while (n && isspace((unsigned char)out[n - 1]))
    out[--n] = '\0';
  return out;
}

static bool line_same(const char *a, const char *b) {
  char *x = apply_norm_line(a), *y = apply_norm_line(b);
  bool same = strcmp(x, y) == 0;
  free(x);
  free(y);
  return same;
}

static bool list_same(const struct strlist *a, const struct strlist *b) {
  if (a->n != b->n)
    return false;
  for (size_t i = 0; i < a->n; i++)
    if (!text_same(a->v[i], b->v[i]))
      return false;
  return true;
}

/* ---- values from the file ---- */

/* Keeps the database's exact text when the file's reads the same. */
static void pick_text(char **dst, const char *file, const char *base,
                      const char *alt, bool line) {
  bool (*same)(const char *, const char *) = line ? line_same : text_same;
  if (same(file, base))
    str_set(dst, base);
  else if (alt && same(file, alt))
    str_set(dst, alt);
  else if (line) {
    char *v = apply_norm_line(file);
    free(*dst);
    *dst = v;
  } else {
    char *v = apply_norm_text(file);
    free(*dst);
    *dst = v;
  }
}

static bool same_effort(double a, double b) {
  char x[32], y[32];
  effort_format(a, x);
  effort_format(b, y);
  return strcmp(x, y) == 0;
}

/* One of several places giving the same integer field. */
struct signal {
  int value, line;
  const char *where;
};

/*
 * The value the file gives a field that several places of a block show
 * (the status word, the overview table, the section; or text and table):
 * a place that differs from the base is an edit; edits must agree.
 * Returns the edited value, or the base's when nothing was edited.
 */
static int pick_int(struct ctx *c, const char *task, const char *what,
                    const struct signal *sig, size_t n, int base,
                    const int *alt, bool *edited, int *line) {
  int chosen = base, at = 0;
  *edited = false;
  for (size_t i = 0; i < n; i++) {
    int v = sig[i].value;
    if (v < 0 || v == base || (alt && v == *alt))
      continue;
    if (!*edited) {
      chosen = v;
      at = sig[i].line;
      *edited = true;
    } else if (v != chosen) {
      diags_add(c->dg, DIAG_ERROR, sig[i].line,
                "task '%s': the %s here (%s) disagrees with line %d; change "
                "one place only",
                task, what, sig[i].where, at);
    }
  }
  if (line)
    *line = at;
  return chosen;
}

/* The title a block gives: the heading, or the overview table's cell. */
static void resolve_title(struct ctx *c, const struct ptask *p,
                          const struct task *b, const struct task *a,
                          struct task *f) {
  bool hd =
      !line_same(p->title, b->title) && !(a && line_same(p->title, a->title));
  bool tb = p->table_title && !line_same(p->table_title, b->title) &&
            !(a && line_same(p->table_title, a->title));
  if (hd && tb && !line_same(p->title, p->table_title))
    diags_add(c->dg, DIAG_ERROR, p->table_line,
              "task '%s': the title in the overview table disagrees with "
              "the heading at line %d; change one place only",
              b->id, p->line);
  if (hd)
    pick_text(&f->title, p->title, b->title, NULL, true);
  else if (tb)
    pick_text(&f->title, p->table_title, b->title, NULL, true);
}

/* The status a block gives: the word, the table, the section, and the
 * checkbox; then the progress: the field, or the table's cell. */
static void resolve_status(struct ctx *c, const struct ptask *p,
                           const struct task *b, const struct task *a,
                           struct task *f) {
  const char *id = b->id;
  int alt_status = a ? a->status : -1;
  struct signal ss[] = {{p->status, p->status_line, "Status line"},
                        {p->table_status, p->table_line, "overview table"},
                        {p->section_status, p->line, "status section"}};
  bool st_edit;
  int st_line;
  int status = pick_int(c, id, "status", ss, 3, b->status,
                        a ? &alt_status : NULL, &st_edit, &st_line);
  bool base_done =
      b->status == STATUS_COMPLETED || (a && a->status == STATUS_COMPLETED);
  if (p->checkbox == 1 && status != STATUS_COMPLETED && !base_done) {
    if (st_edit)
      diags_add(c->dg, DIAG_ERROR, p->status_line,
                "task '%s': the ticked box says completed but line %d says "
                "%s; change one place only",
                id, st_line, status_name(status));
    status = STATUS_COMPLETED;
    st_edit = true;
  } else if (p->checkbox == 0 && !st_edit && base_done &&
             status == STATUS_COMPLETED) {
    status = STATUS_ACTIVE; /* unticked: back to work */
    st_edit = true;
  }
  int alt_progress = a ? a->progress : -1;
  struct signal ps[] = {{p->progress, p->progress_line, "Progress line"},
                        {p->table_progress, p->table_line, "overview table"}};
  bool pr_edit;
  int progress = pick_int(c, id, "progress", ps, 2, b->progress,
                          a ? &alt_progress : NULL, &pr_edit, NULL);
  if (st_edit)
    task_set_status(f, status);
  if (pr_edit)
    f->progress = progress;
  else if (!st_edit)
    f->progress = b->progress;
}

/*
 * The task as the block has it: a copy of the base with the file's
 * values. b is the base, a (may be NULL) the alternative base.
 */
static void resolve_task(struct ctx *c, const struct ptask *p,
                         const struct task *b, const struct task *a,
                         struct task *f) {
  task_copy(f, b);
  resolve_title(c, p, b, a, f);
  resolve_status(c, p, b, a, f);
  if (p->priority >= 0 && p->priority != b->priority &&
      !(a && p->priority == a->priority))
    f->priority = p->priority;
  pick_text(&f->specialist, p->has_specialist ? p->specialist : "",
            b->specialist, a ? a->specialist : NULL, true);
  /* Efforts are shown to two decimals: a value that reads the same as
   * the base's is the base's. */
  double est = p->has_estimate ? p->estimate : NAN;
  double act = p->has_actual ? p->actual : NAN;
  if (!same_effort(est, b->estimate) && !(a && same_effort(est, a->estimate)))
    f->estimate = est;
  if (!same_effort(act, b->actual) && !(a && same_effort(act, a->actual)))
    f->actual = act;
  const struct strlist empty = {0};
  const struct strlist *deps = p->has_deps ? &p->dependencies : &empty;
  if (!strlist_eq(deps, &b->dependencies) &&
      !(a && strlist_eq(deps, &a->dependencies)))
    strlist_copy(&f->dependencies, deps);
  pick_text(&f->description, p->description, b->description,
            a ? a->description : NULL, false);
  if (!list_same(&p->deliverables, &b->deliverables) &&
      !(a && list_same(&p->deliverables, &a->deliverables)))
    strlist_copy(&f->deliverables, &p->deliverables);
  pick_text(&f->current_status, p->current_status, b->current_status,
            a ? a->current_status : NULL, false);
}

/* ---- three-way ---- */

static bool strlist_has(const struct strlist *l, const char *s) {
  for (size_t i = 0; i < l->n; i++)
    if (strcmp(l->v[i], s) == 0)
      return true;
  return false;
}

static char *task_label(const struct task *t) {
  char *title = apply_norm_line(t->title);
  char *label = xasprintf("%s `%s`", title, t->id);
  free(title);
  return label;
}

/* Settles one field both sides changed (conflict.c decides by policy). */
static int settle(struct ctx *c, int type, const char *kind, const char *id,
                  const char *field, const char *label, const char *base,
                  const char *db, const char *file, const char *shown,
                  int *outcome, char **merged) {
  struct clash x = {type, kind, id, field, label, base, db, file, shown};
  return conflict_settle(c->st, &c->env, &x, outcome, merged);
}

/* How a settled clash names its record: "Title `id`", "group name",
 * "session id". The caller frees it. */
static char *record_label(int kind, const void *r) {
  switch (kind) {
  case RK_TASK:
    return task_label(r);
  case RK_GROUP:
    return xasprintf("group %s", ((const struct group *)r)->name);
  default:
    return xasprintf("session %s", ((const struct session *)r)->id);
  }
}

/*
 * Merges the file's record f of kind into the current cur, field by field
 * (the fields record_kinds marks FIELD_MERGED). b is the base, a the
 * alternative base or NULL. A field both sides changed is settled by the
 * policy of its conflict type. *taken counts the fields taken from the
 * file.
 */
static int merge_fields(struct ctx *c, int kind, const void *f, const void *b,
                        const void *a, void *cur, int *taken) {
  const struct record_kind_desc *d = &record_kinds[kind];
  int rc = ENG_OK;
  for (int i = 0; i < d->nversioned && rc == ENG_OK; i++) {
    const struct record_field *fd = &d->fields[i];
    if (!(fd->flags & FIELD_MERGED))
      continue;
    if (record_field_eq(kind, f, b, i) || (a && record_field_eq(kind, f, a, i)))
      continue; /* not edited */
    if (record_field_eq(kind, f, cur, i))
      continue; /* the database already has it */
    const void *since = a ? a : b;
    if (record_field_eq(kind, cur, since, i) ||
        record_field_eq(kind, cur, b, i)) {
      record_field_copy(kind, cur, f, i);
      (*taken)++;
      continue;
    }
    char *tb = record_field_text(kind, since, i);
    char *tc = record_field_text(kind, cur, i);
    char *tf = record_field_text(kind, f, i);
    char *merged = NULL;
    char *label = record_label(kind, cur);
    char *id = record_field_text(kind, cur, d->key);
    int outcome;
    rc = settle(c, fd->conflict, d->name, id, fd->name, label, tb, tc, tf, NULL,
                &outcome, &merged);
    if (rc == ENG_OK && outcome == SETTLE_TAKE_FILE) {
      record_field_copy(kind, cur, f, i);
      (*taken)++;
    } else if (rc == ENG_OK && outcome == SETTLE_MERGED) {
      record_field_set(kind, cur, i, merged);
      (*taken)++;
    }
    free(tb);
    free(tc);
    free(tf);
    free(merged);
    free(label);
    free(id);
  }
  return rc;
}

/* ---- sections ---- */

static bool is_blank(const char *s) {
  for (; s && *s; s++)
    if (!isspace((unsigned char)*s))
      return false;
  return true;
}

static struct section *find_section(struct section *v, size_t n,
                                    const char *key) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(v[i].key, key) == 0)
      return &v[i];
  return NULL;
}

static bool section_same(const struct section *a, const char *heading,
                         const char *body) {
  return str_eq(a->heading, heading) && str_eq(a->body, body);
}

static char *section_text(const char *heading, const char *body) {
  return xasprintf("%s\n%s", heading ? heading : "", body ? body : "");
}

/* Applies a section text (heading line, newline, body) to cur. */
static void set_section_text(struct section *cur, const char *text) {
  const char *nl = strchr(text, '\n');
  char *heading = nl ? xstrndup(text, (size_t)(nl - text)) : xstrdup(text);
  free(cur->heading);
  cur->heading = heading;
  str_set(&cur->body, nl ? nl + 1 : "");
}

static char *section_label(int owner_kind, const char *owner,
                           const char *heading) {
  const char *h = heading;
  while (*h == '#' || *h == ' ')
    h++;
  return xasprintf("section '%s' of %s %s", *h ? h : "(notes)",
                   owner_kind_name(owner_kind), owner);
}

/* The sections of one owner: as of the base (b), of the alternative base
 * (a) and now (cur), and what the file is asked to merge into them. */
struct owner_sections {
  int kind;
  const char *id;
  struct section *b, *a, *cur;
  size_t nb, na, nc;
  const char *placeholder; /* a new section shown so, empty, is not made */
  const char *skip_prefix, *only_key; /* see apply_sections() */
};

/* Positions: kept while the file keeps the order; new sections go
 * between their neighbours. The caller frees the result. */
static double *section_positions(const struct owner_sections *o,
                                 const struct psection *fs, size_t nf) {
  double *pos = xcalloc(nf + 1, sizeof *pos);
  bool ordered = true;
  double last = -INFINITY;
  for (size_t i = 0; i < nf; i++) {
    struct section *cur = find_section(o->cur, o->nc, fs[i].key);
    pos[i] = cur ? cur->position : NAN;
    if (cur) {
      if (cur->position <= last)
        ordered = false;
      last = cur->position;
    }
  }
  for (size_t i = 0; i < nf; i++) {
    if (!ordered) {
      pos[i] = (double)(i + 1);
      continue;
    }
    if (!isnan(pos[i]))
      continue;
    double prev = i ? pos[i - 1] : NAN, next = NAN;
    for (size_t k = i + 1; k < nf && isnan(next); k++)
      next = pos[k];
    pos[i] = !isnan(prev) && !isnan(next) ? (prev + next) / 2
             : !isnan(prev)               ? prev + 1
             : !isnan(next)               ? next - 1
                                          : 1;
  }
  return pos;
}

/* The row id of a section, as conflicts and backups name it. */
static void section_id(const struct section *s, char id[32]) {
  snprintf(id, 32, "%lld", (long long)s->id);
}

/*
 * Settles a clash over the text of section id by the policy of type:
 * since is the section as of the base, cur as now (NULL: the database
 * deleted it), x as in the file. *text is the text to apply (the merge,
 * or the file's), or NULL when the database's stays; the caller frees it.
 */
static int settle_section_text(struct ctx *c, const struct owner_sections *o,
                               int type, const char *id,
                               const struct section *since,
                               const struct section *cur,
                               const struct psection *x, char **text) {
  char *bt = section_text(since->heading, since->body);
  char *ct = cur ? section_text(cur->heading, cur->body) : NULL;
  char *ft = section_text(x->heading, x->body);
  char *label = section_label(o->kind, o->id, x->heading);
  int outcome = SETTLE_KEEP_DB;
  char *merged = NULL;
  int rc = settle(c, type, "section", id, "text", label, bt, ct, ft, NULL,
                  &outcome, &merged);
  *text = NULL;
  if (rc == ENG_OK && outcome != SETTLE_KEEP_DB) {
    *text = merged ? merged : ft;
    if (merged)
      merged = NULL;
    else
      ft = NULL;
  }
  free(merged);
  free(label);
  free(ft);
  free(ct);
  free(bt);
  return rc;
}

/* A section the database deleted while the file changed it: a structural
 * conflict; when the file wins, the section comes back with its text. */
static int revive_section(struct ctx *c, const struct owner_sections *o,
                          const struct psection *x,
                          const struct section *since) {
  char id[32], *text;
  section_id(since, id);
  int rc = settle_section_text(c, o, CT_STRUCTURAL, id, since, NULL, x, &text);
  if (rc == ENG_OK && text) {
    rc = store_field_set(c->st, "section", id, "text", text);
    if (rc == ENG_OK)
      rc = store_field_set(c->st, "section", id, "deleted", "0");
    c->changes++;
  }
  free(text);
  return rc;
}

/* A section the file adds, unless it is the empty placeholder. */
static int add_section(struct ctx *c, const struct owner_sections *o,
                       const struct psection *x, double pos) {
  if (is_blank(x->body) && o->placeholder &&
      strcmp(x->heading, o->placeholder) == 0)
    return ENG_OK;
  struct section n;
  section_init(&n);
  n.owner_kind = o->kind;
  n.owner_id = xstrdup(o->id);
  n.key = xstrdup(x->key);
  n.heading = xstrdup(x->heading);
  n.body = xstrdup(x->body);
  n.position = pos;
  int rc = store_section_insert(c->st, &n);
  section_release(&n);
  c->changes++;
  return rc;
}

/* A section both the file and the database have: the file's text when
 * only it changed the text, settled when both did; its position. */
static int update_section(struct ctx *c, const struct owner_sections *o,
                          const struct psection *x, const struct section *b,
                          const struct section *since, bool edited,
                          struct section *cur, double pos) {
  bool changed = false;
  int rc = ENG_OK;
  if (edited && !section_same(cur, x->heading, x->body)) {
    if (!since || section_same(cur, since->heading, since->body) ||
        (b && section_same(cur, b->heading, b->body))) {
      str_set(&cur->heading, x->heading);
      str_set(&cur->body, x->body);
      changed = true;
    } else {
      char id[32], *text;
      section_id(cur, id);
      rc = settle_section_text(c, o, CT_USER_CONTENT, id, since, cur, x, &text);
      if (text) {
        set_section_text(cur, text);
        changed = true;
      }
      free(text);
    }
  }
  if (cur->position != pos) {
    cur->position = pos;
    changed = true;
  }
  if (changed && rc == ENG_OK) {
    rc = store_section_update(c->st, cur);
    c->changes++;
  }
  return rc;
}

/* Merges one section of the file at position pos. */
static int merge_section(struct ctx *c, const struct owner_sections *o,
                         const struct psection *x, double pos) {
  struct section *b = find_section(o->b, o->nb, x->key);
  struct section *a = find_section(o->a, o->na, x->key);
  struct section *cur = find_section(o->cur, o->nc, x->key);
  bool edited = !(b && section_same(b, x->heading, x->body)) &&
                !(a && section_same(a, x->heading, x->body));
  const struct section *since = a ? a : b;
  if (!cur && (b || a))
    return edited ? revive_section(c, o, x, since) : ENG_OK;
  if (!cur)
    return add_section(c, o, x, pos);
  return update_section(c, o, x, b, since, edited, cur, pos);
}

static bool file_has_section(const struct psection *fs, size_t nf,
                             const char *key) {
  for (size_t k = 0; k < nf; k++)
    if (strcmp(fs[k].key, key) == 0)
      return true;
  return false;
}

/* Deletes the section v (as of a base) that the file no longer has,
 * unless the database changed it since and the policy keeps it. */
static int drop_section(struct ctx *c, const struct owner_sections *o,
                        const struct section *v) {
  struct section *cur = find_section(o->cur, o->nc, v->key);
  if (!cur || cur->deleted)
    return ENG_OK;
  int outcome = SETTLE_TAKE_FILE, rc = ENG_OK;
  if (!section_same(cur, v->heading, v->body)) {
    char id[32];
    section_id(cur, id);
    char *label = section_label(o->kind, o->id, cur->heading);
    char *merged = NULL;
    rc = settle(c, CT_STRUCTURAL, "section", id, "deleted", label, "0", "0",
                "1", NULL, &outcome, &merged);
    free(merged);
    free(label);
  }
  if (rc == ENG_OK && outcome == SETTLE_TAKE_FILE) {
    cur->deleted = true;
    rc = store_section_update(c->st, cur);
    c->changes++;
  }
  return rc;
}

/* Sections of the bases that the file no longer has. */
static int drop_sections(struct ctx *c, const struct owner_sections *o,
                         const struct psection *fs, size_t nf) {
  int rc = ENG_OK;
  for (int pass = 0; pass < 2 && rc == ENG_OK; pass++) {
    const struct section *v = pass ? o->a : o->b;
    size_t n = pass ? o->na : o->nb;
    for (size_t i = 0; i < n && rc == ENG_OK; i++) {
      if ((o->skip_prefix && str_starts(v[i].key, o->skip_prefix)) ||
          (o->only_key && strcmp(v[i].key, o->only_key) != 0))
        continue;
      if (!file_has_section(fs, nf, v[i].key))
        rc = drop_section(c, o, &v[i]);
    }
  }
  return rc;
}

/*
 * Merges the user sections of a file into those of one owner. A section
 * the file adds is created (unless it is the empty placeholder); one it
 * removes is deleted; text changed on one side is taken; text changed on
 * both is settled by the policy (line-wise merge first). skip_prefix:
 * keys of the owner that this file does not show (session notes files),
 * left alone; only_key: the one key this file shows (a notes file).
 * Positions change only when the file reorders the sections.
 */
int apply_sections(struct ctx *c, int owner_kind, const char *owner,
                   const struct psection *fs, size_t nf,
                   const char *placeholder, const char *skip_prefix,
                   const char *only_key) {
  struct owner_sections o = {.kind = owner_kind,
                             .id = owner,
                             .placeholder = placeholder,
                             .skip_prefix = skip_prefix,
                             .only_key = only_key};
  int rc = ENG_OK;
  if (c->base)
    rc = store_asof_sections(c->base, owner_kind, owner, &o.b, &o.nb);
  if (rc == ENG_OK && c->alt)
    rc = store_asof_sections(c->alt, owner_kind, owner, &o.a, &o.na);
  if (rc == ENG_OK)
    rc = store_section_list(c->st, owner_kind, owner, false, &o.cur, &o.nc);
  if (rc == ENG_OK) {
    double *pos = section_positions(&o, fs, nf);
    for (size_t i = 0; i < nf && rc == ENG_OK; i++)
      rc = merge_section(c, &o, &fs[i], pos[i]);
    free(pos);
  }
  if (rc == ENG_OK)
    rc = drop_sections(c, &o, fs, nf);
  store_sections_free(o.b, o.nb);
  store_sections_free(o.a, o.na);
  store_sections_free(o.cur, o.nc);
  return rc;
}

/* ---- tasks of a file ---- */

/* The state at the base (and the alternative base) of a task; not found
 * tasks are given the current state (created after the base). */
static int task_bases(struct ctx *c, const char *id, const struct task *cur,
                      struct task *b, struct task *a, bool *has_alt) {
  int rc = c->base && store_asof_touched(c->base, "task", id)
               ? store_asof_task(c->base, id, b)
               : ENG_NOTFOUND;
  if (rc == ENG_NOTFOUND) {
    task_copy(b, cur);
    rc = ENG_OK;
  }
  *has_alt = false;
  if (rc == ENG_OK && c->alt) {
    if (!store_asof_touched(c->alt, "task", id)) {
      task_copy(a, cur);
      *has_alt = true;
      return rc;
    }
    int arc = store_asof_task(c->alt, id, a);
    if (arc == ENG_OK)
      *has_alt = true;
    else if (arc != ENG_NOTFOUND)
      rc = arc;
  }
  return rc;
}

/* Checks the ids a block depends on: one that is no task is a diagnostic
 * at the block; a failure of the store is returned. */
static int check_deps(struct ctx *c, const struct ptask *p,
                      const struct task *f) {
  for (size_t i = 0; i < f->dependencies.n; i++) {
    bool yes;
    int rc = store_task_exists(c->st, f->dependencies.v[i], &yes);
    if (rc)
      return rc;
    if (!yes)
      diags_add(c->dg, DIAG_ERROR, p->line,
                "task '%s' depends on '%s', which is not a task id",
                f->id ? f->id : p->title, f->dependencies.v[i]);
  }
  return ENG_OK;
}

/* A store failure on one block becomes a diagnostic there when it is a
 * matter of the text (a bad value); other failures are returned. */
static int block_failure(struct ctx *c, int rc, int line) {
  if (rc == ENG_INVALID || rc == ENG_EXISTS) {
    diags_add(c->dg, DIAG_ERROR, line, "%s", store_errmsg(c->st));
    return ENG_OK;
  }
  return rc;
}

/* The task a block names, as it is now (known: already read). *ok is
 * false, with a diagnostic, when the block cannot save it: no such task,
 * or one of another session. */
static int current_task(struct ctx *c, const struct ptask *p, const char *id,
                        const struct task *known, struct task *cur, bool *ok) {
  int rc = ENG_OK;
  *ok = false;
  if (known)
    task_copy(cur, known);
  else
    rc = store_task_get(c->st, id, cur);
  if (rc == ENG_NOTFOUND) {
    diags_add(c->dg, DIAG_ERROR, p->line,
              "'%s' is not a task id: remove the id from the heading to "
              "make a new task",
              id);
    return ENG_OK;
  }
  if (rc)
    return rc;
  if (!str_eq(cur->session_id, c->f->session)) {
    diags_add(c->dg, DIAG_ERROR, p->line,
              "task '%s' belongs to session %s, not to this one", id,
              cur->session_id);
    return ENG_OK;
  }
  *ok = true;
  return ENG_OK;
}

/* A task file's Group line, when it names another group than the base's
 * (b): the task moves to it. A name that is no group is a diagnostic; a
 * failure of the store is returned. */
static int move_to_named_group(struct ctx *c, const struct ptask *p,
                               const struct task *b, struct task *f) {
  struct group g, bg;
  group_init(&g);
  group_init(&bg);
  int rc = store_group_get(c->st, b->group_id, &bg);
  if (rc == ENG_OK && line_same(p->group_name, bg.name))
    goto out; /* unchanged */
  if (rc == ENG_OK || rc == ENG_NOTFOUND)
    rc = store_group_find(c->st, c->f->session, p->group_name, &g);
  if (rc == ENG_OK) {
    str_set(&f->group_id, g.id);
  } else if (rc == ENG_NOTFOUND) {
    diags_add(c->dg, DIAG_ERROR, p->group_line,
              "no group named '%s' in this session: use the name of a "
              "file in task_groups/",
              p->group_name);
    rc = ENG_OK;
  }
out:
  group_release(&g);
  group_release(&bg);
  return rc;
}

/* *ours: whether a save of a file (not the orchestrator) deleted task id
 * last. */
static int deleted_by_save(struct ctx *c, const char *id, bool *ours) {
  struct change last = {0};
  int rc = store_last_change(c->st, "task", id, "deleted", &last);
  *ours = rc == ENG_OK && str_eq(last.source, "taskfs");
  store_change_release(&last);
  return rc == ENG_NOTFOUND ? ENG_OK : rc;
}

/* A block f that edits a task the database deleted since the base b: a
 * structural conflict, settled by the policy. When the file wins, the
 * task comes back as the file has it (*revived; b becomes cur). */
static int settle_deleted_task(struct ctx *c, const char *id,
                               const struct task *f, struct task *cur,
                               struct task *b, bool *revived) {
  int edited = 0;
  for (int i = 0; i < TF_COUNT; i++)
    if (i != TF_POSITION && i != TF_DELETED && i != TF_STARTED &&
        i != TF_COMPLETED && !task_field_eq(f, b, i))
      edited++;
  if (!edited)
    return ENG_OK;
  char *json = record_fields_json(RK_TASK, f, FIELD_MERGED);
  struct buf shown = BUF_INIT;
  buf_printf(&shown, "### %s `%s`\n\n", f->title, f->id);
  render_task_body(&shown, f, NULL);
  char *label = task_label(f);
  int outcome = SETTLE_KEEP_DB;
  char *merged = NULL;
  int rc = settle(c, CT_STRUCTURAL, "task", id, "block", label, NULL, "1", json,
                  shown.ptr, &outcome, &merged);
  if (rc == ENG_OK && outcome != SETTLE_KEEP_DB) {
    cur->deleted = false;
    *revived = true;
    c->changes++;
    task_release(b);
    task_copy(b, cur);
    b->deleted = false;
  }
  free(merged);
  free(label);
  free(json);
  buf_release(&shown);
  return rc;
}

/* A block f showing a task the database deleted since the base b. A block
 * moved into group (NULL: its own file) from a file whose save deleted it
 * is a move; anything else that edits it is a conflict. *revived when the
 * task comes back; otherwise the block is left alone. */
static int deleted_task(struct ctx *c, const char *id, const char *group,
                        const struct task *f, struct task *cur, struct task *b,
                        bool *revived) {
  bool moved = group && !str_eq(cur->group_id, group), ours;
  int rc = deleted_by_save(c, id, &ours);
  if (rc)
    return rc;
  if (ours && (moved || b->deleted)) {
    cur->deleted = false;
    *revived = true;
    c->changes++;
    return ENG_OK;
  }
  if (b->deleted)
    return ENG_OK; /* deleted at the base too: shown by mistake */
  return settle_deleted_task(c, id, f, cur, b, revived);
}

/* Saves one existing task as a block shows it (in group group, or in its
 * own file when group is NULL). */
static int save_task(struct ctx *c, const struct ptask *p, const char *id,
                     const char *group, const struct task *known,
                     double *pos_out) {
  struct task cur, b, a, f;
  task_init(&cur);
  task_init(&b);
  task_init(&a);
  task_init(&f);
  bool ok, has_alt = false, revived = false;
  int rc = current_task(c, p, id, known, &cur, &ok);
  if (rc || !ok)
    goto out;
  if ((rc = task_bases(c, id, &cur, &b, &a, &has_alt)))
    goto out;
  resolve_task(c, p, &b, has_alt ? &a : NULL, &f);
  if (group)
    str_set(&f.group_id, group);
  else if (p->group_name && (rc = move_to_named_group(c, p, &b, &f)))
    goto out;
  if ((rc = check_deps(c, p, &f)))
    goto out;
  if (cur.deleted) {
    rc = deleted_task(c, id, group, &f, &cur, &b, &revived);
    if (rc || !revived)
      goto out;
  }
  int taken = 0;
  if ((rc =
           merge_fields(c, RK_TASK, &f, &b, has_alt ? &a : NULL, &cur, &taken)))
    goto out;
  c->changes += taken;
  if (c->dg->errors)
    goto out;
  if (pos_out)
    *pos_out = cur.position;
  if (taken || revived) {
    rc = store_task_update(c->st, &cur);
    if (rc)
      rc = block_failure(c, rc, p->line);
  }
out:
  task_release(&cur);
  task_release(&b);
  task_release(&a);
  task_release(&f);
  return rc;
}

/* Creates the task of a block without an id. */
int apply_new_task(struct ctx *c, const struct ptask *p, const char *group,
                   int default_status, double pos, const char *want_id,
                   char **id_out) {
  struct task t;
  task_init(&t);
  t.id = xstrdup(want_id);
  t.group_id = xstrdup(group);
  t.session_id = xstrdup(c->f->session);
  t.title = apply_norm_line(p->title);
  int status = p->status >= 0           ? p->status
               : p->table_status >= 0   ? p->table_status
               : p->checkbox == 1       ? STATUS_COMPLETED
               : p->section_status >= 0 ? p->section_status
                                        : default_status;
  task_set_status(&t, status);
  if (p->progress >= 0)
    t.progress = p->progress;
  else if (p->table_progress >= 0)
    t.progress = p->table_progress;
  if (p->priority >= 0)
    t.priority = p->priority;
  t.specialist = xstrdup(p->has_specialist ? p->specialist : "");
  t.estimate = p->has_estimate ? p->estimate : NAN;
  t.actual = p->has_actual ? p->actual : NAN;
  strlist_copy(&t.dependencies, &p->dependencies);
  strlist_copy(&t.deliverables, &p->deliverables);
  t.description = apply_norm_text(p->description);
  t.current_status = apply_norm_text(p->current_status);
  t.position = pos;
  int rc = check_deps(c, p, &t);
  if (rc == ENG_OK && !c->dg->errors) {
    rc = store_task_insert(c->st, &t);
    if (rc == ENG_OK) {
      c->changes++;
      strlist_add(&c->created_titles, t.title);
      strlist_add(&c->created_ids, t.id);
      if (id_out)
        *id_out = xstrdup(t.id);
    } else {
      rc = block_failure(c, rc, p->line);
    }
  }
  task_release(&t);
  return rc;
}

/* The id an id-less block had after the same old text was saved before:
 * the task that save created with the same title. */
static const char *memo_id(struct ctx *c, const struct ptask *p) {
  if (!c->has_memo)
    return NULL;
  char *title = apply_norm_line(p->title);
  const char *id = NULL;
  for (size_t i = 0; i < c->memo.created_ids.n && !id; i++)
    if (!c->memo_used[i] && strcmp(c->memo.created_titles.v[i], title) == 0) {
      c->memo_used[i] = true;
      id = c->memo.created_ids.v[i];
    }
  free(title);
  return id;
}

/* ---- files ---- */

struct placed {
  const char *id; /* NULL until a new task is made */
  const struct ptask *p;
  double pos;
  bool fresh;
};

static int cmp_str(const void *x, const void *y) {
  return strcmp(*(char *const *)x, *(char *const *)y);
}

static int cmp_task_id(const void *x, const void *y) {
  return strcmp(((const struct task *)x)->id, ((const struct task *)y)->id);
}

static int cmp_double(const void *x, const void *y) {
  double a = *(const double *)x, b = *(const double *)y;
  return a < b ? -1 : a > b;
}

/* Orders the tasks of each status section as the file lists them: the
 * positions they had are handed out again in the file's order. */
static int reorder(struct ctx *c, struct placed *v, size_t n) {
  for (int s = 0; s < STATUS_COUNT; s++) {
    size_t m = 0;
    double *pos = xcalloc(n + 1, sizeof *pos);
    bool sorted = true;
    double last = -INFINITY;
    for (size_t i = 0; i < n; i++) {
      if (v[i].p->section_status != s || v[i].fresh || !v[i].id)
        continue;
      pos[m++] = v[i].pos;
      if (v[i].pos < last)
        sorted = false;
      last = v[i].pos;
    }
    if (!sorted) {
      xsort(pos, m, sizeof *pos, cmp_double);
      size_t k = 0;
      for (size_t i = 0; i < n; i++) {
        if (v[i].p->section_status != s || v[i].fresh || !v[i].id)
          continue;
        struct task t;
        task_init(&t);
        int rc = store_task_get(c->st, v[i].id, &t);
        if (rc == ENG_OK && t.position != pos[k]) {
          t.position = pos[k];
          rc = store_task_update(c->st, &t);
          c->changes++;
        }
        v[i].pos = pos[k++];
        task_release(&t);
        if (rc) {
          free(pos);
          return rc;
        }
      }
    }
    free(pos);
  }
  return ENG_OK;
}

/* A position for a new task between its neighbours in its section. */
static double new_position(struct placed *v, size_t n, size_t i, double max) {
  int s = v[i].p->section_status;
  double prev = NAN, next = NAN;
  for (size_t k = i; k-- > 0;)
    if (v[k].p->section_status == s && !v[k].fresh) {
      prev = v[k].pos;
      break;
    }
  for (size_t k = i + 1; k < n; k++)
    if (v[k].p->section_status == s && !v[k].fresh) {
      next = v[k].pos;
      break;
    }
  if (!isnan(prev) && !isnan(next))
    return (prev + next) / 2;
  if (!isnan(prev))
    return isnan(next) ? fmax(prev, max) + 1 : prev + 1;
  if (!isnan(next))
    return next - 1;
  return max + 1;
}

/*
 * Deletes (softly) the tasks ids of group g that the file no longer
 * shows. When they are many, and at least half of the n tasks of shown
 * (what the file showed), none is deleted: a truncated or emptied file is
 * more likely than a cleanup that large, and the deletion waits for a
 * person to confirm it in the conflict file (taskfs.yaml's
 * confirm_deletions).
 */
static int delete_tasks(struct ctx *c, const struct group *g,
                        const struct strlist *ids, const struct task *shown,
                        size_t n) {
  size_t was = 0;
  for (size_t i = 0; i < n; i++)
    was += !shown[i].deleted;
  int at_least = c->env.policy->confirm_deletions;
  if (at_least > 0 && ids->n >= (size_t)at_least && 2 * ids->n >= was) {
    char *label = xasprintf("%zu tasks of %s deleted at once", ids->n, g->name);
    int rc = conflict_hold_deletions(c->st, &c->env, g->id, label, ids, was);
    free(label);
    return rc;
  }
  int rc = ENG_OK;
  for (size_t i = 0; i < ids->n && rc == ENG_OK; i++) {
    struct task t;
    task_init(&t);
    rc = store_task_get(c->st, ids->v[i], &t);
    if (rc == ENG_OK) {
      t.deleted = true;
      rc = store_task_update(c->st, &t);
      c->changes++;
    }
    task_release(&t);
  }
  return rc;
}

/* The group's own fields as the file has them: a copy of the base b with
 * the file's values (a: the alternative base or NULL). */
static void resolve_group(struct ctx *c, const struct group *b,
                          const struct group *a, struct group *fg) {
  const struct doc *d = c->doc;
  group_copy(fg, b);
  if (d->title && !line_same(d->title, b->title) &&
      !(a && line_same(d->title, a->title)))
    pick_text(&fg->title, d->title, b->title, NULL, true);
  if (d->status >= 0 && d->status != b->status &&
      !(a && d->status == a->status))
    fg->status = d->status;
  if (d->priority >= 0 && d->priority != b->priority &&
      !(a && d->priority == a->priority))
    fg->priority = d->priority;
  pick_text(&fg->specialist, d->has_specialist ? d->specialist : "",
            b->specialist, a ? a->specialist : NULL, true);
  pick_text(&fg->description, d->description ? d->description : "",
            b->description, a ? a->description : NULL, false);
}

/* Merges the group's own fields into the group gid, read into cur. */
static int merge_group(struct ctx *c, const char *gid, struct group *cur) {
  struct group b, a, fg;
  group_init(&b);
  group_init(&a);
  group_init(&fg);
  int rc = store_group_get(c->st, gid, cur);
  if (rc == ENG_OK) {
    if (!c->base || store_asof_group(c->base, gid, &b) != ENG_OK)
      group_copy(&b, cur);
    bool has_alt = c->alt && store_asof_group(c->alt, gid, &a) == ENG_OK;
    resolve_group(c, &b, has_alt ? &a : NULL, &fg);
    int taken = 0;
    rc = merge_fields(c, RK_GROUP, &fg, &b, has_alt ? &a : NULL, cur, &taken);
    if (rc == ENG_OK && taken && !c->dg->errors) {
      rc = store_group_update(c->st, cur);
      if (rc == ENG_OK)
        c->changes += taken;
    }
  }
  group_release(&b);
  group_release(&a);
  group_release(&fg);
  return rc;
}

/* Saves, in file order, the blocks of a group file that name a task (or
 * had one made by an earlier save of the same text) into pl, one entry a
 * block; ct: the group's current tasks, sorted by id. */
static int place_tasks(struct ctx *c, const char *gid, const struct task *ct,
                       size_t nct, struct placed *pl) {
  const struct doc *d = c->doc;
  int rc = ENG_OK;
  for (size_t i = 0; i < d->ntasks && rc == ENG_OK; i++) {
    const struct ptask *p = &d->tasks[i];
    const char *id = p->id ? p->id : memo_id(c, p);
    pl[i] = (struct placed){id, p, 0, id == NULL};
    if (id) {
      struct task key = {.id = (char *)id};
      const struct task *known =
          xsearch(&key, ct, nct, sizeof *ct, cmp_task_id);
      rc = save_task(c, p, id, gid, known, &pl[i].pos);
    }
  }
  return rc;
}

/* Makes the tasks of the blocks without one, each between its
 * neighbours; max: the highest position in the group. */
static int create_tasks(struct ctx *c, const char *gid, struct placed *pl,
                        size_t npl, double max) {
  for (size_t i = 0; i < npl; i++) {
    if (!pl[i].fresh)
      continue;
    double pos = new_position(pl, npl, i, max);
    max = fmax(max, pos);
    int rc = apply_new_task(c, pl[i].p, gid, STATUS_PLANNED, pos, NULL, NULL);
    if (rc)
      return rc;
    pl[i].fresh = false;
    pl[i].pos = pos;
  }
  return ENG_OK;
}

/* The ids a group file shows now, with the tasks this save made; sorted
 * for lookups. */
static void shown_ids(const struct ctx *c, const struct placed *pl, size_t npl,
                      struct strlist *ids) {
  for (size_t k = 0; k < npl; k++)
    if (pl[k].id)
      strlist_add(ids, pl[k].id);
  for (size_t k = 0; k < c->created_ids.n; k++)
    strlist_add(ids, c->created_ids.v[k]);
  xsort(ids->v, ids->n, sizeof *ids->v, cmp_str);
}

/*
 * A task of group gid that the file showed as of a base (the alternative
 * base when alt) and no longer shows joins doomed, unless the file never
 * showed it (made after the text was read, by the database or by this
 * very save, not by an earlier save of this text) or the database changed
 * it since and the policy keeps it.
 */
static int drop_task(struct ctx *c, const char *gid, const char *id, bool alt,
                     struct strlist *doomed) {
  int64_t since = alt ? c->alt_rev : c->base_rev;
  struct task t;
  task_init(&t);
  int rc = store_task_get(c->st, id, &t);
  if (rc == ENG_NOTFOUND) {
    rc = ENG_OK;
  } else if (rc == ENG_OK && !t.deleted && str_eq(t.group_id, gid)) {
    int outcome = SETTLE_TAKE_FILE;
    if (t.created_rev > since || (alt && t.created_rev > c->base_rev &&
                                  !strlist_has(&c->memo.created_ids, t.id))) {
      outcome = SETTLE_KEEP_DB;
    } else if (t.rev > since && !(c->alt && t.rev <= c->alt_rev)) {
      char *label = task_label(&t), *merged = NULL;
      rc = settle(c, CT_STRUCTURAL, "task", t.id, "deleted", label, "0", "0",
                  "1", NULL, &outcome, &merged);
      free(label);
      free(merged);
    }
    if (rc == ENG_OK && outcome == SETTLE_TAKE_FILE &&
        !strlist_has(doomed, t.id))
      strlist_add(doomed, t.id);
  }
  task_release(&t);
  return rc;
}

/* Tasks the group file no longer shows are deleted, unless the database
 * changed them since. ct: the group's tasks as read before this save
 * changed any, sorted by id. */
static int drop_tasks(struct ctx *c, const struct group *g,
                      const struct placed *pl, size_t npl,
                      const struct task *ct, size_t nct) {
  struct task *bt = NULL, *at = NULL;
  size_t nbt = 0, nat = 0;
  struct strlist ids = {0}, doomed = {0};
  int rc = ENG_OK;
  if (c->base)
    rc = store_asof_group_tasks(c->base, g->id, ct, nct, &bt, &nbt);
  if (rc == ENG_OK && c->alt)
    rc = store_asof_group_tasks(c->alt, g->id, ct, nct, &at, &nat);
  shown_ids(c, pl, npl, &ids);
  for (int pass = 0; pass < 2 && rc == ENG_OK; pass++) {
    const struct task *v = pass ? at : bt;
    size_t n = pass ? nat : nbt;
    for (size_t i = 0; i < n && rc == ENG_OK; i++) {
      const char *key = v[i].id;
      if (!v[i].deleted && !xsearch(&key, ids.v, ids.n, sizeof *ids.v, cmp_str))
        rc = drop_task(c, g->id, v[i].id, pass == 1, &doomed);
    }
  }
  if (rc == ENG_OK && doomed.n)
    rc = delete_tasks(c, g, &doomed, bt ? bt : at, bt ? nbt : nat);
  strlist_clear(&ids);
  strlist_clear(&doomed);
  store_tasks_free(bt, nbt);
  store_tasks_free(at, nat);
  return rc;
}

static double max_position(const struct task *v, size_t n) {
  double max = 0;
  for (size_t i = 0; i < n; i++)
    max = fmax(max, v[i].position);
  return max;
}

/* A group file: the group's fields, its tasks in file order (saved,
 * reordered, made, deleted), its sections. */
int apply_group(struct ctx *c) {
  const char *gid = c->f->record;
  size_t npl = c->doc->ntasks;
  struct placed *pl = xcalloc(npl + 1, sizeof *pl);
  struct task *ct = NULL;
  size_t nct = 0;
  struct group cur;
  group_init(&cur);
  int rc = merge_group(c, gid, &cur);
  if (rc == ENG_OK)
    rc = store_task_list_group(c->st, gid, true, &ct, &nct);
  if (rc == ENG_OK) {
    xsort(ct, nct, sizeof *ct, cmp_task_id);
    rc = place_tasks(c, gid, ct, nct, pl);
  }
  if (rc == ENG_OK && !c->dg->errors) {
    rc = reorder(c, pl, npl);
    if (rc == ENG_OK)
      rc = create_tasks(c, gid, pl, npl, max_position(ct, nct));
    if (rc == ENG_OK)
      rc = drop_tasks(c, &cur, pl, npl, ct, nct);
    if (rc == ENG_OK)
      rc = apply_sections(c, OWNER_GROUP, gid, c->doc->sections,
                          c->doc->nsections, NOTES_PLACEHOLDER, NULL, NULL);
  }
  free(pl);
  store_tasks_free(ct, nct);
  group_release(&cur);
  return rc;
}

int apply_task(struct ctx *c) {
  struct doc *d = c->doc;
  if (d->ntasks != 1)
    return ENG_OK; /* reported by the parser */
  const struct ptask *p = &d->tasks[0];
  int rc = save_task(c, p, c->f->record, NULL, NULL, NULL);
  if (rc || c->dg->errors)
    return rc;
  return apply_sections(c, OWNER_TASK, c->f->record, p->sections, p->nsections,
                        NOTES_PLACEHOLDER, NULL, NULL);
}

int apply_session(struct ctx *c) {
  struct doc *d = c->doc;
  const char *sid = c->f->session;
  struct session cur, b, a, fs;
  session_init(&cur);
  session_init(&b);
  session_init(&a);
  session_init(&fs);
  int rc = store_session_get(c->st, sid, &cur);
  if (rc)
    goto out;
  if (!c->base || store_asof_session(c->base, sid, &b) != ENG_OK)
    session_copy(&b, &cur);
  bool has_alt = c->alt && store_asof_session(c->alt, sid, &a) == ENG_OK;
  session_copy(&fs, &b);
  if (d->title)
    pick_text(&fs.title, d->title, b.title, has_alt ? a.title : NULL, true);
  if (d->status_word && !str_eq(d->status_word, b.status) &&
      !(has_alt && str_eq(d->status_word, a.status)))
    str_set(&fs.status, d->status_word);
  pick_text(&fs.mode, d->has_mode ? d->mode : "", b.mode,
            has_alt ? a.mode : NULL, true);
  pick_text(&fs.description, d->description ? d->description : "",
            b.description, has_alt ? a.description : NULL, false);
  int taken = 0;
  if ((rc = merge_fields(c, RK_SESSION, &fs, &b, has_alt ? &a : NULL, &cur,
                         &taken)))
    goto out;
  if (taken && !c->dg->errors) {
    if ((rc = store_session_update(c->st, &cur)))
      goto out;
    c->changes += taken;
  }
  rc = apply_sections(c, OWNER_SESSION, sid, d->sections, d->nsections,
                      "## \xf0\x9f\x92\xa1 Key Insights", "notes/", NULL);
out:
  session_release(&cur);
  session_release(&b);
  session_release(&a);
  session_release(&fs);
  return rc;
}

int apply_notes(struct ctx *c) {
  char key[32];
  snprintf(key, sizeof key, "notes/%s", notes_names[c->f->notes]);
  struct psection x = {.key = key,
                       .heading = "",
                       .line = 1,
                       .body = c->doc->notes_body ? c->doc->notes_body : ""};
  return apply_sections(c, OWNER_SESSION, c->f->session, &x, 1, "", NULL, key);
}
