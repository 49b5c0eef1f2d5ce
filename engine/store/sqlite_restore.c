/* SPDX-License-Identifier: MIT */
/* sqlite_restore.c: the records of a backup restored into a database as
 * ordinary versioned changes, through the record writers of the store.
 * Copying whole files is sqlite_backup.c's. */
#include "store.h"
#include "sqlite.h"
#include "util.h"

#include <string.h>

struct restore {
  struct store *st, *from;
  struct store_restore_stats *stats;
  struct session *bs, *ls; /* sessions of the backup and of st, by id */
  size_t nbs, nls;
};

/* One write of a record: an update of its row, or an insert. */
struct write {
  void *rec; /* the record as it is to be */
  bool insert;
};

/* The writes of one kind of record, in the order they are tried. */
struct writes {
  struct write *v;
  size_t n, cap;
};

static void writes_add(struct writes *w, void *rec, bool insert) {
  XGROW(w->v, w->cap, w->n + 1);
  w->v[w->n].rec = rec;
  w->v[w->n].insert = insert;
  w->n++;
}

/* A partial unique index on names, and the statement that drops it. */
struct name_index {
  const char *name, *drop;
};
static const struct name_index group_names = {"task_groups_name",
                                              "DROP INDEX task_groups_name"};
static const struct name_index section_keys = {"sections_key",
                                               "DROP INDEX sections_key"};

/* A failure of a read of the backup, told on st. */
static int from_failed(struct restore *r, int rc) {
  return store_fail(r->st, rc, "cannot read the backup %s: %s",
                    store_path(r->from), store_errmsg(r->from));
}

/* Sets created_at, which no writer takes, of a record just inserted: it
 * is not versioned, so this adds nothing to the history. */
static int set_created(struct restore *r, int slot, const char *sql,
                       const char *id, const char *created_at) {
  if (!created_at)
    return ENG_OK;
  sqlite3_stmt *s = store_stmt(r->st, slot, sql);
  if (!s)
    return ENG_DB;
  bind_text(s, 1, id);
  bind_text(s, 2, created_at);
  return store_step_done(r->st, s);
}

/* Rebuilds ix around the writes idx[n] of w: names that were swapped
 * can only be written one at a time by passing through a state that holds
 * one name twice. CREATE INDEX fails (and so the restore) if the names
 * are taken twice at the end. */
static int without_index(struct restore *r, const struct name_index *ix,
                         struct write *w, const size_t *idx, size_t n,
                         int (*fn)(struct restore *, struct write *)) {
  struct store *st = r->st;
  sqlite3_stmt *s = store_stmt(st, STMT_INDEX_SQL,
                               "SELECT sql FROM sqlite_schema"
                               " WHERE type = 'index' AND name = ?1");
  if (!s)
    return ENG_DB;
  bind_text(s, 1, ix->name);
  char *sql = NULL;
  if (sqlite3_step(s) == SQLITE_ROW)
    sql = col_text(s, 0);
  sqlite3_reset(s);
  /* Without the index the refusal came from elsewhere: say what it is. */
  if (!sql)
    return fn(r, &w[idx[0]]);
  int rc = store_exec(st, ix->drop);
  for (size_t i = 0; i < n && rc == ENG_OK; i++)
    rc = fn(r, &w[idx[i]]);
  if (rc == ENG_OK) {
    rc = store_exec(st, sql);
    if (rc == ENG_EXISTS)
      store_fail(st, rc,
                 "the backup gives two live records the same name (index "
                 "%s); nothing was restored",
                 ix->name);
  }
  free(sql);
  return rc;
}

/*
 * Runs fn on each write. A write that a name or key held by a live record
 * refuses (ENG_EXISTS) waits for the others and is tried again while a
 * round makes progress: a chain of renames then goes in the one order
 * that never holds a name twice, and the history shows each record going
 * from its old name straight to its new one. What is still refused after
 * that is a cycle of swapped names, written without the index.
 */
static int apply_writes(struct restore *r, struct writes *w,
                        const struct name_index *ix,
                        int (*fn)(struct restore *, struct write *)) {
  size_t *pending = xmalloc((w->n + 1) * sizeof *pending);
  size_t np = w->n;
  int rc = ENG_OK;
  for (size_t i = 0; i < np; i++)
    pending[i] = i;
  while (np > 0) {
    size_t kept = 0;
    for (size_t i = 0; i < np; i++) {
      rc = fn(r, &w->v[pending[i]]);
      if (rc == ENG_EXISTS && ix) {
        pending[kept++] = pending[i];
        rc = ENG_OK;
      } else if (rc) {
        goto out;
      }
    }
    if (kept == np) {
      rc = without_index(r, ix, w->v, pending, np, fn);
      break;
    }
    np = kept;
  }
out:
  free(pending);
  return rc;
}

