/* SPDX-License-Identifier: MIT */
/* test_parse.c: parse_doc on texts written by hand, without a store: every
 * field form, checkboxes, status sections, headings in code, setext
 * headings, task blocks and their parts, user sections byte for byte,
 * CRLF and BOM, and every diagnostic with its line. The store appears
 * only to render a group file for parse_find_generated. */
#include "fixture.h"
#include "harness.h"
#include "parse.h"
#include "load.h"
#include "render.h"
#include "util.h"

#include <math.h>
#include <stdlib.h>

/* The 1-based line of the first occurrence of needle in text; aborts when
 * absent, so that a wrong test text fails loudly. */
static int line_of(const char *text, const char *needle) {
  const char *p = strstr(text, needle);
  if (!p)
    die("line_of: '%s' not in the text", needle);
  int line = 1;
  for (const char *q = text; q < p; q++)
    line += *q == '\n';
  return line;
}

static void parse(const char *text, int hint, struct doc *d) {
  parse_doc(text, strlen(text), hint, d);
}

static void print_diags(const struct doc *d) {
  struct buf b = BUF_INIT;
  diags_format(&d->diags, &b);
  fprintf(stderr, "  diagnostics:\n%s", b.len ? b.ptr : "  (none)\n");
  buf_release(&b);
}

/* d has a diagnostic of level at line whose message contains part. */
#define HAS_DIAG(d, lvl, ln, part)                                             \
  do {                                                                         \
    bool found_ = false;                                                       \
    for (size_t i_ = 0; i_ < (d)->diags.n; i_++)                               \
      found_ |= (d)->diags.v[i_].level == (lvl) &&                             \
                (d)->diags.v[i_].line == (ln) &&                               \
                strstr((d)->diags.v[i_].msg, (part)) != NULL;                  \
    OK(found_, "no %s at line %d containing \"%s\"",                           \
       (lvl) == DIAG_ERROR ? "error" : "warning", (int)(ln), (part));          \
    if (!found_)                                                               \
      print_diags(d);                                                          \
  } while (0)

#define NO_DIAGS(d)                                                            \
  do {                                                                         \
    OK((d)->diags.n == 0, "%zu diagnostics", (d)->diags.n);                    \
    if ((d)->diags.n)                                                          \
      print_diags(d);                                                          \
  } while (0)

#define FM_TASK "---\ntaskfs: 1\nsession: s1\ntask: t1\nrevision: 3\n---\n\n"
#define FM_GROUP "---\ntaskfs: 1\nsession: s1\ngroup: g1\nrevision: 9\n---\n\n"
#define FM_SESSION "---\ntaskfs: 1\nsession: s1\nrevision: 4\n---\n\n"
#define FM_NOTES "---\ntaskfs: 1\nsession: s1\nnotes: decisions\n---\n"

static const struct ptask *task_by_id(const struct doc *d, const char *id) {
  for (size_t i = 0; i < d->ntasks; i++)
    if (str_eq(d->tasks[i].id, id))
      return &d->tasks[i];
  return NULL;
}

/* ---- front matter ---- */

static void test_front_matter(void) {
  struct doc d;
  parse(FM_TASK "# T `t1`\n", DOC_GROUP, &d);
  NO_DIAGS(&d);
  OK(d.has_front_matter, "front matter");
  INT_EQ(d.fm_end_line, 6);
  INT_EQ(d.kind, DOC_TASK); /* the front matter names a task */
  STR_EQ(d.session, "s1");
  STR_EQ(d.task, "t1");
  OK(d.group == NULL && d.notes == NULL, "no group or notes");
  INT_EQ(d.revision, 3);
  doc_release(&d);

  /* "..." closes too; quoted values; no revision. */
  parse("---\ntaskfs: '1'\nsession: \"s 1\"\ngroup: 'g: #1'\n...\n# G\n",
        DOC_TASK, &d);
  NO_DIAGS(&d);
  INT_EQ(d.kind, DOC_GROUP);
  STR_EQ(d.session, "s 1");
  STR_EQ(d.group, "g: #1");
  INT_EQ(d.revision, -1);
  INT_EQ(d.fm_end_line, 5);
  STR_EQ(d.title, "G");
  doc_release(&d);

  /* None at all: the hint decides. */
  parse("# Only a title\n", DOC_GROUP, &d);
  NO_DIAGS(&d);
  OK(!d.has_front_matter, "no front matter");
  INT_EQ(d.kind, DOC_GROUP);
  INT_EQ(d.revision, -1);
  STR_EQ(d.title, "Only a title");
  doc_release(&d);
  parse("just words\n", DOC_UNKNOWN, &d);
  HAS_DIAG(&d, DIAG_ERROR, 1, "cannot tell what this file is");
  doc_release(&d);

  /* Never closed: line 1. */
  parse("---\ntaskfs: 1\nsession: s1\n\n# T\n", DOC_GROUP, &d);
  HAS_DIAG(&d, DIAG_ERROR, 1, "never closed");
  OK(!d.has_front_matter, "unclosed is none");
  doc_release(&d);

  /* Invalid YAML: the line of the problem. */
  const char *t = "---\ntaskfs: 1\nsession: s1\ngroup: a: b\nrevision: 2\n"
                  "---\n# G\n";
  parse(t, DOC_GROUP, &d);
  HAS_DIAG(&d, DIAG_ERROR, line_of(t, "group: a: b"), "not valid YAML");
  INT_EQ(d.diags.errors, 1);
  doc_release(&d);
  /* An unclosed flow sequence: libyaml notices at the end of the input,
   * but the problem is on the line that opens it. */
  t = "---\ntaskfs: 1\nsession: s1\nrevision: [\n---\n# G\n";
  parse(t, DOC_GROUP, &d);
  HAS_DIAG(&d, DIAG_ERROR, line_of(t, "revision: ["), "not valid YAML");
  doc_release(&d);

  /* Values of the wrong form. */
  t = "---\ntaskfs: 1\nsession: s1\ngroup: g1\nrevision: abc\n---\n# G\n";
  parse(t, DOC_GROUP, &d);
  HAS_DIAG(&d, DIAG_ERROR, line_of(t, "revision: abc"),
           "revision 'abc' is not a whole number");
  INT_EQ(d.diags.n, 1);
  INT_EQ(d.revision, -1);
  doc_release(&d);
  static const char *const bad_revs[] = {"-1", "1.5", "12x", "''"};
  for (size_t i = 0; i < 4; i++) {
    char *s = xasprintf("---\ntaskfs: 1\nsession: s1\nrevision: %s\n---\n"
                        "# S\n",
                        bad_revs[i]);
    parse(s, DOC_SESSION, &d);
    HAS_DIAG(&d, DIAG_ERROR, 4, "is not a whole number");
    doc_release(&d);
    free(s);
  }
  t = "---\ntaskfs: 2\nsession: s1\n---\n# S\n";
  parse(t, DOC_SESSION, &d);
  HAS_DIAG(&d, DIAG_ERROR, 2, "taskfs format '2' is not supported");
  INT_EQ(d.diags.n, 1);
  doc_release(&d);
  t = "---\ntaskfs: 1\nsession: s1\nowner: me\nrevision: 4\n---\n# S\n";
  parse(t, DOC_SESSION, &d);
  HAS_DIAG(&d, DIAG_WARNING, 4, "front matter key 'owner'");
  INT_EQ(d.diags.errors, 0);
  INT_EQ(d.diags.warnings, 1);
  INT_EQ(d.revision, 4);
  doc_release(&d);
  t = "---\ntaskfs: 1\nsession: [a, b]\n---\n# S\n";
  parse(t, DOC_SESSION, &d);
  HAS_DIAG(&d, DIAG_ERROR, 3, "'session' must have a single value");
  doc_release(&d);
  t = "---\n- a\n- b\n---\n# S\n";
  parse(t, DOC_SESSION, &d);
  HAS_DIAG(&d, DIAG_ERROR, 2, "must be 'key: value' lines");
  doc_release(&d);
  t = "---\ntaskfs: 1\nsession: s1\nmeta: sync_status\n---\n# S\n";
  parse(t, DOC_SESSION, &d);
  HAS_DIAG(&d, DIAG_ERROR, 4, "generated, read-only file (meta: sync_status)");
  doc_release(&d);
}

