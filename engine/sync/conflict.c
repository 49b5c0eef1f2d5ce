/* SPDX-License-Identifier: MIT */
/* conflict.c: settling fields that a save and the database both changed,
 * conflict files, and resolutions. Knows nothing of FUSE. */
#include "conflict.h"
#include "escape.h"
#include "merge.h"
#include "model.h"
#include "names.h"
#include "render.h"
#include "util.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define DASH "\xe2\x80\x94"

static const char *table_of(const char *target_kind) {
  return target_kind; /* history names tables by record kind */
}

/* ---- values as people read them ---- */

static bool is_list(const char *kind, const char *field) {
  return str_eq(kind, "task") &&
         (str_eq(field, "dependencies") || str_eq(field, "deliverables"));
}

void conflict_display(struct store *st, const char *kind, const char *field,
                      const char *value, struct buf *out) {
  if (str_eq(field, "block")) {
    buf_adds(out, value ? "(the task as the file has it, below)" : "");
    return;
  }
  if (str_eq(field, "deleted")) {
    buf_adds(out, value && strcmp(value, "0") != 0 ? "deleted" : "present");
    return;
  }
  if (str_eq(field, "deletions")) {
    /* The tasks a save would delete, one per line: "- Title `id`". */
    struct strlist l = {0};
    strlist_from_json(value ? value : "[]", &l);
    for (size_t i = 0; i < l.n; i++) {
      struct task t;
      task_init(&t);
      if (store_task_get(st, l.v[i], &t) == ENG_OK)
        buf_printf(out, "- %s `%s`\n", t.title, l.v[i]);
      else
        buf_printf(out, "- `%s`\n", l.v[i]);
      task_release(&t);
    }
    strlist_clear(&l);
    return;
  }
  if (!value) {
    buf_adds(out, DASH);
    return;
  }
  if (str_eq(kind, "task") && str_eq(field, "progress")) {
    buf_printf(out, "%s%%", value);
  } else if (str_eq(kind, "task") &&
             (str_eq(field, "estimate") || str_eq(field, "actual"))) {
    char e[32];
    effort_format(strtod(value, NULL), e);
    buf_adds(out, e);
  } else if (is_list(kind, field)) {
    struct strlist l = {0};
    strlist_from_json(value, &l);
    if (!l.n)
      buf_adds(out, DASH);
    for (size_t i = 0; i < l.n; i++) {
      if (str_eq(field, "dependencies")) {
        buf_printf(out, "%s`%s`", i ? ", " : "", l.v[i]);
      } else {
        buf_adds(out, "- ");
        for (const char *p = l.v[i]; *p; p++) {
          buf_addc(out, *p);
          if (*p == '\n')
            buf_adds(out, "  ");
        }
        buf_addc(out, '\n');
      }
    }
    strlist_clear(&l);
  } else if (str_eq(field, "group_id")) {
    struct group g;
    group_init(&g);
    buf_adds(out, store_group_get(st, value, &g) == ENG_OK ? g.name : value);
    group_release(&g);
  } else {
    buf_adds(out, value);
  }
}

static char *trimmed(const char *s) {
  while (isspace((unsigned char)*s))
    s++;
  size_t n = strlen(s);
  while (n && isspace((unsigned char)s[n - 1]))
    n--;
  return xstrndup(s, n);
}

/* The ids between backquotes, one task a line, as JSON. */
static char *deletions_json(const char *t) {
  struct strlist l = {0};
  for (const char *p = t; (p = strchr(p, '`'));) {
    const char *e = strchr(p + 1, '`');
    if (!e)
      break;
    if (e > p + 1) {
      char *id = xstrndup(p + 1, (size_t)(e - p - 1));
      strlist_add(&l, id);
      free(id);
    }
    p = e + 1;
  }
  char *json = strlist_to_json(&l);
  strlist_clear(&l);
  return json;
}

/* Dependencies: ids separated by commas, spaces or backquotes (a dash
 * for none). */
static void dependency_ids(const char *t, struct strlist *l) {
  for (const char *p = t; *p;) {
    while (*p == ' ' || *p == ',' || *p == '`')
      p++;
    const char *e = p;
    while (*e && *e != ',' && *e != '`' && *e != ' ')
      e++;
    if (e > p && strncmp(p, DASH, (size_t)(e - p)) != 0) {
      char *id = xstrndup(p, (size_t)(e - p));
      strlist_add(l, id);
      free(id);
    }
    p = e;
  }
}

