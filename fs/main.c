/* SPDX-License-Identifier: MIT */
/* main.c: taskfs [options] DB MOUNTPOINT. Opens the database and the real
 * directory under the mount point, mounts, and serves until unmounted. */
#include "fs.h"
#include "nodes.h"
#include "taskfs_version.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

enum exit_code {
  EXIT_OK = 0,
  EXIT_FAIL = 1,  /* the mount failed or the daemon hit a fatal error */
  EXIT_USAGE = 2, /* bad command line */
  EXIT_DB = 3,    /* the database cannot be opened */
};

struct cmdline {
  char *db;
  int nonopts;
  struct fs_options fs;
  int show_help, show_version;
};

#define OPT(t, p)                                                              \
  { t, offsetof(struct cmdline, p), 1 }
static const struct fuse_opt taskfs_opts[] = {
    OPT("session=%s", fs.session),      OPT("config=%s", fs.config),
    OPT("timeout=%lf", fs.timeout),     OPT("grace=%lf", fs.grace),
    OPT("busy_timeout=%d", fs.busy_ms),
    OPT("max_buffers=%d", fs.max_buffers_mb),
    OPT("log=%s", fs.log), FUSE_OPT_END,
};

static int take_nonopt(void *data, const char *arg, int key,
                       struct fuse_args *outargs) {
  struct cmdline *c = data;
  if (key != FUSE_OPT_KEY_NONOPT)
    return 1;
  if (c->nonopts++ == 0) {
    c->db = xstrdup(arg);
    return 0;
  }
  return 1;
}

static void usage(FILE *f, const char *prog) {
  fprintf(f,
          "usage: %s [options] DB MOUNTPOINT\n"
          "\n"
          "Mounts the sessions of the task database DB as markdown files.\n"
          "Unmount with: fusermount3 -u MOUNTPOINT\n"
          "\n"
          "taskfs options:\n"
          "    -o session=ID          mount only this session's directory\n"
          "    -o config=FILE         conflict policies (default: "
          "taskfs.yaml beside DB)\n"
          "    -o timeout=SECONDS     attribute cache time of ordinary "
          "files (1)\n"
          "    -o grace=SECONDS       how long an unlinked group or task "
          "file may\n"
          "                           come back before the record is "
          "deleted (2)\n"
          "    -o busy_timeout=MS     how long a locked database is "
          "retried (5000)\n"
          "    -o max_buffers=MB      memory for all files being written "
          "(1024)\n"
          "    -o log=LEVEL           error, warning, info or debug (info; "
          "-d: debug)\n"
          "    -h, --help             this help, then FUSE's options\n"
          "    -V, --version          versions\n"
          "\n",
          prog);
}

static bool log_to_syslog;
static enum fuse_log_level log_level = FUSE_LOG_INFO;

static void log_func(enum fuse_log_level level, const char *fmt, va_list ap) {
  if (level > log_level)
    return;
  if (log_to_syslog) {
    vsyslog((int)level, fmt, ap);
  } else {
    vfprintf(stderr, fmt, ap);
  }
}

static bool set_log_level(const char *name) {
  static const struct {
    const char *name;
    enum fuse_log_level level;
  } levels[] = {{"error", FUSE_LOG_ERR},
                {"warning", FUSE_LOG_WARNING},
                {"info", FUSE_LOG_INFO},
                {"debug", FUSE_LOG_DEBUG}};
  for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++)
    if (strcmp(name, levels[i].name) == 0) {
      log_level = levels[i].level;
      return true;
    }
  return false;
}

