/* SPDX-License-Identifier: MIT */
/* test_sync.c: saving edited files back into the store: every edit kind,
 * every view, the stale-buffer rule, conflicts refused, bad input held,
 * new files, renames and deletions. */
#include "backend.h"
#include "conflict.h"
#include "fixture.h"
#include "harness.h"
#include "render.h"
#include "store.h"
#include "sync.h"
#include "util.h"
#include "view.h"

#include <math.h>
#include <stdlib.h>

static struct vnode group_file(const char *id) {
  struct vnode v;
  vnode_init(&v);
  v.kind = VK_GROUP_MD;
  v.session = xstrdup("s1");
  v.record = xstrdup(id);
  return v;
}

static struct vnode task_file(const char *id, int status) {
  struct vnode v = group_file(id);
  v.kind = VK_TASK_MD;
  v.status = status;
  return v;
}

static struct vnode session_file(void) {
  struct vnode v = group_file(NULL);
  v.kind = VK_SESSION_MD;
  return v;
}

static struct vnode notes_file(int i) {
  struct vnode v = group_file(NULL);
  v.kind = VK_NOTES_MD;
  v.notes = i;
  return v;
}

static char *read_file(struct store *st, const struct vnode *f) {
  struct buf b = BUF_INIT;
  if (view_read(st, f, &b, NULL))
    die("read: %s", store_errmsg(st));
  return buf_detach(&b, NULL);
}

/* Replaces the first occurrence of from in text with to. */
static char *edit(const char *text, const char *from, const char *to) {
  const char *p = strstr(text, from);
  if (!p)
    die("edit: '%s' not in text:\n%s", from, text);
  return xasprintf("%.*s%s%s", (int)(p - text), text, to, p + strlen(from));
}

static int save_with(struct store *st, const struct vnode *f, const char *text,
                     const struct policy *p, struct save_result *r) {
  save_result_release(r);
  save_result_init(r);
  return sync_save(st, f, text, strlen(text), NULL, p, r);
}

static int save(struct store *st, const struct vnode *f, const char *text,
                struct save_result *r) {
  return save_with(st, f, text, NULL, r);
}

static struct task get_task(struct store *st, const char *id) {
  struct task t;
  task_init(&t);
  if (store_task_get(st, id, &t))
    die("get %s: %s", id, store_errmsg(st));
  return t;
}

static size_t count_group(struct store *st, const char *group) {
  struct task *v;
  size_t n;
  if (store_task_list_group(st, group, false, &v, &n))
    die("list");
  store_tasks_free(v, n);
  return n;
}

static void set_progress(struct store *st, const char *id, int progress) {
  struct task t = get_task(st, id);
  t.progress = progress;
  store_set_source(st, "agent");
  if (store_begin(st) || store_task_update(st, &t) || store_commit(st))
    die("set: %s", store_errmsg(st));
  store_set_source(st, "taskfs");
  task_release(&t);
}

/* parse(render(db)) changes nothing, in every view. */
static void test_round_trip(void) {
  struct store *st = fixture_open();
  struct vnode files[] = {
      group_file("frontend_group_001"), group_file("backend_group_001"),
      task_file("t2", STATUS_ACTIVE), session_file(), notes_file(0)};
  int64_t rev = store_revision(st);
  struct save_result r;
  save_result_init(&r);
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    char *text = read_file(st, &files[i]);
    RC_OK(save(st, &files[i], text, &r), st);
    INT_EQ(r.outcome, SAVE_APPLIED);
    INT_EQ(r.changes, 0);
    OK(r.report.len == 0, "report: %s", r.report.ptr);
    free(text);
    vnode_release(&files[i]);
  }
  INT_EQ(store_revision(st), rev);
  save_result_release(&r);
  store_close(st);
}

