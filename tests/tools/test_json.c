/* SPDX-License-Identifier: MIT */
/* test_json.c: taskctl's JSON (tools/json.c) on a fixture database: every
 * field of the table with a JSON key, with its type, in its place; the
 * counts and names the tool adds; the export; the other lists; printing. */
#include "fixture.h"
#include "harness.h"
#include "json.h"
#include "store.h"
#include "util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/taskfs-test-json-XXXXXX";

/* Field i of rec in o: present, of the type its field type says, and the
 * value of its text form. */
static void check_field(int kind, const void *rec, int i, const json_t *o) {
  const struct record_field *f = &record_kinds[kind].fields[i];
  const json_t *v = json_object_get(o, f->json);
  OK(v != NULL, "%s: no key %s", record_kinds[kind].name, f->json);
  if (!v)
    return;
  char *text = record_field_text(kind, rec, i);
  switch (f->type) {
  case FT_TEXT:
  case FT_LINE:
  case FT_STATUS:
  case FT_PRIORITY:
  case FT_OWNER:
    OK(json_is_string(v) && str_eq(json_string_value(v), text), "%s.%s: %s",
       record_kinds[kind].name, f->json, text);
    break;
  case FT_OPT:
    OK(text ? json_is_string(v) && str_eq(json_string_value(v), text)
            : json_is_null(v),
       "%s.%s: %s", record_kinds[kind].name, f->json, text ? text : "null");
    break;
  case FT_INT:
  case FT_INT64:
    OK(json_is_integer(v) && json_integer_value(v) == strtoll(text, NULL, 10),
       "%s.%s: %s", record_kinds[kind].name, f->json, text);
    break;
  case FT_REAL:
    OK(json_is_real(v) && json_real_value(v) == strtod(text, NULL), "%s.%s: %s",
       record_kinds[kind].name, f->json, text);
    break;
  case FT_HOURS:
    OK(text ? json_is_real(v) && json_real_value(v) == strtod(text, NULL)
            : json_is_null(v),
       "%s.%s: %s", record_kinds[kind].name, f->json, text ? text : "null");
    break;
  case FT_BOOL:
    OK(json_is_boolean(v) && json_is_true(v) == (strcmp(text, "0") != 0),
       "%s.%s: %s", record_kinds[kind].name, f->json, text);
    break;
  case FT_LIST: {
    struct strlist l = {0};
    strlist_from_json(text, &l);
    bool same = json_is_array(v) && json_array_size(v) == l.n;
    for (size_t k = 0; same && k < l.n; k++)
      same = str_eq(json_string_value(json_array_get(v, k)), l.v[k]);
    OK(same, "%s.%s: %s", record_kinds[kind].name, f->json, text);
    strlist_clear(&l);
    break;
  }
  }
  free(text);
}

/* The place of a field's key: 0 the id, 1 what the record belongs to, 2
 * its versioned fields, 3 what the store keeps. */
static int rank_of(unsigned flags) {
  return flags & FIELD_KEY        ? 0
         : flags & FIELD_IDENTITY ? 1
         : flags & FIELD_STORE    ? 3
                                  : 2;
}

/* o is the JSON of rec: each field with a JSON key, and no other key but
 * those of extra, in the order of the key, the identity, the versioned
 * fields and the store's, with each extra key after its field. */
static void check_record(int kind, const void *rec, const json_t *o,
                         const char *const *extra) {
  const struct record_kind_desc *d = &record_kinds[kind];
  const char *want[64];
  size_t n = 0;
  for (int rank = 0; rank < 4; rank++) {
    for (int i = 0; i < d->nfields; i++) {
      const struct record_field *f = &d->fields[i];
      if (!f->json || rank_of(f->flags) != rank)
        continue;
      check_field(kind, rec, i, o);
      want[n++] = f->json;
      for (size_t k = 0; extra && extra[k]; k += 2)
        if (str_eq(extra[k], f->json))
          want[n++] = extra[k + 1];
    }
  }
  OK(json_is_object(o) && json_object_size(o) == n, "%s: %zu keys, want %zu",
     d->name, json_object_size(o), n);
  size_t i = 0;
  for (void *it = json_object_iter((json_t *)o); it && i < n;
       it = json_object_iter_next((json_t *)o, it), i++)
    OK(str_eq(json_object_iter_key(it), want[i]), "%s: key %zu is %s, not %s",
       d->name, i, json_object_iter_key(it), want[i]);
}

