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

enum owner_kind { OWNER_SESSION, OWNER_GROUP, OWNER_TASK };
const char *owner_kind_name(int kind);
int owner_kind_parse(const char *s);

/* What kind of change a field is when a save and the database both
 * changed it: the key of its policy in taskfs.yaml. */
enum conflict_type {
  CT_TASK_STATUS,  /* a task's status changed on both sides */
  CT_PROGRESS,     /* a task's progress changed on both sides */
  CT_USER_CONTENT, /* free text: descriptions, notes, sections */
  CT_STRUCTURAL,   /* tasks or sections added, deleted or moved */
  CT_SYSTEM,       /* fields the database keeps (times, metrics) */
  CT_OTHER,        /* any other field: titles, priorities, efforts */
  CT_COUNT
};

/*
 * ---- the records, each field said once ----
 *
 * Every field of every record kind is one line of the lists below: its
 * enum name, its member, its type, what it is for and its conflict type.
 * The structs, the field enums and the field table (record_kinds[]) are
 * made from these lists, and everything per field walks the table: the
 * lifecycle and comparison functions below, the store's columns and row
 * readers, the history, the merge of a save and the JSON of taskctl.
 * Adding a field is one line here and a migration of the store.
 *
 * Versioned fields come first, in the order of their columns: a change
 * to one of them is a revision, kept in the history under its member
 * name. The others are the record's identity and what the store keeps.
 */

/* How a field is held and written in text form: the form the history,
 * backups and conflicts keep, and the store's column holds. */
enum field_type {
  FT_TEXT,     /* char *, never NULL once read: free text */
  FT_LINE,     /* char *, never NULL once read: one line */
  FT_OPT,      /* char *, NULL when not set: ids and times */
  FT_STATUS,   /* int, enum status; text: its word ("active") */
  FT_PRIORITY, /* int, enum priority; text: its word ("high") */
  FT_OWNER,    /* int, enum owner_kind; text: its word ("group") */
  FT_INT,      /* int; text: decimal */
  FT_REAL,     /* double; text: %.17g */
  FT_HOURS,    /* double, NAN when not set; text: %.17g, NULL unset */
  FT_BOOL,     /* bool; text: "0" or "1" */
  FT_LIST,     /* struct strlist; text: a JSON array of strings */
  FT_INT64,    /* int64_t; text: decimal */
};

#define FIELD_CTYPE_FT_TEXT char *
#define FIELD_CTYPE_FT_LINE char *
#define FIELD_CTYPE_FT_OPT char *
#define FIELD_CTYPE_FT_STATUS int
#define FIELD_CTYPE_FT_PRIORITY int
#define FIELD_CTYPE_FT_OWNER int
#define FIELD_CTYPE_FT_INT int
#define FIELD_CTYPE_FT_REAL double
#define FIELD_CTYPE_FT_HOURS double
#define FIELD_CTYPE_FT_BOOL bool
#define FIELD_CTYPE_FT_LIST struct strlist
#define FIELD_CTYPE_FT_INT64 int64_t

enum field_flags {
  FIELD_VERSIONED = 1, /* a change is a revision, kept in the history */
  FIELD_MERGED = 2,    /* a saved file may set it (three-way merge) */
  FIELD_KEY = 4,       /* the record's id */
  FIELD_IDENTITY = 8,  /* set when it is made: owner, session */
  FIELD_STORE = 16,    /* kept by the store: times, revisions */
};
#define VM (FIELD_VERSIONED | FIELD_MERGED)

