/* SPDX-License-Identifier: MIT */
/* render.c: turns store records into markdown. Knows nothing of FUSE or
 * parsing; docs/format.md is the grammar of what it writes. */
#include "render.h"
#include "escape.h"
#include "grammar.h"
#include "names.h"
#include "util.h"

#include <math.h>
#include <string.h>
#include <yaml.h>

#define EMOJI_WARN "\xe2\x9a\xa0\xef\xb8\x8f" /* ⚠️ */
#define EMOJI_ADDED "\xe2\x9e\x95"            /* ➕ */
#define DASH "\xe2\x80\x94"                   /* — */

/* ---- front matter ---- */

static int yaml_to_buf(void *data, unsigned char *bytes, size_t n) {
  buf_add(data, bytes, n);
  return 1;
}

static void emit_scalar(yaml_emitter_t *e, const char *s) {
  yaml_event_t ev;
  yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s,
                               (int)strlen(s), 1, 1, YAML_ANY_SCALAR_STYLE);
  if (!yaml_emitter_emit(e, &ev))
    die("yaml emitter: %s", e->problem ? e->problem : "failed");
}

static void emit_event(yaml_emitter_t *e, yaml_event_t *ev) {
  if (!yaml_emitter_emit(e, ev))
    die("yaml emitter: %s", e->problem ? e->problem : "failed");
}

void render_front_matter(struct buf *out, const char *session_id,
                         const char *key, const char *value, int64_t rev) {
  yaml_emitter_t e;
  yaml_event_t ev;
  char revs[32];
  if (!yaml_emitter_initialize(&e))
    die("yaml emitter: out of memory");
  yaml_emitter_set_output(&e, yaml_to_buf, out);
  yaml_emitter_set_unicode(&e, 1);
  yaml_emitter_set_width(&e, -1);
  yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
  emit_event(&e, &ev);
  yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 0);
  emit_event(&e, &ev);
  yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
                                      YAML_BLOCK_MAPPING_STYLE);
  emit_event(&e, &ev);
  emit_scalar(&e, "taskfs");
  emit_scalar(&e, "1");
  if (session_id) {
    emit_scalar(&e, "session");
    emit_scalar(&e, session_id);
  }
  if (key) {
    emit_scalar(&e, key);
    emit_scalar(&e, value);
  }
  if (rev >= 0) {
    snprintf(revs, sizeof revs, "%lld", (long long)rev);
    emit_scalar(&e, "revision");
    emit_scalar(&e, revs);
  }
  yaml_mapping_end_event_initialize(&ev);
  emit_event(&e, &ev);
  yaml_document_end_event_initialize(&ev, 1);
  emit_event(&e, &ev);
  yaml_stream_end_event_initialize(&ev);
  emit_event(&e, &ev);
  yaml_emitter_flush(&e);
  yaml_emitter_delete(&e);
  buf_adds(out, "---\n");
}

/* ---- small pieces ---- */

/* Text for one table cell: '|' escaped, line breaks as spaces. */
static void add_cell(struct buf *out, const char *s) {
  for (; *s; s++) {
    if (*s == '|')
      buf_adds(out, "\\|");
    else if (*s == '\n' || *s == '\r')
      buf_addc(out, ' ');
    else
      buf_addc(out, *s);
  }
}

/* Text on one line: line breaks become spaces. */
static void add_line(struct buf *out, const char *s) {
  for (; *s; s++)
    buf_addc(out, (*s == '\n' || *s == '\r') ? ' ' : *s);
}

static void add_field(struct buf *out, const char *name, const char *value) {
  buf_printf(out, "- **%s**: ", name);
  add_line(out, value);
  buf_addc(out, '\n');
}

static void add_time_field(struct buf *out, const char *name,
                           const char *stored) {
  char t[32];
  time_display(stored, t);
  if (*t)
    add_field(out, name, t);
}

static void add_effort(struct buf *out, double hours) {
  char e[32];
  effort_format(isnan(hours) ? 0 : hours, e);
  buf_adds(out, e);
}

/* A section heading of taskfs's after a blank line: "## emoji Title". */
static void add_heading(struct buf *out, int heading) {
  buf_printf(out, "\n## %s %s\n", heading_emoji(heading),
             heading_title(heading));
}

static int percent(int part, int whole) {
  return whole ? (int)((part * 100L) / whole) : 0;
}

static void add_progress_field(struct buf *out, int done, int total) {
  buf_printf(out, "- **%s**: %d%% (%d of %d tasks completed)\n",
             label_title(LABEL_PROGRESS), percent(done, total), done, total);
}

