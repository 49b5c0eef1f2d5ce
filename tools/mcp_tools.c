/* SPDX-License-Identifier: MIT */
/* mcp_tools.c: the MCP server's tools: their schemas, their arguments
 * made into ops calls, and their results. Reaches the database only
 * through ops.h, as taskctl's commands do; JSON is jansson's. */
#include "json.h"
#include "mcp.h"
#include "mcp_rpc.h"
#include "util.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ---- what the hints of ops' messages say to an MCP client ---- */

void mcp_hint(struct buf *out, enum ops_hint h, const char *arg) {
  switch (h) {
  case HINT_SESSION_LIST:
    buf_adds(out, "the session_list tool shows them");
    break;
  case HINT_GROUP_LIST:
    if (arg)
      buf_printf(out, "group_list with session \"%s\" shows them", arg);
    else
      buf_adds(out, "group_list shows them");
    break;
  case HINT_GROUP_BY_NAME:
    buf_adds(out, "give \"session\" to find it by name, or see group_list");
    break;
  case HINT_TASK_LIST:
    buf_adds(out, "task_list shows them");
    break;
  case HINT_GROUP_RESTORE:
    buf_printf(out, "group_restore with id \"%s\" brings it back", arg);
    break;
  case HINT_RESTORE_NAME:
    buf_adds(out, "restore it under another name with \"name\"");
    break;
  case HINT_CONFLICTS:
    buf_adds(out, "conflict_list lists the unresolved ones");
    break;
  case HINT_BACKUPS:
    buf_adds(out, "backup_list lists them");
    break;
  case HINT_BUSY:
    buf_adds(out, "another program holds the database; call the tool again "
                  "in a moment");
    break;
  }
}

/* ---- arguments ---- */

enum ptype {
  P_STRING,   /* one line of text */
  P_TEXT,     /* free text, may span lines */
  P_ENUM,     /* one of values */
  P_PROGRESS, /* 0-100 */
  P_EFFORT,   /* hours, or "4h", "90m"; "" unsets */
  P_LIST,     /* an array of strings */
  P_BOOL,
  P_COUNT,  /* a whole number >= 0 */
  P_NUMBER, /* a conflict or backup number >= 1 */
  P_TASKS,  /* an array of task objects */
};

struct param {
  const char *name;
  int type;
  int field; /* the enum ops_field it sets, or -1 */
  const char *const *values;
  const char *desc;
};

static const char *const task_statuses[] = {"planned", "active", "blocked",
                                            "completed", NULL};
static const char *const priorities[] = {"low", "medium", "high", "critical",
                                         NULL};
static const char *const keeps[] = {"db", "file", "manual", NULL};

#define END                                                                    \
  { NULL, 0, -1, NULL, NULL }
#define P_ID(what)                                                             \
  { "id", P_STRING, -1, NULL, "the id of the " what }
#define P_SESSION(desc)                                                        \
  { "session", P_STRING, -1, NULL, desc }
#define P_DELETED(desc)                                                        \
  { "include_deleted", P_BOOL, -1, NULL, desc }

/* The fields of a task, said once: the schemas of task_add, task_set and
 * the objects of task_add_many, and what each sets. */
#define TASK_PARAMS                                                            \
  {"status", P_ENUM, OF_STATUS, task_statuses,                                 \
   "planned (the default), active, blocked or completed; completed makes "     \
   "progress 100 unless progress is given too"},                               \
      {"progress", P_PROGRESS, OF_PROGRESS, NULL, "percent done, 0-100"},      \
      {"priority", P_ENUM, OF_PRIORITY, priorities,                            \
       "low, medium (the default), high or critical"},                         \
      {"specialist", P_STRING, OF_SPECIALIST, NULL,                            \
       "the role that works on it, such as implementer"},                      \
      {"description", P_TEXT, OF_DESCRIPTION, NULL, "free text"},              \
      {"estimate", P_EFFORT, OF_ESTIMATE, NULL,                                \
       "effort planned: hours as a number, or text such as \"4h\", "           \
       "\"90m\", \"1h30m\"; \"\" unsets it"},                                  \
      {"actual", P_EFFORT, OF_ACTUAL, NULL, "effort spent, as estimate"},      \
      {"dependencies", P_LIST, -1, NULL,                                       \
       "ids of tasks it depends on (replaces the list; [] empties it)"},       \
      {"deliverables", P_LIST, -1, NULL,                                       \
       "what it produces (replaces the list; [] empties it)"},                 \
  {                                                                            \
    "current_status", P_STRING, OF_CURRENT_STATUS, NULL,                       \
        "a one-line note on where it stands"                                   \
  }

#define GROUP_PARAMS                                                           \
  {"name", P_STRING, OF_NAME, NULL,                                            \
   "its file name: task_groups/NAME.md; unique among the live groups of "      \
   "the session"},                                                             \
      {"title", P_STRING, OF_TITLE, NULL, "its title"},                        \
      {"status", P_ENUM, OF_STATUS, task_statuses,                             \
       "planned, active, blocked or completed"},                               \
      {"priority", P_ENUM, OF_PRIORITY, priorities,                            \
       "low, medium, high or critical"},                                       \
      {"specialist", P_STRING, OF_SPECIALIST, NULL, "who works on it"}, {      \
    "description", P_TEXT, OF_DESCRIPTION, NULL, "free text"                   \
  }

static const char *const session_statuses_enum[] = {
    "active", "paused", "completed", "archived", NULL};

