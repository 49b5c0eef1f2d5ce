/* SPDX-License-Identifier: MIT */
/* cmd_mcp.c: taskctl mcp: the database served to an MCP client on
 * standard input and output. The server is mcp.c; this only starts it. */
#include "mcp.h"
#include "taskctl.h"

int cmd_mcp(struct ctl *c) {
  return mcp_serve(c->st, c->db_path) ? EXIT_FAIL : EXIT_OK;
}