/* Free text escaped for its place (escape.h), ending in a newline. */
static void add_free_text(struct buf *out, const char *text,
                          enum escape_place place) {
  size_t at = out->len;
  escape_text(text, place, out);
  if (out->len > at && out->ptr[out->len - 1] != '\n')
    buf_addc(out, '\n');
}

/* A description after the fields: a blank line, then the text. */
static void add_text_block(struct buf *out, const char *text) {
  if (!text || !*text)
    return;
  buf_addc(out, '\n');
  add_free_text(out, text, ESCAPE_AFTER_LIST);
}

/* A title as the text of a level-1 heading. */
static void add_title(struct buf *out, const char *title) {
  struct buf line = BUF_INIT;
  add_line(&line, title);
  escape_heading(line.ptr, out);
  buf_release(&line);
}

static void add_metrics(struct buf *out, const int count[STATUS_COUNT],
                        double estimate, double actual) {
  int total = 0;
  for (int i = 0; i < STATUS_COUNT; i++)
    total += count[i];
  add_heading(out, HEADING_METRICS);
  buf_adds(out, "\n| Metric | Value |\n|---|---|\n");
  buf_printf(out, "| Total tasks | %d |\n", total);
  for (int i = 0; i < STATUS_COUNT; i++) {
    buf_printf(out, "| %s %s | %d", status_emoji(i), status_title(i), count[i]);
    if (i == STATUS_COMPLETED)
      buf_printf(out, " (%d%%)", percent(count[i], total));
    buf_adds(out, " |\n");
  }
  buf_adds(out, "| Estimated effort | ");
  add_effort(out, estimate);
  buf_adds(out, " |\n| Actual effort | ");
  add_effort(out, actual);
  buf_adds(out, " |\n");
}

/* User sections, which end the file: the first is preceded by a blank
 * line, then each heading and its body as stored (the body holds the blank
 * lines that follow it), escaped only where it would swallow the next
 * heading. Without sections, an empty placeholder to write under. */
static void add_sections(struct buf *out, const struct section *v, size_t n,
                         int placeholder) {
  if (n == 0) {
    add_heading(out, placeholder);
    return;
  }
  buf_addc(out, '\n');
  for (size_t i = 0; i < n; i++) {
    buf_adds(out, v[i].heading);
    buf_addc(out, '\n');
    if (i + 1 < n)
      add_free_text(out, v[i].body, ESCAPE_SECTION);
    else
      escape_text(v[i].body, ESCAPE_LAST_SECTION, out);
  }
}

static void finish_info(struct store *st, struct render_info *info,
                        int64_t rev) {
  if (!info)
    return;
  info->rev = rev;
  info->mtime_ns = store_revision_time(st, rev);
}

/* ---- tasks ---- */

void render_task_body(struct buf *out, const struct task *t,
                      const char *group_name) {
  char v[64];
  buf_printf(out, "- [%c] **%s**: %s\n",
             t->status == STATUS_COMPLETED ? 'x' : ' ',
             label_title(LABEL_STATUS), status_name(t->status));
  if (group_name)
    add_field(out, label_title(LABEL_GROUP), group_name);
  snprintf(v, sizeof v, "%d%%", t->progress);
  add_field(out, label_title(LABEL_PROGRESS), v);
  add_field(out, label_title(LABEL_PRIORITY), priority_name(t->priority));
  if (t->specialist && *t->specialist)
    add_field(out, label_title(LABEL_SPECIALIST), t->specialist);
  if (!isnan(t->estimate)) {
    effort_format(t->estimate, v);
    add_field(out, label_title(LABEL_ESTIMATE), v);
  }
  if (!isnan(t->actual)) {
    effort_format(t->actual, v);
    add_field(out, label_title(LABEL_ACTUAL), v);
  }
  if (t->dependencies.n) {
    buf_printf(out, "- **%s**: ", label_title(LABEL_DEPENDS));
    for (size_t i = 0; i < t->dependencies.n; i++) {
      buf_printf(out, "%s`", i ? ", " : "");
      add_line(out, t->dependencies.v[i]);
      buf_addc(out, '`');
    }
    buf_addc(out, '\n');
  }
  add_time_field(out, label_title(LABEL_STARTED), t->started_at);
  add_time_field(out, label_title(LABEL_COMPLETED), t->completed_at);
  add_text_block(out, t->description);
  if (t->deliverables.n) {
    buf_printf(out, "\n**%s**:\n\n", label_title(LABEL_DELIVERABLES));
    for (size_t i = 0; i < t->deliverables.n; i++) {
      buf_adds(out, "- ");
      for (const char *p = t->deliverables.v[i]; *p; p++) {
        if (*p == '\r' && p[1] == '\n')
          continue;
        bool nl = *p == '\n' || *p == '\r';
        buf_addc(out, nl ? '\n' : *p);
        if (nl && p[1])
          buf_adds(out, "  ");
      }
      buf_addc(out, '\n');
    }
  }
  if (t->current_status && *t->current_status) {
    /* A text that opens a block or is indented starts below the label. */
    if (escape_own_line(t->current_status)) {
      buf_printf(out, "\n**%s**:\n\n", label_title(LABEL_CURRENT));
      add_free_text(out, t->current_status, ESCAPE_BLOCKS);
    } else {
      buf_printf(out, "\n**%s**: ", label_title(LABEL_CURRENT));
      add_free_text(out, t->current_status, ESCAPE_INLINE);
    }
  }
}