/* A markdown list: "- " or "* " items, continued by indented lines. */
static void list_items(const char *t, struct strlist *l) {
  struct buf item = BUF_INIT;
  bool open = false;
  for (const char *p = t; *p;) {
    const char *nl = strchr(p, '\n');
    size_t n = nl ? (size_t)(nl - p) : strlen(p);
    if (n >= 2 && (p[0] == '-' || p[0] == '*') && p[1] == ' ') {
      if (open)
        strlist_add(l, item.ptr);
      buf_truncate(&item, 0);
      buf_add(&item, p + 2, n - 2);
      open = true;
    } else if (open && n) {
      buf_addc(&item, '\n');
      buf_add(&item, p + (n >= 2 && p[0] == ' ' && p[1] == ' ' ? 2 : 0),
              n - (n >= 2 && p[0] == ' ' && p[1] == ' ' ? 2 : 0));
    }
    p += n + (nl ? 1 : 0);
  }
  if (open)
    strlist_add(l, item.ptr);
  buf_release(&item);
}

/* A list field (t trimmed) as JSON. */
static char *list_json(const char *field, const char *t) {
  struct strlist l = {0};
  if (str_eq(field, "dependencies"))
    dependency_ids(t, &l);
  else
    list_items(t, &l);
  char *json = strlist_to_json(&l);
  strlist_clear(&l);
  return json;
}

/* A group given by its name or its id. */
static int group_value(struct store *st, const char *session, const char *t,
                       char **out) {
  struct group g;
  group_init(&g);
  int rc = store_group_find(st, session, t, &g);
  if (rc == ENG_NOTFOUND)
    rc = store_group_get(st, t, &g);
  if (rc == ENG_OK)
    *out = xstrdup(g.id);
  else if (rc == ENG_NOTFOUND)
    rc = store_fail(st, ENG_INVALID, "no group named '%s'", t);
  group_release(&g);
  return rc;
}

/* A value of one of the enumerated or numeric fields (t trimmed). */
static int scalar_value(struct store *st, const char *kind, const char *field,
                        const char *t, char **out) {
  int rc = ENG_OK;
  if (str_eq(field, "status")) {
    int s = status_parse(t);
    if (s < 0 || (str_eq(kind, "session") && !session_status_valid(t)))
      rc = store_fail(st, ENG_INVALID, "'%s' is not a status", t);
    else
      *out = xstrdup(str_eq(kind, "session") ? t : status_name(s));
  } else if (str_eq(field, "progress")) {
    int v;
    if (progress_parse(t, &v))
      rc = store_fail(st, ENG_INVALID, "'%s' is not a progress 0-100%%", t);
    else
      *out = xasprintf("%d", v);
  } else if (str_eq(field, "priority")) {
    int p = priority_parse(t);
    if (p < 0)
      rc = store_fail(st, ENG_INVALID, "'%s' is not a priority", t);
    else
      *out = xstrdup(priority_name(p));
  } else if (str_eq(field, "estimate") || str_eq(field, "actual")) {
    double h;
    if (!effort_parse(t, &h))
      rc = store_fail(st, ENG_INVALID, "'%s' is not an effort like 4h", t);
    else if (!isnan(h))
      *out = xasprintf("%.17g", h);
  } else if (str_eq(field, "deleted")) {
    if (str_ieq(t, "deleted") || str_eq(t, "1"))
      *out = xstrdup("1");
    else if (str_ieq(t, "present") || str_eq(t, "0"))
      *out = xstrdup("0");
    else
      rc = store_fail(st, ENG_INVALID, "write 'deleted' or 'present'");
  }
  return rc;
}

static bool is_scalar(const char *field) {
  static const char *const scalars[] = {"status",   "progress", "priority",
                                        "estimate", "actual",   "deleted"};
  for (size_t i = 0; i < sizeof scalars / sizeof scalars[0]; i++)
    if (str_eq(field, scalars[i]))
      return true;
  return false;
}

/* The text form of what a user wrote for a field; NULL and ENG_INVALID
 * (with a message) when it is no valid value. */