static int64_t int_of(const json_t *o, const char *key) {
  const json_t *v = json_object_get(o, key);
  OK(json_is_integer(v), "%s is no integer", key);
  return json_integer_value(v);
}

/* The fixture with sections, a deleted task, and a deleted group whose
 * task is live, for counts that leave out one and keep the other. */
static struct store *open_store(void) {
  struct store *st = fixture_open();
  RC_OK(store_begin(st), st);
  struct section x;
  section_init(&x);
  x.owner_kind = OWNER_SESSION;
  x.owner_id = xstrdup("s1");
  x.key = xstrdup("key_insights");
  x.heading = xstrdup("## Key Insights");
  x.body = xstrdup("\nFirst.\n");
  RC_OK(store_section_insert(st, &x), st);
  section_release(&x);
  section_init(&x);
  x.owner_kind = OWNER_TASK;
  x.owner_id = xstrdup("t2");
  x.key = xstrdup("notes");
  x.heading = xstrdup("## Notes");
  RC_OK(store_section_insert(st, &x), st);
  section_release(&x);
  struct task t;
  task_init(&t);
  RC_OK(store_task_get(st, "t4", &t), st);
  t.deleted = true;
  RC_OK(store_task_update(st, &t), st);
  task_release(&t);
  struct group g;
  group_init(&g);
  RC_OK(store_group_get(st, "backend_group_001", &g), st);
  g.deleted = true;
  RC_OK(store_group_update(st, &g), st);
  group_release(&g);
  RC_OK(store_commit(st), st);
  return st;
}

static void test_records(void) {
  struct store *st = open_store();
  json_t *v = NULL;

  struct session s;
  session_init(&s);
  RC_OK(store_session_get(st, "s1", &s), st);
  RC_OK(json_session(st, &s, &v), st);
  static const char *const session_extra[] = {
      "deleted", "groups", "deleted", "tasks", "deleted", "completed", NULL};
  check_record(RK_SESSION, &s, v, session_extra);
  /* The deleted group is no group, but its live task is a task. */
  INT_EQ(int_of(v, "groups"), 1);
  INT_EQ(int_of(v, "tasks"), 4);
  INT_EQ(int_of(v, "completed"), 1);
  json_decref(v);
  session_release(&s);

  struct group g;
  group_init(&g);
  RC_OK(store_group_get(st, "frontend_group_001", &g), st);
  RC_OK(json_group(st, &g, &v), st);
  static const char *const group_extra[] = {"deleted", "tasks", "deleted",
                                            "completed", NULL};
  check_record(RK_GROUP, &g, v, group_extra);
  INT_EQ(int_of(v, "tasks"), 3);
  INT_EQ(int_of(v, "completed"), 1);
  json_decref(v);
  RC_OK(store_group_get(st, "backend_group_001", &g), st);
  RC_OK(json_group(st, &g, &v), st);
  check_record(RK_GROUP, &g, v, group_extra);
  INT_EQ(int_of(v, "tasks"), 1);
  json_decref(v);
  group_release(&g);

  /* A task with lists and no actual effort: arrays and a null. */
  struct task t;
  task_init(&t);
  RC_OK(store_task_get(st, "t2", &t), st);
  strlist_add(&t.deliverables, "a \"b\"\nc");
  strlist_add(&t.dependencies, "t1");
  RC_OK(store_begin(st), st);
  RC_OK(store_task_update(st, &t), st);
  RC_OK(store_commit(st), st);
  task_release(&t);
  task_init(&t);
  RC_OK(store_task_get(st, "t2", &t), st);
  RC_OK(json_task(st, &t, &v), st);
  static const char *const task_extra[] = {"group", "group_name", NULL};
  check_record(RK_TASK, &t, v, task_extra);
  STR_EQ(json_string_value(json_object_get(v, "group_name")), "frontend");
  OK(json_is_null(json_object_get(v, "actual")), "no actual effort");
  json_decref(v);
  task_release(&t);

  RC_OK(json_record_get(st, RK_TASK, "t1", &v), st);
  STR_EQ(json_string_value(json_object_get(v, "id")), "t1");
  json_decref(v);
  INT_EQ(json_record_get(st, RK_GROUP, "nope", &v), ENG_NOTFOUND);
  store_close(st);
}

