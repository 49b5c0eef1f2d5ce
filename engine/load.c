/* SPDX-License-Identifier: MIT */
/* load.c: the store's records into documents (doc.h), for render_doc.
 * Reads the store and nothing else; how a document is written is
 * render.c's business. */
#include "load.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

void load_info(struct store *st, struct render_info *info, int64_t rev) {
  if (!info)
    return;
  info->rev = rev;
  info->mtime_ns = store_revision_time(st, rev);
}

/* A stored time as shown, or NULL for none. */
static char *shown_time(const char *stored) {
  char t[32];
  time_display(stored, t);
  return *t ? xstrdup(t) : NULL;
}

/* A header field that is shown only when it is not empty. */
static char *shown_text(const char *s, bool *has) {
  bool set = s && *s;
  if (has)
    *has = set;
  return set ? xstrdup(s) : NULL;
}

static void add_sections(struct psection **v, size_t *n,
                         const struct section *xs, size_t nx) {
  for (size_t i = 0; i < nx; i++) {
    struct psection p;
    psection_from_section(&p, &xs[i]);
    doc_add_section(v, n, p);
  }
}

static int load_task(struct store *st, const char *task_id, struct doc *d,
                     int64_t *rev) {
  struct task t;
  struct group g;
  struct section *xs = NULL;
  size_t nx = 0;
  task_init(&t);
  group_init(&g);
  int rc;
  if ((rc = store_task_get(st, task_id, &t)) ||
      (rc = store_group_get(st, t.group_id, &g)) ||
      (rc = store_section_list(st, OWNER_TASK, task_id, false, &xs, &nx)) ||
      (rc = store_owner_revision(st, OWNER_TASK, task_id, NULL, rev)))
    goto out;
  d->session = t.session_id ? xstrdup(t.session_id) : NULL;
  d->task = xstrdup(t.id);
  struct ptask *p = doc_add_task(d);
  ptask_from_task(p, &t, false, g.name);
  add_sections(&p->sections, &p->nsections, xs, nx);
out:
  store_sections_free(xs, nx);
  task_release(&t);
  group_release(&g);
  return rc;
}

static int load_group(struct store *st, const char *group_id, struct doc *d,
                      int64_t *rev) {
  struct group g;
  struct task *ts = NULL;
  struct section *xs = NULL;
  size_t nt = 0, nx = 0;
  group_init(&g);
  int rc;
  if ((rc = store_group_get(st, group_id, &g)) ||
      (rc = store_task_list_group(st, group_id, false, &ts, &nt)) ||
      (rc = store_section_list(st, OWNER_GROUP, group_id, false, &xs, &nx)) ||
      (rc = store_owner_revision(st, OWNER_GROUP, group_id, NULL, rev)))
    goto out;
  d->session = g.session_id ? xstrdup(g.session_id) : NULL;
  d->group = xstrdup(g.id);
  d->title = xstrdup(g.title);
  d->status = g.status;
  d->priority = g.priority;
  d->specialist = shown_text(g.specialist, &d->has_specialist);
  d->created = shown_time(g.created_at);
  d->description = xstrdup(g.description ? g.description : "");
  for (size_t i = 0; i < nt; i++)
    ptask_from_task(doc_add_task(d), &ts[i], true, NULL);
  add_sections(&d->sections, &d->nsections, xs, nx);
out:
  store_tasks_free(ts, nt);
  store_sections_free(xs, nx);
  group_release(&g);
  return rc;
}

static void add_stats(struct doc_stats *to, const struct group_stats *s) {
  for (int k = 0; k < STATUS_COUNT; k++)
    to->count[k] += s->count[k];
  to->estimate += s->estimate;
  to->actual += s->actual;
}

/* The groups table and charts: each group with its task counts (the
 * store gives both in group order), and the session's totals. */
static void load_groups(struct doc *d, const struct group *gs, size_t ng,
                        const struct group_stats *stats, size_t nstats) {
  for (size_t i = 0; i < nstats; i++)
    add_stats(&d->stats, &stats[i]);
  size_t n = ng < nstats ? ng : nstats;
  d->groups = xcalloc(n ? n : 1, sizeof *d->groups);
  for (size_t i = 0; i < n; i++) {
    struct doc_group *g = &d->groups[i];
    g->title = xstrdup(gs[i].title);
    g->name = xstrdup(gs[i].name);
    g->status = gs[i].status;
    g->priority = gs[i].priority;
    add_stats(&g->stats, &stats[i]);
  }
  d->ngroups = n;
}

