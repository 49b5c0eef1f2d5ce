/* SPDX-License-Identifier: MIT */
/* grammar.h: the words of the file format, each spelled once. The labels
 * of field lines ("- **Depends on**: ..."), the titles and emoji of the
 * sections taskfs writes, the notes files, and the other words a reader
 * accepts for each. render.c writes the titles; parse.c recognises the
 * titles and their synonyms. docs/format.md describes the same grammar.
 *
 * Words are compared in the form words_normalize() gives (model.h):
 * lower case, markup and emoji dropped.
 */
#ifndef TASKFS_GRAMMAR_H
#define TASKFS_GRAMMAR_H

#include <stdbool.h>

/* The labels of field lines and of labelled paragraphs. */
enum label {
  LABEL_NONE = -1,
  LABEL_STATUS,
  LABEL_GROUP,
  LABEL_PROGRESS,
  LABEL_PRIORITY,
  LABEL_SPECIALIST,
  LABEL_FOCUS, /* "Specialist focus" of a group: read as LABEL_SPECIALIST */
  LABEL_MODE,
  LABEL_ESTIMATE,
  LABEL_ACTUAL,
  LABEL_DEPENDS,
  LABEL_STARTED,
  LABEL_COMPLETED,
  LABEL_CREATED,
  LABEL_UPDATED,
  LABEL_ID,
  LABEL_DELIVERABLES, /* a paragraph label: "**Deliverables**:" */
  LABEL_CURRENT,      /* a paragraph label: "**Current status**:" */
  LABEL_COUNT
};

/* The label as written: "Depends on". */
const char *label_title(int label);
/* The field a field line with the normalised key stands for in a file
 * of the doc kind (doc.h), or LABEL_NONE: its title or a synonym, and
 * only in the kinds where the field exists ("Mode" in session files,
 * "Group" in task files). Paragraph labels are no fields. */
int label_field(const char *key, int kind);
/* Whether the normalised word is the paragraph label (its title or a
 * synonym). */
bool label_is(const char *word, int label);

/* The headings of the sections taskfs writes. */
enum heading {
  HEADING_NONE = -1,
  HEADING_METRICS,    /* generated, in session and group files */
  HEADING_OVERVIEW,   /* a group's task table, read as signals */
  HEADING_GROUPS,     /* generated, session files */
  HEADING_CHART,      /* generated, session files */
  HEADING_ACTIVITY,   /* generated, session files */
  HEADING_NOTES_FILE, /* generated, session files */
  HEADING_NOTES,      /* the empty user section of group and task files */
  HEADING_INSIGHTS,   /* the empty user section of session files */
  HEADING_COUNT
};

/* "Task Overview" and its emoji. */
const char *heading_title(int heading);
const char *heading_emoji(int heading);
/* The heading of a section taskfs writes and reads back as such in a
 * file of the doc kind, from the heading's normalised words (its title
 * or a synonym), or HEADING_NONE. The empty user sections are never
 * found: a heading of that name is the user's. */
int heading_parse(const char *words, int kind);

/* The notes files of a session: notes/<name>.md shows the session
 * section with key "notes/<name>". */
#define NOTES_COUNT 3
extern const char *const notes_names[NOTES_COUNT];
extern const char *const notes_titles[NOTES_COUNT];
extern const char *const notes_emojis[NOTES_COUNT];
/* Index of a notes name ("decisions"), or -1. */
int notes_index(const char *name);

/* A status section's title may end in this word ("Completed Tasks"). */
#define STATUS_SECTION_SUFFIX "tasks"

#endif
