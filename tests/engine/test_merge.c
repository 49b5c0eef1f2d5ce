/* SPDX-License-Identifier: MIT */
/* test_merge.c: the line-wise three-way merge of free text. */
#include "harness.h"
#include "merge.h"

#include <stdbool.h>

static void expect(const char *base, const char *ours, const char *theirs,
                   bool clean, const char *want) {
  struct buf out = BUF_INIT;
  buf_adds(&out, "#");
  bool got = merge_lines(base, ours, theirs, &out);
  OK(got == clean, "merge of [%s] [%s] [%s]: clean %d", base, ours, theirs,
     got);
  if (clean && got)
    STR_EQ(out.ptr + 1, want);
  if (!clean)
    STR_EQ(out.ptr, "#"); /* untouched */
  buf_release(&out);
}

int main(void) {
  /* Nothing changed, one side changed, both the same. */
  expect("a\nb\nc\n", "a\nb\nc\n", "a\nb\nc\n", true, "a\nb\nc\n");
  expect("a\nb\nc\n", "a\nB\nc\n", "a\nb\nc\n", true, "a\nB\nc\n");
  expect("a\nb\nc\n", "a\nb\nc\n", "a\nb\nC\n", true, "a\nb\nC\n");
  expect("a\nb\nc\n", "a\nX\nc\n", "a\nX\nc\n", true, "a\nX\nc\n");
  /* Different places: both survive. */
  expect("a\nb\nc\nd\ne\n", "A\nb\nc\nd\ne\n", "a\nb\nc\nd\nE\n", true,
         "A\nb\nc\nd\nE\n");
  expect("one\ntwo\nthree\n", "zero\none\ntwo\nthree\n",
         "one\ntwo\nthree\nfour\n", true, "zero\none\ntwo\nthree\nfour\n");
  expect("a\nb\nc\n", "a\nc\n", "a\nb\nc\nd\n", true, "a\nc\nd\n");
  /* The same line changed differently: not clean. */
  expect("a\nb\nc\n", "a\nB1\nc\n", "a\nB2\nc\n", false, NULL);
  /* Insertions at the same place, differently. */
  expect("a\nc\n", "a\nb1\nc\n", "a\nb2\nc\n", false, NULL);
  /* Deleted on one side, changed on the other. */
  expect("a\nb\nc\n", "a\nc\n", "a\nBB\nc\n", false, NULL);
  /* Empty texts and missing final newlines. */
  expect("", "", "", true, "");
  expect("", "new\n", "", true, "new\n");
  expect("x", "x", "x\ny", true, "x\ny");
  /* Line ends and trailing spaces count. */
  expect("a\nb\n", "a  \nb\n", "a\nb\nc\n", true, "a  \nb\nc\n");
  /* A long text with edits far apart. */
  struct buf base = BUF_INIT, ours = BUF_INIT, theirs = BUF_INIT,
             want = BUF_INIT;
  for (int i = 0; i < 500; i++) {
    buf_printf(&base, "line %d\n", i);
    buf_printf(&ours, i == 10 ? "LINE %d\n" : "line %d\n", i);
    buf_printf(&theirs, i == 400 ? "LINE %d\n" : "line %d\n", i);
    buf_printf(&want, (i == 10 || i == 400) ? "LINE %d\n" : "line %d\n", i);
  }
  expect(base.ptr, ours.ptr, theirs.ptr, true, want.ptr);
  buf_release(&base);
  buf_release(&ours);
  buf_release(&theirs);
  buf_release(&want);
  return harness_done("merge");
}
