/* SPDX-License-Identifier: MIT */
/* test_folder_tree.c: the folder sync's view of the engine on the
 * fixture database: the names a manifest keeps for every kind of file
 * read back as the same file, the listing of the tree, which files a
 * change of the database can reach, the identity a text names, and
 * which new names may become records. */
#include "fixture.h"
#include "folder_tree.h"
#include "harness.h"
#include "util.h"

static void must(int rc, struct store *st, const char *what) {
  if (rc)
    die("%s: rc %d: %s", what, rc, store_errmsg(st));
}

static void roundtrip(const struct vnode *v) {
  struct buf w = BUF_INIT;
  tree_what(v, &w);
  OK(!strchr(w.ptr, '\n'), "one line: %s", w.ptr);
  struct vnode back;
  vnode_init(&back);
  OK(tree_from_what(w.ptr, &back), "read back '%s'", w.ptr);
  OK(vnode_eq(&back, v), "'%s' is the same file", w.ptr);
  vnode_release(&back);
  buf_release(&w);
}

static void test_what(struct store *st) {
  struct vnode root;
  vnode_init(&root);
  tree_root(NULL, &root);
  struct tree_item *items;
  size_t n;
  must(tree_list(st, &root, &items, &n), st, "tree_list");
  size_t files = 0;
  for (size_t i = 0; i < n; i++) {
    if (tree_is_dir(&items[i].v))
      continue;
    files++;
    roundtrip(&items[i].v);
    /* The path the listing gives is the path tree_path makes. */
    struct buf p = BUF_INIT;
    must(tree_path(st, &root, &items[i].v, &p), st, "tree_path");
    STR_EQ(p.ptr, items[i].path);
    buf_release(&p);
  }
  INT_EQ(files, 13); /* session, 2 groups, 5 tasks, 3 notes, 2 in meta */
  tree_items_free(items, n);

  /* Odd ids survive the manifest's spaces and escapes. */
  struct vnode odd;
  vnode_init(&odd);
  odd.kind = VK_CONFLICT_MD;
  odd.target = VK_TASK_MD;
  odd.status = STATUS_BLOCKED;
  odd.session = xstrdup("a session %20 - with spaces");
  odd.record = xstrdup("-");
  roundtrip(&odd);
  vnode_release(&odd);

  struct vnode bad;
  vnode_init(&bad);
  OK(!tree_from_what("group active", &bad), "too few words");
  OK(!tree_from_what("folder active decisions - s1 x", &bad), "no such kind");
  OK(!tree_from_what("task bogus decisions - s1 x", &bad), "no such status");
  vnode_release(&bad);

  /* One session's checkout lists paths within the session. */
  tree_root("s1", &root);
  must(tree_list(st, &root, &items, &n), st, "tree_list one");
  bool session_md = false;
  for (size_t i = 0; i < n; i++)
    session_md |= strcmp(items[i].path, "session.md") == 0;
  OK(session_md, "session.md at the top");
  tree_items_free(items, n);
  must(tree_dirs(st, &root, &items, &n), st, "tree_dirs");
  size_t takes = 0;
  for (size_t i = 0; i < n; i++) {
    OK(tree_is_dir(&items[i].v), "%s is a folder", items[i].path);
    takes += tree_takes_new(&items[i].v);
  }
  INT_EQ(takes, 1 + STATUS_COUNT);
  tree_items_free(items, n);
  vnode_release(&root);
}

static struct vnode task_file(const char *id, int status) {
  struct vnode v;
  vnode_init(&v);
  v.kind = VK_TASK_MD;
  v.status = status;
  v.session = xstrdup("s1");
  v.record = xstrdup(id);
  return v;
}

