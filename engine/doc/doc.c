/* SPDX-License-Identifier: MIT */
/* doc.c: the document model's lifecycle, its filling from stored records
 * and its comparison. Knows nothing of the store's calls or of text. */
#include "doc.h"
#include "util.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- diagnostics ---- */

void diags_add(struct diags *d, int level, int line, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *msg = xvasprintf(fmt, ap);
  va_end(ap);
  XGROW(d->v, d->cap, d->n + 1);
  d->v[d->n++] = (struct diag){line, level, msg};
  if (level == DIAG_ERROR)
    d->errors++;
  else
    d->warnings++;
}

void diags_release(struct diags *d) {
  for (size_t i = 0; i < d->n; i++)
    free(d->v[i].msg);
  free(d->v);
  memset(d, 0, sizeof *d);
}

void diags_format(const struct diags *d, struct buf *out) {
  for (int pass = 0; pass < 2; pass++)
    for (size_t i = 0; i < d->n; i++) {
      if ((pass == 0) != (d->v[i].level == DIAG_ERROR))
        continue;
      if (d->v[i].line > 0)
        buf_printf(out, "line %d: ", d->v[i].line);
      buf_printf(out, "%s: %s\n",
                 d->v[i].level == DIAG_ERROR ? "error" : "warning",
                 d->v[i].msg);
    }
}

/* ---- lifecycle ---- */

void ptask_init(struct ptask *t) {
  memset(t, 0, sizeof *t);
  t->section_status = t->checkbox = t->status = t->progress = -1;
  t->priority = t->table_status = t->table_progress = -1;
  t->estimate = t->actual = NAN;
}

void psection_release(struct psection *x) {
  free(x->key);
  free(x->heading);
  free(x->body);
}

void ptask_release(struct ptask *t) {
  free(t->id);
  free(t->title);
  free(t->specialist);
  strlist_clear(&t->dependencies);
  free(t->group_name);
  free(t->started);
  free(t->completed);
  free(t->description);
  strlist_clear(&t->deliverables);
  free(t->current_status);
  free(t->table_title);
  for (size_t i = 0; i < t->nsections; i++)
    psection_release(&t->sections[i]);
  free(t->sections);
}

void doc_init(struct doc *d, int kind) {
  memset(d, 0, sizeof *d);
  d->kind = kind;
  d->revision = -1;
  d->status = d->priority = -1;
}

void doc_release(struct doc *d) {
  free(d->session);
  free(d->group);
  free(d->task);
  free(d->notes);
  free(d->title);
  free(d->status_word);
  free(d->specialist);
  free(d->mode);
  free(d->created);
  free(d->description);
  for (size_t i = 0; i < d->ntasks; i++)
    ptask_release(&d->tasks[i]);
  free(d->tasks);
  for (size_t i = 0; i < d->nsections; i++)
    psection_release(&d->sections[i]);
  free(d->sections);
  free(d->notes_body);
  for (size_t i = 0; i < d->ngroups; i++) {
    free(d->groups[i].title);
    free(d->groups[i].name);
  }
  free(d->groups);
  for (size_t i = 0; i < d->nevents; i++) {
    free(d->events[i].at);
    free(d->events[i].title);
    free(d->events[i].group_name);
  }
  free(d->events);
  for (size_t i = 0; i < d->ngenerated; i++)
    free(d->generated[i].name);
  free(d->generated);
  free(d->text);
  diags_release(&d->diags);
  memset(d, 0, sizeof *d);
}

struct ptask *doc_add_task(struct doc *d) {
  d->tasks = xrealloc(d->tasks, (d->ntasks + 1) * sizeof *d->tasks);
  struct ptask *t = &d->tasks[d->ntasks++];
  ptask_init(t);
  return t;
}

void doc_add_section(struct psection **v, size_t *n, struct psection x) {
  *v = xrealloc(*v, (*n + 1) * sizeof **v);
  (*v)[(*n)++] = x;
}

static char *dup_opt(const char *s) { return s ? xstrdup(s) : NULL; }

static void psection_copy(struct psection *dst, const struct psection *src) {
  *dst = *src;
  dst->key = dup_opt(src->key);
  dst->heading = dup_opt(src->heading);
  dst->body = dup_opt(src->body);
}

