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

/* ---- pieces of files kept in a cache (blocks.h) ---- */

/*
 * A piece shows one task's fields and nothing else of its file (a task
 * file's piece also its group's name), so it is keyed by what identifies
 * that state of the task: its id, its revision (every field a piece
 * writes is versioned, and each change stamps the row with a new
 * revision and time), the time of that change, and for a task file the
 * group's name. The revision counter only grows in a database, and the
 * mount empties the cache when its database file is replaced (mount.c).
 *
 * Inside a write transaction the cache is not used: the revisions that
 * transaction stamps are given again if it rolls back.
 */
struct pieces {
  struct blocks *cache;
  const struct task **rows;      /* the row of each task of the document */
  const char *group_name;        /* a task file's group */
  struct buf held;               /* the texts found before rendering */
  size_t (*at)[RENDER_PARTS][2]; /* offset and length in held; 0: none */
  struct buf key;
};

static void piece_key(struct pieces *p, size_t i, int part) {
  const struct task *t = p->rows[i];
  const char *upd = t->updated_at ? t->updated_at : "";
  const char *id = t->id ? t->id : "";
  buf_truncate(&p->key, 0);
  buf_printf(&p->key, "%d %lld %zu:%s %zu:%s", part, (long long)t->rev,
             strlen(upd), upd, strlen(id), id);
  if (part == RENDER_TASK)
    buf_printf(&p->key, " %zu:%s", strlen(p->group_name), p->group_name);
}

static void pieces_init(struct pieces *p, struct blocks *cache, size_t n) {
  *p = (struct pieces){.cache = cache};
  buf_init(&p->held);
  buf_init(&p->key);
  p->rows = xcalloc(n ? n : 1, sizeof *p->rows);
  p->at = xcalloc(n ? n : 1, sizeof *p->at);
}

static void pieces_release(struct pieces *p) {
  buf_release(&p->held);
  buf_release(&p->key);
  free(p->rows);
  free(p->at);
}

/* Takes the pieces of task i (row t) that the cache holds, of parts (a
 * list ending in -1); true when it holds every one. */
static bool pieces_fetch(struct pieces *p, size_t i, const struct task *t,
                         const int *parts) {
  p->rows[i] = t;
  bool all = true;
  for (; *parts >= 0; parts++) {
    piece_key(p, i, *parts);
    size_t at = p->held.len;
    if (blocks_get(p->cache, p->key.ptr, p->key.len, &p->held) &&
        p->held.len > at) {
      p->at[i][*parts][0] = at;
      p->at[i][*parts][1] = p->held.len - at;
    } else {
      all = false;
    }
  }
  return all;
}

static bool piece_get(void *ctx, size_t i, int part, struct buf *out) {
  struct pieces *p = ctx;
  if (!p->at[i][part][1])
    return false;
  buf_add(out, p->held.ptr + p->at[i][part][0], p->at[i][part][1]);
  return true;
}

static void piece_put(void *ctx, size_t i, int part, const char *text,
                      size_t len) {
  struct pieces *p = ctx;
  piece_key(p, i, part);
  blocks_put(p->cache, p->key.ptr, p->key.len, text, len);
}

/* Renders d into out, its pieces through p when not NULL. */
static void render_with(const struct doc *d, struct pieces *p,
                        struct buf *out) {
  struct render_parts parts = {piece_get, piece_put, p};
  render_doc_parts(d, p ? &parts : NULL, out);
}

/* A task of a group file whose pieces come from the cache: only what the
 * file places and counts it by. */
static void ptask_placed(struct ptask *p, const struct task *t) {
  p->id = xstrdup(t->id);
  p->title = xstrdup("");
  p->status = p->section_status = t->status;
  p->estimate = t->estimate;
  p->actual = t->actual;
}

/* Each loader fills d; when out is not NULL it also renders d into out
 * while the rows are at hand, its pieces through the cache pc when not
 * NULL. */
static int load_task(struct store *st, const char *task_id, struct doc *d,
                     int64_t *rev, struct pieces *pc, struct buf *out) {
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
      (!*rev &&
       (rc = store_owner_revision(st, OWNER_TASK, task_id, NULL, rev))))
    goto out;
  d->session = t.session_id ? xstrdup(t.session_id) : NULL;
  d->task = xstrdup(t.id);
  struct ptask *p = doc_add_task(d);
  ptask_from_task(p, &t, false, g.name);
  add_sections(&p->sections, &p->nsections, xs, nx);
  if (out) {
    static const int parts[] = {RENDER_TASK, -1};
    d->revision = *rev;
    if (pc) {
      pc->group_name = g.name ? g.name : "";
      pieces_fetch(pc, 0, &t, parts);
    }
    render_with(d, pc, out);
  }
