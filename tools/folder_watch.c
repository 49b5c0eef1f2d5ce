/* SPDX-License-Identifier: MIT */
/* folder_watch.c: 'taskctl sync --watch': inotify on the folders of the
 * tree, a poll of the database every 100 ms, and SIGTERM/SIGINT. Each
 * batch of events is a pass over the paths it names (folder.c). */
#include "folder.h"
#include "taskctl.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <unistd.h>

/* How often the database is asked whether another program committed. */
#define POLL_NS 100000000
/* How long after a pass that met a locked database it is tried again. */
#define RETRY_NS 1000000000

#define EVENTS                                                                 \
  (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CREATE |      \
   IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW)

struct watch {
  int wd;
  char *dir; /* relative to the checkout, "" for the checkout */
};

struct watcher {
  struct folder *f;
  int fd;
  struct watch *v;
  size_t n, cap;
};

static struct watch *watch_of(struct watcher *w, int wd) {
  for (size_t i = 0; i < w->n; i++)
    if (w->v[i].wd == wd)
      return &w->v[i];
  return NULL;
}

static void forget(struct watcher *w, int wd) {
  for (size_t i = 0; i < w->n; i++)
    if (w->v[i].wd == wd) {
      free(w->v[i].dir);
      w->v[i] = w->v[--w->n];
      return;
    }
}

/* Watches every folder of the tree (again: folders come and go with
 * sessions, and a folder removed by the user is made again). */
static int watch_dirs(struct watcher *w) {
  struct strlist dirs = {0};
  int rc = folder_dirs(w->f, &dirs);
  for (size_t i = 0; i < dirs.n && !rc; i++) {
    char *path = *dirs.v[i]
                     ? xasprintf("%s/%s", fstate_dir(w->f->fs), dirs.v[i])
                     : xstrdup(fstate_dir(w->f->fs));
    int wd = inotify_add_watch(w->fd, path, EVENTS);
    if (wd < 0 && errno != ENOENT && errno != ENOTDIR) {
      fprintf(stderr, "taskctl: cannot watch %s: %s%s\n", path, strerror(errno),
              errno == ENOSPC ? " (raise fs.inotify.max_user_watches)" : "");
      rc = EXIT_FAIL;
    }
    free(path);
    if (wd < 0)
      continue;
    struct watch *known = watch_of(w, wd);
    if (known) {
      str_set(&known->dir, dirs.v[i]);
      continue;
    }
    XGROW(w->v, w->cap, w->n + 1);
    w->v[w->n].wd = wd;
    w->v[w->n++].dir = xstrdup(dirs.v[i]);
  }
  strlist_clear(&dirs);
  return rc;
}

static bool has(const struct strlist *l, const char *s) {
  for (size_t i = 0; i < l->n; i++)
    if (strcmp(l->v[i], s) == 0)
      return true;
  return false;
}

/* Reads every event queued: the paths they name go into batch; *all is
 * set when the queue overflowed or a folder came or went. */
static void read_events(struct watcher *w, struct strlist *batch, bool *all) {
  char buf[65536] __attribute__((aligned(__alignof__(struct inotify_event))));
  for (;;) {
    ssize_t len = read(w->fd, buf, sizeof buf);
    if (len <= 0)
      return;
    for (char *p = buf; p < buf + len;) {
      struct inotify_event *ev = (struct inotify_event *)p;
      p += sizeof *ev + ev->len;
      if (ev->mask & IN_Q_OVERFLOW) {
        *all = true;
        continue;
      }
      if (ev->mask & IN_IGNORED) {
        forget(w, ev->wd);
        continue;
      }
      struct watch *wt = watch_of(w, ev->wd);
      if (!wt)
        continue;
      if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF)) {
        *all = true;
        continue;
      }
      if (!ev->len)
        continue;
      if (ev->mask & IN_ISDIR) {
        /* A folder of the tree removed or renamed: written again. */
        if (ev->mask & (IN_DELETE | IN_MOVED_FROM))
          *all = true;
        continue;
      }
      /* A file made and not yet written: its close tells. */
      if ((ev->mask & EVENTS & ~IN_CREATE) == 0)
        continue;
      if (!*wt->dir && strcmp(ev->name, FSTATE_DIR) == 0)
        continue;
      char *path =
          *wt->dir ? xasprintf("%s/%s", wt->dir, ev->name) : xstrdup(ev->name);
      if (!has(batch, path))
        strlist_add(batch, path);
      free(path);
    }
  }
}