#define SESSION_PARAMS                                                         \
  {"title", P_STRING, OF_TITLE, NULL, "its title"},                            \
      {"status", P_ENUM, OF_STATUS, session_statuses_enum,                     \
       "active, paused, completed or archived"},                               \
      {"mode", P_STRING, OF_MODE, NULL,                                        \
       "the orchestrator mode, such as development_roles.yaml"},               \
  {                                                                            \
    "description", P_TEXT, OF_DESCRIPTION, NULL, "free text"                   \
  }

/* One call: its arguments as ops fields, and its result. */
struct call {
  struct ops *o;
  json_t *args;         /* borrowed; an object */
  struct ops_fields f;  /* the field arguments given */
  struct strlist texts; /* field values made text, owned */
  struct strlist dependencies, deliverables;
  json_t *out; /* the structured result */
  int nfields; /* field arguments given */
};

static const char *arg_str(struct call *c, const char *name) {
  return json_string_value(json_object_get(c->args, name));
}

static bool arg_bool(struct call *c, const char *name) {
  return json_is_true(json_object_get(c->args, name));
}

static bool arg_given(struct call *c, const char *name) {
  json_t *v = json_object_get(c->args, name);
  return v && !json_is_null(v);
}

/* Keeps a text for c->f. */
static const char *keep_text(struct call *c, const char *s) {
  strlist_add(&c->texts, s);
  return c->texts.v[c->texts.n - 1];
}

static const char *json_kind(const json_t *v) {
  switch (json_typeof(v)) {
  case JSON_OBJECT:
    return "an object";
  case JSON_ARRAY:
    return "an array";
  case JSON_STRING:
    return "a string";
  case JSON_INTEGER:
    return "an integer";
  case JSON_REAL:
    return "a number";
  case JSON_TRUE:
  case JSON_FALSE:
    return "a boolean";
  default:
    return "null";
  }
}

static int wrong_type(struct call *c, const char *name, const char *want,
                      const json_t *v) {
  return ops_fail(c->o, ENG_INVALID, "argument \"%s\" must be %s, not %s", name,
                  want, json_kind(v));
}

/* Checks one argument against its parameter and fills c->f. A null
 * value counts as absent. */
static int take_arg(struct call *c, const struct param *p, json_t *v) {
  char num[64];
  if (json_is_null(v))
    return ENG_OK;
  switch (p->type) {
  case P_STRING:
  case P_TEXT:
  case P_ENUM:
    if (!json_is_string(v))
      return wrong_type(c, p->name, "a string", v);
    if (p->type == P_STRING && strchr(json_string_value(v), '\n'))
      return ops_fail(c->o, ENG_INVALID,
                      "argument \"%s\" must be one line of text", p->name);
    if (p->field >= 0)
      c->f.v[p->field] = json_string_value(v);
    break;
  case P_PROGRESS:
    if (json_is_integer(v)) {
      snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
      c->f.v[p->field] = keep_text(c, num);
    } else if (json_is_string(v)) {
      c->f.v[p->field] = json_string_value(v);
    } else {
      return wrong_type(c, p->name, "a whole number 0-100", v);
    }
    break;
  case P_EFFORT:
    if (json_is_number(v)) {
      double h = json_number_value(v);
      if (!isfinite(h) || h < 0)
        return ops_fail(c->o, ENG_INVALID,
                        "argument \"%s\" must be a number of hours >= 0",
                        p->name);
      snprintf(num, sizeof num, "%.17g", h);
      c->f.v[p->field] = keep_text(c, num);
    } else if (json_is_string(v)) {
      c->f.v[p->field] = json_string_value(v);
    } else {
      return wrong_type(c, p->name, "hours (a number) or a text such as \"4h\"",
                        v);
    }
    break;
  case P_LIST: {
    if (!json_is_array(v))
      return wrong_type(c, p->name, "an array of strings", v);
    struct strlist *l = strcmp(p->name, "dependencies") == 0 ? &c->dependencies
                                                             : &c->deliverables;
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e) {
      if (!json_is_string(e))
        return ops_fail(c->o, ENG_INVALID,
                        "element %zu of \"%s\" must be a string, not %s", i,
                        p->name, json_kind(e));
      strlist_add(l, json_string_value(e));
    }
    if (l == &c->dependencies)
      c->f.dependencies = l;
    else
      c->f.deliverables = l;
    break;
  }
  case P_BOOL:
    if (!json_is_boolean(v))
      return wrong_type(c, p->name, "true or false", v);
    break;
  case P_COUNT:
  case P_NUMBER:
    if (!json_is_integer(v) ||
        json_integer_value(v) < (p->type == P_NUMBER ? 1 : 0))
      return ops_fail(c->o, ENG_INVALID, "argument \"%s\" must be %s", p->name,
                      p->type == P_NUMBER ? "a whole number >= 1"
                                          : "a whole number >= 0");
    break;
  case P_TASKS: {
    if (!json_is_array(v) || json_array_size(v) == 0)
      return wrong_type(c, p->name, "a non-empty array of task objects", v);
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e) {
      if (!json_is_object(e))
        return ops_fail(c->o, ENG_INVALID,
                        "element %zu of \"%s\" must be an object, not %s", i,
                        p->name, json_kind(e));
    }
    break;
  }
  }
  if (p->field >= 0 || p->type == P_LIST)
    c->nfields++;
  return ENG_OK;
}

/* ---- tools ---- */

struct tool {
  const char *name, *title, *desc;
  const struct param *params;  /* ends with END */
  const char *const *required; /* NULL-terminated */
  int (*run)(struct call *c);
  json_t *(*output)(void); /* the outputSchema */
  bool read_only, idempotent;
};