static void add_task_heading(struct buf *out, const char *marks,
                             const struct task *t) {
  buf_adds(out, marks);
  buf_addc(out, ' ');
  add_line(out, t->title);
  buf_adds(out, " `");
  add_line(out, t->id);
  buf_adds(out, "`\n");
}

int render_task(struct store *st, const char *task_id, struct buf *out,
                struct render_info *info) {
  struct task t;
  struct group g;
  struct section *xs = NULL;
  size_t nx = 0;
  int64_t rev = 0;
  task_init(&t);
  group_init(&g);
  int rc = store_read_begin(st);
  if (rc)
    return rc;
  if ((rc = store_task_get(st, task_id, &t)) ||
      (rc = store_group_get(st, t.group_id, &g)) ||
      (rc = store_section_list(st, OWNER_TASK, task_id, false, &xs, &nx)) ||
      (rc = store_owner_revision(st, OWNER_TASK, task_id, NULL, &rev)))
    goto out;
  render_front_matter(out, t.session_id, "task", t.id, rev);
  buf_addc(out, '\n');
  add_task_heading(out, "#", &t);
  buf_addc(out, '\n');
  render_task_body(out, &t, g.name);
  add_sections(out, xs, nx, HEADING_NOTES);
  finish_info(st, info, rev);
out:
  store_read_end(st);
  store_sections_free(xs, nx);
  task_release(&t);
  group_release(&g);
  return rc;
}

/* ---- groups ---- */

int render_group(struct store *st, const char *group_id, struct buf *out,
                 struct render_info *info) {
  struct group g;
  struct task *ts = NULL;
  struct section *xs = NULL;
  size_t nt = 0, nx = 0;
  int64_t rev = 0;
  group_init(&g);
  int rc = store_read_begin(st);
  if (rc)
    return rc;
  if ((rc = store_group_get(st, group_id, &g)) ||
      (rc = store_task_list_group(st, group_id, false, &ts, &nt)) ||
      (rc = store_section_list(st, OWNER_GROUP, group_id, false, &xs, &nx)) ||
      (rc = store_owner_revision(st, OWNER_GROUP, group_id, NULL, &rev)))
    goto out;

  int count[STATUS_COUNT] = {0};
  double estimate = 0, actual = 0;
  for (size_t i = 0; i < nt; i++) {
    count[ts[i].status]++;
    if (!isnan(ts[i].estimate))
      estimate += ts[i].estimate;
    if (!isnan(ts[i].actual))
      actual += ts[i].actual;
  }

  render_front_matter(out, g.session_id, "group", g.id, rev);
  buf_adds(out, "\n# ");
  add_title(out, g.title);
  buf_adds(out, "\n\n");
  add_field(out, label_title(LABEL_STATUS), status_name(g.status));
  add_field(out, label_title(LABEL_PRIORITY), priority_name(g.priority));
  if (*g.specialist)
    add_field(out, label_title(LABEL_FOCUS), g.specialist);
  add_time_field(out, label_title(LABEL_CREATED), g.created_at);
  add_progress_field(out, count[STATUS_COMPLETED], (int)nt);
  add_text_block(out, g.description);
  add_metrics(out, count, estimate, actual);

  if (nt) {
    add_heading(out, HEADING_OVERVIEW);
    buf_adds(out,
             "\n| Task | Title | Status | Progress |\n|---|---|---|---|\n");
    for (int s = 0; s < STATUS_COUNT; s++)
      for (size_t i = 0; i < nt; i++) {
        if (ts[i].status != s)
          continue;
        buf_adds(out, "| `");
        add_cell(out, ts[i].id);
        buf_adds(out, "` | ");
        add_cell(out, ts[i].title);
        buf_printf(out, " | %s | %d%% |\n", status_name(s), ts[i].progress);
      }
  }

  for (int s = 0; s < STATUS_COUNT; s++) {
    buf_printf(out, "\n## %s %s\n", status_emoji(s), status_title(s));
    for (size_t i = 0; i < nt; i++) {
      if (ts[i].status != s)
        continue;
      buf_addc(out, '\n');
      add_task_heading(out, "###", &ts[i]);
      buf_addc(out, '\n');
      render_task_body(out, &ts[i], NULL);
    }
  }
  add_sections(out, xs, nx, HEADING_NOTES);
  finish_info(st, info, rev);
out:
  store_read_end(st);
  store_tasks_free(ts, nt);
  store_sections_free(xs, nx);
  group_release(&g);
  return rc;
}