out:
  store_sections_free(xs, nx);
  task_release(&t);
  group_release(&g);
  return rc;
}

/* The full rows of the tasks of ts (read with SQ_TASK_STATES) for which
 * need is true, in their place: one query per row when few are needed,
 * the group's list when many are. Same read snapshot, so the list has the
 * same tasks in the same order. */
static int load_full_rows(struct store *st, const char *group_id,
                          struct task *ts, size_t nt, const bool *need,
                          size_t nneed) {
  if (nneed > 16 + nt / 8) {
    struct task *full = NULL;
    size_t nfull = 0;
    int rc = store_task_list_group(st, group_id, false, &full, &nfull);
    if (rc == ENG_OK && nfull != nt)
      rc = store_fail(st, ENG_DB, "the tasks of %s changed in a snapshot",
                      group_id);
    for (size_t i = 0; rc == ENG_OK && i < nt; i++) {
      if (!str_eq(full[i].id, ts[i].id)) {
        rc = store_fail(st, ENG_DB, "the tasks of %s changed in a snapshot",
                        group_id);
        break;
      }
      struct task t = ts[i];
      ts[i] = full[i];
      full[i] = t;
    }
    store_tasks_free(full, nfull);
    return rc;
  }
  for (size_t i = 0; i < nt; i++) {
    if (!need[i])
      continue;
    struct task t;
    task_init(&t);
    int rc = store_task_get(st, ts[i].id, &t);
    if (rc) {
      task_release(&t);
      return rc;
    }
    task_release(&ts[i]);
    ts[i] = t;
  }
  return ENG_OK;
}

/* A group file's tasks through the cache: their states first, the full
 * rows only of those whose pieces it does not hold. */
static int load_group_tasks(struct store *st, const char *group_id,
                            struct doc *d, struct blocks *cache,
                            struct buf *out) {
  static const int parts[] = {RENDER_ROW, RENDER_BLOCK, -1};
  struct store_query q = {
      .what = SQ_TASK_STATES, .group_id = group_id, .status = -1};
  struct task *ts = NULL;
  size_t nt = 0, nneed = 0;
  int rc = store_query(st, &q, (void **)&ts, &nt);
  if (rc)
    return rc;
  struct pieces pc;
  pieces_init(&pc, cache, nt);
  bool *need = xcalloc(nt ? nt : 1, sizeof *need);
  for (size_t i = 0; i < nt; i++)
    if ((need[i] = !pieces_fetch(&pc, i, &ts[i], parts)))
      nneed++;
  if (nneed)
    rc = load_full_rows(st, group_id, ts, nt, need, nneed);
  for (size_t i = 0; rc == ENG_OK && i < nt; i++) {
    struct ptask *p = doc_add_task(d);
    pc.rows[i] = &ts[i];
    if (need[i])
      ptask_from_task(p, &ts[i], true, NULL);
    else
      ptask_placed(p, &ts[i]);
  }
  if (rc == ENG_OK)
    render_with(d, &pc, out);
  free(need);
  pieces_release(&pc);
  store_tasks_free(ts, nt);
  return rc;
}

