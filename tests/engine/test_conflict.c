/* SPDX-License-Identifier: MIT */
/* test_conflict.c: fields a save and the database both changed, for every
 * kind of field and every strategy (the time window included); conflict
 * records, conflict files, resolutions and backups; taskfs.yaml. */
#include "backend.h"
#include "config.h"
#include "conflict.h"
#include "fixture.h"
#include "harness.h"
#include "store.h"
#include "sync.h"
#include "util.h"
#include "view.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static struct vnode file_of(int kind, const char *record) {
  struct vnode v;
  vnode_init(&v);
  v.kind = kind;
  v.session = xstrdup("s1");
  v.record = xstrdup(record);
  v.status = STATUS_ACTIVE;
  return v;
}

static char *read_file(struct store *st, const struct vnode *f) {
  struct buf b = BUF_INIT;
  if (view_read(st, f, &b, NULL))
    die("read: %s", store_errmsg(st));
  return buf_detach(&b, NULL);
}

static char *edit(const char *text, const char *from, const char *to) {
  const char *p = strstr(text, from);
  if (!p)
    die("edit: '%s' not in text:\n%s", from, text);
  return xasprintf("%.*s%s%s", (int)(p - text), text, to, p + strlen(from));
}

/* A change by another program (an agent) to one field. */
static void agent_sets(struct store *st, const char *id, const char *field,
                       const char *value) {
  store_set_source(st, "agent");
  if (store_begin(st) || store_field_set(st, "task", id, field, value) ||
      store_commit(st))
    die("agent: %s", store_errmsg(st));
  store_set_source(st, "taskfs");
}

static struct task get(struct store *st, const char *id) {
  struct task t;
  task_init(&t);
  if (store_task_get(st, id, &t))
    die("get %s", id);
  return t;
}

static int save(struct store *st, const struct vnode *f, const char *text,
                const struct policy *p, struct save_result *r) {
  save_result_release(r);
  save_result_init(r);
  return sync_save(st, f, text, strlen(text), NULL, p, r);
}

static size_t open_conflicts(struct store *st) {
  struct conflict *v;
  size_t n;
  if (store_conflict_list(st, "s1", NULL, NULL, true, &v, &n))
    die("list");
  store_conflicts_free(v, n);
  return n;
}

static bool backup_holds(struct store *st, const char *field,
                         const char *value) {
  struct backup *v;
  size_t n;
  bool found = false;
  if (store_backup_list(st, "s1", &v, &n))
    die("backups");
  for (size_t i = 0; i < n; i++)
    if (str_eq(v[i].field, field) && str_eq(v[i].text, value))
      found = true;
  store_backups_free(v, n);
  return found;
}

/* Outside the window: the status conflict goes to the user; the conflict
 * file shows it; ticking option 2 applies the file's value. */
static void test_user_choice_by_ticking(void) {
  struct store *st = fixture_open();
  struct policy p;
  policy_default(&p);
  p.window_ns = 0; /* every database change is "old" */
  struct vnode f = file_of(VK_GROUP_MD, "frontend_group_001");
  struct save_result r;
  save_result_init(&r);
  char *text = read_file(st, &f);
  agent_sets(st, "t2", "status", "blocked");
  char *mine =
      edit(text, "- [ ] **Status**: active", "- [x] **Status**: active");
  char *mine2 = edit(mine, "Describe it.", "Described by me.");
  RC_OK(save(st, &f, mine2, &p, &r), st);
  INT_EQ(r.outcome, SAVE_APPLIED);
  INT_EQ(r.conflicts, 1);
  struct task t = get(st, "t2");
  INT_EQ(t.status, STATUS_BLOCKED);          /* the database's stays */
  STR_EQ(t.description, "Described by me."); /* the rest applied */
  task_release(&t);
  INT_EQ(open_conflicts(st), 1);

  /* The conflict file beside the group file. */
  struct vnode dir = file_of(VK_GROUPS, NULL);
  struct vnode cf;
  vnode_init(&cf);
  RC_OK(view_lookup(st, &dir, "frontend.conflict.md", &cf), st);
  INT_EQ(cf.kind, VK_CONFLICT_MD);
  char *conflicts = read_file(st, &cf);
  OK(strstr(conflicts, "## Conflict ") && strstr(conflicts, "task_status") &&
         strstr(conflicts, "#### Option 1: Keep Database Version") &&
         strstr(conflicts, "```text\nblocked\n```") &&
         strstr(conflicts, "```text\ncompleted\n```"),
     "%s", conflicts);
  /* Tick option 2 (the file's version) and save the conflict file. */
  char *ticked = edit(conflicts, "- [ ] Keep the file version",
                      "- [x] Keep the file version");
  RC_OK(save(st, &cf, ticked, &p, &r), st);
  t = get(st, "t2");
  INT_EQ(t.status, STATUS_COMPLETED);
  task_release(&t);
  INT_EQ(open_conflicts(st), 0);
  OK(backup_holds(st, "status", "blocked"), "the database's value kept");
  OK(backup_holds(st, "status", "completed"), "the file's value kept");
  vnode_release(&cf);
  vnode_init(&cf);
  INT_EQ(view_lookup(st, &dir, "frontend.conflict.md", &cf), ENG_NOTFOUND);
  free(text);
  free(mine);
  free(mine2);
  free(conflicts);
  free(ticked);
  vnode_release(&cf);
  vnode_release(&dir);
  vnode_release(&f);
  save_result_release(&r);
  store_close(st);
}