/* ---- sessions ---- */

static int session_cmp(const void *a, const void *b) {
  return strcmp(((const struct session *)a)->id,
                ((const struct session *)b)->id);
}

static bool session_same(const struct session *a, const struct session *b) {
  for (int f = 0; f < SF_COUNT; f++)
    if (!session_field_eq(a, b, f))
      return false;
  return true;
}

static int write_session(struct restore *r, struct write *w) {
  struct session *x = w->rec;
  if (!w->insert)
    return store_session_update(r->st, x);
  struct session n;
  session_init(&n);
  session_copy(&n, x);
  int rc = store_session_insert(r->st, &n);
  session_release(&n);
  if (rc == ENG_OK)
    rc = set_created(r, STMT_RESTORE_SESSION_CREATED,
                     "UPDATE sessions SET created_at = ?2 WHERE id = ?1", x->id,
                     x->created_at);
  return rc;
}

static int restore_sessions(struct restore *r) {
  struct writes del = {0}, upd = {0}, ins = {0};
  int rc;
  for (size_t i = 0; i < r->nls; i++) {
    struct session *l = &r->ls[i];
    struct session *b = xsearch(l, r->bs, r->nbs, sizeof *r->bs, session_cmp);
    if (!b) {
      if (!l->deleted) {
        l->deleted = true;
        writes_add(&del, l, false);
      }
    } else if (!session_same(l, b)) {
      writes_add(&upd, b, false);
    }
  }
  for (size_t i = 0; i < r->nbs; i++)
    if (!xsearch(&r->bs[i], r->ls, r->nls, sizeof *r->ls, session_cmp))
      writes_add(&ins, &r->bs[i], true);
  r->stats->deleted += del.n;
  r->stats->changed += upd.n;
  r->stats->inserted += ins.n;
  if (!(rc = apply_writes(r, &del, NULL, write_session)) &&
      !(rc = apply_writes(r, &upd, NULL, write_session)))
    rc = apply_writes(r, &ins, NULL, write_session);
  free(del.v);
  free(upd.v);
  free(ins.v);
  return rc;
}

/* ---- groups ---- */

struct group_list {
  struct group *v;
  size_t n, cap;
};

static int group_cmp(const void *a, const void *b) {
  return strcmp(((const struct group *)a)->id, ((const struct group *)b)->id);
}

/* Every group of the sessions ss[n] of st, sorted by id. */
static int all_groups(struct store *st, const struct session *ss, size_t n,
                      struct group_list *out) {
  for (size_t i = 0; i < n; i++) {
    struct group *v;
    size_t m;
    int rc = store_group_list(st, ss[i].id, true, &v, &m);
    if (rc)
      return rc;
    if (m) {
      XGROW(out->v, out->cap, out->n + m);
      memcpy(out->v + out->n, v, m * sizeof *v);
      out->n += m;
    }
    free(v);
  }
  xsort(out->v, out->n, sizeof *out->v, group_cmp);
  return ENG_OK;
}

static int write_group(struct restore *r, struct write *w) {
  struct group *g = w->rec;
  if (!w->insert)
    return store_group_update(r->st, g);
  struct group n;
  group_init(&n);
  group_copy(&n, g);
  int rc = store_group_insert(r->st, &n);
  group_release(&n);
  /* The writer takes a position of 0 to mean "at the end". */
  if (rc == ENG_OK && g->position == 0)
    rc = store_group_update(r->st, g);
  if (rc == ENG_OK)
    rc = set_created(r, STMT_RESTORE_GROUP_CREATED,
                     "UPDATE task_groups SET created_at = ?2 WHERE id = ?1",
                     g->id, g->created_at);
  return rc;
}

/* The records of kind of this database (lv, ln) and of the backup (bv,
 * bn), both sorted by cmp, as writes: this database's records the backup
 * lacks are deleted (into w), changed ones into w when the backup's is
 * deleted or upd otherwise, the backup's records this one lacks into ins.
 * ENG_INVALID when a record is in another session in the backup. */