/* v, the JSON an ops call made with result rc, as the value of key in
 * c->out; returns rc. */
static int put_json(struct call *c, int rc, const char *key, json_t *v) {
  if (rc)
    return rc;
  if (!c->out)
    c->out = json_object();
  json_object_set_new(c->out, key, v);
  return ENG_OK;
}

static int put_record(struct call *c, int kind, const char *id) {
  json_t *v = NULL;
  int rc = ops_record_json(c->o, kind, id, &v);
  return put_json(c, rc, owner_kind_name(kind), v);
}

static int need_change(struct call *c, const char *what) {
  if (c->nfields == 0)
    return ops_fail(c->o, ENG_INVALID, "nothing to change: give %s", what);
  return ENG_OK;
}

/* -- sessions -- */

static int run_session_create(struct call *c) {
  char *id = NULL;
  int rc = ops_session_create(c->o, arg_str(c, "id"), &c->f, &id);
  if (rc == ENG_OK)
    rc = put_record(c, OWNER_SESSION, id);
  free(id);
  return rc;
}

static int run_session_list(struct call *c) {
  json_t *v = NULL;
  int rc = ops_sessions_json(c->o, &v);
  return put_json(c, rc, "sessions", v);
}

static int run_session_show(struct call *c) {
  int rc = ops_check_session(c->o, arg_str(c, "id"));
  return rc ? rc : put_record(c, OWNER_SESSION, arg_str(c, "id"));
}

static int run_session_set(struct call *c) {
  int rc = need_change(c, "title, status, mode or description");
  if (rc == ENG_OK)
    rc = ops_session_set(c->o, arg_str(c, "id"), &c->f);
  return rc ? rc : put_record(c, OWNER_SESSION, arg_str(c, "id"));
}

/* -- groups -- */

static int run_group_create(struct call *c) {
  if (!c->f.v[OF_NAME] && !c->f.v[OF_TITLE])
    return ops_fail(c->o, ENG_INVALID, "give \"name\" (or \"title\")");
  char *id = NULL;
  int rc = ops_group_create(c->o, arg_str(c, "session"), arg_str(c, "id"),
                            &c->f, &id);
  if (rc == ENG_OK)
    rc = put_record(c, OWNER_GROUP, id);
  free(id);
  return rc;
}

static int run_group_list(struct call *c) {
  json_t *v = NULL;
  int rc = ops_groups_json(c->o, arg_str(c, "session"),
                           arg_bool(c, "include_deleted"), &v);
  return put_json(c, rc, "groups", v);
}

static int run_group_show(struct call *c) {
  struct group g;
  group_init(&g);
  int rc = ops_get_group(c->o, arg_str(c, "session"), arg_str(c, "id"), &g);
  if (rc == ENG_OK)
    rc = put_record(c, OWNER_GROUP, g.id);
  group_release(&g);
  return rc;
}

static int change_group(struct call *c, enum ops_change what) {
  char *id = NULL;
  int rc = ops_group_change(c->o, arg_str(c, "session"), arg_str(c, "id"), what,
                            &c->f, &id);
  if (rc == ENG_OK)
    rc = put_record(c, OWNER_GROUP, id);
  free(id);
  return rc;
}

static int run_group_set(struct call *c) {
  int rc = need_change(
      c, "name, title, status, priority, specialist or description");
  return rc ? rc : change_group(c, OPS_SET);
}

static int run_group_remove(struct call *c) {
  return change_group(c, OPS_REMOVE);
}

static int run_group_restore(struct call *c) {
  return change_group(c, OPS_RESTORE);
}

/* -- tasks -- */

static int run_task_add(struct call *c) {
  char *id = NULL;
  int rc =
      ops_task_add(c->o, arg_str(c, "session"), arg_str(c, "id"), &c->f, &id);
  if (rc == ENG_OK)
    rc = put_record(c, OWNER_TASK, id);
  free(id);
  return rc;
}

static int run_task_add_many(struct call *c) {
  struct strlist ids = {0};
  int rc = ops_task_import(c->o, json_object_get(c->args, "tasks"), &ids);
  if (rc == ENG_OK) {
    c->out = json_pack("{s:[]}", "tasks");
    for (size_t i = 0; rc == ENG_OK && i < ids.n; i++) {
      json_t *t;
      if ((rc = ops_record_json(c->o, OWNER_TASK, ids.v[i], &t)) == ENG_OK)
        json_array_append_new(json_object_get(c->out, "tasks"), t);
    }
  }
  strlist_clear(&ids);
  return rc;
}

static int run_task_show(struct call *c) {
  struct task t;
  task_init(&t);
  int rc = ops_get_task(c->o, arg_str(c, "id"), &t);
  task_release(&t);
  return rc ? rc : put_record(c, OWNER_TASK, arg_str(c, "id"));
}

static int change_task(struct call *c, enum ops_change what) {
  struct ops_task_note note;
  int rc = ops_task_change(c->o, arg_str(c, "id"), what, &c->f, &note);
  if (rc == ENG_OK)
    rc = put_record(c, OWNER_TASK, arg_str(c, "id"));
  if (rc == ENG_OK && note.group_deleted) {
    struct buf b = BUF_INIT;
    buf_printf(&b,
               "group %s is deleted, so the task stays hidden; "
               "group_restore with id \"%s\" brings the group back",
               note.group_id, note.group_id);
    json_object_set_new(c->out, "note", json_string(b.ptr));
    buf_release(&b);
  }
  free(note.group_id);
  return rc;
}

static int run_task_set(struct call *c) {
  int rc = need_change(c, "at least one field (title, status, progress, "
                          "group, ...)");
  return rc ? rc : change_task(c, OPS_SET);
}