static int value_parse(struct store *st, const char *session, const char *kind,
                       const char *field, const char *text, char **out) {
  char *t = trimmed(text);
  int rc = ENG_OK;
  *out = NULL;
  if (is_scalar(field)) {
    rc = scalar_value(st, kind, field, t, out);
  } else if (str_eq(field, "deletions")) {
    *out = deletions_json(t);
  } else if (str_eq(field, "group_id")) {
    rc = group_value(st, session, t, out);
  } else if (is_list(kind, field)) {
    *out = list_json(field, t);
  } else if (str_eq(field, "title") || str_eq(field, "specialist") ||
             str_eq(field, "name") || str_eq(field, "mode")) {
    if (strchr(t, '\n'))
      rc = store_fail(st, ENG_INVALID, "a %s is one line", field);
    else
      *out = xstrdup(t);
  } else {
    /* Free text: as written, without the final newline. */
    size_t n = strlen(text);
    while (n && text[n - 1] == '\n')
      n--;
    *out = xstrndup(text, n);
  }
  free(t);
  return rc;
}

/* ---- settling ---- */

static int64_t change_time(struct store *st, const char *kind, const char *id,
                           const char *field, struct change *last) {
  int64_t ns = 0;
  if (store_last_change(st, table_of(kind), id,
                        str_eq(field, "text") ? "body" : field, last) == ENG_OK)
    time_parse(last->at, &ns);
  return ns;
}

/* The group a manual-resolution task goes into. */
static int manual_group(struct store *st, const char *session,
                        const struct clash *x, char **out) {
  *out = NULL;
  if (str_eq(x->target_kind, "task")) {
    struct task t;
    task_init(&t);
    if (store_task_get(st, x->target_id, &t) == ENG_OK)
      *out = xstrdup(t.group_id);
    task_release(&t);
  } else if (str_eq(x->target_kind, "group")) {
    *out = xstrdup(x->target_id);
  }
  if (!*out) {
    struct group *v;
    size_t n;
    int rc = store_group_list(st, session, false, &v, &n);
    if (rc)
      return rc;
    if (n)
      *out = xstrdup(v[0].id);
    store_groups_free(v, n);
  }
  return ENG_OK;
}

static int make_manual_task(struct store *st, struct settle_env *env,
                            const struct clash *x, int64_t conflict_id,
                            const char *dbd, const char *filed,
                            char **task_id) {
  char *group = NULL;
  int rc = manual_group(st, env->session_id, x, &group);
  if (rc || !group) {
    free(group);
    return rc;
  }
  struct task t;
  task_init(&t);
  t.group_id = group;
  struct buf title = BUF_INIT;
  buf_printf(&title, "Resolve sync conflict %lld: %s, %s",
             (long long)conflict_id, x->label, x->field);
  for (char *p = title.ptr; *p; p++)
    if (*p == '\n')
      *p = ' ';
  t.title = buf_detach(&title, NULL);
  t.priority = PRIORITY_HIGH;
  t.description = xasprintf(
      "`%s` and the database both changed %s of %s.\n\n"
      "Database: %s\n\nFile: %s\n\n"
      "The database version was kept. Choose with `taskctl resolve %lld "
      "--keep db` or `--keep file`, or tick an option in the .conflict.md "
      "file beside `%s`.",
      env->file_path, x->field, x->label, dbd, filed, (long long)conflict_id,
      env->file_path);
  rc = store_task_insert(st, &t);
  if (rc == ENG_OK)
    *task_id = xstrdup(t.id);
  task_release(&t);
  return rc;
}

/* Records the clash x as a conflict waiting for a person (strategy
 * user_choice or manual_task, which also makes a task asking to resolve
 * it); last: the database's last change of the field. */
