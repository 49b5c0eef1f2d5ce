/* SPDX-License-Identifier: MIT */
/* test_parsememo.c: parsing with a memo of task blocks gives what a whole
 * parse gives. Random group files (docgen.c) are rendered, then edited
 * step by step as people and tools edit them: a box ticked, a field
 * changed, lines inserted, deleted or replaced inside a task block, whole
 * blocks deleted, duplicated, added or swapped, the front matter and the
 * header changed, bytes inserted or cut anywhere (fences, HTML, headings,
 * CR, invalid UTF-8). After each step, parse_doc_memo with the memo of the
 * step before must be doc_identical to parse_doc: the same document, line
 * numbers and diagnostics. Also: a tick in a 1,000-task file takes the
 * other 999 blocks from the memo, and the parse times of both paths are
 * printed (not asserted). */
#include "doc.h"
#include "docgen.h"
#include "harness.h"
#include "parse.h"
#include "render.h"
#include "util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SEED 0x6d656d6f70617273ULL
#define ITERATIONS 2000
#define STEPS 4

/* ---- a text as lines, each with its newline (the last may have none) */

static void split_lines(const char *t, size_t n, struct strlist *out) {
  size_t s = 0;
  for (size_t i = 0; i < n; i++)
    if (t[i] == '\n') {
      char *l = xstrndup(t + s, i + 1 - s);
      strlist_add(out, l);
      free(l);
      s = i + 1;
    }
  if (s < n) {
    char *l = xstrndup(t + s, n - s);
    strlist_add(out, l);
    free(l);
  }
}

static void join_lines(const struct strlist *l, struct buf *out) {
  buf_truncate(out, 0);
  for (size_t i = 0; i < l->n; i++)
    buf_adds(out, l->v[i]);
}

/* Inserts s before index at (0-based). */
static void insert_line(struct strlist *l, size_t at, const char *s) {
  strlist_add(l, s);
  char *last = l->v[l->n - 1];
  memmove(&l->v[at + 1], &l->v[at], (l->n - 1 - at) * sizeof *l->v);
  l->v[at] = last;
}

static void delete_lines(struct strlist *l, size_t from, size_t to) {
  for (size_t i = from; i < to; i++)
    free(l->v[i]);
  memmove(&l->v[from], &l->v[to], (l->n - to) * sizeof *l->v);
  l->n -= to - from;
}

static void replace_line(struct strlist *l, size_t at, const char *s) {
  free(l->v[at]);
  l->v[at] = xstrdup(s);
}

/* ---- edits ---- */

static const char *const inserts[] = {
    "```\n",
    "~~~\n",
    "<div>\n",
    "<!-- x\n",
    "-->\n",
    "### New task\n",
    "## Notes\n",
    "# Title\n",
    "\n",
    "    code\n",
    "- item\n",
    "> quote\n",
    "Text\n",
    "---\n",
    "===\n",
    "- **Progress**: 140%\n",
    "- **Status**: nonsense\n",
    "**Deliverables**:\n",
    "- [x] **Status**: completed\n",
    "#### deeper\n",
    "|a|b|\n",
    "### `t0_1`\n",
    "\r\n",
    "[x]: /url\n",
    "[x]\n",
    "\xff\n",
    "#\n",
};
#define NINSERTS (sizeof inserts / sizeof *inserts)

static const char *const bytes[] = {"```\n", "#",     "\n",       "<!--", "-->",
                                    "    ",  "---\n", "### x\n",  "\r",   "`",
                                    "*",     "\xc3",  "## Done\n"};
#define NBYTES (sizeof bytes / sizeof *bytes)

/* A random task block of d as 0-based line indexes [*from, *to); false
 * when d has none. */
static bool some_task(const struct doc *d, size_t nlines, size_t *from,
                      size_t *to) {
  if (!d->ntasks)
    return false;
  const struct ptask *t = &d->tasks[docgen_pick((int)d->ntasks)];
  if (t->line < 1 || (size_t)t->line > nlines)
    return false;
  *from = (size_t)t->line - 1;
  *to = t->end_line >= t->line ? (size_t)t->end_line : *from + 1;
  if (*to > nlines)
    *to = nlines;
  return true;
}

/* Applies one random edit to text, d being its whole parse; *what names
 * it. */