static int run_task_remove(struct call *c) {
  return change_task(c, OPS_REMOVE);
}

static int run_task_restore(struct call *c) {
  return change_task(c, OPS_RESTORE);
}

static int run_task_list(struct call *c) {
  int status = -1, rc;
  const char *s = arg_str(c, "status");
  if (s && (rc = ops_parse_status(c->o, s, &status)))
    return rc;
  json_t *v = NULL;
  rc = ops_tasks_json(c->o, arg_str(c, "session"), status, arg_str(c, "group"),
                      arg_bool(c, "include_deleted"), &v);
  return put_json(c, rc, "tasks", v);
}

/* -- conflicts and backups -- */

static int run_conflict_list(struct call *c) {
  json_t *v = NULL;
  int rc = ops_conflicts_json(c->o, arg_str(c, "session"),
                              arg_bool(c, "include_resolved"), &v);
  return put_json(c, rc, "conflicts", v);
}

static int run_conflict_resolve(struct call *c) {
  const char *keep = arg_str(c, "keep"), *value = arg_str(c, "value");
  json_int_t id = json_integer_value(json_object_get(c->args, "id"));
  if (str_eq(keep, "manual") && !value)
    return ops_fail(c->o, ENG_INVALID,
                    "keep \"manual\" needs \"value\": the text the field "
                    "gets, written as in a file (60%%, 4h, high)");
  if (!str_eq(keep, "manual") && value)
    return ops_fail(c->o, ENG_INVALID,
                    "\"value\" goes with keep \"manual\" only");
  struct conflict x;
  conflict_init(&x);
  int rc = ops_resolve(c->o, (int64_t)id, keep, value, &x);
  if (rc == ENG_OK)
    c->out = json_pack("{s:I, s:o, s:o, s:o}", "id", (json_int_t)x.id, "status",
                       json_str(x.status), "resolution", json_str(x.resolution),
                       "manual_task", json_str(x.manual_task));
  conflict_release(&x);
  return rc;
}

static int run_backup_list(struct call *c) {
  json_t *v = NULL;
  int rc = ops_backups_json(c->o, arg_str(c, "session"), &v);
  return put_json(c, rc, "backups", v);
}

/* The lines of a save report as a JSON array. */
static json_t *report_lines(const struct buf *report) {
  json_t *a = json_array();
  for (const char *p = report->ptr; *p;) {
    const char *nl = strchr(p, '\n');
    size_t n = nl ? (size_t)(nl - p) : strlen(p);
    if (n) {
      char *line = xstrndup(p, n);
      json_array_append_new(a, json_str(line));
      free(line);
    }
    if (!nl)
      break;
    p = nl + 1;
  }
  return a;
}

static int run_backup_restore(struct call *c) {
  json_int_t id = json_integer_value(json_object_get(c->args, "id"));
  struct backup b;
  struct save_result res;
  memset(&b, 0, sizeof b);
  save_result_init(&res);
  int rc = ops_restore_backup(c->o, (int64_t)id, &b, &res);
  /* The errors of a text that could not be applied, in the message. */
  for (const char *p = res.report.ptr; rc == ENG_PARSE && *p;) {
    const char *nl = strchr(p, '\n');
    int n = nl ? (int)(nl - p) : (int)strlen(p);
    if (n)
      buf_printf(&c->o->err, "; %.*s", n, p);
    if (!nl)
      break;
    p = nl + 1;
  }
  if (rc == ENG_OK)
    c->out = json_pack("{s:I, s:o, s:o, s:o, s:i, s:i, s:o}", "id", id, "kind",
                       json_str(b.kind), "record", json_str(b.record), "field",
                       json_str(b.field), "changes", res.changes, "conflicts",
                       res.conflicts, "report", report_lines(&res.report));
  save_result_release(&res);
  store_backup_release(&b);
  return rc;
}

/* -- health and history -- */

static int run_sync_stats(struct call *c) {
  return ops_stats_json(c->o, arg_str(c, "session"), &c->out);
}

static int run_edit_log(struct call *c) {
  json_t *lim = json_object_get(c->args, "limit");
  size_t limit = json_is_integer(lim) ? (size_t)json_integer_value(lim) : 50;
  const char *source = arg_str(c, "source");
  if (!source)
    source = "taskfs";
  if (arg_bool(c, "all_sources"))
    source = NULL;
  struct change *v = NULL;
  size_t n = 0;
  int rc = ops_changes(c->o, arg_str(c, "session"), source, limit, &v, &n);
  if (rc)
    return rc;
  json_t *a = json_array();
  for (size_t i = 0; i < n; i++)
    json_array_append_new(
        a,
        json_pack("{s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
                  "revision", (json_int_t)v[i].rev, "at", json_str(v[i].at),
                  "source", json_str(v[i].source), "session",
                  json_str(v[i].session_id), "record_kind",
                  json_str(v[i].table), "record", json_str(v[i].record), "op",
                  json_str(v[i].op), "field", json_str(v[i].field), "old",
                  json_str(v[i].old_value), "new", json_str(v[i].new_value)));
  store_changes_free(v, n);
  c->out = json_pack("{s:o}", "changes", a);
  return ENG_OK;
}

/* ---- output schemas ---- */

/* A key of a record and its JSON type: "string", "integer", "number",
 * "boolean", "strings" (an array of strings), "object", "array"; a "?"
 * after it allows null. */
struct key {
  const char *name, *type;
};