static int record_conflict(struct store *st, struct settle_env *env,
                           const struct clash *x, int strategy,
                           const struct change *last) {
  struct conflict c;
  conflict_init(&c);
  struct buf dbd = BUF_INIT, filed = BUF_INIT;
  conflict_display(st, x->target_kind, x->field, x->db, &dbd);
  if (x->file_shown)
    buf_adds(&filed, x->file_shown);
  else
    conflict_display(st, x->target_kind, x->field, x->file, &filed);
  c.session_id = (char *)env->session_id;
  c.file_kind = (char *)env->file_kind;
  c.file_record = (char *)env->file_record;
  c.type = (char *)conflict_type_name(x->type);
  c.target_kind = (char *)x->target_kind;
  c.target_id = (char *)x->target_id;
  c.field = (char *)x->field;
  c.label = (char *)x->label;
  c.base_rev = env->base_rev;
  c.base_value = (char *)x->base;
  c.db_value = (char *)x->db;
  c.file_value = (char *)x->file;
  c.db_display = dbd.ptr;
  c.file_display = filed.ptr;
  c.db_changed_at = last->at;
  c.db_source = last->source;
  c.status = strategy == ST_MANUAL_TASK ? "manual" : "open";
  int rc = store_conflict_add(st, &c);
  if (rc == ENG_OK && strategy == ST_MANUAL_TASK) {
    char *task_id = NULL;
    rc = make_manual_task(st, env, x, c.id, dbd.ptr, filed.ptr, &task_id);
    if (rc == ENG_OK && task_id) {
      c.manual_task = task_id;
      rc = store_conflict_add(st, &c);
    }
    free(task_id);
  }
  buf_release(&dbd);
  buf_release(&filed);
  env->recorded++;
  return rc;
}

int conflict_settle(struct store *st, struct settle_env *env,
                    const struct clash *x, int *outcome, char **merged) {
  *outcome = SETTLE_KEEP_DB;
  *merged = NULL;
  if (x->type == CT_USER_CONTENT && x->base && x->db && x->file) {
    struct buf out = BUF_INIT;
    if (merge_lines(x->base, x->db, x->file, &out)) {
      *merged = buf_detach(&out, NULL);
      *outcome = SETTLE_MERGED;
      return ENG_OK;
    }
    buf_release(&out);
  }
  int strategy = env->policy->strategy[x->type];
  struct change last = {0};
  int64_t changed =
      change_time(st, x->target_kind, x->target_id, x->field, &last);
  if (strategy == ST_AUTO_MERGE)
    strategy = changed && env->now_ns - changed <= env->policy->window_ns
                   ? ST_FILE_WINS
                   : ST_USER_CHOICE;
  int rc = ENG_OK;
  char reason[200];
  if (strategy == ST_FILE_WINS) {
    snprintf(reason, sizeof reason,
             "%s: the database's %s, replaced by the file's (%s)",
             conflict_type_name(x->type), x->field,
             strategy_name(env->policy->strategy[x->type]));
    rc = store_backup_value(st, env->session_id, x->target_kind, x->target_id,
                            x->field, x->db, reason, NULL);
    *outcome = SETTLE_TAKE_FILE;
  } else if (strategy == ST_DATABASE_WINS) {
    snprintf(reason, sizeof reason,
             "%s: the file's %s, not applied (database_wins)",
             conflict_type_name(x->type), x->field);
    rc = store_backup_value(st, env->session_id, x->target_kind, x->target_id,
                            x->field, x->file, reason, NULL);
  } else {
    /* The file's value waits for a choice; a later save of the same
     * field replaces it in the conflict, so it is backed up now. */
    snprintf(reason, sizeof reason,
             "%s: the file's %s, waiting for a choice (%s)",
             conflict_type_name(x->type), x->field, strategy_name(strategy));
    rc = store_backup_value(st, env->session_id, x->target_kind, x->target_id,
                            x->field, x->file, reason, NULL);
    if (rc == ENG_OK)
      rc = record_conflict(st, env, x, strategy, &last);
  }
  store_change_release(&last);
  return rc;
}