static void test_group_edits(void) {
  struct store *st = fixture_open();
  struct vnode f = group_file("frontend_group_001");
  struct save_result r;
  save_result_init(&r);

  /* Tick a checkbox: completed, 100%. */
  char *text = read_file(st, &f);
  char *t1 = edit(text, "- [ ] **Status**: active", "- [x] **Status**: active");
  RC_OK(save(st, &f, t1, &r), st);
  struct task t = get_task(st, "t2");
  INT_EQ(t.status, STATUS_COMPLETED);
  INT_EQ(t.progress, 100);
  task_release(&t);
  free(t1);
  free(text);

  /* Progress in the text, and in the overview table. */
  text = read_file(st, &f);
  t1 = edit(text, "- **Progress**: 10%", "- **Progress**: 35%");
  RC_OK(save(st, &f, t1, &r), st);
  t = get_task(st, "t4");
  INT_EQ(t.progress, 35);
  task_release(&t);
  free(t1);
  free(text);
  text = read_file(st, &f);
  t1 = edit(text, "| `t3` | Charts | planned | 0% |",
            "| `t3` | Charts | active | 20% |");
  RC_OK(save(st, &f, t1, &r), st);
  t = get_task(st, "t3");
  INT_EQ(t.status, STATUS_ACTIVE);
  INT_EQ(t.progress, 20);
  task_release(&t);
  free(t1);
  free(text);

  /* Move a block to another status section. */
  text = read_file(st, &f);
  char *block = strstr(text, "### Login form `t4`");
  char *end = strstr(block, "\n## ");
  char *blk = xstrndup(block, (size_t)(end - block) + 1);
  char *cut = edit(text, blk, "");
  t1 =
      edit(cut, "## \xe2\x9c\x85 Completed\n", "## \xe2\x9c\x85 Completed\n\n");
  char *moved = xasprintf("## \xe2\x9c\x85 Completed\n\n%s", blk);
  char *t2 = edit(t1, "## \xe2\x9c\x85 Completed\n\n", moved);
  free(moved);
  RC_OK(save(st, &f, t2, &r), st);
  OK(r.errors == 0, "%s", r.report.ptr);
  t = get_task(st, "t4");
  INT_EQ(t.status, STATUS_COMPLETED);
  task_release(&t);
  free(blk);
  free(cut);
  free(t1);
  free(t2);
  free(text);

  /* Title, priority, specialist, estimate, dependencies, deliverables,
   * description and current status of one block. */
  text = read_file(st, &f);
  t1 = edit(text, "### Charts `t3`", "### Chart widgets `t3`");
  /* t3 is now in the Active section: edit there. */
  char *p3 = strstr(t1, "### Chart widgets `t3`");
  char *rest = xstrdup(p3);
  char *rest2 = edit(rest, "- **Priority**: high", "- **Priority**: low");
  char *rest3 = edit(rest2, "- **Estimate**: 4h",
                     "- **Estimate**: 90m\n- **Depends on**: `t1`");
  char *rest4 = edit(rest3, "Describe it.",
                     "Charts with **zoom**.\n\n```\ncode  \n```\n\n"
                     "**Deliverables**:\n\n- Line chart\n- Bar chart\n  "
                     "with legend\n\n**Current status**: waiting on API");
  char *full = xasprintf("%.*s%s", (int)(p3 - t1), t1, rest4);
  RC_OK(save(st, &f, full, &r), st);
  OK(r.errors == 0, "%s", r.report.ptr);
  t = get_task(st, "t3");
  STR_EQ(t.title, "Chart widgets");
  INT_EQ(t.priority, PRIORITY_LOW);
  OK(fabs(t.estimate - 1.5) < 1e-9, "estimate %g", t.estimate);
  INT_EQ(t.dependencies.n, 1);
  STR_EQ(t.description, "Charts with **zoom**.\n\n```\ncode  \n```");
  INT_EQ(t.deliverables.n, 2);
  if (t.deliverables.n == 2)
    STR_EQ(t.deliverables.v[1], "Bar chart\nwith legend");
  STR_EQ(t.current_status, "waiting on API");
  task_release(&t);
  /* Saving the fresh rendering changes nothing: the round trip holds. */
  char *again = read_file(st, &f);
  int64_t rev = store_revision(st);
  RC_OK(save(st, &f, again, &r), st);
  INT_EQ(r.changes, 0);
  INT_EQ(store_revision(st), rev);
  free(again);
  free(rest);
  free(rest2);
  free(rest3);
  free(rest4);
  free(full);
  free(t1);
  free(text);

  /* Group fields. */
  text = read_file(st, &f);
  t1 = edit(text, "# Frontend\n", "# Frontend Work\n");
  t2 = edit(t1, "- **Priority**: high\n- **Created",
            "- **Priority**: critical\n- **Specialist focus**: reviewer\n"
            "- **Created");
  RC_OK(save(st, &f, t2, &r), st);
  struct group g;
  group_init(&g);
  RC_OK(store_group_get(st, "frontend_group_001", &g), st);
  STR_EQ(g.title, "Frontend Work");
  INT_EQ(g.priority, PRIORITY_CRITICAL);
  STR_EQ(g.specialist, "reviewer");
  group_release(&g);
  free(t1);
  free(t2);
  free(text);

  save_result_release(&r);
  vnode_release(&f);
  store_close(st);
}

/* New blocks make tasks; saving the same old buffer again makes none. */
static void test_new_tasks_and_stale_buffer(void) {
  struct store *st = fixture_open();
  struct vnode f = group_file("frontend_group_001");
  struct save_result r;
  save_result_init(&r);
  char *text = read_file(st, &f);
  char *t1 = edit(text, "## \xf0\x9f\x93\x8b Planned\n",
                  "## \xf0\x9f\x93\x8b Planned\n\n### Write docs\n\n"
                  "- **Priority**: low\n\nExplain the API.\n");
  RC_OK(save(st, &f, t1, &r), st);
  OK(r.errors == 0, "%s", r.report.ptr);
  INT_EQ(count_group(st, "frontend_group_001"), 5);
  struct task t = get_task(st, "write_docs_001");
  INT_EQ(t.status, STATUS_PLANNED);
  INT_EQ(t.priority, PRIORITY_LOW);
  STR_EQ(t.description, "Explain the API.");
  task_release(&t);
  char *fresh = read_file(st, &f);
  OK(strstr(fresh, "### Write docs `write_docs_001`") != NULL, "new id shown");
  free(fresh);

  /* The editor did not reload: it saves its buffer (old revision, no id)
   * again with one more edit. No duplicate; the edit is applied; the
   * first save's own changes are no conflict. */
  char *t2 = edit(t1, "- **Progress**: 60%", "- **Progress**: 70%");
  char *t3 = edit(t2, "Explain the API.", "Explain the API in full.");
  RC_OK(save(st, &f, t3, &r), st);
  OK(r.errors == 0, "%s", r.report.ptr);
  INT_EQ(count_group(st, "frontend_group_001"), 5);
  t = get_task(st, "t2");
  INT_EQ(t.progress, 70);
  task_release(&t);
  t = get_task(st, "write_docs_001");
  STR_EQ(t.description, "Explain the API in full.");
  task_release(&t);
  /* And once more, unchanged. */
  RC_OK(save(st, &f, t3, &r), st);
  INT_EQ(count_group(st, "frontend_group_001"), 5);
  free(t1);
  free(t2);
  free(t3);
  free(text);

  /* Deleting a block deletes the task softly. */
  text = read_file(st, &f);
  char *block = strstr(text, "### Charts `t3`");
  char *end = strstr(block, "\n## ");
  char *cut = xasprintf("%.*s%s", (int)(block - text), text, end + 1);
  RC_OK(save(st, &f, cut, &r), st);
  t = get_task(st, "t3");
  OK(t.deleted, "t3 deleted");
  task_release(&t);
  INT_EQ(count_group(st, "frontend_group_001"), 4);
  free(cut);
  free(text);
  save_result_release(&r);
  vnode_release(&f);
  store_close(st);
}

