/* SPDX-License-Identifier: MIT */
/* render.c: turns a document (doc.h) into markdown. A pure function of
 * the document: no store, no FUSE, no parsing; docs/format.md is the
 * grammar of what it writes and grammar.c holds its words. */
#include "render.h"
#include "escape.h"
#include "grammar.h"
#include "names.h"
#include "util.h"

#include <math.h>
#include <string.h>
#include <yaml.h>

#define EMOJI_ADDED "\xe2\x9e\x95" /* ➕ */
#define DASH "\xe2\x80\x94"        /* — */

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

void render_line(struct buf *out, const char *s) {
  for (; *s; s++)
    buf_addc(out, (*s == '\n' || *s == '\r') ? ' ' : *s);
}

static void add_field(struct buf *out, int label, const char *value) {
  buf_printf(out, "- **%s**: ", label_title(label));
  render_line(out, value);
  buf_addc(out, '\n');
}

/* A field that is written only when it has a value. */
static void add_field_opt(struct buf *out, int label, const char *value) {
  if (value && *value)
    add_field(out, label, value);
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

static int stats_total(const struct doc_stats *s) {
  int total = 0;
  for (int i = 0; i < STATUS_COUNT; i++)
    total += s->count[i];
  return total;
}

static void add_progress_field(struct buf *out, const struct doc_stats *s) {
  int done = s->count[STATUS_COMPLETED], total = stats_total(s);
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

/* "# Title" of a session or group file, and the blank line after it. */
static void add_title(struct buf *out, const char *title) {
  struct buf line = BUF_INIT;
  render_line(&line, title);
  buf_adds(out, "\n# ");
  escape_heading(line.ptr, out);
  buf_adds(out, "\n\n");
  buf_release(&line);
}

static void add_metrics(struct buf *out, const struct doc_stats *s) {
  int total = stats_total(s);
  add_heading(out, HEADING_METRICS);
  buf_adds(out, "\n| Metric | Value |\n|---|---|\n");
  buf_printf(out, "| Total tasks | %d |\n", total);
  for (int i = 0; i < STATUS_COUNT; i++) {
    buf_printf(out, "| %s %s | %d", status_emoji(i), status_title(i),
               s->count[i]);
    if (i == STATUS_COMPLETED)
      buf_printf(out, " (%d%%)", percent(s->count[i], total));
    buf_adds(out, " |\n");
  }
  buf_adds(out, "| Estimated effort | ");
  add_effort(out, s->estimate);
  buf_adds(out, " |\n| Actual effort | ");
  add_effort(out, s->actual);
  buf_adds(out, " |\n");
}

/* User sections, which end the file: the first is preceded by a blank
 * line, then each heading and its body as stored (the body holds the blank
 * lines that follow it), escaped only where it would swallow the next
 * heading. Without sections, an empty placeholder to write under. */
static void add_sections(struct buf *out, const struct psection *v, size_t n,
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

/* ---- tasks ---- */

/* Whether "c " before the first line of s makes a thematic break ("- --"),
 * which is no list item. */
static bool makes_break(char c, const char *s) {
  int marks = 1;
  for (; *s && *s != '\n' && *s != '\r'; s++) {
    if (*s == c)
      marks++;
    else if (*s != ' ' && *s != '\t')
      return false;
  }
  return marks >= 3;
}

/* The bullet of a list of items: '-', or another where an item would
 * read as a thematic break after it ('+' never does). */
static char list_bullet(const struct strlist *l) {
  for (const char *c = "-*"; *c; c++) {
    size_t i = 0;
    while (i < l->n && !makes_break(*c, l->v[i]))
      i++;
    if (i == l->n)
      return *c;
  }
  return '+';
}

static void add_deliverables(struct buf *out, const struct strlist *l) {
  if (!l->n)
    return;
  char bullet = list_bullet(l);
  buf_printf(out, "\n**%s**:\n\n", label_title(LABEL_DELIVERABLES));
  for (size_t i = 0; i < l->n; i++) {
    buf_printf(out, "%c ", bullet);
    for (const char *p = l->v[i]; *p; p++) {
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

static void add_current_status(struct buf *out, const char *text) {
  if (!text || !*text)
    return;
  /* A text that opens a block or is indented starts below the label. */
  if (escape_own_line(text)) {
    buf_printf(out, "\n**%s**:\n\n", label_title(LABEL_CURRENT));
    add_free_text(out, text, ESCAPE_BLOCKS);
  } else {
    buf_printf(out, "\n**%s**: ", label_title(LABEL_CURRENT));
    add_free_text(out, text, ESCAPE_INLINE);
  }
}

/* The text of a task block under its heading. */
static void add_task_body(struct buf *out, const struct ptask *t) {
  char v[64];
  buf_printf(out, "- [%c] **%s**: %s\n",
             t->status == STATUS_COMPLETED ? 'x' : ' ',
             label_title(LABEL_STATUS), status_name(t->status));
  if (t->group_name)
    add_field(out, LABEL_GROUP, t->group_name);
  snprintf(v, sizeof v, "%d%%", t->progress);
  add_field(out, LABEL_PROGRESS, v);
  add_field(out, LABEL_PRIORITY, priority_name(t->priority));
  add_field_opt(out, LABEL_SPECIALIST, t->specialist);
  if (!isnan(t->estimate)) {
    effort_format(t->estimate, v);
    add_field(out, LABEL_ESTIMATE, v);
  }
  if (!isnan(t->actual)) {
    effort_format(t->actual, v);
    add_field(out, LABEL_ACTUAL, v);
  }
  if (t->dependencies.n) {
    buf_printf(out, "- **%s**: ", label_title(LABEL_DEPENDS));
    for (size_t i = 0; i < t->dependencies.n; i++) {
      buf_printf(out, "%s`", i ? ", " : "");
      render_line(out, t->dependencies.v[i]);
      buf_addc(out, '`');
    }
    buf_addc(out, '\n');
  }
  add_field_opt(out, LABEL_STARTED, t->started);
  add_field_opt(out, LABEL_COMPLETED, t->completed);
  add_text_block(out, t->description);
  add_deliverables(out, &t->deliverables);
  add_current_status(out, t->current_status);
}

void render_task_body(struct buf *out, const struct task *t,
                      const char *group_name) {
  struct ptask p;
  ptask_from_task(&p, t, false, group_name);
  add_task_body(out, &p);
  ptask_release(&p);
}

static void add_task_heading(struct buf *out, const char *marks,
                             const struct ptask *t) {
  buf_adds(out, marks);
  buf_addc(out, ' ');
  render_line(out, t->title);
  buf_adds(out, " `");
  render_line(out, t->id ? t->id : "");
  buf_adds(out, "`\n");
}

/* ---- pieces that show one task ---- */

static void write_part(struct buf *out, int part, const struct ptask *t) {
  switch (part) {
  case RENDER_ROW:
    buf_adds(out, "| `");
    add_cell(out, t->id ? t->id : "");
    buf_adds(out, "` | ");
    add_cell(out, t->title);
    buf_printf(out, " | %s | %d%% |\n", status_name(t->status), t->progress);
    break;
  case RENDER_BLOCK:
    buf_addc(out, '\n');
    add_task_heading(out, "###", t);
    buf_addc(out, '\n');
    add_task_body(out, t);
    break;
  case RENDER_TASK:
    add_task_heading(out, "#", t);
    buf_addc(out, '\n');
    add_task_body(out, t);
    break;
  }
}

/* Piece part of task i: from parts when they hold it, else written from
 * the document and handed to them. */
static void add_part(struct buf *out, const struct doc *d, size_t i, int part,
                     const struct render_parts *parts) {
  if (parts && parts->get && parts->get(parts->ctx, i, part, out))
    return;
  size_t at = out->len;
  write_part(out, part, &d->tasks[i]);
  if (parts && parts->put)
    parts->put(parts->ctx, i, part, out->ptr + at, out->len - at);
}

static void render_task_file(const struct doc *d, struct buf *out,
                             const struct render_parts *parts) {
  const struct ptask *t = &d->tasks[0];
  render_front_matter(out, d->session, "task", d->task, d->revision);
  buf_addc(out, '\n');
  add_part(out, d, 0, RENDER_TASK, parts);
  add_sections(out, t->sections, t->nsections, HEADING_NOTES);
}

/* ---- groups ---- */

static void add_overview(struct buf *out, const struct doc *d,
                         const struct render_parts *parts) {
  if (!d->ntasks)
    return;
  add_heading(out, HEADING_OVERVIEW);
  buf_adds(out, "\n| Task | Title | Status | Progress |\n|---|---|---|---|\n");
  for (int s = 0; s < STATUS_COUNT; s++)
    for (size_t i = 0; i < d->ntasks; i++)
      if (d->tasks[i].status == s)
        add_part(out, d, i, RENDER_ROW, parts);
}

static void render_group_file(const struct doc *d, struct buf *out,
                              const struct render_parts *parts) {
  struct doc_stats stats = {0};
  for (size_t i = 0; i < d->ntasks; i++) {
    const struct ptask *t = &d->tasks[i];
    if (t->status >= 0 && t->status < STATUS_COUNT)
      stats.count[t->status]++;
    if (!isnan(t->estimate))
      stats.estimate += t->estimate;
    if (!isnan(t->actual))
      stats.actual += t->actual;
  }
  render_front_matter(out, d->session, "group", d->group, d->revision);
  add_title(out, d->title);
  add_field(out, LABEL_STATUS, status_name(d->status));
  add_field(out, LABEL_PRIORITY, priority_name(d->priority));
  add_field_opt(out, LABEL_FOCUS, d->specialist);
  add_field_opt(out, LABEL_CREATED, d->created);
  add_progress_field(out, &stats);
  add_text_block(out, d->description);
  add_metrics(out, &stats);
  add_overview(out, d, parts);
  for (int s = 0; s < STATUS_COUNT; s++) {
    buf_printf(out, "\n## %s %s\n", status_emoji(s), status_title(s));
    for (size_t i = 0; i < d->ntasks; i++)
      if (d->tasks[i].status == s)
        add_part(out, d, i, RENDER_BLOCK, parts);
  }
  add_sections(out, d->sections, d->nsections, HEADING_NOTES);
}

/* ---- sessions ---- */

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
static void add_group_bars(struct buf *out, const struct doc *d) {
  buf_adds(out, "```mermaid\nxychart-beta horizontal\n"
                "    title \"Tasks completed by group\"\n    x-axis [");
  for (size_t i = 0; i < d->ngroups; i++) {
    const struct doc_group *g = &d->groups[i];
    if (i)
      buf_adds(out, ", ");
    add_mermaid_label(out, *g->title ? g->title : g->name);
  }
  buf_adds(out, "]\n    y-axis \"Completed (%)\" 0 --> 100\n    bar [");
  for (size_t i = 0; i < d->ngroups; i++) {
    const struct doc_stats *st = &d->groups[i].stats;
    buf_printf(out, "%s%d", i ? ", " : "",
               percent(st->count[STATUS_COMPLETED], stats_total(st)));
  }
  buf_adds(out, "]\n```\n");
}

/* Generated: parse.c reads the whole section as such, so an edit of the
 * charts is not kept. */
static void add_status_chart(struct buf *out, const struct doc *d) {
  add_heading(out, HEADING_CHART);
  buf_addc(out, '\n');
  if (stats_total(&d->stats) == 0) {
    buf_adds(out, "_No tasks yet._\n");
    return;
  }
  add_status_pie(out, d->stats.count);
  if (d->ngroups) {
    buf_addc(out, '\n');
    add_group_bars(out, d);
  }
}

static void add_activity(struct buf *out, const struct doc_event *v, size_t n) {
  add_heading(out, HEADING_ACTIVITY);
  buf_addc(out, '\n');
  if (n == 0) {
    buf_adds(out, "_No activity yet._\n");
    return;
  }
  for (size_t i = 0; i < n; i++) {
    int s = v[i].status;
    buf_printf(out, "- %s %s " DASH " %s **",
               v[i].added ? EMOJI_ADDED : status_emoji(s), v[i].at,
               v[i].added ? "added"
                          : (s == STATUS_COMPLETED ? "completed"
                             : s == STATUS_ACTIVE  ? "started"
                             : s == STATUS_BLOCKED ? "blocked"
                                                   : "planned"));
    render_line(out, v[i].title);
    buf_adds(out, "** (");
    render_line(out, v[i].group_name);
    buf_adds(out, ")\n");
  }
}

static void add_groups_table(struct buf *out, const struct doc *d) {
  add_heading(out, HEADING_GROUPS);
  buf_addc(out, '\n');
  if (d->ngroups == 0) {
    buf_adds(out, "_No groups yet._\n");
    return;
  }
  struct buf file = BUF_INIT;
  buf_adds(out, "| Group | Status | Priority | Progress | Completed |"
                " Estimated | Actual |\n|---|---|---|---|---|---|---|\n");
  for (size_t i = 0; i < d->ngroups; i++) {
    const struct doc_group *g = &d->groups[i];
    int n = stats_total(&g->stats), done = g->stats.count[STATUS_COMPLETED];
    buf_truncate(&file, 0);
    name_for_file(g->name, &file);
    buf_adds(&file, ".md");
    buf_adds(out, "| [");
    add_cell(out, g->title);
    buf_adds(out, "](task_groups/");
    add_link_target(out, file.ptr);
    buf_printf(out, ") | %s %s | %s | %d%% | %d/%d | ", status_emoji(g->status),
               status_name(g->status), priority_name(g->priority),
               percent(done, n), done, n);
    add_effort(out, g->stats.estimate);
    buf_adds(out, " | ");
    add_effort(out, g->stats.actual);
    buf_adds(out, " |\n");
  }
  buf_release(&file);
}

static void render_session_file(const struct doc *d, struct buf *out) {
  render_front_matter(out, d->session, NULL, NULL, d->revision);
  add_title(out, d->title);
  add_field(out, LABEL_STATUS, d->status_word ? d->status_word : "");
  add_field_opt(out, LABEL_MODE, d->mode);
  add_field_opt(out, LABEL_CREATED, d->created);
  add_progress_field(out, &d->stats);
  add_text_block(out, d->description);
  add_metrics(out, &d->stats);
  add_status_chart(out, d);
  add_groups_table(out, d);
  add_activity(out, d->events, d->nevents);
  add_heading(out, HEADING_NOTES_FILE);
  buf_addc(out, '\n');
  for (int i = 0; i < NOTES_COUNT; i++)
    buf_printf(out, "- [%s](notes/%s.md)\n", notes_titles[i], notes_names[i]);
  add_sections(out, d->sections, d->nsections, HEADING_INSIGHTS);
}

/* ---- notes ---- */

static void render_notes_file(const struct doc *d, struct buf *out) {
  int i = notes_index(d->notes);
  render_front_matter(out, d->session, "notes", d->notes, d->revision);
  buf_printf(out, "\n# %s %s\n", i >= 0 ? notes_emojis[i] : "",
             i >= 0 ? notes_titles[i] : d->notes);
  buf_adds(out, d->notes_body ? d->notes_body : "\n");
}

void render_doc(const struct doc *d, struct buf *out) {
  render_doc_parts(d, NULL, out);
}

void render_doc_parts(const struct doc *d, const struct render_parts *parts,
                      struct buf *out) {
  switch (d->kind) {
  case DOC_SESSION:
    render_session_file(d, out);
    break;
  case DOC_GROUP:
    render_group_file(d, out, parts);
    break;
  case DOC_TASK:
    if (d->ntasks)
      render_task_file(d, out, parts);
    break;
  case DOC_NOTES:
    render_notes_file(d, out);
    break;
  }
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
