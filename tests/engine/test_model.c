/* SPDX-License-Identifier: MIT */
/* test_model.c: the value forms of model.h (status, priority, effort,
 * progress, times, words), field-wise task comparison and copy, and the
 * ids and file names of names.h. */
#include "harness.h"
#include "model.h"
#include "names.h"
#include "util.h"

#include <math.h>
#include <stdlib.h>

/* ---- words, status, priority ---- */

static void words(const char *in, size_t size, const char *want) {
  char out[128];
  words_normalize(in, out, size);
  OK(strcmp(out, want) == 0,
     "words_normalize(\"%s\", %zu): got \"%s\", "
     "want \"%s\"",
     in, size, out, want);
}

static void test_words(void) {
  words("## \xe2\x9c\x85 Completed Tasks", 128, "completed tasks");
  words("  Hello,   World!! ", 128, "hello world");
  words("a_b-c\td", 128, "a b c d");
  words("**Deliverables**:", 128, "deliverables");
  words("In Progress (3)", 128, "in progress 3");
  words("", 128, "");
  words("\xf0\x9f\x94\x84", 128, "");
  words("ABC", 128, "abc");
  /* Truncated to the size, NUL included. */
  words("abcdef", 4, "abc");
  words("abcdef", 1, "");
  /* Truncation never leaves a dangling space: "one space between
   * words". */
  words("ab cd", 4, "ab");
}

static void test_status(void) {
  static const struct {
    const char *in;
    int want;
  } cases[] = {
      {"active", STATUS_ACTIVE},
      {"Active", STATUS_ACTIVE},
      {"ACTIVE", STATUS_ACTIVE},
      {"in progress", STATUS_ACTIVE},
      {"In-Progress", STATUS_ACTIVE},
      {"in_progress", STATUS_ACTIVE},
      {"inprogress", STATUS_ACTIVE},
      {"started", STATUS_ACTIVE},
      {"doing", STATUS_ACTIVE},
      {"\xf0\x9f\x94\x84 Active", STATUS_ACTIVE},
      {"**active**", STATUS_ACTIVE},
      {"  active.  ", STATUS_ACTIVE},
      {"blocked", STATUS_BLOCKED},
      {"\xf0\x9f\x9a\xab Blocked", STATUS_BLOCKED},
      {"planned", STATUS_PLANNED},
      {"todo", STATUS_PLANNED},
      {"To Do", STATUS_PLANNED},
      {"to-do", STATUS_PLANNED},
      {"pending", STATUS_PLANNED},
      {"completed", STATUS_COMPLETED},
      {"complete", STATUS_COMPLETED},
      {"Done", STATUS_COMPLETED},
      {"DONE", STATUS_COMPLETED},
      {"\xe2\x9c\x85 Completed", STATUS_COMPLETED},
      {"", -1},
      {"sleeping", -1},
      {"activ", -1},
      {"active now", -1},
      {"completed tasks", -1},
      {"not done", -1},
      {"\xf0\x9f\x94\x84", -1},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int got = status_parse(cases[i].in);
    OK(got == cases[i].want, "status_parse(\"%s\") = %d, want %d", cases[i].in,
       got, cases[i].want);
  }
  INT_EQ(status_parse(NULL), -1);

  static const char *const names[] = {"active", "blocked", "planned",
                                      "completed"};
  static const char *const titles[] = {"Active", "Blocked", "Planned",
                                       "Completed"};
  static const char *const emojis[] = {"\xf0\x9f\x94\x84", "\xf0\x9f\x9a\xab",
                                       "\xf0\x9f\x93\x8b", "\xe2\x9c\x85"};
  for (int s = 0; s < STATUS_COUNT; s++) {
    STR_EQ(status_name(s), names[s]);
    STR_EQ(status_title(s), titles[s]);
    STR_EQ(status_emoji(s), emojis[s]);
    /* Every written form reads back. */
    INT_EQ(status_parse(status_name(s)), s);
    INT_EQ(status_parse(status_title(s)), s);
  }
  STR_EQ(status_name(-1), "?");
  STR_EQ(status_name(STATUS_COUNT), "?");
  STR_EQ(status_title(STATUS_COUNT), "?");
  STR_EQ(status_emoji(-1), "");

  OK(session_status_valid("active"), "active");
  OK(session_status_valid("paused"), "paused");
  OK(session_status_valid("completed"), "completed");
  OK(session_status_valid("archived"), "archived");
  OK(!session_status_valid("Active"), "case matters for stored words");
  OK(!session_status_valid("blocked"), "blocked is no session status");
  OK(!session_status_valid(""), "empty");
  OK(!session_status_valid(NULL), "NULL");
  INT_EQ(session_statuses[4] == NULL, 1);
}

