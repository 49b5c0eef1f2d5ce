/* SPDX-License-Identifier: MIT */
/* test_view.c: the generated tree of the fixture database: what each
 * directory lists, what each name means, the names and paths of every
 * vnode kind, what each file reads and its revision; deleted records,
 * held drafts with their error files, and names made safe. */
#include "backend.h"
#include "fixture.h"
#include "harness.h"
#include "load.h"
#include "render.h"
#include "report.h"
#include "store.h"
#include "sync.h"
#include "util.h"
#include "view.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

static void must(int rc, struct store *st, const char *what) {
  if (rc)
    die("%s: rc %d: %s", what, rc, store_errmsg(st));
}

static struct vnode node(int kind, const char *session, const char *record) {
  struct vnode v;
  vnode_init(&v);
  v.kind = kind;
  v.session = xstrdup(session);
  v.record = xstrdup(record);
  return v;
}

static struct vnode status_dir(int status) {
  struct vnode v = node(VK_STATUS, "s1", NULL);
  v.status = status;
  return v;
}

/* ---- listings ---- */

struct listing {
  struct buf names; /* "a b c" */
  struct vnode nodes[32];
  size_t n;
  size_t stop_after; /* 0: never stop */
};

static int collect(void *ctx, const char *name, const struct vnode *child) {
  struct listing *l = ctx;
  if (l->names.len)
    buf_addc(&l->names, ' ');
  buf_adds(&l->names, name);
  if (l->n < 32) {
    vnode_init(&l->nodes[l->n]);
    vnode_copy(&l->nodes[l->n], child);
  }
  l->n++;
  if (l->stop_after && l->n == l->stop_after)
    return 42;
  return 0;
}

static void listing_release(struct listing *l) {
  for (size_t i = 0; i < l->n && i < 32; i++)
    vnode_release(&l->nodes[i]);
  buf_release(&l->names);
  l->n = 0;
}

/* The names dir lists, space separated. The caller frees. */
static char *list(struct store *st, const struct vnode *dir) {
  struct listing l = {.names = BUF_INIT};
  RC_OK(view_list(st, dir, collect, &l), st);
  char *s = xstrdup(l.names.ptr);
  listing_release(&l);
  return s;
}

#define LIST_EQ(st, dir, want)                                                 \
  do {                                                                         \
    char *got__ = list((st), (dir));                                           \
    STR_EQ(got__, (want));                                                     \
    free(got__);                                                               \
  } while (0)

/* Every listed child is what looking its name up gives. */
static void check_list_lookup(struct store *st, const struct vnode *dir) {
  struct listing l = {.names = BUF_INIT};
  RC_OK(view_list(st, dir, collect, &l), st);
  char *names = xstrdup(l.names.ptr);
  char *save = NULL;
  size_t i = 0;
  for (char *name = strtok_r(names, " ", &save); name && i < l.n && i < 32;
       name = strtok_r(NULL, " ", &save), i++) {
    struct vnode v;
    vnode_init(&v);
    RC_OK(view_lookup(st, dir, name, &v), st);
    OK(vnode_eq(&v, &l.nodes[i]), "lookup of listed %s differs", name);
    /* And the child's name is the listed name. */
    struct buf b = BUF_INIT;
    RC_OK(view_name(st, &l.nodes[i], &b), st);
    STR_EQ(b.ptr, name);
    buf_release(&b);
    vnode_release(&v);
  }
  free(names);
  listing_release(&l);
}

#define LOOKUP(st, dir, name, v)                                               \
  RC_OK(view_lookup((st), (dir), (name), (v)), st)

