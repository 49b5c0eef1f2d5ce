/* SPDX-License-Identifier: MIT */
/* cmd_db.c: the commands on the database as a whole: init, export, backup,
 * restore, check and copy. (demo is in demo.c with its data.) The copies,
 * the restore and the check are the store's; this file asks and reports. */
#include "taskctl.h"
#include "util.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int cmd_init(struct ctl *c) {
  /* store_open has created the file and its schema, or found them. */
  char *abs = realpath(store_path(c->st), NULL);
  printf("%s\n", abs ? abs : store_path(c->st));
  free(abs);
  return 0;
}

int cmd_export(struct ctl *c) {
  json_t *v = NULL;
  int rc = json_export(c->st, &v);
  if (rc)
    return ctl_fail_store(c, rc);
  json_print(v);
  return 0;
}

/* The absolute form of an existing path, else the path as given; a
 * server's database as messages show it, without its password. The
 * caller frees it. */
static char *abs_path(const char *path) {
  if (!store_is_file(path))
    return store_target_shown(path);
  char *abs = realpath(path, NULL);
  return abs ? abs : xstrdup(path);
}

/* ---- backup ---- */

int check_backup(struct ctl *c) {
  if (c->has[O_LIST] && c->npos)
    return ctl_usage_error("'backup --list' takes no FILE");
  if (c->has[O_LIST] && c->has[O_FORCE])
    return ctl_usage_error("--force replaces FILE; it does not go with "
                           "--list");
  if (!c->has[O_LIST] && c->npos == 0)
    return ctl_usage_error("'backup' needs a FILE to write (or --list)");
  return 0;
}

static int backup_list(struct ctl *c) {
  if (!store_is_file(c->db_path)) {
    char *shown = store_target_shown(c->db_path);
    int code = ctl_fail(EXIT_INVALID,
                        "database %s is on a PostgreSQL server: it has no "
                        "automatic backup files (taskfs makes them of "
                        "SQLite databases); back it up with pg_dump",
                        shown);
    free(shown);
    return code;
  }
  char *db = ctl_absolute_path(c->db_path);
  char *dir = store_dbbackup_dir(db);
  struct dbbackup *v = NULL;
  size_t n = 0;
  json_t *json = NULL;
  int code = 0;
  int rc =
      c->json ? json_dbbackups(db, &json) : store_dbbackup_list(db, &v, &n);
  if (rc) {
    code = ctl_fail(EXIT_FAIL, "cannot read folder %s: %s", dir,
                    rc == ENG_PERM ? "permission denied" : eng_strerror(rc));
  } else if (c->json) {
    json_print(json);
  } else if (n == 0) {
    printf("no automatic backups in %s\n", dir);
  } else {
    static const char *const header[] = {"TIME (UTC)", "REASON", "SIZE",
                                         "PATH"};
    struct table t;
    table_init(&t, 4, COL(2), header);
    for (size_t i = 0; i < n; i++) {
      char when[24], size[24];
      time_t s = (time_t)(v[i].time_ns / 1000000000);
      struct tm tm;
      gmtime_r(&s, &tm);
      strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
      snprintf(size, sizeof size, "%" PRId64, v[i].size);
      const char *row[] = {when, v[i].reason, size, v[i].path};
      table_row(&t, row);
    }
    table_print(&t, stdout);
    table_release(&t);
  }
  store_dbbackups_free(v, n);
  free(dir);
  free(db);
  return code;
}

int cmd_backup(struct ctl *c) {
  if (c->has[O_LIST])
    return backup_list(c);
  int code = ctl_open(c, OPEN_READ);
  if (code)
    return code;
  const char *file = c->pos[0];
  int64_t rev = 0;
  int rc = store_dbbackup_write(
      c->st, file, c->has[O_FORCE] ? STORE_DBBACKUP_FORCE : 0, &rev);
  switch (rc) {
  case ENG_OK:
    break;
  case ENG_EXISTS:
    return ctl_fail(EXIT_INVALID, "%s; give --force to replace it",
                    store_errmsg(c->st));
  case ENG_INVALID:
    return ctl_fail(EXIT_INVALID, "%s", store_errmsg(c->st));
  case ENG_NOTFOUND:
    return ctl_fail(EXIT_FAIL, "%s", store_errmsg(c->st));
  default:
    return ctl_fail_store(c, rc);
  }
  char *abs = abs_path(file);
  struct stat sb;
  int64_t size = stat(file, &sb) == 0 ? (int64_t)sb.st_size : 0;
  if (c->json) {
    json_print(json_pack("{s:I,s:I,s:o}", "revision", (json_int_t)rev, "size",
                         (json_int_t)size, "path", json_str(abs)));
  } else {
    out_kv("path", abs);
    out_kvf("revision", "%" PRId64, rev);
    out_kvf("size", "%" PRId64, size);
  }
  free(abs);
  return code;
}