static void edit(struct buf *text, const struct doc *d, const char **what) {
  struct strlist l = {0};
  split_lines(text->ptr, text->len, &l);
  size_t from, to;
  int kind = docgen_pick(16);
  bool task = some_task(d, l.n, &from, &to);
  if (!task && kind < 9)
    kind = 9 + docgen_pick(7);
  switch (kind) {
  case 0:
  case 1: /* tick the box of a task */
    *what = "tick";
    for (size_t i = from; i < to; i++)
      if (strncmp(l.v[i], "- [ ] **Status**:", 17) == 0) {
        replace_line(&l, i, "- [x] **Status**: completed\n");
        break;
      }
    break;
  case 2: /* a field's value */
    *what = "field";
    for (size_t i = from; i < to; i++)
      if (strncmp(l.v[i], "- **Progress**:", 15) == 0) {
        static const char *const v[] = {"60%", "abc%", "140%", "0", ""};
        char *s = xasprintf("- **Progress**: %s\n", v[docgen_pick(5)]);
        replace_line(&l, i, s);
        free(s);
        break;
      }
    break;
  case 3: /* a line inserted in a block */
    *what = "insert line";
    insert_line(&l, from + 1 + (size_t)docgen_pick((int)(to - from)),
                inserts[docgen_pick(NINSERTS)]);
    break;
  case 4: /* a line of a block deleted */
    *what = "delete line";
    if (to - from > 1) {
      size_t at = from + 1 + (size_t)docgen_pick((int)(to - from - 1));
      delete_lines(&l, at, at + 1);
    }
    break;
  case 5: { /* a line of a block replaced by text */
    *what = "replace line";
    char *w = docgen_text(false);
    char *s = xasprintf("%s\n", w);
    replace_line(&l, from + (size_t)docgen_pick((int)(to - from)), s);
    free(s);
    free(w);
    break;
  }
  case 6: /* a block deleted */
    *what = "delete block";
    delete_lines(&l, from, to);
    break;
  case 7: /* a block duplicated */
    *what = "duplicate block";
    for (size_t i = to; i-- > from;)
      insert_line(&l, to, l.v[i]);
    break;
  case 8: /* a new block */
    *what = "new block";
    insert_line(&l, from, "\n");
    insert_line(&l, from, "- [ ] **Status**: planned\n");
    insert_line(&l, from, "\n");
    insert_line(&l, from, "### A new task\n");
    break;
  case 9: { /* two blocks swapped */
    *what = "swap blocks";
    size_t f2, t2;
    if (!some_task(d, l.n, &f2, &t2) || f2 == from || !task)
      break;
    if (f2 < from) {
      size_t a = f2, b = t2;
      f2 = from;
      t2 = to;
      from = a;
      to = b;
    }
    if (to > f2)
      break;
    struct strlist out = {0};
    for (size_t i = 0; i < from; i++)
      strlist_add(&out, l.v[i]);
    for (size_t i = f2; i < t2; i++)
      strlist_add(&out, l.v[i]);
    for (size_t i = to; i < f2; i++)
      strlist_add(&out, l.v[i]);
    for (size_t i = from; i < to; i++)
      strlist_add(&out, l.v[i]);
    for (size_t i = t2; i < l.n; i++)
      strlist_add(&out, l.v[i]);
    strlist_clear(&l);
    l = out;
    break;
  }
  case 10: /* the front matter */
    *what = "front matter";
    for (size_t i = 0; i < l.n && i < 8; i++)
      if (strncmp(l.v[i], "revision:", 9) == 0) {
        char *s = xasprintf("revision: %d\n", docgen_pick(100000));
        replace_line(&l, i, s);
        free(s);
      }
    break;
  case 11: /* the title */
    *what = "title";
    for (size_t i = 0; i < l.n; i++)
      if (strncmp(l.v[i], "# ", 2) == 0) {
        char *w = docgen_line();
        char *s = xasprintf("# %s\n", w);
        replace_line(&l, i, s);
        free(s);
        free(w);
        break;
      }
    break;
  case 12:
  case 13: { /* bytes inserted anywhere */
    *what = "insert bytes";
    join_lines(&l, text);
    size_t at = text->len ? (size_t)(docgen_rnd() % text->len) : 0;
    const char *b = bytes[docgen_pick(NBYTES)];
    struct buf t = BUF_INIT;
    buf_add(&t, text->ptr, at);
    buf_adds(&t, b);
    buf_add(&t, text->ptr + at, text->len - at);
    buf_truncate(text, 0);
    buf_add(text, t.ptr, t.len);
    buf_release(&t);
    strlist_clear(&l);
    return;
  }
  case 14: { /* bytes cut anywhere */
    *what = "cut bytes";
    join_lines(&l, text);
    size_t at = text->len ? (size_t)(docgen_rnd() % text->len) : 0;
    size_t n = (size_t)docgen_pick(40);
    if (at + n > text->len)
      n = text->len - at;
    memmove(text->ptr + at, text->ptr + at + n, text->len - at - n);
    buf_truncate(text, text->len - n);
    strlist_clear(&l);
    return;
  }
  default: /* a task heading retitled, or its id changed */
    *what = "heading";
    if (task) {
      char *w = docgen_line();
      char *s = docgen_chance(50)
                    ? xasprintf("### %s\n", w)
                    : xasprintf("### %s `t%d`\n", w, docgen_pick(5));
      replace_line(&l, from, s);
      free(s);
      free(w);
    }
    break;
  }
  join_lines(&l, text);
  strlist_clear(&l);
}