/* ---- task fields ---- */

static void test_task_fields(void) {
  const char *t = FM_TASK "# Build it `t1`\n\n"
                          "- [x] **Status**: done\n"
                          "- **Group**: frontend\n"
                          "- **Progress:** 60 %\n"
                          "- Priority: HIGH\n"
                          "* **specialist**: Ana Lima\n"
                          "+ **ESTIMATE**: 90m\n"
                          "-   **Actual effort** : 1h30m\n"
                          "- **Depends on**: `a`, b; `c`\n"
                          "- **Started**: 2025-06-01 09:00 UTC\n"
                          "- **Completed**: 2025-06-02 17:00 UTC\n"
                          "\nThe description.\n";
  struct doc d;
  parse(t, DOC_TASK, &d);
  NO_DIAGS(&d);
  INT_EQ(d.ntasks, 1);
  if (d.ntasks == 1) {
    const struct ptask *p = &d.tasks[0];
    STR_EQ(p->id, "t1");
    STR_EQ(p->title, "Build it");
    INT_EQ(p->line, line_of(t, "# Build it"));
    INT_EQ(p->checkbox, 1);
    INT_EQ(p->status, STATUS_COMPLETED);
    INT_EQ(p->status_line, line_of(t, "- [x]"));
    STR_EQ(p->group_name, "frontend");
    INT_EQ(p->group_line, line_of(t, "**Group**"));
    INT_EQ(p->progress, 60);
    INT_EQ(p->progress_line, line_of(t, "**Progress:**"));
    INT_EQ(p->priority, PRIORITY_HIGH);
    OK(p->has_specialist, "specialist");
    STR_EQ(p->specialist, "Ana Lima");
    OK(p->has_estimate && p->estimate == 1.5, "estimate %g", p->estimate);
    OK(p->has_actual && p->actual == 1.5, "actual %g", p->actual);
    OK(p->has_deps, "deps");
    INT_EQ(p->dependencies.n, 3);
    if (p->dependencies.n == 3) {
      STR_EQ(p->dependencies.v[0], "a");
      STR_EQ(p->dependencies.v[1], "b");
      STR_EQ(p->dependencies.v[2], "c");
    }
    STR_EQ(p->description, "The description.");
    INT_EQ(p->deliverables.n, 0);
    STR_EQ(p->current_status, "");
    INT_EQ(p->table_status, -1);
    INT_EQ(p->section_status, -1);
  }
  doc_release(&d);

  /* The checkbox forms; fields not written are unset. */
  static const struct {
    const char *line;
    int checkbox, status;
  } boxes[] = {
      {"- [ ] **Status**: active", 0, STATUS_ACTIVE},
      {"- [x] **Status**: completed", 1, STATUS_COMPLETED},
      {"- [X] **Status**: completed", 1, STATUS_COMPLETED},
      {"- **Status**: blocked", -1, STATUS_BLOCKED},
      {"* [ ] Status: In Progress", 0, STATUS_ACTIVE},
      {"- [x] status: todo", 1, STATUS_PLANNED},
  };
  for (size_t i = 0; i < sizeof boxes / sizeof boxes[0]; i++) {
    char *s = xasprintf(FM_TASK "# T `t1`\n\n%s\n", boxes[i].line);
    parse(s, DOC_TASK, &d);
    NO_DIAGS(&d);
    if (d.ntasks == 1) {
      OK(d.tasks[0].checkbox == boxes[i].checkbox &&
             d.tasks[0].status == boxes[i].status,
         "\"%s\": checkbox %d status %d", boxes[i].line, d.tasks[0].checkbox,
         d.tasks[0].status);
      INT_EQ(d.tasks[0].progress, -1);
      INT_EQ(d.tasks[0].priority, -1);
      OK(!d.tasks[0].has_specialist && !d.tasks[0].has_estimate &&
             !d.tasks[0].has_actual && !d.tasks[0].has_deps &&
             isnan(d.tasks[0].estimate) && d.tasks[0].specialist == NULL,
         "unset fields");
    }
    doc_release(&d);
    free(s);
  }

  /* "none" and dashes are no dependencies; an empty effort is unset. */
  parse(FM_TASK "# T `t1`\n\n- **Depends on**: none\n- **Estimate**: -\n"
                "- **Actual**: \xe2\x80\x94\n",
        DOC_TASK, &d);
  NO_DIAGS(&d);
  if (d.ntasks == 1) {
    OK(d.tasks[0].has_deps && d.tasks[0].dependencies.n == 0, "no deps");
    OK(d.tasks[0].has_estimate && isnan(d.tasks[0].estimate), "estimate");
    OK(d.tasks[0].has_actual && isnan(d.tasks[0].actual), "actual");
  }
  doc_release(&d);

  /* An id from a Task ID field when the heading has none; a heading with
   * backticks in its title. */
  parse(FM_TASK "# Use `foo` lib\n\n- **Task ID**: `t7`\n", DOC_TASK, &d);
  NO_DIAGS(&d);
  if (d.ntasks == 1) {
    STR_EQ(d.tasks[0].id, "t7");
    STR_EQ(d.tasks[0].title, "Use `foo` lib");
  }
  doc_release(&d);
  parse(FM_TASK "# Use `foo` lib `t1`\n", DOC_TASK, &d);
  if (d.ntasks == 1) {
    STR_EQ(d.tasks[0].id, "t1");
    STR_EQ(d.tasks[0].title, "Use `foo` lib");
  }
  doc_release(&d);

  /* Field values in error, each at its line. */
  t = FM_TASK "# T `t1`\n\n"
              "- [ ] **Status**: sleeping\n"
              "- **Progress**: 140%\n"
              "- **Priority**: urgent\n"
              "- **Estimate**: 4x\n"
              "- **Actual**: -3h\n";
  parse(t, DOC_TASK, &d);
  HAS_DIAG(&d, DIAG_ERROR, line_of(t, "sleeping"),
           "status 'sleeping' is not one of");
  HAS_DIAG(&d, DIAG_ERROR, line_of(t, "140%"),
           "progress '140%' is outside 0-100%");
  HAS_DIAG(&d, DIAG_ERROR, line_of(t, "urgent"),
           "priority 'urgent' is not one of");
  HAS_DIAG(&d, DIAG_ERROR, line_of(t, "4x"), "effort '4x' is not a duration");
  HAS_DIAG(&d, DIAG_ERROR, line_of(t, "-3h"), "effort '-3h'");
  INT_EQ(d.diags.errors, 5);
  INT_EQ(d.diags.warnings, 0);
  doc_release(&d);
  t = FM_TASK "# T `t1`\n\n- **Progress**: abc%\n";
  parse(t, DOC_TASK, &d);
  HAS_DIAG(&d, DIAG_ERROR, line_of(t, "abc%"),
           "progress 'abc%' is not a whole number");
  INT_EQ(d.diags.n, 1);
  doc_release(&d);

  /* A task file without its title line. */
  t = FM_TASK "Some words.\n\n## Notes\n";
  parse(t, DOC_TASK, &d);
  HAS_DIAG(&d, DIAG_ERROR, line_of(t, "## Notes"),
           "a task file starts with its title line");
  doc_release(&d);
  t = FM_TASK "Some words.\n";
  parse(t, DOC_TASK, &d);
  HAS_DIAG(&d, DIAG_ERROR, 1, "a task file starts with its title line");
  doc_release(&d);
  t = FM_TASK "# `t1`\n";
  parse(t, DOC_TASK, &d);
  HAS_DIAG(&d, DIAG_ERROR, line_of(t, "# `t1`"),
           "a task heading needs a title");
  doc_release(&d);
}

