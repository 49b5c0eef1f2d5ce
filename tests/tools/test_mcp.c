/* SPDX-License-Identifier: MIT */
/* test_mcp.c: the pure parts of taskctl's MCP server: message framing
 * with its size limit, the checks of JSON-RPC messages, version
 * negotiation, resource URIs, and the dispatch of tool calls on the
 * fixture database. */
#include "fixture.h"
#include "harness.h"
#include "mcp.h"
#include "mcp_rpc.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

/* ---- framing ---- */

struct lines {
  struct strlist text;
  int too_big;
  size_t big_len;
};

static int on_line(void *ctx, const char *text, size_t len, bool too_big) {
  struct lines *l = ctx;
  if (too_big) {
    l->too_big++;
    l->big_len = len;
    strlist_add(&l->text, "<too big>");
  } else {
    char *s = xstrndup(text, len);
    strlist_add(&l->text, s);
    free(s);
  }
  return 0;
}

static void test_reader(void) {
  struct rpc_reader r;
  struct lines l = {{0}, 0, 0};
  rpc_reader_init(&r, 8);
  /* Lines cut anywhere by the chunks they arrive in; CRLF as LF. */
  const char *chunks[] = {"ab",        "c\nde",   "f\r\n\n12345678\n",
                          "123456789", "0\nok\n", "last"};
  for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++)
    rpc_reader_feed(&r, chunks[i], strlen(chunks[i]), on_line, &l);
  rpc_reader_finish(&r, on_line, &l);
  INT_EQ(l.text.n, 7);
  if (l.text.n == 7) {
    STR_EQ(l.text.v[0], "abc");
    STR_EQ(l.text.v[1], "def");
    STR_EQ(l.text.v[2], "");
    STR_EQ(l.text.v[3], "12345678"); /* exactly the limit */
    STR_EQ(l.text.v[4], "<too big>");
    STR_EQ(l.text.v[5], "ok"); /* the reader goes on after it */
    STR_EQ(l.text.v[6], "last");
  }
  INT_EQ(l.too_big, 1);
  INT_EQ(l.big_len, 10);
  /* A CRLF line of exactly the limit fits. */
  strlist_clear(&l.text);
  rpc_reader_feed(&r, "12345678\r\n", 10, on_line, &l);
  INT_EQ(l.text.n, 1);
  if (l.text.n == 1)
    STR_EQ(l.text.v[0], "12345678");
  /* A huge line costs no more than the limit. */
  strlist_clear(&l.text);
  char big[4096];
  memset(big, 'x', sizeof big);
  for (int i = 0; i < 100; i++)
    rpc_reader_feed(&r, big, sizeof big, on_line, &l);
  OK(r.line.cap <= 64, "the reader kept %zu bytes", r.line.cap);
  rpc_reader_feed(&r, "\n", 1, on_line, &l);
  INT_EQ(l.big_len, 409600);
  rpc_reader_release(&r);
  strlist_clear(&l.text);
}

/* ---- messages ---- */

static int parse_kind(const char *text, int *code) {
  struct rpc_msg m;
  rpc_parse(text, strlen(text), &m);
  int kind = m.kind;
  *code = m.code;
  rpc_msg_release(&m);
  return kind;
}

