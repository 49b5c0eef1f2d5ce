/* SPDX-License-Identifier: MIT */
/* fuzz_merge.c: the merge of free text, and the whole save path behind it.
 * The input is split at its first two NUL bytes into base, ours and
 * theirs for merge_lines; then the whole input is saved as the frontend
 * group file of a fresh fixture database, which must still render to a
 * file that reads back cleanly and that, saved back as it is, changes
 * nothing. */
#include "fixture.h"
#include "fuzz.h"
#include "merge.h"
#include "parse.h"
#include "store.h"
#include "sync.h"
#include "util.h"
#include "view.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* merge_lines into a buffer that already holds a mark, so that a merge
 * that is not clean can be seen to leave it untouched. *res gets the
 * merged text (the caller frees it) or NULL. */
static bool merge(const char *base, const char *ours, const char *theirs,
                  char **res) {
  static const char mark[] = "\x01mark\n";
  struct buf out = BUF_INIT;
  buf_adds(&out, mark);
  bool clean = merge_lines(base, ours, theirs, &out);
  if (strncmp(out.ptr, mark, sizeof mark - 1) != 0)
    die("fuzz_merge: merge_lines overwrote what the buffer held");
  if (!clean && out.len != sizeof mark - 1)
    die("fuzz_merge: a merge that is not clean appended text");
  *res = clean ? xstrdup(out.ptr + sizeof mark - 1) : NULL;
  buf_release(&out);
  return clean;
}

/* merge(base, ours, theirs) must be clean and give want. */
static void expect(const char *what, const char *base, const char *ours,
                   const char *theirs, const char *want) {
  char *got;
  if (!merge(base, ours, theirs, &got))
    die("fuzz_merge: %s: not clean", what);
  if (strcmp(got, want) != 0)
    die("fuzz_merge: %s: got a different text", what);
  free(got);
}

static void check_merge(const uint8_t *data, size_t size) {
  /* One copy, NUL-terminated; the parts point into it. */
  char *all = xmalloc(size + 1);
  memcpy(all, data, size);
  all[size] = '\0';
  char *part[3] = {all, all + size, all + size};
  for (int k = 1; k < 3; k++) {
    char *nul = memchr(part[k - 1], '\0', (size_t)(all + size - part[k - 1]));
    if (!nul)
      break;
    part[k] = nul + 1;
  }
  const char *b = part[0], *o = part[1], *t = part[2];

  /* One side unchanged: the other side's text, whatever it is. */
  expect("merge(b, o, b)", b, o, b, o);
  expect("merge(b, b, o)", b, b, o, o);
  expect("merge(b, t, b)", b, t, b, t);
  expect("merge(b, b, t)", b, b, t, t);
  /* The same change on both sides is taken once. */
  expect("merge(b, o, o)", b, o, o, o);
  expect("merge(o, o, o)", o, o, o, o);
  /* The sides are symmetric. */
  char *ot, *to;
  bool c1 = merge(b, o, t, &ot), c2 = merge(b, t, o, &to);
  if (c1 != c2)
    die("fuzz_merge: merge(b, o, t) clean %d, merge(b, t, o) clean %d", c1, c2);
  if (c1 && strcmp(ot, to) != 0)
    die("fuzz_merge: merge(b, o, t) and merge(b, t, o) differ");
  free(ot);
  free(to);
  free(all);
}

static struct vnode group_file(void) {
  struct vnode f;
  vnode_init(&f);
  f.kind = VK_GROUP_MD;
  f.session = xstrdup("s1");
  f.record = xstrdup("frontend_group_001");
  return f;
}

/* The file as a reader sees it: it must read, and parse without errors. */
static void read_clean(struct store *st, const struct vnode *f, struct buf *out,
                       struct render_info *info, const char *when) {
  int rc = view_read(st, f, out, info);
  if (rc)
    die("fuzz_merge: view_read %s: %s: %s", when, eng_strerror(rc),
        store_errmsg(st));
  struct doc doc;
  parse_doc(out->ptr, out->len, DOC_GROUP, &doc);
  if (doc.diags.errors) {
    struct buf msg = BUF_INIT;
    diags_format(&doc.diags, &msg);
    die("fuzz_merge: the rendering %s does not read back:\n%s\n%s", when,
        msg.ptr, out->ptr);
  }
  doc_release(&doc);
}

static void check_save(const uint8_t *data, size_t size) {
  /* A fresh in-memory database per input, so runs are independent. */
  struct store *st = fixture_open();
  struct vnode f = group_file();
  struct buf before = BUF_INIT, after = BUF_INIT;
  struct render_info info = {0};
  read_clean(st, &f, &before, &info, "before the save");
  /* The text the editor read: what a mount passes for this path. */
  struct served sv = {.rev = info.rev, .text = before.ptr, .len = before.len};

  struct save_result res;
  save_result_init(&res);
  int rc = sync_save(st, &f, (const char *)data, size, &sv, NULL, &res);
  /* Any outcome is fine; a held text is discarded so that the file shows
   * the database again. */
  if (rc == ENG_PARSE && res.outcome == SAVE_HELD) {
    int drc = sync_discard(st, &f);
    if (drc)
      die("fuzz_merge: discarding the held text: %s: %s", eng_strerror(drc),
          store_errmsg(st));
  }
  save_result_release(&res);
  read_clean(st, &f, &after, &info, "after the save");

  /* The rendering saved back as it is changes nothing and reads back the
   * same: parse(render(db)) yields no changes. */
  struct buf again = BUF_INIT;
  sv = (struct served){.rev = info.rev, .text = after.ptr, .len = after.len};
  save_result_init(&res);
  rc = sync_save(st, &f, after.ptr, after.len, &sv, NULL, &res);
  if (rc || res.outcome != SAVE_APPLIED || res.changes || res.conflicts ||
      res.errors)
    die("fuzz_merge: saving the rendering back: rc %s, outcome %d, %d "
        "changes, %d conflicts:\n%s\n%s",
        eng_strerror(rc), res.outcome, res.changes, res.conflicts,
        res.report.ptr, after.ptr);
  save_result_release(&res);
  read_clean(st, &f, &again, &info, "after saving it back");
  if (again.len != after.len || memcmp(again.ptr, after.ptr, after.len))
    die("fuzz_merge: the rendering changed when saved back:\n%s\n%s", after.ptr,
        again.ptr);
  buf_release(&again);

  buf_release(&before);
  buf_release(&after);
  vnode_release(&f);
  store_close(st);
}

void fuzz_merge_one(const uint8_t *data, size_t size) {
  check_merge(data, size);
  /* parse_doc refuses a text with a NUL byte before anything else (binary
   * data), so inputs shaped for the merge would open a database, the slow
   * part of a run, for a save that is held at once. */
  if (!memchr(data, '\0', size))
    check_save(data, size);
}

#ifdef FUZZ_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_merge_one(data, size);
  return 0;
}
#endif