/* ---- task blocks: description, deliverables, current status ---- */

static void test_task_parts(void) {
  const char *t = FM_TASK "# T `t1`\n\n"
                          "- **Progress**: 5%\n\n"
                          "First paragraph.\n\n"
                          "#### Details\n\n"
                          "```sh\n## not a heading\n### nor this\n```\n\n"
                          "**Deliverables**:\n\n"
                          "- One\n"
                          "- Two\n  continued\n  and more\n"
                          "- Three\n\n"
                          "**Current status**: waiting\nfor review\n\n"
                          "Second paragraph.\n\n"
                          "## \xf0\x9f\x93\x9d Notes\n\nmine\n";
  struct doc d;
  parse(t, DOC_TASK, &d);
  NO_DIAGS(&d);
  INT_EQ(d.ntasks, 1);
  if (d.ntasks == 1) {
    const struct ptask *p = &d.tasks[0];
    STR_EQ(p->description, "First paragraph.\n\n#### Details\n\n"
                           "```sh\n## not a heading\n### nor this\n```");
    INT_EQ(p->deliverables.n, 3);
    if (p->deliverables.n == 3) {
      STR_EQ(p->deliverables.v[0], "One");
      STR_EQ(p->deliverables.v[1], "Two\ncontinued\nand more");
      STR_EQ(p->deliverables.v[2], "Three");
    }
    STR_EQ(p->current_status, "waiting\nfor review\n\nSecond paragraph.");
    INT_EQ(p->end_line, line_of(t, "## \xf0\x9f\x93\x9d Notes") - 1);
    INT_EQ(p->nsections, 1);
    if (p->nsections == 1) {
      STR_EQ(p->sections[0].key, "notes");
      STR_EQ(p->sections[0].heading, "## \xf0\x9f\x93\x9d Notes");
      STR_EQ(p->sections[0].body, "\nmine\n");
      INT_EQ(p->sections[0].line, line_of(t, "## \xf0\x9f\x93\x9d Notes"));
    }
  }
  doc_release(&d);

  /* Current status before deliverables; text on the label line; text
   * after the deliverables list goes to the description, with a
   * warning. */
  t = FM_TASK "# T `t1`\n\nDesc.\n\n"
              "**Current status**:\n\nall good\n\n"
              "**Deliverables**: first\n\n- second\n\nstray text\n";
  parse(t, DOC_TASK, &d);
  HAS_DIAG(&d, DIAG_WARNING, line_of(t, "stray text"),
           "text after the deliverables list");
  INT_EQ(d.diags.n, 1);
  if (d.ntasks == 1) {
    STR_EQ(d.tasks[0].current_status, "all good");
    INT_EQ(d.tasks[0].deliverables.n, 2);
    if (d.tasks[0].deliverables.n == 2) {
      STR_EQ(d.tasks[0].deliverables.v[0], "first");
      STR_EQ(d.tasks[0].deliverables.v[1], "second");
    }
    STR_EQ(d.tasks[0].description, "Desc.\n\nstray text");
  }
  doc_release(&d);

  /* A level-3 heading after the block starts the task's sections too. */
  t = FM_TASK "# T `t1`\n\nDesc.\n\n### Log\n\nday 1\n\n## Links\n\nurl\n";
  parse(t, DOC_TASK, &d);
  NO_DIAGS(&d);
  if (d.ntasks == 1) {
    STR_EQ(d.tasks[0].description, "Desc.");
    INT_EQ(d.tasks[0].nsections, 2);
    if (d.tasks[0].nsections == 2) {
      STR_EQ(d.tasks[0].sections[0].heading, "### Log");
      STR_EQ(d.tasks[0].sections[0].body, "\nday 1\n\n");
      STR_EQ(d.tasks[0].sections[1].key, "links");
      STR_EQ(d.tasks[0].sections[1].body, "\nurl\n");
    }
  }
  doc_release(&d);
}

/* ---- group files ---- */

