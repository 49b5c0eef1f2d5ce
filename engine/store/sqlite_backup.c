/* SPDX-License-Identifier: MIT */
/* sqlite_backup.c: whole-database backups: copies made with SQLite's online
 * backup API, the folder of automatic backups and its listing, the
 * integrity check, and a backup put in place of a damaged database.
 * Knows nothing of records: sqlite_restore.c restores those. */
#include "store.h"
#include "sqlite.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DBBACKUP_DIR "taskfs-backups"
/* Pages copied per step: 1 MiB of 4 KiB pages. Between steps the source
 * is not locked, so a checkpoint (and, in rollback-journal mode, a writer)
 * gets its turn. */
#define STEP_PAGES 256
/* Restarts (another program committed between two steps) after which the
 * rest is copied in one step, so that a busy database is still copied. */
#define MAX_RESTARTS 3
/* How many of PRAGMA quick_check's problems and of the automatic backups a
 * message about a damaged database names. */
#define PROBLEMS_SHOWN 3
#define BACKUPS_SHOWN 3

static const char sqlite_magic[16] = "SQLite format 3";

bool store_file_is_sqlite(const char *path) {
  char head[16];
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return false;
  ssize_t n = read(fd, head, sizeof head);
  close(fd);
  return n == (ssize_t)sizeof head && memcmp(head, sqlite_magic, 16) == 0;
}

static int rc_from_errno(int e) {
  switch (e) {
  case ENOSPC:
  case EDQUOT:
    return ENG_FULL;
  case EACCES:
  case EPERM:
  case EROFS:
    return ENG_READONLY;
  case ENOENT:
  case ENOTDIR:
    return ENG_NOTFOUND;
  case EEXIST:
    return ENG_EXISTS;
  default:
    return ENG_DB;
  }
}

/* The current time (UTC) as in the names of backups: YYYYmmdd-HHMMSS. */
static void stamp_now(char out[16]) {
  time_t t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(out, 16, "%Y%m%d-%H%M%S", &tm);
}

static const char *path_base(const char *path) {
  const char *slash = strrchr(path, '/');
  return slash ? slash + 1 : path;
}

char *store_dbbackup_dir(const char *db_path) {
  const char *slash = strrchr(db_path, '/');
  if (!slash)
    return xstrdup(DBBACKUP_DIR);
  return xasprintf("%.*s/" DBBACKUP_DIR, (int)(slash - db_path), db_path);
}

/* Makes a rename durable: SQLite syncs the files it writes, not the
 * folder entries that name them. */
static void sync_dir_of(const char *path) {
  const char *slash = strrchr(path, '/');
  char *dir = !slash          ? xstrdup(".")
              : slash == path ? xstrdup("/")
                              : xstrndup(path, (size_t)(slash - path));
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    fsync(fd);
    close(fd);
  }
  free(dir);
}

/* rename() that fails with EEXIST rather than replace a file. */
static int rename_noreplace(const char *from, const char *to) {
  if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
    return 0;
  if (errno != EINVAL && errno != ENOSYS)
    return -1;
  /* A file system without RENAME_NOREPLACE: link() refuses an existing
   * name as well. */
  if (link(from, to) != 0)
    return -1;
  unlink(from);
  return 0;
}

/* Appends s, quoted for a POSIX shell when it needs it. */
static void add_shell_word(struct buf *b, const char *s) {
  bool plain = *s != '\0';
  for (const char *p = s; *p && plain; p++)
    plain = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                   "0123456789_./:,+=@%-",
                   *p) != NULL;
  if (plain) {
    buf_adds(b, s);
    return;
  }
  buf_addc(b, '\'');
  for (const char *p = s; *p; p++) {
    if (*p == '\'')
      buf_adds(b, "'\\''");
    else
      buf_addc(b, *p);
  }
  buf_addc(b, '\'');
}

