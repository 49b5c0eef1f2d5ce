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

/* The text of a generated part by name in a text of the same kind, for
 * comparing what was served with what came back; false if absent. */
bool parse_find_generated(const char *text, size_t len, const char *name,
                          size_t *start, size_t *end);

#endif
