/* SPDX-License-Identifier: MIT */
/* docgen.c: random documents of every kind for the property tests, from
 * a deterministic generator. The texts are the ones a file can hold, and
 * chosen to look like the file's own structure (see docgen.h). */
#include "docgen.h"
#include "grammar.h"
#include "names.h"
#include "util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng_state = 1;

static uint64_t rnd(void) {
  /* xorshift64*: deterministic across platforms, unlike rand(). */
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 0x2545f4914f6cdd1dULL;
}

static int pick(int n) { return (int)(rnd() % (uint64_t)n); }
static bool chance(int percent) { return pick(100) < percent; }

/* ---- values ---- */

static const char *const words[] = {
    "alpha",
    "Beta",
    "gamma",
    "x",
    "42",
    "3.5h",
    "β",
    "日本",
    "\xf0\x9f\x98\x80",
    "`code`",
    "**bold**",
    "_it_",
    "#",
    "##",
    "|",
    "\\",
    "\\|",
    "<b>",
    "&amp;",
    ":",
    "-",
    "*",
    "[x]",
    "[ ]",
    "(a)",
    "a/b",
    "~",
    "%",
    "\"q\"",
    "'s'",
    "`",
    "```",
    "**",
    "--",
    "==",
    "=",
    "done",
    "Status",
    "Deliverables",
    "Current status",
    "tasks",
    "\t",
};

static void add_word(struct buf *b) {
  buf_adds(b, words[pick((int)(sizeof words / sizeof words[0]))]);
}

/* s without leading and trailing spaces and tabs, or fallback when
 * nothing else is left; frees s. */
static char *trimmed(char *s, const char *fallback) {
  char *t = s;
  while (*t == ' ' || *t == '\t')
    t++;
  size_t len = strlen(t);
  while (len && (t[len - 1] == ' ' || t[len - 1] == '\t'))
    len--;
  char *out = len ? xstrndup(t, len) : xstrdup(fallback);
  free(s);
  return out;
}

/* One line of words, no surrounding space, never empty. */
static char *gen_line(void) {
  struct buf b = BUF_INIT;
  int n = 1 + pick(5);
  for (int i = 0; i < n; i++) {
    if (i)
      buf_adds(&b, chance(10) ? "  " : " ");
    add_word(&b);
  }
  return trimmed(buf_detach(&b, NULL), "word");
}

/* Line openings that read as structure somewhere in a file. */
static const char *const openings[] = {
    "",
    "",
    "",
    "# ",
    "## ",
    "### ",
    "#### ",
    "```",
    "~~~",
    "````text",
    "<div>",
    "<!-- ",
    "<pre>",
    "- ",
    "* ",
    "+ ",
    "1. ",
    "> ",
    "    ",
    "  ",
    "\t",
    "**Deliverables**:",
    "**Current status**: ",
    "**Notes**:",
    "- **Status**: ",
    "- [x] **Status**: ",
    "- **Progress**: ",
    "---",
    "===",
    "***",
    "\\",
    "\\#",
    "\\```",
    "| a | b |",
    "|---|---|",
    "[link](x.md)",
    "Title `id`",
};

/* Whether a line would start a heading of level 1 or 2 (ATX, or a setext
 * underline): in a section body that is the user's next section. */
static bool splits_sections(const char *line) {
  const char *p = line;
  while (*p == ' ')
    p++;
  if (p - line > 3)
    return false;
  if (p[0] == '#' &&
      (p[1] == ' ' || p[1] == '\0' || p[1] == '\t' ||
       (p[1] == '#' && (p[2] == ' ' || p[2] == '\0' || p[2] == '\t'))))
    return true;
  if (*p != '-' && *p != '=')
    return false;
  char c = *p;
  while (*p == c)
    p++;
  while (*p == ' ' || *p == '\t')
    p++;
  return *p == '\0';
}

/* Free text of 1-6 lines, blank lines among them, the first and last not
 * blank, no trailing newline. In a section body (section), no line opens
 * a section of its own. */
static char *gen_text(bool section) {
  struct buf b = BUF_INIT;
  int n = 1 + pick(6);
  for (int i = 0; i < n; i++) {
    if (i)
      buf_addc(&b, '\n');
    bool inner = i > 0 && i + 1 < n;
    if (inner && chance(20))
      continue; /* a blank line */
    struct buf line = BUF_INIT;
    buf_adds(&line, openings[pick((int)(sizeof openings / sizeof *openings))]);
    if (chance(85)) {
      char *w = gen_line();
      buf_adds(&line, w);
      free(w);
    }
    if (chance(5))
      buf_adds(&line, "  "); /* a hard line break */
    bool blank = true;
    for (size_t k = 0; k < line.len; k++)
      if (line.ptr[k] != ' ' && line.ptr[k] != '\t')
        blank = false;
    if (blank || (section && splits_sections(line.ptr))) {
      buf_truncate(&line, 0);
      buf_adds(&line, "plain text");
    }
    buf_add(&b, line.ptr, line.len);
    buf_release(&line);
  }
  return buf_detach(&b, NULL);
}

static char *gen_id(const char *prefix, int i) {
  return xasprintf("%s%d_%d", prefix, i, pick(1000));
}

static char *gen_time(void) {
  return xasprintf("2026-%02d-%02d %02d:%02d UTC", 1 + pick(12), 1 + pick(28),
                   pick(24), pick(60));
}

/* Hours as the files write them: two decimals at most. */
static double gen_hours(void) {
  switch (pick(4)) {
  case 0:
    return pick(20);
  case 1:
    return pick(400) / 4.0;
  case 2:
    return pick(100000) / 100.0;
  default:
    return (double)(rnd() % 100000001ULL) / 100.0; /* up to EFFORT_MAX */
  }
}