static json_t *type_schema(const char *type) {
  size_t n = strlen(type);
  bool nullable = n && type[n - 1] == '?';
  char base[16];
  snprintf(base, sizeof base, "%.*s", (int)(nullable ? n - 1 : n), type);
  json_t *s;
  if (strcmp(base, "strings") == 0)
    s = json_pack("{s:s, s:{s:s}}", "type", "array", "items", "type", "string");
  else
    s = json_pack("{s:s}", "type", base);
  if (nullable)
    json_object_set_new(s, "type", json_pack("[s, s]", base, "null"));
  return s;
}

static json_t *object_schema(const struct key *keys, const char *const *req) {
  json_t *props = json_object();
  for (const struct key *k = keys; k->name; k++)
    json_object_set_new(props, k->name, type_schema(k->type));
  json_t *s = json_pack("{s:s, s:o}", "type", "object", "properties", props);
  if (req) {
    json_t *r = json_array();
    for (; *req; req++)
      json_array_append_new(r, json_string(*req));
    json_object_set_new(s, "required", r);
  }
  return s;
}

static const char *const id_only[] = {"id", NULL};

static const struct key session_keys[] = {{"id", "string"},
                                          {"title", "string?"},
                                          {"status", "string?"},
                                          {"mode", "string?"},
                                          {"description", "string?"},
                                          {"deleted", "boolean"},
                                          {"groups", "integer"},
                                          {"tasks", "integer"},
                                          {"completed", "integer"},
                                          {"created_at", "string?"},
                                          {"updated_at", "string?"},
                                          {"revision", "integer"},
                                          {NULL, NULL}};

static const struct key group_keys[] = {
    {"id", "string"},           {"session", "string"},
    {"name", "string"},         {"title", "string?"},
    {"description", "string?"}, {"status", "string"},
    {"priority", "string"},     {"specialist", "string?"},
    {"position", "number?"},    {"deleted", "boolean"},
    {"tasks", "integer"},       {"completed", "integer"},
    {"created_at", "string?"},  {"updated_at", "string?"},
    {"revision", "integer"},    {NULL, NULL}};

static const struct key task_keys[] = {{"id", "string"},
                                       {"session", "string"},
                                       {"group", "string"},
                                       {"group_name", "string?"},
                                       {"title", "string"},
                                       {"description", "string?"},
                                       {"status", "string"},
                                       {"progress", "integer"},
                                       {"priority", "string"},
                                       {"specialist", "string?"},
                                       {"estimate", "number?"},
                                       {"actual", "number?"},
                                       {"started_at", "string?"},
                                       {"completed_at", "string?"},
                                       {"dependencies", "strings"},
                                       {"deliverables", "strings"},
                                       {"current_status", "string?"},
                                       {"position", "number?"},
                                       {"deleted", "boolean"},
                                       {"created_at", "string?"},
                                       {"updated_at", "string?"},
                                       {"revision", "integer"},
                                       {NULL, NULL}};

static const struct key conflict_keys[] = {{"id", "integer"},
                                           {"session", "string?"},
                                           {"file_kind", "string?"},
                                           {"file_record", "string?"},
                                           {"type", "string?"},
                                           {"target_kind", "string?"},
                                           {"target", "string?"},
                                           {"field", "string?"},
                                           {"label", "string?"},
                                           {"base", "string?"},
                                           {"database", "string?"},
                                           {"file", "string?"},
                                           {"database_changed_at", "string?"},
                                           {"database_source", "string?"},
                                           {"detected_at", "string?"},
                                           {"status", "string"},
                                           {"resolution", "string?"},
                                           {"resolved_at", "string?"},
                                           {"manual_task", "string?"},
                                           {"note", "string?"},
                                           {NULL, NULL}};

static const struct key backup_keys[] = {
    {"id", "integer"},         {"session", "string?"},
    {"kind", "string?"},       {"record", "string?"},
    {"field", "string?"},      {"reason", "string?"},
    {"created_at", "string?"}, {"size", "integer?"},
    {"text", "string?"},       {NULL, NULL}};

static const struct key change_keys[] = {{"revision", "integer"},
                                         {"at", "string?"},
                                         {"source", "string?"},
                                         {"session", "string?"},
                                         {"record_kind", "string?"},
                                         {"record", "string?"},
                                         {"op", "string?"},
                                         {"field", "string?"},
                                         {"old", "string?"},
                                         {"new", "string?"},
                                         {NULL, NULL}};

/* {key: a record} or {key: [records]}. */
static json_t *wrap(const char *key, json_t *schema, bool list) {
  json_t *v =
      list ? json_pack("{s:s, s:o}", "type", "array", "items", schema) : schema;
  return json_pack("{s:s, s:{s:o}, s:[s]}", "type", "object", "properties", key,
                   v, "required", key);
}