int conflict_hold_deletions(struct store *st, struct settle_env *env,
                            const char *group_id, const char *label,
                            const struct strlist *ids, size_t shown) {
  char *json = strlist_to_json(ids);
  int rc = ENG_OK;
  char reason[200];
  snprintf(reason, sizeof reason,
           "structural_change: %zu task deletions of one save, waiting for "
           "a confirmation",
           ids->n);
  if (rc == ENG_OK)
    rc = store_backup_value(st, env->session_id, "group", group_id, "deletions",
                            json, reason, NULL);
  struct buf filed = BUF_INIT, note = BUF_INIT;
  conflict_display(st, "group", "deletions", json, &filed);
  buf_printf(&note,
             "this save would delete %zu of the %zu tasks the file showed "
             "at once; none is deleted until you confirm",
             ids->n, shown);
  struct conflict c;
  conflict_init(&c);
  c.session_id = (char *)env->session_id;
  c.file_kind = (char *)env->file_kind;
  c.file_record = (char *)env->file_record;
  c.type = (char *)conflict_type_name(CT_STRUCTURAL);
  c.target_kind = "group";
  c.target_id = (char *)group_id;
  c.field = "deletions";
  c.label = (char *)label;
  c.base_rev = env->base_rev;
  c.db_value = "[]";
  c.file_value = json;
  c.db_display = "(every one of them kept)";
  c.file_display = filed.ptr;
  c.status = "open";
  if (rc == ENG_OK)
    rc = store_conflict_add(st, &c);
  if (rc == ENG_OK)
    rc = store_conflict_note(st, c.id, NULL, note.ptr);
  if (rc == ENG_OK)
    env->recorded++;
  buf_release(&filed);
  buf_release(&note);
  free(json);
  return rc;
}

static int not_a_list(struct store *st) {
  return store_fail(st, ENG_INVALID, "not a JSON array");
}

/* Soft-deletes the tasks of the JSON array ids (those still there). */
static int delete_listed(struct store *st, const char *ids) {
  struct strlist l = {0};
  int rc = strlist_from_json(ids ? ids : "[]", &l) ? ENG_OK : not_a_list(st);
  for (size_t i = 0; i < l.n && rc == ENG_OK; i++) {
    struct task t;
    task_init(&t);
    if (store_task_get(st, l.v[i], &t) == ENG_OK && !t.deleted) {
      t.deleted = true;
      rc = store_task_update(st, &t);
    }
    task_release(&t);
  }
  strlist_clear(&l);
  return rc;
}

/* ---- resolving ---- */

static int apply_block(struct store *st, const char *task_id, const char *json);

int conflict_restore_block(struct store *st, const char *task_id,
                           const char *json) {
  int rc = store_field_set(st, "task", task_id, "deleted", "0");
  return rc ? rc : apply_block(st, task_id, json);
}

/* Restores the fields of a task as a file had them: json is an object of
 * field name to text form (record_fields_json). */
static int apply_block(struct store *st, const char *task_id,
                       const char *json) {
  struct task t;
  task_init(&t);
  int rc = store_task_get(st, task_id, &t);
  if (rc == ENG_OK && !record_fields_from_json(RK_TASK, &t, json))
    rc = store_fail(st, ENG_INVALID, "the kept task %s is no JSON object",
                    task_id);
  if (rc == ENG_OK)
    rc = store_task_update(st, &t);
  task_release(&t);
  return rc;
}

/* Option 3 of held deletions: the tasks whose ids the text names, of
 * those the save asked to delete. */
static int delete_named(struct store *st, const struct conflict *c,
                        const char *manual) {
  char *named = NULL;
  struct strlist asked = {0}, pick = {0};
  int rc = value_parse(st, c->session_id, c->target_kind, c->field,
                       manual ? manual : "", &named);
  if (rc == ENG_OK &&
      !strlist_from_json(c->file_value ? c->file_value : "", &asked))
    rc = not_a_list(st);
  if (rc == ENG_OK && !strlist_from_json(named, &pick))
    rc = not_a_list(st);
  for (size_t i = 0; i < pick.n && rc == ENG_OK; i++) {
    bool ok = false;
    for (size_t k = 0; k < asked.n && !ok; k++)
      ok = str_eq(pick.v[i], asked.v[k]);
    if (!ok)
      rc = store_fail(st, ENG_INVALID,
                      "`%s` is not one of the tasks this save deleted",
                      pick.v[i]);
  }
  if (rc == ENG_OK)
    rc = delete_listed(st, named);
  strlist_clear(&asked);
  strlist_clear(&pick);
  free(named);
  return rc;
}

/* Before a resolution overwrites anything, both versions are backed up:
 * the database's now (but for held deletions, which overwrite nothing:
 * the tasks stay whole, restorable, and the history keeps each deletion)
 * and the file's. */
