/* SPDX-License-Identifier: MIT */
/* main.c: taskfs [options] DB MOUNTPOINT. Reads the command line, opens the
 * database and the real directory under the mount point, mounts, and
 * serves until unmounted or stopped by a signal. */
#include "daemon.h"
#include "fs.h"
#include "nodes.h"
#include "taskfs_version.h"
#include "tombs.h"
#include "util.h"
#include "watch.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

/* The exit statuses of taskfs, as taskfs(1) documents them. */
enum mount_exit {
  MOUNT_OK = 0,
  MOUNT_FAIL = 1,  /* the mount failed or the daemon hit a fatal error */
  MOUNT_USAGE = 2, /* bad command line, configuration or mount point */
  MOUNT_DB = 3,    /* the database cannot be opened */
};

struct cmdline {
  char *db;
  int nonopts;
  struct fs_options fs;
};

#define OPT(t, p)                                                              \
  { t, offsetof(struct cmdline, p), 1 }
#define IGNORE(t) FUSE_OPT_KEY(t, FUSE_OPT_KEY_DISCARD)
static const struct fuse_opt taskfs_opts[] = {
    OPT("session=%s", fs.session),
    OPT("config=%s", fs.config),
    OPT("timeout=%lf", fs.timeout),
    OPT("grace=%lf", fs.grace),
    OPT("busy_timeout=%d", fs.busy_ms),
    OPT("max_buffers=%d", fs.max_buffers_mb),
    OPT("render_cache=%d", fs.render_cache_mb),
    {"kernel_cache", offsetof(struct cmdline, fs.kernel_cache), 1},
    {"no_kernel_cache", offsetof(struct cmdline, fs.kernel_cache), 0},
    OPT("log=%s", fs.log),
    OPT("logfile=%s", fs.logfile),
    /* Options of mount(8) and fstab that mean something to mount(8)
     * itself, not to the filesystem. mount.fuse3 drops most of them; a
     * helper that does not, or a person copying an fstab line, should
     * not make the mount fail. x-* options are dropped in option_proc. */
    IGNORE("defaults"),
    IGNORE("auto"),
    IGNORE("noauto"),
    IGNORE("user"),
    IGNORE("nouser"),
    IGNORE("users"),
    IGNORE("owner"),
    IGNORE("group"),
    IGNORE("_netdev"),
    IGNORE("nofail"),
    IGNORE("comment="),
    /* Access time policies that libfuse 3.14 does not pass on. They
     * would change nothing: a generated file's access time is the time of
     * its records, and ordinary files keep the times of the real files. */
    IGNORE("relatime"),
    IGNORE("norelatime"),
    IGNORE("strictatime"),
    IGNORE("nostrictatime"),
    IGNORE("diratime"),
    IGNORE("nodiratime"),
    IGNORE("lazytime"),
    IGNORE("nolazytime"),
    FUSE_OPT_END,
};

/* The first argument that is not an option is the database; the second
 * (the mount point) is left to fuse_parse_cmdline. */
static int option_proc(void *data, const char *arg, int key,
                       struct fuse_args *outargs) {
  struct cmdline *c = data;
  if (key == FUSE_OPT_KEY_OPT && str_starts(arg, "x-"))
    return 0;
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
          "Unmount with: fusermount3 -u MOUNTPOINT (or umount as root), or\n"
          "stop it with SIGTERM or SIGINT. See taskfs(1).\n"
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
          "    -o render_cache=MB     memory for renderings kept for the "
          "next read (16)\n"
          "    -o no_kernel_cache     check the database at every request "
          "instead of\n"
          "                           letting the kernel cache what did not "
          "change\n"
          "    -o log=LEVEL           error, warning, info or debug (info; "
          "-d: debug)\n"
          "    -o logfile=PATH        the log of the background process "
          "(taskfs.log\n"
          "                           beside DB)\n"
          "    -h, --help             this help, then FUSE's options\n"
          "    -V, --version          versions\n"
          "\n"
          "Mount options of mount(8) and fstab (rw, ro, nosuid, nodev, "
          "noexec,\n"
          "noatime, sync, ...) go to the kernel; auto, noauto, user, "
          "nouser,\n"
          "users, _netdev, nofail, comment= and x-* are accepted and "
          "ignored.\n"
          "\n",
          prog);
}

