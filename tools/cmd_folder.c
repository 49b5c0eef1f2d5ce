/* SPDX-License-Identifier: MIT */
/* cmd_folder.c: the commands on a plain folder holding the tree of files:
 * checkout and sync (once, or watching). Reads the command line, opens
 * the state and the database, and reports; the work is in folder*.c. */
#include "folder.h"
#include "taskctl.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool same_file(const char *a, const char *b) {
  struct stat sa, sb;
  return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
         sa.st_ino == sb.st_ino;
}

/* The database as a checkout records it: a file by its absolute path, a
 * server's database without its password (sync then connects with
 * libpq's usual credentials, or a -d that names the same database). The
 * caller frees it. */
static char *recorded_form(const char *db) {
  return store_is_file(db) ? ctl_absolute_path(db) : store_target_shown(db);
}

/* Whether the target db names the database recorded: the same file, or
 * the same server's database but for the password. */
static bool same_database(const char *db, const char *recorded) {
  if (store_is_file(db) != store_is_file(recorded))
    return false;
  if (store_is_file(db))
    return same_file(db, recorded);
  char *a = store_target_shown(db), *b = store_target_shown(recorded);
  bool same = strcmp(a, b) == 0;
  free(a);
  free(b);
  return same;
}

int cmd_checkout(struct ctl *c) {
  const char *dir = c->pos[0];
  const char *session = ctl_opt(c, O_SESSION);
  int code = ctl_open(c, OPEN_READ);
  if (code)
    return code;
  if (session) {
    struct session s;
    session_init(&s);
    code = ctl_get_session(c, session, &s);
    bool deleted = code == 0 && s.deleted;
    session_release(&s);
    if (code)
      return code;
    if (deleted)
      return ctl_fail(EXIT_NOTFOUND,
                      "session %s is deleted; 'taskctl session list' shows "
                      "the others",
                      session);
  }
  if (mkdir(dir, 0777) && errno != EEXIST)
    return ctl_fail(errno == EACCES || errno == EROFS ? EXIT_RDONLY : EXIT_FAIL,
                    "cannot make folder %s: %s", dir, strerror(errno));
  char *db = recorded_form(c->db_path);
  struct fstate *fs;
  struct buf err = BUF_INIT;
  int rc = fstate_create(dir, db, session, &fs, &err);
  free(db);
  if (rc) {
    code = ctl_fail(rc == -EEXIST  ? EXIT_INVALID
                    : rc == -EBUSY ? EXIT_BUSY
                                   : EXIT_FAIL,
                    "%s%s", err.ptr,
                    rc == -EEXIST ? "; bring it up to date with 'taskctl "
                                    "sync'"
                                  : "");
    buf_release(&err);
    return code;
  }
  buf_release(&err);
  struct folder f;
  folder_init(&f, fs, c->st, NULL);
  code = folder_checkout(&f);
  folder_release(&f);
  if (code)
    fstate_destroy(fs);
  fstate_close(fs);
  return code;
}

int check_checkout(struct ctl *c) {
  if (c->json)
    return ctl_usage_error("'checkout' prints text; it has no --json");
  return 0;
}

int check_sync(struct ctl *c) {
  const char *grace = ctl_opt(c, O_GRACE);
  if (grace && !c->has[O_WATCH])
    return ctl_usage_error("--grace is for --watch");
  if (c->json)
    return ctl_usage_error("'sync' prints text, one line per change; it "
                           "has no --json");
  if (grace) {
    char *end;
    double g = strtod(grace, &end);
    if (end == grace || *end || !isfinite(g) || g < 0 || g > 3600)
      return ctl_usage_error("--grace needs seconds (0-3600), not '%s'", grace);
  }
  return 0;
}

/* The database of the checkout: the one it was made from, or the one
 * given with -d when that is the same database (its URI may hold the
 * password the recorded one lacks), or when the recorded file is gone,
 * the database having moved. A state that still holds a password, as
 * checkouts of earlier versions recorded it, is rewritten without it. */
