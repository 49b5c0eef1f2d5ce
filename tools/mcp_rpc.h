/* SPDX-License-Identifier: MIT */
/* mcp_rpc.h: the JSON-RPC 2.0 layer of taskctl's MCP server: messages
 * read one a line with a size limit, checked, and answered; the protocol
 * versions it speaks. Knows nothing of tools, files or the database.
 *
 * JSON is read and written by jansson. Functions that return json_t *
 * give the caller a new reference (json_decref it); those that take one
 * say whether they steal it.
 */
#ifndef TASKCTL_MCP_RPC_H
#define TASKCTL_MCP_RPC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* The largest message taken, newline not counted: longer lines are
 * refused with RPC_INVALID_REQUEST and skipped. */
#define RPC_MAX_MESSAGE ((size_t)4 << 20)

/* JSON-RPC 2.0 error codes. */
enum rpc_code {
  RPC_PARSE_ERROR = -32700,
  RPC_INVALID_REQUEST = -32600,
  RPC_METHOD_NOT_FOUND = -32601,
  RPC_INVALID_PARAMS = -32602,
  RPC_INTERNAL_ERROR = -32603,
  /* MCP before 2025-06-18: a resource that does not exist. */
  RPC_RESOURCE_NOT_FOUND = -32002,
};

/* ---- lines ---- */

/* Cuts a byte stream into lines (without "\n", and without a "\r" before
 * it) of at most limit bytes. */
struct rpc_reader {
  struct buf line;
  size_t limit;
  size_t dropped; /* bytes of the current line beyond the limit */
};
/* Called for each line. too_big: the line was longer than the limit; text
 * holds none of it and len is its length. A non-zero return stops
 * rpc_reader_feed, which returns it. */
typedef int (*rpc_line_fn)(void *ctx, const char *text, size_t len,
                           bool too_big);
void rpc_reader_init(struct rpc_reader *r, size_t limit);
void rpc_reader_release(struct rpc_reader *r);
/* Takes n bytes of the stream; calls fn for every line they complete. */
int rpc_reader_feed(struct rpc_reader *r, const char *data, size_t n,
                    rpc_line_fn fn, void *ctx);
/* At the end of the stream: a last line without a newline, if any. */
int rpc_reader_finish(struct rpc_reader *r, rpc_line_fn fn, void *ctx);

/* ---- messages ---- */

enum rpc_kind {
  RPC_REQUEST,      /* method and id */
  RPC_NOTIFICATION, /* method, no id */
  RPC_RESPONSE,     /* result or error for a request of ours */
  RPC_BATCH,        /* a JSON array: each element is a message */
  RPC_INVALID,      /* answer with code and message */
};

struct rpc_msg {
  int kind;
  json_t *root;       /* the parsed text (owned), NULL if it did not parse */
  json_t *id;         /* borrowed from root; NULL when none or unusable */
  const char *method; /* borrowed from root */
  json_t *params;     /* borrowed from root; NULL when absent */
  int code;           /* RPC_INVALID: the error to answer */
  char message[160];
};

/* Parses one line as a message. Never fails: what is not a valid message
 * is RPC_INVALID with the error to answer (RPC_PARSE_ERROR for text that
 * is not JSON, RPC_INVALID_REQUEST for JSON that is not a message, with
 * its id when it has a usable one). Release m with rpc_msg_release. */
void rpc_parse(const char *text, size_t len, struct rpc_msg *m);
/* The same for one JSON value (an element of a batch); v is borrowed and
 * must outlive m. Call with m->root set (NULL for an element): it is
 * kept. */
void rpc_classify(json_t *v, struct rpc_msg *m);
void rpc_msg_release(struct rpc_msg *m);

/* {"jsonrpc":"2.0","id":id,"result":result}; steals result. */
json_t *rpc_result(json_t *id, json_t *result);
/* {"jsonrpc":"2.0","id":id or null,"error":{code,message[,data]}};
 * steals data (may be NULL). */
json_t *rpc_error(json_t *id, int code, const char *message, json_t *data);
/* {"jsonrpc":"2.0","method":method[,"params":params]}; steals params. */
json_t *rpc_notification(const char *method, json_t *params);

/* The message as one line of compact JSON and a newline, appended to
 * out. Strings are escaped, so the line holds no other newline. Returns
 * false when jansson cannot write it (invalid UTF-8 in a string). */
bool rpc_dump(json_t *msg, struct buf *out);

/* ---- protocol versions ---- */

/* The MCP revisions spoken, newest first, NULL-terminated. */
extern const char *const mcp_versions[];
/* The revision to answer an initialize that asked for requested: the
 * same when spoken, else the newest. */
const char *mcp_negotiate(const char *requested);
/* True when revision a is the same as or later than b (dates compare as
 * text). */
bool mcp_version_at_least(const char *a, const char *b);

#endif
