/* SPDX-License-Identifier: MIT */
/* store_json.c: JSON in and out of the store, produced and read by
 * SQLite's json functions (never by hand-written escaping). */
#include "store.h"
#include "store_impl.h"
#include "util.h"

#include <string.h>

#define TASK_JSON                                                              \
  "json_object('id', t.id, 'session', t.session_id, 'group', t.group_id,"      \
  " 'group_name', g.name, 'title', t.title, 'description', t.description,"     \
  " 'status', t.status, 'progress', t.progress, 'priority', t.priority,"       \
  " 'specialist', t.specialist, 'estimate', t.estimate,"                       \
  " 'actual', t.actual, 'started_at', t.started_at,"                           \
  " 'completed_at', t.completed_at,"                                           \
  " 'dependencies', json(t.dependencies),"                                     \
  " 'deliverables', json(t.deliverables),"                                     \
  " 'current_status', t.current_status, 'position', t.position,"               \
  " 'deleted', json(CASE WHEN t.deleted THEN 'true' ELSE 'false' END),"        \
  " 'created_at', t.created_at, 'updated_at', t.updated_at,"                   \
  " 'revision', t.rev)"

#define GROUP_JSON                                                             \
  "json_object('id', g.id, 'session', g.session_id, 'name', g.name,"           \
  " 'title', g.title, 'description', g.description, 'status', g.status,"       \
  " 'priority', g.priority, 'specialist', g.specialist,"                       \
  " 'position', g.position,"                                                   \
  " 'deleted', json(CASE WHEN g.deleted THEN 'true' ELSE 'false' END),"        \
  " 'tasks', (SELECT count(*) FROM tasks WHERE group_id = g.id"                \
  " AND deleted = 0),"                                                         \
  " 'completed', (SELECT count(*) FROM tasks WHERE group_id = g.id"            \
  " AND deleted = 0 AND status = 'completed'),"                                \
  " 'created_at', g.created_at, 'updated_at', g.updated_at,"                   \
  " 'revision', g.rev)"

#define SESSION_JSON                                                           \
  "json_object('id', s.id, 'title', s.title, 'status', s.status,"              \
  " 'mode', s.mode, 'description', s.description,"                             \
  " 'deleted', json(CASE WHEN s.deleted THEN 'true' ELSE 'false' END),"        \
  " 'groups', (SELECT count(*) FROM task_groups WHERE session_id = s.id"       \
  " AND deleted = 0),"                                                         \
  " 'tasks', (SELECT count(*) FROM tasks WHERE session_id = s.id"              \
  " AND deleted = 0),"                                                         \
  " 'completed', (SELECT count(*) FROM tasks WHERE session_id = s.id"          \
  " AND deleted = 0 AND status = 'completed'),"                                \
  " 'created_at', s.created_at, 'updated_at', s.updated_at,"                   \
  " 'revision', s.rev)"

#define SECTIONS_JSON(kind, owner)                                             \
  "(SELECT json_group_array(json(o)) FROM (SELECT json_object('key', x.key,"   \
  " 'heading', x.heading, 'body', x.body, 'position', x.position) AS o"        \
  " FROM sections x WHERE x.owner_kind = '" kind "' AND x.owner_id = " owner   \
  " AND x.deleted = 0 ORDER BY x.position, x.id))"

/* Steps s expecting one text row and appends it to out. */
static int one_json(struct store *st, sqlite3_stmt *s, struct buf *out,
                    const char *what, const char *id) {
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) {
    buf_add(out, sqlite3_column_text(s, 0), (size_t)sqlite3_column_bytes(s, 0));
    sqlite3_reset(s);
    return ENG_OK;
  }
  sqlite3_reset(s);
  if (rc == SQLITE_DONE)
    return store_fail(st, ENG_NOTFOUND, "no %s with id '%s'", what, id);
  return store_sqlfail(st, rc);
}

int store_task_json(struct store *st, const char *id, struct buf *out) {
  sqlite3_stmt *s = store_stmt(st, STMT_JSON_TASK,
                               "SELECT " TASK_JSON " FROM tasks t"
                               " JOIN task_groups g ON g.id = t.group_id"
                               " WHERE t.id = ?1");
  if (!s)
    return ENG_DB;
  bind_text(s, 1, id);
  return one_json(st, s, out, "task", id);
}

int store_group_json(struct store *st, const char *id, struct buf *out) {
  sqlite3_stmt *s =
      store_stmt(st, STMT_JSON_GROUP,
                 "SELECT " GROUP_JSON " FROM task_groups g WHERE g.id = ?1");
  if (!s)
    return ENG_DB;
  bind_text(s, 1, id);
  return one_json(st, s, out, "group", id);
}

