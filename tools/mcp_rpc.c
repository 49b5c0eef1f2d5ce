/* SPDX-License-Identifier: MIT */
/* mcp_rpc.c: JSON-RPC 2.0 for the MCP server's stdio transport: lines
 * with a size limit, the checks of a message, the replies. No tools, no
 * files, no database. */
#include "mcp_rpc.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- lines ---- */

void rpc_reader_init(struct rpc_reader *r, size_t limit) {
  buf_init(&r->line);
  r->limit = limit;
  r->dropped = 0;
}

void rpc_reader_release(struct rpc_reader *r) { buf_release(&r->line); }

/* Hands the line gathered so far to fn and starts the next. */
static int end_line(struct rpc_reader *r, rpc_line_fn fn, void *ctx) {
  int stop;
  if (r->dropped) {
    size_t len = r->line.len + r->dropped;
    buf_truncate(&r->line, 0);
    r->dropped = 0;
    return fn(ctx, "", len, true);
  }
  if (r->line.len && r->line.ptr[r->line.len - 1] == '\r')
    buf_truncate(&r->line, r->line.len - 1);
  stop = fn(ctx, r->line.ptr, r->line.len, false);
  buf_truncate(&r->line, 0);
  return stop;
}

int rpc_reader_feed(struct rpc_reader *r, const char *data, size_t n,
                    rpc_line_fn fn, void *ctx) {
  while (n) {
    const char *nl = memchr(data, '\n', n);
    size_t take = nl ? (size_t)(nl - data) : n;
    /* Bytes beyond the limit are counted, not kept: a huge line costs
     * no more memory than the limit. */
    if (r->dropped || r->line.len + take > r->limit + 1) {
      r->dropped += r->line.len + take;
      buf_truncate(&r->line, 0);
    } else {
      buf_add(&r->line, data, take);
    }
    if (!nl)
      return 0;
    /* A line of limit + 1 bytes fits only when its last byte is the
     * "\r" of a CRLF. */
    if (!r->dropped && r->line.len > r->limit &&
        r->line.ptr[r->line.len - 1] != '\r') {
      r->dropped = r->line.len;
      buf_truncate(&r->line, 0);
    }
    int stop = end_line(r, fn, ctx);
    if (stop)
      return stop;
    data = nl + 1;
    n -= take + 1;
  }
  return 0;
}

int rpc_reader_finish(struct rpc_reader *r, rpc_line_fn fn, void *ctx) {
  if (!r->line.len && !r->dropped)
    return 0;
  if (!r->dropped && r->line.len > r->limit) {
    r->dropped = r->line.len;
    buf_truncate(&r->line, 0);
  }
  return end_line(r, fn, ctx);
}

/* ---- messages ---- */

static void invalid(struct rpc_msg *m, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void invalid(struct rpc_msg *m, int code, const char *fmt, ...) {
  va_list ap;
  m->kind = RPC_INVALID;
  m->code = code;
  va_start(ap, fmt);
  vsnprintf(m->message, sizeof m->message, fmt, ap);
  va_end(ap);
}

/* MCP ids are strings or integers, never null. */
static bool id_usable(const json_t *id) {
  return id && (json_is_string(id) || json_is_integer(id));
}

void rpc_classify(json_t *v, struct rpc_msg *m) {
  json_t *root = m->root;
  memset(m, 0, sizeof *m);
  m->root = root;
  if (json_is_array(v)) {
    m->kind = RPC_BATCH;
    if (json_array_size(v) == 0)
      invalid(m, RPC_INVALID_REQUEST, "an empty batch is not a message");
    return;
  }
  if (!json_is_object(v)) {
    invalid(m, RPC_INVALID_REQUEST,
            "a message must be a JSON object (a request or a "
            "notification)");
    return;
  }
  json_t *id = json_object_get(v, "id");
  if (id_usable(id))
    m->id = id;
  const char *version = json_string_value(json_object_get(v, "jsonrpc"));
  if (!version || strcmp(version, "2.0") != 0) {
    invalid(m, RPC_INVALID_REQUEST, "\"jsonrpc\" must be \"2.0\"");
    return;
  }
  json_t *method = json_object_get(v, "method");
  if (!method) {
    if (m->id && (json_object_get(v, "result") || json_object_get(v, "error")))
      m->kind = RPC_RESPONSE;
    else
      invalid(m, RPC_INVALID_REQUEST,
              "a message needs a \"method\" (or is a response with "
              "\"id\" and \"result\" or \"error\")");
    return;
  }
  if (!json_is_string(method)) {
    invalid(m, RPC_INVALID_REQUEST, "\"method\" must be a string");
    return;
  }
  if (id && !m->id) {
    invalid(m, RPC_INVALID_REQUEST,
            "\"id\" must be a string or an integer (not null)");
    return;
  }
  m->method = json_string_value(method);
  json_t *params = json_object_get(v, "params");
  if (params && !json_is_object(params)) {
    /* JSON-RPC allows an array; no MCP method takes one. */
    invalid(m, json_is_array(params) ? RPC_INVALID_PARAMS : RPC_INVALID_REQUEST,
            "\"params\" must be an object");
    return;
  }
  m->params = params;
  m->kind = m->id ? RPC_REQUEST : RPC_NOTIFICATION;
}

void rpc_parse(const char *text, size_t len, struct rpc_msg *m) {
  json_error_t err;
  memset(m, 0, sizeof *m);
  m->root = json_loadb(text, len, JSON_DECODE_ANY, &err);
  if (!m->root) {
    invalid(m, RPC_PARSE_ERROR, "not JSON text: %s at byte %d", err.text,
            err.position);
    return;
  }
  rpc_classify(m->root, m);
}

void rpc_msg_release(struct rpc_msg *m) {
  json_decref(m->root);
  memset(m, 0, sizeof *m);
}

json_t *rpc_result(json_t *id, json_t *result) {
  return json_pack("{s:s, s:O, s:o}", "jsonrpc", "2.0", "id", id, "result",
                   result);
}

json_t *rpc_error(json_t *id, int code, const char *message, json_t *data) {
  json_t *err = json_pack("{s:i, s:s}", "code", code, "message", message);
  if (!err)
    die("cannot build a JSON-RPC error");
  if (data)
    json_object_set_new(err, "data", data);
  json_t *msg =
      json_pack("{s:s, s:O?, s:o}", "jsonrpc", "2.0", "id", id, "error", err);
  if (!id)
    json_object_set_new(msg, "id", json_null());
  return msg;
}

json_t *rpc_notification(const char *method, json_t *params) {
  json_t *msg = json_pack("{s:s, s:s}", "jsonrpc", "2.0", "method", method);
  if (params)
    json_object_set_new(msg, "params", params);
  return msg;
}

static int dump_to_buf(const char *data, size_t n, void *ctx) {
  buf_add(ctx, data, n);
  return 0;
}

bool rpc_dump(json_t *msg, struct buf *out) {
  size_t start = out->len;
  if (json_dump_callback(msg, dump_to_buf, out, JSON_COMPACT) != 0) {
    buf_truncate(out, start);
    return false;
  }
  buf_addc(out, '\n');
  return true;
}

/* ---- protocol versions ---- */

const char *const mcp_versions[] = {"2025-06-18", "2025-03-26", "2024-11-05",
                                    NULL};

const char *mcp_negotiate(const char *requested) {
  for (size_t i = 0; requested && mcp_versions[i]; i++)
    if (strcmp(mcp_versions[i], requested) == 0)
      return mcp_versions[i];
  return mcp_versions[0];
}

bool mcp_version_at_least(const char *a, const char *b) {
  return strcmp(a, b) >= 0;
}