int store_fail_damaged(struct store *st, const char *problems) {
  struct buf b = BUF_INIT;
  if (sq(st)->backup_file) {
    buf_printf(&b, "backup %s is damaged (%s); it cannot be restored", st->path,
               problems);
  } else {
    buf_printf(&b, "database %s is damaged (%s)", st->path, problems);
  }
  if (!sq(st)->backup_file && !sq(st)->memory) {
    struct dbbackup *v = NULL;
    size_t n = 0;
    if (store_dbbackup_list(st->path, &v, &n) == ENG_OK && n > 0) {
      buf_adds(&b, n == 1 ? "; its automatic backup: "
                          : "; its newest automatic backups: ");
      for (size_t i = 0; i < n && i < BACKUPS_SHOWN; i++)
        buf_printf(&b, "%s%s", i ? ", " : "", v[i].path);
      buf_adds(&b, "; restore the newest with: taskctl -d ");
      add_shell_word(&b, st->path);
      buf_adds(&b, " restore ");
      add_shell_word(&b, v[0].path);
    } else {
      char *dir = store_dbbackup_dir(st->path);
      buf_printf(&b,
                 "; there is no automatic backup in %s; restore a backup "
                 "with: taskctl -d ",
                 dir);
      add_shell_word(&b, st->path);
      buf_adds(&b, " restore FILE");
      free(dir);
    }
    store_dbbackups_free(v, n);
  }
  store_fail(st, ENG_CORRUPT, "%s", b.ptr);
  buf_release(&b);
  return ENG_CORRUPT;
}

/* A read of st's database that SQLite refused with src. */
static int read_failed(struct store *st, int src) {
  if ((src & 0xff) == SQLITE_NOTADB && !store_file_is_sqlite(st->path))
    return store_fail(st, ENG_SCHEMA, "%s is not an SQLite database", st->path);
  if ((src & 0xff) == SQLITE_CORRUPT || (src & 0xff) == SQLITE_NOTADB) {
    char *why = xstrdup(sqlite3_errmsg(sq_db(st)));
    store_fail_damaged(st, why);
    free(why);
    return ENG_CORRUPT;
  }
  return store_sqlfail(st, src);
}

/* Appends one row of PRAGMA quick_check to problems, on one line. */
static void add_problem(struct buf *problems, const char *text) {
  if (problems->len)
    buf_adds(problems, "; ");
  for (const char *p = text; *p; p++)
    buf_addc(problems, *p == '\n' ? ' ' : *p);
}

/* Runs PRAGMA quick_check on db: *ok, and the first problems. Returns the
 * SQLite result of the run itself. */
static int quick_check(sqlite3 *db, bool *ok, struct buf *problems) {
  sqlite3_stmt *s = NULL;
  *ok = false;
  int rc = sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &s, NULL);
  if (rc != SQLITE_OK)
    return sqlite3_extended_errcode(db);
  int rows = 0;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    const char *text = (const char *)sqlite3_column_text(s, 0);
    if (!text)
      text = "";
    if (rows == 0 && strcmp(text, "ok") == 0)
      *ok = true;
    else if (rows < PROBLEMS_SHOWN)
      add_problem(problems, text);
    rows++;
  }
  if (rows > 1)
    *ok = false;
  if (rows > PROBLEMS_SHOWN)
    buf_printf(problems, "; %d problems in all", rows);
  if (rc != SQLITE_DONE)
    rc = sqlite3_extended_errcode(db);
  else
    rc = SQLITE_OK;
  sqlite3_finalize(s);
  return rc;
}

int sqlite_check(struct store *st) {
  struct buf problems = BUF_INIT;
  bool ok;
  int rc = quick_check(sq_db(st), &ok, &problems);
  if (rc != SQLITE_OK)
    rc = read_failed(st, rc);
  else if (!ok)
    rc = store_fail_damaged(st, problems.ptr);
  buf_release(&problems);
  return rc;
}

/* ---- copies ---- */

/* A failure src of SQLite while copying to path (dst: the copy's
 * connection). A damaged source shows as SQLITE_CORRUPT. */
