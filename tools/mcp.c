/* SPDX-License-Identifier: MIT */
/* mcp.c: taskctl's MCP server on standard input and output: the session
 * (initialize, version negotiation), the dispatch of requests to the
 * tools and files, subscriptions, and the polling of the database that
 * tells subscribers of changes made by any program. */
#include "mcp.h"
#include "mcp_rpc.h"
#include "taskfs_version.h"
#include "util.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* How often the database is asked whether anything was committed. */
#define POLL_MS 100
/* Resources in one page of resources/list. */
#define PAGE_SIZE 200
/* The longest client name kept in the history's source. */
#define CLIENT_NAME_MAX 100

static const char *const log_levels[] = {"debug",   "info",      "notice",
                                         "warning", "error",     "critical",
                                         "alert",   "emergency", NULL};
enum { LOG_DEBUG, LOG_INFO, LOG_NOTICE, LOG_WARNING, LOG_ERROR };

struct subscription {
  char *uri;
  struct mcp_file_state state;
};

struct server {
  struct store *st;
  struct ops ops;
  const char *version; /* negotiated; NULL until initialize */
  bool initialized;    /* the client sent notifications/initialized */
  int log_level;       /* the least level sent; -1: none (not asked) */
  struct subscription *subs;
  size_t nsubs, subs_cap;
  bool list_known; /* list_hash holds the last listing */
  uint64_t list_hash;
  int64_t next_poll_ms;
  bool out_failed; /* standard output is gone: stop */
};

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- output ---- */

static void write_all(struct server *s, const char *p, size_t n) {
  while (n && !s->out_failed) {
    ssize_t w = write(STDOUT_FILENO, p, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0) {
      fprintf(stderr, "taskctl: mcp: cannot write to standard output: %s\n",
              w < 0 ? strerror(errno) : "nothing written");
      s->out_failed = true;
      return;
    }
    p += w;
    n -= (size_t)w;
  }
}

/* Sends msg (stolen) as one line. */
static void emit(struct server *s, json_t *msg) {
  struct buf line = BUF_INIT;
  if (!msg)
    die("cannot build an MCP message");
  if (!rpc_dump(msg, &line)) {
    /* Only text that is not UTF-8 cannot be written; the message then
     * becomes an error of its request. */
    json_t *id = json_object_get(msg, "id");
    json_t *err =
        rpc_error(id, RPC_INTERNAL_ERROR,
                  "the answer holds text that is not valid UTF-8", NULL);
    if (!rpc_dump(err, &line))
      die("cannot write a JSON-RPC error");
    json_decref(err);
  }
  json_decref(msg);
  write_all(s, line.ptr, line.len);
  buf_release(&line);
}

static void log_msg(struct server *s, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A notifications/message for the client, when it asked for this level. */
static void log_msg(struct server *s, int level, const char *fmt, ...) {
  if (s->log_level < 0 || level < s->log_level)
    return;
  struct buf b = BUF_INIT;
  va_list ap;
  va_start(ap, fmt);
  buf_vprintf(&b, fmt, ap);
  va_end(ap);
  emit(s,
       rpc_notification("notifications/message",
                        json_pack("{s:s, s:s, s:s}", "level", log_levels[level],
                                  "logger", "taskctl", "data", b.ptr)));
  buf_release(&b);
}

/* ---- the lifecycle ---- */

/* The history's source for the changes of this client: "mcp:" and its
 * name, one line, not too long. */
static char *source_name(const char *client) {
  struct buf b = BUF_INIT;
  buf_adds(&b, "mcp:");
  for (const char *p = client; *p && b.len < 4 + CLIENT_NAME_MAX; p++)
    buf_addc(&b, (unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p);
  return buf_detach(&b, NULL);
}

static const char instructions[] =
    "taskfs keeps sessions, task groups and tasks in one database, and "
    "people read and edit the same records as markdown files through a "
    "taskfs mount. Read a record (task_show, or its file as a resource) "
    "before you change it, and subscribe to the files you work from to "
    "hear of people's edits. A change you make and an edit a person saves "
    "from an older text can meet on the same field: the person's save then "
    "leaves a conflict (conflict_list) to resolve (conflict_resolve).";

static json_t *initialize(struct server *s, json_t *params, int *code,
                          const char **message) {
  const char *requested =
      json_string_value(json_object_get(params, "protocolVersion"));
  json_t *info = json_object_get(params, "clientInfo");
  const char *client = json_string_value(json_object_get(info, "name"));
  json_t *caps = json_object_get(params, "capabilities");
  if (s->version) {
    *code = RPC_INVALID_REQUEST;
    *message = "initialize was answered already; a session is initialized "
               "once";
    return NULL;
  }
  if (!requested || !client || (caps && !json_is_object(caps))) {
    *code = RPC_INVALID_PARAMS;
    *message = "initialize needs protocolVersion (a string), clientInfo with "
               "a name, and capabilities (an object)";
    return NULL;
  }
  s->version = mcp_negotiate(requested);
  char *source = source_name(client);
  store_set_source(s->st, source);
  free(source);
  json_t *server_info =
      json_pack("{s:s, s:s}", "name", "taskctl", "version", TASKFS_VERSION);
  if (mcp_version_at_least(s->version, "2025-06-18"))
    json_object_set_new(server_info, "title", json_string("taskfs"));
  return json_pack("{s:s, s:{s:{s:b}, s:{s:b, s:b}, s:{}}, s:o, s:s}",
                   "protocolVersion", s->version, "capabilities", "tools",
                   "listChanged", 0, "resources", "subscribe", 1, "listChanged",
                   1, "logging", "serverInfo", server_info, "instructions",
                   instructions);
}

/* ---- resources ---- */

static uint64_t list_hash(const struct strlist *uris) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < uris->n; i++)
    for (const char *p = uris->v[i];; p++) {
      h = (h ^ (unsigned char)*p) * 1099511628211ull;
      if (!*p)
        break;
    }
  return h;
}

