/* SPDX-License-Identifier: MIT */
/* fuzz_memo.c: a text and an edit of it through both parse paths. The
 * input is the first text, a NUL, and the edited one (without a NUL: the
 * input, then the input with its first box ticked). Parsed with the memo
 * the other text left, each must be doc_identical to its whole parse.
 * Then both are saved in turn as the frontend group file of two fresh
 * fixture databases, one with a memo and one without: the results (the
 * outcome, the changes, the conflicts, the report) and the file's
 * rendering after each save must be the same, but for the times shown. */
#include "fixture.h"
#include "fuzz.h"
#include "parse.h"
#include "store.h"
#include "sync.h"
#include "util.h"
#include "view.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static void same_parse(const char *text, size_t len, int hint,
                       struct parse_memo *memo, const char *what) {
  struct doc whole, inc;
  parse_doc(text, len, hint, &whole);
  parse_doc_memo(text, len, hint, memo, &inc);
  struct buf why = BUF_INIT;
  if (!doc_identical(&whole, &inc, &why))
    die("fuzz_memo: %s, hint %d: the parse with the memo differs in %s", what,
        hint, why.ptr);
  buf_release(&why);
  doc_release(&whole);
  doc_release(&inc);
}

static struct vnode group_file(void) {
  struct vnode f;
  vnode_init(&f);
  f.kind = VK_GROUP_MD;
  f.session = xstrdup("s1");
  f.record = xstrdup("frontend_group_001");
  return f;
}

/* Times as files show them ("2026-01-02 10:00 UTC") with their digits
 * zeroed: the two databases make the same records a moment apart, on
 * either side of a minute perhaps. */
static void mask_times(struct buf *b) {
  static const char shape[] = "dddd-dd-dd dd:dd UTC";
  size_t n = sizeof shape - 1;
  for (size_t i = 0; i + n <= b->len; i++) {
    size_t k = 0;
    while (k < n &&
           (shape[k] == 'd' ? b->ptr[i + k] >= '0' && b->ptr[i + k] <= '9'
                            : b->ptr[i + k] == shape[k]))
      k++;
    if (k < n)
      continue;
    for (k = 0; k < n; k++)
      if (shape[k] == 'd')
        b->ptr[i + k] = '0';
    i += n - 1;
  }
}

/* One save on one database: the rendering before is what was served. */
static int save_one(struct store *st, const struct vnode *f, const char *text,
                    size_t len, struct parse_memo *memo,
                    struct save_result *res, struct buf *after) {
  struct buf before = BUF_INIT;
  struct render_info info = {0};
  int rc = view_read(st, f, &before, &info);
  if (rc)
    die("fuzz_memo: view_read: %s: %s", eng_strerror(rc), store_errmsg(st));
  struct served sv = {
      .rev = info.rev, .text = before.ptr, .len = before.len, .memo = memo};
  rc = sync_save(st, f, text, len, &sv, NULL, res);
  buf_release(&before);
  int rrc = view_read(st, f, after, &info);
  if (rrc)
    die("fuzz_memo: view_read after: %s: %s", eng_strerror(rrc),
        store_errmsg(st));
  return rc;
}

static void same_saves(const char *a, size_t alen, const char *b, size_t blen) {
  struct store *with = fixture_open(), *without = fixture_open();
  struct vnode f = group_file();
  struct parse_memo *memo = parse_memo_new();
  const char *texts[] = {a, b};
  size_t lens[] = {alen, blen};
  for (int i = 0; i < 2; i++) {
    struct save_result r1, r2;
    save_result_init(&r1);
    save_result_init(&r2);
    struct buf o1 = BUF_INIT, o2 = BUF_INIT;
    int rc1 = save_one(with, &f, texts[i], lens[i], memo, &r1, &o1);
    int rc2 = save_one(without, &f, texts[i], lens[i], NULL, &r2, &o2);
    mask_times(&o1);
    mask_times(&o2);
    mask_times(&r1.report);
    mask_times(&r2.report);
    if (rc1 != rc2 || r1.outcome != r2.outcome || r1.changes != r2.changes ||
        r1.conflicts != r2.conflicts || r1.errors != r2.errors ||
        r1.warnings != r2.warnings || r1.rev != r2.rev ||
        strcmp(r1.report.ptr, r2.report.ptr) != 0)
      die("fuzz_memo: save %d: with the memo rc %s, outcome %d, %d changes, "
          "%d conflicts, %d errors, %d warnings, revision %lld:\n%s\n"
          "without: rc %s, outcome %d, %d changes, %d conflicts, %d errors, "
          "%d warnings, revision %lld:\n%s",
          i, eng_strerror(rc1), r1.outcome, r1.changes, r1.conflicts, r1.errors,
          r1.warnings, (long long)r1.rev, r1.report.ptr, eng_strerror(rc2),
          r2.outcome, r2.changes, r2.conflicts, r2.errors, r2.warnings,
          (long long)r2.rev, r2.report.ptr);
    if (o1.len != o2.len || memcmp(o1.ptr, o2.ptr, o1.len) != 0)
      die("fuzz_memo: save %d: the file reads differently with the memo:\n"
          "%s\n--- without ---\n%s",
          i, o1.ptr, o2.ptr);
    save_result_release(&r1);
    save_result_release(&r2);
    buf_release(&o1);
    buf_release(&o2);
  }
  parse_memo_free(memo);
  vnode_release(&f);
  store_close(with);
  store_close(without);
}

void fuzz_memo_one(const uint8_t *data, size_t size) {
  /* Exact-size copies, so that a read past either is seen. */
  const uint8_t *nul = memchr(data, '\0', size);
  size_t alen = nul ? (size_t)(nul - data) : size;
  size_t blen = nul ? size - alen - 1 : size;
  char *a = xmalloc(alen ? alen : 1), *b = xmalloc(blen ? blen : 1);
  memcpy(a, data, alen);
  if (nul) {
    memcpy(b, nul + 1, blen);
  } else {
    memcpy(b, data, blen);
    for (size_t i = 0; i + 5 <= blen; i++)
      if (memcmp(b + i, "- [ ]", 5) == 0) {
        b[i + 3] = 'x';
        break;
      }
  }
  static const int hints[] = {DOC_GROUP, DOC_UNKNOWN};
  for (size_t h = 0; h < sizeof hints / sizeof *hints; h++) {
    struct parse_memo *memo = parse_memo_new();
    same_parse(a, alen, hints[h], memo, "the text");
    same_parse(b, blen, hints[h], memo, "the edit, after the text");
    same_parse(a, alen, hints[h], memo, "the text, after the edit");
    parse_memo_free(memo);
  }
  same_saves(a, alen, b, blen);
  free(a);
  free(b);
}

#ifdef FUZZ_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_memo_one(data, size);
  return 0;
}
#endif
