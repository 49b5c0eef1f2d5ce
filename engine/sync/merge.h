/* SPDX-License-Identifier: MIT */
/* merge.h: line-wise three-way merge of free text, as diff3 does it.
 * Pure functions on strings; knows nothing of the store or of files. */
#ifndef TASKFS_MERGE_H
#define TASKFS_MERGE_H

#include <stdbool.h>

#include "buf.h"

/*
 * Merges the changes from base to ours and from base to theirs, line by
 * line. When no line range was changed on both sides in different ways,
 * appends the merged text to out and returns true. Otherwise returns
 * false and leaves out as it was. A change made identically on both
 * sides is taken once. Texts are compared exactly, line ends included.
 */
bool merge_lines(const char *base, const char *ours, const char *theirs,
                 struct buf *out);

#endif
