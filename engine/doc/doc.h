/* SPDX-License-Identifier: MIT */
/* doc.h: the document model, one for both directions. A loader fills a
 * struct doc from the store (engine/load.c), render_doc() turns it into
 * text, and parse_doc() fills the same struct from text. Plain data: no
 * store, no I/O, no markdown.
 *
 * The parts a user may edit (identity, title, header fields, tasks,
 * sections, the notes text) travel both ways: parse_doc(render_doc(d))
 * gives them back as they were, which doc_eq() checks. The generated
 * parts (counts, the groups table, activity) are filled by the loader and
 * only rendered; a parsed document records where they stand instead
 * (doc->generated). Line numbers, the overview table's signals and the
 * diagnostics are what parse found in a text and are not compared.
 */
#ifndef TASKFS_DOC_H
#define TASKFS_DOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "model.h"

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

/* One task block (or the task of a task file). Fields that a block does
 * not write are -1, NAN with has_ false, or NULL. */
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
  /* Start and completion as shown ("2026-01-02 10:00 UTC"); the
   * database keeps them, a save does not change them. */
  char *started, *completed;
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

/* A generated part of a parsed file, kept to tell whether it was
 * edited. */
struct pgenerated {
  char *name; /* the heading line, or "fields" */
  int line;
  size_t start, end; /* byte range in the normalised text */
};

/* Task counts and efforts by status: the metrics of a file. */
struct doc_stats {
  int count[STATUS_COUNT];
  double estimate, actual; /* hours */
};

/* A row of a session's groups table. */
struct doc_group {
  char *title, *name;
  int status, priority;
  struct doc_stats stats;
};

/* A line of a session's recent activity. */
struct doc_event {
  bool added; /* the task was created; else its status changed */
  int status;
  char *at; /* as shown */
  char *title, *group_name;
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
  char *created; /* as shown; NULL when not written */
  char *description;
  struct ptask *tasks;
  size_t ntasks;
  struct psection *sections;
  size_t nsections;
  char *notes_body; /* notes files: everything under the title */
  /* Generated parts of a session file, filled by the loader (a group
   * file's metrics come from its tasks). */
  struct doc_stats stats;
  struct doc_group *groups;
  size_t ngroups;
  struct doc_event *events;
  size_t nevents;
  /* What parse found: generated parts, the normalised text (no BOM, LF
   * line ends) and the problems. */
  struct pgenerated *generated;
  size_t ngenerated;
  char *text;
  size_t len;
  struct diags diags;
};

/* An empty document of kind: no revision, status and priority -1. */
void doc_init(struct doc *d, int kind);
void doc_release(struct doc *d);
/* Appends an empty task (ptask_init) to d and returns it; the pointer
 * stays valid until the next doc_add_task. */
struct ptask *doc_add_task(struct doc *d);
/* Appends a section; d owns x's strings afterwards. */
void doc_add_section(struct psection **v, size_t *n, struct psection x);

void ptask_init(struct ptask *t);
void ptask_release(struct ptask *t);
/* dst (uninitialised) becomes an independent copy of src. */
void ptask_copy(struct ptask *dst, const struct ptask *src);
/* Moves every line number t holds (its own, its fields', its sections')
 * by delta; absent ones (0) stay absent. */
void ptask_shift(struct ptask *t, int delta);
void psection_release(struct psection *x);

/* A stored task as a block shows it: every field written, the times as
 * shown, in its status section when in_section (a group file), with the
 * Group field when group_name is not NULL (a task file). Copies. */
void ptask_from_task(struct ptask *p, const struct task *t, bool in_section,
                     const char *group_name);
/* A stored section as a document holds it. Copies. */
void psection_from_section(struct psection *p, const struct section *x);

/* Whether the parts a user may edit are the same in a and b, field by
 * field (NAN equals NAN). When they differ and why is not NULL, the
 * first difference is appended to it ("tasks[2].estimate"). */
bool psection_eq(const struct psection *a, const struct psection *b,
                 struct buf *why);
bool ptask_eq(const struct ptask *a, const struct ptask *b, struct buf *why);
bool doc_eq(const struct doc *a, const struct doc *b, struct buf *why);
/* doc_eq and everything else a parse fills: line numbers, the overview
 * table's signals, generated parts, the normalised text and the
 * diagnostics in their order. Two parses of one text must be identical. */
bool doc_identical(const struct doc *a, const struct doc *b, struct buf *why);

#endif