/* ---- the property ---- */

static int shown;

/* Parses text both ways; whole gets the whole parse (doc_release it). */
static bool same_parse(const struct buf *text, struct parse_memo *memo,
                       const char *what, int iter, int step,
                       struct doc *whole) {
  struct doc inc;
  parse_doc(text->ptr, text->len, DOC_GROUP, whole);
  parse_doc_memo(text->ptr, text->len, DOC_GROUP, memo, &inc);
  struct buf why = BUF_INIT;
  bool same = doc_identical(whole, &inc, &why);
  OK(same, "iteration %d, step %d (%s): %s differs", iter, step, what, why.ptr);
  if (!same && shown++ < 3)
    fprintf(stderr, "--- text ---\n%s--- end ---\n", text->ptr);
  buf_release(&why);
  doc_release(&inc);
  return same;
}

static void gen_group(struct doc *d) {
  docgen_doc(d, DOC_GROUP);
  int n = docgen_pick(4) ? docgen_pick(12) : docgen_pick(40);
  for (int i = (int)d->ntasks; i < n; i++)
    docgen_task(doc_add_task(d), i, true);
  docgen_sort_tasks(d);
}

static size_t total_reused, total_parsed, total_whole, total_steps;

static void property(void) {
  docgen_seed(SEED);
  struct parse_memo *memo = parse_memo_new();
  for (int iter = 0; iter < ITERATIONS; iter++) {
    struct doc d;
    gen_group(&d);
    struct buf text = BUF_INIT;
    render_doc(&d, &text);
    doc_release(&d);
    /* Mostly a fresh memo; sometimes the one another file left. */
    if (docgen_chance(80)) {
      parse_memo_free(memo);
      memo = parse_memo_new();
    }
    struct doc cur;
    bool ok = same_parse(&text, memo, "rendered", iter, 0, &cur);
    for (int step = 1; ok && step <= STEPS; step++) {
      const char *what = "?";
      edit(&text, &cur, &what);
      doc_release(&cur);
      ok = same_parse(&text, memo, what, iter, step, &cur);
      struct parse_memo_stats st;
      parse_memo_stats(memo, &st);
      total_reused += st.reused;
      total_parsed += st.parsed;
      total_whole += st.whole;
      total_steps++;
    }
    doc_release(&cur);
    buf_release(&text);
  }
  parse_memo_free(memo);
  printf("# %zu edits: %zu task blocks from the memo, %zu parsed, %zu texts "
         "parsed whole\n",
         total_steps, total_reused, total_parsed, total_whole);
  OK(total_reused > total_parsed, "most task blocks come from the memo");
}

/* ---- a 1,000-task file ---- */