static void test_concurrent(void) {
  struct store *st = fixture_open();
  struct vnode f = group_file("frontend_group_001");
  struct save_result r;
  save_result_init(&r);
  char *text = read_file(st, &f);

  /* Different fields: both survive. */
  set_progress(st, "t3", 15);
  char *t1 = edit(text, "- **Progress**: 60%", "- **Progress**: 65%");
  RC_OK(save(st, &f, t1, &r), st);
  OK(r.errors == 0, "%s", r.report.ptr);
  struct task t = get_task(st, "t3");
  INT_EQ(t.progress, 15);
  task_release(&t);
  t = get_task(st, "t2");
  INT_EQ(t.progress, 65);
  task_release(&t);
  free(t1);

  /* The same field, differently, just now: the later change (the file's)
   * wins and the database's value is kept as a backup; the rest of the
   * text is applied. */
  set_progress(st, "t4", 50);
  t1 = edit(text, "- **Progress**: 10%", "- **Progress**: 20%");
  char *t2 = edit(t1, "### Charts `t3`", "### Charting `t3`");
  RC_OK(save(st, &f, t2, &r), st);
  INT_EQ(r.outcome, SAVE_APPLIED);
  INT_EQ(r.conflicts, 0);
  t = get_task(st, "t4");
  INT_EQ(t.progress, 20);
  task_release(&t);
  t = get_task(st, "t3");
  STR_EQ(t.title, "Charting");
  task_release(&t);
  struct backup *bk;
  size_t nbk;
  RC_OK(store_backup_list(st, "s1", &bk, &nbk), st);
  OK(nbk >= 1 && str_eq(bk[0].field, "progress") && str_eq(bk[0].text, "50"),
     "backup of the database's value");
  store_backups_free(bk, nbk);
  char *cur = NULL;
  char *t3 = NULL;
  free(cur);
  free(t1);
  free(t2);
  free(t3);
  free(text);
  save_result_release(&r);
  vnode_release(&f);
  store_close(st);
}

/* A text made under a name just unlinked replaces what the name showed:
 * its own older revision is not its base, so the database follows it. */
static void test_replacement(void) {
  struct store *st = fixture_open();
  struct vnode f = group_file("frontend_group_001");
  struct save_result r;
  save_result_init(&r);
  char *old = read_file(st, &f);
  struct task t = get_task(st, "t3");
  int orig = t.progress;
  task_release(&t);
  set_progress(st, "t3", 15);
  struct buf shown = BUF_INIT;
  struct render_info info = {0};
  RC_OK(view_read(st, &f, &shown, &info), st);

  /* As a save from its own revision, the old text changes nothing. */
  RC_OK(save(st, &f, old, &r), st);
  t = get_task(st, "t3");
  INT_EQ(t.progress, 15);
  task_release(&t);

  /* As a replacement of what was shown, it brings the old value back. */
  struct served sv = {
      .rev = info.rev, .text = shown.ptr, .len = shown.len, .replaces = true};
  save_result_release(&r);
  save_result_init(&r);
  RC_OK(sync_save(st, &f, old, strlen(old), &sv, NULL, &r), st);
  INT_EQ(r.outcome, SAVE_APPLIED);
  INT_EQ(r.conflicts, 0);
  t = get_task(st, "t3");
  INT_EQ(t.progress, orig);
  task_release(&t);

  /* Without a revision line it is the same replacement, with no warning. */
  set_progress(st, "t3", 45);
  buf_truncate(&shown, 0);
  RC_OK(view_read(st, &f, &shown, &info), st);
  sv = (struct served){
      .rev = info.rev, .text = shown.ptr, .len = shown.len, .replaces = true};
  char *bare = strstr(old, "revision: ");
  char *eol = strchr(bare, '\n');
  char *text = xasprintf("%.*s%s", (int)(bare - old), old, eol + 1);
  save_result_release(&r);
  save_result_init(&r);
  RC_OK(sync_save(st, &f, text, strlen(text), &sv, NULL, &r), st);
  INT_EQ(r.warnings, 0);
  t = get_task(st, "t3");
  INT_EQ(t.progress, orig);
  task_release(&t);

  free(text);
  free(old);
  buf_release(&shown);
  save_result_release(&r);
  vnode_release(&f);
  store_close(st);
}

static void expect_held(struct store *st, const struct vnode *f,
                        const char *text, size_t len, const char *what,
                        const char *line) {
  struct save_result r;
  save_result_init(&r);
  int64_t rev = store_revision(st);
  int rc = sync_save(st, f, text, len, NULL, NULL, &r);
  OK(rc == ENG_PARSE && r.outcome == SAVE_HELD, "%s: rc %d", what, rc);
  OK(strstr(r.report.ptr, line) != NULL, "%s: want '%s' in: %s", what, line,
     r.report.ptr);
  INT_EQ(store_revision(st), rev);
  struct buf b = BUF_INIT;
  RC_OK(view_read(st, f, &b, NULL), st);
  OK(b.len == len && memcmp(b.ptr, text, len) == 0, "%s: bytes kept", what);
  buf_release(&b);
  RC_OK(sync_discard(st, f), st);
  save_result_release(&r);
}