static void test_priority(void) {
  static const struct {
    const char *in;
    int want;
  } cases[] = {
      {"low", PRIORITY_LOW},
      {"LOW", PRIORITY_LOW},
      {" low ", PRIORITY_LOW},
      {"medium", PRIORITY_MEDIUM},
      {"Normal", PRIORITY_MEDIUM},
      {"high", PRIORITY_HIGH},
      {"High!", PRIORITY_HIGH},
      {"critical", PRIORITY_CRITICAL},
      {"\xf0\x9f\x94\xa5 Critical", PRIORITY_CRITICAL},
      {"", -1},
      {"urgent", -1},
      {"hi", -1},
      {"very high", -1},
      {"3", -1},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int got = priority_parse(cases[i].in);
    OK(got == cases[i].want, "priority_parse(\"%s\") = %d, want %d",
       cases[i].in, got, cases[i].want);
  }
  INT_EQ(priority_parse(NULL), -1);
  static const char *const names[] = {"low", "medium", "high", "critical"};
  static const char *const titles[] = {"Low", "Medium", "High", "Critical"};
  for (int p = 0; p < PRIORITY_COUNT; p++) {
    STR_EQ(priority_name(p), names[p]);
    STR_EQ(priority_title(p), titles[p]);
    INT_EQ(priority_parse(priority_title(p)), p);
  }
  STR_EQ(priority_name(PRIORITY_COUNT), "?");
  STR_EQ(priority_title(-1), "?");
}

/* ---- effort, progress, time ---- */

static void effort_ok(const char *in, double want) {
  double h = -99;
  bool ok = effort_parse(in, &h);
  OK(ok && ((isnan(want) && isnan(h)) || fabs(h - want) < 1e-9),
     "effort_parse(\"%s\"): ok %d, %g, want %g", in, ok, h, want);
}

static void effort_bad(const char *in) {
  double h = 12345;
  bool ok = effort_parse(in, &h);
  OK(!ok, "effort_parse(\"%s\") accepted as %g", in, h);
}

static void effort_trip(const char *in, const char *want) {
  double h;
  char out[32] = "unset";
  OK(effort_parse(in, &h), "effort_parse(\"%s\")", in);
  effort_format(h, out);
  OK(strcmp(out, want) == 0, "format(parse(\"%s\")) = \"%s\", want \"%s\"", in,
     out, want);
}

static void effort_fmt(double h, const char *want) {
  char out[32] = "unset";
  effort_format(h, out);
  OK(strcmp(out, want) == 0, "effort_format(%g) = \"%s\", want \"%s\"", h, out,
     want);
}

static void test_effort(void) {
  effort_trip("4h", "4h");
  effort_trip("1.5h", "1.5h");
  effort_trip("90m", "1.5h");
  effort_trip("1h30m", "1.5h");
  effort_trip("0.25h", "0.25h");
  effort_trip("4", "4h");
  effort_trip("", "");

  effort_ok("4 h", 4);
  effort_ok(" 4h ", 4);
  effort_ok("1H30M", 1.5);
  effort_ok("1h 30m", 1.5);
  effort_ok("20m", 0.33);
  effort_ok("0", 0);
  effort_ok(".5h", 0.5);
  effort_ok("", NAN);
  effort_ok("  ", NAN);
  effort_ok("-", NAN);
  effort_ok("\xe2\x80\x94", NAN);

  effort_bad("-3h");
  effort_bad("abc");
  effort_bad("4x");
  effort_bad("h");
  effort_bad("4 hours");
  effort_bad("1h 2");
  effort_bad("1.5.5h");
  effort_bad("inf");
  effort_bad("nan");
  effort_bad("--");
  /* Only decimal numbers are durations: strtod's hexadecimal and
   * exponent forms are "anything else". */
  effort_bad("0x10h");
  effort_bad("1e2h");
  effort_ok("1000000h", 1000000);
  effort_bad("1000000.5h");
  effort_bad("88888888888888888888888888888888888888888888888888888888884h");

  effort_fmt(NAN, "");
  effort_fmt(0, "0h");
  /* Values the store refuses still format within the buffer. */
  effort_fmt(8.9e82, "8.9e+82h");
  effort_fmt(1e28, "1e+28h");
  effort_fmt(4, "4h");
  effort_fmt(10, "10h");
  effort_fmt(100, "100h");
  effort_fmt(1.5, "1.5h");
  effort_fmt(0.25, "0.25h");
  effort_fmt(1.0 / 3.0, "0.33h");
  effort_fmt(2.999, "3h");
  effort_fmt(12.5, "12.5h");
}

