/* SPDX-License-Identifier: MIT */
/* docgen.h: random documents for the property tests (test_docmodel.c,
 * test_parsememo.c). Deterministic: the same seed gives the same
 * documents on every platform. The documents are the ones a file can
 * hold: titles and field values on one line without surrounding space,
 * free text without surrounding blank lines or CR, tasks of a group in
 * the order of its status sections, user sections under headings of
 * their own with keys made from them. Within that, the texts are chosen
 * to look like the file's own structure: headings, labels, field lines,
 * fences, HTML, lists, tables, backslashes, emoji. */
#ifndef TASKFS_DOCGEN_H
#define TASKFS_DOCGEN_H

#include "doc.h"

#include <stdbool.h>
#include <stdint.h>

void docgen_seed(uint64_t seed);
uint64_t docgen_rnd(void);
/* 0 to n-1. */
int docgen_pick(int n);
bool docgen_chance(int percent);
/* One line of words, no surrounding space, never empty; free() it. */
char *docgen_line(void);
/* Free text of 1-6 lines; in a section body (section), no line opens a
 * section of its own; free() it. */
char *docgen_text(bool section);
/* "<prefix><i>_<random>"; free() it. */
char *docgen_id(const char *prefix, int i);
/* A random document of kind (doc_release it). */
void docgen_doc(struct doc *d, int kind);
/* A random task, the i-th of its file; in_group: in a status section. */
void docgen_task(struct ptask *t, int i, bool in_group);
/* Orders a group's tasks by their status sections, stably. */
void docgen_sort_tasks(struct doc *d);

#endif