void ptask_copy(struct ptask *dst, const struct ptask *src) {
  *dst = *src;
  dst->id = dup_opt(src->id);
  dst->title = dup_opt(src->title);
  dst->specialist = dup_opt(src->specialist);
  dst->group_name = dup_opt(src->group_name);
  dst->started = dup_opt(src->started);
  dst->completed = dup_opt(src->completed);
  dst->description = dup_opt(src->description);
  dst->current_status = dup_opt(src->current_status);
  dst->table_title = dup_opt(src->table_title);
  memset(&dst->dependencies, 0, sizeof dst->dependencies);
  memset(&dst->deliverables, 0, sizeof dst->deliverables);
  strlist_copy(&dst->dependencies, &src->dependencies);
  strlist_copy(&dst->deliverables, &src->deliverables);
  dst->sections = NULL;
  dst->nsections = 0;
  if (src->nsections) {
    dst->sections = xmalloc(src->nsections * sizeof *dst->sections);
    for (size_t i = 0; i < src->nsections; i++)
      psection_copy(&dst->sections[i], &src->sections[i]);
    dst->nsections = src->nsections;
  }
}

static int shifted(int line, int delta) {
  return line > 0 ? line + delta : line;
}

void ptask_shift(struct ptask *t, int delta) {
  t->line = shifted(t->line, delta);
  t->end_line = shifted(t->end_line, delta);
  t->status_line = shifted(t->status_line, delta);
  t->progress_line = shifted(t->progress_line, delta);
  t->group_line = shifted(t->group_line, delta);
  t->table_line = shifted(t->table_line, delta);
  for (size_t i = 0; i < t->nsections; i++)
    t->sections[i].line = shifted(t->sections[i].line, delta);
}

/* ---- from stored records ---- */

static char *dup_or_empty(const char *s) { return xstrdup(s ? s : ""); }

/* A stored time as shown, or NULL for none. */
static char *shown_time(const char *stored) {
  char t[32];
  time_display(stored, t);
  return *t ? xstrdup(t) : NULL;
}

void ptask_from_task(struct ptask *p, const struct task *t, bool in_section,
                     const char *group_name) {
  ptask_init(p);
  p->id = t->id ? xstrdup(t->id) : NULL;
  p->title = dup_or_empty(t->title);
  p->section_status = in_section ? t->status : -1;
  p->checkbox = t->status == STATUS_COMPLETED;
  p->status = t->status;
  p->progress = t->progress;
  p->priority = t->priority;
  p->has_specialist = t->specialist && *t->specialist;
  p->specialist = p->has_specialist ? xstrdup(t->specialist) : NULL;
  p->has_estimate = !isnan(t->estimate);
  p->estimate = t->estimate;
  p->has_actual = !isnan(t->actual);
  p->actual = t->actual;
  p->has_deps = t->dependencies.n > 0;
  strlist_copy(&p->dependencies, &t->dependencies);
  p->group_name = group_name ? xstrdup(group_name) : NULL;
  p->started = shown_time(t->started_at);
  p->completed = shown_time(t->completed_at);
  p->description = dup_or_empty(t->description);
  strlist_copy(&p->deliverables, &t->deliverables);
  p->current_status = dup_or_empty(t->current_status);
}

void psection_from_section(struct psection *p, const struct section *x) {
  memset(p, 0, sizeof *p);
  p->key = dup_or_empty(x->key);
  p->heading = dup_or_empty(x->heading);
  p->body = dup_or_empty(x->body);
}

/* ---- comparison ---- */

/* Each check names the field it compares; the first difference is
 * written to why with the prefix of where it is. */
#define SAME(cond, name)                                                       \
  do {                                                                         \
    if (!(cond)) {                                                             \
      if (why)                                                                 \
        buf_printf(why, "%s%s", at, name);                                     \
      return false;                                                            \
    }                                                                          \
  } while (0)
#define SAME_STR(f) SAME(str_eq(a->f, b->f), #f)
#define SAME_INT(f) SAME(a->f == b->f, #f)
#define SAME_HOURS(f) SAME(isnan(a->f) ? isnan(b->f) : a->f == b->f, #f)
#define SAME_LIST(f) SAME(strlist_eq(&a->f, &b->f), #f)

static bool section_eq_at(const struct psection *a, const struct psection *b,
                          const char *at, struct buf *why) {
  SAME_STR(key);
  SAME_STR(heading);
  SAME_STR(body);
  return true;
}

/* The sections v and w, of n and m, under the prefix at. */
static bool sections_eq_at(const struct psection *v, size_t n,
                           const struct psection *w, size_t m, const char *at,
                           struct buf *why) {
  if (n != m) {
    if (why)
      buf_printf(why, "%snsections", at);
    return false;
  }
  for (size_t i = 0; i < n; i++) {
    char sub[64];
    snprintf(sub, sizeof sub, "%ssections[%zu].", at, i);
    if (!section_eq_at(&v[i], &w[i], sub, why))
      return false;
  }
  return true;
}