/* X(enum, member, type, flags, conflict type, JSON key of taskctl) */
#define SESSION_FIELDS(X)                                                      \
  X(SF_TITLE, title, FT_LINE, VM, CT_OTHER, "title")                           \
  X(SF_STATUS, status, FT_LINE, VM, CT_OTHER, "status")                        \
  X(SF_MODE, mode, FT_LINE, VM, CT_OTHER, "mode")                              \
  X(SF_DESCRIPTION, description, FT_TEXT, VM, CT_USER_CONTENT, "description")  \
  X(SF_DELETED, deleted, FT_BOOL, VM, CT_STRUCTURAL, "deleted")                \
  X(SF_ID, id, FT_OPT, FIELD_KEY, CT_SYSTEM, "id")                             \
  X(SF_CREATED_AT, created_at, FT_OPT, FIELD_STORE, CT_SYSTEM, "created_at")   \
  X(SF_UPDATED_AT, updated_at, FT_OPT, FIELD_STORE, CT_SYSTEM, "updated_at")   \
  X(SF_REV, rev, FT_INT64, FIELD_STORE, CT_SYSTEM, "revision")                 \
  X(SF_CREATED_REV, created_rev, FT_INT64, FIELD_STORE, CT_SYSTEM, NULL)

#define GROUP_FIELDS(X)                                                        \
  X(GF_NAME, name, FT_LINE, VM, CT_OTHER, "name")                              \
  X(GF_TITLE, title, FT_LINE, VM, CT_OTHER, "title")                           \
  X(GF_DESCRIPTION, description, FT_TEXT, VM, CT_USER_CONTENT, "description")  \
  X(GF_STATUS, status, FT_STATUS, VM, CT_OTHER, "status")                      \
  X(GF_PRIORITY, priority, FT_PRIORITY, VM, CT_OTHER, "priority")              \
  X(GF_SPECIALIST, specialist, FT_LINE, VM, CT_OTHER, "specialist")            \
  X(GF_POSITION, position, FT_REAL, VM, CT_SYSTEM, "position")                 \
  X(GF_DELETED, deleted, FT_BOOL, VM, CT_STRUCTURAL, "deleted")                \
  X(GF_ID, id, FT_OPT, FIELD_KEY, CT_SYSTEM, "id")                             \
  X(GF_SESSION, session_id, FT_OPT, FIELD_IDENTITY, CT_SYSTEM, "session")      \
  X(GF_CREATED_AT, created_at, FT_OPT, FIELD_STORE, CT_SYSTEM, "created_at")   \
  X(GF_UPDATED_AT, updated_at, FT_OPT, FIELD_STORE, CT_SYSTEM, "updated_at")   \
  X(GF_REV, rev, FT_INT64, FIELD_STORE, CT_SYSTEM, "revision")                 \
  X(GF_CREATED_REV, created_rev, FT_INT64, FIELD_STORE, CT_SYSTEM, NULL)       \
  /* the revision of the last task that came, went or was deleted */           \
  X(GF_MEMBERS_REV, members_rev, FT_INT64, FIELD_STORE, CT_SYSTEM, NULL)

/* The times, the order and the deletion of a task are set by the store
 * and by how a file places its blocks, never merged as values. */
#define TASK_FIELDS(X)                                                         \
  X(TF_GROUP, group_id, FT_OPT, VM, CT_STRUCTURAL, "group")                    \
  X(TF_TITLE, title, FT_LINE, VM, CT_OTHER, "title")                           \
  X(TF_DESCRIPTION, description, FT_TEXT, VM, CT_USER_CONTENT, "description")  \
  X(TF_STATUS, status, FT_STATUS, VM, CT_TASK_STATUS, "status")                \
  X(TF_PROGRESS, progress, FT_INT, VM, CT_PROGRESS, "progress")                \
  X(TF_PRIORITY, priority, FT_PRIORITY, VM, CT_OTHER, "priority")              \
  X(TF_SPECIALIST, specialist, FT_LINE, VM, CT_OTHER, "specialist")            \
  X(TF_ESTIMATE, estimate, FT_HOURS, VM, CT_OTHER, "estimate")                 \
  X(TF_ACTUAL, actual, FT_HOURS, VM, CT_OTHER, "actual")                       \
  X(TF_STARTED, started_at, FT_OPT, FIELD_VERSIONED, CT_SYSTEM, "started_at")  \
  X(TF_COMPLETED, completed_at, FT_OPT, FIELD_VERSIONED, CT_SYSTEM,            \
    "completed_at")                                                            \
  X(TF_DEPS, dependencies, FT_LIST, VM, CT_OTHER, "dependencies")              \
  X(TF_DELIVERABLES, deliverables, FT_LIST, VM, CT_OTHER, "deliverables")      \
  X(TF_CURRENT, current_status, FT_TEXT, VM, CT_USER_CONTENT,                  \
    "current_status")                                                          \
  X(TF_POSITION, position, FT_REAL, FIELD_VERSIONED, CT_SYSTEM, "position")    \
  X(TF_DELETED, deleted, FT_BOOL, FIELD_VERSIONED, CT_STRUCTURAL, "deleted")   \
  X(TF_ID, id, FT_OPT, FIELD_KEY, CT_SYSTEM, "id")                             \
  X(TF_SESSION, session_id, FT_OPT, FIELD_IDENTITY, CT_SYSTEM, "session")      \
  X(TF_CREATED_AT, created_at, FT_OPT, FIELD_STORE, CT_SYSTEM, "created_at")   \
  X(TF_UPDATED_AT, updated_at, FT_OPT, FIELD_STORE, CT_SYSTEM, "updated_at")   \
  X(TF_REV, rev, FT_INT64, FIELD_STORE, CT_SYSTEM, "revision")                 \
  X(TF_CREATED_REV, created_rev, FT_INT64, FIELD_STORE, CT_SYSTEM, NULL)