static void test_bad_input(void) {
  struct store *st = fixture_open();
  struct vnode f = group_file("frontend_group_001");
  char *text = read_file(st, &f);
  char *t;
  t = edit(text, "- **Progress**: 60%", "- **Progress**: 140%");
  expect_held(st, &f, t, strlen(t), "140%", "outside 0-100");
  free(t);
  t = edit(text, "- **Progress**: 60%", "- **Progress**: abc%");
  expect_held(st, &f, t, strlen(t), "abc%", "not a whole number");
  free(t);
  t = edit(text, "revision: ", "revision: [");
  expect_held(st, &f, t, strlen(t), "yaml", "line 5: error");
  free(t);
  t = edit(text, "### Charts `t3`", "### Charts `nope_999`");
  expect_held(st, &f, t, strlen(t), "unknown id", "not a task id");
  free(t);
  t = edit(text, "### Charts `t3`", "### Charts `t2`");
  expect_held(st, &f, t, strlen(t), "duplicate", "appears twice");
  free(t);
  t = edit(text, "- [ ] **Status**: blocked", "- [ ] **Status**: sleeping");
  expect_held(st, &f, t, strlen(t), "status", "not one of");
  free(t);
  t = edit(text, "group: frontend_group_001", "group: backend_group_001");
  expect_held(st, &f, t, strlen(t), "identity", "saved over the file");
  free(t);
  static const char binary[] = "---\ntaskfs: 1\n---\n\x01\x02\0\x03";
  expect_held(st, &f, binary, sizeof binary, "binary", "binary data");
  t = edit(text, "Describe it.", "Bad \xff\xfe bytes");
  expect_held(st, &f, t, strlen(t), "utf8", "invalid UTF-8");
  free(t);
  size_t big = PARSE_MAX_BYTES + 10;
  char *huge = xmalloc(big);
  memset(huge, 'a', big);
  expect_held(st, &f, huge, big, "huge", "at most 64 MiB");
  free(huge);
  free(text);
  vnode_release(&f);
  store_close(st);
}

static void test_crlf_bom(void) {
  struct store *st = fixture_open();
  struct vnode f = task_file("t2", STATUS_ACTIVE);
  char *text = read_file(st, &f);
  struct buf b = BUF_INIT;
  buf_adds(&b, "\xef\xbb\xbf");
  for (const char *p = text; *p; p++) {
    if (*p == '\n')
      buf_addc(&b, '\r');
    buf_addc(&b, *p);
  }
  struct save_result r;
  save_result_init(&r);
  RC_OK(sync_save(st, &f, b.ptr, b.len, NULL, NULL, &r), st);
  INT_EQ(r.changes, 0);
  char *t1 = edit(b.ptr, "- **Progress**: 60%", "- **Progress**: 61%");
  RC_OK(sync_save(st, &f, t1, strlen(t1), NULL, NULL, &r), st);
  struct task t = get_task(st, "t2");
  INT_EQ(t.progress, 61);
  task_release(&t);
  free(t1);
  buf_release(&b);
  free(text);
  save_result_release(&r);
  vnode_release(&f);
  store_close(st);
}

static void test_task_file(void) {
  struct store *st = fixture_open();
  struct vnode f = task_file("t2", STATUS_ACTIVE);
  struct save_result r;
  save_result_init(&r);
  char *text = read_file(st, &f);
  char *t1 =
      edit(text, "- [ ] **Status**: active", "- [ ] **Status**: blocked");
  char *t2 = edit(t1, "- **Group**: frontend", "- **Group**: backend");
  char *t3 = edit(t2, "## \xf0\x9f\x93\x9d Notes\n",
                  "## \xf0\x9f\x93\x9d Notes\n\nCall Ana  \n| a | b |\n");
  RC_OK(save(st, &f, t3, &r), st);
  OK(r.errors == 0, "%s", r.report.ptr);
  struct task t = get_task(st, "t2");
  INT_EQ(t.status, STATUS_BLOCKED);
  STR_EQ(t.group_id, "backend_group_001");
  task_release(&t);
  char *fresh = read_file(st, &f);
  OK(strstr(fresh, "## \xf0\x9f\x93\x9d Notes\n\nCall Ana  \n| a | b |\n") !=
         NULL,
     "notes kept byte for byte:\n%s", fresh);
  free(fresh);
  /* A group that does not exist. */
  char *t4 = edit(t3, "- **Group**: backend", "- **Group**: nowhere");
  INT_EQ(save(st, &f, t4, &r), ENG_PARSE);
  RC_OK(sync_discard(st, &f), st);
  free(t1);
  free(t2);
  free(t3);
  free(t4);
  free(text);
  save_result_release(&r);
  vnode_release(&f);
  store_close(st);
}

static void test_session_and_notes(void) {
  struct store *st = fixture_open();
  struct vnode f = session_file();
  struct save_result r;
  save_result_init(&r);
  char *text = read_file(st, &f);
  char *t1 = edit(text, "# Dashboard\n", "# Analytics Dashboard\n");
  char *t2 = edit(t1, "## \xf0\x9f\x92\xa1 Key Insights\n",
                  "## \xf0\x9f\x92\xa1 Key Insights\n\n- Ship early\n\n"
                  "## Risks\n\n1. Scope creep\n");
  RC_OK(save(st, &f, t2, &r), st);
  OK(r.errors == 0, "%s", r.report.ptr);
  struct session s;
  session_init(&s);
  RC_OK(store_session_get(st, "s1", &s), st);
  STR_EQ(s.title, "Analytics Dashboard");
  session_release(&s);
  char *fresh = read_file(st, &f);
  OK(strstr(fresh, "- Ship early\n\n## Risks\n\n1. Scope creep\n") != NULL,
     "%s", fresh);
  free(fresh);
  /* A generated part edited: kept out, warned about. */
  char *cur = read_file(st, &f);
  char *t3 = edit(cur, "| Total tasks | 5 |", "| Total tasks | 99 |");
  struct buf b = BUF_INIT;
  struct served sv = {0};
  struct render_info info;
  RC_OK(view_read(st, &f, &b, &info), st);
  sv.rev = info.rev;
  sv.text = b.ptr;
  sv.len = b.len;
  save_result_release(&r);
  save_result_init(&r);
  RC_OK(sync_save(st, &f, t3, strlen(t3), &sv, NULL, &r), st);
  OK(r.warnings == 1 && strstr(r.report.ptr, "Metrics") != NULL, "%s",
     r.report.ptr);
  buf_release(&b);
  free(cur);
  free(t3);

  struct vnode n = notes_file(0);
  char *notes = read_file(st, &n);
  char *n1 =
      xasprintf("%s- Use SQLite  \n\n```sh\n# not a heading\n```\n", notes);
  RC_OK(save(st, &n, n1, &r), st);
  char *n2 = read_file(st, &n);
  char *want = edit(n1, "revision: 1\n", "");
  OK(strstr(n2, "- Use SQLite  \n\n```sh\n# not a heading\n```\n") != NULL,
     "%s", n2);
  free(want);
  free(notes);
  free(n1);
  free(n2);
  free(t1);
  free(t2);
  free(text);
  vnode_release(&n);
  save_result_release(&r);
  vnode_release(&f);
  store_close(st);
}