static json_t *out_session(void) {
  return wrap("session", object_schema(session_keys, id_only), false);
}
static json_t *out_sessions(void) {
  return wrap("sessions", object_schema(session_keys, id_only), true);
}
static json_t *out_group(void) {
  return wrap("group", object_schema(group_keys, id_only), false);
}
static json_t *out_groups(void) {
  return wrap("groups", object_schema(group_keys, id_only), true);
}
static json_t *out_task(void) {
  json_t *s = wrap("task", object_schema(task_keys, id_only), false);
  json_object_set_new(json_object_get(s, "properties"), "note",
                      json_pack("{s:s, s:s}", "type", "string", "description",
                                "why a restored task stays hidden"));
  return s;
}
static json_t *out_tasks(void) {
  return wrap("tasks", object_schema(task_keys, id_only), true);
}
static json_t *out_conflicts(void) {
  return wrap("conflicts", object_schema(conflict_keys, id_only), true);
}
static json_t *out_resolved(void) {
  static const struct key keys[] = {{"id", "integer"},
                                    {"status", "string"},
                                    {"resolution", "string?"},
                                    {"manual_task", "string?"},
                                    {NULL, NULL}};
  return object_schema(keys, id_only);
}
static json_t *out_backups(void) {
  return wrap("backups", object_schema(backup_keys, id_only), true);
}
static json_t *out_restored(void) {
  static const struct key keys[] = {
      {"id", "integer"},      {"kind", "string?"},
      {"record", "string?"},  {"field", "string?"},
      {"changes", "integer"}, {"conflicts", "integer"},
      {"report", "strings"},  {NULL, NULL}};
  return object_schema(keys, id_only);
}
static json_t *out_stats(void) {
  static const struct key keys[] = {{"session", "string?"},
                                    {"operations", "integer"},
                                    {"ok", "integer"},
                                    {"errors", "integer"},
                                    {"held", "integer"},
                                    {"with_conflicts", "integer"},
                                    {"renders", "integer"},
                                    {"saves", "integer"},
                                    {"success_rate", "number"},
                                    {"conflict_rate", "number"},
                                    {"render_p50_ms", "number"},
                                    {"render_p95_ms", "number"},
                                    {"save_p50_ms", "number"},
                                    {"save_p95_ms", "number"},
                                    {"conflicts_total", "integer"},
                                    {"conflicts_open", "integer"},
                                    {"conflicts_resolved", "integer"},
                                    {"resolution_rate", "number"},
                                    {"errors_by_kind", "object"},
                                    {"open_conflicts", "array"},
                                    {"last_errors", "array"},
                                    {NULL, NULL}};
  static const char *const req[] = {"operations", "success_rate",
                                    "conflict_rate", "conflicts_open", NULL};
  return object_schema(keys, req);
}
static json_t *out_changes(void) {
  static const char *const req[] = {"revision", NULL};
  return wrap("changes", object_schema(change_keys, req), true);
}

/* ---- the table ---- */

static const struct param p_session_create[] = {
    SESSION_PARAMS,
    {"id", P_STRING, -1, NULL, "its id (default: session_ and 8 hex digits)"},
    END};
static const char *const r_title[] = {"title", NULL};
static const struct param p_none[] = {END};
static const struct param p_id_session[] = {P_ID("session"), END};
static const struct param p_session_set[] = {P_ID("session"), SESSION_PARAMS,
                                             END};

static const struct param p_group_create[] = {
    P_SESSION("the session it belongs to"),
    GROUP_PARAMS,
    {"id", P_STRING, -1, NULL, "its id (default: NAME_group_001)"},
    END};
static const char *const r_session[] = {"session", NULL};
static const struct param p_group_list[] = {
    P_SESSION("only the groups of this session"),
    P_DELETED("include deleted groups"), END};
#define P_GROUP_REF                                                            \
  {"id", P_STRING, -1, NULL,                                                   \
   "the group's id, or its name when session is given"},                       \
      P_SESSION("the session, to find the group by name")
static const struct param p_group_ref[] = {P_GROUP_REF, END};
static const struct param p_group_set[] = {P_GROUP_REF, GROUP_PARAMS, END};
static const struct param p_group_restore[] = {
    {"id", P_STRING, -1, NULL, "the id of the deleted group"},
    {"name", P_STRING, OF_NAME, NULL,
     "a new name, when a live group of the session has taken its name"},
    END};

static const struct param p_task_add[] = {
    {"group", P_STRING, OF_GROUP, NULL,
     "its group: an id, or a name when session is given"},
    {"title", P_STRING, OF_TITLE, NULL, "its title"},
    P_SESSION("the session, to name the group by name"),
    {"id", P_STRING, -1, NULL,
     "its id (default: made from the title, such as build_login_form_001)"},
    TASK_PARAMS,
    END};
static const char *const r_task_add[] = {"group", "title", NULL};
static const struct param p_task_add_many[] = {
    {"tasks", P_TASKS, -1, NULL,
     "the tasks, each an object with the arguments of task_add (group and "
     "title required; session to name groups by name); a dependency may "
     "name a task given earlier or later in the list"},
    END};
static const char *const r_tasks[] = {"tasks", NULL};
static const struct param p_task_set[] = {
    P_ID("task"),
    {"title", P_STRING, OF_TITLE, NULL, "its title"},
    {"group", P_STRING, OF_GROUP, NULL,
     "move it to this group of its session: an id or a name"},
    TASK_PARAMS,
    END};
static const struct param p_task_id[] = {P_ID("task"), END};
static const struct param p_task_list[] = {
    P_SESSION("only the tasks of this session"),
    {"group", P_STRING, -1, NULL,
     "only the tasks of this group: an id, or a name when session is given"},
    {"status", P_ENUM, -1, task_statuses, "only the tasks with this status"},
    P_DELETED("include deleted tasks and the tasks of deleted groups"),
    END};

static const struct param p_conflict_list[] = {
    P_SESSION("only the conflicts of this session"),
    {"include_resolved", P_BOOL, -1, NULL,
     "include resolved conflicts, with how they were resolved"},
    END};
static const struct param p_conflict_resolve[] = {
    {"id", P_NUMBER, -1, NULL, "the conflict's number (conflict_list)"},
    {"keep", P_ENUM, -1, keeps,
     "db keeps the database's version, file takes the file's, manual sets "
     "value"},
    {"value", P_TEXT, -1, NULL,
     "with keep manual: the field's new value, written as in a file (60%, "
     "4h, high)"},
    END};