/* ---- sessions ---- */

static const char *group_file_name(const struct group *g, struct buf *tmp) {
  buf_truncate(tmp, 0);
  name_for_file(g->name, tmp);
  buf_adds(tmp, ".md");
  return tmp->ptr;
}

/* Link targets in markdown: spaces and parentheses escaped. */
static void add_link_target(struct buf *out, const char *s) {
  for (; *s; s++) {
    if (*s == ' ')
      buf_adds(out, "%20");
    else if (*s == '(')
      buf_adds(out, "%28");
    else if (*s == ')')
      buf_adds(out, "%29");
    else
      buf_addc(out, *s);
  }
}

static void add_activity(struct buf *out, const struct task_event *v,
                         size_t n) {
  add_heading(out, HEADING_ACTIVITY);
  buf_addc(out, '\n');
  if (n == 0) {
    buf_adds(out, "_No activity yet._\n");
    return;
  }
  for (size_t i = 0; i < n; i++) {
    char t[32];
    int s = status_parse(v[i].status);
    bool added = strcmp(v[i].op, "insert") == 0;
    time_display(v[i].at, t);
    buf_printf(out, "- %s %s " DASH " %s **",
               added ? EMOJI_ADDED : status_emoji(s), t,
               added ? "added"
                     : (s == STATUS_COMPLETED ? "completed"
                        : s == STATUS_ACTIVE  ? "started"
                        : s == STATUS_BLOCKED ? "blocked"
                                              : "planned"));
    add_line(out, v[i].title);
    buf_adds(out, "** (");
    add_line(out, v[i].group_name);
    buf_adds(out, ")\n");
  }
}

/* A quoted Mermaid label. Characters that would end the string or start
 * an entity, a comment or a markdown string become entity codes, which
 * Mermaid shows as the character; line breaks and other control
 * characters become spaces. */
static void add_mermaid_label(struct buf *out, const char *s) {
  buf_addc(out, '"');
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '#' || c == '%' || c == '`')
      buf_printf(out, "#%d;", c);
    else if (c < 0x20 || c == 0x7f)
      buf_addc(out, ' ');
    else
      buf_addc(out, (char)c);
  }
  buf_addc(out, '"');
}

/* A pie of the session's tasks by status (statuses without tasks left
 * out). */
static void add_status_pie(struct buf *out, const int count[STATUS_COUNT]) {
  buf_adds(out, "```mermaid\npie showData\n    title Tasks by status\n");
  for (int k = 0; k < STATUS_COUNT; k++)
    if (count[k])
      buf_printf(out, "    \"%s\" : %d\n", status_title(k), count[k]);
  buf_adds(out, "```\n");
}

/* A bar per group: the share of its tasks completed, as in the Task
 * Groups table. */
static void add_group_bars(struct buf *out, const struct group *gs,
                           const struct group_stats *stats, size_t n) {
  buf_adds(out, "```mermaid\nxychart-beta horizontal\n"
                "    title \"Tasks completed by group\"\n    x-axis [");
  for (size_t i = 0; i < n; i++) {
    if (i)
      buf_adds(out, ", ");
    add_mermaid_label(out, *gs[i].title ? gs[i].title : gs[i].name);
  }
  buf_adds(out, "]\n    y-axis \"Completed (%)\" 0 --> 100\n    bar [");
  for (size_t i = 0; i < n; i++) {
    int all = 0;
    for (int k = 0; k < STATUS_COUNT; k++)
      all += stats[i].count[k];
    buf_printf(out, "%s%d", i ? ", " : "",
               percent(stats[i].count[STATUS_COMPLETED], all));
  }
  buf_adds(out, "]\n```\n");
}