int store_session_json(struct store *st, const char *id, struct buf *out) {
  sqlite3_stmt *s =
      store_stmt(st, STMT_JSON_SESSION,
                 "SELECT " SESSION_JSON " FROM sessions s WHERE s.id = ?1");
  if (!s)
    return ENG_DB;
  bind_text(s, 1, id);
  return one_json(st, s, out, "session", id);
}

int store_tasks_json(struct store *st, const char *session_id, int status,
                     const char *group_id, bool include_deleted,
                     struct buf *out) {
  sqlite3_stmt *s = store_stmt(
      st, STMT_JSON_TASKS,
      "SELECT coalesce(json_group_array(json(o)), '[]') FROM (SELECT " TASK_JSON
      " AS o FROM tasks t JOIN task_groups g ON g.id = t.group_id"
      " WHERE (?1 IS NULL OR t.session_id = ?1)"
      " AND (?2 IS NULL OR t.status = ?2)"
      " AND (?3 IS NULL OR t.group_id = ?3)"
      " AND (?4 OR (t.deleted = 0 AND g.deleted = 0))"
      " ORDER BY t.session_id, g.position, g.id, t.position, t.id)");
  if (!s)
    return ENG_DB;
  bind_text(s, 1, session_id);
  bind_text(s, 2, status >= 0 ? status_name(status) : NULL);
  bind_text(s, 3, group_id);
  sqlite3_bind_int(s, 4, include_deleted);
  return one_json(st, s, out, "task list", "");
}

int store_groups_json(struct store *st, const char *session_id,
                      bool include_deleted, struct buf *out) {
  sqlite3_stmt *s = store_stmt(
      st, STMT_JSON_GROUPS,
      "SELECT coalesce(json_group_array(json(o)), '[]') FROM "
      "(SELECT " GROUP_JSON " AS o FROM task_groups g"
      " WHERE (?1 IS NULL OR g.session_id = ?1) AND (?2 OR g.deleted = 0)"
      " ORDER BY g.session_id, g.position, g.id)");
  if (!s)
    return ENG_DB;
  bind_text(s, 1, session_id);
  sqlite3_bind_int(s, 2, include_deleted);
  return one_json(st, s, out, "group list", "");
}

int store_sessions_json(struct store *st, struct buf *out) {
  sqlite3_stmt *s = store_stmt(st, STMT_JSON_SESSIONS,
                               "SELECT coalesce(json_group_array(json(o)), "
                               "'[]') FROM (SELECT " SESSION_JSON
                               " AS o FROM sessions s WHERE s.deleted = 0"
                               " ORDER BY s.created_rev, s.id)");
  if (!s)
    return ENG_DB;
  return one_json(st, s, out, "session list", "");
}

int store_export_json(struct store *st, struct buf *out) {
  sqlite3_stmt *s = store_stmt(
      st, STMT_JSON_EXPORT,
      "SELECT json_object('taskfs', 1,"
      " 'revision', (SELECT rev FROM revision),"
      " 'sessions', (SELECT coalesce(json_group_array(json(so)), '[]') FROM"
      " (SELECT json_set(" SESSION_JSON ","
      "  '$.sections', json(" SECTIONS_JSON(
          "session",
          "s.id") "),"
                  "  '$.groups', json((SELECT "
                  "coalesce(json_group_array(json(go)), '[]')"
                  "   FROM (SELECT json_set(" GROUP_JSON ","
                  "    '$.sections', json(" SECTIONS_JSON(
                      "group",
                      "g.id") "),"
                              "    '$.tasks', json((SELECT "
                              "coalesce(json_group_array(json(tj)),"
                              "     '[]') FROM (SELECT json_set(" TASK_JSON ","
                              "      '$.sections', json(" SECTIONS_JSON(
                                  "task", "t.id") ")) AS tj"
                                                  "      FROM tasks t WHERE "
                                                  "t.group_id = g.id"
                                                  "      ORDER BY t.position, "
                                                  "t.id)))) AS go"
                                                  "    FROM task_groups g "
                                                  "WHERE g.session_id = s.id"
                                                  "    ORDER BY g.position, "
                                                  "g.id)))) AS so"
                                                  " FROM sessions s ORDER BY "
                                                  "s.created_rev, s.id)))");
  if (!s)
    return ENG_DB;
  return one_json(st, s, out, "export", "");
}

int store_json_array(struct store *st, const char *text, struct strlist *out) {
  sqlite3_stmt *s =
      store_stmt(st, STMT_JSON_ARRAY,
                 "SELECT CASE WHEN json_valid(?1) THEN json_type(?1) END,"
                 " CASE WHEN json_valid(?1) AND json_type(?1) = 'array' THEN"
                 " (SELECT group_concat(value, char(0)) FROM (SELECT value FROM"
                 " json_each(?1) ORDER BY key)) END,"
                 " CASE WHEN json_valid(?1) AND json_type(?1) = 'array' THEN"
                 " json_array_length(?1) END");
  if (!s)
    return ENG_DB;
  bind_text(s, 1, text);
  int rc = sqlite3_step(s);
  if (rc != SQLITE_ROW) {
    rc = store_sqlfail(st, sqlite3_extended_errcode(st->db));
    sqlite3_reset(s);
    return rc;
  }
  const char *type = (const char *)sqlite3_column_text(s, 0);
  if (!type || strcmp(type, "array") != 0) {
    sqlite3_reset(s);
    return store_fail(st, ENG_INVALID, "not a JSON array");
  }
  strlist_clear(out);
  if (sqlite3_column_int(s, 2) > 0)
    col_list(s, 1, out);
  sqlite3_reset(s);
  return ENG_OK;
}