/* A usage error: the message, the synopsis and where to read more. */
static int usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...) {
  if (fmt) {
    va_list ap;
    va_start(ap, fmt);
    fputs("taskfs: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
  }
  fputs("usage: taskfs [options] DB MOUNTPOINT\n"
        "Try 'taskfs --help' for more.\n",
        stderr);
  return MOUNT_USAGE;
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
      daemon_log_level(levels[i].level);
      return true;
    }
  return false;
}

/* Opens the database for the mount, by its absolute path (the daemon
 * leaves the working directory). */
static int open_database(const struct cmdline *c, struct fs *fs) {
  char *db = store_is_file(c->db) ? realpath(c->db, NULL) : xstrdup(c->db);
  if (!db) {
    fprintf(stderr,
            "taskfs: no database at %s: %s\n"
            "create one with 'taskctl -d %s init' (or 'taskctl demo')\n",
            c->db, strerror(errno), c->db);
    return MOUNT_DB;
  }
  /* The check (PRAGMA quick_check, which reads every page) runs once the
   * mount serves: fs_check_start. */
  int rc = mount_open_unchecked(db, c->fs.busy_ms, &fs->mount);
  free(db);
  if (mount_readonly_why(fs->mount))
    fprintf(stderr,
            "taskfs: %s; mounting it read-only: saves fail with EROFS and "
            "their text is kept beside the file\n",
            mount_readonly_why(fs->mount));
  if (rc) {
    fprintf(stderr, "taskfs: %s\n", mount_errmsg(fs->mount));
    return MOUNT_DB;
  }
  /* The files SQLite keeps open for the connection, never served as
   * ordinary files of the mount (see real_open). */
  static const char *const suffix[] = {"", "-wal", "-shm"};
  for (size_t i = 0; i < sizeof suffix / sizeof *suffix; i++) {
    char *path = xasprintf("%s%s", mount_path(fs->mount), suffix[i]);
    struct stat st;
    if (stat(path, &st) == 0) {
      fs->db_files[i].dev = st.st_dev;
      fs->db_files[i].ino = st.st_ino;
    }
    free(path);
  }
  return 0;
}

/* The conflict policies: -o config, else taskfs.yaml beside the
 * database, else the defaults. */
/* name in the folder of the database file; for a database on a server,
 * in the folder that holds the mount point. */
static char *beside_db(const struct fs *fs, const char *mountpoint,
                       const char *name) {
  const char *db = mount_path(fs->mount);
  char *mp = NULL;
  if (!store_is_file(db)) {
    mp = realpath(mountpoint, NULL);
    db = mp ? mp : mountpoint;
  }
  const char *slash = strrchr(db, '/');
  char *path =
      slash ? xasprintf("%.*s/%s", (int)(slash - db), db, name) : xstrdup(name);
  free(mp);
  return path;
}

static int load_policy(const struct cmdline *c, struct fs *fs,
                       const char *mountpoint) {
  char *config = c->fs.config ? xstrdup(c->fs.config)
                              : beside_db(fs, mountpoint, "taskfs.yaml");
  struct buf err = BUF_INIT;
  int code = 0;
  int rc = policy_load(config, mount_policy(fs->mount), &err);
  if (rc == ENG_NOTFOUND && c->fs.config) {
    fprintf(stderr,
            "taskfs: no configuration file %s; give an existing file to "
            "-o config, or leave it out for the defaults\n",
            config);
    code = MOUNT_USAGE;
  } else if (rc && rc != ENG_NOTFOUND) {
    fprintf(stderr, "taskfs: %s\nfix the file; taskfs.yaml(5) lists the keys\n",
            err.ptr);
    code = MOUNT_USAGE;
  }
  buf_release(&err);
  free(config);
  return code;
}