static void test_fixed_dirs(void) {
  struct store *st = fixture_open();
  struct vnode root = node(VK_ROOT, NULL, NULL);
  struct vnode v;
  vnode_init(&v);
  LIST_EQ(st, &root, "s1");
  LOOKUP(st, &root, "s1", &v);
  INT_EQ(v.kind, VK_SESSION);
  STR_EQ(v.session, "s1");
  INT_EQ(view_lookup(st, &root, "s2", &v), ENG_NOTFOUND);
  INT_EQ(view_lookup(st, &root, "s1.error.md", &v), ENG_NOTFOUND);

  struct vnode sess = node(VK_SESSION, "s1", NULL);
  LIST_EQ(st, &sess, "session.md task_groups tasks notes meta");
  check_list_lookup(st, &sess);
  static const struct {
    const char *name;
    int kind;
  } fixed[] = {{"session.md", VK_SESSION_MD},
               {"task_groups", VK_GROUPS},
               {"tasks", VK_TASKS},
               {"notes", VK_NOTES},
               {"meta", VK_META}};
  for (size_t i = 0; i < 5; i++) {
    LOOKUP(st, &sess, fixed[i].name, &v);
    INT_EQ(v.kind, fixed[i].kind);
    STR_EQ(v.session, "s1");
    OK(v.record == NULL, "%s has no record", fixed[i].name);
  }
  INT_EQ(view_lookup(st, &sess, "Session.md", &v), ENG_NOTFOUND);
  INT_EQ(view_lookup(st, &sess, "notes.md", &v), ENG_NOTFOUND);
  INT_EQ(view_lookup(st, &sess, "session.error.md", &v), ENG_NOTFOUND);

  struct vnode tasks = node(VK_TASKS, "s1", NULL);
  LIST_EQ(st, &tasks, "active blocked planned completed");
  check_list_lookup(st, &tasks);
  LOOKUP(st, &tasks, "blocked", &v);
  INT_EQ(v.kind, VK_STATUS);
  INT_EQ(v.status, STATUS_BLOCKED);
  INT_EQ(view_lookup(st, &tasks, "done", &v), ENG_NOTFOUND);

  struct vnode notes = node(VK_NOTES, "s1", NULL);
  LIST_EQ(st, &notes, "decisions.md learnings.md resources.md");
  check_list_lookup(st, &notes);
  LOOKUP(st, &notes, "resources.md", &v);
  INT_EQ(v.kind, VK_NOTES_MD);
  INT_EQ(v.notes, 2);
  INT_EQ(view_lookup(st, &notes, "other.md", &v), ENG_NOTFOUND);
  INT_EQ(view_lookup(st, &notes, "decisions", &v), ENG_NOTFOUND);

  struct vnode meta = node(VK_META, "s1", NULL);
  LIST_EQ(st, &meta, "sync_status.md edit_log.md backups");
  check_list_lookup(st, &meta);
  LOOKUP(st, &meta, "edit_log.md", &v);
  INT_EQ(v.kind, VK_EDIT_LOG);
  INT_EQ(view_lookup(st, &meta, "other.md", &v), ENG_NOTFOUND);

  /* A non-zero return of the callback stops the walk. */
  struct listing l = {.names = BUF_INIT, .stop_after = 2};
  INT_EQ(view_list(st, &sess, collect, &l), 42);
  STR_EQ(l.names.ptr, "session.md task_groups");
  listing_release(&l);

  vnode_release(&v);
  vnode_release(&root);
  vnode_release(&sess);
  vnode_release(&tasks);
  vnode_release(&notes);
  vnode_release(&meta);
  store_close(st);
}