static const char *const r_conflict_resolve[] = {"id", "keep", NULL};
static const struct param p_backup_list[] = {
    P_SESSION("only the backups of this session"), END};
static const struct param p_backup_restore[] = {
    {"id", P_NUMBER, -1, NULL, "the backup's number (backup_list)"}, END};
static const struct param p_stats[] = {
    P_SESSION("the figures of this session only"), END};
static const struct param p_edit_log[] = {
    P_SESSION("the session"),
    {"source", P_STRING, -1, NULL,
     "only changes by this program: taskfs (the default: edits saved "
     "through the mount), taskctl, restore, sql, or mcp:<client name>"},
    {"all_sources", P_BOOL, -1, NULL,
     "changes by every program, not only those of source"},
    {"limit", P_COUNT, -1, NULL,
     "at most this many changes (default 50; 0: "
     "all)"},
    END};

static const struct tool tools[] = {
    {"session_create", "Create a session",
     "Creates a session (a project: its task groups, tasks and notes) and "
     "returns it.",
     p_session_create, r_title, run_session_create, out_session, false, false},
    {"session_list", "List sessions",
     "Lists the sessions with their counts of groups, tasks and completed "
     "tasks.",
     p_none, NULL, run_session_list, out_sessions, true, true},
    {"session_show", "Show a session", "Returns one session with its counts.",
     p_id_session, id_only, run_session_show, out_session, true, true},
    {"session_set", "Change a session",
     "Changes fields of a session and returns it.", p_session_set, id_only,
     run_session_set, out_session, false, true},

    {"group_create", "Create a task group",
     "Creates a task group in a session (shown as task_groups/NAME.md) and "
     "returns it.",
     p_group_create, r_session, run_group_create, out_group, false, false},
    {"group_list", "List task groups",
     "Lists the task groups of a session, or of all sessions, in order.",
     p_group_list, NULL, run_group_list, out_groups, true, true},
    {"group_show", "Show a task group",
     "Returns one group with the counts of its tasks.", p_group_ref, id_only,
     run_group_show, out_group, true, true},
    {"group_set", "Change a task group",
     "Changes fields of a group (a new name renames its file) and returns "
     "it.",
     p_group_set, id_only, run_group_set, out_group, false, true},
    {"group_remove", "Delete a task group",
     "Deletes a group softly: it and its tasks are hidden until "
     "group_restore brings them back.",
     p_group_ref, id_only, run_group_remove, out_group, false, true},
    {"group_restore", "Restore a task group", "Undoes group_remove.",
     p_group_restore, id_only, run_group_restore, out_group, false, true},

    {"task_add", "Add a task", "Adds a task to a group and returns it.",
     p_task_add, r_task_add, run_task_add, out_task, false, false},
    {"task_add_many", "Add many tasks",
     "Adds many tasks in one transaction, all or none (a plan), and returns "
     "them in the order given. A refused task is named by its index.",
     p_task_add_many, r_tasks, run_task_add_many, out_tasks, false, false},
    {"task_set", "Change a task",
     "Changes fields of a task (status, progress, ...; group moves it) and "
     "returns it.",
     p_task_set, id_only, run_task_set, out_task, false, true},
    {"task_show", "Show a task", "Returns every field of one task.", p_task_id,
     id_only, run_task_show, out_task, true, true},
    {"task_list", "List tasks",
     "Lists tasks in group order, then task order, optionally of one "
     "session, group or status.",
     p_task_list, NULL, run_task_list, out_tasks, true, true},
    {"task_remove", "Delete a task",
     "Deletes a task softly; task_restore brings it back.", p_task_id, id_only,
     run_task_remove, out_task, false, true},
    {"task_restore", "Restore a task", "Undoes task_remove.", p_task_id,
     id_only, run_task_restore, out_task, false, true},

    {"conflict_list", "List conflicts",
     "Lists the conflicts that saves through the mount left for a decision "
     "(oldest first), with the base, database and file versions and who "
     "made the database's change.",
     p_conflict_list, NULL, run_conflict_list, out_conflicts, true, true},
    {"conflict_resolve", "Resolve a conflict",
     "Resolves a conflict as ticking an option of its .conflict.md file "
     "does: keep db, keep file, or keep manual with a value. Both versions "
     "are backed up first.",
     p_conflict_resolve, r_conflict_resolve, run_conflict_resolve, out_resolved,
     false, false},
    {"backup_list", "List backups",
     "Lists the backups of values and texts that saves and resolutions "
     "overwrote, newest first.",
     p_backup_list, NULL, run_backup_list, out_backups, true, true},
    {"backup_restore", "Restore a backup",
     "Brings a backup back: a value into its field, a text saved to its "
     "file again (changes since are settled by the conflict policies).",
     p_backup_restore, id_only, run_backup_restore, out_restored, false, false},

    {"sync_stats", "Sync health",
     "The health figures of the mount's sync log: success and conflict "
     "rates, render and save times, errors by kind, open conflicts and the "
     "last errors.",
     p_stats, NULL, run_sync_stats, out_stats, true, true},
    {"edit_log", "Edit log",
     "The newest changes to a session's records, one per field, with the "
     "program that made them: by default the edits people saved through "
     "the mount.",
     p_edit_log, r_session, run_edit_log, out_changes, true, true},
};

#define NTOOLS (sizeof tools / sizeof tools[0])

