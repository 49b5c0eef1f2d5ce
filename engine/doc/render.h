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

/* The pieces of a file that show one task and nothing else of the
 * document: a group file's overview row and block of a task, and a task
 * file's title heading and task body. */
enum render_part { RENDER_ROW, RENDER_BLOCK, RENDER_TASK, RENDER_PARTS };

/*
 * Where the pieces of a file may come from instead of being written from
 * the document: a cache above the store (load.c). For each piece of task
 * i, render_doc_parts asks get; when get appends the piece and returns
 * true, that text is used and the task's fields are not read for it;
 * otherwise the piece is written from d->tasks[i] and handed to put
 * (when not NULL). The bytes are then the same as render_doc's as long
 * as get gives back what put was given for the same task fields.
 *
 * A task whose pieces get gives needs only its id, status, estimate and
 * actual in the document (a group file's sections and metrics are
 * placed and counted from them).
 */
struct render_parts {
  bool (*get)(void *ctx, size_t task, int part, struct buf *out);
  void (*put)(void *ctx, size_t task, int part, const char *text, size_t len);
  void *ctx;
};

/* render_doc, with pieces from parts (NULL: render_doc). */
void render_doc_parts(const struct doc *d, const struct render_parts *parts,
                      struct buf *out);

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