/* Option 3 with a hand-made value; two ticks and a bad value stay open
 * with a note; deleting the conflict file keeps the database's. */
static void test_manual_and_problems(void) {
  struct store *st = fixture_open();
  struct policy p;
  policy_default(&p);
  p.window_ns = 0;
  struct vnode f = file_of(VK_GROUP_MD, "frontend_group_001");
  struct save_result r;
  save_result_init(&r);
  char *text = read_file(st, &f);
  agent_sets(st, "t2", "progress", "70");
  agent_sets(st, "t4", "progress", "15");
  char *m1 = edit(text, "- **Progress**: 60%", "- **Progress**: 65%");
  char *m2 = edit(m1, "- **Progress**: 10%", "- **Progress**: 12%");
  RC_OK(save(st, &f, m2, &p, &r), st);
  INT_EQ(r.conflicts, 2);
  struct vnode cf = file_of(VK_CONFLICT_MD, "frontend_group_001");
  cf.target = VK_GROUP_MD;
  char *c = read_file(st, &cf);
  /* First conflict (t2): option 3 with 68%. Second (t4): two ticks. */
  char *a = edit(c, "- [ ] Use the text below (edit it first)\n\n```text\n65%",
                 "- [x] Use the text below (edit it first)\n\n```text\n68%");
  const char *second = strstr(a, "## Conflict ");
  second = strstr(second + 1, "## Conflict ");
  OK(second != NULL, "two conflicts");
  char *b = xasprintf("%.*s%s", (int)(second - a), a,
                      strstr(second, "- [ ]") ? second : second);
  char *head = xstrndup(b, (size_t)(second - a));
  char *tail = xstrdup(second);
  char *t1 = edit(tail, "- [ ] Keep the database version",
                  "- [x] Keep the database version");
  char *t2 =
      edit(t1, "- [ ] Keep the file version", "- [x] Keep the file version");
  char *full = xasprintf("%s%s", head, t2);
  INT_EQ(save(st, &cf, full, &p, &r), ENG_PARSE);
  OK(strstr(r.report.ptr, "more than one option") != NULL, "%s", r.report.ptr);
  struct task t = get(st, "t2");
  INT_EQ(t.progress, 68);
  task_release(&t);
  t = get(st, "t4");
  INT_EQ(t.progress, 15);
  task_release(&t);
  INT_EQ(open_conflicts(st), 1);
  char *again = read_file(st, &cf);
  OK(strstr(again, "**Problem**: line") != NULL, "%s", again);

  /* A manual value that is no progress. */
  char *bad =
      edit(again, "- [ ] Use the text below (edit it first)\n\n```text\n12%",
           "- [x] Use the text below (edit it first)\n\n```text\nlots");
  INT_EQ(save(st, &cf, bad, &p, &r), ENG_PARSE);
  OK(strstr(r.report.ptr, "not a progress") != NULL, "%s", r.report.ptr);
  INT_EQ(open_conflicts(st), 1);
  char *kept = read_file(st, &cf);
  OK(strstr(kept, "```text\nlots\n```") != NULL, "the text written is kept");

  /* The conflict file removed: the database's version stays. */
  struct vnode g = file_of(VK_GROUP_MD, "frontend_group_001");
  RC_OK(sync_keep_db(st, &g), st);
  INT_EQ(open_conflicts(st), 0);
  t = get(st, "t4");
  INT_EQ(t.progress, 15);
  task_release(&t);
  OK(backup_holds(st, "progress", "12"), "the file's value kept");

  free(text);
  free(m1);
  free(m2);
  free(c);
  free(a);
  free(b);
  free(head);
  free(tail);
  free(t1);
  free(t2);
  free(full);
  free(again);
  free(bad);
  free(kept);
  vnode_release(&g);
  vnode_release(&cf);
  vnode_release(&f);
  save_result_release(&r);
  store_close(st);
}

