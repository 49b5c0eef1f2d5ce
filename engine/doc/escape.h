/* SPDX-License-Identifier: MIT */
/* escape.h: free text (descriptions, current status, section bodies)
 * placed among the structure of a generated file.
 *
 * A line of a description or current status that would read as structure
 * (a heading, a setext underline, a "**Deliverables**:" label) gets one
 * more leading backslash when rendered, and loses one when read back.
 * A fenced code block or an HTML block that the text opens and never
 * closes would swallow what follows the text (in CommonMark it runs to
 * the end of the document): its opening line gets a backslash too, so it
 * opens nothing. A line that would open a block behind a backslash
 * already ("\```", "\<div>") gets one more, so that the two read back
 * apart. Lines inside code and HTML blocks are left alone. So any text
 * round-trips exactly and never changes the structure around it. Section
 * bodies are escaped only against swallowing: their headings are the
 * user's own.
 *
 * Lines end at LF, CR LF or a lone CR (as in CommonMark); the escaped
 * text ends its lines with LF.
 */
#ifndef TASKFS_ESCAPE_H
#define TASKFS_ESCAPE_H

#include "buf.h"

#include <stdbool.h>

/* Where a free text sits in its file. */
enum escape_place {
  ESCAPE_AFTER_LIST,   /* after a list and a blank line, then a blank line:
                          a description after its fields */
  ESCAPE_BLOCKS,       /* after a blank line, then a blank line */
  ESCAPE_INLINE,       /* the first line continues a label line
                          ("**Current status**: "), then a blank line */
  ESCAPE_SECTION,      /* a section body: a heading line follows at once */
  ESCAPE_LAST_SECTION, /* a section body at the end of the file */
};

/* Appends text, placed at place, to out with its lines escaped. */
void escape_text(const char *text, enum escape_place place, struct buf *out);
/* The text read back from place with one backslash removed from each
 * escaped line; the caller frees it. ESCAPE_SECTION and
 * ESCAPE_LAST_SECTION read alike. */
char *unescape_text(const char *text, enum escape_place place);
/* Whether the first line of text is empty, starts or ends with a space or
 * tab (which a label line would drop) or would open a code or HTML block: such
 * a text cannot continue a label line (ESCAPE_INLINE) and is written below
 * it as ESCAPE_BLOCKS. */
bool escape_own_line(const char *text);

/* Appends text of len bytes as a fenced code block (info string "text")
 * with a fence longer than any run of backticks in it, so that nothing in
 * it closes the block. */
void escape_fenced(const char *text, size_t len, struct buf *out);

/* A heading's text whose end would read as a closing "#" run gets a
 * backslash before that run (appended to out); heading_unescape undoes it
 * in place. */
void escape_heading(const char *title, struct buf *out);
void heading_unescape(char *text);

#endif
