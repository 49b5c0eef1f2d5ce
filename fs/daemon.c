/* SPDX-License-Identifier: MIT */
/* daemon.c: the background start, the log, fatal and stop signals of the
 * taskfs process. Knows nothing of the store or of the generated tree. */
#include "daemon.h"
#include "util.h"

#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

/* ---- the background start ---- */

int daemon_fork(int *ready) {
  int p[2];
  if (pipe2(p, O_CLOEXEC))
    return -1;
  pid_t pid = fork();
  if (pid < 0) {
    int e = errno;
    close(p[0]);
    close(p[1]);
    errno = e;
    return -1;
  }
  if (pid == 0) {
    close(p[0]);
    /* A session of its own: the terminal's hangup and Ctrl-C stay with
     * the shell that started taskfs. */
    setsid();
    *ready = p[1];
    return 0;
  }
  close(p[1]);
  char c;
  ssize_t r;
  do
    r = read(p[0], &c, 1);
  while (r < 0 && errno == EINTR);
  if (r == 1)
    _exit(0);
  int st = 0;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
    ;
  if (WIFSIGNALED(st)) {
    fprintf(stderr,
            "taskfs: the background process died of %s before it "
            "mounted\n",
            strsignal(WTERMSIG(st)));
    _exit(1);
  }
  _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 1);
}

/* ---- the log ---- */

#define LOG_MAX_BYTES (1 << 20)

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static enum fuse_log_level log_level = FUSE_LOG_INFO;
static char *log_path; /* absolute; NULL in the foreground */
static int log_fd = -1;
static bool background; /* stderr is the log file */
static bool use_syslog;

void daemon_log_level(enum fuse_log_level level) { log_level = level; }

int daemon_log_open(const char *path) {
  if (!path)
    return 0;
  char *abs;
  if (path[0] == '/') {
    abs = xstrdup(path);
  } else {
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd))
      return errno;
    abs = xasprintf("%s/%s", cwd, path);
  }
  int fd =
      open(abs, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
  if (fd < 0) {
    int e = errno;
    free(abs);
    return e;
  }
  free(log_path);
  log_path = abs;
  if (log_fd >= 0)
    close(log_fd);
  log_fd = fd;
  return 0;
}

/* A syslog daemon (or journald) listens on /dev/log. */
static bool syslog_running(void) {
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return false;
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  strcpy(a.sun_path, "/dev/log");
  bool yes = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
  close(fd);
  return yes;
}

void daemon_ready(int ready) {
  if (ready < 0)
    return;
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null >= 0) {
    dup2(null, STDIN_FILENO);
    dup2(null, STDOUT_FILENO);
    if (log_fd < 0)
      dup2(null, STDERR_FILENO);
    close(null);
  }
  pthread_mutex_lock(&log_lock);
  if (log_fd >= 0) {
    dup2(log_fd, STDERR_FILENO);
    close(log_fd);
    log_fd = -1;
    background = true;
  }
  use_syslog = syslog_running();
  if (use_syslog)
    openlog("taskfs", LOG_PID, LOG_DAEMON);
  pthread_mutex_unlock(&log_lock);
  if (chdir("/"))
    fuse_log(FUSE_LOG_WARNING,
             "taskfs: cannot leave the working directory: "
             "%s\n",
             strerror(errno));
  ssize_t w;
  do
    w = write(ready, "", 1);
  while (w < 0 && errno == EINTR);
  close(ready);
}

/* The log file would grow past its bound with len more bytes: it becomes
 * "<path>.1" (the previous one is dropped) and a new file takes its place
 * as stderr. Lock held. */