static void test_groups_and_tasks(void) {
  struct store *st = fixture_open();
  struct vnode v;
  vnode_init(&v);
  struct vnode groups = node(VK_GROUPS, "s1", NULL);
  LIST_EQ(st, &groups, "frontend.md backend.md");
  check_list_lookup(st, &groups);
  LOOKUP(st, &groups, "backend.md", &v);
  INT_EQ(v.kind, VK_GROUP_MD);
  STR_EQ(v.record, "backend_group_001");
  STR_EQ(v.session, "s1");
  INT_EQ(view_lookup(st, &groups, "backend", &v), ENG_NOTFOUND);
  INT_EQ(view_lookup(st, &groups, ".md", &v), ENG_NOTFOUND);
  INT_EQ(view_lookup(st, &groups, "backend_group_001.md", &v), ENG_NOTFOUND);
  INT_EQ(view_lookup(st, &groups, "Backend.md", &v), ENG_NOTFOUND);

  static const char *const want[STATUS_COUNT] = {"t2.md t5.md", "t4.md",
                                                 "t3.md", "t1.md"};
  for (int s = 0; s < STATUS_COUNT; s++) {
    struct vnode dir = status_dir(s);
    LIST_EQ(st, &dir, want[s]);
    check_list_lookup(st, &dir);
    vnode_release(&dir);
  }
  struct vnode active = status_dir(STATUS_ACTIVE);
  struct vnode planned = status_dir(STATUS_PLANNED);
  LOOKUP(st, &active, "t5.md", &v);
  INT_EQ(v.kind, VK_TASK_MD);
  STR_EQ(v.record, "t5");
  INT_EQ(v.status, STATUS_ACTIVE);
  /* A task is only in the directory of its status. */
  INT_EQ(view_lookup(st, &planned, "t5.md", &v), ENG_NOTFOUND);
  INT_EQ(view_lookup(st, &active, "t3.md", &v), ENG_NOTFOUND);
  INT_EQ(view_lookup(st, &active, "t9.md", &v), ENG_NOTFOUND);
  INT_EQ(view_lookup(st, &active, "t5", &v), ENG_NOTFOUND);
  /* Another session's directory does not show it. */
  struct vnode other = status_dir(STATUS_ACTIVE);
  str_set(&other.session, "s2");
  INT_EQ(view_lookup(st, &other, "t5.md", &v), ENG_NOTFOUND);
  LIST_EQ(st, &other, "");
  vnode_release(&other);

  /* A task that changes status moves. */
  struct task t;
  task_init(&t);
  must(store_task_get(st, "t3", &t), st, "t3");
  t.status = STATUS_ACTIVE;
  must(store_task_update(st, &t), st, "t3");
  task_release(&t);
  LIST_EQ(st, &active, "t2.md t3.md t5.md");
  LIST_EQ(st, &planned, "");
  LOOKUP(st, &active, "t3.md", &v);
  INT_EQ(view_lookup(st, &planned, "t3.md", &v), ENG_NOTFOUND);

  /* A deleted task disappears. */
  task_init(&t);
  must(store_task_get(st, "t5", &t), st, "t5");
  t.deleted = true;
  must(store_task_update(st, &t), st, "t5");
  task_release(&t);
  LIST_EQ(st, &active, "t2.md t3.md");
  INT_EQ(view_lookup(st, &active, "t5.md", &v), ENG_NOTFOUND);

  /* A deleted group disappears, and with it its tasks. */
  struct vnode ff = node(VK_GROUP_MD, "s1", "frontend_group_001");
  RC_OK(sync_delete(st, &ff), st);
  vnode_release(&ff);
  LIST_EQ(st, &groups, "backend.md");
  INT_EQ(view_lookup(st, &groups, "frontend.md", &v), ENG_NOTFOUND);
  for (int s = 0; s < STATUS_COUNT; s++) {
    struct vnode dir = status_dir(s);
    LIST_EQ(st, &dir, "");
    vnode_release(&dir);
  }
  INT_EQ(view_lookup(st, &active, "t2.md", &v), ENG_NOTFOUND);
  /* A new group may take the deleted one's name. */
  struct group g;
  group_init(&g);
  g.session_id = xstrdup("s1");
  g.name = xstrdup("frontend");
  g.title = xstrdup("Frontend again");
  RC_OK(store_group_insert(st, &g), st);
  LIST_EQ(st, &groups, "backend.md frontend.md");
  LOOKUP(st, &groups, "frontend.md", &v);
  STR_EQ(v.record, g.id);
  group_release(&g);

  /* A live task of a deleted group is not shown; it is again when the
   * group comes back. */
  task_init(&t);
  must(store_task_get(st, "t5", &t), st, "t5");
  t.deleted = false;
  must(store_task_update(st, &t), st, "t5");
  task_release(&t);
  LIST_EQ(st, &active, "t5.md");
  LOOKUP(st, &active, "t5.md", &v);
  group_init(&g);
  must(store_group_get(st, "backend_group_001", &g), st, "backend");
  g.deleted = true;
  must(store_group_update(st, &g), st, "backend");
  LIST_EQ(st, &active, "");
  INT_EQ(view_lookup(st, &active, "t5.md", &v), ENG_NOTFOUND);
  g.deleted = false;
  must(store_group_update(st, &g), st, "backend");
  group_release(&g);
  LIST_EQ(st, &active, "t5.md");

  vnode_release(&v);
  vnode_release(&groups);
  vnode_release(&active);
  vnode_release(&planned);
  store_close(st);
}

/* ---- names, paths, contents, revisions ---- */

static void name_path(struct store *st, const struct vnode *v, const char *name,
                      const char *path) {
  struct buf b = BUF_INIT;
  RC_OK(view_name(st, v, &b), st);
  STR_EQ(b.ptr, name);
  buf_truncate(&b, 0);
  RC_OK(view_path(st, v, &b), st);
  STR_EQ(b.ptr, path);
  buf_release(&b);
}

/* view_read gives what render gives, with the same info, and
 * view_revision is that info's revision. */
static void read_is(struct store *st, const struct vnode *f,
                    const char *rendered, int64_t rev) {
  struct buf b = BUF_INIT;
  struct render_info info = {-1, -1};
  RC_OK(view_read(st, f, &b, &info), st);
  STR_EQ(b.ptr, rendered);
  INT_EQ(info.rev, rev);
  int64_t r = -1;
  RC_OK(view_revision(st, f, &r), st);
  INT_EQ(r, rev);
  buf_release(&b);
}