static void test_create_rename_delete(void) {
  struct store *st = fixture_open();
  struct vnode dir;
  vnode_init(&dir);
  dir.kind = VK_GROUPS;
  dir.session = xstrdup("s1");
  struct save_result r;
  save_result_init(&r);
  const char *newgroup = "# Design\n\n- **Priority**: high\n\n"
                         "## Planned\n\n### Sketch screens\n\n"
                         "## Notes\n\nStart with paper.\n";
  RC_OK(sync_create(st, &dir, "design.md", newgroup, strlen(newgroup), NULL,
                    NULL, &r),
        st);
  INT_EQ(r.outcome, SAVE_APPLIED);
  struct group g;
  group_init(&g);
  RC_OK(store_group_find(st, "s1", "design", &g), st);
  STR_EQ(g.title, "Design");
  INT_EQ(count_group(st, g.id), 1);
  group_release(&g);

  /* A copy of a group file (its id exists) stays a plain file. */
  struct vnode fe = group_file("frontend_group_001");
  char *text = read_file(st, &fe);
  save_result_release(&r);
  save_result_init(&r);
  RC_OK(sync_create(st, &dir, "copy.md", text, strlen(text), NULL, NULL, &r),
        st);
  INT_EQ(r.outcome, SAVE_PLAIN);
  /* So does a text that is no group, and a temp name. */
  RC_OK(sync_create(st, &dir, "tmp.md", "just words\n", 11, NULL, NULL, &r),
        st);
  INT_EQ(r.outcome, SAVE_PLAIN);
  RC_OK(sync_create(st, &dir, ".hidden.md", newgroup, strlen(newgroup), NULL,
                    NULL, &r),
        st);
  INT_EQ(r.outcome, SAVE_PLAIN);

  /* Rename a group file; move a task file between status folders. */
  struct vnode out;
  vnode_init(&out);
  RC_OK(sync_rename(st, &fe, &dir, "web.md", &out), st);
  group_init(&g);
  RC_OK(store_group_get(st, "frontend_group_001", &g), st);
  STR_EQ(g.name, "web");
  group_release(&g);
  INT_EQ(sync_rename(st, &fe, &dir, "design.md", &out), ENG_EXISTS);
  struct vnode tf = task_file("t2", STATUS_ACTIVE);
  struct vnode done = dir;
  done.kind = VK_STATUS;
  done.status = STATUS_COMPLETED;
  RC_OK(sync_rename(st, &tf, &done, "t2.md", &out), st);
  struct task t = get_task(st, "t2");
  INT_EQ(t.status, STATUS_COMPLETED);
  INT_EQ(t.progress, 100);
  task_release(&t);
  INT_EQ(sync_rename(st, &tf, &done, "other.md", &out), ENG_PERM);

  /* A new task file in a status folder. */
  struct vnode planned = done;
  planned.status = STATUS_PLANNED;
  const char *newtask = "# Review copy\n\n- **Group**: web\n\nRead it all.\n";
  save_result_release(&r);
  save_result_init(&r);
  RC_OK(sync_create(st, &planned, "review_copy.md", newtask, strlen(newtask),
                    NULL, NULL, &r),
        st);
  INT_EQ(r.outcome, SAVE_APPLIED);
  t = get_task(st, "review_copy");
  INT_EQ(t.status, STATUS_PLANNED);
  STR_EQ(t.group_id, "frontend_group_001");
  task_release(&t);

  RC_OK(sync_delete(st, &tf), st);
  t = get_task(st, "t2");
  OK(t.deleted, "deleted");
  task_release(&t);
  vnode_release(&out);
  vnode_release(&tf);
  vnode_release(&fe);
  vnode_release(&dir);
  free(text);
  save_result_release(&r);
  store_close(st);
}

/* Saves text to f as based on what f serves now; returns the report's
 * warnings in r. The database's revision must not move. */
static void save_unchanged(struct store *st, const struct vnode *f,
                           const char *text, struct save_result *r,
                           const char *what) {
  struct buf b = BUF_INIT;
  struct render_info info;
  if (view_read(st, f, &b, &info))
    die("read: %s", store_errmsg(st));
  struct served sv = {.rev = info.rev, .text = b.ptr, .len = b.len};
  int64_t rev = store_revision(st);
  save_result_release(r);
  save_result_init(r);
  int rc = sync_save(st, f, text, strlen(text), &sv, NULL, r);
  OK(rc == ENG_OK && r->outcome == SAVE_APPLIED, "%s: rc %d: %s", what, rc,
     r->report.ptr);
  OK(r->changes == 0, "%s: %d changes", what, r->changes);
  OK(store_revision(st) == rev, "%s: revision %lld -> %lld", what,
     (long long)rev, (long long)store_revision(st));
  char *after = read_file(st, f);
  STR_EQ(after, b.ptr);
  free(after);
  buf_release(&b);
}