static void progress(const char *in, int want_rc, int want) {
  int v = -7;
  int rc = progress_parse(in, &v);
  OK(rc == want_rc && (rc != 0 || v == want),
     "progress_parse(\"%s\"): rc %d value %d, want rc %d value %d", in, rc, v,
     want_rc, want);
}

static void test_progress(void) {
  progress("0", 0, 0);
  progress("100", 0, 100);
  progress("60%", 0, 60);
  progress("60 %", 0, 60);
  progress(" 60% ", 0, 60);
  progress("007", 0, 7);
  progress("abc%", -1, 0);
  progress("140%", -2, 0);
  progress("101", -2, 0);
  progress("99999999999999999999%", -2, 0);
  progress("", -1, 0);
  progress("%", -1, 0);
  progress("-5%", -1, 0);
  progress("60.5%", -1, 0);
  progress("6 0", -1, 0);
  progress("60%%", -1, 0);
  progress("60% done", -1, 0);
}

static void test_time_display(void) {
  char out[32] = "unset";
  time_display("2025-06-01 14:30:59.123", out);
  STR_EQ(out, "2025-06-01 14:30 UTC");
  time_display("2025-06-01 14:30", out);
  STR_EQ(out, "2025-06-01 14:30 UTC");
  strcpy(out, "unset");
  time_display(NULL, out);
  STR_EQ(out, "");
  strcpy(out, "unset");
  time_display("2025-06-01", out);
  STR_EQ(out, "");
}

/* ---- strlist, fields ---- */

static void test_strlist(void) {
  struct strlist a = {0}, b = {0};
  OK(strlist_eq(&a, &b), "empty lists equal");
  strlist_add(&a, "x");
  strlist_add(&a, "y");
  INT_EQ(a.n, 2);
  STR_EQ(a.v[0], "x");
  STR_EQ(a.v[1], "y");
  OK(!strlist_eq(&a, &b), "different lengths");
  strlist_copy(&b, &a);
  OK(strlist_eq(&a, &b), "copied");
  OK(a.v[0] != b.v[0], "deep copy");
  free(b.v[1]);
  b.v[1] = xstrdup("z");
  OK(!strlist_eq(&a, &b), "different item");
  strlist_clear(&a);
  OK(a.n == 0 && a.v == NULL && a.cap == 0, "cleared");
  strlist_clear(&b);
}

/* Two tasks that differ in every versioned field. */
static void make_tasks(struct task *a, struct task *b) {
  task_init(a);
  task_init(b);
  a->id = xstrdup("t1");
  b->id = xstrdup("t1");
  a->session_id = xstrdup("s1");
  b->session_id = xstrdup("s2");
  a->group_id = xstrdup("g1");
  b->group_id = xstrdup("g2");
  a->title = xstrdup("A");
  b->title = xstrdup("B");
  a->description = xstrdup("desc a");
  b->description = NULL;
  a->status = STATUS_ACTIVE;
  b->status = STATUS_BLOCKED;
  a->progress = 10;
  b->progress = 20;
  a->priority = PRIORITY_LOW;
  b->priority = PRIORITY_HIGH;
  a->specialist = xstrdup("x");
  b->specialist = xstrdup("y");
  a->estimate = NAN;
  b->estimate = 4;
  a->actual = 1.5;
  b->actual = NAN;
  a->started_at = xstrdup("2025-01-01 00:00:00.000");
  b->started_at = NULL;
  a->completed_at = NULL;
  b->completed_at = xstrdup("2025-01-02 00:00:00.000");
  strlist_add(&a->dependencies, "t2");
  strlist_add(&b->dependencies, "t3");
  strlist_add(&b->dependencies, "t4");
  strlist_add(&a->deliverables, "one\ntwo");
  a->current_status = xstrdup("");
  b->current_status = xstrdup("waiting");
  a->position = 1;
  b->position = 2.5;
  a->deleted = false;
  b->deleted = true;
}