static void test_files(void) {
  struct store *st = fixture_open();
  struct vnode v;

  v = node(VK_ROOT, NULL, NULL);
  name_path(st, &v, "", "");
  vnode_release(&v);
  v = node(VK_SESSION, "s1", NULL);
  name_path(st, &v, "s1", "");
  vnode_release(&v);
  v = node(VK_GROUPS, "s1", NULL);
  name_path(st, &v, "task_groups", "task_groups");
  vnode_release(&v);
  v = node(VK_TASKS, "s1", NULL);
  name_path(st, &v, "tasks", "tasks");
  vnode_release(&v);
  v = status_dir(STATUS_COMPLETED);
  name_path(st, &v, "completed", "tasks/completed");
  vnode_release(&v);
  v = node(VK_NOTES, "s1", NULL);
  name_path(st, &v, "notes", "notes");
  vnode_release(&v);
  v = node(VK_META, "s1", NULL);
  name_path(st, &v, "meta", "meta");
  vnode_release(&v);

  struct buf r = BUF_INIT;
  struct render_info info;

  v = node(VK_SESSION_MD, "s1", NULL);
  name_path(st, &v, "session.md", "session.md");
  RC_OK(load_render(st, DOC_SESSION, "s1", 0, &r, &info), st);
  read_is(st, &v, r.ptr, info.rev);
  INT_EQ(info.rev, 8);
  vnode_release(&v);

  v = node(VK_GROUP_MD, "s1", "backend_group_001");
  name_path(st, &v, "backend.md", "task_groups/backend.md");
  buf_truncate(&r, 0);
  RC_OK(load_render(st, DOC_GROUP, "backend_group_001", 0, &r, &info), st);
  read_is(st, &v, r.ptr, info.rev);
  INT_EQ(info.rev, 8);
  vnode_release(&v);

  v = node(VK_TASK_MD, "s1", "t4");
  v.status = STATUS_BLOCKED;
  name_path(st, &v, "t4.md", "tasks/blocked/t4.md");
  buf_truncate(&r, 0);
  RC_OK(load_render(st, DOC_TASK, "t4", 0, &r, &info), st);
  read_is(st, &v, r.ptr, info.rev);
  INT_EQ(info.rev, 7);
  vnode_release(&v);

  for (int i = 0; i < NOTES_COUNT; i++) {
    static const char *const paths[] = {
        "notes/decisions.md", "notes/learnings.md", "notes/resources.md"};
    v = node(VK_NOTES_MD, "s1", NULL);
    v.notes = i;
    name_path(st, &v, paths[i] + 6, paths[i]);
    buf_truncate(&r, 0);
    RC_OK(load_render(st, DOC_NOTES, "s1", i, &r, &info), st);
    read_is(st, &v, r.ptr, info.rev);
    INT_EQ(info.rev, 1); /* only the session: no notes written yet */
    vnode_release(&v);
  }

  v = node(VK_SYNC_STATUS, "s1", NULL);
  name_path(st, &v, "sync_status.md", "meta/sync_status.md");
  buf_truncate(&r, 0);
  RC_OK(report_sync_status(st, "s1", &r, &info), st);
  read_is(st, &v, r.ptr, info.rev);
  vnode_release(&v);

  v = node(VK_EDIT_LOG, "s1", NULL);
  name_path(st, &v, "edit_log.md", "meta/edit_log.md");
  buf_truncate(&r, 0);
  RC_OK(report_edit_log(st, "s1", &r, &info), st);
  read_is(st, &v, r.ptr, info.rev);
  INT_EQ(info.rev, 8);
  vnode_release(&v);

  v = node(VK_ERROR_MD, "s1", "t2");
  v.target = VK_TASK_MD;
  v.status = STATUS_ACTIVE;
  name_path(st, &v, "t2.error.md", "tasks/active/t2.error.md");
  /* Without a draft there is nothing to read. */
  buf_truncate(&r, 0);
  INT_EQ(view_read(st, &v, &r, NULL), ENG_NOTFOUND);
  int64_t rev = -1;
  RC_OK(view_revision(st, &v, &rev), st);
  INT_EQ(rev, 0);
  vnode_release(&v);

  /* Directories have no contents or revision. */
  v = node(VK_GROUPS, "s1", NULL);
  INT_EQ(view_read(st, &v, &r, NULL), ENG_NOTFOUND);
  INT_EQ(view_revision(st, &v, &rev), ENG_NOTFOUND);
  vnode_release(&v);
  /* A file of a record that does not exist. */
  v = node(VK_GROUP_MD, "s1", "nope");
  buf_truncate(&r, 0);
  INT_EQ(view_name(st, &v, &r), ENG_NOTFOUND);
  INT_EQ(view_read(st, &v, &r, NULL), ENG_NOTFOUND);
  vnode_release(&v);

  /* A change to a task moves the revisions of its files. */
  struct task t;
  task_init(&t);
  must(store_task_get(st, "t4", &t), st, "t4");
  t.progress = 11;
  must(store_task_update(st, &t), st, "t4");
  task_release(&t);
  int64_t now = store_revision(st);
  v = node(VK_TASK_MD, "s1", "t4");
  v.status = STATUS_BLOCKED;
  RC_OK(view_revision(st, &v, &rev), st);
  INT_EQ(rev, now);
  vnode_release(&v);
  v = node(VK_GROUP_MD, "s1", "frontend_group_001");
  RC_OK(view_revision(st, &v, &rev), st);
  INT_EQ(rev, now);
  vnode_release(&v);
  v = node(VK_GROUP_MD, "s1", "backend_group_001");
  RC_OK(view_revision(st, &v, &rev), st);
  INT_EQ(rev, 8);
  vnode_release(&v);
  v = node(VK_NOTES_MD, "s1", NULL);
  RC_OK(view_revision(st, &v, &rev), st);
  INT_EQ(rev, 1);
  vnode_release(&v);

  buf_release(&r);
  store_close(st);
}