static int back_up_versions(struct store *st, const struct conflict *c,
                            bool deletions, const char *field) {
  char reason[160];
  int rc = ENG_OK;
  if (!deletions) {
    char *now = NULL;
    rc = store_field_get(st, c->target_kind, c->target_id, field, &now);
    snprintf(reason, sizeof reason,
             "conflict %lld: the database's version before resolving",
             (long long)c->id);
    if (rc == ENG_OK)
      rc = store_backup_value(st, c->session_id, c->target_kind, c->target_id,
                              field, now, reason, NULL);
    free(now);
    if (rc)
      return rc;
  }
  snprintf(reason, sizeof reason, "conflict %lld: the file's version",
           (long long)c->id);
  return store_backup_value(st, c->session_id, c->target_kind, c->target_id,
                            c->field, c->file_value, reason, NULL);
}

/* Applies the value the user wrote for a conflict (option 3). */
static int apply_manual(struct store *st, const struct conflict *c, bool block,
                        const char *manual) {
  if (block)
    return store_fail(st, ENG_INVALID,
                      "a task both deleted and edited takes option 1 or 2");
  char *value = NULL;
  int rc = value_parse(st, c->session_id, c->target_kind, c->field,
                       manual ? manual : "", &value);
  if (rc == ENG_OK)
    rc = store_field_set(st, c->target_kind, c->target_id, c->field, value);
  free(value);
  return rc;
}

/* Applies the version chosen by how ("db" changes nothing). */
static int apply_choice(struct store *st, const struct conflict *c,
                        const char *how, const char *manual) {
  bool block = str_eq(c->field, "block");
  bool deletions = str_eq(c->field, "deletions");
  if (deletions && str_eq(how, "file"))
    return delete_listed(st, c->file_value);
  if (deletions && str_eq(how, "manual"))
    return delete_named(st, c, manual);
  if (str_eq(how, "file") && block) {
    int rc = store_field_set(st, "task", c->target_id, "deleted", "0");
    if (rc == ENG_OK && c->file_value)
      rc = apply_block(st, c->target_id, c->file_value);
    return rc;
  }
  if (str_eq(how, "file"))
    return store_field_set(st, c->target_kind, c->target_id, c->field,
                           c->file_value);
  if (str_eq(how, "manual"))
    return apply_manual(st, c, block, manual);
  if (!str_eq(how, "db"))
    return store_fail(st, ENG_INVALID, "resolve with db, file or manual");
  return ENG_OK;
}

/* The task that asked to resolve a conflict is done. */
static int complete_manual_task(struct store *st, const char *id) {
  struct task t;
  task_init(&t);
  int rc = ENG_OK;
  if (store_task_get(st, id, &t) == ENG_OK && !t.deleted &&
      t.status != STATUS_COMPLETED) {
    task_set_status(&t, STATUS_COMPLETED);
    rc = store_task_update(st, &t);
  }
  task_release(&t);
  return rc;
}

int conflict_resolve(struct store *st, int64_t id, const char *how,
                     const char *manual) {
  struct conflict c;
  conflict_init(&c);
  int rc = store_conflict_get(st, id, &c);
  if (rc)
    return rc;
  if (str_eq(c.status, "resolved")) {
    conflict_release(&c);
    return store_fail(st, ENG_NOTFOUND, "conflict %lld is resolved already",
                      (long long)id);
  }
  bool block = str_eq(c.field, "block");
  rc = back_up_versions(st, &c, str_eq(c.field, "deletions"),
                        block ? "deleted" : c.field);
  if (rc == ENG_OK)
    rc = apply_choice(st, &c, how, manual);
  if (rc == ENG_OK)
    rc = store_conflict_resolve(st, id, how);
  if (rc == ENG_OK && c.manual_task)
    rc = complete_manual_task(st, c.manual_task);
  conflict_release(&c);
  return rc;
}

/* ---- the conflict file ---- */

static void add_fenced(struct buf *out, const char *text) {
  escape_fenced(text, strlen(text), out);
}

