/* SPDX-License-Identifier: MIT */
/* report.h: the read-only files that report on the store: the sync
 * status, the edit log, backups and the error file of a held save. They
 * are never parsed back, so they have no document model: each function
 * reads one consistent snapshot of the store and appends the text to
 * out. Returns an enum eng_rc (details in store_errmsg).
 */
#ifndef TASKFS_REPORT_H
#define TASKFS_REPORT_H

#include <stdint.h>

#include "buf.h"
#include "render.h"
#include "store.h"

/* meta/sync_status.md: open problems (files held with errors), warnings
 * of recent saves, and counts. */
int report_sync_status(struct store *st, const char *session_id,
                       struct buf *out, struct render_info *info);
/* meta/edit_log.md: the changes made through the mount, newest first. */
int report_edit_log(struct store *st, const char *session_id, struct buf *out,
                    struct render_info *info);
/* meta/backups/<id>-<what>.md: one backup, and how to bring it back. */
int report_backup(struct store *st, int64_t id, struct buf *out,
                  struct render_info *info);
/* <name>.error.md: why the text held at a path could not be applied. */
int report_error(struct store *st, const char *kind, const char *record,
                 const char *path, struct buf *out, struct render_info *info);

#endif