static int copy_failed(struct store *st, sqlite3 *dst, int src,
                       const char *path) {
  int e;
  switch (src & 0xff) {
  case SQLITE_CORRUPT:
  case SQLITE_NOTADB:
    return store_fail_damaged(st, sqlite3_errstr(src));
  case SQLITE_FULL:
    return store_fail(st, ENG_FULL, "no space left for %s", path);
  case SQLITE_NOMEM:
    die("out of memory in SQLite");
  case SQLITE_IOERR:
    e = sqlite3_system_errno(dst);
    if (rc_from_errno(e) == ENG_FULL)
      return store_fail(st, ENG_FULL, "no space left for %s", path);
    return store_fail(st, e ? rc_from_errno(e) : ENG_DB, "cannot write %s: %s",
                      path, e ? strerror(e) : sqlite3_errstr(src));
  case SQLITE_READONLY:
  case SQLITE_PERM:
  case SQLITE_CANTOPEN:
    return store_fail(st, ENG_READONLY, "cannot write %s: %s", path,
                      sqlite3_errmsg(dst));
  default:
    return store_fail(st, ENG_DB, "cannot copy database %s to %s: %s", st->path,
                      path, sqlite3_errmsg(dst));
  }
}

/* Runs the backup b to its end, in steps, retrying a locked source for
 * the busy bound. */
static int run_backup(struct store *st, sqlite3_backup *b, sqlite3 *dst,
                      const char *path) {
  int waited = 0, delay = 1, restarts = 0, last = -1;
  for (;;) {
    int r = sqlite3_backup_step(b, restarts >= MAX_RESTARTS ? -1 : STEP_PAGES);
    if (r == SQLITE_DONE)
      return ENG_OK;
    if (r == SQLITE_OK) {
      /* A commit by another connection restarts the copy: fewer pages done
       * after a step than before it. */
      int left = sqlite3_backup_remaining(b);
      if (last >= 0 && left >= last)
        restarts++;
      last = left;
      continue;
    }
    if ((r & 0xff) == SQLITE_BUSY || (r & 0xff) == SQLITE_LOCKED) {
      if (waited >= st->busy_ms)
        return store_fail(st, ENG_BUSY,
                          "database %s is locked by another program "
                          "(retried for %d ms)",
                          st->path, st->busy_ms);
      sqlite3_sleep(delay);
      waited += delay;
      delay = delay < 50 ? delay * 2 : 100;
      continue;
    }
    return copy_failed(st, dst, r, path);
  }
}

/*
 * Copies database "main" of src into the empty file tmp, turns it into a
 * rollback-journal database (a copy of a WAL database says WAL in its
 * header, and would want -wal and -shm files beside it) and checks it.
 * path is the name the copy will have, for messages.
 */
static int copy_into(struct store *st, sqlite3 *src, const char *tmp,
                     const char *path, int64_t *rev) {
  sqlite3 *dst = NULL;
  sqlite3_backup *b = NULL;
  sqlite3_stmt *s = NULL;
  struct buf problems = BUF_INIT;
  bool ok;
  int rc;
  int r = sqlite3_open_v2(tmp, &dst,
                          SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX |
                              SQLITE_OPEN_EXRESCODE,
                          NULL);
  if (!dst)
    die("out of memory opening SQLite");
  if (r != SQLITE_OK) {
    rc = copy_failed(st, dst, r, path);
    goto out;
  }
  b = sqlite3_backup_init(dst, "main", src, "main");
  if (!b) {
    rc = copy_failed(st, dst, sqlite3_extended_errcode(dst), path);
    goto out;
  }
  rc = run_backup(st, b, dst, path);
  r = sqlite3_backup_finish(b);
  b = NULL;
  if (rc)
    goto out;
  if (r != SQLITE_OK) {
    rc = copy_failed(st, dst, r, path);
    goto out;
  }
  if (sqlite3_exec(dst, "PRAGMA journal_mode = DELETE", NULL, NULL, NULL) !=
      SQLITE_OK) {
    rc = copy_failed(st, dst, sqlite3_extended_errcode(dst), path);
    goto out;
  }
  r = quick_check(dst, &ok, &problems);
  if (r != SQLITE_OK) {
    rc = copy_failed(st, dst, r, path);
    goto out;
  }
  /* The copy holds what the database holds, pages as they are: a copy
   * that fails the check comes from a damaged database. */
  if (!ok) {
    rc = store_fail_damaged(st, problems.ptr);
    goto out;
  }
  if (rev) {
    *rev = 0;
    if (sqlite3_prepare_v2(dst, "SELECT rev FROM revision WHERE id = 1", -1, &s,
                           NULL) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW)
      *rev = sqlite3_column_int64(s, 0);
  }
  rc = ENG_OK;
out:
  sqlite3_finalize(s);
  if (b)
    sqlite3_backup_finish(b);
  if (dst && sqlite3_close(dst) != SQLITE_OK && rc == ENG_OK)
    rc = store_fail(st, ENG_DB, "cannot close %s", tmp);
  buf_release(&problems);
  return rc;
}

