/* SPDX-License-Identifier: MIT */
/* render.h: turns a document (doc.h) into the markdown of its file kind.
 * A pure function of the document: no store, no FUSE, no parsing. The
 * grammar it writes is the one parse.c reads, its words are grammar.h's,
 * and docs/format.md describes it.
 *
 * Rendering is deterministic: the same document gives the same bytes.
 * engine/load.c fills documents from the store.
 */
#ifndef TASKFS_RENDER_H
#define TASKFS_RENDER_H

#include <stdint.h>

#include "buf.h"
#include "doc.h"
#include "grammar.h"
#include "model.h"

/* What a rendered file is: its revision (the newest change to anything
 * it shows, written as "revision:" in its front matter) and the time of
 * that change. */
struct render_info {
  int64_t rev;
  int64_t mtime_ns;
};

/* Fills info, when not NULL, for a text kept at time created_at (a held
 * draft, a backup): rev, and created_at as the modification time. */
void render_info_set(struct render_info *info, int64_t rev,
                     const char *created_at);

/* Appends the text of d, a session, group, task or notes document, to
 * out: front matter, the parts a user edits and the generated parts. A
 * task document shows its first task. Appends nothing for other kinds. */
void render_doc(const struct doc *d, struct buf *out);

/* Front matter: "---", taskfs: 1, session (when non-NULL), key: value when key
 * is non-NULL, revision, "---". Values are quoted by libyaml's emitter as YAML
 * needs. */
void render_front_matter(struct buf *out, const char *session_id,
                         const char *key, const char *value, int64_t rev);

/* The text of a task block without its heading line, as it appears both
 * in group files and task files (the task file adds the group name). */
void render_task_body(struct buf *out, const struct task *t,
                      const char *group_name);

/* Appends s on one line: line breaks become spaces. */
void render_line(struct buf *out, const char *s);

#endif