static void test_messages(void) {
  int code;
  INT_EQ(
      parse_kind("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}", &code),
      RPC_REQUEST);
  INT_EQ(parse_kind("{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"method\":\"x\","
                    "\"params\":{}}",
                    &code),
         RPC_REQUEST);
  INT_EQ(
      parse_kind("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/x\"}", &code),
      RPC_NOTIFICATION);
  INT_EQ(parse_kind("{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{}}", &code),
         RPC_RESPONSE);
  INT_EQ(parse_kind("[{\"jsonrpc\":\"2.0\",\"method\":\"a\"}]", &code),
         RPC_BATCH);
  INT_EQ(code, 0);

  INT_EQ(parse_kind("{\"jsonrpc\":\"2.0\",\"id\":1,", &code), RPC_INVALID);
  INT_EQ(code, RPC_PARSE_ERROR);
  INT_EQ(parse_kind("not json", &code), RPC_INVALID);
  INT_EQ(code, RPC_PARSE_ERROR);
  INT_EQ(parse_kind("\"\xff\"", &code), RPC_INVALID); /* not UTF-8 */
  INT_EQ(code, RPC_PARSE_ERROR);
  INT_EQ(parse_kind("42", &code), RPC_INVALID);
  INT_EQ(code, RPC_INVALID_REQUEST);
  INT_EQ(parse_kind("[]", &code), RPC_INVALID);
  INT_EQ(code, RPC_INVALID_REQUEST);
  INT_EQ(parse_kind("{\"id\":1,\"method\":\"ping\"}", &code), RPC_INVALID);
  INT_EQ(code, RPC_INVALID_REQUEST);
  INT_EQ(
      parse_kind("{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"ping\"}", &code),
      RPC_INVALID);
  INT_EQ(parse_kind("{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"ping\"}",
                    &code),
         RPC_INVALID);
  INT_EQ(code, RPC_INVALID_REQUEST);
  INT_EQ(
      parse_kind("{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"ping\"}", &code),
      RPC_INVALID);
  INT_EQ(parse_kind("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":3}", &code),
         RPC_INVALID);
  INT_EQ(code, RPC_INVALID_REQUEST);
  INT_EQ(parse_kind("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\","
                    "\"params\":[1]}",
                    &code),
         RPC_INVALID);
  INT_EQ(code, RPC_INVALID_PARAMS);
  INT_EQ(parse_kind("{\"jsonrpc\":\"2.0\",\"id\":1}", &code), RPC_INVALID);
  INT_EQ(code, RPC_INVALID_REQUEST);

  /* An invalid request with a usable id is answered with that id. */
  struct rpc_msg m;
  const char *t = "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"x\","
                  "\"params\":\"p\"}";
  rpc_parse(t, strlen(t), &m);
  INT_EQ(m.kind, RPC_INVALID);
  OK(m.id && json_integer_value(m.id) == 9, "the id is kept");
  json_t *err = rpc_error(m.id, m.code, m.message, NULL);
  struct buf line = BUF_INIT;
  OK(rpc_dump(err, &line), "an error is written");
  OK(strstr(line.ptr, "\"id\":9") != NULL, "%s", line.ptr);
  json_decref(err);
  rpc_msg_release(&m);

  /* A message is one line: newlines in strings are escaped. */
  buf_truncate(&line, 0);
  json_t *n = rpc_notification("x", json_pack("{s:s}", "text", "a\nb\r\n"));
  OK(rpc_dump(n, &line), "a notification is written");
  OK(strchr(line.ptr, '\n') == line.ptr + line.len - 1, "one line: %s",
     line.ptr);
  json_decref(n);
  /* An error without an id says null. */
  buf_truncate(&line, 0);
  err = rpc_error(NULL, RPC_PARSE_ERROR, "bad", NULL);
  rpc_dump(err, &line);
  OK(strstr(line.ptr, "\"id\":null") != NULL, "%s", line.ptr);
  json_decref(err);
  buf_release(&line);
}

static void test_negotiation(void) {
  STR_EQ(mcp_negotiate("2025-06-18"), "2025-06-18");
  STR_EQ(mcp_negotiate("2025-03-26"), "2025-03-26");
  STR_EQ(mcp_negotiate("2024-11-05"), "2024-11-05");
  /* Newer or unknown: the newest spoken. */
  STR_EQ(mcp_negotiate("2025-11-25"), "2025-06-18");
  STR_EQ(mcp_negotiate("1.0"), "2025-06-18");
  STR_EQ(mcp_negotiate(NULL), "2025-06-18");
  OK(mcp_version_at_least("2025-06-18", "2025-03-26"), "order");
  OK(!mcp_version_at_least("2024-11-05", "2025-03-26"), "order");
}

/* ---- resources ---- */