/* The chart of session.md is generated: editing or removing it changes
 * nothing, with at most the warning any generated part gets. */
static void test_status_chart(void) {
  struct store *st = fixture_open();
  struct vnode f = session_file();
  struct save_result r;
  save_result_init(&r);
  char *text = read_file(st, &f);
  const char *head = "## \xf0\x9f\x93\x88 Status Chart\n\n";
  const char *start = strstr(text, head);
  const char *end =
      start ? strstr(start, "## \xf0\x9f\x8e\xaf Task Groups") : NULL;
  OK(start && end, "a chart section:\n%s", text);
  if (!start || !end)
    goto out;

  char *t = edit(text, "\"Active\" : 2", "\"Active\" : 9");
  save_unchanged(st, &f, t, &r, "a count edited");
  OK(r.warnings == 1 && strstr(r.report.ptr, "Status Chart' is computed") &&
         strstr(r.report.ptr, "not kept"),
     "%s", r.report.ptr);
  free(t);

  char *t1 = edit(text, "xychart-beta horizontal\n", "xychart-beta\n");
  t = edit(t1, "\"Frontend\"", "\"Front \"end\"\n\"");
  save_unchanged(st, &f, t, &r, "labels broken");
  OK(r.warnings == 1, "%s", r.report.ptr);
  free(t1);
  free(t);

  /* The whole section removed: nothing to warn about. */
  t = xasprintf("%.*s%s", (int)(start - text), text, end);
  save_unchanged(st, &f, t, &r, "chart removed");
  INT_EQ(r.warnings, 0);
  free(t);

  /* Only the blocks removed, or only the heading: a generated part that
   * differs. */
  t = xasprintf("%.*s%s%s", (int)(start - text), text, head, end);
  save_unchanged(st, &f, t, &r, "blocks removed");
  OK(r.warnings == 1 && strstr(r.report.ptr, "Status Chart"), "%s",
     r.report.ptr);
  free(t);
  t = edit(text, head, "");
  save_unchanged(st, &f, t, &r, "heading removed");
  OK(r.warnings == 1 && strstr(r.report.ptr, "Metrics"), "%s", r.report.ptr);
  free(t);

  /* A mermaid block of one's own is kept, beside the chart. */
  t = edit(text, "## \xf0\x9f\x92\xa1 Key Insights\n",
           "## \xf0\x9f\x92\xa1 Key Insights\n\n"
           "```mermaid\npie\n    \"Mine\" : 1\n```\n");
  RC_OK(save(st, &f, t, &r), st);
  INT_EQ(r.warnings, 0);
  char *after = read_file(st, &f);
  OK(strstr(after, "## \xf0\x9f\x92\xa1 Key Insights\n\n```mermaid\npie\n"
                   "    \"Mine\" : 1\n```\n") != NULL,
     "%s", after);
  OK(strstr(after, head) != NULL, "the chart is still there");
  free(after);
  free(t);
out:
  free(text);
  save_result_release(&r);
  vnode_release(&f);
  store_close(st);
}

/* A lone CR ends a line: two of them in a description are a blank line in
 * it, and the blocks after it stay tasks. */
static void test_lone_cr(void) {
  struct store *st = fixture_open();
  struct vnode f = group_file("frontend_group_001");
  struct save_result r;
  save_result_init(&r);
  char *text = read_file(st, &f);
  char *t = edit(text, "Describe it.", "Describe\r\rit.");
  RC_OK(save(st, &f, t, &r), st);
  INT_EQ(r.outcome, SAVE_APPLIED);
  INT_EQ(r.changes, 1);
  OK(r.report.len == 0, "report: %s", r.report.ptr);
  INT_EQ(count_group(st, "frontend_group_001"), 4);
  struct task t2 = get_task(st, "t2");
  STR_EQ(t2.description, "Describe\n\nit.");
  task_release(&t2);
  struct section *xs;
  size_t nx;
  RC_OK(store_section_list(st, OWNER_GROUP, "frontend_group_001", false, &xs,
                           &nx),
        st);
  INT_EQ(nx, 0);
  store_sections_free(xs, nx);
  char *after = read_file(st, &f);
  save_unchanged(st, &f, after, &r, "after a lone CR");
  free(after);
  free(t);
  free(text);
  save_result_release(&r);
  vnode_release(&f);
  store_close(st);
}

/* An unclosed fence in a description swallows the rest of the file that
 * holds it (as CommonMark reads it); from then on, the rendering opens no
 * block, and saving it unchanged changes nothing and adds nothing. */
static void test_unclosed_fence(void) {
  struct store *st = fixture_open();
  struct vnode f = group_file("frontend_group_001");
  struct save_result r;
  save_result_init(&r);
  char *text = read_file(st, &f);
  const char *progress = "- **Progress**: 25% (1 of 4 tasks completed)\n";
  char *t = edit(text, progress, "- **Progress**: 0%\n\n```\ncode\n");
  /* The fence swallows every task: deletions this save may make. */
  struct policy all;
  policy_default(&all);
  all.confirm_deletions = 0;
  RC_OK(save_with(st, &f, t, &all, &r), st);
  INT_EQ(r.outcome, SAVE_APPLIED);
  INT_EQ(count_group(st, "frontend_group_001"), 0);
  struct group g;
  group_init(&g);
  RC_OK(store_group_get(st, "frontend_group_001", &g), st);
  const char *rest = strstr(text, progress) + strlen(progress);
  char *want = xasprintf("```\ncode\n%.*s", (int)strlen(rest) - 1, rest);
  STR_EQ(g.description, want);
  free(want);
  char *after = read_file(st, &f);
  OK(strstr(after, "\n\n\\```\ncode\n\n\\## \xf0\x9f\x93\x8a Metrics\n") !=
         NULL,
     "%s", after);
  for (int i = 0; i < 3; i++)
    save_unchanged(st, &f, after, &r, "a description with an open fence");
  char *again = read_file(st, &f);
  STR_EQ(again, after);
  group_release(&g);
  group_init(&g);
  RC_OK(store_group_get(st, "frontend_group_001", &g), st);
  OK(strlen(g.description) == strlen(rest) - 1 + strlen("```\ncode\n"),
     "the description grew to %zu bytes", strlen(g.description));
  group_release(&g);
  free(again);
  free(after);
  free(t);
  free(text);
  save_result_release(&r);
  vnode_release(&f);
  store_close(st);
}