/* Generated: parse.c reads the whole section as such, so an edit of the
 * charts is not kept. */
static void add_status_chart(struct buf *out, const int count[STATUS_COUNT],
                             int total, const struct group *gs,
                             const struct group_stats *stats, size_t n) {
  add_heading(out, HEADING_CHART);
  buf_addc(out, '\n');
  if (total == 0) {
    buf_adds(out, "_No tasks yet._\n");
    return;
  }
  add_status_pie(out, count);
  if (n) {
    buf_addc(out, '\n');
    add_group_bars(out, gs, stats, n);
  }
}

int render_session(struct store *st, const char *session_id, struct buf *out,
                   struct render_info *info) {
  struct session s;
  struct group *gs = NULL;
  struct group_stats *stats = NULL;
  struct section *xs = NULL;
  struct task_event *ev = NULL;
  size_t ng = 0, nstats = 0, nx = 0, nev = 0;
  int64_t rev = 0;
  struct buf tmp = BUF_INIT;
  session_init(&s);
  int rc = store_read_begin(st);
  if (rc)
    return rc;
  if ((rc = store_session_get(st, session_id, &s)) ||
      (rc = store_group_list(st, session_id, false, &gs, &ng)) ||
      (rc = store_group_stats(st, session_id, &stats, &nstats)) ||
      (rc = store_section_list(st, OWNER_SESSION, session_id, false, &xs,
                               &nx)) ||
      (rc = store_task_events(st, session_id, 10, &ev, &nev)) ||
      (rc = store_owner_revision(st, OWNER_SESSION, session_id, NULL, &rev)))
    goto out;

  int count[STATUS_COUNT] = {0}, total = 0;
  double estimate = 0, actual = 0;
  for (size_t i = 0; i < nstats; i++) {
    for (int k = 0; k < STATUS_COUNT; k++) {
      count[k] += stats[i].count[k];
      total += stats[i].count[k];
    }
    estimate += stats[i].estimate;
    actual += stats[i].actual;
  }

  render_front_matter(out, s.id, NULL, NULL, rev);
  buf_adds(out, "\n# ");
  add_title(out, s.title);
  buf_adds(out, "\n\n");
  add_field(out, label_title(LABEL_STATUS), s.status);
  if (*s.mode)
    add_field(out, label_title(LABEL_MODE), s.mode);
  add_time_field(out, label_title(LABEL_CREATED), s.created_at);
  add_progress_field(out, count[STATUS_COMPLETED], total);
  add_text_block(out, s.description);
  add_metrics(out, count, estimate, actual);
  add_status_chart(out, count, total, gs, stats, ng < nstats ? ng : nstats);

  add_heading(out, HEADING_GROUPS);
  buf_addc(out, '\n');
  if (ng == 0) {
    buf_adds(out, "_No groups yet._\n");
  } else {
    buf_adds(out, "| Group | Status | Priority | Progress | Completed |"
                  " Estimated | Actual |\n|---|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < ng && i < nstats; i++) {
      const struct group_stats *gst = &stats[i];
      int n = 0;
      for (int k = 0; k < STATUS_COUNT; k++)
        n += gst->count[k];
      buf_adds(out, "| [");
      add_cell(out, gs[i].title);
      buf_adds(out, "](task_groups/");
      add_link_target(out, group_file_name(&gs[i], &tmp));
      buf_printf(out, ") | %s %s | %s | %d%% | %d/%d | ",
                 status_emoji(gs[i].status), status_name(gs[i].status),
                 priority_name(gs[i].priority),
                 percent(gst->count[STATUS_COMPLETED], n),
                 gst->count[STATUS_COMPLETED], n);
      add_effort(out, gst->estimate);
      buf_adds(out, " | ");
      add_effort(out, gst->actual);
      buf_adds(out, " |\n");
    }
  }
  add_activity(out, ev, nev);

  add_heading(out, HEADING_NOTES_FILE);
  buf_addc(out, '\n');
  for (int i = 0; i < NOTES_COUNT; i++)
    buf_printf(out, "- [%s](notes/%s.md)\n", notes_titles[i], notes_names[i]);

  /* The notes files' sections are shown there, not here. */
  size_t keep = 0;
  for (size_t i = 0; i < nx; i++) {
    if (str_starts(xs[i].key, "notes/")) {
      section_release(&xs[i]);
      continue;
    }
    xs[keep++] = xs[i];
  }
  nx = keep;
  add_sections(out, xs, nx, HEADING_INSIGHTS);
  finish_info(st, info, rev);
out:
  store_read_end(st);
  buf_release(&tmp);
  store_groups_free(gs, ng);
  store_group_stats_free(stats, nstats);
  store_sections_free(xs, nx);
  store_task_events_free(ev, nev);
  session_release(&s);
  return rc;
}