int conflict_render(struct store *st, const char *session_id,
                    const char *file_kind, const char *file_record,
                    const char *path, struct buf *out, int64_t *mtime_ns) {
  struct conflict *v;
  size_t n;
  int rc = store_conflict_list(st, NULL, file_kind, file_record, true, &v, &n);
  if (rc)
    return rc;
  if (n == 0) {
    store_conflicts_free(v, n);
    return store_fail(st, ENG_NOTFOUND, "no open conflicts of %s", path);
  }
  render_front_matter(out, session_id, "conflicts", path, -1);
  buf_printf(out,
             "\n# \xf0\x9f\x94\x84 Sync Conflict Resolution\n\n"
             "`%s` was saved while the database changed the same %s. "
             "Everything else of that save is in the database; the "
             "database's version of %s stays until you choose.\n\n"
             "For each conflict, tick one option (`- [x]`) and save this "
             "file. Option 3 takes the text in its block: edit it first. "
             "Deleting this file keeps the database's version of every "
             "conflict. `taskctl resolve ID --keep db|file` does the same "
             "from the command line. Both versions are kept as backups "
             "either way (`taskctl backups`).\n",
             path, n == 1 ? "field" : "fields", n == 1 ? "it" : "them");
  int64_t newest = 0;
  for (size_t i = 0; i < n; i++) {
    struct conflict *c = &v[i];
    char detected[32], changed[32];
    time_display(c->detected_at, detected);
    time_display(c->db_changed_at, changed);
    int64_t ns = 0;
    time_parse(c->detected_at, &ns);
    if (ns > newest)
      newest = ns;
    buf_printf(out, "\n## Conflict %lld: %s, %s\n\n", (long long)c->id,
               c->label, c->field);
    buf_adds(out, "### \xf0\x9f\x93\x8a Conflict Details\n\n");
    buf_printf(out, "- **File**: `%s`\n", path);
    buf_printf(out, "- **Section**: %s\n", c->label);
    buf_printf(out, "- **Field**: %s\n", c->field);
    buf_printf(out, "- **Conflict Type**: %s\n", c->type);
    buf_printf(out, "- **Detected**: %s\n", detected);
    if (*changed)
      buf_printf(out, "- **Database changed**: %s by %s\n", changed,
                 c->db_source ? c->db_source : "?");
    if (c->manual_task)
      buf_printf(out, "- **Task**: `%s` asks to resolve this\n",
                 c->manual_task);
    if (*c->note && str_eq(c->field, "deletions"))
      buf_printf(out, "- **Why**: %s\n", c->note);
    else if (*c->note)
      buf_printf(out, "- **Problem**: %s\n", c->note);
    buf_adds(out, "\n### \xf0\x9f\x94\x80 Choose Resolution\n\n"
                  "#### Option 1: Keep Database Version\n\n"
                  "- [ ] Keep the database version\n\n");
    add_fenced(out, c->db_display);
    buf_adds(out, "\n#### Option 2: Keep File Version\n\n"
                  "- [ ] Keep the file version\n\n");
    add_fenced(out, c->file_display);
    buf_adds(out, "\n#### Option 3: Manual Merge\n\n"
                  "- [ ] Use the text below (edit it first)\n\n");
    add_fenced(out, c->manual_value ? c->manual_value : c->file_display);
    buf_adds(out, "\n**Resolution Status**: Waiting for user input\n");
  }
  if (mtime_ns)
    *mtime_ns = newest;
  store_conflicts_free(v, n);
  return ENG_OK;
}

/* What a conflict section of a saved conflict file says. */
struct answer {
  int64_t id;
  int line;
  int ticked[4]; /* line of the tick of option 1..3, 0 when unticked */
  int nticks;
  struct buf manual;
  bool has_manual;
};

/* Skips a fence line's indentation (up to three spaces) and its
 * backticks: *start is where the backticks begin, the result where they
 * end. */
static size_t fence_ticks(const char *s, size_t n, size_t *start) {
  size_t i = 0;
  while (i < n && i < 3 && s[i] == ' ')
    i++;
  size_t k = i;
  while (k < n && s[k] == '`')
    k++;
  *start = i;
  return k;
}

static bool fence_open(const char *s, size_t n, int *len) {
  size_t i, k = fence_ticks(s, n, &i);
  if (k - i < 3)
    return false;
  *len = (int)(k - i);
  return true;
}

static bool fence_close(const char *s, size_t n, int len) {
  size_t i, k = fence_ticks(s, n, &i);
  while (k < n && (s[k] == ' ' || s[k] == '\t'))
    k++;
  return k == n && (int)(k - i) >= len && k > i;
}

/* Reads the answers of a saved conflict file: one a "## Conflict N"
 * section, with the options ticked and the text of option 3's fenced
 * block. The caller frees them with answers_free(). */