static int diff(struct restore *r, int kind, char *lv, size_t ln, char *bv,
                size_t bn, int (*cmp)(const void *, const void *),
                struct writes *w, struct writes *upd, struct writes *ins) {
  const struct record_kind_desc *k = &record_kinds[kind];
  int sf = record_field_index(kind, "session_id");
  for (size_t i = 0; i < ln; i++) {
    void *l = lv + i * k->size;
    void *b = xsearch(l, bv, bn, k->size, cmp);
    bool *deleted =
        (bool *)((char *)l +
                 k->fields[record_field_index(kind, "deleted")].offset);
    if (!b) {
      if (!*deleted) {
        *deleted = true;
        writes_add(w, l, false);
        r->stats->deleted++;
      }
      continue;
    }
    if (!record_field_eq(kind, l, b, sf)) {
      char *id = record_field_text(kind, l, k->key);
      char *here = record_field_text(kind, l, sf);
      char *there = record_field_text(kind, b, sf);
      store_fail(r->st, ENG_INVALID,
                 "%s %s is in session %s in the backup and in session %s "
                 "here; taskfs does not move %ss between sessions, so this "
                 "backup cannot be restored over this database",
                 k->name, id, there, here, k->name);
      free(id);
      free(here);
      free(there);
      return ENG_INVALID;
    }
    int f = 0;
    while (f < k->nversioned && record_field_eq(kind, l, b, f))
      f++;
    if (f < k->nversioned) {
      bool gone =
          *(bool *)((char *)b +
                    k->fields[record_field_index(kind, "deleted")].offset);
      writes_add(gone ? w : upd, b, false);
      r->stats->changed++;
    }
  }
  for (size_t i = 0; i < bn; i++)
    if (!xsearch(bv + i * k->size, lv, ln, k->size, cmp)) {
      writes_add(ins, bv + i * k->size, true);
      r->stats->inserted++;
    }
  return ENG_OK;
}

static int restore_groups(struct restore *r) {
  struct group_list bg = {0}, lg = {0};
  struct writes w = {0}, upd = {0}, ins = {0};
  int rc = all_groups(r->from, r->bs, r->nbs, &bg);
  if (rc) {
    rc = from_failed(r, rc);
    goto out;
  }
  if ((rc = all_groups(r->st, r->ls, r->nls, &lg)))
    goto out;
  /* Writes that leave a record deleted come first: they free names. */
  if ((rc = diff(r, RK_GROUP, (char *)lg.v, lg.n, (char *)bg.v, bg.n, group_cmp,
                 &w, &upd, &ins)))
    goto out;
  for (size_t i = 0; i < upd.n; i++)
    writes_add(&w, upd.v[i].rec, false);
  for (size_t i = 0; i < ins.n; i++)
    writes_add(&w, ins.v[i].rec, true);
  rc = apply_writes(r, &w, &group_names, write_group);
out:
  free(w.v);
  free(upd.v);
  free(ins.v);
  store_groups_free(bg.v, bg.n);
  store_groups_free(lg.v, lg.n);
  return rc;
}

/* ---- tasks ---- */

static int task_cmp(const void *a, const void *b) {
  return strcmp(((const struct task *)a)->id, ((const struct task *)b)->id);
}

static int write_task(struct restore *r, struct write *w) {
  struct task *t = w->rec;
  if (!w->insert)
    return store_task_update(r->st, t);
  struct task n;
  task_init(&n);
  task_copy(&n, t);
  int rc = store_task_insert(r->st, &n);
  task_release(&n);
  if (rc == ENG_OK && t->position == 0)
    rc = store_task_update(r->st, t);
  if (rc == ENG_OK)
    rc = set_created(r, STMT_RESTORE_TASK_CREATED,
                     "UPDATE tasks SET created_at = ?2 WHERE id = ?1", t->id,
                     t->created_at);
  return rc;
}

static int restore_tasks(struct restore *r) {
  struct task *bv = NULL, *lv = NULL;
  size_t bn = 0, ln = 0;
  struct writes w = {0};
  int rc = store_task_list(r->from, NULL, -1, NULL, true, &bv, &bn);
  if (rc) {
    rc = from_failed(r, rc);
    goto out;
  }
  if ((rc = store_task_list(r->st, NULL, -1, NULL, true, &lv, &ln)))
    goto out;
  xsort(bv, bn, sizeof *bv, task_cmp);
  xsort(lv, ln, sizeof *lv, task_cmp);
  if ((rc = diff(r, RK_TASK, (char *)lv, ln, (char *)bv, bn, task_cmp, &w, &w,
                 &w)))
    goto out;
  rc = apply_writes(r, &w, NULL, write_task);
out:
  free(w.v);
  store_tasks_free(bv, bn);
  store_tasks_free(lv, ln);
  return rc;
}

/* ---- sections ---- */

static int section_cmp(const void *a, const void *b) {
  int64_t x = ((const struct section *)a)->id;
  int64_t y = ((const struct section *)b)->id;
  return x < y ? -1 : x > y;
}

static bool section_owner_eq(const struct section *a, const struct section *b) {
  return a->owner_kind == b->owner_kind && str_eq(a->owner_id, b->owner_id);
}

static bool section_same(const struct section *a, const struct section *b) {
  return str_eq(a->key, b->key) && str_eq(a->heading, b->heading) &&
         str_eq(a->body, b->body) && a->position == b->position &&
         a->deleted == b->deleted;
}