static void big_group(struct buf *out, int n) {
  struct doc d;
  doc_init(&d, DOC_GROUP);
  d.session = xstrdup("s1");
  d.group = xstrdup("g1");
  d.revision = 42;
  d.title = xstrdup("Frontend");
  d.status = STATUS_ACTIVE;
  d.priority = PRIORITY_HIGH;
  d.description = xstrdup("The group's description.");
  for (int i = 0; i < n; i++) {
    struct ptask *t = doc_add_task(&d);
    t->id = xasprintf("task_%04d", i);
    t->title = xasprintf("Task number %d", i);
    t->status = t->section_status = STATUS_PLANNED;
    t->checkbox = 0;
    t->progress = i % 100;
    t->priority = i % PRIORITY_COUNT;
    t->has_estimate = true;
    t->estimate = 4;
    t->description = xasprintf("Plan and build part %d of the thing, with "
                               "*tests*\nand `code`.",
                               i);
    strlist_add(&t->deliverables, "A first deliverable");
    strlist_add(&t->deliverables, "A second one");
    t->current_status = xstrdup("");
  }
  render_doc(&d, out);
  doc_release(&d);
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static void test_big_tick(void) {
  struct buf text = BUF_INIT;
  big_group(&text, 1000);
  struct parse_memo *memo = parse_memo_new();
  struct doc d;
  parse_doc_memo(text.ptr, text.len, DOC_GROUP, memo, &d);
  INT_EQ((int)d.ntasks, 1000);
  INT_EQ((int)d.diags.n, 0);
  doc_release(&d);
  /* Tick the box of task 500, as sed -i does. */
  char *at = strstr(text.ptr, "`task_0500`\n");
  OK(at != NULL, "task 500 is in the file");
  char *box = strstr(at, "- [ ] **Status**");
  memcpy(box, "- [x]", 5);
  struct buf why = BUF_INIT;
  struct doc whole, inc;
  parse_doc(text.ptr, text.len, DOC_GROUP, &whole);
  parse_doc_memo(text.ptr, text.len, DOC_GROUP, memo, &inc);
  OK(doc_identical(&whole, &inc, &why), "the tick parses the same: %s",
     why.ptr);
  struct parse_memo_stats st;
  parse_memo_stats(memo, &st);
  OK(!st.whole && st.reused == 999 && st.parsed == 1,
     "999 blocks from the memo, 1 parsed (got %zu, %zu%s)", st.reused,
     st.parsed, st.whole ? ", whole" : "");
  doc_release(&whole);
  doc_release(&inc);

  /* An unclosed fence in a block swallows the rest of the file: the text
   * no longer splits as it looks and is parsed whole. */
  struct buf fenced = BUF_INIT;
  size_t off = (size_t)(strstr(text.ptr, "`task_0700`\n") - text.ptr);
  buf_add(&fenced, text.ptr, off + 12);
  buf_adds(&fenced, "```\n");
  buf_add(&fenced, text.ptr + off + 12, text.len - off - 12);
  parse_doc(fenced.ptr, fenced.len, DOC_GROUP, &whole);
  parse_doc_memo(fenced.ptr, fenced.len, DOC_GROUP, memo, &inc);
  buf_truncate(&why, 0);
  OK(doc_identical(&whole, &inc, &why), "the fence parses the same: %s",
     why.ptr);
  parse_memo_stats(memo, &st);
  OK(st.whole, "a fence that swallows headings: parsed whole");
  INT_EQ((int)inc.ntasks, 701);
  doc_release(&whole);
  doc_release(&inc);
  buf_release(&fenced);

  /* Timing, for docs/performance.md: the tick above, both ways. */
  enum { RUNS = 15 };
  double tw[RUNS], tm[RUNS];
  parse_doc_memo(text.ptr, text.len, DOC_GROUP, memo, &inc);
  doc_release(&inc);
  for (int r = 0; r < RUNS; r++) {
    memcpy(box, r % 2 ? "- [x]" : "- [ ]", 5);
    double t0 = now_ms();
    parse_doc(text.ptr, text.len, DOC_GROUP, &whole);
    double t1 = now_ms();
    parse_doc_memo(text.ptr, text.len, DOC_GROUP, memo, &inc);
    double t2 = now_ms();
    tw[r] = t1 - t0;
    tm[r] = t2 - t1;
    doc_release(&whole);
    doc_release(&inc);
  }
  qsort(tw, RUNS, sizeof *tw, cmp_double);
  qsort(tm, RUNS, sizeof *tm, cmp_double);
  printf("# parse of a 1,000-task group file (%zu bytes) after a tick, "
         "median of %d: whole %.2f ms, with the memo %.2f ms\n",
         text.len, RUNS, tw[RUNS / 2], tm[RUNS / 2]);
  parse_memo_free(memo);
  buf_release(&why);
  buf_release(&text);
}

int main(void) {
  test_big_tick();
  property();
  return harness_done("parsememo");
}
