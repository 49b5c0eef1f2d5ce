/* SPDX-License-Identifier: MIT */
/* config.h: the conflict policies of taskfs.yaml, read with libyaml. What
 * happens when a save and the database changed the same thing. */
#ifndef TASKFS_CONFIG_H
#define TASKFS_CONFIG_H

#include <stdint.h>

#include "buf.h"
#include "model.h"

enum strategy {
  ST_AUTO_MERGE,    /* the later change wins within the window, else ask */
  ST_USER_CHOICE,   /* a .conflict.md file asks the user */
  ST_FILE_WINS,     /* the file's version is applied */
  ST_DATABASE_WINS, /* the database's version stays */
  ST_MANUAL_TASK,   /* the database's stays, and a task asks to resolve */
  ST_COUNT
};

struct policy {
  int strategy[CT_COUNT];
  int64_t window_ns; /* of auto_merge */
  /* A save that would delete at least this many tasks, and at least half
   * of those its file showed, deletes none: the deletion waits for a
   * person to confirm it in the conflict file. 0: never. */
  int confirm_deletions;
};

/* The defaults: status and progress auto_merge within 5 minutes, user
 * content file_wins, structural changes user_choice, system fields
 * database_wins, anything else manual_task; deletions of 3 tasks or more
 * at once confirmed. */
void policy_default(struct policy *p);

const char *conflict_type_name(int type);
const char *strategy_name(int strategy);

/*
 * Reads a taskfs.yaml into p (starting from the defaults). Returns ENG_OK,
 * ENG_NOTFOUND when the file does not exist, or ENG_INVALID with
 * "FILE:LINE: message" in err for anything else.
 */
int policy_load(const char *path, struct policy *p, struct buf *err);

#endif