static void test_uris(void) {
  char *p = mcp_files_path("taskfs:///s1/task_groups/front%20end.md");
  STR_EQ(p, "s1/task_groups/front end.md");
  free(p);
  OK(!mcp_files_path("file:///s1/session.md"), "another scheme");
  OK(!mcp_files_path("taskfs://host/s1/session.md"), "an authority");
  OK(!mcp_files_path("taskfs:///s1/a%2Fb.md"), "an encoded slash");
  OK(!mcp_files_path("taskfs:///s1/a%00.md"), "an encoded NUL");
  OK(!mcp_files_path("taskfs:///s1/a%4.md"), "a bad escape");
  OK(!mcp_files_path("taskfs:///s1/session.md?x=1"), "a query");

  struct store *st = fixture_open();
  struct strlist uris = {0};
  RC_OK(mcp_files_list(st, &uris), st);
  bool group = false, task = false, sorted = true;
  for (size_t i = 0; i < uris.n; i++) {
    group |= strcmp(uris.v[i], "taskfs:///s1/task_groups/frontend.md") == 0;
    task |= strncmp(uris.v[i], "taskfs:///s1/tasks/", 19) == 0;
    if (i && strcmp(uris.v[i - 1], uris.v[i]) >= 0)
      sorted = false;
  }
  OK(group && task, "the group and task files are listed (%zu)", uris.n);
  OK(sorted, "sorted");
  /* Every listed file reads. */
  for (size_t i = 0; i < uris.n; i++) {
    struct buf b = BUF_INIT;
    RC_OK(mcp_files_read(st, uris.v[i], &b), st);
    OK(b.len > 0, "%s is empty", uris.v[i]);
    buf_release(&b);
  }
  strlist_clear(&uris);
  struct buf b = BUF_INIT;
  INT_EQ(mcp_files_read(st, "taskfs:///s1/task_groups", &b), ENG_NOTFOUND);
  INT_EQ(mcp_files_read(st, "taskfs:///s1/task_groups/nope.md", &b),
         ENG_NOTFOUND);
  INT_EQ(mcp_files_read(st, "taskfs:///s1//session.md", &b), ENG_NOTFOUND);
  INT_EQ(mcp_files_read(st, "taskfs:///s1/session.md/", &b), ENG_NOTFOUND);
  RC_OK(mcp_files_read(st, "taskfs:///s1/session.md", &b), st);
  buf_release(&b);

  /* A change to a task is a change of its file and of its group's; not
   * of the other group's. */
  struct mcp_file_state g1, g2, t1, g1b, g2b, t1b, none;
  const char *front = "taskfs:///s1/task_groups/frontend.md";
  const char *back = "taskfs:///s1/task_groups/backend.md";
  struct task t;
  task_init(&t);
  RC_OK(store_task_get(st, "t1", &t), st);
  char *turi = xasprintf("taskfs:///s1/tasks/%s/t1.md", status_name(t.status));
  RC_OK(mcp_files_state(st, front, &g1), st);
  RC_OK(mcp_files_state(st, back, &g2), st);
  RC_OK(mcp_files_state(st, turi, &t1), st);
  RC_OK(mcp_files_state(st, "taskfs:///s1/tasks/active/none.md", &none), st);
  OK(g1.exists && t1.exists && !none.exists, "exists");
  str_set(&t.title, "Renamed");
  RC_OK(store_task_update(st, &t), st);
  RC_OK(mcp_files_state(st, front, &g1b), st);
  RC_OK(mcp_files_state(st, back, &g2b), st);
  RC_OK(mcp_files_state(st, turi, &t1b), st);
  OK(!mcp_file_state_eq(&g1, &g1b), "the group file changed");
  OK(mcp_file_state_eq(&g2, &g2b), "the other group file did not");
  OK(!mcp_file_state_eq(&t1, &t1b), "the task file changed");
  free(turi);
  task_release(&t);
  store_close(st);
}

/* ---- tools ---- */

static void hint(struct buf *out, enum ops_hint h, const char *arg) {
  mcp_hint(out, h, arg);
}

/* Calls a tool with the JSON text args; returns the result. */
static json_t *call(struct ops *o, const char *name, const char *args,
                    int *code) {
  json_t *a = args ? json_loads(args, 0, NULL) : NULL;
  json_t *result = NULL;
  char *message = NULL;
  *code = mcp_tool_call(o, name, a, "2025-06-18", &result, &message);
  free(message);
  json_decref(a);
  return result;
}

static bool is_error(json_t *r) {
  return json_is_true(json_object_get(r, "isError"));
}

static const char *text_of(json_t *r) {
  return json_string_value(json_object_get(
      json_array_get(json_object_get(r, "content"), 0), "text"));
}