/* Titles and other fields: a task asks to resolve it (manual_task). */
static void test_manual_task(void) {
  struct store *st = fixture_open();
  struct vnode f = file_of(VK_TASK_MD, "t3");
  f.status = STATUS_PLANNED;
  struct save_result r;
  save_result_init(&r);
  char *text = read_file(st, &f);
  agent_sets(st, "t3", "title", "Charts v2");
  char *m = edit(text, "# Charts `t3`", "# Chart widgets `t3`");
  RC_OK(save(st, &f, m, NULL, &r), st);
  INT_EQ(r.conflicts, 1);
  struct task t = get(st, "t3");
  STR_EQ(t.title, "Charts v2");
  task_release(&t);
  struct conflict *v;
  size_t n;
  RC_OK(store_conflict_list(st, "s1", NULL, NULL, true, &v, &n), st);
  INT_EQ(n, 1);
  STR_EQ(v[0].status, "manual");
  STR_EQ(v[0].type, "other");
  OK(v[0].manual_task != NULL, "a task was made");
  struct task mt = get(st, v[0].manual_task);
  OK(strstr(mt.title, "Resolve sync conflict") != NULL, "%s", mt.title);
  STR_EQ(mt.group_id, "frontend_group_001");
  INT_EQ(mt.status, STATUS_PLANNED);
  task_release(&mt);
  RC_OK(sync_resolve(st, v[0].id, "file", NULL), st);
  t = get(st, "t3");
  STR_EQ(t.title, "Chart widgets");
  task_release(&t);
  mt = get(st, v[0].manual_task);
  INT_EQ(mt.status, STATUS_COMPLETED);
  task_release(&mt);
  INT_EQ(sync_resolve(st, v[0].id, "db", NULL), ENG_NOTFOUND);
  store_conflicts_free(v, n);
  free(text);
  free(m);
  vnode_release(&f);
  save_result_release(&r);
  store_close(st);
}

/* Free text: changes to different lines merge; to the same line, the
 * file wins and the database's text is backed up. */
static void test_user_content(void) {
  struct store *st = fixture_open();
  agent_sets(st, "t2", "description", "one\ntwo\nthree\nfour");
  struct vnode f = file_of(VK_TASK_MD, "t2");
  struct save_result r;
  save_result_init(&r);
  char *text = read_file(st, &f);
  agent_sets(st, "t2", "description", "ONE\ntwo\nthree\nfour");
  char *m = edit(text, "three\nfour", "three\nFOUR");
  RC_OK(save(st, &f, m, NULL, &r), st);
  INT_EQ(r.conflicts, 0);
  struct task t = get(st, "t2");
  STR_EQ(t.description, "ONE\ntwo\nthree\nFOUR");
  task_release(&t);
  free(text);
  free(m);

  text = read_file(st, &f);
  agent_sets(st, "t2", "description", "ONE\nTWO (agent)\nthree\nFOUR");
  m = edit(text, "ONE\ntwo\n", "ONE\nTWO (me)\n");
  RC_OK(save(st, &f, m, NULL, &r), st);
  INT_EQ(r.conflicts, 0);
  t = get(st, "t2");
  STR_EQ(t.description, "ONE\nTWO (me)\nthree\nFOUR");
  task_release(&t);
  OK(backup_holds(st, "description", "ONE\nTWO (agent)\nthree\nFOUR"),
     "the database's text backed up");
  free(text);
  free(m);

  /* A user section both changed on the same line: the file wins. */
  struct vnode notes = file_of(VK_NOTES_MD, NULL);
  notes.notes = 0;
  char *nt = read_file(st, &notes);
  char *n1 = xasprintf("%sa\nb\nc\nd\ne\n", nt);
  RC_OK(save(st, &notes, n1, NULL, &r), st);
  char *base = read_file(st, &notes);
  struct section x;
  section_init(&x);
  RC_OK(store_section_get(st, OWNER_SESSION, "s1", "notes/decisions", &x), st);
  char id[32];
  snprintf(id, sizeof id, "%lld", (long long)x.id);
  section_release(&x);
  store_set_source(st, "agent");
  RC_OK(store_begin(st), st);
  RC_OK(store_field_set(st, "section", id, "body", "\na\nB agent\nc\nd\ne\n"),
        st);
  RC_OK(store_commit(st), st);
  char *n2 = edit(base, "c\nd\ne\n", "c\nD mine\ne\n");
  RC_OK(save(st, &notes, n2, NULL, &r), st);
  char *after = read_file(st, &notes);
  OK(strstr(after, "a\nB agent\nc\nD mine\ne\n") != NULL, "merged:\n%s", after);
  free(nt);
  free(n1);
  free(base);
  free(n2);
  free(after);
  vnode_release(&notes);
  vnode_release(&f);
  save_result_release(&r);
  store_close(st);
}