/* ---- notes ---- */

int render_notes(struct store *st, const char *session_id, int notes,
                 struct buf *out, struct render_info *info) {
  struct session s;
  struct section x;
  int64_t rev = 0;
  session_init(&s);
  section_init(&x);
  if (notes < 0 || notes >= NOTES_COUNT)
    return ENG_NOTFOUND;
  char key[32];
  snprintf(key, sizeof key, "notes/%s", notes_names[notes]);
  int rc = store_read_begin(st);
  if (rc)
    return rc;
  if ((rc = store_session_get(st, session_id, &s)) ||
      (rc = store_owner_revision(st, OWNER_SESSION, session_id, key, &rev)))
    goto out;
  rc = store_section_get(st, OWNER_SESSION, session_id, key, &x);
  if (rc && rc != ENG_NOTFOUND)
    goto out;
  rc = ENG_OK;
  render_front_matter(out, s.id, "notes", notes_names[notes], rev);
  buf_printf(out, "\n# %s %s\n", notes_emojis[notes], notes_titles[notes]);
  buf_adds(out, x.body ? x.body : "\n");
  finish_info(st, info, rev);
out:
  store_read_end(st);
  session_release(&s);
  section_release(&x);
  return rc;
}

/* ---- meta ---- */

static void add_indented(struct buf *out, const char *text) {
  for (const char *p = text; *p;) {
    const char *nl = strchr(p, '\n');
    size_t n = nl ? (size_t)(nl - p) : strlen(p);
    if (n) {
      buf_adds(out, "  - ");
      buf_add(out, p, n);
      buf_addc(out, '\n');
    }
    p += n + (nl ? 1 : 0);
  }
}

/* The path of the file a draft is held at, within its session. */
static void draft_path(struct store *st, const struct draft *d,
                       struct buf *out) {
  if (strcmp(d->kind, "session") == 0) {
    buf_adds(out, "session.md");
  } else if (strcmp(d->kind, "notes") == 0) {
    const char *slash = strchr(d->record, '/');
    buf_printf(out, "notes/%s.md", slash ? slash + 1 : d->record);
  } else if (strcmp(d->kind, "group") == 0) {
    struct group g;
    group_init(&g);
    buf_adds(out, "task_groups/");
    name_for_file(
        store_group_get(st, d->record, &g) == ENG_OK ? g.name : d->record, out);
    buf_adds(out, ".md");
    group_release(&g);
  } else {
    struct task t;
    task_init(&t);
    int status =
        store_task_get(st, d->record, &t) == ENG_OK ? t.status : STATUS_PLANNED;
    buf_printf(out, "tasks/%s/", status_name(status));
    name_for_file(d->record, out);
    buf_adds(out, ".md");
    task_release(&t);
  }
}

static void add_rate(struct buf *out, const char *name, double rate) {
  buf_printf(out, "| %s | %.1f%% |\n", name, rate * 100.0);
}