/* The text without its task blocks ("### " headings and what follows
 * them up to the next heading of a section). */
static char *without_tasks(const char *text, const char *keep_id) {
  struct buf out = BUF_INIT;
  bool skipping = false;
  for (const char *p = text; *p;) {
    const char *nl = strchr(p, '\n');
    size_t n = nl ? (size_t)(nl - p + 1) : strlen(p);
    if (strncmp(p, "### ", 4) == 0) {
      char *line = xstrndup(p, n);
      skipping = !(keep_id && strstr(line, keep_id));
      free(line);
    } else if (strncmp(p, "## ", 3) == 0) {
      skipping = false;
    }
    if (!skipping)
      buf_add(&out, p, n);
    p += n;
  }
  return buf_detach(&out, NULL);
}

static struct conflict *open_conflicts(struct store *st, size_t *n) {
  struct conflict *v;
  if (store_conflict_list(st, "s1", NULL, NULL, true, &v, n))
    die("conflicts: %s", store_errmsg(st));
  return v;
}

/* A save that would delete many of its file's tasks at once deletes
 * none: one conflict asks to confirm, and ticking its option 2 (or
 * naming some of the tasks in option 3) deletes them. */
static void test_mass_deletion(void) {
  struct store *st = fixture_open();
  struct vnode f = group_file("frontend_group_001");
  struct save_result r;
  save_result_init(&r);
  size_t before = count_group(st, "frontend_group_001");
  OK(before >= 3, "the fixture's group has %zu tasks", before);
  char *text = read_file(st, &f);
  char *emptied = without_tasks(text, NULL);
  RC_OK(save(st, &f, emptied, &r), st);
  INT_EQ(r.outcome, SAVE_APPLIED);
  INT_EQ(r.conflicts, 1);
  INT_EQ(count_group(st, "frontend_group_001"), before);
  size_t n;
  struct conflict *v = open_conflicts(st, &n);
  INT_EQ(n, 1);
  STR_EQ(v[0].field, "deletions");
  STR_EQ(v[0].type, "structural_change");
  OK(strstr(v[0].note, "would delete") != NULL, "%s", v[0].note);
  int64_t id = v[0].id;
  store_conflicts_free(v, n);
  /* The file shows every task again, and its conflict file lists them. */
  char *shown = read_file(st, &f);
  OK(strstr(shown, "`t1`") != NULL, "%s", shown);
  struct buf cf = BUF_INIT;
  RC_OK(conflict_render(st, "s1", "group", "frontend_group_001",
                        "task_groups/frontend.md", &cf, NULL),
        st);
  OK(strstr(cf.ptr, "- **Why**: this save would delete") != NULL, "%s", cf.ptr);
  OK(strstr(cf.ptr, "`t1`") != NULL, "%s", cf.ptr);
  /* Saved again unchanged (an editor that did not reload): still one
   * conflict, nothing deleted. */
  RC_OK(save(st, &f, emptied, &r), st);
  v = open_conflicts(st, &n);
  INT_EQ(n, 1);
  store_conflicts_free(v, n);
  INT_EQ(count_group(st, "frontend_group_001"), before);
  /* Option 3 naming one task deletes that one only. */
  RC_OK(store_begin(st), st);
  OK(conflict_resolve(st, id, "manual", "- `t9`\n") == ENG_INVALID,
     "a task the save did not delete is refused");
  store_rollback(st);
  RC_OK(store_begin(st), st);
  RC_OK(conflict_resolve(st, id, "manual", "- Title `t1`\n"), st);
  RC_OK(store_commit(st), st);
  INT_EQ(count_group(st, "frontend_group_001"), before - 1);
  struct task t1;
  task_init(&t1);
  RC_OK(store_task_get(st, "t1", &t1), st);
  OK(t1.deleted, "t1 is deleted softly");
  task_release(&t1);
  v = open_conflicts(st, &n);
  INT_EQ(n, 0);
  store_conflicts_free(v, n);

  /* Again, confirmed with option 2: all of them go. */
  free(text);
  text = read_file(st, &f);
  free(emptied);
  emptied = without_tasks(text, NULL);
  RC_OK(save(st, &f, emptied, &r), st);
  INT_EQ(r.conflicts, 1);
  v = open_conflicts(st, &n);
  INT_EQ(n, 1);
  id = v[0].id;
  store_conflicts_free(v, n);
  RC_OK(store_begin(st), st);
  RC_OK(conflict_resolve(st, id, "file", NULL), st);
  RC_OK(store_commit(st), st);
  INT_EQ(count_group(st, "frontend_group_001"), 0);

  /* Few at once: deleted by the save itself. */
  struct store *st2 = fixture_open();
  char *all = read_file(st2, &f);
  char *kept = without_tasks(all, "`t2`");
  size_t had = count_group(st2, "frontend_group_001");
  struct policy few;
  policy_default(&few);
  few.confirm_deletions = (int)had + 1;
  RC_OK(save_with(st2, &f, kept, &few, &r), st2);
  INT_EQ(r.conflicts, 0);
  INT_EQ(count_group(st2, "frontend_group_001"), 1);
  free(kept);
  free(all);
  store_close(st2);

  buf_release(&cf);
  free(shown);
  free(emptied);
  free(text);
  save_result_release(&r);
  vnode_release(&f);
  store_close(st);
}