/* The waiting paths whose time has come. */
static void add_due(struct folder *f, struct strlist *batch) {
  int64_t now = folder_now_ns();
  for (size_t i = 0; i < f->waiting.n; i++) {
    struct fentry *e = fstate_get(f->fs, f->waiting.v[i]);
    if (e && e->due_ns && e->due_ns <= now && !has(batch, e->path))
      strlist_add(batch, e->path);
  }
}

int folder_watch(struct folder *f) {
  struct watcher w = {.f = f, .fd = -1};
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  int code = 0;
  int sfd = -1;
  if (sigprocmask(SIG_BLOCK, &stop, NULL) ||
      (sfd = signalfd(-1, &stop, SFD_CLOEXEC | SFD_NONBLOCK)) < 0 ||
      (w.fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) < 0) {
    fprintf(stderr, "taskctl: cannot watch %s: %s\n", fstate_dir(f->fs),
            strerror(errno));
    code = EXIT_FAIL;
    goto out;
  }
  f->watching = true;
  if ((code = watch_dirs(&w)))
    goto out;
  /* What happened while no one watched: removals are acted on at once. */
  f->watching = false;
  code = folder_pass(f, NULL);
  f->watching = true;
  if (code)
    goto out;
  /* Texts a killed run wrote and no manifest names. */
  fstate_gc(f->fs);
  printf("watching %s (database %s); stop with Ctrl-C or SIGTERM\n",
         fstate_dir(f->fs), fstate_db(f->fs));
  fflush(stdout);
  int64_t next_poll = folder_now_ns() + POLL_NS, retry = 0;
  bool stopping = false;
  while (!stopping) {
    int64_t now = folder_now_ns(), until = next_poll;
    int64_t due = folder_next_due(f);
    if (due && due < until)
      until = due;
    if (retry && retry < until)
      until = retry;
    int timeout = until > now ? (int)((until - now + 999999) / 1000000) : 0;
    struct pollfd pf[2] = {{.fd = w.fd, .events = POLLIN},
                           {.fd = sfd, .events = POLLIN}};
    if (poll(pf, 2, timeout) < 0 && errno != EINTR) {
      fprintf(stderr, "taskctl: poll: %s\n", strerror(errno));
      code = EXIT_FAIL;
      break;
    }
    if (pf[1].revents & POLLIN)
      stopping = true; /* after the events already queued are passed */
    struct strlist batch = {0};
    bool all = false;
    if (pf[0].revents & POLLIN)
      read_events(&w, &batch, &all);
    now = folder_now_ns();
    add_due(f, &batch);
    if (retry && now >= retry) {
      all = true;
      retry = 0;
    }
    bool passed = false;
    if (all || batch.n) {
      code = folder_pass(f, all ? NULL : &batch);
      passed = true;
    } else if (now >= next_poll) {
      next_poll = now + POLL_NS;
      if (store_poll(f->st)) {
        code = folder_refresh(f);
        passed = true;
      }
    }
    strlist_clear(&batch);
    if (code)
      break;
    if (passed) {
      if (f->failed && !retry)
        retry = folder_now_ns() + RETRY_NS;
      if ((code = watch_dirs(&w)))
        break;
    }
  }
out:
  for (size_t i = 0; i < w.n; i++)
    free(w.v[i].dir);
  free(w.v);
  if (w.fd >= 0)
    close(w.fd);
  if (sfd >= 0)
    close(sfd);
  return code;
}