/* An error of a request that reached the database: a missing file, or
 * the store's failure. */
static json_t *store_error(struct server *s, json_t *id, int rc,
                           const char *uri) {
  if (rc == ENG_NOTFOUND) {
    bool new_code = mcp_version_at_least(s->version, "2025-06-18");
    return rpc_error(id, new_code ? RPC_INVALID_PARAMS : RPC_RESOURCE_NOT_FOUND,
                     "Resource not found; resources/list lists the files",
                     json_pack("{s:s}", "uri", uri));
  }
  ops_fail_store(&s->ops, rc);
  return rpc_error(id, RPC_INTERNAL_ERROR, ops_errmsg(&s->ops), NULL);
}

static json_t *resources_list(struct server *s, json_t *id, json_t *params) {
  json_t *cursor = json_object_get(params, "cursor");
  if (cursor && !json_is_null(cursor) &&
      (!json_is_string(cursor) || !mcp_files_path(json_string_value(cursor))))
    return rpc_error(id, RPC_INVALID_PARAMS,
                     "invalid cursor: give the nextCursor of the previous "
                     "page",
                     NULL);
  const char *after = json_string_value(cursor);
  struct strlist uris = {0};
  int rc = mcp_files_list(s->st, &uris);
  if (rc)
    return store_error(s, id, rc, "");
  /* The cursor is the last URI of the previous page: files that appeared
   * or went meanwhile shift no page. */
  size_t start = 0;
  while (after && start < uris.n && strcmp(uris.v[start], after) <= 0)
    start++;
  json_t *list = json_array();
  size_t i;
  for (i = start; i < uris.n && i < start + PAGE_SIZE; i++) {
    char *path = mcp_files_path(uris.v[i]);
    json_array_append_new(list,
                          json_pack("{s:s, s:s, s:s}", "uri", uris.v[i], "name",
                                    path, "mimeType", "text/markdown"));
    free(path);
  }
  json_t *result = json_pack("{s:o}", "resources", list);
  if (i < uris.n)
    json_object_set_new(result, "nextCursor", json_string(uris.v[i - 1]));
  strlist_clear(&uris);
  return rpc_result(id, result);
}