/* Structure: a task the file removes but the database changed, and a
 * task the file edits but the database deleted. */
static void test_structural(void) {
  struct store *st = fixture_open();
  struct vnode f = file_of(VK_GROUP_MD, "frontend_group_001");
  struct save_result r;
  save_result_init(&r);
  char *text = read_file(st, &f);
  agent_sets(st, "t3", "progress", "40");
  agent_sets(st, "t4", "deleted", "1");
  const char *b3 = strstr(text, "### Charts `t3`");
  const char *e3 = strstr(b3, "\n## ");
  char *cut = xasprintf("%.*s%s", (int)(b3 - text), text, e3 + 1);
  char *m = edit(cut, "- **Progress**: 10%", "- **Progress**: 90%");
  RC_OK(save(st, &f, m, NULL, &r), st);
  INT_EQ(r.conflicts, 2);
  struct task t = get(st, "t3");
  OK(!t.deleted, "t3 stays until chosen");
  task_release(&t);
  t = get(st, "t4");
  OK(t.deleted, "t4 stays deleted until chosen");
  task_release(&t);
  struct conflict *v;
  size_t n;
  RC_OK(store_conflict_list(st, "s1", NULL, NULL, true, &v, &n), st);
  INT_EQ(n, 2);
  for (size_t i = 0; i < n; i++) {
    STR_EQ(v[i].type, "structural_change");
    RC_OK(sync_resolve(st, v[i].id, "file", NULL), st);
  }
  store_conflicts_free(v, n);
  t = get(st, "t3");
  OK(t.deleted, "t3 removed as the file says");
  task_release(&t);
  t = get(st, "t4");
  OK(!t.deleted, "t4 back");
  INT_EQ(t.progress, 90); /* with the file's edit */
  task_release(&t);
  free(text);
  free(cut);
  free(m);
  vnode_release(&f);
  save_result_release(&r);
  store_close(st);
}

/* database_wins and file_wins by configuration. */
static void test_policies(void) {
  struct store *st = fixture_open();
  struct policy p;
  policy_default(&p);
  p.strategy[CT_OTHER] = ST_DATABASE_WINS;
  p.strategy[CT_PROGRESS] = ST_FILE_WINS;
  p.window_ns = 0;
  struct vnode f = file_of(VK_TASK_MD, "t2");
  struct save_result r;
  save_result_init(&r);
  char *text = read_file(st, &f);
  agent_sets(st, "t2", "priority", "low");
  agent_sets(st, "t2", "progress", "61");
  char *m1 = edit(text, "- **Priority**: high", "- **Priority**: critical");
  char *m2 = edit(m1, "- **Progress**: 60%", "- **Progress**: 99%");
  RC_OK(save(st, &f, m2, &p, &r), st);
  INT_EQ(r.conflicts, 0);
  struct task t = get(st, "t2");
  INT_EQ(t.priority, PRIORITY_LOW);
  INT_EQ(t.progress, 99);
  task_release(&t);
  OK(backup_holds(st, "priority", "critical"), "file's priority backed up");
  OK(backup_holds(st, "progress", "61"), "database's progress backed up");
  free(text);
  free(m1);
  free(m2);
  vnode_release(&f);
  save_result_release(&r);
  store_close(st);
}

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  fputs(text, f);
  fclose(f);
}