static void test_task_fields(void) {
  INT_EQ(record_field_index(RK_TASK, "group_id"), TF_GROUP);
  INT_EQ(record_field_index(RK_TASK, "deliverables"), TF_DELIVERABLES);
  INT_EQ(record_field_index(RK_TASK, "deleted"), TF_DELETED);
  INT_EQ(record_field_index(RK_TASK, "nope"), -1);
  /* Every field but the versioned ones comes after them. */
  INT_EQ(record_kinds[RK_TASK].nversioned, TF_COUNT);
  INT_EQ(record_field_index(RK_TASK, "id"), TF_ID);
  INT_EQ(record_kind_parse("section"), RK_SECTION);
  INT_EQ(record_kind_parse("tasks"), -1);
  INT_EQ(record_field_index(RK_GROUP, "specialist"), GF_SPECIALIST);
  INT_EQ(record_field_index(RK_SESSION, "mode"), SF_MODE);
  INT_EQ(record_field_index(RK_SECTION, "body"), XF_BODY);

  struct task a, b;
  make_tasks(&a, &b);
  for (int f = 0; f < TF_COUNT; f++) {
    OK(!task_field_eq(&a, &b, f), "field %s equal before copy",
       record_kinds[RK_TASK].fields[f].name);
    OK(task_field_eq(&a, &a, f), "field %s not equal to itself",
       record_kinds[RK_TASK].fields[f].name);
  }
  /* Copy one field at a time: it becomes equal, the later ones do not. */
  for (int f = 0; f < TF_COUNT; f++) {
    record_field_copy(RK_TASK, &a, &b, f);
    OK(task_field_eq(&a, &b, f), "field %s after copy",
       record_kinds[RK_TASK].fields[f].name);
    for (int g = f + 1; g < TF_COUNT; g++)
      OK(!task_field_eq(&a, &b, g), "copy of %s changed %s",
         record_kinds[RK_TASK].fields[f].name,
         record_kinds[RK_TASK].fields[g].name);
    if (f == TF_GROUP)
      STR_EQ(a.session_id, "s2"); /* the group carries its session */
  }
  /* The copies are deep and NULLs and NANs are copied as such. */
  OK(a.description == NULL, "NULL description copied");
  OK(a.started_at == NULL, "NULL started copied");
  OK(isnan(a.actual), "NAN actual copied");
  OK(a.estimate == 4, "estimate copied");
  OK(a.title != b.title && a.dependencies.v != b.dependencies.v, "deep copy");
  INT_EQ(a.dependencies.n, 2);
  INT_EQ(a.deliverables.n, 0);
  INT_EQ(a.deleted, 1);
  free(b.title);
  b.title = xstrdup("changed");
  STR_EQ(a.title, "B");
  STR_EQ(a.id, "t1");
  task_release(&a);
  task_release(&b);

  /* Equality details: NAN equals NAN only; NULL equals only NULL; lists
   * compare by items in order. */
  make_tasks(&a, &b);
  record_field_copy(RK_TASK, &a, &b, TF_ESTIMATE);
  b.estimate = NAN;
  a.estimate = NAN;
  OK(task_field_eq(&a, &b, TF_ESTIMATE), "NAN == NAN");
  a.estimate = 0;
  OK(!task_field_eq(&a, &b, TF_ESTIMATE), "0 != NAN");
  str_set(&a.description, "");
  OK(!task_field_eq(&a, &b, TF_DESCRIPTION), "\"\" != NULL");
  strlist_clear(&a.dependencies);
  strlist_add(&a.dependencies, "t4");
  strlist_add(&a.dependencies, "t3");
  OK(!task_field_eq(&a, &b, TF_DEPS), "order of dependencies counts");

  /* task_copy is deep and whole. */
  struct task c;
  task_init(&c);
  task_copy(&c, &b);
  for (int f = 0; f < TF_COUNT; f++)
    OK(task_field_eq(&c, &b, f), "task_copy field %s",
       record_kinds[RK_TASK].fields[f].name);
  STR_EQ(c.id, "t1");
  OK(c.title != b.title && c.dependencies.v != b.dependencies.v,
     "task_copy deep");
  task_release(&c);
  /* Released records are initialised again. */
  OK(c.id == NULL && isnan(c.estimate) && c.status == STATUS_PLANNED &&
         c.priority == PRIORITY_MEDIUM && c.dependencies.n == 0,
     "released task is initialised");
  task_release(&a);
  task_release(&b);
}