/* Free text a user owns: a heading line and the bytes under it, kept
 * exactly as written. key identifies the section within its owner. */
#define SECTION_FIELDS(X)                                                      \
  X(XF_KEY, key, FT_LINE, VM, CT_STRUCTURAL, "key")                            \
  X(XF_HEADING, heading, FT_LINE, VM, CT_USER_CONTENT, "heading")              \
  X(XF_BODY, body, FT_TEXT, VM, CT_USER_CONTENT, "body")                       \
  X(XF_POSITION, position, FT_REAL, FIELD_VERSIONED, CT_SYSTEM, "position")    \
  X(XF_DELETED, deleted, FT_BOOL, FIELD_VERSIONED, CT_STRUCTURAL, "deleted")   \
  X(XF_ID, id, FT_INT64, FIELD_KEY, CT_SYSTEM, "id")                           \
  X(XF_OWNER_KIND, owner_kind, FT_OWNER, FIELD_IDENTITY, CT_SYSTEM,            \
    "owner_kind")                                                              \
  X(XF_OWNER, owner_id, FT_OPT, FIELD_IDENTITY, CT_SYSTEM, "owner")            \
  X(XF_REV, rev, FT_INT64, FIELD_STORE, CT_SYSTEM, "revision")                 \
  X(XF_CREATED_REV, created_rev, FT_INT64, FIELD_STORE, CT_SYSTEM, NULL)

#define FIELD_MEMBER(e, member, type, flags, ct, json)                         \
  FIELD_CTYPE_##type member;
#define FIELD_ENUM(e, member, type, flags, ct, json) e,

struct session {
  SESSION_FIELDS(FIELD_MEMBER)
};
struct group {
  GROUP_FIELDS(FIELD_MEMBER)
};
struct task {
  TASK_FIELDS(FIELD_MEMBER)
};
struct section {
  SECTION_FIELDS(FIELD_MEMBER)
};

/* Field indexes; *_COUNT is the number of versioned fields, which come
 * first (*_ALL counts them all). */
enum session_field { SESSION_FIELDS(FIELD_ENUM) SF_ALL };
enum group_field { GROUP_FIELDS(FIELD_ENUM) GF_ALL };
enum task_field { TASK_FIELDS(FIELD_ENUM) TF_ALL };
enum section_field { SECTION_FIELDS(FIELD_ENUM) XF_ALL };
#define SF_COUNT SF_ID
#define GF_COUNT GF_ID
#define TF_COUNT TF_ID
#define XF_COUNT XF_ID

/* The kinds of records. */
enum record_kind { RK_SESSION, RK_GROUP, RK_TASK, RK_SECTION, RK_COUNT };

struct record_field {
  const char *name; /* member, column and history field name */
  int type;         /* enum field_type */
  unsigned flags;   /* enum field_flags */
  int conflict;     /* enum conflict_type */
  const char *json; /* key in taskctl's JSON; NULL: not shown */
  size_t offset;    /* of the member in the record */
};