static void test_config(void) {
  char path[] = "/tmp/taskfs-test-config-XXXXXX";
  int fd = mkstemp(path);
  close(fd);
  struct policy p;
  struct buf err = BUF_INIT;
  write_file(path, "conflicts:\n  task_status: user_choice\n"
                   "  other: database_wins\nauto_merge_window: 90s\n");
  RC_OK(policy_load(path, &p, &err), NULL);
  INT_EQ(p.strategy[CT_TASK_STATUS], ST_USER_CHOICE);
  INT_EQ(p.strategy[CT_OTHER], ST_DATABASE_WINS);
  INT_EQ(p.strategy[CT_USER_CONTENT], ST_FILE_WINS);
  INT_EQ(p.window_ns, 90LL * 1000000000);
  write_file(path, "auto_merge_window: 5m\n");
  RC_OK(policy_load(path, &p, &err), NULL);
  INT_EQ(p.window_ns, 300LL * 1000000000);
  INT_EQ(p.strategy[CT_TASK_STATUS], ST_AUTO_MERGE);
  static const struct {
    const char *text, *want;
  } bad[] = {
      {"conflicts:\n  task_status: maybe\n", ":2: unknown strategy 'maybe'"},
      {"conflicts:\n  colour: file_wins\n", ":2: unknown conflict type"},
      {"auto_merge_window: soon\n", ":1: auto_merge_window 'soon'"},
      {"auto_merge_window: inf\n", ":1: auto_merge_window 'inf'"},
      {"auto_merge_window: nan\n", ":1: auto_merge_window 'nan'"},
      {"auto_merge_window: 1e300h\n", ":1: auto_merge_window '1e300h'"},
      {"windw: 5m\n", ":1: unknown setting 'windw'"},
      {"conflicts: [a, b]\n", ":1: lists are not used"},
      {"conflicts:\n  task_status: 'unclosed\n", "not valid YAML"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    buf_truncate(&err, 0);
    write_file(path, bad[i].text);
    INT_EQ(policy_load(path, &p, &err), ENG_INVALID);
    OK(strstr(err.ptr, bad[i].want) != NULL, "want '%s' in '%s'", bad[i].want,
       err.ptr);
  }
  unlink(path);
  INT_EQ(policy_load(path, &p, &err), ENG_NOTFOUND);
  buf_release(&err);
}

/* A store that cannot give a ticked conflict back (a connection lost):
 * the save of the conflict file fails with the store's error, the
 * conflict stays open and nothing of it is applied; not a save that did
 * nothing and said it worked. */
static int conflict_get_fails(struct store *st, int64_t id,
                              struct conflict *out) {
  (void)id;
  (void)out;
  return store_fail(st, ENG_DB, "lost the connection to the database");
}

static void test_store_failure_resolving(void) {
  struct store *st = fixture_open();
  struct policy p;
  policy_default(&p);
  p.window_ns = 0;
  struct vnode f = file_of(VK_GROUP_MD, "frontend_group_001");
  struct save_result r;
  save_result_init(&r);
  char *text = read_file(st, &f);
  agent_sets(st, "t2", "progress", "70");
  char *mine = edit(text, "- **Progress**: 60%", "- **Progress**: 65%");
  RC_OK(save(st, &f, mine, &p, &r), st);
  INT_EQ(r.conflicts, 1);
  struct vnode cf = file_of(VK_CONFLICT_MD, "frontend_group_001");
  cf.target = VK_GROUP_MD;
  char *c = read_file(st, &cf);
  char *ticked =
      edit(c, "- [ ] Keep the file version", "- [x] Keep the file version");
  const struct store_ops *real = st->ops;
  struct store_ops failing = *real;
  failing.conflict_get = conflict_get_fails;
  st->ops = &failing;
  INT_EQ(save(st, &cf, ticked, &p, &r), ENG_DB);
  st->ops = real;
  INT_EQ(open_conflicts(st), 1);
  struct task t = get(st, "t2");
  INT_EQ(t.progress, 70);
  task_release(&t);
  RC_OK(save(st, &cf, ticked, &p, &r), st);
  INT_EQ(open_conflicts(st), 0);
  t = get(st, "t2");
  INT_EQ(t.progress, 65);
  task_release(&t);
  free(ticked);
  free(c);
  free(mine);
  free(text);
  vnode_release(&cf);
  vnode_release(&f);
  save_result_release(&r);
  store_close(st);
}

int main(void) {
  test_user_choice_by_ticking();
  test_manual_and_problems();
  test_store_failure_resolving();
  test_manual_task();
  test_user_content();
  test_structural();
  test_policies();
  test_config();
  return harness_done("conflict");
}
