/* SPDX-License-Identifier: MIT */
/* test_docmodel.c: the document model's round trip as a property. Random
 * documents of every kind, from a fixed seed, are rendered and parsed
 * back: parse_doc(render_doc(d)) must equal d field by field (doc_eq),
 * with no diagnostic, and a group file's overview table must agree with
 * its task blocks. No store: render and parse are pure.
 * The documents come from docgen.c. */
#include "doc.h"
#include "docgen.h"
#include "grammar.h"
#include "harness.h"
#include "names.h"
#include "parse.h"
#include "render.h"
#include "util.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#define SEED 0x7461736b6673ULL /* "taskfs" */
#define ITERATIONS 4000

/* Without sections a file shows an empty one to write under: it comes
 * back as a user section with an empty body. */
static void expect_placeholder(struct psection **v, size_t *n, int heading) {
  if (*n)
    return;
  struct psection x = {0};
  x.heading =
      xasprintf("## %s %s", heading_emoji(heading), heading_title(heading));
  struct buf key = BUF_INIT;
  section_key(x.heading, &key);
  x.key = buf_detach(&key, NULL);
  x.body = xstrdup("");
  doc_add_section(v, n, x);
}

/* ---- the property ---- */

static int shown_failures;

static void report(const char *what, int kind, int iter, const char *text) {
  if (shown_failures++ >= 5)
    return;
  fprintf(stderr, "kind %d, iteration %d: %s\n--- text ---\n%s--- end ---\n",
          kind, iter, what, text);
}

static void round_trip(int kind, int iter) {
  struct doc d, back;
  docgen_doc(&d, kind);
  struct buf text = BUF_INIT, why = BUF_INIT;
  render_doc(&d, &text);
  parse_doc(text.ptr, text.len, kind, &back);
  if (kind == DOC_SESSION)
    expect_placeholder(&d.sections, &d.nsections, HEADING_INSIGHTS);
  else if (kind == DOC_GROUP)
    expect_placeholder(&d.sections, &d.nsections, HEADING_NOTES);
  else if (kind == DOC_TASK)
    expect_placeholder(&d.tasks[0].sections, &d.tasks[0].nsections,
                       HEADING_NOTES);

  bool same = doc_eq(&d, &back, &why);
  OK(same, "kind %d, iteration %d: %s differs", kind, iter, why.ptr);
  OK(back.diags.n == 0, "kind %d, iteration %d: %zu diagnostics", kind, iter,
     back.diags.n);
  if (!same || back.diags.n) {
    struct buf dg = BUF_INIT;
    diags_format(&back.diags, &dg);
    buf_printf(&why, "\n%s", dg.ptr);
    report(why.ptr, kind, iter, text.ptr);
    buf_release(&dg);
  }
  /* The overview table repeats each block's title, status and progress:
   * a difference would read as an edit of the table. */
  for (size_t i = 0; kind == DOC_GROUP && same && i < back.ntasks; i++) {
    const struct ptask *t = &back.tasks[i];
    OK(str_eq(t->table_title, t->title) && t->table_status == t->status &&
           t->table_progress == t->progress,
       "kind %d, iteration %d: the overview row of %s reads '%s' %d %d%%", kind,
       iter, t->id, t->table_title ? t->table_title : "(none)", t->table_status,
       t->table_progress);
  }
  /* Rendering is deterministic, and a parsed document renders the same
   * text again. */
  struct buf again = BUF_INIT;
  render_doc(&back, &again);
  OK(!same ||
         (again.len == text.len && memcmp(again.ptr, text.ptr, text.len) == 0),
     "kind %d, iteration %d: the parsed document renders differently", kind,
     iter);
  buf_release(&again);
  buf_release(&text);
  buf_release(&why);
  doc_release(&d);
  doc_release(&back);
}

/* doc_eq itself: a change to any compared field is seen. */
static void test_eq_sees_changes(void) {
  docgen_seed(SEED);
  struct doc a, b;
  docgen_doc(&a, DOC_GROUP);
  while (a.ntasks == 0) {
    doc_release(&a);
    docgen_doc(&a, DOC_GROUP);
  }
  struct buf text = BUF_INIT, why = BUF_INIT;
  render_doc(&a, &text);
  parse_doc(text.ptr, text.len, DOC_GROUP, &b);
  expect_placeholder(&a.sections, &a.nsections, HEADING_NOTES);
  OK(doc_eq(&a, &b, NULL), "a generated group round-trips");

  b.tasks[0].progress = (b.tasks[0].progress + 1) % 101;
  OK(!doc_eq(&a, &b, &why), "progress changed");
  STR_EQ(why.ptr, "tasks[0].progress");
  b.tasks[0].progress = a.tasks[0].progress;

  buf_truncate(&why, 0);
  b.tasks[0].estimate = a.tasks[0].has_estimate ? NAN : 1;
  b.tasks[0].has_estimate = !a.tasks[0].has_estimate;
  OK(!doc_eq(&a, &b, &why), "estimate changed");
  STR_EQ(why.ptr, "tasks[0].has_estimate");
  b.tasks[0].estimate = a.tasks[0].estimate;
  b.tasks[0].has_estimate = a.tasks[0].has_estimate;

  buf_truncate(&why, 0);
  str_set(&b.sections[0].body, "changed\n");
  OK(!doc_eq(&a, &b, &why), "section body changed");
  STR_EQ(why.ptr, "sections[0].body");

  buf_release(&text);
  buf_release(&why);
  doc_release(&a);
  doc_release(&b);
}

int main(void) {
  test_eq_sees_changes();
  static const int kinds[] = {DOC_SESSION, DOC_GROUP, DOC_TASK, DOC_NOTES};
  docgen_seed(SEED);
  for (int i = 0; i < ITERATIONS; i++)
    round_trip(kinds[i % 4], i);
  return harness_done("docmodel");
}