static void test_export(void) {
  struct store *st = open_store();
  json_t *v = NULL;
  RC_OK(json_export(st, &v), st);
  INT_EQ(int_of(v, "taskfs"), 1);
  INT_EQ(int_of(v, "revision"), store_revision(st));
  const json_t *sessions = json_object_get(v, "sessions");
  INT_EQ(json_array_size(sessions), 1);
  const json_t *s = json_array_get(sessions, 0);
  /* The lists stand where the counts of 'show' stand; sections last. */
  const json_t *groups = json_object_get(s, "groups");
  INT_EQ(json_array_size(groups), 2);
  INT_EQ(int_of(s, "tasks"), 4);
  void *last = json_object_iter_at((json_t *)s, "revision");
  STR_EQ(json_object_iter_key(json_object_iter_next((json_t *)s, last)),
         "sections");

  struct section *x = NULL;
  size_t n = 0;
  RC_OK(store_section_list(st, OWNER_SESSION, "s1", false, &x, &n), st);
  const json_t *sections = json_object_get(s, "sections");
  INT_EQ(json_array_size(sections), n);
  for (size_t i = 0; i < n && i < json_array_size(sections); i++)
    check_record(RK_SECTION, &x[i], json_array_get(sections, i), NULL);
  store_sections_free(x, n);

  const json_t *front = json_array_get(groups, 0);
  const json_t *tasks = json_object_get(front, "tasks");
  INT_EQ(json_array_size(tasks), 4); /* the deleted task too */
  INT_EQ(int_of(front, "completed"), 1);
  const json_t *t2 = json_array_get(tasks, 1);
  STR_EQ(json_string_value(json_object_get(t2, "id")), "t2");
  const json_t *t2_sections = json_object_get(t2, "sections");
  INT_EQ(json_array_size(t2_sections), 1);
  STR_EQ(json_string_value(
             json_object_get(json_array_get(t2_sections, 0), "owner_kind")),
         "task");
  OK(json_is_true(json_object_get(json_array_get(tasks, 3), "deleted")),
     "t4 is there, deleted");
  OK(json_is_true(json_object_get(json_array_get(groups, 1), "deleted")),
     "the backend group is there, deleted");
  json_decref(v);
  store_close(st);
}

static void test_lists(void) {
  struct store *st = open_store();
  json_t *v = NULL;
  RC_OK(json_tasks(st, "s1", -1, NULL, false, &v), st);
  INT_EQ(json_array_size(v), 3); /* not t4, nor t5 of the deleted group */
  json_decref(v);
  RC_OK(json_tasks(st, NULL, -1, NULL, true, &v), st);
  INT_EQ(json_array_size(v), 5);
  STR_EQ(json_string_value(json_object_get(json_array_get(v, 4), "group_name")),
         "backend");
  json_decref(v);
  RC_OK(json_groups(st, NULL, false, &v), st);
  INT_EQ(json_array_size(v), 1);
  json_decref(v);
  RC_OK(json_groups(st, "s1", true, &v), st);
  INT_EQ(json_array_size(v), 2);
  json_decref(v);
  RC_OK(json_sessions(st, &v), st);
  INT_EQ(json_array_size(v), 1);
  json_decref(v);
  store_close(st);
}

