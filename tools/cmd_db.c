/* SPDX-License-Identifier: MIT */
/* cmd_db.c: the commands on the database as a whole: init and export.
 * (demo is in demo.c with its data.) */
#include "taskctl.h"
#include "util.h"

#include <limits.h>
#include <stdlib.h>

int cmd_init(struct ctl *c) {
  /* store_open has created the file and its schema, or found them. */
  char *abs = realpath(store_path(c->st), NULL);
  printf("%s\n", abs ? abs : store_path(c->st));
  free(abs);
  return 0;
}

int cmd_export(struct ctl *c) {
  struct buf b = BUF_INIT;
  int rc = store_export_json(c->st, &b);
  if (rc == ENG_OK)
    out_json(&b);
  buf_release(&b);
  return rc ? ctl_fail_store(c, rc) : 0;
}