#define GROUP_TEXT                                                             \
  FM_GROUP "Frontend Work\n=============\n\n"                                  \
           "- **Status**: Active\n"                                            \
           "- **Priority**: critical\n"                                        \
           "- **Specialist focus**: designer\n"                                \
           "- **Created**: 2025-05-30 09:00 UTC\n"                             \
           "- **Progress**: 45% (5 of 11 tasks completed)\n\n"                 \
           "Group description.\n\nSecond paragraph.\n\n"                       \
           "## \xf0\x9f\x93\x8a Metrics\n\n| Metric | Value |\n|---|---|\n"    \
           "| Total tasks | 3 |\n\n"                                           \
           "## \xf0\x9f\x97\x82\xef\xb8\x8f Task Overview\n\n"                 \
           "| Task | Title | Status | Progress |\n|---|---|---|---|\n"         \
           "| `a1` | Pipes \\| here | active | 20% |\n"                        \
           "| `b1` | Blocked one | blocked | 0% |\n\n"                         \
           "## In Progress Tasks\n\n"                                          \
           "### Pipes | here `a1`\n\n"                                         \
           "- [ ] **Status**: active\n- **Progress**: 10%\n\n"                 \
           "Text.\n\n"                                                         \
           "#### Sub heading\n\n"                                              \
           "```\n# not a heading\n## nor a section\n### nor a task\n```\n\n"   \
           "### New task\n\n"                                                  \
           "## \xf0\x9f\x9a\xab Blocked\n\n"                                   \
           "### Blocked one `b1`\n\n"                                          \
           "Done\n----\n\n"                                                    \
           "### Finished `c1`\n\n- [x] **Status**: completed\n\n"              \
           "## todo\n\n"                                                       \
           "### Later `d1`\n\n"                                                \
           "## \xe2\x9c\x85 Completed Tasks\n\n"                               \
           "### Old `e1`\n\n"                                                  \
           "## \xf0\x9f\x93\x9d Notes  \n\n"                                   \
           "Kept  \nexactly.\n\n\n| a | b |\n|---|---|\n\n"                    \
           "```\n## fenced\n```\n\n"                                           \
           "## Risks\n\n1. One\n"

static void test_group(void) {
  const char *t = GROUP_TEXT;
  struct doc d;
  parse(t, DOC_GROUP, &d);
  NO_DIAGS(&d);
  INT_EQ(d.kind, DOC_GROUP);
  STR_EQ(d.group, "g1");
  INT_EQ(d.revision, 9);
  STR_EQ(d.title, "Frontend Work"); /* a setext heading */
  INT_EQ(d.title_line, line_of(t, "Frontend Work"));
  INT_EQ(d.status, STATUS_ACTIVE);
  INT_EQ(d.priority, PRIORITY_CRITICAL);
  OK(d.has_specialist, "specialist");
  STR_EQ(d.specialist, "designer");
  STR_EQ(d.description, "Group description.\n\nSecond paragraph.");

  INT_EQ(d.ntasks, 6);
  static const struct {
    const char *id, *title;
    int section;
  } want[] = {{"a1", "Pipes | here", STATUS_ACTIVE},
              {NULL, "New task", STATUS_ACTIVE},
              {"b1", "Blocked one", STATUS_BLOCKED},
              {"c1", "Finished", STATUS_COMPLETED},
              {"d1", "Later", STATUS_PLANNED},
              {"e1", "Old", STATUS_COMPLETED}};
  for (size_t i = 0; i < 6 && i < d.ntasks; i++) {
    OK(str_eq(d.tasks[i].id, want[i].id), "task %zu id %s", i,
       d.tasks[i].id ? d.tasks[i].id : "(null)");
    STR_EQ(d.tasks[i].title, want[i].title);
    INT_EQ(d.tasks[i].section_status, want[i].section);
  }
  const struct ptask *a1 = task_by_id(&d, "a1");
  OK(a1 != NULL, "a1");
  if (a1) {
    STR_EQ(a1->description,
           "Text.\n\n#### Sub heading\n\n"
           "```\n# not a heading\n## nor a section\n### nor a task\n```");
    INT_EQ(a1->progress, 10);
    /* The overview row: '\|' is a literal bar. */
    STR_EQ(a1->table_title, "Pipes | here");
    INT_EQ(a1->table_status, STATUS_ACTIVE);
    INT_EQ(a1->table_progress, 20);
    INT_EQ(a1->table_line, line_of(t, "| `a1` |"));
    INT_EQ(a1->line, line_of(t, "### Pipes | here `a1`"));
    INT_EQ(a1->end_line, line_of(t, "### New task") - 1);
  }
  const struct ptask *b1 = task_by_id(&d, "b1");
  if (b1) {
    INT_EQ(b1->table_status, STATUS_BLOCKED);
    INT_EQ(b1->status, -1); /* no Status line */
    INT_EQ(b1->checkbox, -1);
  }
  const struct ptask *c1 = task_by_id(&d, "c1");
  if (c1) {
    INT_EQ(c1->table_status, -1); /* no overview row */
    OK(c1->table_title == NULL, "no table title");
    INT_EQ(c1->checkbox, 1);
  }

  /* Generated parts: the metrics section and the header fields. */
  INT_EQ(d.ngenerated, 3);
  if (d.ngenerated == 3) {
    STR_EQ(d.generated[0].name, "field:created");
    INT_EQ(d.generated[0].line, line_of(t, "**Created**"));
    STR_EQ(d.generated[1].name, "field:progress");
    INT_EQ(d.generated[1].line, line_of(t, "**Progress**: 45%"));
    STR_EQ(d.generated[2].name, "## \xf0\x9f\x93\x8a Metrics");
    INT_EQ(d.generated[2].line, line_of(t, "Metrics"));
    size_t s = d.generated[2].start, e = d.generated[2].end;
    OK(e > s && strncmp(d.text + s, "## \xf0\x9f\x93\x8a Metrics\n", 12) == 0 &&
           strncmp(d.text + e, "## \xf0\x9f\x97\x82", 7) == 0,
       "metrics range %zu-%zu", s, e);
  }

  /* User sections, byte for byte. */
  INT_EQ(d.nsections, 2);
  if (d.nsections == 2) {
    STR_EQ(d.sections[0].key, "notes");
    STR_EQ(d.sections[0].heading, "## \xf0\x9f\x93\x9d Notes  ");
    STR_EQ(d.sections[0].body, "\nKept  \nexactly.\n\n\n| a | b |\n|---|---|\n"
                               "\n```\n## fenced\n```\n\n");
    INT_EQ(d.sections[0].line, line_of(t, "Notes  "));
    STR_EQ(d.sections[1].key, "risks");
    STR_EQ(d.sections[1].heading, "## Risks");
    STR_EQ(d.sections[1].body, "\n1. One\n");
  }
  doc_release(&d);

  /* A setext title directly followed by the fields. */
  t = FM_SESSION "My Session\n==========\n- **Status**: paused\n\nDesc.\n";
  parse(t, DOC_SESSION, &d);
  NO_DIAGS(&d);
  STR_EQ(d.title, "My Session");
  STR_EQ(d.status_word, "paused");
  STR_EQ(d.description, "Desc.");
  doc_release(&d);
  /* At the end of the text. */
  parse(FM_GROUP "Last\n====\n", DOC_GROUP, &d);
  NO_DIAGS(&d);
  STR_EQ(d.title, "Last");
  doc_release(&d);

  /* Status section words, with and without emoji. */
  static const struct {
    const char *heading;
    int status;
  } sects[] = {
      {"## Done", STATUS_COMPLETED},
      {"## In Progress Tasks", STATUS_ACTIVE},
      {"## \xf0\x9f\x94\x84 Active", STATUS_ACTIVE},
      {"## Active Tasks", STATUS_ACTIVE},
      {"## BLOCKED", STATUS_BLOCKED},
      {"## To Do", STATUS_PLANNED},
      {"## \xf0\x9f\x93\x8b Planned Tasks", STATUS_PLANNED},
      {"## \xe2\x9c\x85 Completed", STATUS_COMPLETED},
      {"## Completed \xe2\x9c\x85", STATUS_COMPLETED},
  };
  for (size_t i = 0; i < sizeof sects / sizeof sects[0]; i++) {
    char *s = xasprintf(FM_GROUP "# G\n\n%s\n\n### X `x1`\n", sects[i].heading);
    parse(s, DOC_GROUP, &d);
    NO_DIAGS(&d);
    OK(d.ntasks == 1 && d.tasks[0].section_status == sects[i].status,
       "\"%s\": %zu tasks, section %d", sects[i].heading, d.ntasks,
       d.ntasks ? d.tasks[0].section_status : -9);
    INT_EQ(d.nsections, 0);
    doc_release(&d);
    free(s);
  }
  /* Not status words: a user section, its "###" no task. */
  parse(FM_GROUP "# G\n\n## Done soon\n\n### X `x1`\n", DOC_GROUP, &d);
  INT_EQ(d.ntasks, 0);
  INT_EQ(d.nsections, 1);
  if (d.nsections == 1)
    STR_EQ(d.sections[0].body, "\n### X `x1`\n");
  doc_release(&d);

  /* Group-file diagnostics. */
  t = FM_GROUP "Words first.\n\n## Active\n";
  parse(t, DOC_GROUP, &d);
  HAS_DIAG(&d, DIAG_ERROR, line_of(t, "Words first") - 1,
           "a group file starts with its title line");
  INT_EQ(d.diags.errors, 1);
  doc_release(&d);
  t = FM_GROUP "# G\n\n- **Status**: sleeping\n- **Priority**: top\n\n"
               "## Active\n\nnotes here\n\n### A `a1`\n\n"
               "## Overview\n\n| Task | Status | Progress |\n|---|---|---|\n"
               "| `zz` | active | 5% |\n| `a1` | later | 101% |\n\n"
               "## Done\n\n### B `a1`\n\n### C `a1`\n\n"
               "## Risks\n\none\n\n## Risks!\n\ntwo\n";
  parse(t, DOC_GROUP, &d);
  HAS_DIAG(&d, DIAG_ERROR, line_of(t, "sleeping"), "status 'sleeping'");
  HAS_DIAG(&d, DIAG_ERROR, line_of(t, "top"), "priority 'top'");
  HAS_DIAG(&d, DIAG_WARNING, line_of(t, "notes here"),
           "before its first task is not kept");
  HAS_DIAG(&d, DIAG_WARNING, line_of(t, "| `zz`"),
           "overview row for 'zz' has no task block");
  HAS_DIAG(&d, DIAG_ERROR, line_of(t, "| `a1` | later"), "status 'later'");
  HAS_DIAG(&d, DIAG_ERROR, line_of(t, "| `a1` | later"),
           "progress '101%' is outside");
  /* Duplicates: each later block, naming the first. */
  HAS_DIAG(&d, DIAG_ERROR, line_of(t, "### B `a1`"), "task 'a1' appears twice");
  HAS_DIAG(&d, DIAG_ERROR, line_of(t, "### C `a1`"), "task 'a1' appears twice");
  HAS_DIAG(&d, DIAG_ERROR, line_of(t, "## Risks!"),
           "a second section '## Risks!'");
  INT_EQ(d.diags.errors, 7);
  INT_EQ(d.diags.warnings, 2);
  doc_release(&d);
}