/* Conflicts, backups, the sync figures and the edit log: keys and types. */
static void test_other_lists(void) {
  struct store *st = open_store();
  json_t *v = NULL;
  struct conflict c;
  conflict_init(&c);
  c.session_id = "s1";
  c.file_kind = "group";
  c.file_record = "frontend_group_001";
  c.type = "progress_update";
  c.target_kind = "task";
  c.target_id = "t2";
  c.field = "progress";
  c.label = "Build layout `t2`";
  c.base_value = "60";
  c.db_value = "70";
  c.file_value = "80";
  RC_OK(store_conflict_add(st, &c), st);
  RC_OK(json_conflicts(st, NULL, true, &v), st);
  INT_EQ(json_array_size(v), 1);
  const json_t *x = json_array_get(v, 0);
  INT_EQ(int_of(x, "id"), c.id);
  INT_EQ(json_object_size(x), 20);
  STR_EQ(json_string_value(json_object_get(x, "target")), "t2");
  STR_EQ(json_string_value(json_object_get(x, "database")), "70");
  OK(json_is_null(json_object_get(x, "resolution")), "unresolved");
  json_decref(v);

  int64_t id;
  RC_OK(store_backup_add(st, "s1", "group", "frontend_group_001", "test",
                         "a\0b\xff", 4, &id),
        st);
  RC_OK(json_backups(st, "s1", &v), st);
  x = json_array_get(v, 0);
  INT_EQ(int_of(x, "size"), 4);
  /* The NUL kept, the stray byte made U+FFFD. */
  const json_t *text = json_object_get(x, "text");
  INT_EQ(json_string_length(text), 6);
  OK(memcmp(json_string_value(text), "a\0b\xef\xbf\xbd", 6) == 0, "text");
  OK(json_is_null(json_object_get(x, "field")), "a whole text");
  json_decref(v);

  const struct syncop op = {
      "save",  "tasks/active/t2.md", "s1", 1000000000, 1002000000, "held",
      "parse", "line 3: bad",        0,    0};
  RC_OK(store_syncop_add(st, &op), st);
  struct conflict *open = NULL;
  size_t n = 0;
  RC_OK(store_conflict_list(st, NULL, NULL, NULL, true, &open, &n), st);
  struct strlist files = {0};
  strlist_add(&files, "task_groups/frontend.conflict.md");
  RC_OK(json_sync_stats(st, NULL, open, n, &files, &v), st);
  OK(json_is_null(json_object_get(v, "session")), "all sessions");
  INT_EQ(int_of(v, "held"), 1);
  OK(json_is_real(json_object_get(v, "success_rate")), "a rate is real");
  INT_EQ(int_of(json_object_get(v, "errors_by_kind"), "parse"), 1);
  STR_EQ(json_string_value(json_object_get(
             json_array_get(json_object_get(v, "open_conflicts"), 0), "file")),
         "task_groups/frontend.conflict.md");
  x = json_array_get(json_object_get(v, "last_errors"), 0);
  STR_EQ(json_string_value(json_object_get(x, "at")),
         "1970-01-01 00:00:01.000");
  STR_EQ(json_string_value(json_object_get(x, "kind")), "parse");
  json_decref(v);
  strlist_clear(&files);
  store_conflicts_free(open, n);

  /* Old and new values as their columns keep them. */
  struct task t;
  task_init(&t);
  RC_OK(store_task_get(st, "t2", &t), st);
  t.progress = 70;
  t.estimate = 2.5;
  str_set(&t.title, "Layout");
  store_set_source(st, "taskfs");
  RC_OK(store_begin(st), st);
  RC_OK(store_task_update(st, &t), st);
  RC_OK(store_commit(st), st);
  task_release(&t);
  struct change *ch = NULL;
  size_t nch = 0;
  RC_OK(store_changes_recent(st, "s1", "taskfs", 0, &ch, &nch), st);
  v = json_edit_log(ch, nch);
  store_changes_free(ch, nch);
  INT_EQ(json_array_size(v), 3);
  for (size_t i = 0; i < json_array_size(v); i++) {
    x = json_array_get(v, i);
    const char *field = json_string_value(json_object_get(x, "field"));
    const json_t *old = json_object_get(x, "old"),
                 *new = json_object_get(x, "new");
    if (str_eq(field, "progress"))
      OK(json_integer_value(old) == 60 && json_integer_value(new) == 70,
         "progress");
    else if (str_eq(field, "estimate"))
      OK(json_is_real(old) && json_real_value(new) == 2.5, "estimate");
    else
      OK(str_eq(json_string_value(new), "Layout"), "%s", field);
    STR_EQ(json_string_value(json_object_get(x, "record_kind")), "task");
  }
  json_decref(v);
  store_close(st);
}