int main(int argc, char *argv[]) {
  struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
  struct fuse_cmdline_opts opts = {0};
  struct cmdline c = {.fs = {.timeout = 1.0,
                             .grace = 2.0,
                             .busy_ms = 5000,
                             .max_buffers_mb = 1024}};
  struct fs fs = {0};
  struct fuse_session *se = NULL;
  int ret = EXIT_FAIL;

  if (fuse_opt_parse(&args, &c, taskfs_opts, take_nonopt) != 0)
    return EXIT_USAGE;
  if (fuse_parse_cmdline(&args, &opts) != 0)
    return EXIT_USAGE;
  if (opts.show_help) {
    usage(stdout, argv[0]);
    fuse_cmdline_help();
    fuse_lowlevel_help();
    ret = EXIT_OK;
    goto out_args;
  }
  if (opts.show_version) {
    printf("taskfs %s\nFUSE library %s\nSQLite %s\n", TASKFS_VERSION,
           fuse_pkgversion(), store_sqlite_version());
    ret = EXIT_OK;
    goto out_args;
  }
  if (opts.debug)
    log_level = FUSE_LOG_DEBUG;
  if (c.fs.log && !set_log_level(c.fs.log)) {
    fprintf(stderr, "%s: -o log takes error, warning, info or debug\n",
            argv[0]);
    ret = EXIT_USAGE;
    goto out_args;
  }
  if (!c.db || !opts.mountpoint) {
    usage(stderr, argv[0]);
    fprintf(stderr, "%s: give the database and the mount point\n", argv[0]);
    ret = EXIT_USAGE;
    goto out_args;
  }

  /* The daemon leaves the working directory: keep an absolute path. */
  char *db = realpath(c.db, NULL);
  if (!db) {
    fprintf(stderr,
            "taskfs: no database at %s: %s\n"
            "create one with 'taskctl -d %s init' (or 'taskctl demo')\n",
            c.db, strerror(errno), c.db);
    ret = EXIT_DB;
    goto out_args;
  }
  int rc = store_open(db, 0, &fs.st);
  if (rc) {
    fprintf(stderr, "taskfs: %s\n", store_errmsg(fs.st));
    store_close(fs.st);
    free(db);
    ret = EXIT_DB;
    goto out_args;
  }
  /* The conflict policies: -o config, else taskfs.yaml beside the
   * database, else the defaults. */
  struct buf err = BUF_INIT;
  char *config = c.fs.config ? xstrdup(c.fs.config) : NULL;
  if (!config) {
    char *slash = strrchr(db, '/');
    config = xasprintf("%.*s/taskfs.yaml", (int)(slash - db), db);
  }
  rc = policy_load(config, &fs.policy, &err);
  if (rc == ENG_NOTFOUND && c.fs.config) {
    fprintf(stderr, "taskfs: no configuration file %s\n", config);
    ret = EXIT_USAGE;
  } else if (rc && rc != ENG_NOTFOUND) {
    fprintf(stderr, "taskfs: %s\n", err.ptr);
    ret = EXIT_USAGE;
  }
  buf_release(&err);
  free(config);
  fs.db_path = db;
  if (rc && (rc != ENG_NOTFOUND || c.fs.config))
    goto out_store;
  /* The sync log keeps 30 days and 100,000 operations at most. */
  if (store_begin(fs.st) == ENG_OK) {
    if (store_syncops_prune(fs.st, 100000, 30) == ENG_OK)
      store_commit(fs.st);
    else
      store_rollback(fs.st);
  }
  store_set_busy_ms(fs.st, c.fs.busy_ms);
  store_set_source(fs.st, "taskfs");

  vnode_init(&fs.root);
  if (c.fs.session) {
    struct session s;
    session_init(&s);
    if (store_session_get(fs.st, c.fs.session, &s) != ENG_OK) {
      fprintf(stderr,
              "taskfs: no session '%s' in the database; 'taskctl session "
              "list' shows them\n",
              c.fs.session);
      session_release(&s);
      ret = EXIT_USAGE;
      goto out_store;
    }
    session_release(&s);
    fs.root.kind = VK_SESSION;
    fs.root.session = xstrdup(c.fs.session);
  } else {
    fs.root.kind = VK_ROOT;
  }

  /* Ordinary files live in the directory the mount will cover: hold it
   * open first, so it stays reachable underneath. */
  fs.realfd = open(opts.mountpoint, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fs.realfd < 0) {
    fprintf(stderr, "taskfs: cannot use mount point %s: %s\n", opts.mountpoint,
            strerror(errno));
    ret = EXIT_USAGE;
    goto out_store;
  }
  fs.realroot = xstrdup(".");
  fs.opt = c.fs;
  fs.uid = getuid();
  fs.gid = getgid();
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  fs.mount_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
  fs.next_ino = FUSE_ROOT_ID;
  pthread_mutex_init(&fs.lock, NULL);
  hmap_init(&fs.inodes);
  hmap_init(&fs.virt);
  hmap_init(&fs.real);
  fs.root_node = node_virt(&fs, &fs.root); /* the first: inode 1 */

  fuse_opt_add_arg(&args, "-odefault_permissions");
  fuse_opt_add_arg(&args, "-ofsname=taskfs");
  fuse_opt_add_arg(&args, "-osubtype=taskfs");

  se = fuse_session_new(&args, &fs_ops, sizeof fs_ops, &fs);
  if (!se)
    goto out_fs;
  fs.se = se;
  if (fuse_set_signal_handlers(se) != 0)
    goto out_session;
  if (fuse_session_mount(se, opts.mountpoint) != 0)
    goto out_signals;
  if (!opts.foreground) {
    openlog("taskfs", LOG_PID, LOG_DAEMON);
    log_to_syslog = true;
  }
  fuse_set_log_func(log_func);
  fuse_daemonize(opts.foreground);
  fs_start_timer(&fs);

  if (opts.singlethread) {
    ret = fuse_session_loop(se) ? EXIT_FAIL : EXIT_OK;
  } else {
    struct fuse_loop_config *lc = fuse_loop_cfg_create();
    fuse_loop_cfg_set_clone_fd(lc, (unsigned)opts.clone_fd);
    fuse_loop_cfg_set_max_threads(lc, 16);
    ret = fuse_session_loop_mt(se, lc) ? EXIT_FAIL : EXIT_OK;
    fuse_loop_cfg_destroy(lc);
  }
  fs_stop_timer(&fs);
  fs_flush_ops(&fs);
  fuse_session_unmount(se);
out_signals:
  fuse_remove_signal_handlers(se);
out_session:
  fuse_session_destroy(se);
out_fs:
  nodes_free_all(&fs);
  close(fs.realfd);
  free(fs.realroot);
out_store:
  store_close(fs.st);
  free(fs.db_path);
  free(fs.ops);
  vnode_release(&fs.root);
out_args:
  free(opts.mountpoint);
  free(c.db);
  free(c.fs.session);
  free(c.fs.config);
  free(c.fs.log);
  fuse_opt_free_args(&args);
  return ret;
}