static bool same_file(const char *p, const char *q) {
  struct stat a, b;
  return stat(p, &a) == 0 && stat(q, &b) == 0 && a.st_dev == b.st_dev &&
         a.st_ino == b.st_ino;
}

/* Writes a copy of src (st's database, or a second connection to it) to
 * path through a temporary file beside it, with permission bits mode. */
static int write_copy(struct store *st, sqlite3 *src, const char *path,
                      bool replace, mode_t mode, int64_t *rev) {
  char *tmp = xasprintf("%s.tmp-XXXXXX", path);
  char *journal = NULL;
  struct stat sb;
  int rc, e;
  if (strcmp(st->path, ":memory:") != 0 && same_file(path, st->path)) {
    rc = store_fail(st, ENG_INVALID, "%s is the database itself", path);
    goto out;
  }
  if (!replace && lstat(path, &sb) == 0) {
    rc = store_fail(st, ENG_EXISTS, "%s exists", path);
    goto out;
  }
  int fd = mkstemp(tmp);
  if (fd < 0) {
    e = errno;
    rc = store_fail(st, rc_from_errno(e), "cannot write %s: %s", path,
                    strerror(e));
    goto out;
  }
  journal = xasprintf("%s-journal", tmp);
  fchmod(fd, mode);
  close(fd);
  rc = copy_into(st, src, tmp, path, rev);
  if (rc == ENG_OK) {
    if ((replace ? rename(tmp, path) : rename_noreplace(tmp, path)) != 0) {
      e = errno;
      rc = e == EEXIST
               ? store_fail(st, ENG_EXISTS, "%s exists", path)
               : store_fail(st, rc_from_errno(e), "cannot rename %s to %s: %s",
                            tmp, path, strerror(e));
    } else {
      sync_dir_of(path);
    }
  }
  if (rc) {
    unlink(tmp);
    unlink(journal);
  }
out:
  free(tmp);
  free(journal);
  return rc;
}

/* A copy of st's database: from its own connection, or inside a write
 * transaction from a second one, which reads the last commit (SQLite's
 * backup refuses a source in a write transaction). */
static int copy_store(struct store *st, const char *path, bool replace,
                      int64_t *rev) {
  sqlite3 *second = NULL;
  struct stat sb;
  int rc;
  if (st->in_write) {
    if (sq(st)->memory)
      return store_fail(st, ENG_INVALID,
                        "a database in memory cannot be backed up inside a "
                        "write transaction");
    int r = sqlite3_open_v2(st->path, &second,
                            SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX |
                                SQLITE_OPEN_EXRESCODE,
                            NULL);
    if (!second)
      die("out of memory opening SQLite");
    if (r != SQLITE_OK) {
      rc = store_fail(st, ENG_DB, "cannot read database %s: %s", st->path,
                      sqlite3_errmsg(second));
      sqlite3_close_v2(second);
      return rc;
    }
  }
  mode_t mode =
      !sq(st)->memory && stat(st->path, &sb) == 0 ? sb.st_mode & 0777 : 0600;
  rc = write_copy(st, second ? second : sq_db(st), path, replace, mode, rev);
  if (second)
    sqlite3_close_v2(second);
  return rc;
}