/* ---- restore ---- */

/* The exit status for a backup file that cannot be used: one that cannot
 * be read is 1, as any input file; one that is no usable backup, 4. */
static int backup_file_code(int rc) {
  switch (rc) {
  case ENG_SCHEMA:
  case ENG_CORRUPT:
  case ENG_INVALID:
    return EXIT_INVALID;
  case ENG_BUSY:
    return EXIT_BUSY;
  default:
    return EXIT_FAIL;
  }
}

static bool same_file(const char *a, const char *b) {
  struct stat x, y;
  return stat(a, &x) == 0 && stat(b, &y) == 0 && x.st_dev == y.st_dev &&
         x.st_ino == y.st_ino;
}

/* Prints what a restore did. saved and damaged may be NULL. */
static int restore_report(struct ctl *c, const char *file, const char *saved,
                          const struct strlist *moved, bool copied,
                          const struct store_restore_stats *s) {
  char *db = abs_path(c->db_path);
  char *from = abs_path(file);
  char *kept = saved ? abs_path(saved) : NULL;
  char *aside = moved->n ? abs_path(moved->v[0]) : NULL;
  int code = 0;
  if (c->json) {
    json_print(json_pack(
        "{s:b,s:I,s:I,s:I,s:I,s:I,s:o,s:o,s:o,s:o}", "copied", copied,
        "from_revision", (json_int_t)s->from_rev, "revision",
        (json_int_t)s->rev, "changed", (json_int_t)s->changed, "inserted",
        (json_int_t)s->inserted, "deleted", (json_int_t)s->deleted, "database",
        json_str(db), "file", json_str(from), "saved", json_str(kept),
        "damaged", json_str(aside)));
  } else if (copied) {
    if (moved->n) {
      printf("database %s is damaged; moved it aside to", db);
      for (size_t i = 0; i < moved->n; i++) {
        char *p = abs_path(moved->v[i]);
        printf("%s %s", i ? "," : "", p);
        free(p);
      }
      printf("\n");
    } else {
      printf("there was no database at %s\n", db);
    }
    printf("copied %s (revision %" PRId64 ") into its place\n", from,
           s->from_rev);
  } else {
    printf("saved the database as it was: %s\n", kept);
    printf("restored %s (revision %" PRId64 ") into %s: %zu record%s "
           "changed, %zu inserted, %zu deleted; now at revision %" PRId64 "\n",
           from, s->from_rev, db, s->changed, s->changed == 1 ? "" : "s",
           s->inserted, s->deleted, s->rev);
  }
  free(aside);
  free(kept);
  free(db);
  free(from);
  return code;
}

/* A damaged or missing database: the backup is copied into its place. */
static int restore_by_copy(struct ctl *c, struct store *from,
                           const char *file) {
  struct strlist moved = {0};
  struct store_restore_stats stats;
  memset(&stats, 0, sizeof stats);
  stats.from_rev = store_revision(from);
  int rc = store_dbbackup_install(from, c->db_path, &moved);
  int code;
  if (rc) {
    code = ctl_fail(rc == ENG_READONLY || rc == ENG_FULL ? EXIT_RDONLY
                    : rc == ENG_INVALID                  ? EXIT_INVALID
                                                         : EXIT_FAIL,
                    "%s", store_errmsg(from));
    goto out;
  }
  /* Opened as any command opens it: in WAL mode from now on. */
  if ((code = ctl_open(c, OPEN_WRITE)))
    goto out;
  stats.rev = store_revision(c->st);
  code = restore_report(c, file, NULL, &moved, true, &stats);
out:
  strlist_clear(&moved);
  return code;
}