static json_t *param_schema(const struct param *p) {
  json_t *s;
  switch (p->type) {
  case P_ENUM: {
    json_t *values = json_array();
    for (const char *const *v = p->values; *v; v++)
      json_array_append_new(values, json_string(*v));
    s = json_pack("{s:s, s:o}", "type", "string", "enum", values);
    break;
  }
  case P_PROGRESS:
    s = json_pack("{s:s, s:i, s:i}", "type", "integer", "minimum", 0, "maximum",
                  100);
    break;
  case P_EFFORT:
    s = json_pack("{s:[s, s]}", "type", "number", "string");
    break;
  case P_LIST:
    s = json_pack("{s:s, s:{s:s}}", "type", "array", "items", "type", "string");
    break;
  case P_BOOL:
    s = json_pack("{s:s}", "type", "boolean");
    break;
  case P_COUNT:
  case P_NUMBER:
    s = json_pack("{s:s, s:i}", "type", "integer", "minimum",
                  p->type == P_NUMBER ? 1 : 0);
    break;
  case P_TASKS: {
    json_t *props = json_object();
    for (const struct param *q = p_task_add; q->name; q++)
      json_object_set_new(props, q->name, param_schema(q));
    s = json_pack("{s:s, s:i, s:{s:s, s:o, s:[s, s]}}", "type", "array",
                  "minItems", 1, "items", "type", "object", "properties", props,
                  "required", "group", "title");
    break;
  }
  default:
    s = json_pack("{s:s}", "type", "string");
  }
  json_object_set_new(s, "description", json_string(p->desc));
  return s;
}

static json_t *input_schema(const struct tool *t) {
  json_t *props = json_object();
  for (const struct param *p = t->params; p->name; p++)
    json_object_set_new(props, p->name, param_schema(p));
  json_t *s = json_pack("{s:s, s:o, s:b}", "type", "object", "properties",
                        props, "additionalProperties", 0);
  if (t->required) {
    json_t *r = json_array();
    for (const char *const *q = t->required; *q; q++)
      json_array_append_new(r, json_string(*q));
    json_object_set_new(s, "required", r);
  }
  return s;
}

json_t *mcp_tools_list(const char *version) {
  json_t *list = json_array();
  for (size_t i = 0; i < NTOOLS; i++) {
    const struct tool *t = &tools[i];
    json_t *o = json_pack("{s:s, s:s, s:o}", "name", t->name, "description",
                          t->desc, "inputSchema", input_schema(t));
    if (mcp_version_at_least(version, "2025-06-18")) {
      json_object_set_new(o, "title", json_string(t->title));
      json_object_set_new(o, "outputSchema", t->output());
    }
    if (mcp_version_at_least(version, "2025-03-26"))
      json_object_set_new(o, "annotations",
                          json_pack("{s:s, s:b, s:b, s:b, s:b}", "title",
                                    t->title, "readOnlyHint", t->read_only,
                                    "destructiveHint", 0, "idempotentHint",
                                    t->idempotent, "openWorldHint", 0));
    json_array_append_new(list, o);
  }
  return list;
}

/* Checks the arguments of a call against the tool's parameters. */
static int take_args(struct call *c, const struct tool *t) {
  const char *key;
  json_t *v;
  json_object_foreach(c->args, key, v) {
    const struct param *p = t->params;
    while (p->name && strcmp(p->name, key) != 0)
      p++;
    if (!p->name) {
      struct buf names = BUF_INIT;
      for (p = t->params; p->name; p++)
        buf_printf(&names, "%s%s", p == t->params ? "" : ", ", p->name);
      ops_fail(c->o, ENG_INVALID, "%s has no argument \"%s\"; it takes: %s",
               t->name, key, names.len ? names.ptr : "none");
      buf_release(&names);
      return ENG_INVALID;
    }
    int rc = take_arg(c, p, v);
    if (rc)
      return rc;
  }
  for (const char *const *r = t->required; r && *r; r++)
    if (!arg_given(c, *r))
      return ops_fail(c->o, ENG_INVALID, "%s needs the argument \"%s\"",
                      t->name, *r);
  return ENG_OK;
}

static json_t *text_result(const char *text, bool is_error) {
  json_t *content =
      json_pack("[{s:s, s:o}]", "type", "text", "text", json_str(text));
  return json_pack("{s:o, s:b}", "content", content, "isError", is_error);
}

int mcp_tool_call(struct ops *o, const char *name, json_t *args,
                  const char *version, json_t **result, char **message) {
  const struct tool *t = NULL;
  *result = NULL;
  *message = NULL;
  for (size_t i = 0; i < NTOOLS && !t; i++)
    if (strcmp(tools[i].name, name) == 0)
      t = &tools[i];
  if (!t) {
    *message = xasprintf("unknown tool '%s'; tools/list lists them", name);
    return RPC_INVALID_PARAMS;
  }
  struct call c;
  memset(&c, 0, sizeof c);
  c.o = o;
  c.args = args ? json_incref(args) : json_object();
  ops_fields_init(&c.f);
  int rc = take_args(&c, t);
  if (rc == ENG_OK)
    rc = t->run(&c);
  if (rc) {
    const char *msg = ops_errmsg(o);
    *result = text_result(*msg ? msg : eng_strerror(rc), true);
  } else {
    char *text = json_dumps(c.out, JSON_COMPACT);
    *result = text_result(text ? text : "", false);
    free(text);
    if (mcp_version_at_least(version, "2025-06-18"))
      json_object_set(*result, "structuredContent", c.out);
  }
  json_decref(c.out);
  json_decref(c.args);
  strlist_clear(&c.texts);
  strlist_clear(&c.dependencies);
  strlist_clear(&c.deliverables);
  return 0;
}