static void base64(const unsigned char *p, size_t n, struct buf *out) {
  static const char abc[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (size_t i = 0; i < n; i += 3) {
    unsigned v = (unsigned)p[i] << 16;
    if (i + 1 < n)
      v |= (unsigned)p[i + 1] << 8;
    if (i + 2 < n)
      v |= p[i + 2];
    buf_addc(out, abc[v >> 18 & 63]);
    buf_addc(out, abc[v >> 12 & 63]);
    buf_addc(out, i + 1 < n ? abc[v >> 6 & 63] : '=');
    buf_addc(out, i + 2 < n ? abc[v & 63] : '=');
  }
}

static json_t *resources_read(struct server *s, json_t *id, json_t *params) {
  const char *uri = json_string_value(json_object_get(params, "uri"));
  if (!uri)
    return rpc_error(id, RPC_INVALID_PARAMS,
                     "resources/read needs uri (a string)", NULL);
  struct buf text = BUF_INIT;
  int rc = mcp_files_read(s->st, uri, &text);
  if (rc) {
    buf_release(&text);
    return store_error(s, id, rc, uri);
  }
  /* The bytes as they are: text when they are UTF-8 (a held draft may
   * not be), else base64. */
  json_t *content = json_stringn(text.ptr, text.len);
  json_t *item;
  if (content) {
    item = json_pack("{s:s, s:s, s:o}", "uri", uri, "mimeType", "text/markdown",
                     "text", content);
  } else {
    struct buf b64 = BUF_INIT;
    base64((const unsigned char *)text.ptr, text.len, &b64);
    item = json_pack("{s:s, s:s, s:s}", "uri", uri, "mimeType",
                     "application/octet-stream", "blob", b64.ptr);
    buf_release(&b64);
  }
  buf_release(&text);
  return rpc_result(id, json_pack("{s:[o]}", "contents", item));
}

static json_t *resource_templates(json_t *id) {
  static const char *const t[][3] = {
      {"taskfs:///{session}/session.md", "session.md",
       "A session's overview: metrics, groups, activity, insights"},
      {"taskfs:///{session}/task_groups/{group}.md", "task group",
       "A task group and its tasks by status"},
      {"taskfs:///{session}/tasks/{status}/{task}.md", "task",
       "One task; status is planned, active, blocked or completed"},
      {"taskfs:///{session}/notes/{name}.md", "notes",
       "decisions, learnings or resources: free text of the session"},
      {"taskfs:///{session}/meta/sync_status.md", "sync status",
       "Health of the sync, open conflicts, held saves"},
      {"taskfs:///{session}/meta/edit_log.md", "edit log",
       "The edits saved through the mount"},
  };
  json_t *list = json_array();
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
    json_array_append_new(list,
                          json_pack("{s:s, s:s, s:s, s:s}", "uriTemplate",
                                    t[i][0], "name", t[i][1], "description",
                                    t[i][2], "mimeType", "text/markdown"));
  return rpc_result(id, json_pack("{s:o}", "resourceTemplates", list));
}

static struct subscription *find_sub(struct server *s, const char *uri) {
  for (size_t i = 0; i < s->nsubs; i++)
    if (strcmp(s->subs[i].uri, uri) == 0)
      return &s->subs[i];
  return NULL;
}

static json_t *subscribe(struct server *s, json_t *id, json_t *params,
                         bool on) {
  const char *uri = json_string_value(json_object_get(params, "uri"));
  char *path = uri ? mcp_files_path(uri) : NULL;
  if (!path)
    return rpc_error(id, RPC_INVALID_PARAMS,
                     "give uri, a taskfs:/// URI as resources/list gives "
                     "them",
                     uri ? json_pack("{s:s}", "uri", uri) : NULL);
  free(path);
  struct subscription *sub = find_sub(s, uri);
  if (on && !sub) {
    /* A file that does not exist yet may be subscribed to: its
     * appearance is a change (a .conflict.md file, a new task's file). */
    struct mcp_file_state state;
    int rc = mcp_files_state(s->st, uri, &state);
    if (rc)
      return store_error(s, id, rc, uri);
    XGROW(s->subs, s->subs_cap, s->nsubs + 1);
    s->subs[s->nsubs].uri = xstrdup(uri);
    s->subs[s->nsubs].state = state;
    s->nsubs++;
  } else if (!on && sub) {
    free(sub->uri);
    *sub = s->subs[--s->nsubs];
  }
  return rpc_result(id, json_object());
}

/* Asks the database whether anything was committed since the last time,
 * by any program; if so, tells subscribers of the files that changed and
 * the client of files that appeared or went. */
static void check_changes(struct server *s) {
  if (!s->initialized || !store_poll(s->st))
    return;
  log_msg(s, LOG_DEBUG, "the database changed (revision %lld)",
          (long long)store_revision(s->st));
  for (size_t i = 0; i < s->nsubs && !s->out_failed; i++) {
    struct mcp_file_state now;
    int rc = mcp_files_state(s->st, s->subs[i].uri, &now);
    if (rc) {
      /* Looked at again at the next commit. */
      log_msg(s, LOG_ERROR, "cannot look at %s: %s", s->subs[i].uri,
              store_errmsg(s->st));
      continue;
    }
    if (mcp_file_state_eq(&now, &s->subs[i].state))
      continue;
    s->subs[i].state = now;
    emit(s, rpc_notification("notifications/resources/updated",
                             json_pack("{s:s}", "uri", s->subs[i].uri)));
  }
  struct strlist uris = {0};
  if (mcp_files_list(s->st, &uris) == ENG_OK) {
    uint64_t h = list_hash(&uris);
    if (s->list_known && h != s->list_hash)
      emit(s, rpc_notification("notifications/resources/list_changed", NULL));
    s->list_hash = h;
    s->list_known = true;
  }
  strlist_clear(&uris);
}

/* ---- requests ---- */

static json_t *tools_call(struct server *s, json_t *id, json_t *params) {
  const char *name = json_string_value(json_object_get(params, "name"));
  json_t *args = json_object_get(params, "arguments");
  if (!name)
    return rpc_error(id, RPC_INVALID_PARAMS,
                     "tools/call needs name, a tool of tools/list", NULL);
  if (args && !json_is_object(args) && !json_is_null(args))
    return rpc_error(id, RPC_INVALID_PARAMS, "arguments must be an object",
                     NULL);
  json_t *result;
  char *message;
  int code = mcp_tool_call(&s->ops, name, json_is_object(args) ? args : NULL,
                           s->version, &result, &message);
  if (code) {
    json_t *err = rpc_error(id, code, message, NULL);
    free(message);
    return err;
  }
  if (json_is_true(json_object_get(result, "isError")))
    log_msg(s, LOG_WARNING, "%s failed: %s", name, ops_errmsg(&s->ops));
  return rpc_result(id, result);
}

static bool has_cursor(json_t *params) {
  json_t *c = json_object_get(params, "cursor");
  return c && !json_is_null(c);
}

/* The answer to one request. */
static json_t *request(struct server *s, const struct rpc_msg *m) {
  json_t *id = m->id, *params = m->params;
  const char *method = m->method;
  if (strcmp(method, "ping") == 0)
    return rpc_result(id, json_object());
  if (strcmp(method, "initialize") == 0) {
    int code = 0;
    const char *message = NULL;
    json_t *result = initialize(s, params, &code, &message);
    return result ? rpc_result(id, result) : rpc_error(id, code, message, NULL);
  }
  if (!s->version)
    return rpc_error(id, RPC_INVALID_REQUEST,
                     "the session is not initialized: send initialize first",
                     NULL);
  if (strcmp(method, "tools/list") == 0) {
    if (has_cursor(params))
      return rpc_error(id, RPC_INVALID_PARAMS,
                       "invalid cursor: tools/list has one page", NULL);
    return rpc_result(id,
                      json_pack("{s:o}", "tools", mcp_tools_list(s->version)));
  }
  if (strcmp(method, "tools/call") == 0)
    return tools_call(s, id, params);
  if (strcmp(method, "resources/list") == 0)
    return resources_list(s, id, params);
  if (strcmp(method, "resources/read") == 0)
    return resources_read(s, id, params);
  if (strcmp(method, "resources/templates/list") == 0) {
    if (has_cursor(params))
      return rpc_error(id, RPC_INVALID_PARAMS,
                       "invalid cursor: resources/templates/list has one page",
                       NULL);
    return resource_templates(id);
  }
  if (strcmp(method, "resources/subscribe") == 0)
    return subscribe(s, id, params, true);
  if (strcmp(method, "resources/unsubscribe") == 0)
    return subscribe(s, id, params, false);
  if (strcmp(method, "logging/setLevel") == 0) {
    const char *level = json_string_value(json_object_get(params, "level"));
    for (int i = 0; level && log_levels[i]; i++)
      if (strcmp(level, log_levels[i]) == 0) {
        s->log_level = i;
        return rpc_result(id, json_object());
      }
    return rpc_error(id, RPC_INVALID_PARAMS,
                     "level must be one of debug, info, notice, warning, "
                     "error, critical, alert, emergency",
                     NULL);
  }
  json_t *data = json_pack("{s:s}", "method", method);
  struct buf b = BUF_INIT;
  buf_printf(&b, "unknown method '%s'", method);
  json_t *err = rpc_error(id, RPC_METHOD_NOT_FOUND, b.ptr, data);
  buf_release(&b);
  return err;
}

static void notification(struct server *s, const struct rpc_msg *m) {
  if (strcmp(m->method, "notifications/initialized") == 0 && s->version &&
      !s->initialized) {
    s->initialized = true;
    /* The listing the client may have seen, to tell later changes by. */
    store_poll(s->st);
    struct strlist uris = {0};
    if (mcp_files_list(s->st, &uris) == ENG_OK) {
      s->list_hash = list_hash(&uris);
      s->list_known = true;
    }
    strlist_clear(&uris);
  }
  /* notifications/cancelled: requests are answered one at a time, in
   * order, so there is never one in progress to cancel. */
}

/* The answer to one message, or NULL for notifications and responses. */
static json_t *message(struct server *s, const struct rpc_msg *m) {
  switch (m->kind) {
  case RPC_REQUEST:
    return request(s, m);
  case RPC_NOTIFICATION:
    notification(s, m);
    return NULL;
  case RPC_RESPONSE: /* the server sends no requests: nothing awaits it */
    return NULL;
  case RPC_INVALID:
    return rpc_error(m->id, m->code, m->message, NULL);
  }
  return NULL;
}

/* A batch: only MCP 2025-03-26 has them. */
static json_t *batch(struct server *s, struct rpc_msg *m) {
  if (m->code || !s->version || strcmp(s->version, "2025-03-26") != 0)
    return rpc_error(NULL, RPC_INVALID_REQUEST,
                     m->code ? m->message
                             : "batches are not part of this protocol "
                               "revision: send one message a line",
                     NULL);
  json_t *answers = json_array();
  size_t i;
  json_t *v;
  json_array_foreach(m->root, i, v) {
    struct rpc_msg e;
    memset(&e, 0, sizeof e);
    rpc_classify(v, &e);
    json_t *a = e.kind == RPC_BATCH
                    ? rpc_error(NULL, RPC_INVALID_REQUEST,
                                "a batch cannot hold a batch", NULL)
                    : message(s, &e);
    if (a)
      json_array_append_new(answers, a);
  }
  if (json_array_size(answers) == 0) {
    json_decref(answers);
    return NULL;
  }
  return answers;
}

static int on_line(void *ctx, const char *text, size_t len, bool too_big) {
  struct server *s = ctx;
  if (too_big) {
    struct buf b = BUF_INIT;
    buf_printf(&b,
               "message of %zu bytes refused: the limit is %zu bytes (4 "
               "MiB); send less at once (for example fewer tasks per "
               "task_add_many call)",
               len, RPC_MAX_MESSAGE);
    emit(s, rpc_error(NULL, RPC_INVALID_REQUEST, b.ptr, NULL));
    buf_release(&b);
    return 0;
  }
  /* Blank lines carry no message. */
  if (strspn(text, " \t") == len)
    return 0;
  struct rpc_msg m;
  rpc_parse(text, len, &m);
  json_t *answer = m.kind == RPC_BATCH ? batch(s, &m) : message(s, &m);
  if (answer)
    emit(s, answer);
  rpc_msg_release(&m);
  /* A change made by this request is told before the next one is read. */
  check_changes(s);
  return s->out_failed;
}

int mcp_serve(struct store *st, const char *db_path) {
  struct server s;
  struct rpc_reader reader;
  memset(&s, 0, sizeof s);
  s.st = st;
  s.log_level = -1;
  ops_init(&s.ops, st, db_path, mcp_hint);
  rpc_reader_init(&reader, RPC_MAX_MESSAGE);
  /* A client that goes away must end the server, not kill it mid-write. */
  signal(SIGPIPE, SIG_IGN);
  store_set_source(st, "mcp");
  char chunk[65536];
  s.next_poll_ms = now_ms() + POLL_MS;
  while (!s.out_failed) {
    int64_t wait = s.next_poll_ms - now_ms();
    struct pollfd p = {STDIN_FILENO, POLLIN, 0};
    int r = poll(&p, 1, wait > 0 ? (int)wait : 0);
    if (r < 0 && errno != EINTR) {
      fprintf(stderr, "taskctl: mcp: cannot wait for input: %s\n",
              strerror(errno));
      break;
    }
    if (r > 0) {
      ssize_t n = read(STDIN_FILENO, chunk, sizeof chunk);
      if (n < 0 && (errno == EINTR || errno == EAGAIN))
        continue;
      if (n <= 0) {
        rpc_reader_finish(&reader, on_line, &s);
        break;
      }
      rpc_reader_feed(&reader, chunk, (size_t)n, on_line, &s);
    }
    if (now_ms() >= s.next_poll_ms) {
      check_changes(&s);
      s.next_poll_ms = now_ms() + POLL_MS;
    }
  }
  for (size_t i = 0; i < s.nsubs; i++)
    free(s.subs[i].uri);
  free(s.subs);
  rpc_reader_release(&reader);
  ops_release(&s.ops);
  return s.out_failed ? 1 : 0;
}