/* A store that cannot answer whether a record exists (a connection lost
 * in the middle of a save): the save fails with the store's error, and
 * nothing is decided from the missing answer. */
static int exists_fails(struct store *st, int kind, const char *id, bool *yes) {
  (void)kind;
  (void)id;
  *yes = false;
  return store_fail(st, ENG_DB, "lost the connection to the database");
}

static int query_fails(struct store *st, const struct store_query *q,
                       void **out, size_t *n) {
  (void)q;
  *out = NULL;
  *n = 0;
  return store_fail(st, ENG_DB, "lost the connection to the database");
}

static int memo_fails(struct store *st, const char *kind, const char *record,
                      struct save_memo *out) {
  (void)kind;
  (void)record;
  (void)out;
  return store_fail(st, ENG_DB, "lost the connection to the database");
}

/* sync_save of text as f through a store whose calls are ops's (some of
 * them failing); r is emptied first. */
static int save_through(struct store *st, const struct store_ops *ops,
                        const struct vnode *f, const char *text,
                        struct save_result *r) {
  const struct store_ops *real = st->ops;
  save_result_release(r);
  save_result_init(r);
  st->ops = ops;
  int rc = sync_save(st, f, text, strlen(text), NULL, NULL, r);
  st->ops = real;
  return rc;
}

static void test_store_failure_is_no_answer(void) {
  struct store *st = fixture_open();
  const struct store_ops *real = st->ops;
  struct store_ops failing = *real;
  failing.exists = exists_fails;
  struct vnode f = group_file("frontend_group_001");
  char *text = read_file(st, &f);
  char *p3 = strstr(text, "### Charts `t3`");
  char *deps = edit(p3, "- **Estimate**: 4h",
                    "- **Estimate**: 4h\n- **Depends on**: `t1`");
  char *t = xasprintf("%.*s%s", (int)(p3 - text), text, deps);
  int64_t rev = store_revision(st);
  struct save_result r;
  save_result_init(&r);

  /* Not "t1 is not a task id": the text is not held, nothing applied. */
  INT_EQ(save_through(st, &failing, &f, t, &r), ENG_DB);
  OK(r.outcome != SAVE_HELD, "held: %s", r.report.ptr);
  INT_EQ(store_revision(st), rev);
  struct draft d = {0};
  INT_EQ(store_draft_get(st, "group", "frontend_group_001", &d), ENG_NOTFOUND);
  struct task t3 = get_task(st, "t3");
  INT_EQ(t3.dependencies.n, 0);
  task_release(&t3);

  /* A new group file naming an existing task is a copy: not made into a
   * group while the store cannot tell. */
  struct vnode dir;
  vnode_init(&dir);
  dir.kind = VK_GROUPS;
  dir.session = xstrdup("s1");
  const char *copy = "# Copy\n\n## Planned\n\n### Charts `t3`\n";
  save_result_release(&r);
  save_result_init(&r);
  st->ops = &failing;
  INT_EQ(sync_create(st, &dir, "copy.md", copy, strlen(copy), NULL, NULL, &r),
         ENG_DB);
  st->ops = real;
  struct group g;
  group_init(&g);
  INT_EQ(store_group_find(st, "s1", "copy", &g), ENG_NOTFOUND);
  group_release(&g);
  INT_EQ(store_revision(st), rev);

  /* A task file moved to another group by its Group line: the group is
   * looked up by name; not "no group named". */
  struct vnode tf = task_file("t2", STATUS_ACTIVE);
  char *ttext = read_file(st, &tf);
  char *moved = edit(ttext, "- **Group**: frontend", "- **Group**: backend");
  failing = *real;
  failing.query = query_fails;
  INT_EQ(save_through(st, &failing, &tf, moved, &r), ENG_DB);
  OK(r.outcome != SAVE_HELD, "held: %s", r.report.ptr);
  INT_EQ(store_draft_get(st, "task", "t2", &d), ENG_NOTFOUND);
  INT_EQ(store_revision(st), rev);

  /* The memo of earlier saves of the same old text cannot be read: the
   * save fails instead of going on without it (it could make again the
   * tasks that an earlier save made). */
  failing = *real;
  failing.memo_get = memo_fails;
  INT_EQ(save_through(st, &failing, &f, t, &r), ENG_DB);
  INT_EQ(store_revision(st), rev);

  /* The store answering again, the same saves apply. */
  RC_OK(save_through(st, real, &f, t, &r), st);
  INT_EQ(r.outcome, SAVE_APPLIED);
  t3 = get_task(st, "t3");
  INT_EQ(t3.dependencies.n, 1);
  task_release(&t3);
  RC_OK(save_through(st, real, &tf, moved, &r), st);
  struct task t2 = get_task(st, "t2");
  STR_EQ(t2.group_id, "backend_group_001");
  task_release(&t2);
  free(moved);
  free(ttext);
  vnode_release(&tf);

  save_result_release(&r);
  vnode_release(&dir);
  free(t);
  free(deps);
  free(text);
  vnode_release(&f);
  store_close(st);
}

int main(void) {
  test_round_trip();
  test_group_edits();
  test_new_tasks_and_stale_buffer();
  test_concurrent();
  test_replacement();
  test_bad_input();
  test_store_failure_is_no_answer();
  test_crlf_bom();
  test_lone_cr();
  test_unclosed_fence();
  test_mass_deletion();
  test_task_file();
  test_session_and_notes();
  test_create_rename_delete();
  test_status_chart();
  return harness_done("sync");
}
