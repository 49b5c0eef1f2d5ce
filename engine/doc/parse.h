/* SPDX-License-Identifier: MIT */
/* parse.h: reads the markdown of a generated file back into a document
 * model: identity and base revision from the front matter (libyaml), and
 * the session, group, tasks and user sections from the body (cmark for
 * the block structure, the lines themselves for the values). No store
 * access: what the values mean for the database is sync.c's business.
 *
 * The grammar is the one render.c writes; docs/format.md describes it.
 */
#ifndef TASKFS_PARSE_H
#define TASKFS_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "model.h"

/* The largest file taskfs reads back (larger writes get EFBIG). */
#define PARSE_MAX_BYTES (64u << 20)

enum doc_kind { DOC_UNKNOWN, DOC_SESSION, DOC_GROUP, DOC_TASK, DOC_NOTES };

enum diag_level { DIAG_ERROR, DIAG_WARNING };

/* Problems found in a file, each with its line (1-based; 0: the file). */
struct diag {
  int line, level;
  char *msg;
};
struct diags {
  struct diag *v;
  size_t n, cap;
  int errors, warnings;
};
void diags_add(struct diags *d, int level, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void diags_release(struct diags *d);
/* Appends "LINE: error: message" lines (errors first). */
void diags_format(const struct diags *d, struct buf *out);

/* A user section: its heading line and the bytes under it, verbatim. */
struct psection {
  char *key, *heading, *body;
  int line;
};

/* One task block (or the task of a task file) as written. Fields that a
 * block does not write are -1, NAN with has_ false, or NULL. */
struct ptask {
  char *id; /* NULL for a new task */
  char *title;
  int line, end_line;
  int section_status; /* the status section it stands in; -1 none */
  int checkbox;       /* -1 none, 0 "[ ]", 1 "[x]" */
  int status, status_line;
  int progress, progress_line;
  int priority;
  bool has_specialist, has_estimate, has_actual, has_deps;
  char *specialist;
  double estimate, actual;
  struct strlist dependencies;
  char *group_name; /* task files: the Group field */
  int group_line;
  char *description;
  struct strlist deliverables;
  char *current_status;
  /* From the group file's overview table, when it has a row for the
   * task: -1 / NULL otherwise. */
  int table_status, table_progress, table_line;
  char *table_title;
  /* Task files: the task's own sections. */
  struct psection *sections;
  size_t nsections;
};

/* A generated part of the file, kept to tell whether it was edited. */
struct pgenerated {
  char *name; /* the heading line, or "fields" */
  int line;
  size_t start, end; /* byte range in the normalised text */
};

struct doc {
  int kind;
  /* front matter */
  bool has_front_matter;
  int fm_end_line; /* the line of the closing "---" */
  char *session, *group, *task, *notes;
  int64_t revision; /* -1 when absent */
  /* header of session and group files */
  char *title;
  int title_line;
  char *status_word;    /* session status as written */
  int status, priority; /* group; -1 when not written */
  bool has_specialist, has_mode;
  char *specialist, *mode;
  char *description;
  struct ptask *tasks;
  size_t ntasks;
  struct psection *sections;
  size_t nsections;
  char *notes_body; /* notes files: everything under the title */
  struct pgenerated *generated;
  size_t ngenerated;
  /* The text after normalisation (no BOM, LF line ends). */
  char *text;
  size_t len;
  struct diags diags;
};

/*
 * Parses text as a file of kind hint (the kind its path implies; the
 * front matter may name another, which is reported). Always fills doc,
 * which the caller releases with doc_release; problems are in
 * doc->diags (doc->diags.errors > 0 means nothing should be applied).
 */
void parse_doc(const char *text, size_t len, int hint, struct doc *doc);
void doc_release(struct doc *doc);

/* The text of a generated part by name in a text of the same kind, for
 * comparing what was served with what came back; false if absent. */
bool parse_find_generated(const char *text, size_t len, const char *name,
                          size_t *start, size_t *end);

#endif
