/* SPDX-License-Identifier: MIT */
/* apply.h: the merge stage of a save: a parsed document merged field by
 * field into the records of the store, inside the save's transaction.
 * Shared by sync.c (the pipeline, new files) and apply.c; not for other
 * modules. */
#ifndef TASKFS_SYNC_APPLY_H
#define TASKFS_SYNC_APPLY_H

#include "config.h"
#include "conflict.h"
#include "parse.h"
#include "store.h"
#include "sync.h"

/* The heading of the empty notes section a task or group file shows when
 * it has none: not a section of its own. */
#define NOTES_PLACEHOLDER "## \xf0\x9f\x93\x9d Notes"

struct ctx {
  struct store *st;
  struct doc *doc;
  const struct vnode *f;
  struct diags *dg;
  /* The base, and when the same old text was saved before, the state
   * that save left (a field counts as edited only if it differs from
   * both: an editor that did not reload saves its old revision again). */
  struct asof *base, *alt;
  int64_t base_rev, alt_rev;
  struct save_memo memo;
  bool has_memo;
  bool *memo_used;
  struct strlist created_titles, created_ids;
  int changes;
  struct settle_env env; /* the policy and where this save happens */
  struct policy policy;  /* env's */
  struct buf path;       /* of the file, for labels */
};

/* Records an operation in the sync log (see sync.c); res->unrecorded says
 * whether the log could not take it. */
void sync_record(struct store *st, const char *type, const struct vnode *f,
                 int64_t t0, int rc, struct save_result *res);

char *apply_norm_text(const char *s);
char *apply_norm_line(const char *s);
int apply_sections(struct ctx *c, int owner_kind, const char *owner,
                   const struct psection *fs, size_t nf,
                   const char *placeholder, const char *skip_prefix,
                   const char *only_key);
int apply_new_task(struct ctx *c, const struct ptask *p, const char *group,
                   int default_status, double pos, const char *want_id,
                   char **id_out);
int apply_group(struct ctx *c);
int apply_task(struct ctx *c);
int apply_session(struct ctx *c);
int apply_notes(struct ctx *c);

#endif