static int load_group(struct store *st, const char *group_id, struct doc *d,
                      int64_t *rev, struct blocks *cache, struct buf *out) {
  struct group g;
  struct task *ts = NULL;
  struct section *xs = NULL;
  size_t nt = 0, nx = 0;
  bool cached = cache && out;
  group_init(&g);
  int rc;
  if ((rc = store_group_get(st, group_id, &g)) ||
      (!cached &&
       (rc = store_task_list_group(st, group_id, false, &ts, &nt))) ||
      (rc = store_section_list(st, OWNER_GROUP, group_id, false, &xs, &nx)) ||
      (!*rev &&
       (rc = store_owner_revision(st, OWNER_GROUP, group_id, NULL, rev))))
    goto out;
  d->session = g.session_id ? xstrdup(g.session_id) : NULL;
  d->group = xstrdup(g.id);
  d->title = xstrdup(g.title);
  d->status = g.status;
  d->priority = g.priority;
  d->specialist = shown_text(g.specialist, &d->has_specialist);
  d->created = shown_time(g.created_at);
  d->description = xstrdup(g.description ? g.description : "");
  add_sections(&d->sections, &d->nsections, xs, nx);
  d->revision = *rev;
  if (cached) {
    rc = load_group_tasks(st, group_id, d, cache, out);
    goto out;
  }
  for (size_t i = 0; i < nt; i++)
    ptask_from_task(doc_add_task(d), &ts[i], true, NULL);
  if (out)
    render_doc(d, out);
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

/*
 * The session's per-group stats through the cache: each group's stats
 * are keyed by its id and its rev (store_group_revs), so only the groups
 * whose tasks changed since they were last counted are counted again.
 * The same rules as the pieces' keep the key's meaning: revisions only
 * grow in a database, the cache is emptied when the file is replaced,
 * and inside a write transaction the cache is not used.
 */
static int load_stats_cached(struct store *st, const char *session_id,
                             struct blocks *cache, struct group_stats **out,
                             size_t *n) {
  int rc = store_group_revs(st, session_id, out, n);
  struct buf key = BUF_INIT, held = BUF_INIT;
  for (size_t i = 0; rc == ENG_OK && i < *n; i++) {
    struct group_stats *g = &(*out)[i];
    const char *id = g->group_id ? g->group_id : "";
    /* A cache entry is the group's stats with no id and no rev: both
     * are in its key. */
    struct group_stats sp;
    buf_truncate(&key, 0);
    buf_truncate(&held, 0);
    buf_printf(&key, "stats %lld %zu:%s", (long long)g->rev, strlen(id), id);
    if (blocks_get(cache, key.ptr, key.len, &held) && held.len == sizeof sp) {
      memcpy(&sp, held.ptr, sizeof sp);
      sp.group_id = g->group_id;
      sp.rev = g->rev;
      *g = sp;
      continue;
    }
    if ((rc = store_group_stats_of(st, id, g)))
      break;
    memcpy(&sp, g, sizeof sp);
    sp.group_id = NULL;
    sp.rev = 0;
    blocks_put(cache, key.ptr, key.len, (const char *)&sp, sizeof sp);
  }
  buf_release(&key);
  buf_release(&held);
  return rc;
}

static int load_session(struct store *st, const char *session_id, struct doc *d,
                        int64_t *rev, struct blocks *cache) {
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
      (rc = cache ? load_stats_cached(st, session_id, cache, &stats, &nstats)
                  : store_group_stats(st, session_id, &stats, &nstats)) ||
      (rc = store_section_list(st, OWNER_SESSION, session_id, false, &xs,
                               &nx)) ||
      (rc = store_task_events(st, session_id, 10, &ev, &nev)) ||
      (!*rev &&
       (rc = store_owner_revision(st, OWNER_SESSION, session_id, NULL, rev))))
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
      (!*rev &&
       (rc = store_owner_revision(st, OWNER_SESSION, session_id, key, rev))))
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

/* load_doc, and with out the rendering of d into out (through cache when
 * not NULL and no write transaction is open). */
static int load(struct store *st, struct blocks *cache, int kind,
                const char *id, int notes, int64_t known_rev, struct doc *d,
                struct render_info *info, struct buf *out) {
  doc_init(d, kind);
  if (kind == DOC_NOTES && (notes < 0 || notes >= NOTES_COUNT))
    return ENG_NOTFOUND;
  if (kind != DOC_SESSION && kind != DOC_GROUP && kind != DOC_TASK &&
      kind != DOC_NOTES)
    return ENG_NOTFOUND;
  if (cache && store_in_transaction(st))
    cache = NULL;
  int64_t rev = known_rev;
  size_t at = out ? out->len : 0;
  int rc = store_read_begin(st);
  if (rc)
    return rc;
  switch (kind) {
  case DOC_SESSION:
    rc = load_session(st, id, d, &rev, out ? cache : NULL);
    break;
  case DOC_GROUP:
    rc = load_group(st, id, d, &rev, cache, out);
    break;
  case DOC_TASK: {
    struct pieces pc;
    if (cache)
      pieces_init(&pc, cache, 1);
    rc = load_task(st, id, d, &rev, cache ? &pc : NULL, out);
    if (cache)
      pieces_release(&pc);
    break;
  }
  default:
    rc = load_notes(st, id, notes, d, &rev);
  }
  d->revision = rev;
  if (rc == ENG_OK)
    load_info(st, info, rev);
  store_read_end(st);
  if (out && rc == ENG_OK && (kind == DOC_SESSION || kind == DOC_NOTES))
    render_doc(d, out);
  if (out && rc != ENG_OK)
    buf_truncate(out, at);
  return rc;
}

int load_doc(struct store *st, int kind, const char *id, int notes,
             struct doc *d, struct render_info *info) {
  return load(st, NULL, kind, id, notes, 0, d, info, NULL);
}

int load_render(struct store *st, int kind, const char *id, int notes,
                struct buf *out, struct render_info *info) {
  return load_render_cached(st, NULL, kind, id, notes, 0, out, info);
}

int load_render_cached(struct store *st, struct blocks *cache, int kind,
                       const char *id, int notes, int64_t known_rev,
                       struct buf *out, struct render_info *info) {
  struct doc d;
  int rc = load(st, cache, kind, id, notes, known_rev, &d, info, out);
  doc_release(&d);
  return rc;
}