static void test_dbbackups(void) {
  char *db = xasprintf("%s/tasks.db", tmpdir);
  struct store *st = fixture_open_at(db);
  char *path = NULL;
  RC_OK(store_dbbackup_auto(st, "by-test", &path), st);
  json_t *v = NULL;
  RC_OK(json_dbbackups(db, &v), NULL);
  INT_EQ(json_array_size(v), 1);
  const json_t *x = json_array_get(v, 0);
  STR_EQ(json_string_value(json_object_get(x, "path")), path);
  STR_EQ(json_string_value(json_object_get(x, "reason")), "by-test");
  const char *time = json_string_value(json_object_get(x, "time"));
  OK(time && strlen(time) == 19 && time[10] == ' ', "%s", time);
  OK(int_of(x, "size") > 0, "size");
  json_decref(v);
  free(path);
  store_close(st);
  free(db);
}

/* What json_print writes for v. */
static char *printed(json_t *v) {
  FILE *f = tmpfile();
  int saved = dup(1);
  fflush(stdout);
  dup2(fileno(f), 1);
  json_print(v);
  fflush(stdout);
  dup2(saved, 1);
  close(saved);
  struct buf b = BUF_INIT;
  char chunk[256];
  size_t n;
  rewind(f);
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
    buf_add(&b, chunk, n);
  fclose(f);
  return buf_detach(&b, NULL);
}

static void test_print(void) {
  json_t *v = json_pack("{s:o,s:f,s:f,s:f,s:[]}", "s", json_str("\x1b\t\"é"),
                        "a", 0.1, "b", 1.0, "c", 1.0 / 3, "l");
  char *text = printed(v);
  STR_EQ(text, "{\"s\":\"\\u001b\\t\\\"\xc3\xa9\",\"a\":0.1,\"b\":1.0,"
               "\"c\":0.333333333333333,\"l\":[]}\n");
  free(text);
  v = json_str("ok \xc3\x28 \xed\xa0\x80");
  STR_EQ(json_string_value(v), "ok \xef\xbf\xbd( \xef\xbf\xbd\xef\xbf\xbd"
                               "\xef\xbf\xbd");
  json_decref(v);
  OK(json_is_null(v = json_str(NULL)), "NULL is null");
  json_decref(v);
}

int main(void) {
  json_setup();
  if (!mkdtemp(tmpdir))
    die("mkdtemp");
  test_records();
  test_export();
  test_lists();
  test_other_lists();
  test_dbbackups();
  test_print();
  char *cmd = xasprintf("rm -rf %s", tmpdir);
  if (system(cmd) != 0)
    fprintf(stderr, "could not remove %s\n", tmpdir);
  free(cmd);
  return harness_done("json");
}