/* ---- session and notes files ---- */

static void test_session_notes(void) {
  const char *t = FM_SESSION "# Analytics: #1\n\n"
                             "- **Status**: Paused\n"
                             "- **Mode**: development_roles.yaml\n"
                             "- **Created**: 2025-05-30 09:00 UTC\n"
                             "- **Progress**: 20% (1 of 5 tasks completed)\n\n"
                             "About it.\n\n"
                             "## \xf0\x9f\x93\x8a Metrics\n\nx\n\n"
                             "## \xf0\x9f\x8e\xaf Task Groups\n\ny\n\n"
                             "## \xf0\x9f\x93\x9d Recent Activity\n\nz\n\n"
                             "## \xf0\x9f\x97\x92\xef\xb8\x8f Notes Files\n\n"
                             "w\n\n"
                             "## \xf0\x9f\x92\xa1 Key Insights\n\n"
                             "- insight  \n\n\n"
                             "Risks\n-----\n\nr\n";
  struct doc d;
  parse(t, DOC_SESSION, &d);
  NO_DIAGS(&d);
  STR_EQ(d.title, "Analytics: #1");
  STR_EQ(d.status_word, "paused");
  OK(d.has_mode, "mode");
  STR_EQ(d.mode, "development_roles.yaml");
  STR_EQ(d.description, "About it.");
  INT_EQ(d.ngenerated, 6);
  INT_EQ(d.nsections, 2);
  if (d.nsections == 2) {
    STR_EQ(d.sections[0].key, "key_insights");
    STR_EQ(d.sections[0].body, "\n- insight  \n\n\n");
    /* A setext section: its heading is the text line, the underline
     * stays in the body so the bytes come back. */
    STR_EQ(d.sections[1].key, "risks");
    STR_EQ(d.sections[1].heading, "Risks");
    STR_EQ(d.sections[1].body, "-----\n\nr\n");
  }
  doc_release(&d);

  t = FM_SESSION "Words first.\n";
  parse(t, DOC_SESSION, &d);
  HAS_DIAG(&d, DIAG_ERROR, line_of(t, "Words first") - 1,
           "session.md starts with its title line");
  doc_release(&d);
  t = FM_SESSION "# S\n\n- **Status**: sleeping\n";
  parse(t, DOC_SESSION, &d);
  HAS_DIAG(&d, DIAG_ERROR, line_of(t, "sleeping"),
           "session status 'sleeping' is not one of");
  doc_release(&d);

  /* Notes: everything after the title line, verbatim. */
  t = FM_NOTES "\n# \xf0\x9f\xa7\xad Decisions\n\n- Use SQLite  \n\n"
               "## Sub\n\n```sh\n# not a heading\n```\n";
  parse(t, DOC_NOTES, &d);
  NO_DIAGS(&d);
  INT_EQ(d.kind, DOC_NOTES);
  STR_EQ(d.notes, "decisions");
  STR_EQ(d.notes_body,
         "\n- Use SQLite  \n\n## Sub\n\n```sh\n# not a heading\n```\n");
  INT_EQ(d.ngenerated, 1);
  if (d.ngenerated == 1)
    STR_EQ(d.generated[0].name, "title");
  doc_release(&d);
  parse(FM_NOTES "no title\n", DOC_NOTES, &d);
  STR_EQ(d.notes_body, "no title\n");
  INT_EQ(d.ngenerated, 0);
  doc_release(&d);
}