int sqlite_dbbackup_write(struct store *st, const char *path, int flags,
                          int64_t *rev) {
  return copy_store(st, path, (flags & STORE_DBBACKUP_FORCE) != 0, rev);
}

static int make_backup_dir(struct store *st, const char *dir) {
  struct stat sb;
  if (mkdir(dir, 0700) == 0)
    return ENG_OK;
  int e = errno;
  if (e == EEXIST && stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode))
    return ENG_OK;
  if (e == EEXIST)
    return store_fail(st, ENG_PERM,
                      "cannot keep backups in %s: it exists and is not a "
                      "folder",
                      dir);
  return store_fail(st, rc_from_errno(e), "cannot create folder %s: %s", dir,
                    strerror(e));
}

int store_dbbackup_auto(struct store *st, const char *reason, char **path) {
  *path = NULL;
  if (sq(st)->memory)
    return store_fail(st, ENG_INVALID,
                      "a database in memory has no file to back up");
  char *dir = store_dbbackup_dir(st->path);
  char stamp[16];
  int rc = make_backup_dir(st, dir);
  stamp_now(stamp);
  for (int seq = 1; rc == ENG_OK; seq++) {
    char *p = seq == 1 ? xasprintf("%s/%s-%s-%s.db", dir, path_base(st->path),
                                   stamp, reason)
                       : xasprintf("%s/%s-%s-%s-%d.db", dir,
                                   path_base(st->path), stamp, reason, seq);
    rc = copy_store(st, p, false, NULL);
    if (rc == ENG_OK) {
      *path = p;
      break;
    }
    free(p);
    if (rc == ENG_EXISTS && seq < 1000)
      rc = ENG_OK;
  }
  free(dir);
  return rc;
}

/* ---- the list of automatic backups ---- */

/* Whether s (len bytes) is a reason store_open and store_restore give. */
static bool reason_known(const char *s, size_t len) {
  static const char restore[] = "before-restore";
  if (len == sizeof restore - 1 && memcmp(s, restore, len) == 0)
    return true;
  char tmp[64];
  int from, to, used = 0;
  if (len >= sizeof tmp)
    return false;
  memcpy(tmp, s, len);
  tmp[len] = '\0';
  return sscanf(tmp, "before-schema-%d-to-%d%n", &from, &to, &used) == 2 &&
         used == (int)len;
}

static bool all_digits(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (s[i] < '0' || s[i] > '9')
      return false;
  return n > 0;
}

/* Reads "YYYYmmdd-HHMMSS-<reason>[-N].db" into x (time, reason, seq). A
 * "-N" is split off only where what precedes it is a known reason:
 * "before-schema-2-to-3" ends in digits too. */