static void test_vnode_helpers(void) {
  for (int k = VK_ROOT; k <= VK_META; k++)
    OK(view_is_dir(k), "kind %d is a directory", k);
  for (int k = VK_SESSION_MD; k <= VK_CONFLICT_MD; k++)
    OK(!view_is_dir(k), "kind %d is no directory", k);
  int editable[] = {VK_SESSION_MD, VK_GROUP_MD, VK_TASK_MD, VK_NOTES_MD};
  for (int k = VK_ROOT; k <= VK_CONFLICT_MD; k++) {
    bool want = false;
    for (int i = 0; i < 4; i++)
      want |= editable[i] == k;
    OK(view_is_editable(k) == want, "kind %d editable %d", k, want);
  }
  struct vnode a = node(VK_TASK_MD, "s1", "t1"), b;
  vnode_init(&b);
  a.status = STATUS_COMPLETED;
  vnode_copy(&b, &a);
  OK(vnode_eq(&a, &b), "copy equal");
  OK(a.record != b.record, "deep copy");
  b.status = STATUS_ACTIVE;
  OK(!vnode_eq(&a, &b), "status differs");
  b.status = STATUS_COMPLETED;
  str_set(&b.record, "t2");
  OK(!vnode_eq(&a, &b), "record differs");

  struct buf rec = BUF_INIT;
  STR_EQ(view_draft_key(&a, &rec), "task");
  STR_EQ(rec.ptr, "t1");
  vnode_release(&a);
  a = node(VK_NOTES_MD, "s1", NULL);
  a.notes = 1;
  buf_truncate(&rec, 0);
  STR_EQ(view_draft_key(&a, &rec), "notes");
  STR_EQ(rec.ptr, "s1/learnings");
  vnode_release(&a);
  a = node(VK_SESSION_MD, "s1", NULL);
  buf_truncate(&rec, 0);
  STR_EQ(view_draft_key(&a, &rec), "session");
  STR_EQ(rec.ptr, "s1");
  vnode_release(&a);
  a = node(VK_GROUP_MD, "s1", "g");
  buf_truncate(&rec, 0);
  STR_EQ(view_draft_key(&a, &rec), "group");
  STR_EQ(rec.ptr, "g");
  vnode_release(&a);
  a = node(VK_EDIT_LOG, "s1", NULL);
  buf_truncate(&rec, 0);
  OK(view_draft_key(&a, &rec) == NULL, "meta files have no draft");
  INT_EQ(rec.len, 0);
  vnode_release(&a);
  buf_release(&rec);
  vnode_release(&b);
}

/* ---- drafts and error files ---- */

static void put_draft(struct store *st, const char *kind, const char *record,
                      const char *text) {
  struct draft d = {.kind = (char *)kind,
                    .record = (char *)record,
                    .text = (char *)text,
                    .len = strlen(text),
                    .diagnostics = "line 3: error: held for a test"};
  must(store_draft_put(st, &d), st, "draft");
}