struct json_obj {
  struct strlist keys, vals;
  struct strlist nulls; /* "1" where the value is JSON null */
};

const char *json_obj_get(struct json_obj *o, const char *key) {
  for (size_t i = 0; i < o->keys.n; i++)
    if (strcmp(o->keys.v[i], key) == 0)
      return o->nulls.v[i][0] ? NULL : o->vals.v[i];
  return NULL;
}

bool json_obj_has(struct json_obj *o, const char *key) {
  for (size_t i = 0; i < o->keys.n; i++)
    if (strcmp(o->keys.v[i], key) == 0)
      return true;
  return false;
}

static void json_obj_clear(struct json_obj *o) {
  strlist_clear(&o->keys);
  strlist_clear(&o->vals);
  strlist_clear(&o->nulls);
}

int store_json_each_object(struct store *st, const char *text,
                           int (*fn)(void *ctx, struct json_obj *o, size_t i),
                           void *ctx) {
  /* Validate first: json_each below reads anything else as empty. */
  struct strlist probe = {0};
  int rc = store_json_array(st, text, &probe);
  strlist_clear(&probe);
  if (rc)
    return store_fail(st, ENG_INVALID, "input is not a JSON array of objects");
  sqlite3_stmt *s = store_stmt(
      st, STMT_JSON_OBJECTS,
      "SELECT a.key, a.type, o.key, CASE o.type WHEN 'null' THEN NULL"
      " ELSE o.value END"
      " FROM json_each(?1) a"
      " LEFT JOIN json_each(CASE a.type WHEN 'object' THEN a.value"
      " ELSE '{}' END) o"
      " ORDER BY a.key, o.id");
  if (!s)
    return ENG_DB;
  bind_text(s, 1, text);
  /* Collect every row first: fn may run other statements. Rows without a
   * key stand for an empty object. */
  struct strlist idx = {0}, types = {0}, keys = {0}, vals = {0}, nulls = {0};
  struct strlist haskey = {0};
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    char *a = col_text_nn(s, 0), *at = col_text_nn(s, 1);
    char *k = col_text(s, 2), *v = col_text(s, 3);
    strlist_add(&idx, a);
    strlist_add(&types, at);
    strlist_add(&keys, k ? k : "");
    strlist_add(&vals, v ? v : "");
    strlist_add(&nulls, (k && !v) ? "1" : "");
    strlist_add(&haskey, k ? "1" : "");
    free(a);
    free(at);
    free(k);
    free(v);
  }
  sqlite3_reset(s);
  rc = rc == SQLITE_DONE ? ENG_OK : store_sqlfail(st, rc);
  struct json_obj o = {0};
  size_t element = 0;
  for (size_t i = 0; rc == ENG_OK && i < idx.n;) {
    if (strcmp(types.v[i], "object") != 0) {
      rc = store_fail(st, ENG_INVALID,
                      "element %s of the input is not a JSON object", idx.v[i]);
      break;
    }
    size_t j = i;
    for (; j < idx.n && strcmp(idx.v[j], idx.v[i]) == 0; j++) {
      if (!*haskey.v[j])
        continue;
      strlist_add(&o.keys, keys.v[j]);
      strlist_add(&o.vals, vals.v[j]);
      strlist_add(&o.nulls, nulls.v[j]);
    }
    rc = fn(ctx, &o, element++);
    json_obj_clear(&o);
    i = j;
  }
  json_obj_clear(&o);
  strlist_clear(&idx);
  strlist_clear(&types);
  strlist_clear(&keys);
  strlist_clear(&vals);
  strlist_clear(&nulls);
  strlist_clear(&haskey);
  return rc;
}

int store_json_set(struct store *st, char **json, const char *key,
                   const char *value) {
  sqlite3_stmt *s =
      store_stmt(st, STMT_JSON_SET, "SELECT json_set(?1, '$.' || ?2, ?3)");
  if (!s)
    return ENG_DB;
  bind_text(s, 1, *json);
  bind_text(s, 2, key);
  bind_text(s, 3, value);
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) {
    char *next = col_text(s, 0);
    free(*json);
    *json = next;
  }
  sqlite3_reset(s);
  return rc == SQLITE_ROW ? ENG_OK : store_sqlfail(st, rc);
}
