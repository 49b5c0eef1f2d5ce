/* SPDX-License-Identifier: MIT */
/* mcp.h: taskctl's MCP server, in three parts: the session and its
 * messages (mcp.c), the tools (mcp_tools.c, which reach the database only
 * through ops.h) and the files of the tree as resources (mcp_files.c, the
 * only part that asks the engine's view and store directly).
 *
 * Not thread-safe: the server is one thread, which answers requests and
 * polls the database between them.
 */
#ifndef TASKCTL_MCP_H
#define TASKCTL_MCP_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "model.h"
#include "ops.h"
#include "store.h"

/* ---- tools (mcp_tools.c) ---- */

/* Words the hints of ops' messages as MCP tools and arguments. */
void mcp_hint(struct buf *out, enum ops_hint h, const char *arg);

/* The tools as a tools/list result array, for protocol revision version
 * (outputSchema and title from 2025-06-18, annotations from
 * 2025-03-26). A new reference: the caller json_decrefs it. */
json_t *mcp_tools_list(const char *version);

/*
 * Calls the tool name with args (an object, or NULL for none; borrowed).
 * Returns 0 and sets *result (the caller json_decrefs it) to a
 * CallToolResult: structuredContent and its JSON
 * as text, or isError with a message that says what to do when the
 * arguments or the call are wrong (a missing or mistyped argument, an
 * unknown id, a bad value, a locked database): a change is then not
 * made at all. Returns RPC_INVALID_PARAMS with *message (the caller
 * frees it) when name is no tool.
 */
int mcp_tool_call(struct ops *o, const char *name, json_t *args,
                  const char *version, json_t **result, char **message);

/* ---- files as resources (mcp_files.c) ----
 *
 * Every file of the tree is a resource "taskfs:///<session>/<path>", each
 * segment percent-encoded as RFC 3986 asks, with exactly the bytes the
 * mount shows.
 */
#define MCP_URI_PREFIX "taskfs:///"

/* Adds the URIs of every file to uris, sorted; the caller clears it. On
 * failure (a store result) uris is left empty. */
int mcp_files_list(struct store *st, struct strlist *uris);
/* Appends the bytes of the file at uri to out. ENG_NOTFOUND when uri
 * names no file (also when it is not of the taskfs scheme); other store
 * results when the database cannot be read. */
int mcp_files_read(struct store *st, const char *uri, struct buf *out);
/* The path of uri below the root ("<session>/task_groups/x.md"), decoded;
 * NULL when uri is not a taskfs URI. The caller frees it. */
char *mcp_files_path(const char *uri);

/* What a file showed when last looked at, to tell whether it changed. */
struct mcp_file_state {
  bool exists;
  int64_t rev;   /* view_revision() */
  uint64_t hash; /* of what has no revision: the text of unversioned
                    files, a held draft */
};
/* A URI that names no file (yet) has exists false; a store result when
 * the database cannot be read. */
int mcp_files_state(struct store *st, const char *uri,
                    struct mcp_file_state *out);
bool mcp_file_state_eq(const struct mcp_file_state *a,
                       const struct mcp_file_state *b);

/* ---- the server (mcp.c) ---- */

/* Serves MCP on standard input and output until the input ends. st is
 * open for writing; its source becomes "mcp:<client name>" once the
 * client introduces itself. Returns 0, or 1 when the output could not
 * be written. */
int mcp_serve(struct store *st, const char *db_path);

#endif