static void load_events(struct doc *d, const struct task_event *v, size_t n) {
  d->events = xcalloc(n ? n : 1, sizeof *d->events);
  for (size_t i = 0; i < n; i++) {
    char t[32];
    time_display(v[i].at, t);
    d->events[i] = (struct doc_event){
        .added = strcmp(v[i].op, "insert") == 0,
        .status = status_parse(v[i].status),
        .at = xstrdup(t),
        .title = xstrdup(v[i].title ? v[i].title : ""),
        .group_name = xstrdup(v[i].group_name ? v[i].group_name : ""),
    };
  }
  d->nevents = n;
}

static int load_session(struct store *st, const char *session_id, struct doc *d,
                        int64_t *rev) {
  struct session s;
  struct group *gs = NULL;
  struct group_stats *stats = NULL;
  struct section *xs = NULL;
  struct task_event *ev = NULL;
  size_t ng = 0, nstats = 0, nx = 0, nev = 0;
  session_init(&s);
  int rc;
  if ((rc = store_session_get(st, session_id, &s)) ||
      (rc = store_group_list(st, session_id, false, &gs, &ng)) ||
      (rc = store_group_stats(st, session_id, &stats, &nstats)) ||
      (rc = store_section_list(st, OWNER_SESSION, session_id, false, &xs,
                               &nx)) ||
      (rc = store_task_events(st, session_id, 10, &ev, &nev)) ||
      (rc = store_owner_revision(st, OWNER_SESSION, session_id, NULL, rev)))
    goto out;
  d->session = xstrdup(s.id);
  d->title = xstrdup(s.title);
  d->status_word = xstrdup(s.status);
  d->mode = shown_text(s.mode, &d->has_mode);
  d->created = shown_time(s.created_at);
  d->description = xstrdup(s.description ? s.description : "");
  load_groups(d, gs, ng, stats, nstats);
  load_events(d, ev, nev);
  /* The notes files' sections are shown there, not here. */
  for (size_t i = 0; i < nx; i++)
    if (!str_starts(xs[i].key, "notes/"))
      add_sections(&d->sections, &d->nsections, &xs[i], 1);
out:
  store_groups_free(gs, ng);
  store_group_stats_free(stats, nstats);
  store_sections_free(xs, nx);
  store_task_events_free(ev, nev);
  session_release(&s);
  return rc;
}

static int load_notes(struct store *st, const char *session_id, int notes,
                      struct doc *d, int64_t *rev) {
  struct session s;
  struct section x;
  char key[32];
  snprintf(key, sizeof key, "notes/%s", notes_names[notes]);
  session_init(&s);
  section_init(&x);
  int rc;
  if ((rc = store_session_get(st, session_id, &s)) ||
      (rc = store_owner_revision(st, OWNER_SESSION, session_id, key, rev)))
    goto out;
  rc = store_section_get(st, OWNER_SESSION, session_id, key, &x);
  if (rc && rc != ENG_NOTFOUND)
    goto out;
  rc = ENG_OK;
  d->session = xstrdup(s.id);
  d->notes = xstrdup(notes_names[notes]);
  /* Without a section, the file is its title and an empty line. */
  d->notes_body = xstrdup(x.body ? x.body : "\n");
out:
  session_release(&s);
  section_release(&x);
  return rc;
}

int load_doc(struct store *st, int kind, const char *id, int notes,
             struct doc *d, struct render_info *info) {
  doc_init(d, kind);
  if (kind == DOC_NOTES && (notes < 0 || notes >= NOTES_COUNT))
    return ENG_NOTFOUND;
  if (kind != DOC_SESSION && kind != DOC_GROUP && kind != DOC_TASK &&
      kind != DOC_NOTES)
    return ENG_NOTFOUND;
  int64_t rev = 0;
  int rc = store_read_begin(st);
  if (rc)
    return rc;
  switch (kind) {
  case DOC_SESSION:
    rc = load_session(st, id, d, &rev);
    break;
  case DOC_GROUP:
    rc = load_group(st, id, d, &rev);
    break;
  case DOC_TASK:
    rc = load_task(st, id, d, &rev);
    break;
  default:
    rc = load_notes(st, id, notes, d, &rev);
  }
  d->revision = rev;
  if (rc == ENG_OK)
    load_info(st, info, rev);
  store_read_end(st);
  return rc;
}

int load_render(struct store *st, int kind, const char *id, int notes,
                struct buf *out, struct render_info *info) {
  struct doc d;
  int rc = load_doc(st, kind, id, notes, &d, info);
  if (rc == ENG_OK)
    render_doc(&d, out);
  doc_release(&d);
  return rc;
}