/* The root of the mount: every session, or the one -o session names. */
static int set_root(const struct cmdline *c, struct fs *fs) {
  vnode_init(&fs->root);
  fs->root.kind = VK_ROOT;
  if (!c->fs.session)
    return 0;
  struct session s;
  session_init(&s);
  int rc = store_session_get(fs_store(fs), c->fs.session, &s);
  session_release(&s);
  if (rc != ENG_OK) {
    fprintf(stderr,
            "taskfs: no session '%s' in the database; 'taskctl session "
            "list' shows them\n",
            c->fs.session);
    return MOUNT_USAGE;
  }
  fs->root.kind = VK_SESSION;
  fs->root.session = xstrdup(c->fs.session);
  return 0;
}

/* Undoes the octal escapes of /proc/self/mountinfo ("\040" for a space)
 * in place. */
static void unescape_octal(char *s) {
  char *d = s;
  for (; *s; s++) {
    if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' &&
        s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
      *d++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
      s += 3;
    } else {
      *d++ = *s;
    }
  }
  *d = '\0';
}

/* Whether path is the root of a mounted taskfs already: a second mount
 * on top would keep its ordinary files inside the first. */
static bool is_taskfs_mount(const char *path) {
  FILE *f = fopen("/proc/self/mountinfo", "re");
  if (!f)
    return false;
  char *line = NULL;
  size_t cap = 0;
  bool found = false;
  while (!found && getline(&line, &cap, f) > 0) {
    /* id parent major:minor root mountpoint options ... - type ... */
    char mnt[PATH_MAX], type[64];
    const char *dash = strstr(line, " - ");
    if (!dash || sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1 ||
        sscanf(dash + 3, "%63s", type) != 1)
      continue;
    unescape_octal(mnt);
    found = strcmp(mnt, path) == 0 && strcmp(type, "fuse.taskfs") == 0;
  }
  free(line);
  fclose(f);
  return found;
}

/* Holds the directory the mount will cover open: ordinary files live in
 * it and stay reachable underneath. */
static int open_mount_point(const char *mountpoint, struct fs *fs) {
  if (str_starts(mountpoint, "/dev/fd/")) {
    fprintf(stderr,
            "taskfs: the mount point must be a directory path, not "
            "%s; taskfs keeps ordinary files in the directory under "
            "it, so mount without drop_privileges\n",
            mountpoint);
    return MOUNT_USAGE;
  }
  if (is_taskfs_mount(mountpoint)) {
    fprintf(stderr,
            "taskfs: %s is a taskfs mount already; unmount it first "
            "(fusermount3 -u %s)\n",
            mountpoint, mountpoint);
    return MOUNT_FAIL;
  }
  fs->realfd = open(mountpoint, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fs->realfd < 0) {
    fprintf(stderr,
            "taskfs: cannot use mount point %s: %s; give an existing "
            "directory\n",
            mountpoint, strerror(errno));
    return MOUNT_USAGE;
  }
  /* A database under the mount point would be reached through the mount
   * itself once mounted: every program but the daemon would then lock a
   * file of the mount, not the database, and SQLite's locks would no
   * longer keep them apart. */
  const char *db = mount_path(fs->mount);
  char *mp = realpath(mountpoint, NULL);
  size_t n = mp ? strlen(mp) : 0;
  bool inside = mp && strncmp(db, mp, n) == 0 && (db[n] == '/' || n == 1);
  if (inside)
    fprintf(stderr,
            "taskfs: the database %s is inside the mount point %s; once "
            "mounted, other programs would reach it through taskfs and "
            "their locks would not reach SQLite. Keep the database outside "
            "the folder you mount on (for example beside it)\n",
            db, mp);
  free(mp);
  return inside ? MOUNT_USAGE : 0;
}

static void init_fs(struct fs *fs, const struct cmdline *c) {
  fs->realroot = xstrdup(".");
  fs->opt = c->fs;
  fs->uid = getuid();
  fs->gid = getgid();
  fs->mount_ns = time_now_ns();
  pthread_mutex_init(&fs->lock, NULL);
  pthread_mutex_init(&fs->save_lock, NULL);
  nodes_init(fs);
}