static int pick_database(struct ctl *c, struct fstate *fs) {
  const char *recorded = fstate_db(fs);
  char *shown = store_target_shown(recorded);
  int code = 0;
  if (c->db_default) {
    free(c->db_alloc);
    c->db_alloc = xstrdup(recorded);
    c->db_path = c->db_alloc;
  } else if (same_database(c->db_path, recorded)) {
    /* -d wins: it may carry credentials the state does not keep. */
  } else if (!store_is_file(recorded) || access(recorded, F_OK) == 0) {
    char *given = store_target_shown(c->db_path);
    code = ctl_fail(EXIT_INVALID,
                    "%s is a checkout of the database %s, not of %s; its "
                    "revisions are that database's",
                    fstate_dir(fs), shown, given);
    free(given);
    goto out;
  } else {
    char *now = recorded_form(c->db_path);
    fprintf(stderr,
            "taskctl: the database of %s moved from %s to %s; the checkout "
            "now follows it\n",
            fstate_dir(fs), shown, now);
    fstate_set_db(fs, now);
    free(now);
    goto out;
  }
  if (strcmp(shown, recorded) != 0)
    fstate_set_db(fs, shown);
out:
  free(shown);
  return code;
}

static void summary(const struct folder *f) {
  printf("revision %lld: %zu file%s written, %zu removed\n",
         (long long)fstate_rev(f->fs), f->written, f->written == 1 ? "" : "s",
         f->removed);
  for (size_t i = 0; i < f->conflicts.n; i++)
    printf("conflict open: %s\n", f->conflicts.v[i]);
  for (size_t i = 0; i < f->held.n; i++)
    printf("held: %s (see %.*s.error.md)\n", f->held.v[i],
           (int)strlen(f->held.v[i]) - 3, f->held.v[i]);
}

int cmd_sync(struct ctl *c) {
  const char *dir = c->pos[0];
  bool watch = c->has[O_WATCH];
  struct fstate *fs;
  struct buf err = BUF_INIT;
  int rc = fstate_open(dir, &fs, &err);
  if (rc) {
    int code = ctl_fail(rc == -ENOENT  ? EXIT_NOTFOUND
                        : rc == -EBUSY ? EXIT_BUSY
                                       : EXIT_FAIL,
                        "%s", err.ptr);
    buf_release(&err);
    return code;
  }
  buf_release(&err);
  struct folder f;
  struct policy policy;
  int code = pick_database(c, fs);
  if (!code)
    code = ctl_open(c, OPEN_WRITE);
  if (code)
    goto close;
  /* Saves from files are recorded as the mount's are, so the edit log
   * (meta/edit_log.md, taskctl log) lists them. */
  store_set_source(c->st, "taskfs");
  if (fstate_rev(fs) > store_revision(c->st)) {
    code = ctl_fail(EXIT_INVALID,
                    "%s was checked out at revision %lld, but the database "
                    "%s is at %lld: it is not the database of the checkout",
                    dir, (long long)fstate_rev(fs), store_path(c->st),
                    (long long)store_revision(c->st));
    goto close;
  }
  if (fstate_session(fs)) {
    struct session s;
    session_init(&s);
    code = ctl_get_session(c, fstate_session(fs), &s);
    bool deleted = code == 0 && s.deleted;
    session_release(&s);
    if (!code && deleted)
      code = ctl_fail(EXIT_NOTFOUND,
                      "the session of %s, %s, is deleted; restore it or "
                      "check out another",
                      dir, fstate_session(fs));
    if (code)
      goto close;
  }
  if ((code = ctl_load_policy(c, &policy)))
    goto close;
  folder_init(&f, fs, c->st, &policy);
  const char *grace = ctl_opt(c, O_GRACE);
  if (grace)
    f.grace_ns = (int64_t)(strtod(grace, NULL) * 1e9);
  if (watch) {
    code = folder_watch(&f);
  } else {
    code = folder_pass(&f, NULL);
    if (!code) {
      summary(&f);
      code = folder_status(&f);
    }
  }
  folder_release(&f);
close:
  fstate_close(fs);
  return code;
}