static bool task_eq_at(const struct ptask *a, const struct ptask *b,
                       const char *at, struct buf *why) {
  SAME_STR(id);
  SAME_STR(title);
  SAME_INT(section_status);
  SAME_INT(checkbox);
  SAME_INT(status);
  SAME_INT(progress);
  SAME_INT(priority);
  SAME_INT(has_specialist);
  SAME_STR(specialist);
  SAME_INT(has_estimate);
  SAME_HOURS(estimate);
  SAME_INT(has_actual);
  SAME_HOURS(actual);
  SAME_INT(has_deps);
  SAME_LIST(dependencies);
  SAME_STR(group_name);
  SAME_STR(started);
  SAME_STR(completed);
  SAME_STR(description);
  SAME_LIST(deliverables);
  SAME_STR(current_status);
  return sections_eq_at(a->sections, a->nsections, b->sections, b->nsections,
                        at, why);
}

bool psection_eq(const struct psection *a, const struct psection *b,
                 struct buf *why) {
  return section_eq_at(a, b, "", why);
}

bool ptask_eq(const struct ptask *a, const struct ptask *b, struct buf *why) {
  return task_eq_at(a, b, "", why);
}

bool doc_eq(const struct doc *a, const struct doc *b, struct buf *why) {
  const char *at = "";
  SAME_INT(kind);
  SAME_STR(session);
  SAME_STR(group);
  SAME_STR(task);
  SAME_STR(notes);
  SAME_INT(revision);
  SAME_STR(title);
  SAME_STR(status_word);
  SAME_INT(status);
  SAME_INT(priority);
  SAME_INT(has_specialist);
  SAME_STR(specialist);
  SAME_INT(has_mode);
  SAME_STR(mode);
  SAME_STR(created);
  SAME_STR(description);
  SAME_STR(notes_body);
  SAME_INT(ntasks);
  for (size_t i = 0; i < a->ntasks; i++) {
    char sub[64];
    snprintf(sub, sizeof sub, "tasks[%zu].", i);
    if (!task_eq_at(&a->tasks[i], &b->tasks[i], sub, why))
      return false;
  }
  return sections_eq_at(a->sections, a->nsections, b->sections, b->nsections,
                        "", why);
}

/* ---- everything parse found ---- */

static bool sections_lines_at(const struct psection *v,
                              const struct psection *w, size_t n,
                              const char *at, struct buf *why) {
  for (size_t i = 0; i < n; i++)
    if (v[i].line != w[i].line) {
      if (why)
        buf_printf(why, "%ssections[%zu].line", at, i);
      return false;
    }
  return true;
}

static bool task_found_at(const struct ptask *a, const struct ptask *b,
                          const char *at, struct buf *why) {
  SAME_INT(line);
  SAME_INT(end_line);
  SAME_INT(status_line);
  SAME_INT(progress_line);
  SAME_INT(group_line);
  SAME_INT(table_status);
  SAME_INT(table_progress);
  SAME_INT(table_line);
  SAME_STR(table_title);
  return sections_lines_at(a->sections, b->sections, a->nsections, at, why);
}

bool doc_identical(const struct doc *a, const struct doc *b, struct buf *why) {
  if (!doc_eq(a, b, why))
    return false;
  const char *at = "";
  SAME_INT(has_front_matter);
  SAME_INT(fm_end_line);
  SAME_INT(title_line);
  SAME(a->len == b->len && memcmp(a->text, b->text, a->len) == 0, "text");
  for (size_t i = 0; i < a->ntasks; i++) {
    char sub[64];
    snprintf(sub, sizeof sub, "tasks[%zu].", i);
    if (!task_found_at(&a->tasks[i], &b->tasks[i], sub, why))
      return false;
  }
  if (!sections_lines_at(a->sections, b->sections, a->nsections, "", why))
    return false;
  SAME_INT(ngenerated);
  for (size_t i = 0; i < a->ngenerated; i++) {
    const struct pgenerated *x = &a->generated[i], *y = &b->generated[i];
    if (!str_eq(x->name, y->name) || x->line != y->line ||
        x->start != y->start || x->end != y->end) {
      if (why)
        buf_printf(why, "generated[%zu]", i);
      return false;
    }
  }
  SAME_INT(diags.n);
  SAME_INT(diags.errors);
  SAME_INT(diags.warnings);
  for (size_t i = 0; i < a->diags.n; i++) {
    const struct diag *x = &a->diags.v[i], *y = &b->diags.v[i];
    if (x->line != y->line || x->level != y->level || !str_eq(x->msg, y->msg)) {
      if (why)
        buf_printf(why, "diags[%zu]: %d: %s | %d: %s", i, x->line, x->msg,
                   y->line, y->msg);
      return false;
    }
  }
  return true;
}
