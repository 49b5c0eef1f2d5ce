/* SPDX-License-Identifier: MIT */
/* model.h: the records taskfs keeps (sessions, groups, tasks, sections) and
 * the value forms shared by the store, render and parse. No SQL, no I/O. */
#ifndef TASKFS_MODEL_H
#define TASKFS_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* The letters and digits of s, lower-cased, one space between words;
 * emoji, punctuation and markup dropped ("## ✅ Completed Tasks" gives
 * "completed tasks"). */
void words_normalize(const char *s, char *out, size_t size);

/* Task and group status. The order is the order of the status sections in
 * a group file. */
enum status {
  STATUS_ACTIVE,
  STATUS_BLOCKED,
  STATUS_PLANNED,
  STATUS_COMPLETED,
  STATUS_COUNT
};

enum priority {
  PRIORITY_LOW,
  PRIORITY_MEDIUM,
  PRIORITY_HIGH,
  PRIORITY_CRITICAL,
  PRIORITY_COUNT
};

/* The word stored in the database and written in files: "active", ... */
const char *status_name(int status);
/* Title-case word for headings: "Active", ... */
const char *status_title(int status);
const char *status_emoji(int status);
/* Accepts the stored words in any case and the usual synonyms ("done",
 * "in progress", "todo", ...), ignoring emoji and surrounding punctuation.
 * Returns -1 for anything else. */
int status_parse(const char *s);

const char *priority_name(int priority);
const char *priority_title(int priority);
int priority_parse(const char *s);

/* Session status: a fixed set of words. */
bool session_status_valid(const char *s);
extern const char *const session_statuses[];

/* A list of strings; the list owns them. */
struct strlist {
  char **v;
  size_t n, cap;
};
void strlist_add(struct strlist *l, const char *s);
void strlist_clear(struct strlist *l);
bool strlist_eq(const struct strlist *a, const struct strlist *b);
void strlist_copy(struct strlist *dst, const struct strlist *src);

struct session {
  char *id, *title, *status, *mode, *description;
  char *created_at, *updated_at;
  int64_t rev, created_rev;
  bool deleted;
};

struct group {
  char *id, *session_id, *name, *title, *description, *specialist;
  char *created_at, *updated_at;
  int status, priority;
  double position;
  int64_t rev, created_rev, members_rev;
  bool deleted;
};

struct task {
  char *id, *session_id, *group_id, *title, *description, *specialist;
  char *current_status, *started_at, *completed_at, *created_at, *updated_at;
  int status, progress, priority;
  double estimate, actual; /* hours; NAN when not set */
  struct strlist deps, deliverables;
  double position;
  int64_t rev, created_rev;
  bool deleted;
};

enum owner_kind { OWNER_SESSION, OWNER_GROUP, OWNER_TASK };
const char *owner_kind_name(int kind);
int owner_kind_parse(const char *s);

/* Free text a user owns: a heading line and the bytes under it, kept
 * exactly as written. key identifies the section within its owner. */
struct section {
  int64_t id;
  int owner_kind;
  char *owner_id, *key, *heading, *body;
  double position;
  int64_t rev, created_rev;
  bool deleted;
};

/*
 * The fields of each record that the store versions, in the order of
 * their columns. The names are the column names and the "field" of a
 * history entry.
 */
enum session_field {
  SF_TITLE,
  SF_STATUS,
  SF_MODE,
  SF_DESCRIPTION,
  SF_DELETED,
  SF_COUNT
};
enum group_field {
  GF_NAME,
  GF_TITLE,
  GF_DESCRIPTION,
  GF_STATUS,
  GF_PRIORITY,
  GF_SPECIALIST,
  GF_POSITION,
  GF_DELETED,
  GF_COUNT
};
enum task_field {
  TF_GROUP,
  TF_TITLE,
  TF_DESCRIPTION,
  TF_STATUS,
  TF_PROGRESS,
  TF_PRIORITY,
  TF_SPECIALIST,
  TF_ESTIMATE,
  TF_ACTUAL,
  TF_STARTED,
  TF_COMPLETED,
  TF_DEPS,
  TF_DELIVERABLES,
  TF_CURRENT,
  TF_POSITION,
  TF_DELETED,
  TF_COUNT
};
enum section_field {
  XF_KEY,
  XF_HEADING,
  XF_BODY,
  XF_POSITION,
  XF_DELETED,
  XF_COUNT
};
extern const char *const session_field_names[SF_COUNT];
extern const char *const group_field_names[GF_COUNT];
extern const char *const task_field_names[TF_COUNT];
extern const char *const section_field_names[XF_COUNT];
/* Returns the index of name in names[n], or -1. */
int field_index(const char *const *names, int n, const char *name);

/* _init zeroes a caller-owned record (estimate/actual NAN);
 * _release frees its strings and leaves it initialised. */
void session_init(struct session *s);
void session_release(struct session *s);
void group_init(struct group *g);
void group_release(struct group *g);
void task_init(struct task *t);
void task_release(struct task *t);
void task_copy(struct task *dst, const struct task *src);
void group_copy(struct group *dst, const struct group *src);
void session_copy(struct session *dst, const struct session *src);
void section_init(struct section *x);
void section_release(struct section *x);
void section_copy(struct section *dst, const struct section *src);

/* Field-wise comparison and copy of tasks, groups and sessions, by the
 * indexes of task_field_names, group_field_names, session_field_names. */
bool task_field_eq(const struct task *a, const struct task *b, int field);
void task_field_copy(struct task *dst, const struct task *src, int field);
bool group_field_eq(const struct group *a, const struct group *b, int field);
void group_field_copy(struct group *dst, const struct group *src, int field);
bool session_field_eq(const struct session *a, const struct session *b,
                      int field);
void session_field_copy(struct session *dst, const struct session *src,
                        int field);

/* Sets a task's status with what it implies: a completed task is 100%
 * done. (Start and completion times are kept by the store.) */
void task_set_status(struct task *t, int status);

/* The largest effort, in hours (about 114 years of work). */
#define EFFORT_MAX 1000000.0

/* Hours as written in files: "4h", "1.5h", "0.25h"; "" when NAN. */
void effort_format(double hours, char out[32]);
/* Accepts "4h", "4 h", "4", "1.5h", "90m", "1h30m", and "", "-", "—"
 * (unset, NAN). Returns false for anything else, a negative value or one
 * above EFFORT_MAX. */
bool effort_parse(const char *s, double *hours);

/* Progress "60%", "60 %" or "60". Returns 0, or -1 when it is not a whole
 * number, -2 when it is outside 0-100. */
int progress_parse(const char *s, int *out);

/* A stored time "YYYY-MM-DD HH:MM:SS.mmm" as shown in files:
 * "YYYY-MM-DD HH:MM UTC"; "" for NULL. */
void time_display(const char *stored, char out[32]);

#endif