static int write_section(struct restore *r, struct write *w) {
  struct section *x = w->rec;
  if (!w->insert)
    return store_section_update(r->st, x);
  struct section n;
  section_init(&n);
  section_copy(&n, x);
  int rc = store_section_insert(r->st, &n);
  section_release(&n);
  return rc;
}

static int restore_sections(struct restore *r) {
  struct section *bv = NULL, *lv = NULL;
  size_t bn = 0, ln = 0;
  struct writes w = {0}, upd = {0}, ins = {0};
  int rc = store_section_list_all(r->from, &bv, &bn);
  if (rc) {
    rc = from_failed(r, rc);
    goto out;
  }
  if ((rc = store_section_list_all(r->st, &lv, &ln)))
    goto out;
  /* A section is the same record on both sides when its id and its owner
   * are: row ids of another database's sections mean nothing here. */
  for (size_t i = 0; i < ln; i++) {
    struct section *l = &lv[i];
    struct section *b = xsearch(l, bv, bn, sizeof *bv, section_cmp);
    if (!b || !section_owner_eq(l, b)) {
      if (!l->deleted) {
        l->deleted = true;
        writes_add(&w, l, false);
        r->stats->deleted++;
      }
    } else if (!section_same(l, b)) {
      writes_add(b->deleted ? &w : &upd, b, false);
      r->stats->changed++;
    }
  }
  for (size_t i = 0; i < bn; i++) {
    struct section *b = &bv[i];
    struct section *l = xsearch(b, lv, ln, sizeof *lv, section_cmp);
    if (l && section_owner_eq(l, b))
      continue;
    if (l)
      b->id = 0; /* its id is another record's here: a new one */
    writes_add(&ins, b, true);
    r->stats->inserted++;
  }
  for (size_t i = 0; i < upd.n; i++)
    writes_add(&w, upd.v[i].rec, false);
  for (size_t i = 0; i < ins.n; i++)
    writes_add(&w, ins.v[i].rec, true);
  rc = apply_writes(r, &w, &section_keys, write_section);
out:
  free(w.v);
  free(upd.v);
  free(ins.v);
  store_sections_free(bv, bn);
  store_sections_free(lv, ln);
  return rc;
}

/* ---- the whole restore ---- */

static int restore_records(struct restore *r) {
  int rc = store_session_list(r->from, true, &r->bs, &r->nbs);
  if (rc)
    return from_failed(r, rc);
  if ((rc = store_session_list(r->st, true, &r->ls, &r->nls)))
    return rc;
  xsort(r->bs, r->nbs, sizeof *r->bs, session_cmp);
  xsort(r->ls, r->nls, sizeof *r->ls, session_cmp);
  /* Sessions before groups before tasks: an inserted record's parent
   * must exist. restore_sessions marks the sessions it deletes in r->ls,
   * whose ids then still list their groups. */
  if ((rc = restore_sessions(r)) || (rc = restore_groups(r)) ||
      (rc = restore_tasks(r)) || (rc = restore_sections(r)))
    return rc;
  return ENG_OK;
}

int sqlite_restore(struct store *st, struct store *from, char **snapshot,
                   struct store_restore_stats *stats) {
  struct restore r;
  memset(&r, 0, sizeof r);
  memset(stats, 0, sizeof *stats);
  r.st = st;
  r.from = from;
  r.stats = stats;
  *snapshot = NULL;
  char *source = xstrdup(st->source);
  int rc = store_begin_write(st);
  if (rc)
    goto out;
  /* The write lock is held and nothing is changed yet: the backup is the
   * state the restore replaces, not one a moment older. */
  if (!sq(st)->memory &&
      (rc = store_dbbackup_auto(st, "before-restore", snapshot))) {
    char *why = xstrdup(store_errmsg(st));
    store_fail(st, rc,
               "the database could not be saved before the restore, so "
               "nothing was changed: %s",
               why);
    free(why);
    store_rollback(st);
    goto out;
  }
  store_set_source(st, "restore");
  if ((rc = store_begin_source(st)))
    goto out;
  if ((rc = store_read_begin(from))) {
    rc = from_failed(&r, rc);
    store_rollback(st);
    goto out;
  }
  stats->from_rev = store_revision(from);
  rc = restore_records(&r);
  store_read_end(from);
  if (rc) {
    store_rollback(st);
    goto out;
  }
  if ((rc = store_commit(st)))
    goto out;
  stats->rev = store_revision(st);
out:
  store_set_source(st, source);
  free(source);
  store_sessions_free(r.bs, r.nbs);
  store_sessions_free(r.ls, r.nls);
  return rc;
}