/* ---- the text itself ---- */

static char *crlf_bom(const char *text) {
  struct buf b = BUF_INIT;
  buf_adds(&b, "\xef\xbb\xbf");
  for (const char *p = text; *p; p++) {
    if (*p == '\n')
      buf_addc(&b, '\r');
    buf_addc(&b, *p);
  }
  return buf_detach(&b, NULL);
}

static void same_doc(const struct doc *a, const struct doc *b) {
  INT_EQ(a->kind, b->kind);
  INT_EQ(a->revision, b->revision);
  STR_EQ(a->group, b->group);
  STR_EQ(a->title, b->title);
  INT_EQ(a->title_line, b->title_line);
  STR_EQ(a->description, b->description);
  INT_EQ(a->status, b->status);
  INT_EQ(a->priority, b->priority);
  INT_EQ(a->diags.n, b->diags.n);
  OK(a->len == b->len && memcmp(a->text, b->text, a->len) == 0,
     "normalised texts differ");
  INT_EQ(a->ntasks, b->ntasks);
  for (size_t i = 0; i < a->ntasks && i < b->ntasks; i++) {
    const struct ptask *x = &a->tasks[i], *y = &b->tasks[i];
    OK(str_eq(x->id, y->id), "task %zu id", i);
    STR_EQ(x->title, y->title);
    STR_EQ(x->description, y->description);
    STR_EQ(x->current_status, y->current_status);
    OK(strlist_eq(&x->deliverables, &y->deliverables), "deliverables");
    OK(str_eq(x->table_title, y->table_title), "table title");
    INT_EQ(x->line, y->line);
    INT_EQ(x->status, y->status);
    INT_EQ(x->progress, y->progress);
    INT_EQ(x->table_progress, y->table_progress);
  }
  INT_EQ(a->nsections, b->nsections);
  for (size_t i = 0; i < a->nsections && i < b->nsections; i++) {
    STR_EQ(a->sections[i].heading, b->sections[i].heading);
    STR_EQ(a->sections[i].body, b->sections[i].body);
  }
  INT_EQ(a->ngenerated, b->ngenerated);
}

static void test_text_forms(void) {
  const char *t = GROUP_TEXT;
  char *c = crlf_bom(t);
  struct doc a, b;
  parse(t, DOC_GROUP, &a);
  parse(c, DOC_GROUP, &b);
  same_doc(&a, &b);
  OK(strchr(b.text, '\r') == NULL, "no CR left");
  doc_release(&a);
  doc_release(&b);
  free(c);
  /* A BOM alone, CRLF alone. */
  c = xasprintf("\xef\xbb\xbf%s", t);
  parse(t, DOC_GROUP, &a);
  parse(c, DOC_GROUP, &b);
  same_doc(&a, &b);
  doc_release(&a);
  doc_release(&b);
  free(c);
  c = crlf_bom(t);
  parse(t, DOC_GROUP, &a);
  parse(c + 3, DOC_GROUP, &b);
  same_doc(&a, &b);
  doc_release(&a);
  doc_release(&b);
  free(c);
  /* Line numbers count CRLF lines as lines. */
  c = crlf_bom(FM_TASK "# T `t1`\n\n- **Progress**: 140%\n");
  parse(c, DOC_TASK, &a);
  HAS_DIAG(&a, DIAG_ERROR, 10, "outside 0-100%");
  doc_release(&a);
  free(c);

  /* Binary data: the line of the NUL. */
  static const char bin[] = FM_TASK "# T `t1`\n\nab\0cd\n";
  parse_doc(bin, sizeof bin - 1, DOC_TASK, &a);
  HAS_DIAG(&a, DIAG_ERROR, 10, "binary data (a NUL byte)");
  INT_EQ(a.diags.n, 1);
  INT_EQ(a.ntasks, 0);
  STR_EQ(a.text, "");
  doc_release(&a);
  static const char nul1[] = "\0";
  parse_doc(nul1, 1, DOC_TASK, &a);
  HAS_DIAG(&a, DIAG_ERROR, 1, "binary data");
  doc_release(&a);

  /* Invalid UTF-8: the line of the first bad byte. */
  t = FM_TASK "# T `t1`\n\nok caf\xc3\xa9\nbad \xff\xfe here\nbad \xc3 too\n";
  parse(t, DOC_TASK, &a);
  HAS_DIAG(&a, DIAG_ERROR, line_of(t, "bad \xff"), "invalid UTF-8");
  INT_EQ(a.diags.n, 1);
  doc_release(&a);
  t = "\xc0\xaf\n";
  parse(t, DOC_NOTES, &a);
  HAS_DIAG(&a, DIAG_ERROR, 1, "invalid UTF-8");
  doc_release(&a);
  t = FM_NOTES "line\n\xed\xa0\x80\n";
  c = crlf_bom(t);
  parse(c, DOC_NOTES, &a);
  HAS_DIAG(&a, DIAG_ERROR, line_of(t, "\xed"), "invalid UTF-8");
  doc_release(&a);
  free(c);

  /* Too large: the file, line 0. */
  size_t big = PARSE_MAX_BYTES + 1;
  char *huge = xmalloc(big);
  memset(huge, 'a', big);
  parse_doc(huge, big, DOC_NOTES, &a);
  HAS_DIAG(&a, DIAG_ERROR, 0, "taskfs reads back files of at most 64 MiB");
  INT_EQ(a.diags.n, 1);
  doc_release(&a);
  /* Exactly the limit passes the size check: a NUL as the last byte is
   * then what is reported (and spares parsing 64 MiB). */
  huge[PARSE_MAX_BYTES - 1] = '\0';
  parse_doc(huge, PARSE_MAX_BYTES, DOC_NOTES, &a);
  HAS_DIAG(&a, DIAG_ERROR, 1, "binary data");
  INT_EQ(a.diags.n, 1);
  doc_release(&a);
  free(huge);

  /* Empty text. */
  parse_doc("", 0, DOC_NOTES, &a);
  NO_DIAGS(&a);
  STR_EQ(a.notes_body, "");
  doc_release(&a);
}

/* ---- diagnostics output ---- */