/* A deliverable: a line, or text that neither starts nor ends with a
 * space (a list item's marker is followed by one, and trailing space
 * ends an item). */
static char *gen_deliverable(void) {
  if (chance(70))
    return gen_line();
  char *t = trimmed(gen_text(true), "item");
  /* A blank first or last line is no part of an item either. */
  size_t n = strlen(t);
  if (t[0] == '\n' || t[n - 1] == '\n') {
    free(t);
    return xstrdup("item");
  }
  return t;
}

static void gen_list(struct strlist *l, bool ids, int max) {
  int n = pick(max + 1);
  for (int i = 0; i < n; i++) {
    char *s = ids ? gen_id("dep", i) : gen_deliverable();
    strlist_add(l, s);
    free(s);
  }
}

/* User sections under "## Note <i> ..." headings: never one of taskfs's
 * own, and each key different. */
static void gen_sections(struct psection **v, size_t *n) {
  int count = pick(4);
  for (int i = 0; i < count; i++) {
    struct psection x = {0};
    char *w = gen_line();
    x.heading = xasprintf("## %sNote %d %s",
                          chance(30) ? "\xf0\x9f\x92\xa1 " : "", i, w);
    free(w);
    struct buf key = BUF_INIT;
    section_key(x.heading, &key);
    x.key = buf_detach(&key, NULL);
    /* A body holds the blank lines after it; the last one may end the
     * file without a newline. */
    if (chance(15)) {
      x.body = xstrdup("");
    } else {
      char *t = gen_text(true);
      bool last = i + 1 == count;
      x.body = xasprintf("%s%s%s", chance(50) ? "\n" : "", t,
                         last && chance(30) ? ""
                         : chance(50)       ? "\n\n"
                                            : "\n");
      free(t);
    }
    doc_add_section(v, n, x);
  }
}

void docgen_task(struct ptask *t, int i, bool in_group) {
  ptask_init(t);
  t->id = gen_id("t", i);
  t->title = gen_line();
  t->status = pick(STATUS_COUNT);
  t->section_status = in_group ? t->status : -1;
  t->checkbox = t->status == STATUS_COMPLETED;
  t->progress = pick(101);
  t->priority = pick(PRIORITY_COUNT);
  if ((t->has_specialist = chance(50)))
    t->specialist = gen_line();
  if ((t->has_estimate = chance(60)))
    t->estimate = gen_hours();
  if ((t->has_actual = chance(40)))
    t->actual = gen_hours();
  gen_list(&t->dependencies, true, 3);
  t->has_deps = t->dependencies.n > 0;
  if (!in_group)
    t->group_name = gen_line();
  if (chance(50))
    t->started = gen_time();
  if (chance(30))
    t->completed = gen_time();
  t->description = chance(70) ? gen_text(false) : xstrdup("");
  gen_list(&t->deliverables, false, 3);
  t->current_status = chance(50) ? gen_text(false) : xstrdup("");
  if (!in_group)
    gen_sections(&t->sections, &t->nsections);
}

static int cmp_status(const void *a, const void *b) {
  const struct ptask *x = a, *y = b;
  return (x->status > y->status) - (x->status < y->status);
}

void docgen_sort_tasks(struct doc *d) {
  /* The file shows them section by section; an insertion sort is stable,
   * so ties keep their order. */
  for (size_t i = 1; i < d->ntasks; i++)
    for (size_t j = i; j > 0 && cmp_status(&d->tasks[j - 1], &d->tasks[j]) > 0;
         j--) {
      struct ptask t = d->tasks[j];
      d->tasks[j] = d->tasks[j - 1];
      d->tasks[j - 1] = t;
    }
}

void docgen_doc(struct doc *d, int kind) {
  doc_init(d, kind);
  d->session = gen_id("s", 0);
  d->revision = (int64_t)(rnd() % 1000000);
  switch (kind) {
  case DOC_SESSION:
    d->title = gen_line();
    d->status_word = xstrdup(session_statuses[pick(4)]);
    if ((d->has_mode = chance(50)))
      d->mode = gen_line();
    break;
  case DOC_GROUP:
    d->group = gen_id("g", 0);
    d->title = gen_line();
    d->status = pick(STATUS_COUNT);
    d->priority = pick(PRIORITY_COUNT);
    if ((d->has_specialist = chance(50)))
      d->specialist = gen_line();
    break;
  case DOC_TASK:
    docgen_task(doc_add_task(d), 0, false);
    d->task = xstrdup(d->tasks[0].id);
    return;
  case DOC_NOTES:
    d->notes = xstrdup(notes_names[pick(NOTES_COUNT)]);
    if (chance(20)) {
      d->notes_body = xstrdup("\n");
    } else {
      /* Everything under the title is the user's, headings and all. */
      char *t = gen_text(false);
      d->notes_body = xasprintf("\n%s\n", t);
      free(t);
    }
    return;
  }
  if (chance(70))
    d->created = gen_time();
  d->description = chance(70) ? gen_text(false) : xstrdup("");
  if (kind == DOC_GROUP) {
    int n = pick(5);
    for (int i = 0; i < n; i++)
      docgen_task(doc_add_task(d), i, true);
    docgen_sort_tasks(d);
  }
  gen_sections(&d->sections, &d->nsections);
}

void docgen_seed(uint64_t seed) { rng_state = seed; }
uint64_t docgen_rnd(void) { return rnd(); }
int docgen_pick(int n) { return pick(n); }
bool docgen_chance(int percent) { return chance(percent); }
char *docgen_line(void) { return gen_line(); }
char *docgen_text(bool section) { return gen_text(section); }
char *docgen_id(const char *prefix, int i) { return gen_id(prefix, i); }