int render_sync_status(struct store *st, const char *session_id,
                       struct buf *out, struct render_info *info) {
  struct draft *ds = NULL;
  struct conflict *cs = NULL;
  size_t nd = 0, nc = 0;
  struct sync_stats x;
  struct strlist kinds = {0}, counts = {0}, failed = {0};
  int64_t rev = 0;
  int rc = store_read_begin(st);
  if (rc)
    return rc;
  if ((rc = store_draft_list(st, session_id, &ds, &nd)) ||
      (rc = store_conflict_list(st, session_id, NULL, NULL, true, &cs, &nc)) ||
      (rc = store_sync_stats(st, session_id, &x)) ||
      (rc = store_sync_error_kinds(st, session_id, &kinds, &counts)) ||
      (rc = store_syncops_failed(st, session_id, 10, &failed)) ||
      (rc = store_owner_revision(st, OWNER_SESSION, session_id, NULL, &rev)))
    goto out;
  render_front_matter(out, session_id, "meta", "sync_status", -1);
  /* Saves only: a file that changed with every read of any file would
   * not be a file (renders are in 'taskctl stats'). */
  buf_printf(out,
             "\n# %s Sync Status\n\n"
             "_Generated from the sync log; edits to this file are not "
             "kept. Reads and render times: `taskctl stats`._\n",
             heading_emoji(HEADING_METRICS));

  buf_adds(out, "\n## \xf0\x9f\xa9\xba Health\n\n"
                "| Metric | Value |\n|---|---|\n");
  buf_printf(out, "| Saves and resolutions | %lld |\n", (long long)x.saves);
  add_rate(out, "Save success rate", x.save_success_rate);
  add_rate(out, "Conflict rate", x.conflict_rate);
  buf_printf(out, "| Save time p50 / p95 | %.2f ms / %.2f ms |\n",
             x.save_p50_ms, x.save_p95_ms);
  buf_printf(out, "| Conflicts | %lld recorded, %lld open |\n",
             (long long)x.conflicts_total, (long long)x.conflicts_open);
  add_rate(out, "User resolution rate", x.resolution_rate);

  buf_adds(out, "\n## \xe2\x9d\x97 Errors by Kind\n\n");
  if (!kinds.n)
    buf_adds(out, "_None._\n");
  for (size_t i = 0; i < kinds.n; i++)
    buf_printf(out, "- %s: %s\n", kinds.v[i], counts.v[i]);

  buf_printf(out, "\n## \xf0\x9f\x94\x84 Open Conflicts (%zu)\n\n", nc);
  if (nc == 0)
    buf_adds(out, "_None._\n");
  struct buf path = BUF_INIT;
  for (size_t i = 0; i < nc; i++) {
    struct draft d = {.kind = cs[i].file_kind, .record = cs[i].file_record};
    buf_truncate(&path, 0);
    draft_path(st, &d, &path);
    buf_printf(
        out, "- %lld: %s, %s (%s) in [%.*s.conflict.md](../%.*s.conflict.md)\n",
        (long long)cs[i].id, cs[i].label, cs[i].field, cs[i].type,
        (int)path.len - 3, path.ptr, (int)path.len - 3, path.ptr);
  }

  buf_printf(out, "\n## " EMOJI_WARN " Files Held with Errors (%zu)\n\n", nd);
  if (nd == 0)
    buf_adds(out, "_None: every saved file was applied._\n");
  for (size_t i = 0; i < nd; i++) {
    buf_truncate(&path, 0);
    draft_path(st, &ds[i], &path);
    char t[32];
    time_display(ds[i].created_at, t);
    buf_printf(
        out, "- [%s](../%s) since %s, see [%.*s.error.md](../%.*s.error.md)\n",
        path.ptr, path.ptr, t, (int)path.len - 3, path.ptr, (int)path.len - 3,
        path.ptr);
    add_indented(out, ds[i].diagnostics);
  }
  buf_release(&path);

  buf_adds(out, "\n## \xf0\x9f\x93\x9c Last Errors\n\n");
  if (!failed.n)
    buf_adds(out, "_None._\n");
  for (size_t i = 0; i < failed.n; i++) {
    buf_adds(out, "- ");
    add_line(out, failed.v[i]);
    buf_addc(out, '\n');
  }
  /* Dated by the session's last change or save, whichever is later,
   * with revision 0: the sync log has none, so readers re-render it
   * every time. */
  finish_info(st, info, rev);
  if (info) {
    int64_t last = 0;
    if (store_sync_last_ns(st, session_id, &last) == ENG_OK &&
        last > info->mtime_ns)
      info->mtime_ns = last;
    info->rev = 0;
  }
out:
  store_read_end(st);
  store_drafts_free(ds, nd);
  store_conflicts_free(cs, nc);
  strlist_clear(&kinds);
  strlist_clear(&counts);
  strlist_clear(&failed);
  return rc;
}