static void test_diags_format(void) {
  struct diags d = {0};
  diags_add(&d, DIAG_WARNING, 3, "first warning");
  diags_add(&d, DIAG_ERROR, 9, "an error %d", 1);
  diags_add(&d, DIAG_WARNING, 0, "file warning");
  diags_add(&d, DIAG_ERROR, 2, "another error");
  INT_EQ(d.errors, 2);
  INT_EQ(d.warnings, 2);
  INT_EQ(d.n, 4);
  struct buf b = BUF_INIT;
  diags_format(&d, &b);
  STR_EQ(b.ptr, "line 9: error: an error 1\n"
                "line 2: error: another error\n"
                "line 3: warning: first warning\n"
                "warning: file warning\n");
  buf_release(&b);
  diags_release(&d);
  OK(d.n == 0 && d.v == NULL && d.errors == 0, "released");
  diags_format(&d, &b);
  INT_EQ(b.len, 0);

  /* From a parsed file. */
  const char *t = "---\ntaskfs: 1\nsession: s1\ntask: t1\nx: y\n---\n\n"
                  "# T `t1`\n\n- **Progress**: 140%\n";
  struct doc doc;
  parse(t, DOC_TASK, &doc);
  diags_format(&doc.diags, &b);
  STR_EQ(b.ptr, "line 10: error: progress '140%' is outside 0-100%\n"
                "line 5: warning: front matter key 'x' is not one of "
                "taskfs's and is ignored\n");
  buf_release(&b);
  doc_release(&doc);
}

/* ---- generated parts ---- */

static void test_find_generated(void) {
  const char *t = GROUP_TEXT;
  size_t s = 0, e = 0;
  OK(parse_find_generated(t, strlen(t), "## \xf0\x9f\x93\x8a Metrics", &s, &e),
     "metrics found");
  OK(e > s, "range %zu-%zu", s, e);
  char *part = xstrndup(t + s, e - s);
  STR_EQ(part, "## \xf0\x9f\x93\x8a Metrics\n\n| Metric | Value |\n|---|---|\n"
               "| Total tasks | 3 |\n\n");
  free(part);
  OK(parse_find_generated(t, strlen(t), "field:progress", &s, &e),
     "progress field found");
  part = xstrndup(t + s, e - s);
  STR_EQ(part, "- **Progress**: 45% (5 of 11 tasks completed)\n");
  free(part);
  OK(parse_find_generated(t, strlen(t), "field:created", &s, &e), "created");
  part = xstrndup(t + s, e - s);
  STR_EQ(part, "- **Created**: 2025-05-30 09:00 UTC\n");
  free(part);
  OK(!parse_find_generated(t, strlen(t), "## Nothing", &s, &e), "absent");
  OK(!parse_find_generated(t, strlen(t), "field:mode", &s, &e), "no mode");
  /* The last section runs to the end of the text. */
  OK(parse_find_generated(t, strlen(t), "## Risks", &s, &e), "risks");
  INT_EQ(e, strlen(t));
  /* Matches the same range parse_doc reports. */
  struct doc d;
  parse(t, DOC_GROUP, &d);
  if (d.ngenerated == 3) {
    OK(parse_find_generated(d.text, d.len, d.generated[2].name, &s, &e),
       "by parsed name");
    INT_EQ(s, d.generated[2].start);
    INT_EQ(e, d.generated[2].end);
  }
  doc_release(&d);

  /* In a rendered group file. */
  struct store *st = fixture_open();
  struct buf b = BUF_INIT;
  RC_OK(load_render(st, DOC_GROUP, "frontend_group_001", 0, &b, NULL), st);
  OK(parse_find_generated(b.ptr, b.len, "## \xf0\x9f\x93\x8a Metrics", &s, &e),
     "rendered metrics");
  part = xstrndup(b.ptr + s, e - s);
  OK(str_starts(part, "## \xf0\x9f\x93\x8a Metrics\n\n| Metric | Value |\n") &&
         str_ends(part,
                  "| Estimated effort | 16h |\n| Actual effort | 0h |\n\n"),
     "metrics part:\n%s", part);
  OK(str_starts(b.ptr + e, "## \xf0\x9f\x97\x82\xef\xb8\x8f Task Overview\n"),
     "ends at the overview");
  free(part);
  OK(parse_find_generated(b.ptr, b.len, "field:progress", &s, &e),
     "rendered progress");
  part = xstrndup(b.ptr + s, e - s);
  STR_EQ(part, "- **Progress**: 25% (1 of 4 tasks completed)\n");
  free(part);
  buf_release(&b);
  store_close(st);
}

/* ---- the status chart of session.md ---- */

#define CHART_SECTION                                                          \
  "## \xf0\x9f\x93\x88 Status Chart\n\n"                                       \
  "```mermaid\npie showData\n    title Tasks by status\n"                      \
  "    \"Active\" : 2\n```\n\n"                                                \
  "```mermaid\nxychart-beta horizontal\n    x-axis [\"A #35;1\"]\n"            \
  "    bar [50]\n```\n\n"

static void test_status_chart(void) {
  const char *mine = "```mermaid\npie\n    \"Mine\" : 1\n## not a heading\n"
                     "```\n";
  char *t =
      xasprintf(FM_SESSION "# S\n\n- **Status**: active\n\n"
                           "Before.\n\n%s\n"
                           "## \xf0\x9f\x93\x8a Metrics\n\nx\n\n" CHART_SECTION
                           "## \xf0\x9f\x8e\xaf Task Groups\n\ny\n\n"
                           "## \xf0\x9f\x92\xa1 Key Insights\n\n%s",
                mine, mine);
  struct doc d;
  parse(t, DOC_SESSION, &d);
  NO_DIAGS(&d);
  /* The chart is a generated part, from its heading to the next one. */
  INT_EQ(d.ngenerated, 3);
  if (d.ngenerated == 3) {
    STR_EQ(d.generated[1].name, "## \xf0\x9f\x93\x88 Status Chart");
    INT_EQ(d.generated[1].line, line_of(t, "Status Chart"));
    char *part = xstrndup(d.text + d.generated[1].start,
                          d.generated[1].end - d.generated[1].start);
    STR_EQ(part, CHART_SECTION);
    free(part);
    size_t s = 0, e = 0;
    OK(parse_find_generated(t, strlen(t), d.generated[1].name, &s, &e),
       "found by name");
    INT_EQ(s, d.generated[1].start);
    INT_EQ(e, d.generated[1].end);
  }
  /* A mermaid block of one's own stays free text: in the description and
   * in a section, byte for byte. */
  char *want = xasprintf("Before.\n\n%.*s", (int)strlen(mine) - 1, mine);
  STR_EQ(d.description, want);
  free(want);
  INT_EQ(d.nsections, 1);
  if (d.nsections == 1) {
    STR_EQ(d.sections[0].key, "key_insights");
    want = xasprintf("\n%s", mine);
    STR_EQ(d.sections[0].body, want);
    free(want);
  }
  doc_release(&d);
  free(t);

  /* Without its heading the chart falls into the section above it, also
   * generated; it never becomes a section of one's own. */
  t = xasprintf(FM_SESSION "# S\n\n## \xf0\x9f\x93\x8a Metrics\n\nx\n\n%s"
                           "## Notes\n\nn\n",
                CHART_SECTION + strlen("## \xf0\x9f\x93\x88 Status Chart\n\n"));
  parse(t, DOC_SESSION, &d);
  NO_DIAGS(&d);
  INT_EQ(d.ngenerated, 1);
  INT_EQ(d.nsections, 1);
  if (d.nsections == 1)
    STR_EQ(d.sections[0].body, "\nn\n");
  doc_release(&d);
  free(t);
}