static void test_group_session_fields(void) {
  struct group a, b;
  group_init(&a);
  group_init(&b);
  INT_EQ(a.status, STATUS_PLANNED);
  INT_EQ(a.priority, PRIORITY_MEDIUM);
  a.name = xstrdup("a");
  b.name = xstrdup("b");
  a.title = xstrdup("A");
  b.title = xstrdup("B");
  a.description = xstrdup("x");
  a.status = STATUS_ACTIVE;
  a.priority = PRIORITY_HIGH;
  b.specialist = xstrdup("s");
  b.position = 3;
  b.deleted = true;
  for (int f = 0; f < GF_COUNT; f++)
    OK(!group_field_eq(&a, &b, f), "group field %s equal",
       record_kinds[RK_GROUP].fields[f].name);
  for (int f = 0; f < GF_COUNT; f++) {
    record_field_copy(RK_GROUP, &a, &b, f);
    OK(group_field_eq(&a, &b, f), "group field %s after copy",
       record_kinds[RK_GROUP].fields[f].name);
    for (int g = f + 1; g < GF_COUNT; g++)
      OK(!group_field_eq(&a, &b, g), "group copy of %s changed %s",
         record_kinds[RK_GROUP].fields[f].name,
         record_kinds[RK_GROUP].fields[g].name);
  }
  group_release(&a);
  group_release(&b);

  struct session s, t;
  session_init(&s);
  session_init(&t);
  s.title = xstrdup("S");
  t.title = xstrdup("T");
  s.status = xstrdup("active");
  t.status = xstrdup("paused");
  t.mode = xstrdup("dev");
  s.description = xstrdup("d");
  t.deleted = true;
  for (int f = 0; f < SF_COUNT; f++)
    OK(!session_field_eq(&s, &t, f), "session field %s equal",
       record_kinds[RK_SESSION].fields[f].name);
  for (int f = 0; f < SF_COUNT; f++) {
    record_field_copy(RK_SESSION, &s, &t, f);
    OK(session_field_eq(&s, &t, f), "session field %s after copy",
       record_kinds[RK_SESSION].fields[f].name);
    for (int g = f + 1; g < SF_COUNT; g++)
      OK(!session_field_eq(&s, &t, g), "session copy of %s changed %s",
         record_kinds[RK_SESSION].fields[f].name,
         record_kinds[RK_SESSION].fields[g].name);
  }
  OK(s.mode != t.mode, "deep");
  session_release(&s);
  session_release(&t);

  STR_EQ(owner_kind_name(OWNER_SESSION), "session");
  STR_EQ(owner_kind_name(OWNER_GROUP), "group");
  STR_EQ(owner_kind_name(OWNER_TASK), "task");
  STR_EQ(owner_kind_name(7), "?");
  INT_EQ(owner_kind_parse("task"), OWNER_TASK);
  INT_EQ(owner_kind_parse("group"), OWNER_GROUP);
  INT_EQ(owner_kind_parse("session"), OWNER_SESSION);
  INT_EQ(owner_kind_parse("Task"), -1);
  INT_EQ(owner_kind_parse(NULL), -1);
}

static void test_set_status(void) {
  struct task t;
  task_init(&t);
  t.progress = 40;
  task_set_status(&t, STATUS_ACTIVE);
  INT_EQ(t.status, STATUS_ACTIVE);
  INT_EQ(t.progress, 40);
  task_set_status(&t, STATUS_BLOCKED);
  INT_EQ(t.status, STATUS_BLOCKED);
  INT_EQ(t.progress, 40);
  task_set_status(&t, STATUS_COMPLETED);
  INT_EQ(t.status, STATUS_COMPLETED);
  INT_EQ(t.progress, 100);
  task_set_status(&t, STATUS_PLANNED);
  INT_EQ(t.status, STATUS_PLANNED);
  INT_EQ(t.progress, 100); /* leaving completed keeps the progress */
  task_release(&t);
}

/* ---- names ---- */