static void read_answers(const char *text, size_t len, struct answer **out,
                         size_t *nout) {
  struct answer *ans = NULL;
  size_t nans = 0, cap = 0;
  int option = 0, fence = 0, line = 0;
  bool in_manual_block = false;
  for (const char *p = text, *end = text + len; p < end;) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
    line++;
    struct answer *a = nans ? &ans[nans - 1] : NULL;
    if (fence) {
      if (fence_close(p, n, fence)) {
        fence = 0;
        in_manual_block = false;
      } else if (in_manual_block) {
        buf_add(&a->manual, p, n);
        buf_addc(&a->manual, '\n');
      }
    } else if (n > 12 && strncmp(p, "## Conflict ", 12) == 0) {
      XGROW(ans, cap, nans + 1);
      memset(&ans[nans], 0, sizeof ans[nans]);
      buf_init(&ans[nans].manual);
      ans[nans].id = strtoll(p + 12, NULL, 10);
      ans[nans].line = line;
      nans++;
      option = 0;
    } else if (a && n > 12 && strncmp(p, "#### Option ", 11) == 0) {
      option = p[12] - '0';
      if (option < 1 || option > 3)
        option = 0;
    } else if (a && option &&
               (strncmp(p, "- [x]", 5) == 0 || strncmp(p, "- [X]", 5) == 0)) {
      if (!a->ticked[option])
        a->nticks++;
      a->ticked[option] = line;
    } else if (a && fence_open(p, n, &fence)) {
      if (option == 3 && !a->has_manual) {
        in_manual_block = true;
        a->has_manual = true;
      }
    }
    p += n + (nl ? 1 : 0);
  }
  *out = ans;
  *nout = nans;
}

static void answers_free(struct answer *v, size_t n) {
  for (size_t i = 0; i < n; i++)
    buf_release(&v[i].manual);
  free(v);
}

/* Applies one answer to the open conflict c: the option ticked, or a note
 * (in report, counted in *problems) saying why not. */
static int apply_answer(struct store *st, const struct answer *a,
                        const struct conflict *c, struct buf *report,
                        int *problems) {
  int rc = ENG_OK;
  const char *manual = a->has_manual ? a->manual.ptr : NULL;
  bool manual_edited = manual && !str_eq(manual, c->file_display) &&
                       !(c->manual_value && str_eq(manual, c->manual_value));
  char note[300] = "";
  if (a->nticks > 1) {
    snprintf(note, sizeof note,
             "line %d: more than one option is ticked; tick one", a->line);
  } else if (a->nticks == 1) {
    const char *how = a->ticked[1] ? "db" : a->ticked[2] ? "file" : "manual";
    int at = a->ticked[1] + a->ticked[2] + a->ticked[3];
    rc = conflict_resolve(st, a->id, how, manual);
    if (rc == ENG_INVALID) {
      snprintf(note, sizeof note, "line %d: %s", at, store_errmsg(st));
      rc = ENG_OK;
    }
  }
  if (*note || (manual_edited && a->nticks != 1)) {
    if (rc == ENG_OK)
      rc = store_conflict_note(st, a->id, manual, note);
    if (*note) {
      (*problems)++;
      buf_printf(report, "conflict %lld: %s\n", (long long)a->id, note);
    }
  }
  return rc;
}

int conflict_apply_file(struct store *st, const char *file_kind,
                        const char *file_record, const char *text, size_t len,
                        struct buf *report) {
  struct answer *ans;
  size_t nans;
  read_answers(text, len, &ans, &nans);
  int rc = ENG_OK, problems = 0;
  for (size_t i = 0; i < nans && rc == ENG_OK; i++) {
    struct conflict c;
    conflict_init(&c);
    rc = store_conflict_get(st, ans[i].id, &c);
    if (rc == ENG_OK && str_eq(c.file_kind, file_kind) &&
        str_eq(c.file_record, file_record) && !str_eq(c.status, "resolved"))
      rc = apply_answer(st, &ans[i], &c, report, &problems);
    else if (rc == ENG_NOTFOUND)
      rc = ENG_OK; /* resolved and gone, or not of this file */
    conflict_release(&c);
  }
  answers_free(ans, nans);
  if (rc)
    return rc;
  return problems ? ENG_PARSE : ENG_OK;
}