static void test_drafts(void) {
  struct store *st = fixture_open();
  struct vnode groups = node(VK_GROUPS, "s1", NULL);
  struct vnode v;
  vnode_init(&v);
  INT_EQ(view_lookup(st, &groups, "frontend.error.md", &v), ENG_NOTFOUND);

  put_draft(st, "group", "frontend_group_001", "held group text\n");
  struct vnode f = node(VK_GROUP_MD, "s1", "frontend_group_001");
  struct buf b = BUF_INIT;
  struct render_info info = {-1, -1};
  RC_OK(view_read(st, &f, &b, &info), st);
  STR_EQ(b.ptr, "held group text\n");
  INT_EQ(info.rev, 0);
  OK(info.mtime_ns > 0, "draft time %lld", (long long)info.mtime_ns);
  vnode_release(&f);

  LIST_EQ(st, &groups, "frontend.md backend.md frontend.error.md");
  check_list_lookup(st, &groups);
  LOOKUP(st, &groups, "frontend.error.md", &v);
  INT_EQ(v.kind, VK_ERROR_MD);
  INT_EQ(v.target, VK_GROUP_MD);
  STR_EQ(v.record, "frontend_group_001");
  /* Only the file that holds a draft has an error file. */
  INT_EQ(view_lookup(st, &groups, "backend.error.md", &v), ENG_NOTFOUND);
  LOOKUP(st, &groups, "frontend.error.md", &v);
  buf_truncate(&b, 0);
  RC_OK(view_read(st, &v, &b, &info), st);
  OK(strstr(b.ptr, "\n# \xe2\x9a\xa0\xef\xb8\x8f task_groups/frontend.md "
                   "could not be applied\n") != NULL,
     "error file names its file:\n%s", b.ptr);
  OK(strstr(b.ptr, "\n- line 3: error: held for a test\n") != NULL,
     "error file lists the problem:\n%s", b.ptr);
  OK(strstr(b.ptr, "\nerror: task_groups/frontend.md\n") != NULL,
     "front matter");
  INT_EQ(info.rev, 0);
  name_path(st, &v, "frontend.error.md", "task_groups/frontend.error.md");

  /* A task draft shows in its status directory only. */
  put_draft(st, "task", "t2", "held task\n");
  struct vnode active = status_dir(STATUS_ACTIVE);
  struct vnode planned = status_dir(STATUS_PLANNED);
  LIST_EQ(st, &active, "t2.md t5.md t2.error.md");
  check_list_lookup(st, &active);
  LIST_EQ(st, &planned, "t3.md");
  INT_EQ(view_lookup(st, &planned, "t2.error.md", &v), ENG_NOTFOUND);
  INT_EQ(view_lookup(st, &active, "t5.error.md", &v), ENG_NOTFOUND);
  LOOKUP(st, &active, "t2.error.md", &v);
  INT_EQ(v.target, VK_TASK_MD);
  INT_EQ(v.status, STATUS_ACTIVE);
  buf_truncate(&b, 0);
  RC_OK(view_read(st, &v, &b, NULL), st);
  OK(strstr(b.ptr, "tasks/active/t2.md could not be applied") != NULL, "%s",
     b.ptr);
  f = node(VK_TASK_MD, "s1", "t2");
  f.status = STATUS_ACTIVE;
  buf_truncate(&b, 0);
  RC_OK(view_read(st, &f, &b, NULL), st);
  STR_EQ(b.ptr, "held task\n");
  vnode_release(&f);

  /* Session and notes drafts. */
  put_draft(st, "session", "s1", "held session\n");
  put_draft(st, "notes", "s1/learnings", "held notes\n");
  struct vnode sess = node(VK_SESSION, "s1", NULL);
  struct vnode notes = node(VK_NOTES, "s1", NULL);
  LIST_EQ(st, &sess,
          "session.md task_groups tasks notes meta "
          "session.error.md");
  check_list_lookup(st, &sess);
  LIST_EQ(st, &notes,
          "decisions.md learnings.md resources.md learnings.error.md");
  check_list_lookup(st, &notes);
  LOOKUP(st, &notes, "learnings.error.md", &v);
  INT_EQ(v.target, VK_NOTES_MD);
  INT_EQ(v.notes, 1);
  name_path(st, &v, "learnings.error.md", "notes/learnings.error.md");
  f = node(VK_NOTES_MD, "s1", NULL);
  f.notes = 1;
  buf_truncate(&b, 0);
  RC_OK(view_read(st, &f, &b, NULL), st);
  STR_EQ(b.ptr, "held notes\n");
  vnode_release(&f);
  /* Only editable files have error files. */
  struct vnode meta = node(VK_META, "s1", NULL);
  INT_EQ(view_lookup(st, &meta, "sync_status.error.md", &v), ENG_NOTFOUND);
  LIST_EQ(st, &meta, "sync_status.md edit_log.md backups");
  vnode_release(&meta);

  /* The sync status lists the four. */
  f = node(VK_SYNC_STATUS, "s1", NULL);
  buf_truncate(&b, 0);
  RC_OK(view_read(st, &f, &b, NULL), st);
  OK(strstr(b.ptr, "Files Held with Errors (4)") != NULL, "%s", b.ptr);
  vnode_release(&f);

  /* Discarded: the error file goes, the file renders again. */
  f = node(VK_GROUP_MD, "s1", "frontend_group_001");
  RC_OK(sync_discard(st, &f), st);
  LIST_EQ(st, &groups, "frontend.md backend.md");
  INT_EQ(view_lookup(st, &groups, "frontend.error.md", &v), ENG_NOTFOUND);
  buf_truncate(&b, 0);
  RC_OK(view_read(st, &f, &b, &info), st);
  OK(str_starts(b.ptr, "---\ntaskfs: 1\n"), "rendered again");
  INT_EQ(info.rev, 7);
  vnode_release(&f);

  buf_release(&b);
  vnode_release(&v);
  vnode_release(&groups);
  vnode_release(&active);
  vnode_release(&planned);
  vnode_release(&sess);
  vnode_release(&notes);
  store_close(st);
}

