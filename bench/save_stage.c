/* SPDX-License-Identifier: MIT */
/* save_stage.c: the engine's part of a sed -i tick, in-process, without
 * FUSE: a group file of N tasks (default 1,000) in the fixture database
 * (in memory) is read, one box ticked, and the text saved with sync_save,
 * RUNS times without a parse memo and RUNS times with one. Prints the
 * medians of the parse alone (parse_doc, parse_doc_memo) and of the
 * whole save (parse, merge, apply and commit).
 *   save_stage [N [RUNS]]
 */
#include "fixture.h"
#include "parse.h"
#include "store.h"
#include "sync.h"
#include "util.h"
#include "view.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return v[n / 2];
}

static void must(int rc, struct store *st, const char *what) {
  if (rc)
    die("save_stage: %s: %s", what, store_errmsg(st));
}

static void add_tasks(struct store *st, int n) {
  must(store_begin(st), st, "begin");
  for (int i = 0; i < n; i++) {
    struct task t;
    task_init(&t);
    t.id = xasprintf("bench_%05d", i);
    t.group_id = xstrdup("frontend_group_001");
    t.title = xasprintf("Task number %d of the benchmark", i);
    t.status = STATUS_PLANNED;
    t.progress = i % 100;
    t.priority = PRIORITY_MEDIUM;
    t.specialist = xstrdup("implementer");
    t.estimate = 4;
    t.description = xasprintf("Plan and build part %d of the thing, with "
                              "tests.\n\nA second paragraph.",
                              i);
    strlist_add(&t.deliverables, "A first deliverable");
    strlist_add(&t.deliverables, "A second one");
    must(store_task_insert(st, &t), st, "insert");
    task_release(&t);
  }
  must(store_commit(st), st, "commit");
}

/* The text of f with the box of the task at index k (of the planned
 * ones still open) ticked; false when none is left. */
static bool tick(struct buf *text, int k) {
  char needle[64];
  snprintf(needle, sizeof needle, "`bench_%05d`\n", k);
  char *at = strstr(text->ptr, needle);
  char *box = at ? strstr(at, "- [ ] **Status**: planned") : NULL;
  if (!box)
    return false;
  const char *done = "- [x] **Status**: completed";
  struct buf out = BUF_INIT;
  buf_add(&out, text->ptr, (size_t)(box - text->ptr));
  buf_adds(&out, done);
  buf_adds(&out, box + strlen("- [ ] **Status**: planned"));
  buf_truncate(text, 0);
  buf_add(text, out.ptr, out.len);
  buf_release(&out);
  return true;
}

/* RUNS saves, each ticking another box; t_parse and t_save get their
 * times. */
static void run(struct store *st, const struct vnode *f, int first, int runs,
                struct parse_memo *memo, double *t_parse, double *t_save) {
  for (int r = 0; r < runs; r++) {
    struct buf text = BUF_INIT;
    struct render_info info = {0};
    must(view_read(st, f, &text, &info), st, "read");
    struct buf served = BUF_INIT;
    buf_add(&served, text.ptr, text.len);
    if (!tick(&text, first + r))
      die("save_stage: no box to tick for task %d", first + r);
    /* The parse alone, on a copy of the memo's state: parsed twice, the
     * second parse would find every block. */
    struct doc d;
    double t0 = now_ms();
    if (memo) {
      struct parse_memo *copy = parse_memo_new();
      parse_doc_memo(served.ptr, served.len, DOC_GROUP, copy, &d);
      doc_release(&d);
      t0 = now_ms();
      parse_doc_memo(text.ptr, text.len, DOC_GROUP, copy, &d);
      t_parse[r] = now_ms() - t0;
      parse_memo_free(copy);
    } else {
      parse_doc(text.ptr, text.len, DOC_GROUP, &d);
      t_parse[r] = now_ms() - t0;
    }
    doc_release(&d);
    struct served sv = {
        .rev = info.rev, .text = served.ptr, .len = served.len, .memo = memo};
    struct save_result res;
    save_result_init(&res);
    t0 = now_ms();
    int rc = sync_save(st, f, text.ptr, text.len, &sv, NULL, &res);
    t_save[r] = now_ms() - t0;
    if (rc || res.outcome != SAVE_APPLIED || res.changes < 1)
      die("save_stage: save %d: %s, %d changes:\n%s", r, eng_strerror(rc),
          res.changes, res.report.ptr);
    save_result_release(&res);
    buf_release(&served);
    buf_release(&text);
  }
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 1000;
  int runs = argc > 2 ? atoi(argv[2]) : 21;
  if (n < 1 || runs < 1 || 2 * runs > n)
    die("usage: save_stage [N [RUNS]], 2 RUNS <= N");
  struct store *st = fixture_open();
  add_tasks(st, n);
  struct vnode f;
  vnode_init(&f);
  f.kind = VK_GROUP_MD;
  f.session = xstrdup("s1");
  f.record = xstrdup("frontend_group_001");
  double *pw = xcalloc((size_t)runs, sizeof *pw);
  double *sw = xcalloc((size_t)runs, sizeof *sw);
  double *pm = xcalloc((size_t)runs, sizeof *pm);
  double *sm = xcalloc((size_t)runs, sizeof *sm);
  run(st, &f, 0, runs, NULL, pw, sw);
  /* The memo as a mount holds it: warmed by one save of this file. */
  struct parse_memo *memo = parse_memo_new();
  double warm_p, warm_s;
  run(st, &f, runs, 1, memo, &warm_p, &warm_s);
  run(st, &f, runs + 1, runs - 1, memo, pm, sm);
  printf("group file of %d tasks, medians of %d saves (ms)\n", n, runs - 1);
  printf("  parse:           whole %7.2f   with the memo %7.2f\n",
         median(pw, runs - 1), median(pm, runs - 1));
  printf("  save (sync_save): whole %7.2f   with the memo %7.2f\n",
         median(sw, runs - 1), median(sm, runs - 1));
  parse_memo_free(memo);
  free(pw);
  free(sw);
  free(pm);
  free(sm);
  vnode_release(&f);
  store_close(st);
  return 0;
}