static void test_ids(void) {
  char max[122];
  memset(max, 'a', 120);
  max[120] = '\0';
  OK(id_is_valid("t1"), "t1");
  OK(id_is_valid("a.b-c_D9"), "punctuation");
  OK(id_is_valid("-"), "dash");
  OK(id_is_valid(max), "120 bytes");
  max[120] = 'a';
  max[121] = '\0';
  OK(!id_is_valid(max), "121 bytes");
  OK(!id_is_valid(""), "empty");
  OK(!id_is_valid(NULL), "NULL");
  OK(!id_is_valid(".x"), "leading dot");
  OK(!id_is_valid("a b"), "space");
  OK(!id_is_valid("a/b"), "slash");
  OK(!id_is_valid("a~b"), "tilde");
  OK(!id_is_valid("caf\xc3\xa9"), "non-ASCII");
}

static void test_name_is_safe(void) {
  char n200[202];
  memset(n200, 'n', 200);
  n200[200] = '\0';
  OK(name_is_safe("frontend"), "plain");
  OK(name_is_safe("Front End v2.0"), "spaces and dots inside");
  OK(name_is_safe("caf\xc3\xa9"), "UTF-8");
  OK(name_is_safe("party \xf0\x9f\x8e\x89"), "emoji");
  OK(name_is_safe("x.error.md"), "only the stems are reserved");
  OK(name_is_safe("x.errors"), "x.errors");
  OK(name_is_safe(n200), "200 bytes");
  n200[200] = 'n';
  n200[201] = '\0';
  OK(!name_is_safe(n200), "201 bytes");
  /* 100 two-byte characters are 200 bytes: fine. */
  struct buf b = BUF_INIT;
  for (int i = 0; i < 100; i++)
    buf_adds(&b, "\xc3\xa9");
  OK(name_is_safe(b.ptr), "200 bytes of UTF-8");
  buf_adds(&b, "x");
  OK(!name_is_safe(b.ptr), "201 bytes of UTF-8");
  buf_release(&b);

  static const char *const bad[] = {
      "",
      ".",
      "..",
      ".hidden",
      "a/b",
      "/",
      "a\\b",
      "a\x01"
      "b",
      "tab\there",
      "new\nline",
      "del\x7f",
      " lead",
      "trail ",
      "x.conflict",
      "x.error",
      ".conflict",
      "\xff",
      "caf\xc3",          /* truncated sequence */
      "\xc0\xaf",         /* overlong '/' */
      "\xed\xa0\x80",     /* surrogate */
      "\xf4\x90\x80\x80", /* beyond U+10FFFF */
      "\x80",             /* lone continuation byte */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    OK(!name_is_safe(bad[i]), "unsafe name %zu accepted", i);
  OK(!name_is_safe(NULL), "NULL");

  OK(utf8_valid("", 0), "empty");
  OK(utf8_valid("a\xc3\xa9\xe2\x82\xac\xf0\x9f\x8e\x89", 10), "1-4 bytes");
  OK(!utf8_valid("\xe2\x82", 2), "truncated");
  OK(!utf8_valid("\xe0\x80\x80", 3), "overlong 3 bytes");
  OK(!utf8_valid("\xf8\x88\x80\x80\x80", 5), "5 bytes");
  OK(utf8_valid("a\0b", 3), "NUL is valid UTF-8");
}

static void name_for(const char *in, const char *want) {
  struct buf b = BUF_INIT;
  buf_adds(&b, "dir/");
  name_for_file(in, &b);
  OK(strncmp(b.ptr, "dir/", 4) == 0, "appends");
  OK(strcmp(b.ptr + 4, want) == 0, "name_for_file: got \"%s\", want \"%s\"",
     b.ptr + 4, want);
  OK(name_is_safe(b.ptr + 4), "name_for_file gave unsafe \"%s\"", b.ptr + 4);
  buf_release(&b);
}

static void test_name_for_file(void) {
  name_for("frontend", "frontend");
  name_for("caf\xc3\xa9", "caf\xc3\xa9");
  /* Unsafe: bytes replaced, "~" and the FNV-1a hash of the original. */
  name_for("a/b", "a_b~3a8e75c1");
  name_for("a\\b", "a_b~299c2fb6");
  name_for("", "~811c9dc5");
  name_for("..", "_.~a3d4a70d");
  name_for(".hidden", "_hidden~4747f185");
  name_for("x.conflict", "x.conflict~fac12af1");
  name_for("we/ird", "we_ird~c0b0d397");
  name_for("\xff", "_~7a0b824e");
  name_for("a\x01"
           "b",
           "a_b~32f61fef");

  /* Stable, and distinct for names that differ only in unsafe bytes. */
  struct buf x = BUF_INIT, y = BUF_INIT;
  name_for_file("a/b", &x);
  name_for_file("a/b", &y);
  STR_EQ(x.ptr, y.ptr);
  buf_truncate(&y, 0);
  name_for_file("a\\b", &y);
  OK(strcmp(x.ptr, y.ptr) != 0, "a/b and a\\b both give %s", x.ptr);
  buf_release(&x);
  buf_release(&y);

  /* Safe output for every kind of unsafe input, of bounded length. */
  static const char *const bad[] = {
      ".",       "/",        "//..//", " x ", "new\nline", "\xed\xa0\x80 z",
      "x.error", "\x7f\x7f",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    struct buf b = BUF_INIT;
    name_for_file(bad[i], &b);
    OK(name_is_safe(b.ptr), "unsafe output \"%s\" for input %zu", b.ptr, i);
    OK(strchr(b.ptr, '~') != NULL, "no hash for input %zu", i);
    buf_release(&b);
  }
  struct buf longname = BUF_INIT, out = BUF_INIT;
  for (int i = 0; i < 300; i++)
    buf_adds(&longname, "/");
  name_for_file(longname.ptr, &out);
  OK(name_is_safe(out.ptr), "long unsafe name");
  OK(out.len <= NAME_MAX_BYTES, "%zu bytes", out.len);
  INT_EQ(out.len, 109); /* 100 bytes and "~" and 8 hex digits */
  buf_release(&out);
  /* A 201-byte name of safe bytes is unsafe only by length. */
  buf_truncate(&longname, 0);
  for (int i = 0; i < 201; i++)
    buf_addc(&longname, 'a');
  name_for_file(longname.ptr, &out);
  OK(name_is_safe(out.ptr), "201-byte name made safe");
  OK(out.len < 201 && str_starts(out.ptr, "aaaa"), "%s", out.ptr);
  buf_release(&out);
  buf_release(&longname);
}

static void slugged(const char *text, int max_words, const char *want) {
  struct buf b = BUF_INIT;
  buf_adds(&b, "p:");
  slug(text, max_words, &b);
  OK(strncmp(b.ptr, "p:", 2) == 0, "appends");
  OK(strcmp(b.ptr + 2, want) == 0, "slug(\"%s\", %d) = \"%s\", want \"%s\"",
     text, max_words, b.ptr + 2, want);
  buf_release(&b);
}

static void test_slug(void) {
  slugged("Hello, World!", 0, "hello_world");
  slugged("Hello, World!", 1, "hello");
  slugged("  --Set up  the Project--", 0, "set_up_the_project");
  slugged("  --Set up  the Project--", 2, "set_up");
  slugged("caf\xc3\xa9 au lait", 0, "caf_au_lait");
  slugged("\xc3\xa9t\xc3\xa9", 0, "t");
  slugged("", 0, "");
  slugged("!!!", 0, "");
  slugged("Version 2.0", 0, "version_2_0");
  /* At most 40 bytes, never ending in '_'. */
  slugged("abcdefghij abcdefghij abcdefghij abcdefghij abcdefghij", 0,
          "abcdefghij_abcdefghij_abcdefghij_abcdefg");
  slugged("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0,
          "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
  slugged("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa bb", 0,
          "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa_b");
  slugged("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa bb", 0,
          "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");

  struct buf b = BUF_INIT;
  name_from_title("Frontend Development", &b);
  STR_EQ(b.ptr, "frontend_development");
  buf_truncate(&b, 0);
  name_from_title("\xf0\x9f\x8e\x89", &b);
  STR_EQ(b.ptr, "group");
  buf_truncate(&b, 0);
  name_from_title("", &b);
  STR_EQ(b.ptr, "group");
  buf_release(&b);
}

static void key_of(const char *heading, const char *want) {
  struct buf b = BUF_INIT;
  buf_adds(&b, "k=");
  section_key(heading, &b);
  OK(strcmp(b.ptr + 2, want) == 0 && strncmp(b.ptr, "k=", 2) == 0,
     "section_key(\"%s\") = \"%s\", want \"%s\"", heading, b.ptr, want);
  buf_release(&b);
}

static void test_section_key(void) {
  key_of("## \xf0\x9f\x92\xa1 Key Insights", "key_insights");
  key_of("## \xf0\x9f\x93\x9d Notes", "notes");
  key_of("## Risks & Issues", "risks_issues");
  key_of("### Sub part", "sub_part");
  key_of("Plain", "plain");
  key_of("## \xf0\x9f\x97\x92\xef\xb8\x8f", "section");
  key_of("##", "section");
  key_of("## 2025 Plan", "2025_plan");
}

/* Every field of every kind goes to its text form and back unchanged,
 * and the JSON forms read back what they wrote, escapes included. */
static void test_text_forms(void) {
  struct task a, b;
  make_tasks(&a, &b);
  struct task c;
  task_init(&c);
  for (int i = 0; i < TF_ALL; i++) {
    char *t = record_field_text(RK_TASK, &b, i);
    OK(record_field_set(RK_TASK, &c, i, t), "set %s from '%s'",
       record_kinds[RK_TASK].fields[i].name, t ? t : "null");
    /* A NULL free text reads back as "". */
    if (i != TF_DESCRIPTION && i != TF_SPECIALIST && i != TF_CURRENT)
      OK(record_field_eq(RK_TASK, &b, &c, i), "%s round trip",
         record_kinds[RK_TASK].fields[i].name);
    free(t);
  }
  char *j = record_fields_json(RK_TASK, &b, FIELD_MERGED);
  struct task d;
  task_init(&d);
  OK(record_fields_from_json(RK_TASK, &d, j), "%s", j);
  OK(record_field_eq(RK_TASK, &b, &d, TF_DEPS), "lists through JSON");
  OK(record_field_eq(RK_TASK, &b, &d, TF_ESTIMATE), "hours through JSON");
  OK(isnan(d.actual), "an unset effort is null: %s", j);
  free(j);
  OK(!record_fields_from_json(RK_TASK, &d, "[1]"), "an array is no object");
  OK(!record_fields_from_json(RK_TASK, &d, "{\"title\": true}"),
     "values are strings, numbers or null");
  OK(!record_fields_from_json(RK_TASK, &d, "{\"title\": [\"x\"]}"),
     "an array is no value of a field");
  /* The history's snapshots keep numeric columns as JSON numbers. */
  OK(record_fields_from_json(RK_TASK, &d,
                             "{\"progress\": 42, \"position\": -1.5e1,"
                             " \"deleted\": 1}"),
     "numbers are values");
  OK(d.progress == 42 && d.position == -15 && d.deleted,
     "numbers read as their text forms: %d %g %d", d.progress, d.position,
     d.deleted);
  task_release(&a);
  task_release(&b);
  task_release(&c);
  task_release(&d);

  struct strlist l = {0}, back = {0};
  strlist_add(&l, "plain");
  strlist_add(&l, "quote \" backslash \\ tab \t newline \n bell \a");
  strlist_add(&l, "\xc3\xa9 \xf0\x9f\x93\x9d");
  strlist_add(&l, "");
  char *json = strlist_to_json(&l);
  STR_EQ(json, "[\"plain\",\"quote \\\" backslash \\\\ tab \\t newline "
               "\\n bell \\u0007\",\"\xc3\xa9 \xf0\x9f\x93\x9d\",\"\"]");
  OK(strlist_from_json(json, &back), "%s", json);
  OK(strlist_eq(&l, &back), "the list reads back");
  OK(strlist_from_json(" [ \"\\u00e9\\ud83d\\udcdd\" , 3 ] ", &back), "spaces");
  INT_EQ(back.n, 2);
  STR_EQ(back.v[0], "\xc3\xa9\xf0\x9f\x93\x9d");
  STR_EQ(back.v[1], "3");
  OK(!strlist_from_json("[\"a\"", &back) && back.n == 0, "unclosed");
  OK(!strlist_from_json("{}", &back), "not an array");
  OK(strlist_from_json("[]", &back) && back.n == 0, "empty");
  free(json);
  strlist_clear(&l);
  strlist_clear(&back);
}

int main(void) {
  test_words();
  test_text_forms();
  test_status();
  test_priority();
  test_effort();
  test_progress();
  test_time_display();
  test_strlist();
  test_task_fields();
  test_group_session_fields();
  test_set_status();
  test_ids();
  test_name_is_safe();
  test_name_for_file();
  test_slug();
  test_section_key();
  return harness_done("model");
}
