/* SPDX-License-Identifier: MIT */
/* daemon.h: how the taskfs process lives: started in the background (a
 * fork before anything of the database is opened), where its messages go
 * (stderr, a bounded log file, syslog), what a fatal signal leaves behind,
 * and how a stop signal ends the session loop. Knows nothing of the store.
 */
#ifndef TASKFS_DAEMON_H
#define TASKFS_DAEMON_H

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>
#include <stdbool.h>

/*
 * Starts the background process. The caller forks here, before it opens
 * the database: SQLite's POSIX locks belong to the process that took them,
 * and a connection carried across fork() keeps none (another program
 * then checkpoints and deletes the write-ahead log the daemon is still
 * writing). The parent never returns: it waits until the child calls
 * daemon_ready() and exits 0, or exits with the child's exit status when
 * the child fails first (its messages reach the terminal, since its
 * stderr is still the caller's). The child returns 0 with *ready set, in
 * a session of its own; -1 (errno set) when fork or pipe failed.
 */
int daemon_fork(int *ready);

/*
 * Messages go to stderr until daemon_ready(). log_path is the log file of
 * the background process (NULL for the foreground); it is opened here so
 * that a path that cannot be written is a usage error, not a silent loss.
 * Returns 0, or an errno.
 */
int daemon_log_open(const char *log_path);

/* The background process is mounted and serving: stdin and stdout become
 * /dev/null, stderr the log file (so that a C library or sanitizer
 * message lands there too), the working directory "/", and the waiting
 * parent exits 0. Does nothing when ready is -1 (the foreground). */
void daemon_ready(int ready);

/* Only messages at or above level are written. */
void daemon_log_level(enum fuse_log_level level);
/* The fuse_log() sink: stderr in the foreground; in the background the
 * log file (one line per message, with time and pid, rotated to
 * "<path>.1" past 1 MiB), and syslog as well when one is running. */
void daemon_log(enum fuse_log_level level, const char *fmt, va_list ap);

/*
 * Fatal signals (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT) write the
 * signal, the operation the thread was doing (daemon_trace) and a
 * backtrace to stderr (the log file in the background) before the
 * process dies of the signal. Not installed under AddressSanitizer, which
 * reports these itself.
 */
void daemon_fatal_handlers(void);

/* What this thread is doing, for the report of a fatal signal: op is a
 * string literal ("lookup", "save"); detail (copied, may be NULL) names
 * the file. */
void daemon_trace(const char *op, const char *detail);

/*
 * Stop signals (SIGTERM, SIGINT, SIGHUP, SIGQUIT) are taken by one thread
 * of their own, which ends the session loop of se. daemon_stop_block()
 * must run before any thread is started, so that every thread inherits
 * the blocked set; SIGPIPE is ignored. daemon_stop_watch() starts the
 * thread; daemon_stop_end() tells it the loop has returned and gives the
 * signal that ended it (0: none, the file system was unmounted).
 */
void daemon_stop_block(void);
int daemon_stop_watch(struct fuse_session *se);
int daemon_stop_end(void);

#endif