int render_edit_log(struct store *st, const char *session_id, struct buf *out,
                    struct render_info *info) {
  struct change *ch = NULL;
  size_t n = 0;
  int64_t rev = 0;
  int rc = store_read_begin(st);
  if (rc)
    return rc;
  if ((rc = store_changes_recent(st, session_id, "taskfs", 200, &ch, &n)) ||
      (rc = store_owner_revision(st, OWNER_SESSION, session_id, NULL, &rev)))
    goto out;
  render_front_matter(out, session_id, "meta", "edit_log", -1);
  buf_printf(out,
             "\n# %s Edit Log\n\n"
             "_Changes made by editing files, newest first. Generated._\n"
             "\n",
             heading_emoji(HEADING_ACTIVITY));
  if (n == 0)
    buf_adds(out, "_No edits yet._\n");
  for (size_t i = 0; i < n; i++) {
    char t[32];
    time_display(ch[i].at, t);
    buf_printf(out, "- r%lld %s " DASH " %s `", (long long)ch[i].rev, t,
               ch[i].table);
    add_line(out, ch[i].record);
    buf_addc(out, '`');
    if (strcmp(ch[i].op, "update") == 0 && ch[i].field) {
      buf_printf(out, " %s: ", ch[i].field);
      bool longtext = (ch[i].old_value && strlen(ch[i].old_value) > 60) ||
                      (ch[i].new_value && strlen(ch[i].new_value) > 60) ||
                      (ch[i].old_value && strchr(ch[i].old_value, '\n')) ||
                      (ch[i].new_value && strchr(ch[i].new_value, '\n'));
      if (longtext) {
        buf_adds(out, "text changed");
      } else {
        buf_adds(out, "`");
        add_line(out, ch[i].old_value ? ch[i].old_value : "");
        buf_adds(out, "` \xe2\x86\x92 `"); /* → */
        add_line(out, ch[i].new_value ? ch[i].new_value : "");
        buf_adds(out, "`");
      }
    } else {
      buf_printf(out, " %s",
                 strcmp(ch[i].op, "insert") == 0 ? "created" : "removed");
    }
    buf_addc(out, '\n');
  }
  finish_info(st, info, rev);
out:
  store_read_end(st);
  store_changes_free(ch, n);
  return rc;
}

int render_error(struct store *st, const char *kind, const char *record,
                 const char *path, struct buf *out, struct render_info *info) {
  struct draft d = {0};
  int rc = store_draft_get(st, kind, record, &d);
  if (rc)
    return rc;
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  char t[32];
  time_display(d.created_at, t);
  render_front_matter(out, NULL, "error", path, -1);
  buf_printf(out, "\n# " EMOJI_WARN " %s could not be applied\n\n", path);
  buf_printf(out,
             "The text saved to `%s` at %s is kept there, exactly as it "
             "was written, until it is fixed or discarded. None of it was "
             "applied to the database.\n\n## Problems\n\n",
             base, t);
  for (const char *p = d.diagnostics; *p;) {
    const char *nl = strchr(p, '\n');
    size_t n = nl ? (size_t)(nl - p) : strlen(p);
    if (n) {
      buf_adds(out, "- ");
      buf_add(out, p, n);
      buf_addc(out, '\n');
    }
    p += n + (nl ? 1 : 0);
  }
  buf_printf(out,
             "\n## What to do\n\n"
             "- Fix those lines in `%s` and save it again: it is applied as "
             "soon as it reads cleanly, and this file goes away.\n"
             "- Or delete this file to discard the held text: `%s` then "
             "shows the database again, and the discarded text is kept as a "
             "backup.\n",
             base, base);
  render_info_set(info, 0, d.created_at);
  store_draft_release(&d);
  return ENG_OK;
}

void render_info_set(struct render_info *info, int64_t rev,
                     const char *created_at) {
  if (!info)
    return;
  int64_t ns = 0;
  time_parse(created_at, &ns);
  info->rev = rev;
  info->mtime_ns = ns;
}

int render_backup(struct store *st, int64_t id, struct buf *out,
                  struct render_info *info) {
  struct backup b = {0};
  int rc = store_backup_get(st, id, &b);
  if (rc)
    return rc;
  char t[32];
  time_display(b.created_at, t);
  char ids[32];
  snprintf(ids, sizeof ids, "%lld", (long long)id);
  render_front_matter(out, b.session_id, "backup", ids, -1);
  buf_printf(out, "\n# \xf0\x9f\x92\xbe Backup %lld\n\n", (long long)id);
  if (b.field)
    buf_printf(out, "- **Of**: %s `%s`, %s\n", b.target_kind, b.target_id,
               b.field);
  else
    buf_printf(out, "- **Of**: the text saved to the %s file `%s`\n", b.kind,
               b.record);
  buf_printf(out, "- **Why**: %s\n- **Kept**: %s\n", b.reason, t);
  buf_printf(out, "- **Bring it back**: `taskctl restore-backup %lld`\n\n",
             (long long)id);
  escape_fenced(b.text, b.len, out);
  render_info_set(info, 1, b.created_at);
  store_backup_release(&b);
  return ENG_OK;
}
