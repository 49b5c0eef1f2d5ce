/* SPDX-License-Identifier: MIT */
/* load.h: fills documents (doc.h) from the store, the other direction
 * from parse. What a session, group, task or notes file shows is read
 * here in one consistent snapshot; render_doc() then writes it.
 */
#ifndef TASKFS_LOAD_H
#define TASKFS_LOAD_H

#include "blocks.h"
#include "buf.h"
#include "doc.h"
#include "render.h"
#include "store.h"

/*
 * Fills d (caller-owned: doc_release it, also on failure) with what the
 * file of kind (DOC_SESSION, DOC_GROUP, DOC_TASK, DOC_NOTES) shows. id is
 * the session, group or task id; notes the index in notes_names for
 * DOC_NOTES (id is then the session). info, when not NULL, gets the
 * document's revision and the time of that change. Returns ENG_OK,
 * ENG_NOTFOUND for no such record or kind, or another enum eng_rc.
 */
int load_doc(struct store *st, int kind, const char *id, int notes,
             struct doc *d, struct render_info *info);

/* load_doc, then render_doc into out: the text of that file. Appends
 * nothing on failure. */
int load_render(struct store *st, int kind, const char *id, int notes,
                struct buf *out, struct render_info *info);

/*
 * load_render, with the pieces of group and task files that show one
 * task (render.h, enum render_part) taken from cache when it holds them
 * for that state of the task, and kept there when rendered. The text is
 * the same bytes as load_render's. cache NULL: load_render. The cache is
 * not used inside a write transaction of st. known_rev: the document's
 * revision, as the caller read it in the read transaction it renders in
 * (store_read_begin); 0: read here.
 */
int load_render_cached(struct store *st, struct blocks *cache, int kind,
                       const char *id, int notes, int64_t known_rev,
                       struct buf *out, struct render_info *info);

/* info, when not NULL, for revision rev: rev and the time of that
 * change in the store. */
void load_info(struct store *st, struct render_info *info, int64_t rev);

#endif
