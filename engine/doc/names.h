/* SPDX-License-Identifier: MIT */
/* names.h: ids and file names made from data. Everything a name in the
 * tree comes from passes through here, so that no record can produce a
 * path with '/', NUL, control characters, "." or "..". */
#ifndef TASKFS_NAMES_H
#define TASKFS_NAMES_H

#include <stdbool.h>

#include "buf.h"

#define NAME_MAX_BYTES 200

/* An id is 1-120 bytes of [A-Za-z0-9_.-], not starting with '.'. */
bool id_is_valid(const char *id);

/*
 * A name that can stand for itself as a file name stem: 1 to
 * NAME_MAX_BYTES bytes of valid UTF-8, no '/', no control characters, no
 * leading '.', no leading or trailing space, and not ending in ".conflict"
 * or ".error" (the stems of the files taskfs puts beside others).
 */
bool name_is_safe(const char *name);

/*
 * The file name stem for a record: the name itself when safe, otherwise
 * the name with every unsafe byte replaced by '_' and "~" plus eight hex
 * digits of a hash of the original appended, so that it stays unique and
 * stable. Appends to out.
 */
void name_for_file(const char *name, struct buf *out);

/* Lower-case ASCII words of text joined by '_' (at most max_words, 0 for
 * all, and at most 40 bytes); non-ASCII letters are dropped. Appends. */
void slug(const char *text, int max_words, struct buf *out);

/* A group name for a title: the slug, or "group" when it is empty. */
void name_from_title(const char *title, struct buf *out);

/* The key of a user section from its heading line ("## 💡 Key Insights"
 * gives "key_insights"): the slug of the heading text; "section" when the
 * text has no ASCII letters or digits. Appends to out. */
void section_key(const char *heading_line, struct buf *out);

/* True when s is valid UTF-8. */
bool utf8_valid(const char *s, size_t n);

#endif