static void test_filter(struct store *st) {
  struct vnode t1 = task_file("t1", STATUS_ACTIVE);
  struct vnode t2 = task_file("t2", STATUS_PLANNED);
  struct vnode group;
  vnode_init(&group);
  group.kind = VK_GROUP_MD;
  group.session = xstrdup("s1");
  group.record = xstrdup("frontend_group_001");

  /* Nothing since now. */
  int64_t rev = store_revision(st);
  struct tree_filter flt;
  must(tree_filter_since(st, rev, &flt), st, "filter");
  OK(!flt.all && flt.ntasks == 0, "nothing changed");
  OK(!tree_filter_may_change(&flt, &t1), "t1 did not change");
  OK(tree_filter_may_change(&flt, &group), "group files are always read");
  tree_filter_release(&flt);

  /* A task changed: only its own file among the task files. */
  struct task t;
  task_init(&t);
  must(store_task_get(st, "t1", &t), st, "get t1");
  str_set(&t.title, "Renamed");
  must(store_task_update(st, &t), st, "update t1");
  task_release(&t);
  must(tree_filter_since(st, rev, &flt), st, "filter");
  OK(!flt.all && flt.ntasks == 1, "one task");
  OK(tree_filter_may_change(&flt, &t1), "t1 changed");
  OK(!tree_filter_may_change(&flt, &t2), "t2 did not");
  tree_filter_release(&flt);
  /* ... and the revision of t2's file did not move, that of t1's did. */
  int64_t r1 = 0, r2 = 0;
  must(tree_revision(st, &t1, &r1), st, "rev t1");
  must(tree_revision(st, &t2, &r2), st, "rev t2");
  OK(r1 > rev && r2 <= rev, "t1 %lld, t2 %lld, since %lld", (long long)r1,
     (long long)r2, (long long)rev);

  /* A group changed: every task file of it shows the group. */
  int64_t before = store_revision(st);
  struct group g;
  group_init(&g);
  must(store_group_get(st, "frontend_group_001", &g), st, "get group");
  str_set(&g.title, "Front end");
  must(store_group_update(st, &g), st, "update group");
  group_release(&g);
  must(tree_filter_since(st, before, &flt), st, "filter");
  OK(flt.all, "a group change reaches every task file");
  OK(tree_filter_may_change(&flt, &t2), "t2 may have changed");
  tree_filter_release(&flt);
  must(tree_revision(st, &t2, &r2), st, "rev t2");
  OK(r2 > before, "t2's file moved with its group");

  vnode_release(&t1);
  vnode_release(&t2);
  vnode_release(&group);
}

static void test_identity(void) {
  struct vnode g;
  vnode_init(&g);
  g.kind = VK_GROUP_MD;
  char *session, *record;
  const char *text = "---\ntaskfs: 1\nsession: s1\ngroup: frontend_group_001\n"
                     "revision: 3\n---\n\n# Frontend\n";
  tree_identity(text, strlen(text), &g, &session, &record);
  STR_EQ(session, "s1");
  STR_EQ(record, "frontend_group_001");
  free(session);
  free(record);
  text = "# A new group\n";
  tree_identity(text, strlen(text), &g, &session, &record);
  OK(!session && !record, "a new text names nothing");
  free(session);
  free(record);
  struct vnode t = task_file("x", STATUS_ACTIVE);
  text = "# Some task `t3`\n\n- **Group**: frontend\n";
  tree_identity(text, strlen(text), &t, &session, &record);
  STR_EQ(record, "t3");
  free(session);
  free(record);
  vnode_release(&t);
  vnode_release(&g);
}

static void test_candidates(void) {
  OK(tree_may_be_new("frontend.md"), "a markdown name");
  OK(tree_may_be_new("tmpa1b2c3.md"), "Python's temporary name: tried, "
                                      "and found to be a copy");
  OK(!tree_may_be_new(".frontend.md.swp"), "vim's swap file");
  OK(!tree_may_be_new("4913"), "vim's probe");
  OK(!tree_may_be_new("frontend.md~"), "a backup");
  OK(!tree_may_be_new(".#frontend.md"), "emacs' lock");
  OK(!tree_may_be_new("#frontend.md#"), "emacs' auto-save");
  OK(!tree_may_be_new("sedAb12Cd"), "sed's temporary file");
  OK(!tree_may_be_new(".frontend.md.Xy12Zq"), "rsync's temporary file");
  OK(!tree_may_be_new("frontend.md.1234567"), "write-file-atomic's");
  OK(!tree_may_be_new(".md"), "no stem");
}

int main(void) {
  struct store *st = fixture_open();
  test_what(st);
  test_filter(st);
  store_close(st);
  test_identity();
  test_candidates();
  return harness_done("folder_tree");
}