static void test_tools(void) {
  struct store *st = fixture_open();
  struct ops o;
  int code;
  ops_init(&o, st, ":memory:", hint);

  json_t *list = mcp_tools_list("2025-06-18");
  OK(json_array_size(list) >= 20, "%zu tools", json_array_size(list));
  size_t i;
  json_t *t;
  json_array_foreach(list, i, t) {
    OK(json_is_object(json_object_get(t, "inputSchema")), "input schema");
    OK(json_is_object(json_object_get(t, "outputSchema")), "output schema");
  }
  json_decref(list);
  /* Older revisions have neither output schemas nor titles. */
  list = mcp_tools_list("2024-11-05");
  OK(!json_object_get(json_array_get(list, 0), "outputSchema"), "2024-11-05");
  OK(!json_object_get(json_array_get(list, 0), "annotations"), "2024-11-05");
  json_decref(list);

  json_t *r = call(&o, "no_such_tool", NULL, &code);
  INT_EQ(code, RPC_INVALID_PARAMS);
  OK(!r, "no result");

  r = call(&o, "task_add",
           "{\"group\":\"frontend\",\"session\":\"s1\",\"title\":\"New\","
           "\"estimate\":2.5,\"progress\":10,\"dependencies\":[\"t1\"]}",
           &code);
  INT_EQ(code, 0);
  OK(r && !is_error(r), "task_add: %s", r ? text_of(r) : "");
  json_t *task =
      json_object_get(json_object_get(r, "structuredContent"), "task");
  STR_EQ(json_string_value(json_object_get(task, "group")),
         "frontend_group_001");
  OK(json_real_value(json_object_get(task, "estimate")) == 2.5, "estimate");
  INT_EQ(json_integer_value(json_object_get(task, "progress")), 10);
  json_decref(r);

  /* Bad arguments and values are results with isError, and change
   * nothing. */
  int64_t rev = store_revision(st);
  const char *bad[][2] = {
      {"task_add", "{\"group\":\"frontend\"}"},
      {"task_add", "{\"group\":\"nope\",\"title\":\"x\"}"},
      {"task_add", "{\"group\":\"frontend_group_001\",\"title\":\"x\","
                   "\"dependencies\":[\"nope\"]}"},
      {"task_set", "{\"id\":\"t1\",\"status\":\"bogus\"}"},
      {"task_set", "{\"id\":\"t1\",\"progress\":101}"},
      {"task_set", "{\"id\":\"t1\",\"progress\":\"lots\"}"},
      {"task_set", "{\"id\":\"t1\",\"estimate\":true}"},
      {"task_set", "{\"id\":\"t1\"}"},
      {"task_set", "{\"id\":\"t1\",\"colour\":\"red\"}"},
      {"task_set", "{\"id\":\"nope\",\"title\":\"x\"}"},
      {"task_add_many", "{\"tasks\":[{\"group\":\"frontend_group_001\","
                        "\"title\":\"ok\"},{\"group\":\"frontend_group_001\"}"
                        "]}"},
      {"conflict_resolve", "{\"id\":99,\"keep\":\"db\"}"},
      {"conflict_resolve", "{\"id\":0,\"keep\":\"db\"}"},
      {"backup_restore", "{\"id\":99}"},
      {"session_show", "{\"id\":\"nope\"}"},
  };
  for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
    r = call(&o, bad[k][0], bad[k][1], &code);
    INT_EQ(code, 0);
    OK(r && is_error(r) && text_of(r) && *text_of(r), "%s %s", bad[k][0],
       bad[k][1]);
    OK(!json_object_get(r, "structuredContent"), "no structured content");
    json_decref(r);
  }
  INT_EQ(store_revision(st), rev);

  r = call(&o, "task_add_many",
           "{\"tasks\":[{\"group\":\"backend_group_001\",\"title\":\"A\","
           "\"id\":\"plan_a\",\"dependencies\":[\"plan_b\"]},"
           "{\"group\":\"backend_group_001\",\"title\":\"B\",\"id\":"
           "\"plan_b\"}]}",
           &code);
  OK(r && !is_error(r), "task_add_many: %s", r ? text_of(r) : "");
  INT_EQ(json_array_size(
             json_object_get(json_object_get(r, "structuredContent"), "tasks")),
         2);
  json_decref(r);

  r = call(&o, "task_list", "{\"session\":\"s1\",\"status\":\"planned\"}",
           &code);
  OK(r && !is_error(r), "task_list");
  json_decref(r);
  r = call(&o, "task_remove", "{\"id\":\"plan_a\"}", &code);
  OK(r && !is_error(r), "task_remove");
  json_decref(r);
  r = call(&o, "edit_log", "{\"session\":\"s1\",\"all_sources\":true}", &code);
  OK(r && !is_error(r), "edit_log");
  json_decref(r);
  r = call(&o, "sync_stats", NULL, &code);
  OK(r && !is_error(r), "sync_stats");
  json_decref(r);

  ops_release(&o);
  store_close(st);
}

int main(void) {
  test_reader();
  test_messages();
  test_negotiation();
  test_uris();
  test_tools();
  return harness_done("mcp");
}