static void rotate(size_t len) {
  struct stat st;
  if (fstat(STDERR_FILENO, &st) || st.st_size == 0 ||
      (size_t)st.st_size + len <= LOG_MAX_BYTES)
    return;
  char *old = xasprintf("%s.1", log_path);
  if (rename(log_path, old) == 0) {
    int fd = open(log_path,
                  O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
    if (fd >= 0) {
      dup2(fd, STDERR_FILENO);
      close(fd);
    }
  }
  free(old);
}

void daemon_log(enum fuse_log_level level, const char *fmt, va_list ap) {
  if (level > log_level)
    return;
  static const char prefix[] = "taskfs: ";
  if (!background && !use_syslog) {
    vfprintf(stderr, fmt, ap);
    return;
  }
  if (strncmp(fmt, prefix, sizeof prefix - 1) == 0)
    fmt += sizeof prefix - 1;
  va_list copy;
  va_copy(copy, ap);
  if (background) {
    char stamp[32];
    struct timespec now;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    size_t n = strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
    snprintf(stamp + n, sizeof stamp - n, ".%03ldZ", now.tv_nsec / 1000000);
    char *msg = xvasprintf(fmt, ap);
    char *line = xasprintf("%s taskfs[%ld]: %s%s", stamp, (long)getpid(), msg,
                           *msg && msg[strlen(msg) - 1] == '\n' ? "" : "\n");
    size_t len = strlen(line);
    pthread_mutex_lock(&log_lock);
    rotate(len);
    for (size_t off = 0; off < len;) {
      ssize_t w = write(STDERR_FILENO, line + off, len - off);
      if (w <= 0 && errno != EINTR)
        break;
      if (w > 0)
        off += (size_t)w;
    }
    pthread_mutex_unlock(&log_lock);
    free(line);
    free(msg);
  }
  if (use_syslog)
    vsyslog((int)level, fmt, copy);
  va_end(copy);
}

/* ---- fatal signals ---- */

static __thread const char *trace_op;
static __thread char trace_detail[256];

void daemon_trace(const char *op, const char *detail) {
  trace_op = op;
  if (!detail) {
    trace_detail[0] = '\0';
    return;
  }
  size_t n = strlen(detail);
  if (n >= sizeof trace_detail)
    n = sizeof trace_detail - 1;
  memcpy(trace_detail, detail, n);
  trace_detail[n] = '\0';
}

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

#ifndef UNDER_ASAN
/* Async-signal-safe output: write(2) of a string, of a number. */
static void put(const char *s) {
  size_t len = strlen(s);
  while (len) {
    ssize_t w = write(STDERR_FILENO, s, len);
    if (w <= 0)
      return;
    s += w;
    len -= (size_t)w;
  }
}

static void put_long(long v) {
  char digits[24];
  int i = sizeof digits - 1;
  digits[i] = '\0';
  bool neg = v < 0;
  unsigned long u = neg ? 0UL - (unsigned long)v : (unsigned long)v;
  do
    digits[--i] = (char)('0' + u % 10);
  while ((u /= 10) && i > 1);
  if (neg)
    digits[--i] = '-';
  put(digits + i);
}

static const char *fatal_name(int sig) {
  switch (sig) {
  case SIGSEGV:
    return "SIGSEGV (invalid memory access)";
  case SIGBUS:
    return "SIGBUS (bus error)";
  case SIGILL:
    return "SIGILL (illegal instruction)";
  case SIGFPE:
    return "SIGFPE (arithmetic error)";
  case SIGABRT:
    return "SIGABRT (aborted)";
  }
  return "a fatal signal";
}

static void on_fatal(int sig) {
  put("taskfs[");
  put_long((long)getpid());
  put("]: fatal signal ");
  put(fatal_name(sig));
  if (trace_op) {
    put(" during ");
    put(trace_op);
    if (trace_detail[0]) {
      put(" of ");
      put(trace_detail);
    }
  }
  put(". The database keeps whole transactions only: a save that was not "
      "committed is not in it. Clear the mount point with 'fusermount3 -u' "
      "and mount again.\nBacktrace:\n");
  void *frames[64];
  int n = backtrace(frames, 64);
  backtrace_symbols_fd(frames, n, STDERR_FILENO);
  signal(sig, SIG_DFL);
  raise(sig);
}
#endif

void daemon_fatal_handlers(void) {
#ifndef UNDER_ASAN
  /* backtrace() loads its unwinder at the first call: not in a signal
   * handler. */
  void *frame;
  backtrace(&frame, 1);
  static char altstack[64 * 1024];
  stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack};
  sigaltstack(&ss, NULL);
  struct sigaction sa = {.sa_handler = on_fatal,
                         .sa_flags = SA_RESETHAND | SA_ONSTACK};
  sigemptyset(&sa.sa_mask);
  static const int sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
  for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++)
    sigaction(sigs[i], &sa, NULL);
#endif
}

/* ---- stop signals ---- */

static pthread_mutex_t stop_lock = PTHREAD_MUTEX_INITIALIZER;
static struct fuse_session *stop_se; /* protected by stop_lock */
static int stop_sig;                 /* protected by stop_lock */
static bool loop_done;               /* protected by stop_lock */
static pthread_t main_thread;

static void stop_set(sigset_t *s) {
  sigemptyset(s);
  sigaddset(s, SIGTERM);
  sigaddset(s, SIGINT);
  sigaddset(s, SIGHUP);
  sigaddset(s, SIGQUIT);
}

static void interrupted(int sig) {}

void daemon_stop_block(void) {
  sigset_t s;
  stop_set(&s);
  pthread_sigmask(SIG_BLOCK, &s, NULL);
  signal(SIGPIPE, SIG_IGN);
  /* SIGUSR1 interrupts the main thread's wait in the session loop
   * (without SA_RESTART, the wait returns EINTR and sees the exit). */
  struct sigaction sa = {.sa_handler = interrupted};
  sigemptyset(&sa.sa_mask);
  sigaction(SIGUSR1, &sa, NULL);
  main_thread = pthread_self();
}

/*
 * Waits for a stop signal, ends the session, and wakes the session loop
 * until it returns: libfuse's loop waits in a thread that a signal sent
 * to the process may not reach (then only a new request would wake it,
 * and an idle mount with a file open never sends one).
 */
static void *stopper_main(void *arg) {
  sigset_t s;
  stop_set(&s);
  for (;;) {
    int sig;
    if (sigwait(&s, &sig))
      continue;
    pthread_mutex_lock(&stop_lock);
    bool first = stop_sig == 0;
    if (first)
      stop_sig = sig;
    if (stop_se)
      fuse_session_exit(stop_se);
    pthread_mutex_unlock(&stop_lock);
    if (!first)
      continue;
    for (;;) {
      pthread_mutex_lock(&stop_lock);
      bool done = loop_done;
      pthread_mutex_unlock(&stop_lock);
      if (done)
        break;
      pthread_kill(main_thread, SIGUSR1);
      struct timespec ts = {0, 50 * 1000 * 1000};
      nanosleep(&ts, NULL);
    }
  }
  return NULL;
}

int daemon_stop_watch(struct fuse_session *se) {
  pthread_mutex_lock(&stop_lock);
  stop_se = se;
  pthread_mutex_unlock(&stop_lock);
  pthread_t t;
  int rc = pthread_create(&t, NULL, stopper_main, NULL);
  if (rc == 0)
    pthread_detach(t);
  return rc;
}

int daemon_stop_end(void) {
  pthread_mutex_lock(&stop_lock);
  loop_done = true;
  stop_se = NULL;
  int sig = stop_sig;
  pthread_mutex_unlock(&stop_lock);
  return sig;
}