/* A record deleted (by taskctl, a script) while its file holds a draft:
 * whatever the directory lists, looking the name up finds it. */
static void test_draft_of_deleted(void) {
  struct store *st = fixture_open();
  put_draft(st, "group", "frontend_group_001", "held group\n");
  put_draft(st, "task", "t5", "held task\n");
  struct group g;
  group_init(&g);
  must(store_group_get(st, "backend_group_001", &g), st, "get");
  g.deleted = true;
  must(store_group_update(st, &g), st, "delete backend");
  group_release(&g);
  group_init(&g);
  must(store_group_get(st, "frontend_group_001", &g), st, "get");
  g.deleted = true;
  must(store_group_update(st, &g), st, "delete frontend");
  group_release(&g);
  struct vnode groups = node(VK_GROUPS, "s1", NULL);
  struct vnode active = status_dir(STATUS_ACTIVE);
  check_list_lookup(st, &groups);
  check_list_lookup(st, &active);
  /* The task file is gone with its group, so its error file is too. */
  struct vnode v;
  vnode_init(&v);
  INT_EQ(view_lookup(st, &active, "t5.md", &v), ENG_NOTFOUND);
  LIST_EQ(st, &active, "");
  vnode_release(&v);
  vnode_release(&groups);
  vnode_release(&active);
  store_close(st);
}

/* ---- names made safe ---- */

static void test_unsafe_names(void) {
  char dir[] = "/tmp/taskfs-view-XXXXXX";
  OK(mkdtemp(dir) != NULL, "mkdtemp");
  char *path = xasprintf("%s/db.sqlite", dir);
  struct store *st = fixture_open_at(path);

  /* The store refuses such a name; a plain SQL update cannot be
   * refused. */
  struct group g;
  group_init(&g);
  must(store_group_get(st, "backend_group_001", &g), st, "get");
  str_set(&g.name, "we/ird");
  INT_EQ(store_group_update(st, &g), ENG_INVALID);
  group_release(&g);
  sqlite3 *db;
  OK(sqlite3_open(path, &db) == SQLITE_OK, "sqlite3_open");
  char *err = NULL;
  int rc = sqlite3_exec(db,
                        "UPDATE task_groups SET name = 'we/ird'"
                        " WHERE id = 'backend_group_001'",
                        NULL, NULL, &err);
  OK(rc == SQLITE_OK, "update: %s", err ? err : "");
  sqlite3_free(err);
  sqlite3_close(db);

  struct vnode groups = node(VK_GROUPS, "s1", NULL);
  struct vnode v;
  vnode_init(&v);
  LIST_EQ(st, &groups, "frontend.md we_ird~c0b0d397.md");
  check_list_lookup(st, &groups);
  LOOKUP(st, &groups, "we_ird~c0b0d397.md", &v);
  INT_EQ(v.kind, VK_GROUP_MD);
  STR_EQ(v.record, "backend_group_001");
  name_path(st, &v, "we_ird~c0b0d397.md", "task_groups/we_ird~c0b0d397.md");
  INT_EQ(view_lookup(st, &groups, "we_ird.md", &v), ENG_NOTFOUND);
  INT_EQ(view_lookup(st, &groups, "we_ird~00000000.md", &v), ENG_NOTFOUND);
  /* The session file links to the same name. */
  struct vnode sf = node(VK_SESSION_MD, "s1", NULL);
  struct buf b = BUF_INIT;
  RC_OK(view_read(st, &sf, &b, NULL), st);
  OK(strstr(b.ptr, "](task_groups/we_ird~c0b0d397.md)") != NULL, "%s", b.ptr);
  vnode_release(&sf);
  /* Its error file carries the made name too. */
  put_draft(st, "group", "backend_group_001", "held\n");
  LIST_EQ(st, &groups,
          "frontend.md we_ird~c0b0d397.md we_ird~c0b0d397.error.md");
  check_list_lookup(st, &groups);
  LOOKUP(st, &groups, "we_ird~c0b0d397.error.md", &v);
  INT_EQ(v.kind, VK_ERROR_MD);
  STR_EQ(v.record, "backend_group_001");
  buf_truncate(&b, 0);
  RC_OK(view_read(st, &v, &b, NULL), st);
  OK(strstr(b.ptr, "task_groups/we_ird~c0b0d397.md could not be applied") !=
         NULL,
     "%s", b.ptr);

  /* A task id that is valid but no safe name, and a session likewise. */
  struct task t;
  task_init(&t);
  t.id = xstrdup("x.error");
  t.group_id = xstrdup("frontend_group_001");
  t.title = xstrdup("Odd id");
  must(store_task_insert(st, &t), st, "task x.error");
  task_release(&t);
  struct vnode planned = status_dir(STATUS_PLANNED);
  LIST_EQ(st, &planned, "t3.md x.error~45183653.md");
  check_list_lookup(st, &planned);
  LOOKUP(st, &planned, "x.error~45183653.md", &v);
  STR_EQ(v.record, "x.error");
  INT_EQ(view_lookup(st, &planned, "x.error.md", &v), ENG_NOTFOUND);

  struct session s;
  session_init(&s);
  s.id = xstrdup("a.conflict");
  s.title = xstrdup("Odd session");
  must(store_session_insert(st, &s), st, "session");
  session_release(&s);
  struct vnode root = node(VK_ROOT, NULL, NULL);
  LIST_EQ(st, &root, "s1 a.conflict~935bcdcc"); /* in creation order */
  check_list_lookup(st, &root);
  LOOKUP(st, &root, "a.conflict~935bcdcc", &v);
  STR_EQ(v.session, "a.conflict");
  INT_EQ(view_lookup(st, &root, "a.conflict", &v), ENG_NOTFOUND);

  buf_release(&b);
  vnode_release(&root);
  vnode_release(&planned);
  vnode_release(&v);
  vnode_release(&groups);
  store_close(st);
  static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
  for (size_t i = 0; i < 4; i++) {
    char *p = xasprintf("%s%s", path, suffixes[i]);
    unlink(p);
    free(p);
  }
  OK(rmdir(dir) == 0, "rmdir %s", dir);
  free(path);
}

