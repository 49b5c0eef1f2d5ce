/* SPDX-License-Identifier: MIT */
/* test_render.c: every file kind rendered from the fixture database and
 * compared with tests/golden/ (times replaced by a placeholder), rendering
 * twice gives the same bytes, parse(render(db)) changes nothing through
 * sync_save for every editable file, and the forms that need escaping
 * (YAML values, table cells, deliverables over several lines).
 *
 * TASKFS_UPDATE_GOLDEN=1 writes the golden files instead of comparing. */
#include "fixture.h"
#include "harness.h"
#include "parse.h"
#include "load.h"
#include "render.h"
#include "report.h"
#include "store.h"
#include "sync.h"
#include "util.h"
#include "view.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#define TIME_PLACEHOLDER "YYYY-MM-DD HH:MM UTC"

static bool update_golden;

static void must(int rc, struct store *st, const char *what) {
  if (rc)
    die("%s: rc %d: %s", what, rc, store_errmsg(st));
}

/* ---- golden files ---- */

/* True when s starts with a displayed time "2025-06-01 14:30 UTC". */
static bool at_time(const char *s) {
  static const char form[] = "dddd-dd-dd dd:dd UTC";
  for (size_t i = 0; i < sizeof form - 1; i++) {
    if (form[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != form[i])
      return false;
  }
  return true;
}

/* True when s starts with a time to the second, "2025-06-01 14:30:05 UTC"
 * (the sync log's). */
static bool at_second(const char *s) {
  static const char form[] = "dddd-dd-dd dd:dd:dd UTC";
  for (size_t i = 0; i < sizeof form - 1; i++) {
    if (form[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != form[i])
      return false;
  }
  return true;
}

/* The length of a duration "12.34 ms" at s (0 when there is none). */
static size_t at_duration(const char *s) {
  size_t i = 0;
  while (isdigit((unsigned char)s[i]))
    i++;
  if (i == 0 || s[i] != '.' || !isdigit((unsigned char)s[i + 1]) ||
      !isdigit((unsigned char)s[i + 2]) || strncmp(s + i + 3, " ms", 3) != 0)
    return 0;
  return i + 6;
}

/* text with every displayed time and duration replaced by placeholders. */
static char *mask_times(const char *text) {
  struct buf b = BUF_INIT;
  for (const char *p = text; *p;) {
    size_t d;
    if (at_time(p)) {
      buf_adds(&b, TIME_PLACEHOLDER);
      p += sizeof TIME_PLACEHOLDER - 1;
    } else if (at_second(p)) {
      buf_adds(&b, "YYYY-MM-DD HH:MM:SS UTC");
      p += sizeof "YYYY-MM-DD HH:MM:SS UTC" - 1;
    } else if ((p == text || !isdigit((unsigned char)p[-1])) &&
               (d = at_duration(p))) {
      buf_adds(&b, "N.NN ms");
      p += d;
    } else {
      buf_addc(&b, *p++);
    }
  }
  return buf_detach(&b, NULL);
}

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  struct buf b = BUF_INIT;
  char chunk[4096];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
    buf_add(&b, chunk, n);
  fclose(f);
  return buf_detach(&b, len);
}

/* Compares text (times masked) with golden/<name>, or writes it there. */
static void golden(const char *name, const char *text) {
  char path[256];
  snprintf(path, sizeof path, "golden/%s", name);
  char *got = mask_times(text);
  if (update_golden) {
    FILE *f = fopen(path, "wb");
    OK(f != NULL, "cannot write %s: %s", path, strerror(errno));
    if (f) {
      fputs(got, f);
      OK(fclose(f) == 0, "write %s", path);
      printf("wrote %s\n", path);
    }
    free(got);
    return;
  }
  size_t len;
  char *want = slurp(path, &len);
  OK(want != NULL, "missing %s (run with TASKFS_UPDATE_GOLDEN=1)", path);
  if (want) {
    bool same = len == strlen(got) && memcmp(want, got, len) == 0;
    OK(same, "%s differs from the rendering", path);
    if (!same) {
      /* The first differing line, to find the change quickly. */
      const char *a = want, *b = got;
      int line = 1;
      while (*a && *a == *b) {
        if (*a == '\n')
          line++;
        a++;
        b++;
      }
      while (a > want && a[-1] != '\n')
        a--, b--;
      fprintf(stderr, "  line %d:\n  want: %.*s\n  got:  %.*s\n", line,
              (int)strcspn(a, "\n"), a, (int)strcspn(b, "\n"), b);
    }
  }
  free(want);
  free(got);
}

/* text with the first from replaced by to; the caller frees it. */
static char *edit(const char *text, const char *from, const char *to) {
  const char *p = strstr(text, from);
  if (!p)
    die("edit: '%s' not in text:\n%s", from, text);
  return xasprintf("%.*s%s%s", (int)(p - text), text, to, p + strlen(from));
}

static struct vnode file_of(int kind, const char *record, int status,
                            int notes) {
  struct vnode v;
  vnode_init(&v);
  v.kind = kind;
  v.session = xstrdup("s1");
  v.record = xstrdup(record);
  v.status = status;
  v.notes = notes;
  return v;
}

static char *read_view(struct store *st, const struct vnode *f) {
  struct buf b = BUF_INIT;
  must(view_read(st, f, &b, NULL), st, "view_read");
  return buf_detach(&b, NULL);
}

/* Every file kind of the fixture database. */
static void test_golden(void) {
  struct store *st = fixture_open();
  struct buf b = BUF_INIT;
  struct render_info info;

  RC_OK(load_render(st, DOC_GROUP, "frontend_group_001", 0, &b, &info), st);
  golden("group-frontend.md", b.ptr);
  buf_truncate(&b, 0);
  RC_OK(load_render(st, DOC_GROUP, "backend_group_001", 0, &b, &info), st);
  golden("group-backend.md", b.ptr);
  static const char *const tasks[] = {"t1", "t2", "t3", "t4", "t5"};
  for (size_t i = 0; i < 5; i++) {
    char name[32];
    snprintf(name, sizeof name, "task-%s.md", tasks[i]);
    buf_truncate(&b, 0);
    RC_OK(load_render(st, DOC_TASK, tasks[i], 0, &b, &info), st);
    golden(name, b.ptr);
  }
  buf_truncate(&b, 0);
  RC_OK(load_render(st, DOC_SESSION, "s1", 0, &b, &info), st);
  golden("session.md", b.ptr);
  for (int i = 0; i < NOTES_COUNT; i++) {
    char name[32];
    snprintf(name, sizeof name, "notes-%s.md", notes_names[i]);
    buf_truncate(&b, 0);
    RC_OK(load_render(st, DOC_NOTES, "s1", i, &b, &info), st);
    golden(name, b.ptr);
  }
  buf_truncate(&b, 0);
  RC_OK(report_sync_status(st, "s1", &b, &info), st);
  golden("sync_status.md", b.ptr);
  buf_truncate(&b, 0);
  RC_OK(report_edit_log(st, "s1", &b, &info), st);
  golden("edit_log.md", b.ptr);

  /* An edit through a file: the edit log shows it. */
  store_set_source(st, "taskfs");
  struct vnode f = file_of(VK_GROUP_MD, "frontend_group_001", 0, 0);
  char *text = read_view(st, &f);
  char *edited = edit(text, "- **Progress**: 60%", "- **Progress**: 70%");
  struct save_result r;
  save_result_init(&r);
  RC_OK(sync_save(st, &f, edited, strlen(edited), NULL, NULL, &r), st);
  INT_EQ(r.changes, 1);
  free(edited);
  free(text);
  buf_truncate(&b, 0);
  RC_OK(report_edit_log(st, "s1", &b, &info), st);
  golden("edit_log-after-save.md", b.ptr);

  /* A held save: sync status lists it and the error file explains. */
  text = read_view(st, &f);
  edited = edit(text, "- **Progress**: 10%", "- **Progress**: 140%");
  save_result_release(&r);
  save_result_init(&r);
  INT_EQ(sync_save(st, &f, edited, strlen(edited), NULL, NULL, &r), ENG_PARSE);
  INT_EQ(r.outcome, SAVE_HELD);
  free(edited);
  free(text);
  buf_truncate(&b, 0);
  RC_OK(report_sync_status(st, "s1", &b, &info), st);
  golden("sync_status-held.md", b.ptr);
  buf_truncate(&b, 0);
  RC_OK(report_error(st, "group", "frontend_group_001",
                     "task_groups/frontend.md", &b, &info),
        st);
  golden("error-frontend.md", b.ptr);
  INT_EQ(info.rev, 0);
  OK(info.mtime_ns > 0, "error file time %lld", (long long)info.mtime_ns);
  save_result_release(&r);
  vnode_release(&f);
  buf_release(&b);
  store_close(st);
}

/* The placeholder replacement itself. */
static void test_mask(void) {
  char *m = mask_times("a 2025-06-01 14:30 UTC b 2025-06-01 14:30 UTX "
                       "1999-12-31 23:59 UTC");
  STR_EQ(m, "a " TIME_PLACEHOLDER " b 2025-06-01 14:30 UTX " TIME_PLACEHOLDER);
  free(m);
}

/* ---- determinism ---- */

typedef int (*render_fn)(struct store *, const char *, struct buf *,
                         struct render_info *);

static int show_group(struct store *st, const char *id, struct buf *out,
                      struct render_info *info) {
  return load_render(st, DOC_GROUP, id, 0, out, info);
}

static int show_task(struct store *st, const char *id, struct buf *out,
                     struct render_info *info) {
  return load_render(st, DOC_TASK, id, 0, out, info);
}

static int show_session(struct store *st, const char *id, struct buf *out,
                        struct render_info *info) {
  return load_render(st, DOC_SESSION, id, 0, out, info);
}

static void twice(struct store *st, render_fn fn, const char *id) {
  struct buf a = BUF_INIT, b = BUF_INIT;
  struct render_info ia = {-1, -1}, ib = {-2, -2};
  RC_OK(fn(st, id, &a, &ia), st);
  RC_OK(fn(st, id, &b, &ib), st);
  OK(a.len == b.len && memcmp(a.ptr, b.ptr, a.len) == 0,
     "%s renders differently twice", id);
  OK(a.len > 0, "%s rendered nothing", id);
  INT_EQ(ia.rev, ib.rev);
  INT_EQ(ia.mtime_ns, ib.mtime_ns);
  buf_release(&a);
  buf_release(&b);
}

static void test_deterministic(void) {
  struct store *st = fixture_open();
  twice(st, show_group, "frontend_group_001");
  twice(st, show_group, "backend_group_001");
  twice(st, show_task, "t2");
  twice(st, show_session, "s1");
  twice(st, report_sync_status, "s1");
  twice(st, report_edit_log, "s1");
  for (int i = 0; i < NOTES_COUNT; i++) {
    struct buf a = BUF_INIT, b = BUF_INIT;
    RC_OK(load_render(st, DOC_NOTES, "s1", i, &a, NULL), st);
    RC_OK(load_render(st, DOC_NOTES, "s1", i, &b, NULL), st);
    OK(strcmp(a.ptr, b.ptr) == 0, "notes %d", i);
    buf_release(&a);
    buf_release(&b);
  }
  /* The revision in the front matter is the info revision, and the time
   * of that revision is known. */
  struct buf b = BUF_INIT;
  struct render_info info;
  RC_OK(load_render(st, DOC_GROUP, "frontend_group_001", 0, &b, &info), st);
  char want[64];
  snprintf(want, sizeof want, "\nrevision: %lld\n---\n", (long long)info.rev);
  OK(strstr(b.ptr, want) != NULL, "front matter revision %lld",
     (long long)info.rev);
  INT_EQ(info.rev, 7); /* the last of the fixture's frontend tasks */
  OK(info.mtime_ns > 0, "mtime %lld", (long long)info.mtime_ns);
  INT_EQ(info.mtime_ns, store_revision_time(st, info.rev));
  buf_release(&b);
  /* Unknown records. */
  INT_EQ(load_render(st, DOC_GROUP, "nope", 0, &b, NULL), ENG_NOTFOUND);
  INT_EQ(load_render(st, DOC_TASK, "nope", 0, &b, NULL), ENG_NOTFOUND);
  INT_EQ(load_render(st, DOC_SESSION, "nope", 0, &b, NULL), ENG_NOTFOUND);
  INT_EQ(load_render(st, DOC_NOTES, "s1", NOTES_COUNT, &b, NULL), ENG_NOTFOUND);
  INT_EQ(report_error(st, "group", "frontend_group_001", "x.md", &b, NULL),
         ENG_NOTFOUND);
  INT_EQ(b.len, 0);
  buf_release(&b);
  store_close(st);
}

/* ---- round trips ---- */

/* Saves the current text of f unchanged: applied, nothing changed, the
 * revision unchanged. */
static void unchanged_save(struct store *st, const struct vnode *f,
                           const char *what) {
  char *text = read_view(st, f);
  int64_t rev = store_revision(st);
  struct save_result r;
  save_result_init(&r);
  int rc = sync_save(st, f, text, strlen(text), NULL, NULL, &r);
  OK(rc == ENG_OK && r.outcome == SAVE_APPLIED, "%s: rc %d: %s", what, rc,
     r.report.ptr);
  OK(r.changes == 0, "%s: %d changes from an unchanged save", what, r.changes);
  OK(r.report.len == 0, "%s: report: %s", what, r.report.ptr);
  OK(store_revision(st) == rev, "%s: revision %lld -> %lld", what,
     (long long)rev, (long long)store_revision(st));
  /* Show what the save changed, to tell the bug at once. */
  struct change *ch;
  size_t n;
  if (store_revision(st) != rev &&
      store_changes_since(st, rev, NULL, 0, &ch, &n) == ENG_OK) {
    for (size_t i = 0; i < n; i++)
      fprintf(stderr, "  changed %s %s %s: \"%s\" -> \"%s\"\n", ch[i].table,
              ch[i].record, ch[i].field ? ch[i].field : ch[i].op,
              ch[i].old_value ? ch[i].old_value : "NULL",
              ch[i].new_value ? ch[i].new_value : "NULL");
    store_changes_free(ch, n);
  }
  if (rc == ENG_PARSE)
    sync_discard(st, f);
  save_result_release(&r);
  free(text);
}

/* Every editable file of the session. */
static void round_trip_all(struct store *st, const char *what) {
  char label[128];
  struct group *gs;
  size_t ng;
  must(store_group_list(st, "s1", false, &gs, &ng), st, "groups");
  for (size_t i = 0; i < ng; i++) {
    struct vnode f = file_of(VK_GROUP_MD, gs[i].id, 0, 0);
    snprintf(label, sizeof label, "%s: group %s", what, gs[i].id);
    unchanged_save(st, &f, label);
    vnode_release(&f);
  }
  store_groups_free(gs, ng);
  struct task *ts;
  size_t nt;
  must(store_task_list(st, "s1", -1, NULL, false, &ts, &nt), st, "tasks");
  for (size_t i = 0; i < nt; i++) {
    struct vnode f = file_of(VK_TASK_MD, ts[i].id, ts[i].status, 0);
    snprintf(label, sizeof label, "%s: task %s", what, ts[i].id);
    unchanged_save(st, &f, label);
    vnode_release(&f);
  }
  store_tasks_free(ts, nt);
  struct vnode f = file_of(VK_SESSION_MD, NULL, 0, 0);
  snprintf(label, sizeof label, "%s: session", what);
  unchanged_save(st, &f, label);
  vnode_release(&f);
  for (int i = 0; i < NOTES_COUNT; i++) {
    f = file_of(VK_NOTES_MD, NULL, 0, i);
    snprintf(label, sizeof label, "%s: notes %s", what, notes_names[i]);
    unchanged_save(st, &f, label);
    vnode_release(&f);
  }
}

static void add_section(struct store *st, int kind, const char *owner,
                        const char *key, const char *heading, const char *body,
                        double position) {
  struct section x;
  section_init(&x);
  x.owner_kind = kind;
  x.owner_id = xstrdup(owner);
  x.key = xstrdup(key);
  x.heading = xstrdup(heading);
  x.body = xstrdup(body);
  x.position = position;
  must(store_section_insert(st, &x), st, key);
  section_release(&x);
}

#define RICH_DESC                                                              \
  "Charts with **zoom**.\n\n#### Details\n\n```c\n# not a heading\n"           \
  "int x;  \n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n> quoted\n\n"           \
  "1. one\n2. two"

/* The fixture with every optional part filled, all within the grammar of
 * docs/format.md. */
static void make_rich(struct store *st) {
  struct task t;
  task_init(&t);
  must(store_task_get(st, "t3", &t), st, "t3");
  str_set(&t.title, "Charts | graphs `v2`");
  str_set(&t.description, RICH_DESC);
  strlist_add(&t.deliverables, "Line chart");
  strlist_add(&t.deliverables, "Bar chart\nwith legend\nand axis");
  strlist_add(&t.deliverables, "Para\n\nafter a blank line");
  strlist_add(&t.dependencies, "t1");
  strlist_add(&t.dependencies, "t2");
  t.actual = 2.5;
  t.estimate = 0.25;
  str_set(&t.specialist, "designer: charts");
  str_set(&t.current_status, "waiting on API\n\nsecond paragraph");
  must(store_task_update(st, &t), st, "t3");
  task_release(&t);
  task_init(&t);
  must(store_task_get(st, "t5", &t), st, "t5");
  str_set(&t.current_status, "one line\nand its continuation");
  t.priority = PRIORITY_CRITICAL;
  str_set(&t.specialist, "");
  t.estimate = NAN;
  must(store_task_update(st, &t), st, "t5");
  task_release(&t);

  struct group g;
  group_init(&g);
  must(store_group_get(st, "frontend_group_001", &g), st, "group");
  str_set(&g.title, "Front | End: #1");
  str_set(&g.description, "Group desc.\n\nSecond para with `code`.");
  str_set(&g.specialist, "designer");
  g.priority = PRIORITY_CRITICAL;
  must(store_group_update(st, &g), st, "group");
  group_release(&g);

  struct session s;
  session_init(&s);
  must(store_session_get(st, "s1", &s), st, "session");
  str_set(&s.title, "Plan: phase #1 | ok");
  str_set(&s.description, "Session desc.\n\n- a\n- b");
  must(store_session_update(st, &s), st, "session");
  session_release(&s);

  add_section(st, OWNER_GROUP, "frontend_group_001", "notes",
              "## \xf0\x9f\x93\x9d Notes",
              "\nCall Ana  \n\n| a | b |\n\n```\n## fenced\n```\n\n", 1);
  add_section(st, OWNER_GROUP, "frontend_group_001", "risks", "## Risks",
              "\n1. Scope creep\n", 2);
  add_section(st, OWNER_TASK, "t3", "notes", "## Notes", "\ntask note\n", 1);
  add_section(st, OWNER_SESSION, "s1", "key_insights",
              "## \xf0\x9f\x92\xa1 Key Insights", "\n- Ship early\n\n", 1);
  add_section(st, OWNER_SESSION, "s1", "notes/decisions", "",
              "\n- Use SQLite  \n\n## Sub\n\n```sh\n# not a heading\n```\n", 1);
}

static void test_round_trip(void) {
  struct store *st = fixture_open();
  round_trip_all(st, "fixture");
  store_close(st);

  st = fixture_open();
  make_rich(st);
  round_trip_all(st, "rich");

  /* parse(render(x)) gives x back exactly, field by field. */
  struct buf b = BUF_INIT;
  RC_OK(load_render(st, DOC_GROUP, "frontend_group_001", 0, &b, NULL), st);
  struct doc d;
  parse_doc(b.ptr, b.len, DOC_GROUP, &d);
  INT_EQ(d.diags.n, 0);
  STR_EQ(d.title, "Front | End: #1");
  INT_EQ(d.priority, PRIORITY_CRITICAL);
  STR_EQ(d.specialist, "designer");
  STR_EQ(d.description, "Group desc.\n\nSecond para with `code`.");
  INT_EQ(d.nsections, 2);
  if (d.nsections == 2) {
    STR_EQ(d.sections[0].heading, "## \xf0\x9f\x93\x9d Notes");
    STR_EQ(d.sections[0].body,
           "\nCall Ana  \n\n| a | b |\n\n```\n## fenced\n```\n\n");
    STR_EQ(d.sections[1].key, "risks");
    STR_EQ(d.sections[1].body, "\n1. Scope creep\n");
  }
  const struct ptask *t3 = NULL;
  for (size_t i = 0; i < d.ntasks; i++)
    if (str_eq(d.tasks[i].id, "t3"))
      t3 = &d.tasks[i];
  OK(t3 != NULL, "t3 block");
  if (t3) {
    STR_EQ(t3->title, "Charts | graphs `v2`");
    STR_EQ(t3->table_title, "Charts | graphs `v2`");
    INT_EQ(t3->section_status, STATUS_PLANNED);
    INT_EQ(t3->table_status, STATUS_PLANNED);
    INT_EQ(t3->status, STATUS_PLANNED);
    INT_EQ(t3->checkbox, 0);
    INT_EQ(t3->progress, 0);
    INT_EQ(t3->table_progress, 0);
    INT_EQ(t3->priority, PRIORITY_HIGH);
    STR_EQ(t3->specialist, "designer: charts");
    OK(t3->estimate == 0.25 && t3->actual == 2.5, "effort %g %g", t3->estimate,
       t3->actual);
    INT_EQ(t3->dependencies.n, 2);
    STR_EQ(t3->description, RICH_DESC);
    INT_EQ(t3->deliverables.n, 3);
    if (t3->deliverables.n == 3) {
      STR_EQ(t3->deliverables.v[0], "Line chart");
      STR_EQ(t3->deliverables.v[1], "Bar chart\nwith legend\nand axis");
      STR_EQ(t3->deliverables.v[2], "Para\n\nafter a blank line");
    }
    STR_EQ(t3->current_status, "waiting on API\n\nsecond paragraph");
  }
  doc_release(&d);
  buf_truncate(&b, 0);
  RC_OK(load_render(st, DOC_TASK, "t5", 0, &b, NULL), st);
  parse_doc(b.ptr, b.len, DOC_TASK, &d);
  INT_EQ(d.diags.n, 0);
  INT_EQ(d.ntasks, 1);
  if (d.ntasks == 1) {
    STR_EQ(d.tasks[0].current_status, "one line\nand its continuation");
    INT_EQ(d.tasks[0].priority, PRIORITY_CRITICAL);
    OK(!d.tasks[0].has_specialist && !d.tasks[0].has_estimate,
       "unset fields not written");
    STR_EQ(d.tasks[0].group_name, "backend");
  }
  doc_release(&d);
  buf_release(&b);
  store_close(st);
}

static char *with_line(struct store *st, const struct vnode *f,
                       const char *line) {
  char *text = read_view(st, f);
  char *out = xasprintf("%s%s", text, line);
  free(text);
  return out;
}

static bool section_live(struct store *st, const char *key) {
  struct section x;
  section_init(&x);
  bool live = store_section_get(st, OWNER_SESSION, "s1", key, &x) == ENG_OK &&
              !x.deleted;
  section_release(&x);
  return live;
}

/* Saving one notes file leaves the other notes files and the session's
 * own sections alone, however often it is saved. */
static void test_notes_keep_other_sections(void) {
  struct store *st = fixture_open();
  struct vnode n0 = file_of(VK_NOTES_MD, NULL, 0, 0);
  struct vnode n1 = file_of(VK_NOTES_MD, NULL, 0, 1);
  struct vnode sf = file_of(VK_SESSION_MD, NULL, 0, 0);
  struct save_result r;
  save_result_init(&r);
  char *t = with_line(st, &n0, "- decision one\n");
  RC_OK(sync_save(st, &n0, t, strlen(t), NULL, NULL, &r), st);
  free(t);
  char *s = read_view(st, &sf);
  t = edit(s, "## \xf0\x9f\x92\xa1 Key Insights\n", "## Risks\n\nScope.\n");
  RC_OK(sync_save(st, &sf, t, strlen(t), NULL, NULL, &r), st);
  free(t);
  free(s);
  t = with_line(st, &n1, "- learned\n");
  RC_OK(sync_save(st, &n1, t, strlen(t), NULL, NULL, &r), st);
  free(t);
  OK(section_live(st, "notes/decisions"), "decisions after one save");
  OK(section_live(st, "risks"), "risks after one save");
  /* The same notes file edited again. */
  t = with_line(st, &n1, "- learned more\n");
  save_result_release(&r);
  save_result_init(&r);
  RC_OK(sync_save(st, &n1, t, strlen(t), NULL, NULL, &r), st);
  free(t);
  INT_EQ(r.changes, 1);
  OK(section_live(st, "notes/learnings"), "learnings");
  OK(section_live(st, "notes/decisions"),
     "saving notes/learnings.md deleted notes/decisions");
  OK(section_live(st, "risks"),
     "saving notes/learnings.md deleted the session section Risks");
  t = read_view(st, &n0);
  OK(str_ends(t, "\n- decision one\n"), "decisions reads:\n%s", t);
  free(t);
  save_result_release(&r);
  vnode_release(&n0);
  vnode_release(&n1);
  vnode_release(&sf);
  store_close(st);
}

/* Values the renderer writes that the grammar reads back differently: an
 * unchanged save must still change nothing. */
static void test_round_trip_edges(void) {
  struct store *st = fixture_open();
  struct vnode gf = file_of(VK_GROUP_MD, "frontend_group_001", 0, 0);
  struct vnode sf = file_of(VK_SESSION_MD, NULL, 0, 0);

  /* A title ending in '#': "# Release #" reads as "Release" (the closing
   * sequence of an ATX heading). */
  struct group g;
  group_init(&g);
  must(store_group_get(st, "frontend_group_001", &g), st, "group");
  str_set(&g.title, "Release #");
  must(store_group_update(st, &g), st, "group");
  group_release(&g);
  unchanged_save(st, &gf, "group title ending in #");
  group_init(&g);
  must(store_group_get(st, "frontend_group_001", &g), st, "group");
  STR_EQ(g.title, "Release #");
  group_release(&g);
  struct session s;
  session_init(&s);
  must(store_session_get(st, "s1", &s), st, "session");
  str_set(&s.title, "C# tools ##");
  must(store_session_update(st, &s), st, "session");
  session_release(&s);
  unchanged_save(st, &sf, "session title ending in ##");

  /* Efforts with more than two decimals (from SQL or JSON) are shown
   * rounded; saving the shown value must not overwrite the stored one. */
  struct task t;
  task_init(&t);
  must(store_task_get(st, "t2", &t), st, "t2");
  t.estimate = 1.005;
  t.actual = 0.001;
  must(store_task_update(st, &t), st, "t2");
  task_release(&t);
  struct vnode tf = file_of(VK_TASK_MD, "t2", STATUS_ACTIVE, 0);
  unchanged_save(st, &tf, "estimate 1.005h");
  task_init(&t);
  must(store_task_get(st, "t2", &t), st, "t2");
  OK(t.estimate == 1.005 && t.actual == 0.001, "efforts now %g and %g",
     t.estimate, t.actual);
  task_release(&t);
  vnode_release(&tf);

  /* A description whose first line looks like a field. */
  task_init(&t);
  must(store_task_get(st, "t3", &t), st, "t3");
  str_set(&t.description, "- Status: waiting for review\n- Owner: Ana");
  must(store_task_update(st, &t), st, "t3");
  task_release(&t);
  tf = file_of(VK_TASK_MD, "t3", STATUS_PLANNED, 0);
  unchanged_save(st, &tf, "description starting with '- Status: ...'");
  vnode_release(&tf);

  /* A description with a level-3 heading, in the task file and in the
   * group file. */
  task_init(&t);
  must(store_task_get(st, "t4", &t), st, "t4");
  str_set(&t.description, "First part.\n\n### Background\n\nMore text.");
  must(store_task_update(st, &t), st, "t4");
  task_release(&t);
  tf = file_of(VK_TASK_MD, "t4", STATUS_BLOCKED, 0);
  unchanged_save(st, &tf, "description with ### heading (task file)");
  vnode_release(&tf);
  /* Put it back: the task file save above may have cut it. */
  task_init(&t);
  must(store_task_get(st, "t4", &t), st, "t4");
  str_set(&t.description, "First part.\n\n### Background\n\nMore text.");
  must(store_task_update(st, &t), st, "t4");
  task_release(&t);
  task_init(&t);
  must(store_task_get(st, "t3", &t), st, "t3");
  str_set(&t.description, "Plain.");
  must(store_task_update(st, &t), st, "t3");
  task_release(&t);
  unchanged_save(st, &gf, "description with ### heading (group file)");
  struct task *ts;
  size_t nt;
  must(store_task_list_group(st, "frontend_group_001", false, &ts, &nt), st,
       "list");
  INT_EQ(nt, 4); /* no task made of the heading */
  store_tasks_free(ts, nt);

  vnode_release(&gf);
  vnode_release(&sf);
  store_close(st);
}

/* ---- escaping ---- */

static void test_yaml_quoting(void) {
  struct store *st = fixture_open();
  /* Valid ids that YAML would read as something else unquoted. */
  struct session s;
  session_init(&s);
  s.id = xstrdup("-");
  s.title = xstrdup("Plan: phase #1 | ok");
  must(store_session_insert(st, &s), st, "session -");
  session_release(&s);
  struct group g;
  group_init(&g);
  g.id = xstrdup("---");
  g.session_id = xstrdup("-");
  g.name = xstrdup("g: #1");
  g.title = xstrdup("Group: #1");
  must(store_group_insert(st, &g), st, "group ---");
  group_release(&g);
  struct task t;
  task_init(&t);
  t.id = xstrdup("...x");
  t.group_id = xstrdup("---");
  t.title = xstrdup("Task: #1");
  int rc = store_task_insert(st, &t);
  INT_EQ(rc, ENG_INVALID); /* a leading '.' is no id */
  str_set(&t.id, "-x-");
  must(store_task_insert(st, &t), st, "task -x-");
  task_release(&t);

  struct buf b = BUF_INIT;
  struct doc d;
  RC_OK(load_render(st, DOC_SESSION, "-", 0, &b, NULL), st);
  OK(strstr(b.ptr, "\nsession: '-'\n") != NULL, "quoted session id:\n%s",
     b.ptr);
  parse_doc(b.ptr, b.len, DOC_SESSION, &d);
  INT_EQ(d.diags.errors, 0);
  STR_EQ(d.session, "-");
  STR_EQ(d.title, "Plan: phase #1 | ok");
  OK(d.revision > 0, "revision %lld", (long long)d.revision);
  doc_release(&d);
  buf_truncate(&b, 0);
  RC_OK(load_render(st, DOC_GROUP, "---", 0, &b, NULL), st);
  OK(strstr(b.ptr, "\ngroup: '---'\n") != NULL, "quoted group id:\n%s", b.ptr);
  parse_doc(b.ptr, b.len, DOC_GROUP, &d);
  INT_EQ(d.diags.errors, 0);
  INT_EQ(d.kind, DOC_GROUP);
  STR_EQ(d.session, "-");
  STR_EQ(d.group, "---");
  STR_EQ(d.title, "Group: #1");
  INT_EQ(d.ntasks, 1);
  doc_release(&d);
  buf_truncate(&b, 0);
  RC_OK(load_render(st, DOC_TASK, "-x-", 0, &b, NULL), st);
  parse_doc(b.ptr, b.len, DOC_TASK, &d);
  INT_EQ(d.diags.errors, 0);
  STR_EQ(d.task, "-x-");
  STR_EQ(d.session, "-");
  if (d.ntasks == 1) {
    STR_EQ(d.tasks[0].title, "Task: #1");
    STR_EQ(d.tasks[0].id, "-x-");
    STR_EQ(d.tasks[0].group_name, "g: #1");
  }
  doc_release(&d);

  /* The error file's front matter carries a path with ': #'. */
  buf_truncate(&b, 0);
  struct draft dr = {.kind = "group",
                     .record = "---",
                     .text = "x",
                     .len = 1,
                     .diagnostics = "line 1: error: test"};
  RC_OK(store_draft_put(st, &dr), st);
  RC_OK(report_error(st, "group", "---", "task_groups/g: #1.md", &b, NULL), st);
  parse_doc(b.ptr, b.len, DOC_GROUP, &d);
  INT_EQ(d.diags.errors, 1); /* a generated, read-only file */
  OK(d.diags.n > 0 &&
         strstr(d.diags.v[0].msg, "(error: task_groups/g: #1.md)") != NULL,
     "path read back: %s", d.diags.n ? d.diags.v[0].msg : "");
  doc_release(&d);
  RC_OK(store_draft_delete(st, "group", "---"), st);

  /* And every file of that session saves back unchanged. */
  struct vnode f;
  vnode_init(&f);
  f.kind = VK_SESSION_MD;
  f.session = xstrdup("-");
  unchanged_save(st, &f, "session '-'");
  f.kind = VK_GROUP_MD;
  f.record = xstrdup("---");
  unchanged_save(st, &f, "group '---'");
  f.kind = VK_TASK_MD;
  str_set(&f.record, "-x-");
  f.status = STATUS_PLANNED;
  unchanged_save(st, &f, "task '-x-'");
  vnode_release(&f);
  buf_release(&b);
  store_close(st);
}

static void test_escaping(void) {
  struct store *st = fixture_open();
  make_rich(st);
  struct buf b = BUF_INIT;
  RC_OK(load_render(st, DOC_GROUP, "frontend_group_001", 0, &b, NULL), st);
  /* '|' in a table cell is escaped, not in a heading. */
  OK(strstr(b.ptr, "\n| `t3` | Charts \\| graphs `v2` | planned | 0% |\n") !=
         NULL,
     "overview row:\n%s", b.ptr);
  OK(strstr(b.ptr, "\n### Charts | graphs `v2` `t3`\n") != NULL,
     "task heading");
  OK(strstr(b.ptr, "\n# Front | End: #1\n") != NULL, "group title");
  /* Deliverables over several lines: continuation lines indented by two
   * spaces, a blank line inside an item kept in the item. */
  OK(strstr(b.ptr, "\n**Deliverables**:\n\n- Line chart\n- Bar chart\n"
                   "  with legend\n  and axis\n- Para\n  \n"
                   "  after a blank line\n\n**Current status**: ") != NULL,
     "deliverables:\n%s", b.ptr);
  OK(strstr(b.ptr, "- **Depends on**: `t1`, `t2`\n") != NULL, "deps");
  OK(strstr(b.ptr, "- **Estimate**: 0.25h\n- **Actual**: 2.5h\n") != NULL,
     "efforts");
  OK(strstr(b.ptr, "- **Specialist focus**: designer\n") != NULL,
     "specialist focus");
  buf_truncate(&b, 0);
  RC_OK(load_render(st, DOC_SESSION, "s1", 0, &b, NULL), st);
  OK(strstr(b.ptr, "\n| [Front \\| End: #1](task_groups/frontend.md) | ") !=
         NULL,
     "group row:\n%s", b.ptr);
  OK(strstr(b.ptr, "\n# Plan: phase #1 | ok\n") != NULL, "session title");
  buf_truncate(&b, 0);
  RC_OK(load_render(st, DOC_NOTES, "s1", 0, &b, NULL), st);
  OK(str_ends(b.ptr, "\n# \xf0\x9f\xa7\xad Decisions\n\n- Use SQLite  \n\n"
                     "## Sub\n\n```sh\n# not a heading\n```\n"),
     "notes body verbatim:\n%s", b.ptr);
  buf_release(&b);

  /* Line breaks in one-line values become spaces. */
  struct task t;
  task_init(&t);
  t.title = xstrdup("One");
  t.id = xstrdup("x1");
  t.status = STATUS_ACTIVE;
  t.progress = 5;
  t.priority = PRIORITY_LOW;
  t.specialist = xstrdup("two\nlines");
  strlist_add(&t.dependencies, "a");
  render_task_body(&b, &t, "grp");
  STR_EQ(b.ptr, "- [ ] **Status**: active\n- **Group**: grp\n"
                "- **Progress**: 5%\n- **Priority**: low\n"
                "- **Specialist**: two lines\n- **Depends on**: `a`\n");
  task_release(&t);
  buf_release(&b);

  /* The front matter itself. */
  render_front_matter(&b, "s1", "group", "g1", 12);
  STR_EQ(b.ptr, "---\ntaskfs: 1\nsession: s1\ngroup: g1\nrevision: 12\n---\n");
  buf_truncate(&b, 0);
  render_front_matter(&b, NULL, "error", "a: #b", -1);
  STR_EQ(b.ptr, "---\ntaskfs: 1\nerror: 'a: #b'\n---\n");
  buf_release(&b);
  store_close(st);
}

/* Free text that opens a code or HTML block and never closes it: each
 * part is rendered so that the block opens nothing (its line escaped),
 * the structure after it stays, and the text reads back exactly. */
#define OPEN_FENCE "Intro.\n\n```\ncode\n## not a section"
#define OPEN_HTML "<!-- a comment\n### not a task"
#define CLOSED_THEN_OPEN "```sh\n# kept\n```\n\n\\```\n<pre>\n# x\n\n~~~\n## y"

static void test_unclosed_blocks(void) {
  struct store *st = fixture_open();
  struct task t;
  task_init(&t);
  must(store_task_get(st, "t3", &t), st, "t3");
  str_set(&t.description, OPEN_FENCE);
  strlist_add(&t.deliverables, "```\nopen in an item");
  strlist_add(&t.deliverables, "<div>\nafter");
  str_set(&t.current_status, "```\nstatus code");
  must(store_task_update(st, &t), st, "t3");
  task_release(&t);
  task_init(&t);
  must(store_task_get(st, "t4", &t), st, "t4");
  str_set(&t.description, OPEN_HTML);
  str_set(&t.current_status, "waiting\n<pre>\n## z");
  must(store_task_update(st, &t), st, "t4");
  task_release(&t);
  struct group g;
  group_init(&g);
  must(store_group_get(st, "frontend_group_001", &g), st, "group");
  str_set(&g.description, CLOSED_THEN_OPEN);
  must(store_group_update(st, &g), st, "group");
  group_release(&g);
  struct session s;
  session_init(&s);
  must(store_session_get(st, "s1", &s), st, "session");
  str_set(&s.description, "  ```\n  in the list item\n```\nopen");
  must(store_session_update(st, &s), st, "session");
  session_release(&s);
  add_section(st, OWNER_GROUP, "frontend_group_001", "notes", "## Notes",
              "\n```\nopen\n", 1);
  add_section(st, OWNER_GROUP, "frontend_group_001", "html", "## Html",
              "\n<div>\n", 2);
  add_section(st, OWNER_GROUP, "frontend_group_001", "last", "## Last",
              "\n```\nopen at the end\n", 3);
  add_section(st, OWNER_TASK, "t3", "log", "## Log", "\n<!--\nopen\n", 1);
  task_init(&t);
  must(store_task_get(st, "t1", &t), st, "t1");
  str_set(&t.current_status, "    indented code\nmore");
  must(store_task_update(st, &t), st, "t1");
  task_release(&t);
  add_section(st, OWNER_TASK, "t3", "more", "## More", "\nafter\n", 2);

  struct buf b = BUF_INIT;
  RC_OK(load_render(st, DOC_GROUP, "frontend_group_001", 0, &b, NULL), st);
  OK(strstr(b.ptr, "\n\n```sh\n# kept\n```\n\n\\\\```\n\\<pre>\n\\# x\n\n"
                   "\\~~~\n\\## y\n\n## ") != NULL,
     "group description:\n%s", b.ptr);
  OK(strstr(b.ptr, "\nIntro.\n\n\\```\ncode\n\\## not a section\n\n") != NULL,
     "task description");
  OK(strstr(b.ptr, "\n\\<!-- a comment\n\\### not a task\n\n") != NULL,
     "html comment");
  OK(strstr(b.ptr, "\n- ```\n  open in an item\n- <div>\n  after\n") != NULL,
     "deliverables: an item closes its blocks");
  OK(strstr(b.ptr, "\n**Current status**:\n\n\\```\nstatus code\n") != NULL,
     "current status below its label");
  OK(strstr(b.ptr, "\n**Current status**: waiting\n\\<pre>\n\\## z\n") != NULL,
     "current status on its label line");
  OK(strstr(b.ptr, "\n**Current status**:\n\n    indented code\nmore\n") !=
         NULL,
     "an indented current status below its label");
  OK(strstr(b.ptr, "\n## Notes\n\n\\```\nopen\n## Html\n\n\\<div>\n"
                   "## Last\n\n```\nopen at the end\n") != NULL,
     "sections: the last one is as stored:\n%s", b.ptr);

  /* Everything reads back as stored, in the same blocks. */
  struct doc d;
  parse_doc(b.ptr, b.len, DOC_GROUP, &d);
  INT_EQ(d.diags.n, 0);
  INT_EQ(d.ntasks, 4);
  STR_EQ(d.description, CLOSED_THEN_OPEN);
  INT_EQ(d.nsections, 3);
  if (d.nsections == 3) {
    STR_EQ(d.sections[0].body, "\n```\nopen\n");
    STR_EQ(d.sections[1].body, "\n<div>\n");
    STR_EQ(d.sections[2].body, "\n```\nopen at the end\n");
  }
  for (size_t i = 0; i < d.ntasks; i++) {
    const struct ptask *p = &d.tasks[i];
    if (str_eq(p->id, "t3")) {
      STR_EQ(p->description, OPEN_FENCE);
      STR_EQ(p->current_status, "```\nstatus code");
      INT_EQ(p->deliverables.n, 2);
      if (p->deliverables.n == 2) {
        STR_EQ(p->deliverables.v[0], "```\nopen in an item");
        STR_EQ(p->deliverables.v[1], "<div>\nafter");
      }
    } else if (str_eq(p->id, "t1")) {
      STR_EQ(p->current_status, "    indented code\nmore");
    } else if (str_eq(p->id, "t4")) {
      STR_EQ(p->description, OPEN_HTML);
      STR_EQ(p->current_status, "waiting\n<pre>\n## z");
    }
  }
  doc_release(&d);
  buf_truncate(&b, 0);
  RC_OK(load_render(st, DOC_TASK, "t3", 0, &b, NULL), st);
  OK(strstr(b.ptr, "\n## Log\n\n\\<!--\nopen\n## More\n\nafter\n") != NULL,
     "task sections:\n%s", b.ptr);
  parse_doc(b.ptr, b.len, DOC_TASK, &d);
  INT_EQ(d.diags.n, 0);
  if (d.ntasks == 1) {
    INT_EQ(d.tasks[0].nsections, 2);
    if (d.tasks[0].nsections == 2)
      STR_EQ(d.tasks[0].sections[0].body, "\n<!--\nopen\n");
  }
  doc_release(&d);
  buf_truncate(&b, 0);
  RC_OK(load_render(st, DOC_SESSION, "s1", 0, &b, NULL), st);
  /* A fence in the list item that the description continues is closed by
   * the item; the one after it is not. */
  OK(strstr(b.ptr, "\n\n  ```\n  in the list item\n\\```\nopen\n\n## ") != NULL,
     "session description:\n%s", b.ptr);
  parse_doc(b.ptr, b.len, DOC_SESSION, &d);
  INT_EQ(d.diags.n, 0);
  STR_EQ(d.description, "  ```\n  in the list item\n```\nopen");
  doc_release(&d);
  buf_release(&b);

  round_trip_all(st, "unclosed blocks");
  store_close(st);
}

/* The chart block of session.md: between its fences. */
static char *chart_lines(const char *text, const char *kind) {
  char open[32];
  snprintf(open, sizeof open, "```mermaid\n%s", kind);
  const char *s = strstr(text, open);
  if (!s)
    return xstrdup("");
  const char *e = strstr(s + 3, "\n```\n");
  return xstrndup(s, e ? (size_t)(e - s) + 5 : strlen(s));
}

static void test_status_chart(void) {
  struct store *st = fixture_open();
  struct buf b = BUF_INIT;
  RC_OK(load_render(st, DOC_SESSION, "s1", 0, &b, NULL), st);
  /* Exact counts, statuses without tasks left out. */
  char *pie = chart_lines(b.ptr, "pie");
  STR_EQ(pie, "```mermaid\npie showData\n    title Tasks by status\n"
              "    \"Active\" : 2\n    \"Blocked\" : 1\n"
              "    \"Planned\" : 1\n    \"Completed\" : 1\n```\n");
  free(pie);
  char *bars = chart_lines(b.ptr, "xychart-beta");
  OK(strstr(bars, "\n    x-axis [\"Frontend\", \"Backend\"]\n") != NULL,
     "group labels:\n%s", bars);
  OK(strstr(bars, "\n    bar [25, 0]\n") != NULL, "completed shares:\n%s",
     bars);
  free(bars);
  /* After the metrics, before the groups. */
  const char *metrics = strstr(b.ptr, "\n## \xf0\x9f\x93\x8a Metrics\n");
  const char *chart = strstr(b.ptr, "\n## \xf0\x9f\x93\x88 Status Chart\n");
  const char *groups = strstr(b.ptr, "\n## \xf0\x9f\x8e\xaf Task Groups\n");
  OK(metrics && chart && groups && metrics < chart && chart < groups,
     "section order:\n%s", b.ptr);

  /* Quotes, line breaks and Mermaid's own marks in a group title cannot
   * end a label or the chart. */
  struct group g;
  group_init(&g);
  must(store_group_get(st, "frontend_group_001", &g), st, "group");
  str_set(&g.title, "Say \"hi\"\n#1: 100% `done`\r\t\xc3\xa9");
  must(store_group_update(st, &g), st, "group title");
  group_release(&g);
  struct task t;
  task_init(&t);
  must(store_task_get(st, "t5", &t), st, "t5");
  t.status = STATUS_COMPLETED;
  must(store_task_update(st, &t), st, "t5");
  task_release(&t);
  buf_truncate(&b, 0);
  RC_OK(load_render(st, DOC_SESSION, "s1", 0, &b, NULL), st);
  bars = chart_lines(b.ptr, "xychart-beta");
  OK(strstr(bars, "\n    x-axis [\"Say #34;hi#34; #35;1: 100#37; #96;done#96;"
                  "  \xc3\xa9\", \"Backend\"]\n") != NULL,
     "escaped label:\n%s", bars);
  OK(strstr(bars, "\n    bar [25, 100]\n") != NULL, "shares:\n%s", bars);
  free(bars);
  pie = chart_lines(b.ptr, "pie");
  OK(strstr(pie, "\"Active\" : 1\n") && strstr(pie, "\"Completed\" : 2\n"),
     "counts follow the database:\n%s", pie);
  free(pie);
  /* The chart is generated: it parses as such, and the file saves back
   * unchanged. */
  struct doc d;
  parse_doc(b.ptr, b.len, DOC_SESSION, &d);
  INT_EQ(d.diags.n, 0);
  bool found = false;
  for (size_t i = 0; i < d.ngenerated; i++)
    found |= strstr(d.generated[i].name, "Status Chart") != NULL;
  OK(found, "the chart section is a generated part");
  for (size_t i = 0; i < d.nsections; i++)
    OK(strstr(d.sections[i].body, "mermaid") == NULL, "section %s",
       d.sections[i].heading);
  doc_release(&d);
  struct vnode f;
  vnode_init(&f);
  f.kind = VK_SESSION_MD;
  f.session = xstrdup("s1");
  unchanged_save(st, &f, "session with a chart");
  vnode_release(&f);
  buf_release(&b);
  store_close(st);

  /* A session without tasks has no chart to draw. */
  st = fixture_open();
  struct session s;
  session_init(&s);
  s.id = xstrdup("empty");
  s.title = xstrdup("Empty");
  must(store_session_insert(st, &s), st, "session");
  session_release(&s);
  RC_OK(load_render(st, DOC_SESSION, "empty", 0, &b, NULL), st);
  OK(strstr(b.ptr, " Status Chart\n\n_No tasks yet._\n") != NULL,
     "no chart:\n%s", b.ptr);
  OK(strstr(b.ptr, "```mermaid") == NULL, "no mermaid block");
  buf_release(&b);
  store_close(st);
}

int main(void) {
  const char *u = getenv("TASKFS_UPDATE_GOLDEN");
  update_golden = u && strcmp(u, "1") == 0;
  test_mask();
  test_golden();
  test_deterministic();
  test_round_trip();
  test_notes_keep_other_sections();
  test_round_trip_edges();
  test_yaml_quoting();
  test_escaping();
  test_unclosed_blocks();
  test_status_chart();
  return harness_done("render");
}