static bool parse_name(const char *rest, struct dbbackup *x) {
  size_t len = strlen(rest);
  if (len < 15 + 1 + 1 + 3 || !str_ends(rest, ".db") || !all_digits(rest, 8) ||
      rest[8] != '-' || !all_digits(rest + 9, 6) || rest[15] != '-')
    return false;
  struct tm tm;
  memset(&tm, 0, sizeof tm);
  if (sscanf(rest, "%4d%2d%2d-%2d%2d%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
             &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
    return false;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  const char *r = rest + 16;
  size_t rlen = len - 16 - 3;
  int seq = 1;
  const char *dash = NULL;
  for (const char *p = r; p < r + rlen; p++)
    if (*p == '-')
      dash = p;
  if (dash && all_digits(dash + 1, (size_t)(r + rlen - dash - 1)) &&
      reason_known(r, (size_t)(dash - r))) {
    seq = atoi(dash + 1);
    rlen = (size_t)(dash - r);
  }
  if (rlen == 0)
    return false;
  x->time_ns = (int64_t)timegm(&tm) * 1000000000;
  x->reason = xstrndup(r, rlen);
  x->seq = seq;
  return true;
}

static int newest_first(const void *pa, const void *pb) {
  const struct dbbackup *a = pa, *b = pb;
  if (a->time_ns != b->time_ns)
    return a->time_ns > b->time_ns ? -1 : 1;
  if (a->seq != b->seq)
    return a->seq > b->seq ? -1 : 1;
  return strcmp(a->path, b->path);
}

int store_dbbackup_list(const char *db_path, struct dbbackup **out, size_t *n) {
  char *dir = store_dbbackup_dir(db_path);
  const char *base = path_base(db_path);
  size_t blen = strlen(base);
  struct dbbackup *v = NULL;
  size_t len = 0, cap = 0;
  int rc = ENG_OK;
  *out = NULL;
  *n = 0;
  DIR *d = opendir(dir);
  if (!d) {
    int e = errno;
    free(dir);
    if (e == ENOENT || e == ENOTDIR)
      return ENG_OK;
    return e == EACCES || e == EPERM ? ENG_PERM : ENG_DB;
  }
  struct dirent *de;
  while ((de = readdir(d))) {
    struct stat sb;
    struct dbbackup x;
    memset(&x, 0, sizeof x);
    if (strncmp(de->d_name, base, blen) != 0 || de->d_name[blen] != '-' ||
        fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0 ||
        !S_ISREG(sb.st_mode) || !parse_name(de->d_name + blen + 1, &x))
      continue;
    x.path = xasprintf("%s/%s", dir, de->d_name);
    x.size = (int64_t)sb.st_size;
    XGROW(v, cap, len + 1);
    v[len++] = x;
  }
  closedir(d);
  free(dir);
  xsort(v, len, sizeof *v, newest_first);
  *out = v;
  *n = len;
  return rc;
}

void store_dbbackups_free(struct dbbackup *v, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free(v[i].path);
    free(v[i].reason);
  }
  free(v);
}

/* ---- a backup in place of a damaged database ---- */

int store_dbbackup_install(struct store *from, const char *db_path,
                           struct strlist *moved) {
  static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
  enum { NSUFFIXES = sizeof suffixes / sizeof suffixes[0] };
  struct stat sb;
  mode_t mode = 0644;
  bool any = false;
  char *target = NULL;
  int rc = ENG_OK;
  if (same_file(db_path, from->path))
    return store_fail(from, ENG_INVALID, "%s is the backup itself", db_path);
  for (int i = 0; i < NSUFFIXES; i++) {
    char *p = xasprintf("%s%s", db_path, suffixes[i]);
    if (lstat(p, &sb) == 0) {
      any = true;
      if (i == 0)
        mode = sb.st_mode & 0777;
    }
    free(p);
  }
  if (any) {
    char stamp[16];
    stamp_now(stamp);
    for (int seq = 1;; seq++) {
      target = seq == 1 ? xasprintf("%s.damaged-%s", db_path, stamp)
                        : xasprintf("%s.damaged-%s-%d", db_path, stamp, seq);
      bool taken = false;
      for (int i = 0; i < NSUFFIXES && !taken; i++) {
        char *p = xasprintf("%s%s", target, suffixes[i]);
        taken = lstat(p, &sb) == 0;
        free(p);
      }
      if (!taken)
        break;
      free(target);
    }
    /* The database first: a -wal file left beside a new database would be
     * read into it, so a failure stops everything before the copy. */
    for (int i = 0; i < NSUFFIXES && rc == ENG_OK; i++) {
      char *src = xasprintf("%s%s", db_path, suffixes[i]);
      char *dst = xasprintf("%s%s", target, suffixes[i]);
      if (lstat(src, &sb) == 0) {
        if (rename_noreplace(src, dst) == 0) {
          strlist_add(moved, dst);
        } else {
          int e = errno;
          rc = store_fail(
              from, rc_from_errno(e) == ENG_EXISTS ? ENG_DB : rc_from_errno(e),
              "cannot move %s aside to %s: %s; nothing was "
              "copied",
              src, dst, strerror(e));
        }
      }
      free(src);
      free(dst);
    }
    sync_dir_of(db_path);
  }
  if (rc == ENG_OK)
    rc = write_copy(from, sq_db(from), db_path, false, mode, NULL);
  free(target);
  return rc;
}
