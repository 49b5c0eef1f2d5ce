/* SPDX-License-Identifier: MIT */
/* folder.c: checkout and one pass of a plain folder both ways: what the
 * user did to the files becomes saves, renames, new records and
 * deletions, made by the engine as the mount makes them; then what the
 * database changed is written into the files. The watching loop is in
 * folder_watch.c, the calls into the engine in folder_tree.c. */
#include "folder.h"
#include "taskctl.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- helpers ---- */

/* The mark of a file that is not there: written again by the refresh
 * even when its text did not change. */
static const struct fmark GONE = {-2, 0, 0, 0};
/* The mark of bytes not taken yet: read again at the next pass. */
static const struct fmark UNREAD = {-1, 0, 0, 0};

int64_t folder_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t real_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* One line of what a pass did, on standard output. */
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  putchar('\n');
  fflush(stdout);
}

/* The lines of a save's report, indented under the line that names it. */
static void say_report(const struct buf *report) {
  for (const char *p = report->ptr; *p;) {
    const char *nl = strchr(p, '\n');
    int n = nl ? (int)(nl - p) : (int)strlen(p);
    if (n)
      printf("  %.*s\n", n, p);
    p += n + (nl != NULL);
  }
  fflush(stdout);
}

static char *dir_of(const char *path) {
  const char *slash = strrchr(path, '/');
  return slash ? xstrndup(path, (size_t)(slash - path)) : xstrdup("");
}

static const char *base_of(const char *path) {
  const char *slash = strrchr(path, '/');
  return slash ? slash + 1 : path;
}