int cmd_restore(struct ctl *c) {
  const char *file = c->pos[0];
  struct store *from = NULL;
  char *saved = NULL;
  int code = 0;
  int rc = store_open(file, STORE_BACKUP_FILE, &from);
  if (rc) {
    code = ctl_fail(backup_file_code(rc), "%s; nothing was restored",
                    store_errmsg(from));
    goto out;
  }
  store_set_busy_ms(from, c->busy_ms);
  if (!store_is_file(c->db_path)) {
    /* The server's database: the store says how it is restored. */
    struct store_restore_stats stats;
    if ((code = ctl_open(c, OPEN_WRITE)))
      goto out;
    if ((rc = store_restore(c->st, from, &saved, &stats)))
      code = ctl_fail_store(c, rc);
    goto out;
  }
  if (access(c->db_path, F_OK) != 0 && errno == ENOENT) {
    code = restore_by_copy(c, from, file);
    goto out;
  }
  if (same_file(file, c->db_path)) {
    code = ctl_fail(EXIT_INVALID, "%s is the database itself", file);
    goto out;
  }
  rc = store_open(c->db_path, 0, &c->st);
  if (rc == ENG_OK) {
    store_set_busy_ms(c->st, c->busy_ms);
    rc = store_check(c->st);
  }
  if (rc == ENG_CORRUPT) {
    store_close(c->st);
    c->st = NULL;
    code = restore_by_copy(c, from, file);
    goto out;
  }
  if (rc) {
    /* Opened again as any command opens it, for the same message. */
    store_close(c->st);
    c->st = NULL;
    if ((code = ctl_open(c, OPEN_WRITE)))
      goto out;
    store_set_busy_ms(c->st, c->busy_ms);
    if ((rc = store_check(c->st))) {
      code = ctl_fail_store(c, rc);
      goto out;
    }
  } else if (store_upgrade_backup(c->st)) {
    fprintf(stderr,
            "taskctl: upgraded the schema of database %s; the file as it "
            "was is saved as %s\n",
            c->db_path, store_upgrade_backup(c->st));
  }
  struct store_restore_stats stats;
  rc = store_restore(c->st, from, &saved, &stats);
  if (rc) {
    code = ctl_fail_store(c, rc);
    goto out;
  }
  struct strlist none = {0};
  code = restore_report(c, file, saved, &none, false, &stats);
out:
  free(saved);
  store_close(from);
  return code;
}

/* ---- check ---- */

int cmd_check(struct ctl *c) {
  int rc = store_check(c->st);
  if (rc)
    return ctl_fail_store(c, rc);
  char *db = abs_path(c->db_path);
  int64_t rev = store_revision(c->st);
  int code = 0;
  if (c->json) {
    json_print(json_pack("{s:I,s:o,s:s}", "revision", (json_int_t)rev, "path",
                         json_str(db), "integrity", "ok"));
  } else {
    out_kv("path", db);
    out_kv("integrity", "ok");
    out_kvf("revision", "%" PRId64, rev);
  }
  free(db);
  return code;
}

/* ---- copy ---- */

int check_copy(struct ctl *c) {
  if (!ctl_opt(c, O_TO))
    return ctl_usage_error("'copy' needs the database to copy into: --to DB");
  return 0;
}

int cmd_copy(struct ctl *c) {
  const char *from = ctl_opt(c, O_FROM);
  const char *to = ctl_opt(c, O_TO);
  if (from) {
    c->db_path = from;
    c->db_default = false;
  }
  int code = ctl_open(c, OPEN_READ);
  if (code)
    return code;
  struct store_copy_stats s;
  int rc = store_copy(c->st, to, &s);
  if (rc == ENG_NOTEMPTY)
    return ctl_fail(EXIT_NOTEMPTY, "%s", store_errmsg(c->st));
  if (rc)
    return ctl_fail(ctl_exit_code(rc, false), "%s; nothing was copied",
                    store_errmsg(c->st));
  char *src = abs_path(c->db_path);
  char *dst = abs_path(to);
  if (c->json) {
    json_t *rows = json_object();
    for (size_t i = 0; i < s.ntables; i++)
      json_object_set_new(rows, s.tables[i].name,
                          json_integer((json_int_t)s.tables[i].rows));
    json_print(json_pack("{s:o,s:o,s:I,s:b,s:o,s:b}", "from", json_str(src),
                         "to", json_str(dst), "revision", (json_int_t)s.rev,
                         "created", s.created, "rows", rows, "verified", true));
  } else {
    printf("copied %s to %s: revision %" PRId64 ",", src, dst, s.rev);
    for (size_t i = 0; i < s.ntables; i++)
      printf(" %s %" PRId64 "%s", s.tables[i].name, s.tables[i].rows,
             i + 1 < s.ntables ? "," : ";");
    printf(" verified\n");
  }
  free(src);
  free(dst);
  return 0;
}