/* What the serving process needs of the system: files are created with
 * the modes the kernel passes (the caller's umask is applied already),
 * and every ordinary inode the kernel knows holds a descriptor. */
static void serving_process_limits(void) {
  umask(0);
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

/* Serves requests until the filesystem is unmounted or a signal stops
 * it. Requests being served then (a save waiting for a locked database)
 * are finished first: libfuse joins its workers before returning. */
static int serve(struct fuse_session *se,
                 const struct fuse_cmdline_opts *opts) {
  int rc;
  if (opts->singlethread) {
    rc = fuse_session_loop(se);
  } else {
    struct fuse_loop_config *lc = fuse_loop_cfg_create();
    fuse_loop_cfg_set_clone_fd(lc, (unsigned)opts->clone_fd);
    fuse_loop_cfg_set_max_threads(lc, opts->max_threads);
    /* UINT_MAX is "not given": libfuse's default stays. */
    if (opts->max_idle_threads != UINT_MAX)
      fuse_loop_cfg_set_idle_threads(lc, opts->max_idle_threads);
    rc = fuse_session_loop_mt(se, lc);
    fuse_loop_cfg_destroy(lc);
  }
  /* A stop signal (SIGTERM, SIGINT, SIGHUP, SIGQUIT) is a requested stop,
   * not a failure. */
  int sig = daemon_stop_end();
  if (sig) {
    fuse_log(FUSE_LOG_INFO, "taskfs: %s: unmounting %s\n", strsignal(sig),
             opts->mountpoint);
    return MOUNT_OK;
  }
  if (rc && !(rc > 0 && rc < NSIG)) {
    fuse_log(FUSE_LOG_ERR, "taskfs: reading requests failed: %s\n",
             strerror(rc < 0 ? -rc : rc));
    return MOUNT_FAIL;
  }
  return MOUNT_OK;
}

/* Mounts, serves and unmounts. What is left open at the end is saved by
 * fs_ops.destroy, called from fuse_session_destroy(). ready is the pipe
 * to the waiting parent of a background start, or -1. */
static int run(struct fs *fs, struct fuse_args *args,
               const struct fuse_cmdline_opts *opts, int ready) {
  /* The source of the mount is the database, as mount(8) and fstab name
   * it. Inserted first, so that options given on the command line win. */
  char *db = NULL;
  fuse_opt_add_opt_escaped(&db, store_path(mount_store(fs->mount)));
  char *names = xasprintf("-odefault_permissions,subtype=taskfs,fsname=%s", db);
  fuse_opt_insert_arg(args, 1, names);
  free(names);
  free(db);

  struct fuse_session *se = fuse_session_new(args, &fs_ops, sizeof fs_ops, fs);
  if (!se)
    return usage_error(NULL);
  fs->se = se;
  int ret = MOUNT_FAIL;
  if (daemon_stop_watch(se) != 0) {
    fprintf(stderr, "taskfs: cannot start the signal thread\n");
    goto out_session;
  }
  if (fuse_session_mount(se, opts->mountpoint) != 0)
    goto out_session;
  daemon_ready(ready);
  fs_check_start(fs);
  tombs_start(fs);
  if (fs->opt.kernel_cache)
    watch_start(fs);
  ret = serve(se, opts);
  fs_check_stop(fs);
  watch_stop(fs);
  tombs_stop(fs);
  mount_syncops_flush(fs->mount);
  fuse_session_unmount(se);
out_session:
  daemon_stop_end();
  fuse_session_destroy(se);
  return ret;
}

/* The log file of a background mount: -o logfile, else taskfs.log beside
 * the database. */
static int open_log(const struct cmdline *c, const struct fs *fs,
                    const char *mountpoint) {
  char *path = c->fs.logfile ? xstrdup(c->fs.logfile)
                             : beside_db(fs, mountpoint, "taskfs.log");
  int e = daemon_log_open(path);
  if (e)
    fprintf(stderr,
            "taskfs: cannot write the log file %s: %s; give a writable "
            "path with -o logfile=PATH (or mount with -f to log to the "
            "terminal)\n",
            path, strerror(e));
  free(path);
  return e ? MOUNT_USAGE : 0;
}

int main(int argc, char *argv[]) {
  struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
  struct fuse_cmdline_opts opts = {0};
  struct cmdline c = {.fs = {.timeout = 1.0,
                             .grace = 2.0,
                             .busy_ms = 5000,
                             .max_buffers_mb = 1024,
                             .render_cache_mb = 16,
                             .kernel_cache = 1}};
  struct fs fs = {.realfd = -1};
  int ret = MOUNT_OK, ready = -1;
  /* ps and /proc/PID/cmdline show no password of a server's database. */
  store_hide_passwords(argc, argv);
  /* One malloc arena per worker thread would keep what each freed. */
  mallopt(M_ARENA_MAX, 2);
  /* Blocks up to 4 MiB (the renderings and saved texts of group files,
   * libfuse's request buffers) come from the heap, which keeps them for
   * the next: a block mapped on its own costs a page fault for every
   * 4 KiB touched, each time (a tenth of the daemon's time in a sed -i
   * of a 1,000-task file on a virtual machine). A fixed threshold also
   * keeps glibc from raising it to 32 MiB. Likewise up to 4 MiB free at
   * the top of the heap are kept instead of given back at each free():
   * the next rendering of a group file would fault them in again (a
   * third of the faults of a sed -i tick, two thirds of a cold cat's).
   * The heap's free pages are given back after 8 MiB were freed
   * (fs_unlock). */
  mallopt(M_MMAP_THRESHOLD, 4 << 20);
  mallopt(M_TRIM_THRESHOLD, 4 << 20);

  if (fuse_opt_parse(&args, &c, taskfs_opts, option_proc) != 0 ||
      fuse_parse_cmdline(&args, &opts) != 0) {
    ret = usage_error(NULL);
    goto out_args;
  }
  if (opts.show_help) {
    usage(stdout, argv[0]);
    fuse_cmdline_help();
    fuse_lowlevel_help();
    goto out_args;
  }
  if (opts.show_version) {
    printf("taskfs %s\nFUSE library %s\nSQLite %s\n", TASKFS_VERSION,
           fuse_pkgversion(), store_sqlite_version());
    goto out_args;
  }
  if (opts.debug)
    daemon_log_level(FUSE_LOG_DEBUG);
  if (c.fs.log && !set_log_level(c.fs.log)) {
    ret = usage_error("-o log takes error, warning, info or debug, not '%s'",
                      c.fs.log);
    goto out_args;
  }
  if (!c.db || !opts.mountpoint) {
    ret = usage_error("give the database and the mount point");
    goto out_args;
  }
  fuse_set_log_func(daemon_log);
  /* Before any thread exists, so that all of them inherit it. */
  daemon_stop_block();
  /* The background process forks first: everything of the database is
   * opened by the process that serves (see daemon_fork). */
  if (!opts.foreground && daemon_fork(&ready)) {
    fprintf(stderr, "taskfs: cannot start the background process: %s\n",
            strerror(errno));
    ret = MOUNT_FAIL;
    goto out_args;
  }
  daemon_fatal_handlers();
  serving_process_limits();
  if ((ret = open_database(&c, &fs)) ||
      (ret = load_policy(&c, &fs, opts.mountpoint)) ||
      (ret = set_root(&c, &fs)) ||
      (ret = open_mount_point(opts.mountpoint, &fs)) ||
      (!opts.foreground && (ret = open_log(&c, &fs, opts.mountpoint))))
    goto out_store;
  init_fs(&fs, &c);
  ret = run(&fs, &args, &opts, ready);
  nodes_free_all(&fs);
  close(fs.realfd);
  free(fs.realroot);
out_store:
  mount_close(fs.mount);
  vnode_release(&fs.root);
out_args:
  free(opts.mountpoint);
  free(c.db);
  free(c.fs.session);
  free(c.fs.config);
  free(c.fs.log);
  free(c.fs.logfile);
  fuse_opt_free_args(&args);
  return ret;
}