void folder_init(struct folder *f, struct fstate *fs, struct store *st,
                 const struct policy *policy) {
  memset(f, 0, sizeof *f);
  f->fs = fs;
  f->st = st;
  f->policy = policy;
  vnode_init(&f->root);
  tree_root(fstate_session(fs), &f->root);
  mode_t m = umask(0);
  umask(m);
  f->umask = m;
  f->grace_ns = 2000000000;
  /* A pass killed while it made new records left what it was making. */
  struct buf intent = BUF_INIT;
  if (fstate_intent_get(fs, &intent) == 0) {
    char *save = NULL;
    for (char *line = strtok_r(intent.ptr, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
      long long rev;
      if (sscanf(line, "revision %lld", &rev) == 1)
        f->recover_rev = rev;
      else
        strlist_add(&f->recover, line);
    }
  }
  buf_release(&intent);
}

void folder_release(struct folder *f) {
  vnode_release(&f->root);
  strlist_clear(&f->held);
  strlist_clear(&f->conflicts);
  strlist_clear(&f->waiting);
  strlist_clear(&f->recover);
}

/* The file an entry shows, into v; false (with a message) when the
 * manifest names none. */
static bool entry_vnode(const struct fentry *e, struct vnode *v) {
  if (e->what && tree_from_what(e->what, v))
    return true;
  ctl_warn("%s: the state names no file of the tree ('%s'); it is written "
           "again",
           e->path, e->what ? e->what : "");
  return false;
}

static void set_what(struct fentry *e, const struct vnode *v) {
  struct buf w = BUF_INIT;
  tree_what(v, &w);
  fentry_set_what(e, w.ptr);
  buf_release(&w);
}

/* The entry took the user's text at path: the next pass compares with
 * it, and the refresh reads the file from the database again. */
static void consume(struct folder *f, struct fentry *e,
                    const struct fmark *mark, const char *hash) {
  e->mark = *mark;
  fstate_set_hash(f->fs, e, hash);
  e->flags &= ~FE_RACY;
  e->rev = -1;
  e->due_ns = 0;
}

/* Counts a store failure of the pass; returns rc. */
static int store_failed(struct folder *f, int rc, const char *what) {
  ctl_warn("%s: %s", what, store_errmsg(f->st));
  if (!f->failed)
    f->failed = rc;
  return rc;
}

static void wait_for(struct folder *f, struct fentry *e) {
  if (e->due_ns)
    return;
  e->due_ns = folder_now_ns() + f->grace_ns;
  strlist_add(&f->waiting, e->path);
}

int64_t folder_next_due(const struct folder *f) {
  int64_t next = 0;
  for (size_t i = 0; i < f->waiting.n; i++) {
    struct fentry *e = fstate_get(f->fs, f->waiting.v[i]);
    if (e && e->due_ns && (!next || e->due_ns < next))
      next = e->due_ns;
  }
  return next;
}

/* Drops the waiting paths that no longer wait. */
static void prune_waiting(struct folder *f) {
  size_t k = 0;
  for (size_t i = 0; i < f->waiting.n; i++) {
    struct fentry *e = fstate_get(f->fs, f->waiting.v[i]);
    if (e && e->due_ns)
      f->waiting.v[k++] = f->waiting.v[i];
    else
      free(f->waiting.v[i]);
  }
  f->waiting.n = k;
}

/* ---- the folders of the tree ---- */

/* The folder of the tree at path (relative to the checkout), resolved
 * name by name from the root. */
static int dir_vnode(struct folder *f, const char *path, struct vnode *out) {
  vnode_copy(out, &f->root);
  if (!*path)
    return ENG_OK;
  char *copy = xstrdup(path), *save = NULL;
  int rc = ENG_OK;
  for (char *name = strtok_r(copy, "/", &save); name && rc == ENG_OK;
       name = strtok_r(NULL, "/", &save)) {
    struct vnode next;
    vnode_init(&next);
    rc = tree_lookup(f->st, out, name, &next);
    if (rc == ENG_OK && !tree_is_dir(&next))
      rc = ENG_NOTFOUND;
    vnode_release(out);
    *out = next;
  }
  free(copy);
  return rc;
}

/* The folders new files may become records in: task_groups/ and
 * tasks/STATUS/ of every session checked out. */
static int new_record_dirs(struct folder *f, struct tree_item **out,
                           size_t *n) {
  struct tree_item *all;
  size_t nall, k = 0;
  int rc = tree_dirs(f->st, &f->root, &all, &nall);
  if (rc)
    return rc;
  for (size_t i = 0; i < nall; i++) {
    if (tree_takes_new(&all[i].v)) {
      all[k++] = all[i];
    } else {
      free(all[i].path);
      vnode_release(&all[i].v);
    }
  }
  *out = all;
  *n = k;
  return ENG_OK;
}

/* ---- what the user did ---- */

enum { CH_MODIFIED, CH_NEW, CH_MISSING };

struct fchange {
  int kind;
  char *path;
  struct buf text; /* CH_MODIFIED, CH_NEW */
  char hash[SHA256_HEX];
  struct fmark mark;
  bool done;
};

struct fchanges {
  struct fchange *v;
  size_t n, cap;
};

static struct fchange *change_add(struct fchanges *cs, int kind,
                                  const char *path) {
  XGROW(cs->v, cs->cap, cs->n + 1);
  struct fchange *c = &cs->v[cs->n++];
  memset(c, 0, sizeof *c);
  c->kind = kind;
  c->path = xstrdup(path);
  buf_init(&c->text);
  return c;
}

static void changes_release(struct fchanges *cs) {
  for (size_t i = 0; i < cs->n; i++) {
    free(cs->v[i].path);
    buf_release(&cs->v[i].text);
  }
  free(cs->v);
}

static struct fchange *change_find(struct fchanges *cs, const char *path) {
  for (size_t i = 0; i < cs->n; i++)
    if (strcmp(cs->v[i].path, path) == 0)
      return &cs->v[i];
  return NULL;
}

/* Reads path into c; false when it cannot be read as a regular file (the
 * reason is reported unless it is gone). */
static bool read_change(struct folder *f, const char *path, struct buf *text,
                        struct fmark *mark, char hash[SHA256_HEX]) {
  struct stat st;
  buf_truncate(text, 0);
  int rc = fstate_read(f->fs, path, TREE_MAX_BYTES, text, &st);
  if (rc == -EFBIG) {
    ctl_warn("%s is larger than %u MiB, the most taskfs reads back; it is "
             "not saved",
             path, TREE_MAX_BYTES >> 20);
    return false;
  }
  if (rc) {
    if (rc != -ENOENT && rc != -EISDIR && rc != -EINVAL && rc != -ELOOP)
      ctl_warn("cannot read %s: %s", path, strerror(-rc));
    return false;
  }
  fmark_of(&st, mark);
  sha256_hex(text->ptr, text->len, hash);
  return true;
}

/* Whether the folder of path is there (a folder removed as a whole
 * deletes nothing: it is written again). */
static bool parent_exists(struct folder *f, const char *path) {
  char *dir = dir_of(path);
  struct stat st;
  bool yes = !*dir || (fstatat(fstate_dirfd(f->fs), dir, &st,
                               AT_SYMLINK_NOFOLLOW) == 0 &&
                       S_ISDIR(st.st_mode));
  free(dir);
  return yes;
}

static void check_stat(struct folder *f, struct fentry *e, bool force,
                       struct fchanges *cs, const struct stat *stp, int err);

/* Looks at the file of entry e: unchanged, changed (its new text into
 * cs) or missing. force: read it even when its stat says unchanged. */
static void check_entry(struct folder *f, struct fentry *e, bool force,
                        struct fchanges *cs) {
  struct stat st;
  int err = fstatat(fstate_dirfd(f->fs), e->path, &st, AT_SYMLINK_NOFOLLOW)
                ? errno
                : 0;
  check_stat(f, e, force, cs, err ? NULL : &st, err);
}

/* check_entry with the file's stat taken (st), or its failure (err). */
static void check_stat(struct folder *f, struct fentry *e, bool force,
                       struct fchanges *cs, const struct stat *stp, int err) {
  if (!stp) {
    if (err == ENOENT || err == ENOTDIR) {
      if (e->type == FE_PLAIN)
        fstate_remove(f->fs, e->path);
      else
        change_add(cs, CH_MISSING, e->path);
    }
    return;
  }
  if (!S_ISREG(stp->st_mode))
    return; /* a folder or link the user put there: left alone */
  if (stp->st_size > 0)
    e->due_ns = 0; /* back, or written to: no longer waiting */
  struct fmark m;
  fmark_of(stp, &m);
  if (fmark_eq(&m, &e->mark) && !(e->flags & FE_RACY) && !force)
    return;
  struct fchange tmp = {0};
  buf_init(&tmp.text);
  if (read_change(f, e->path, &tmp.text, &tmp.mark, tmp.hash)) {
    if (strcmp(tmp.hash, e->hash) == 0) {
      /* The same bytes: only its stat moved (touch, chmod, a rewrite
       * with the same text). */
      e->mark = tmp.mark;
      if (tmp.mark.mtime_ns < real_ns() - 1000000000)
        e->flags &= ~FE_RACY;
    } else {
      struct fchange *c = change_add(cs, CH_MODIFIED, e->path);
      c->text = tmp.text;
      c->mark = tmp.mark;
      memcpy(c->hash, tmp.hash, sizeof c->hash);
      return;
    }
  }
  buf_release(&tmp.text);
}

/* Looks at a file the state has no tree entry for, in a folder where new
 * records are made. */
static void check_new(struct folder *f, const char *path, struct fchanges *cs) {
  if (!tree_may_be_new(base_of(path)) || change_find(cs, path))
    return;
  struct fentry *e = fstate_get(f->fs, path);
  struct stat st;
  if (fstatat(fstate_dirfd(f->fs), path, &st, AT_SYMLINK_NOFOLLOW) ||
      !S_ISREG(st.st_mode) || st.st_nlink != 1) {
    if (e && e->type == FE_PLAIN)
      fstate_remove(f->fs, path);
    return;
  }
  struct fmark m;
  fmark_of(&st, &m);
  if (e && fmark_eq(&m, &e->mark))
    return;
  struct fchange *c = change_add(cs, CH_NEW, path);
  if (!read_change(f, path, &c->text, &c->mark, c->hash) ||
      (e && strcmp(c->hash, e->hash) == 0)) {
    if (e && *c->hash)
      e->mark = c->mark;
    buf_release(&c->text);
    free(c->path);
    cs->n--;
  }
}

/* Whether the folder of path is one where files become new records. */
static bool in_new_dir(struct folder *f, const char *path) {
  char *dir = dir_of(path);
  struct vnode v;
  vnode_init(&v);
  bool yes = dir_vnode(f, dir, &v) == ENG_OK && tree_takes_new(&v);
  vnode_release(&v);
  free(dir);
  return yes;
}

/* Every file of the checkout. */
static int scan_all(struct folder *f, struct fchanges *cs) {
  size_t n;
  /* In path order, each file's stat taken from its folder's descriptor:
   * the kernel walks one name instead of the whole path. */
  struct fentry **v = fstate_entries(f->fs, true, &n);
  struct stat st;
  int dfd = -1, derr = 0;
  char *dir = NULL;
  for (size_t i = 0; i < n; i++) {
    struct fentry *e = v[i];
    const char *base = base_of(e->path);
    size_t len = base > e->path ? (size_t)(base - e->path - 1) : 0;
    if (!dir || strlen(dir) != len || memcmp(e->path, dir, len) != 0) {
      if (dfd >= 0)
        close(dfd);
      free(dir);
      dir = xstrndup(e->path, len);
      dfd = openat(fstate_dirfd(f->fs), len ? dir : ".",
                   O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      derr = dfd < 0 ? errno : 0;
    }
    int err = derr                                           ? derr
              : fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) ? errno
                                                             : 0;
    if (e->type == FE_FILE)
      check_stat(f, e, false, cs, err ? NULL : &st, err);
    else if (err == ENOENT || err == ENOTDIR)
      fstate_remove(f->fs, e->path); /* a file of the user's, gone */
  }
  free(dir);
  if (dfd >= 0)
    close(dfd);
  free(v);
  struct tree_item *dirs;
  size_t ndirs;
  int rc = new_record_dirs(f, &dirs, &ndirs);
  if (rc)
    return store_failed(f, rc, "listing the folders of the tree");
  for (size_t i = 0; i < ndirs; i++) {
    int fd = openat(fstate_dirfd(f->fs), dirs[i].path,
                    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    DIR *d = fd < 0 ? NULL : fdopendir(fd);
    if (!d) {
      if (fd >= 0)
        close(fd);
      continue;
    }
    struct dirent *de;
    struct buf path = BUF_INIT;
    while ((de = readdir(d))) {
      if (!tree_may_be_new(de->d_name))
        continue;
      buf_truncate(&path, 0);
      buf_printf(&path, "%s/%s", dirs[i].path, de->d_name);
      struct fentry *e = fstate_get(f->fs, path.ptr);
      if (!e || e->type == FE_PLAIN)
        check_new(f, path.ptr, cs);
    }
    buf_release(&path);
    closedir(d);
  }
  tree_items_free(dirs, ndirs);
  return 0;
}

/* The files a watch saw change. */
static void scan_paths(struct folder *f, const struct strlist *paths,
                       struct fchanges *cs) {
  for (size_t i = 0; i < paths->n; i++) {
    const char *path = paths->v[i];
    if (change_find(cs, path))
      continue;
    struct fentry *e = fstate_get(f->fs, path);
    if (e && e->type == FE_FILE)
      check_entry(f, e, true, cs);
    else if (in_new_dir(f, path))
      check_new(f, path, cs);
  }
}

/* ---- renames ---- */

/* The new or changed file that the missing task or group file at mpath
 * went to, as an index into cs, or -1: a task file of the same name in
 * another status folder, a group file in the same folder with the
 * missing file's bytes or naming its group. */
static ssize_t renamed_to(struct folder *f, struct fchanges *cs,
                          const char *mpath, const struct vnode *v) {
  char *dir = dir_of(mpath);
  struct fentry *e = fstate_get(f->fs, mpath);
  ssize_t found = -1;
  if (strcmp(tree_kind_name(v), "task") == 0) {
    /* ".../tasks/STATUS/name.md": the same name under another status */
    char *tasks = dir_of(dir);
    for (int s = 0; s < STATUS_COUNT && found < 0; s++) {
      if (s == v->status)
        continue;
      char *p = xasprintf("%s%s%s/%s", tasks, *tasks ? "/" : "", status_name(s),
                          base_of(mpath));
      if (!change_find(cs, p) && parent_exists(f, p))
        check_new(f, p, cs);
      struct fchange *c = change_find(cs, p);
      if (c && c->kind == CH_NEW && !c->done)
        found = c - cs->v;
      free(p);
    }
    free(tasks);
  } else {
    for (size_t i = 0; i < cs->n && found < 0; i++) {
      struct fchange *c = &cs->v[i];
      if (c->done || c->kind == CH_MISSING)
        continue;
      char *cdir = dir_of(c->path);
      bool same_dir = strcmp(cdir, dir) == 0;
      free(cdir);
      if (!same_dir)
        continue;
      if (e && strcmp(c->hash, e->hash) == 0) {
        found = (ssize_t)i;
        break;
      }
      char *session = NULL, *record = NULL;
      tree_identity(c->text.ptr, c->text.len, v, &session, &record);
      if (str_eq(record, v->record) &&
          (!session || str_eq(session, v->session)))
        found = (ssize_t)i;
      free(session);
      free(record);
    }
  }
  free(dir);
  return found;
}

static void say_saved(const char *path, int rc, const struct tree_result *r,
                      const char *beside) {
  if (rc == ENG_OK) {
    say("saved %s: %d change%s%s", path, r->changes, r->changes == 1 ? "" : "s",
        r->conflicts ? ", with conflicts (see its .conflict.md)" : "");
    if (r->warnings)
      say_report(&r->report);
  } else if (beside) {
    say("held %s: it could not be applied; the text stays there, see %s", path,
        beside);
    say_report(&r->report);
  } else {
    say("%s: options that could not be applied stay open", path);
    say_report(&r->report);
  }
}

/* The error file beside an editable file's path. */
static char *error_path(const char *path) {
  return xasprintf("%.*s.error.md", (int)strlen(path) - 3, path);
}

/* Saves text c to the file v (whose entry is at c->path). Returns the
 * engine's result. */
static int save_change(struct folder *f, const struct vnode *v,
                       struct fchange *c, int64_t served_rev,
                       const char *served_hash) {
  struct buf served = BUF_INIT;
  if (served_rev > 0 && served_hash && *served_hash &&
      fstate_text_get(f->fs, served_hash, &served))
    served_rev = 0;
  struct tree_result r;
  tree_result_init(&r);
  int rc = tree_save(f->st, v, c->text.ptr, c->text.len, served_rev, served.ptr,
                     served.len, f->policy, &r);
  if (tree_is_conflict(v) && rc == ENG_OK) {
    say("%s: the options ticked in it are applied", c->path);
    f->saved++;
  } else if (rc == ENG_OK || rc == ENG_PARSE) {
    char *beside = tree_is_editable(v) ? error_path(c->path) : NULL;
    say_saved(c->path, rc, &r, beside);
    free(beside);
    f->saved++;
  } else {
    char *what = xasprintf("save %s", c->path);
    store_failed(f, rc, what);
    free(what);
  }
  tree_result_release(&r);
  buf_release(&served);
  return rc;
}

/* Missing file m went to file c: the mount's rename. false when the move
 * means nothing for the records (then m is a removal, c a new file). */
static bool apply_rename(struct folder *f, struct fchange *m, struct fchange *c,
                         const struct vnode *v) {
  char *dir = dir_of(c->path);
  struct vnode dv, moved, over;
  vnode_init(&dv);
  vnode_init(&moved);
  vnode_init(&over);
  bool done = false;
  struct fentry *me = fstate_get(f->fs, m->path);
  struct fentry *ce = fstate_get(f->fs, c->path);
  int rc = dir_vnode(f, dir, &dv);
  if (rc)
    goto out;
  if (c->kind == CH_MODIFIED && ce && ce->type == FE_FILE &&
      entry_vnode(ce, &over)) {
    /* Moved over another group's file: that group is deleted (softly),
     * as when mv replaces its file on the mount. */
    if (strcmp(tree_kind_name(&over), "group") ||
        strcmp(tree_kind_name(v), "group"))
      goto out;
    if ((rc = tree_delete(f->st, &over)) && rc != ENG_NOTFOUND) {
      store_failed(f, rc, "delete the group whose file was replaced");
      goto out;
    }
    say("deleted group %s: its file %s was replaced (restorable: taskctl "
        "group restore %s)",
        over.record, c->path, over.record);
    f->deleted++;
  }
  rc = tree_rename(f->st, v, &dv, base_of(c->path), &moved);
  if (rc == ENG_PERM)
    goto out;
  done = true;
  if (rc) {
    store_failed(f, rc, "rename");
    goto out;
  }
  if (strcmp(tree_kind_name(v), "task") == 0)
    say("moved %s to %s: task %s is %s", m->path, c->path, v->record,
        status_name(moved.status));
  else
    say("renamed %s to %s", m->path, c->path);
  if (!me || strcmp(c->hash, me->hash) != 0) {
    rc = save_change(f, &moved, c, me ? me->rev : 0, me ? me->hash : NULL);
    if (rc != ENG_OK && rc != ENG_PARSE)
      goto out;
  }
  ce = fstate_put(f->fs, c->path);
  if (ce->type == FE_PLAIN) {
    fstate_remove(f->fs, c->path);
    ce = fstate_put(f->fs, c->path);
  }
  set_what(ce, &moved);
  consume(f, ce, &c->mark, c->hash);
  fstate_remove(f->fs, m->path);
out:
  if (done)
    m->done = c->done = true;
  vnode_release(&dv);
  vnode_release(&moved);
  vnode_release(&over);
  free(dir);
  return done;
}

/* ---- saves, new files, removals ---- */

static int refresh_file(struct folder *f, const struct tree_item *it,
                        const struct tree_filter *moved, bool held);

static void apply_modified(struct folder *f, struct fchange *c) {
  struct fentry *e = fstate_get(f->fs, c->path);
  struct vnode v;
  vnode_init(&v);
  if (!e || !entry_vnode(e, &v)) {
    if (e)
      consume(f, e, &c->mark, c->hash);
    goto out;
  }
  if (!tree_is_writable(&v)) {
    ctl_warn("%s is generated and read-only; the change to it is not kept",
             c->path);
    consume(f, e, &c->mark, c->hash);
    goto out;
  }
  if (c->text.len == 0 && f->watching &&
      (!e->due_ns || folder_now_ns() < e->due_ns)) {
    /* Truncated and not written yet: a shell's "> file" closes its first
     * descriptor before the command writes through the second. */
    wait_for(f, e);
    goto out;
  }
  int rc = save_change(f, &v, c, e->rev, e->hash);
  if (rc == ENG_OK || rc == ENG_PARSE)
    consume(f, fstate_get(f->fs, c->path), &c->mark, c->hash);
out:
  c->done = true;
  vnode_release(&v);
}

/* The line of the intent for a new file. */
static void intent_line(const char *path, const char *hash, struct buf *out) {
  fstate_escape(path, out);
  buf_printf(out, " %s", hash);
}

/*
 * Whether new file c was already made a record by a pass that was killed
 * before it replaced the file: then the file becomes the record's (or
 * goes, when the record's file has another name) and nothing is made
 * again.
 */
static bool made_before(struct folder *f, struct fchange *c,
                        const struct vnode *dv) {
  struct buf line = BUF_INIT;
  intent_line(c->path, c->hash, &line);
  bool listed = false;
  for (size_t i = 0; i < f->recover.n && !listed; i++)
    listed = strcmp(f->recover.v[i], line.ptr) == 0;
  buf_release(&line);
  struct vnode rec;
  vnode_init(&rec);
  if (!listed || !tree_made_since(f->st, dv, c->text.ptr, c->text.len,
                                  f->recover_rev, &rec)) {
    vnode_release(&rec);
    return false;
  }
  struct buf path = BUF_INIT;
  tree_path(f->st, &f->root, &rec, &path);
  say("new %s %s, from %s: made before the last run was stopped",
      tree_kind_name(&rec), path.ptr, c->path);
  if (fstate_get(f->fs, c->path))
    fstate_remove(f->fs, c->path);
  if (strcmp(path.ptr, c->path) == 0) {
    struct fentry *e = fstate_put(f->fs, c->path);
    set_what(e, &rec);
    consume(f, e, &c->mark, c->hash);
    struct tree_item it = {.path = c->path, .v = rec};
    refresh_file(f, &it, NULL, false);
  } else {
    unlinkat(fstate_dirfd(f->fs), c->path, 0);
  }
  buf_release(&path);
  vnode_release(&rec);
  return true;
}

static void apply_new(struct folder *f, struct fchange *c) {
  char *dir = dir_of(c->path);
  struct vnode dv;
  vnode_init(&dv);
  struct tree_result r;
  tree_result_init(&r);
  struct buf path = BUF_INIT;
  c->done = true;
  int rc = dir_vnode(f, dir, &dv);
  if (rc)
    goto out;
  if (made_before(f, c, &dv))
    goto out;
  rc = tree_create(f->st, &dv, base_of(c->path), c->text.ptr, c->text.len,
                   f->policy, &r);
  if (rc && rc != ENG_PARSE) {
    char *what = xasprintf("new file %s", c->path);
    store_failed(f, rc, what);
    free(what);
    goto out;
  }
  if (r.outcome == TREE_PLAIN) {
    /* An ordinary file of the user's (a copy, a temporary file, a text
     * that is no group or task): looked at again when it changes. */
    struct fentry *e = fstate_put(f->fs, c->path);
    if (e->type == FE_FILE && e->what) {
      fstate_remove(f->fs, c->path);
      e = fstate_put(f->fs, c->path);
    }
    e->type = FE_PLAIN;
    fstate_set_hash(f->fs, e, c->hash);
    e->mark = c->mark;
    goto out;
  }
  tree_path(f->st, &f->root, &r.file, &path);
  struct fentry *e = fstate_get(f->fs, c->path);
  if (e)
    fstate_remove(f->fs, c->path);
  if (strcmp(path.ptr, c->path) == 0) {
    e = fstate_put(f->fs, c->path);
    set_what(e, &r.file);
    consume(f, e, &c->mark, c->hash);
    /* The text just applied has no ids yet: the record's file, which
     * has them, replaces it now, not at the end of the pass, so that a
     * kill from here on cannot make it a new record once more. */
    struct tree_item it = {.path = c->path, .v = r.file};
    refresh_file(f, &it, NULL, false);
  } else {
    /* Its text is the record's now, shown at the record's own path: the
     * user's file goes, as on the mount. */
    struct stat st;
    struct fmark m;
    if (fstatat(fstate_dirfd(f->fs), c->path, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        (fmark_of(&st, &m), fmark_eq(&m, &c->mark)))
      unlinkat(fstate_dirfd(f->fs), c->path, 0);
  }
  if (r.outcome == TREE_HELD) {
    char *beside = error_path(path.ptr);
    say_saved(c->path, ENG_PARSE, &r, beside);
    free(beside);
  } else if (strcmp(path.ptr, c->path) == 0) {
    say("new %s %s", tree_kind_name(&r.file), c->path);
  } else {
    say("new %s %s, from %s", tree_kind_name(&r.file), path.ptr, c->path);
  }
  if (r.warnings)
    say_report(&r.report);
  f->made++;
out:
  buf_release(&path);
  tree_result_release(&r);
  vnode_release(&dv);
  free(dir);
}

static void apply_missing(struct folder *f, struct fchange *c) {
  struct fentry *e = fstate_get(f->fs, c->path);
  struct vnode v, t;
  vnode_init(&v);
  vnode_init(&t);
  c->done = true;
  if (!e || !entry_vnode(e, &v)) {
    if (e)
      fstate_remove(f->fs, c->path);
    goto out;
  }
  if (!parent_exists(f, c->path)) {
    /* Its folder went as a whole: the tree's folders cannot be removed
     * (on the mount, rmdir fails); it is written again. */
    e->rev = -1;
    e->due_ns = 0;
    e->mark = GONE;
    goto out;
  }
  if (f->watching && (!e->due_ns || folder_now_ns() < e->due_ns)) {
    /* Editors rename the file away or remove it and make it again
     * (vim, emacs, git checkout, install): wait for it to come back,
     * and make nothing at its name meanwhile (git and install create
     * it with O_EXCL). */
    wait_for(f, e);
    goto out;
  }
  int rc = ENG_OK;
  if (tree_is_record(&v)) {
    rc = tree_delete(f->st, &v);
    if (rc == ENG_OK) {
      say("deleted %s %s: %s was removed (restorable: taskctl %s restore "
          "%s)",
          tree_kind_name(&v), v.record, c->path, tree_kind_name(&v), v.record);
      f->deleted++;
    }
  } else if (tree_is_conflict(&v)) {
    tree_target(&v, &t);
    rc = tree_keep_db(f->st, &t);
    if (rc == ENG_OK)
      say("%s removed: the database's versions are kept", c->path);
  } else if (tree_is_error(&v)) {
    tree_target(&v, &t);
    rc = tree_discard(f->st, &t);
    if (rc == ENG_OK)
      say("%s removed: the text held there is discarded (kept as a "
          "backup, see taskctl backups)",
          c->path);
  } else {
    /* Session, notes and generated files come back. */
    e->rev = -1;
    e->due_ns = 0;
    e->mark = GONE;
    goto out;
  }
  if (rc && rc != ENG_NOTFOUND) {
    char *what = xasprintf("removal of %s", c->path);
    store_failed(f, rc, what);
    free(what);
    goto out;
  }
  fstate_remove(f->fs, c->path);
out:
  vnode_release(&v);
  vnode_release(&t);
}

/* Applies what the user did, in the mount's order of events: renames,
 * then saves, then new files, then removals. Stops at a store failure. */
static void apply_changes(struct folder *f, struct fchanges *cs) {
  for (size_t i = 0; i < cs->n && !f->failed; i++) {
    struct fchange *m = &cs->v[i];
    if (m->kind != CH_MISSING || m->done)
      continue;
    struct fentry *e = fstate_get(f->fs, m->path);
    struct vnode v;
    vnode_init(&v);
    if (e && tree_from_what(e->what ? e->what : "", &v) && tree_is_record(&v)) {
      char *mpath = xstrdup(m->path);
      ssize_t c = renamed_to(f, cs, mpath, &v);
      free(mpath);
      /* renamed_to may have added to cs: its addresses moved. */
      if (c >= 0)
        apply_rename(f, &cs->v[i], &cs->v[c], &v);
    }
    vnode_release(&v);
  }
  for (size_t i = 0; i < cs->n && !f->failed; i++)
    if (cs->v[i].kind == CH_MODIFIED && !cs->v[i].done)
      apply_modified(f, &cs->v[i]);
  for (size_t i = 0; i < cs->n && !f->failed; i++)
    if (cs->v[i].kind == CH_NEW && !cs->v[i].done)
      apply_new(f, &cs->v[i]);
  for (size_t i = 0; i < cs->n && !f->failed; i++)
    if (cs->v[i].kind == CH_MISSING && !cs->v[i].done)
      apply_missing(f, &cs->v[i]);
}

/* ---- what the database changed ---- */

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Keeps bytes found at a path of the tree that are nobody's text the
 * folder wrote, beside it as NAME.unsaved-TIME, before the path is
 * written (a read-only file's path). */
static void keep_aside(struct folder *f, const char *path) {
  char stamp[32];
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
  for (int i = 1; i < 100; i++) {
    char *to = i == 1 ? xasprintf("%s.unsaved-%s", path, stamp)
                      : xasprintf("%s.unsaved-%s-%d", path, stamp, i);
    int rc = renameat2(fstate_dirfd(f->fs), path, fstate_dirfd(f->fs), to,
                       RENAME_NOREPLACE);
    if (rc == 0)
      ctl_warn("%s was in the way of a file of the tree: kept as %s", path, to);
    free(to);
    if (rc == 0 || errno != EEXIST)
      return;
  }
}

/*
 * Writes text as the file of entry e at path, unless the user changed the
 * file since the folder last looked (then the next pass saves it first).
 * A writer that put bytes into the old file while it was being replaced
 * gets them back at the path, for the next pass to save.
 */
/* Whether the file open at fd holds the text of hash: a file whose
 * mode or owner was changed after it was written (emacs sets the mode
 * after its save) is the same file, and no event says it changed. */
static bool same_text(int fd, const char *hash) {
  struct buf text = BUF_INIT;
  char now[SHA256_HEX];
  bool same = false;
  if (fstate_read_fd(fd, 64u << 20, &text) == 0) {
    sha256_hex(text.ptr, text.len, now);
    same = strcmp(now, hash) == 0;
  }
  buf_release(&text);
  return same;
}

static int replace(struct folder *f, struct fentry *e, const char *path,
                   const struct vnode *v, const struct buf *text,
                   int64_t mtime_ns, bool *written) {
  int dfd = fstate_dirfd(f->fs);
  *written = false;
  mode_t mode = (tree_is_writable(v) ? 0666 : 0444) & ~f->umask;
  int old = openat(dfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  struct stat st;
  struct fmark before = {0};
  if (old >= 0) {
    if (fstat(old, &st) || !S_ISREG(st.st_mode)) {
      close(old);
      return 0;
    }
    fmark_of(&st, &before);
    if (!fmark_eq(&before, &e->mark) && !same_text(old, e->hash)) {
      close(old);
      return 0; /* changed since it was looked at: the next pass saves it */
    }
    mode = st.st_mode & 07777;
  } else if (errno != ENOENT) {
    return -errno;
  }
  struct fmark mark;
  int rc =
      fstate_write(f->fs, path, text->ptr, text->len, mode, mtime_ns, &mark);
  if (rc) {
    if (old >= 0)
      close(old);
    return rc;
  }
  *written = true;
  e->mark = mark;
  if (old >= 0) {
    struct fmark after;
    /* Its link count, and so its ctime, moved with the rename: only a
     * write changes its size or mtime. */
    if (fstat(old, &st) == 0 &&
        (fmark_of(&st, &after),
         after.size != before.size || after.mtime_ns != before.mtime_ns)) {
      struct buf rescued = BUF_INIT;
      struct stat rst;
      if (lseek(old, 0, SEEK_SET) == 0) {
        for (;;) {
          buf_grow(&rescued, 65536);
          ssize_t r = read(old, rescued.ptr + rescued.len,
                           rescued.cap - rescued.len - 1);
          if (r <= 0)
            break;
          rescued.len += (size_t)r;
          rescued.ptr[rescued.len] = '\0';
        }
      }
      struct fmark back;
      if (fstate_write(f->fs, path, rescued.ptr, rescued.len, mode, 0, &back) ==
              0 &&
          fstatat(dfd, path, &rst, AT_SYMLINK_NOFOLLOW) == 0) {
        ctl_warn("%s was written while it was being replaced; the text "
                 "written is back at its path and is saved next",
                 path);
        e->mark = UNREAD;
      }
      buf_release(&rescued);
    }
    close(old);
  }
  return 0;
}

enum { FOUND_WRITE, FOUND_SAVED, FOUND_DONE };

/*
 * The path of item it has no file the folder wrote: bytes there are the
 * user's (a tree cloned with git, a file made as its record appeared, a
 * file whose name a record took). Bytes the same as the rendering are
 * taken as they are; a text of the file's own record is saved to it
 * (FOUND_SAVED: write what the save made); anything else is kept aside
 * as NAME.unsaved-TIME before the path is written (FOUND_WRITE, as for
 * a path with nothing). *ep gets the path's new entry. FOUND_DONE: the
 * path is done with (or left alone: a folder or link is there).
 */
static int found_bytes(struct folder *f, const struct tree_item *it,
                       const struct buf *text, const char *hash, int64_t rev,
                       struct fentry **ep, int *rc) {
  struct stat st;
  bool there =
      fstatat(fstate_dirfd(f->fs), it->path, &st, AT_SYMLINK_NOFOLLOW) == 0;
  if (there && !S_ISREG(st.st_mode))
    return FOUND_DONE;
  struct fchange c = {.path = it->path};
  buf_init(&c.text);
  int what = FOUND_WRITE;
  if (there && !read_change(f, it->path, &c.text, &c.mark, c.hash)) {
    what = FOUND_DONE;
    goto out;
  }
  if (*ep)
    fstate_remove(f->fs, it->path);
  struct fentry *e = *ep = fstate_put(f->fs, it->path);
  set_what(e, &it->v);
  e->pass = f->pass;
  if (!there)
    goto out;
  if (strcmp(c.hash, hash) == 0) {
    char kept[SHA256_HEX];
    e->mark = c.mark;
    e->rev = rev;
    if (fstate_text_put(f->fs, text->ptr, text->len, kept) == 0)
      fstate_set_hash(f->fs, e, hash);
    what = FOUND_DONE;
    goto out;
  }
  char *session = NULL, *record = NULL;
  if (tree_is_record(&it->v))
    tree_identity(c.text.ptr, c.text.len, &it->v, &session, &record);
  bool other = record && !str_eq(record, it->v.record);
  free(session);
  free(record);
  if (tree_is_writable(&it->v) && !other) {
    *rc = save_change(f, &it->v, &c, 0, NULL);
    if (*rc == ENG_OK || *rc == ENG_PARSE) {
      consume(f, e, &c.mark, c.hash);
      *rc = 0;
      what = FOUND_SAVED;
    } else {
      e->mark = UNREAD;
      what = FOUND_DONE;
    }
  } else {
    keep_aside(f, it->path);
  }
out:
  buf_release(&c.text);
  return what;
}

/* Brings the file of item it up to date. */
static int refresh_file(struct folder *f, const struct tree_item *it,
                        const struct tree_filter *moved, bool held) {
  struct fentry *e = fstate_get(f->fs, it->path);
  struct buf what = BUF_INIT, text = BUF_INIT;
  tree_what(&it->v, &what);
  int rc = 0;
  if (e && e->type == FE_FILE && e->due_ns)
    goto out; /* removed a moment ago: it may come back */
  bool same = e && e->type == FE_FILE && str_eq(e->what, what.ptr);
  if (same)
    e->pass = f->pass;
  if (same && e->rev > 0 && !held) {
    if (tree_is_fixed(&it->v))
      goto out;
    if (tree_is_versioned(&it->v)) {
      int64_t now = 0;
      if (!moved || !tree_filter_may_change(moved, &it->v))
        goto out; /* nothing it shows was committed since the last pass */
      if ((rc = tree_revision(f->st, &it->v, &now))) {
        rc = store_failed(f, rc, it->path);
        goto out;
      }
      if (now == e->rev)
        goto out;
    }
  }
  int64_t rev = 0, mtime_ns = 0;
  if ((rc = tree_read(f->st, &it->v, &text, &rev, &mtime_ns))) {
    if (rc == ENG_NOTFOUND)
      rc = 0; /* gone since it was listed */
    else
      rc = store_failed(f, rc, it->path);
    goto out;
  }
  char hash[SHA256_HEX];
  sha256_hex(text.ptr, text.len, hash);
  if (same && strcmp(hash, e->hash) == 0 && e->mark.size != GONE.size) {
    e->rev = rev;
    goto out;
  }
  if (!e || e->type != FE_FILE) {
    int found = found_bytes(f, it, &text, hash, rev, &e, &rc);
    if (found == FOUND_DONE)
      goto out;
    if (found == FOUND_SAVED) {
      /* What the save made of it is written now. */
      buf_truncate(&text, 0);
      if ((rc = tree_read(f->st, &it->v, &text, &rev, &mtime_ns))) {
        rc = rc == ENG_NOTFOUND ? 0 : store_failed(f, rc, it->path);
        goto out;
      }
      sha256_hex(text.ptr, text.len, hash);
    }
  } else if (!same) {
    set_what(e, &it->v);
    e->pass = f->pass;
  }
  bool written;
  if ((rc = fstate_text_put(f->fs, text.ptr, text.len, hash))) {
    ctl_warn("cannot keep the text of %s in %s/" FSTATE_DIR ": %s", it->path,
             fstate_dir(f->fs), strerror(-rc));
    if (!f->fs_error)
      f->fs_error = -rc;
    rc = 0;
    goto out;
  }
  if ((rc = replace(f, e, it->path, &it->v, &text, mtime_ns, &written))) {
    ctl_warn("cannot write %s/%s: %s", fstate_dir(f->fs), it->path,
             strerror(-rc));
    if (!f->fs_error)
      f->fs_error = -rc;
    rc = 0;
    goto out;
  }
  if (written) {
    e->rev = rev;
    fstate_set_hash(f->fs, e, hash);
    f->written++;
  }
out:
  buf_release(&what);
  buf_release(&text);
  return rc;
}

/* Removes the folders of path that the tree no longer has, when empty. */
static void prune_dirs(struct folder *f, const char *path, char **dirs,
                       size_t ndirs) {
  char *dir = dir_of(path);
  while (*dir) {
    const char *key = dir;
    if (xsearch(&key, dirs, ndirs, sizeof *dirs, cmp_str) ||
        unlinkat(fstate_dirfd(f->fs), dir, AT_REMOVEDIR))
      break;
    char *up = dir_of(dir);
    free(dir);
    dir = up;
  }
  free(dir);
}

static int refresh(struct folder *f) {
  f->pass++;
  /* What is committed from here on (by others: this refresh writes
   * nothing to the database) shows at the watch's next poll. */
  store_poll(f->st);
  strlist_clear(&f->held);
  strlist_clear(&f->conflicts);
  int64_t rev = store_revision(f->st);
  struct tree_filter filter;
  bool moved = rev != fstate_rev(f->fs);
  int frc = moved ? tree_filter_since(f->st, fstate_rev(f->fs), &filter) : 0;
  if (frc)
    return store_failed(f, frc, "reading the history");
  struct tree_item *items;
  size_t n;
  int rc = tree_list(f->st, &f->root, &items, &n);
  if (rc) {
    if (moved)
      tree_filter_release(&filter);
    return store_failed(f, rc, "listing the tree");
  }
  char **dirs = xcalloc(n + 1, sizeof *dirs);
  size_t ndirs = 0;
  /* Files that hold a text (their error file is listed) read it, whatever
   * their revision says. */
  for (size_t i = 0; i < n; i++)
    if (tree_is_error(&items[i].v)) {
      struct vnode t;
      vnode_init(&t);
      tree_target(&items[i].v, &t);
      struct buf p = BUF_INIT;
      tree_path(f->st, &f->root, &t, &p);
      strlist_add(&f->held, p.ptr);
      buf_release(&p);
      vnode_release(&t);
    }
  xsort(f->held.v, f->held.n, sizeof *f->held.v, cmp_str);
  for (size_t i = 0; i < n && !rc; i++) {
    if (tree_is_dir(&items[i].v)) {
      dirs[ndirs++] = items[i].path;
      struct stat st;
      if (fstatat(fstate_dirfd(f->fs), items[i].path, &st,
                  AT_SYMLINK_NOFOLLOW) ||
          !S_ISDIR(st.st_mode)) {
        char *p = xasprintf("%s/x", items[i].path);
        int mrc = fstate_mkdirs(f->fs, p);
        free(p);
        if (mrc) {
          ctl_warn("cannot make folder %s/%s: %s", fstate_dir(f->fs),
                   items[i].path, strerror(-mrc));
          if (!f->fs_error)
            f->fs_error = -mrc;
        }
      }
      continue;
    }
    const char *key = items[i].path;
    bool held = xsearch(&key, f->held.v, f->held.n, sizeof *f->held.v, cmp_str);
    rc = refresh_file(f, &items[i], moved ? &filter : NULL, held);
    if (tree_is_conflict(&items[i].v)) {
      strlist_add(&f->conflicts, items[i].path);
    }
  }
  xsort(dirs, ndirs, sizeof *dirs, cmp_str);
  /* Files of records that went away (or moved): removed, unless the user
   * changed them since (then the next pass saves them first). */
  if (!rc) {
    size_t ne;
    struct fentry **v = fstate_entries(f->fs, false, &ne);
    for (size_t i = 0; i < ne; i++) {
      struct fentry *e = v[i];
      if (e->type != FE_FILE || e->pass == f->pass || e->due_ns)
        continue;
      struct stat st;
      struct fmark m;
      int dfd = fstate_dirfd(f->fs);
      if (fstatat(dfd, e->path, &st, AT_SYMLINK_NOFOLLOW)) {
        fstate_remove(f->fs, e->path);
        continue;
      }
      fmark_of(&st, &m);
      if (!S_ISREG(st.st_mode) || !fmark_eq(&m, &e->mark))
        continue;
      if (unlinkat(dfd, e->path, 0) == 0) {
        f->removed++;
        char *path = xstrdup(e->path);
        fstate_remove(f->fs, path);
        prune_dirs(f, path, dirs, ndirs);
        free(path);
      }
    }
    free(v);
  }
  free(dirs);
  tree_items_free(items, n);
  if (moved)
    tree_filter_release(&filter);
  if (!rc)
    fstate_set_rev(f->fs, rev);
  return rc;
}

/* ---- passes ---- */

static int commit(struct folder *f) {
  struct buf err = BUF_INIT;
  int rc = fstate_commit(f->fs, &err);
  if (rc)
    ctl_warn("%s", err.ptr);
  buf_release(&err);
  return rc ? EXIT_FAIL : 0;
}

/* Before new files become records: records them as the intent of the
 * pass (with what a killed pass left), synced, so that a pass killed
 * after the database's commit and before the files are replaced does
 * not make the records again. True when it was written. */
static bool write_intent(struct folder *f, const struct fchanges *cs) {
  struct buf b = BUF_INIT;
  int64_t rev = fstate_rev(f->fs);
  if (f->recover.n && f->recover_rev < rev)
    rev = f->recover_rev;
  buf_printf(&b, "revision %lld\n", (long long)rev);
  size_t n = 0;
  for (size_t i = 0; i < f->recover.n; i++, n++)
    buf_printf(&b, "%s\n", f->recover.v[i]);
  for (size_t i = 0; i < cs->n; i++)
    if (cs->v[i].kind == CH_NEW) {
      intent_line(cs->v[i].path, cs->v[i].hash, &b);
      buf_addc(&b, '\n');
      n++;
    }
  int rc = n ? fstate_intent_put(f->fs, b.ptr, b.len) : 0;
  buf_release(&b);
  if (rc && !f->fs_error)
    f->fs_error = -rc;
  return n && !rc;
}

int folder_pass(struct folder *f, const struct strlist *paths) {
  struct fchanges cs = {0};
  f->failed = 0;
  f->fs_error = 0;
  if (paths)
    scan_paths(f, paths, &cs);
  else
    scan_all(f, &cs);
  bool intent = false;
  if (!f->failed && (intent = write_intent(f, &cs)) == false && f->fs_error)
    ctl_warn("cannot write the intent of the pass in %s/" FSTATE_DIR
             ": %s; new files are made records without it",
             fstate_dir(f->fs), strerror(f->fs_error));
  if (!f->failed)
    apply_changes(f, &cs);
  changes_release(&cs);
  if (!f->failed || f->failed == ENG_BUSY)
    refresh(f);
  prune_waiting(f);
  int rc = commit(f);
  if (rc == 0 && (intent || f->recover.n)) {
    fstate_intent_clear(f->fs);
    strlist_clear(&f->recover);
  }
  return rc;
}

int folder_refresh(struct folder *f) {
  f->failed = 0;
  f->fs_error = 0;
  refresh(f);
  return commit(f);
}

int folder_status(const struct folder *f) {
  if (f->failed)
    return ctl_exit_code(f->failed, false);
  if (f->fs_error)
    return EXIT_FAIL;
  if (f->held.n)
    return EXIT_HELD;
  if (f->conflicts.n)
    return EXIT_CONFLICTS;
  return 0;
}

int folder_checkout(struct folder *f) {
  /* A checkout is a refresh into a folder that has no entries: files
   * already there with other bytes are kept for the first sync. */
  struct tree_item *items;
  size_t n;
  f->pass++;
  int rc = tree_list(f->st, &f->root, &items, &n);
  if (rc) {
    store_failed(f, rc, "listing the tree");
    return ctl_exit_code(rc, false);
  }
  size_t kept = 0;
  int dfd = fstate_dirfd(f->fs);
  for (size_t i = 0; i < n && !f->fs_error; i++) {
    const struct tree_item *it = &items[i];
    if (tree_is_dir(&it->v)) {
      char *p = xasprintf("%s/x", it->path);
      int mrc = fstate_mkdirs(f->fs, p);
      free(p);
      if (mrc) {
        ctl_warn("cannot make folder %s/%s: %s", fstate_dir(f->fs), it->path,
                 strerror(-mrc));
        f->fs_error = -mrc;
      }
      continue;
    }
    struct buf text = BUF_INIT;
    int64_t rev = 0, mtime_ns = 0;
    if ((rc = tree_read(f->st, &it->v, &text, &rev, &mtime_ns))) {
      buf_release(&text);
      store_failed(f, rc, it->path);
      break;
    }
    char hash[SHA256_HEX];
    struct fentry *e = fstate_put(f->fs, it->path);
    set_what(e, &it->v);
    struct stat st;
    if (fstatat(dfd, it->path, &st, AT_SYMLINK_NOFOLLOW) == 0) {
      struct fchange c = {.path = it->path};
      buf_init(&c.text);
      sha256_hex(text.ptr, text.len, hash);
      if (S_ISREG(st.st_mode) &&
          read_change(f, it->path, &c.text, &c.mark, c.hash) &&
          strcmp(c.hash, hash) == 0) {
        e->mark = c.mark;
        e->rev = rev;
        fstate_text_put(f->fs, text.ptr, text.len, hash);
        fstate_set_hash(f->fs, e, hash);
      } else {
        /* Another text at this path: the next sync saves it (based on
         * the revision it names). */
        e->rev = 0;
        e->mark = UNREAD;
        kept++;
      }
      buf_release(&c.text);
      buf_release(&text);
      continue;
    }
    if ((rc = fstate_text_put(f->fs, text.ptr, text.len, hash)) == 0) {
      mode_t mode = (tree_is_writable(&it->v) ? 0666 : 0444) & ~f->umask;
      rc = fstate_write(f->fs, it->path, text.ptr, text.len, mode, mtime_ns,
                        &e->mark);
    }
    if (rc) {
      ctl_warn("cannot write %s/%s: %s", fstate_dir(f->fs), it->path,
               strerror(-rc));
      f->fs_error = -rc;
    } else {
      e->rev = rev;
      fstate_set_hash(f->fs, e, hash);
      f->written++;
    }
    buf_release(&text);
  }
  tree_items_free(items, n);
  if (f->failed)
    return ctl_exit_code(f->failed, false);
  if (f->fs_error)
    return EXIT_FAIL;
  fstate_set_rev(f->fs, store_revision(f->st));
  if ((rc = commit(f)))
    return rc;
  say("checked out %zu file%s at revision %lld into %s", f->written,
      f->written == 1 ? "" : "s", (long long)fstate_rev(f->fs),
      fstate_dir(f->fs));
  if (kept)
    say("%zu file%s already there with other text %s kept; 'taskctl sync "
        "%s' saves them",
        kept, kept == 1 ? "" : "s", kept == 1 ? "is" : "are",
        fstate_dir(f->fs));
  return 0;
}

int folder_dirs(struct folder *f, struct strlist *out) {
  struct tree_item *items;
  size_t n;
  int rc = tree_dirs(f->st, &f->root, &items, &n);
  if (rc)
    return store_failed(f, rc, "listing the folders of the tree");
  strlist_add(out, "");
  for (size_t i = 0; i < n; i++)
    strlist_add(out, items[i].path);
  tree_items_free(items, n);
  return 0;
}
