/* SPDX-License-Identifier: MIT */
/* parse.h: reads the markdown of a generated file back into the document
 * model (doc.h): identity and base revision from the front matter (libyaml),
 * and the session, group, tasks and user sections from the body (cmark for the
 * block structure, the lines themselves for the values). No store access: what
 * the values mean for the database is sync.c's business.
 *
 * The grammar is the one render.c writes; docs/format.md describes it.
 */
#ifndef TASKFS_PARSE_H
#define TASKFS_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "doc.h"
#include "model.h"

/* The largest file taskfs reads back (larger writes get EFBIG). */
#define PARSE_MAX_BYTES (64u << 20)

/*
 * Parses text as a file of kind hint (the kind its path implies; the
 * front matter may name another, which is reported). Always fills doc,
 * which the caller releases with doc_release; problems are in
 * doc->diags (doc->diags.errors > 0 means nothing should be applied).
 */
void parse_doc(const char *text, size_t len, int hint, struct doc *doc);

/*
 * A memo of the task blocks of the last group file parsed with it, by
 * their text: a later text of the file parses its task blocks that did
 * not change by taking them from the memo, and only the rest with cmark.
 * parse_doc_memo gives the same document as parse_doc, line numbers and
 * diagnostics included (doc_identical); when the text does not split
 * into segments as it looks, it is parsed whole. Not thread-safe: one
 * parse at a time per memo. parse_memo_free(NULL) does nothing.
 */
struct parse_memo;
struct parse_memo *parse_memo_new(void);
void parse_memo_free(struct parse_memo *m);

/* Like parse_doc, with memo (may be NULL): afterwards the memo holds
 * the task blocks of this text (of a group file; otherwise nothing). */
void parse_doc_memo(const char *text, size_t len, int hint,
                    struct parse_memo *memo, struct doc *doc);

/* What the last parse with a memo did. */
struct parse_memo_stats {
  size_t reused; /* task blocks taken from the memo */
  size_t parsed; /* task blocks parsed */
  bool whole;    /* the text was parsed whole */
  size_t bytes;  /* of text the memo holds now */
};
void parse_memo_stats(const struct parse_memo *m, struct parse_memo_stats *out);

/* The text of a generated part by name in a text of the same kind, for
 * comparing what was served with what came back; false if absent. */
bool parse_find_generated(const char *text, size_t len, const char *name,
                          size_t *start, size_t *end);

#endif
