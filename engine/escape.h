/* SPDX-License-Identifier: MIT */
/* escape.h: free text (descriptions, current status) placed among the
 * structure of a generated file. A line of it that would read as
 * structure (a heading, a setext underline, a "**Deliverables**:" label)
 * gets one more leading backslash when rendered, and loses one when read
 * back, so any text round-trips exactly and never splits a task block.
 * Lines inside fenced code blocks are left alone. */
#ifndef TASKFS_ESCAPE_H
#define TASKFS_ESCAPE_H

#include "buf.h"

/* Appends text to out with structural lines escaped. */
void escape_text(const char *text, struct buf *out);
/* The text with one backslash removed from each escaped line; the caller
 * frees it. */
char *unescape_text(const char *text);

/* A heading's text whose end would read as a closing "#" run gets a
 * backslash before that run (appended to out); heading_unescape undoes it
 * in place. */
void escape_heading(const char *title, struct buf *out);
void heading_unescape(char *text);

#endif