struct record_kind_desc {
  const char *name;  /* "task": the kind in history, backups, conflicts */
  const char *table; /* "tasks" */
  size_t size;       /* of the struct */
  const struct record_field *fields;
  int nfields;    /* all of them */
  int nversioned; /* the first nversioned are the versioned ones */
  int key;        /* index of the id */
};
extern const struct record_kind_desc record_kinds[RK_COUNT];

/* The kind named "task", "group", "session" or "section"; -1 otherwise. */
int record_kind_parse(const char *name);
/* The index of the field called name in kind, or -1. */
int record_field_index(int kind, const char *name);

/* Lifecycle of a record of any kind (rec points to its struct): _init
 * zeroes it (status planned, priority medium, efforts unset); _release
 * frees what it holds and leaves it initialised; _copy makes dst an
 * independent copy of src. */
void record_init(int kind, void *rec);
void record_release(int kind, void *rec);
void record_copy(int kind, void *dst, const void *src);

/* Field i of two records is the same value (NAN equals NAN). */
bool record_field_eq(int kind, const void *a, const void *b, int i);
/* Field i of src into dst. A task's group brings its session along. */
void record_field_copy(int kind, void *dst, const void *src, int i);
/* Field i in its text form; NULL for no value. The caller frees it. */
char *record_field_text(int kind, const void *rec, int i);
/* Sets field i from its text form (NULL: no value). Words that are no
 * status or priority give the default; false when the text is not a
 * value of the field's type at all (a list that is no JSON array). */
bool record_field_set(int kind, void *rec, int i, const char *text);

/* The fields of rec with any of flags as a JSON object of field name to
 * text form (null for no value); the caller frees it. */
char *record_fields_json(int kind, const void *rec, unsigned flags);
/* Sets on rec every field of kind that the JSON object json names (text
 * forms, as record_fields_json writes them, or numbers); other keys are
 * passed over. False when json is no JSON object of strings, numbers and
 * nulls. */
bool record_fields_from_json(int kind, void *rec, const char *json);

/* A list of strings as a JSON array, escaped as SQLite's json functions
 * escape it; the caller frees it. */
char *strlist_to_json(const struct strlist *l);
/* The strings of a JSON array of strings (other values as their JSON
 * text) into out; false, with out empty, when text is no JSON array. */
bool strlist_from_json(const char *text, struct strlist *out);

static inline void session_init(struct session *s) {
  record_init(RK_SESSION, s);
}
static inline void session_release(struct session *s) {
  record_release(RK_SESSION, s);
}
static inline void session_copy(struct session *d, const struct session *s) {
  record_copy(RK_SESSION, d, s);
}
static inline void group_init(struct group *g) { record_init(RK_GROUP, g); }
static inline void group_release(struct group *g) {
  record_release(RK_GROUP, g);
}
static inline void group_copy(struct group *d, const struct group *s) {
  record_copy(RK_GROUP, d, s);
}
static inline void task_init(struct task *t) { record_init(RK_TASK, t); }
static inline void task_release(struct task *t) { record_release(RK_TASK, t); }
static inline void task_copy(struct task *d, const struct task *s) {
  record_copy(RK_TASK, d, s);
}
static inline void section_init(struct section *x) {
  record_init(RK_SECTION, x);
}
static inline void section_release(struct section *x) {
  record_release(RK_SECTION, x);
}
static inline void section_copy(struct section *d, const struct section *s) {
  record_copy(RK_SECTION, d, s);
}
static inline bool task_field_eq(const struct task *a, const struct task *b,
                                 int i) {
  return record_field_eq(RK_TASK, a, b, i);
}
static inline bool group_field_eq(const struct group *a, const struct group *b,
                                  int i) {
  return record_field_eq(RK_GROUP, a, b, i);
}
static inline bool session_field_eq(const struct session *a,
                                    const struct session *b, int i) {
  return record_field_eq(RK_SESSION, a, b, i);
}

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