/* A store that fails (a connection lost) is not a store without the
 * record: looking up an error or conflict file, and listing the folder
 * that has one, fail with the store's error instead of answering that
 * there is no such file. */
static int fails_get(struct store *st, int kind, const char *id, void *out) {
  (void)kind;
  (void)id;
  (void)out;
  return store_fail(st, ENG_DB, "lost the connection to the database");
}

static int fails_draft_get(struct store *st, const char *kind,
                           const char *record, struct draft *out) {
  (void)kind;
  (void)record;
  (void)out;
  return store_fail(st, ENG_DB, "lost the connection to the database");
}

static int fails_conflict_list(struct store *st, const char *session_id,
                               const char *file_kind, const char *file_record,
                               bool unresolved, struct conflict **out,
                               size_t *n) {
  (void)session_id;
  (void)file_kind;
  (void)file_record;
  (void)unresolved;
  *out = NULL;
  *n = 0;
  return store_fail(st, ENG_DB, "lost the connection to the database");
}

static void test_failure_is_not_absence(void) {
  struct store *st = fixture_open();
  put_draft(st, "group", "frontend_group_001", "held group text\n");
  struct vnode groups = node(VK_GROUPS, "s1", NULL);
  struct vnode v;
  vnode_init(&v);
  const struct store_ops *real = st->ops;
  struct store_ops failing = *real;
  failing.draft_get = fails_draft_get;
  failing.conflict_list = fails_conflict_list;
  st->ops = &failing;
  INT_EQ(view_lookup(st, &groups, "frontend.error.md", &v), ENG_DB);
  INT_EQ(view_lookup(st, &groups, "frontend.conflict.md", &v), ENG_DB);
  st->ops = real;
  LOOKUP(st, &groups, "frontend.error.md", &v);
  INT_EQ(view_lookup(st, &groups, "frontend.conflict.md", &v), ENG_NOTFOUND);

  /* The listing reads the drafts' records to place their error files. */
  failing = *real;
  failing.get = fails_get;
  st->ops = &failing;
  struct listing l = {.names = BUF_INIT};
  INT_EQ(view_list(st, &groups, collect, &l), ENG_DB);
  st->ops = real;
  listing_release(&l);
  LIST_EQ(st, &groups, "frontend.md backend.md frontend.error.md");
  vnode_release(&v);
  vnode_release(&groups);
  store_close(st);
}

int main(void) {
  test_fixed_dirs();
  test_groups_and_tasks();
  test_files();
  test_vnode_helpers();
  test_drafts();
  test_failure_is_not_absence();
  test_draft_of_deleted();
  test_unsafe_names();
  return harness_done("view");
}