/* ---- line ends ---- */

/* A lone CR ends a line, as LF and CR LF do, everywhere: in the body (as
 * cmark reads it), in the front matter, and in every line number; lines
 * that libyaml ends at U+2028 or U+0085 do not shift the lines after. */
static void test_lone_cr(void) {
  struct doc d;
  /* Ten CRs: nine empty lines between taskfs: and session:. */
  const char *t = "---\ntaskfs: 1\r\r\r\r\r\r\r\r\r\rsession: s1 x: y\n"
                  "---\n# G\n";
  parse(t, DOC_GROUP, &d);
  HAS_DIAG(&d, DIAG_ERROR, 12, "not valid YAML");
  INT_EQ(d.diags.errors, 1);
  doc_release(&d);
  t = "---\rtaskfs: 1\rsession: s1\rgroup: a: b\r---\r# G\r";
  parse(t, DOC_GROUP, &d);
  HAS_DIAG(&d, DIAG_ERROR, 4, "not valid YAML");
  doc_release(&d);
  t = "---\ntaskfs: 1\nsession: s1\xe2\x80\xa8\nowner: me\n---\n# S\n";
  parse(t, DOC_SESSION, &d);
  HAS_DIAG(&d, DIAG_WARNING, 4, "front matter key 'owner'");
  INT_EQ(d.diags.n, 1);
  STR_EQ(d.session, "s1");
  doc_release(&d);
  t = "---\ntaskfs: 1\nsession: 's\xc2\x85\xe2\x80\xa9\x31'\nowner: me\n---\n"
      "# S\n";
  parse(t, DOC_SESSION, &d);
  HAS_DIAG(&d, DIAG_WARNING, 4, "front matter key 'owner'");
  doc_release(&d);

  /* Lines of the body. */
  t = FM_TASK "# T `t1`\r\r- **Progress**: 140%\r";
  parse(t, DOC_TASK, &d);
  HAS_DIAG(&d, DIAG_ERROR, 10, "outside 0-100%");
  OK(strchr(d.text, '\r') == NULL, "no CR left");
  doc_release(&d);
  static const char bin[] = FM_TASK "# T `t1`\r\rab\0cd\n";
  parse_doc(bin, sizeof bin - 1, DOC_TASK, &d);
  HAS_DIAG(&d, DIAG_ERROR, 10, "binary data");
  doc_release(&d);

  /* Two lone CRs in a description: a blank line in it, and the blocks
   * after it where they are. */
  t = FM_GROUP "# G\n\n## Active\n\n### A `a1`\n\n- **Progress**: 5%\n\n"
               "Describe\r\rit.\n\n### B `b1`\n\n- **Progress**: 140%\n\n"
               "## Notes\n\nmine\n";
  parse(t, DOC_GROUP, &d);
  HAS_DIAG(&d, DIAG_ERROR, line_of(t, "- **Progress**: 140%") + 2,
           "outside 0-100%");
  INT_EQ(d.diags.n, 1);
  INT_EQ(d.ntasks, 2);
  if (d.ntasks == 2) {
    STR_EQ(d.tasks[0].description, "Describe\n\nit.");
    STR_EQ(d.tasks[1].id, "b1");
    INT_EQ(d.tasks[1].line, line_of(t, "### B") + 2);
  }
  INT_EQ(d.nsections, 1);
  doc_release(&d);
}

/* Two overview rows of one task: refused with both lines, like two
 * blocks of one task. */
static void test_overview_duplicate_row(void) {
  const char *t = FM_GROUP "# Frontend\n\n## Task Overview\n\n"
                           "| Task | Title | Status |\n|---|---|---|\n"
                           "| `t1` | A | active |\n| `t1` | B | blocked |\n"
                           "| `t2` | C | active |\n| `t2` | D | active |\n\n"
                           "## Completed\n\n### Set up project `t1`\n";
  struct doc d;
  parse(t, DOC_GROUP, &d);
  HAS_DIAG(&d, DIAG_ERROR, line_of(t, "| `t1` | B"),
           "task 't1' has a second row in the overview (the first is at "
           "line 14)");
  INT_EQ(line_of(t, "| `t1` | A"), 14);
  /* Rows of tasks without a block are ignored, each with a warning. */
  HAS_DIAG(&d, DIAG_WARNING, line_of(t, "| `t2` | C"), "no task block");
  HAS_DIAG(&d, DIAG_WARNING, line_of(t, "| `t2` | D"), "no task block");
  INT_EQ(d.diags.errors, 1);
  if (d.ntasks == 1) {
    STR_EQ(d.tasks[0].table_title, "A");
    INT_EQ(d.tasks[0].table_status, STATUS_ACTIVE);
    INT_EQ(d.tasks[0].table_line, 14);
  }
  doc_release(&d);
}

/* ---- free text that would swallow what follows ---- */

/* An unclosed fence or HTML block in the text of a file swallows the
 * rest, as CommonMark reads it; the escaped line of a rendering ("\```")
 * opens nothing and reads back without its backslash. */
static void test_unclosed_blocks(void) {
  struct doc d;
  const char *t = FM_GROUP "# Frontend\n\n```\ncode\n\n## Active\n\n"
                           "### A `a1`\n";
  parse(t, DOC_GROUP, &d);
  NO_DIAGS(&d);
  INT_EQ(d.ntasks, 0);
  STR_EQ(d.description, "```\ncode\n\n## Active\n\n### A `a1`");
  doc_release(&d);
  t = FM_GROUP "# Frontend\n\n\\```\ncode\n\n\\\\```\n\n## Active\n\n"
               "### A `a1`\n\n- **Progress**: 5%\n\n<!-- a\n\\## b\n-->\n\n"
               "\\<!-- c\n\n**Current status**:\n\n<pre>\n\\# x\n</pre>\n\n"
               "## Notes\n\n\\```\n\\<div>\n";
  parse(t, DOC_GROUP, &d);
  NO_DIAGS(&d);
  STR_EQ(d.description, "```\ncode\n\n\\```");
  INT_EQ(d.ntasks, 1);
  if (d.ntasks == 1) {
    /* Inside an HTML block the lines are as written. */
    STR_EQ(d.tasks[0].description, "<!-- a\n\\## b\n-->\n\n<!-- c");
    STR_EQ(d.tasks[0].current_status, "<pre>\n\\# x\n</pre>");
  }
  INT_EQ(d.nsections, 1);
  if (d.nsections == 1)
    STR_EQ(d.sections[0].body, "\n```\n<div>\n");
  doc_release(&d);
}

int main(void) {
  test_front_matter();
  test_task_fields();
  test_task_parts();
  test_group();
  test_session_notes();
  test_text_forms();
  test_lone_cr();
  test_overview_duplicate_row();
  test_unclosed_blocks();
  test_diags_format();
  test_find_generated();
  test_status_chart();
  return harness_done("parse");
}
