/* SPDX-License-Identifier: MIT */
/* folder_state.c: the manifest, the kept texts, the lock and the atomic
 * writes of a checkout's state folder. Knows nothing of the database. */
#include "folder_state.h"
#include "hmap.h"
#include "model.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#define MANIFEST_MAGIC "taskfs-checkout 1"
/* Beyond this many files written since the last commit, the whole file
 * system is synced at once instead of file by file. */
#define SYNC_EACH_MAX 16

struct fstate {
  char *dir;
  int dirfd;  /* the checkout */
  int sfd;    /* its state folder */
  int lockfd; /* flock()ed */
  char *db, *session;
  int64_t rev;
  struct hmap entries; /* path -> struct fentry */
  /* hash of a text -> how many entries name it (a size_t, malloc'd) */
  struct hmap refs;
  struct strlist dropped; /* texts no entry names since the commit */
  struct strlist written; /* files written since, relative to dirfd */
  size_t nwritten;        /* and how many (written stops at the max) */
  unsigned long tmp_seq;
  struct buf manifest; /* as last read or written: unchanged, not written */
};

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void fmark_of(const struct stat *st, struct fmark *m) {
  m->size = st->st_size;
  m->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
  m->ctime_ns = (int64_t)st->st_ctim.tv_sec * 1000000000 + st->st_ctim.tv_nsec;
  m->ino = st->st_ino;
}

bool fmark_eq(const struct fmark *a, const struct fmark *b) {
  return a->size == b->size && a->mtime_ns == b->mtime_ns &&
         a->ctime_ns == b->ctime_ns && a->ino == b->ino;
}

/* ---- escaping ---- */

static bool needs_escape(unsigned char c) {
  return c <= ' ' || c == '%' || c == 0x7f;
}

void fstate_escape(const char *s, struct buf *out) {
  if (!s) {
    buf_addc(out, '-');
    return;
  }
  const char *run = s;
  for (const char *p = s; *p; p++) {
    unsigned char c = (unsigned char)*p;
    if (!needs_escape(c) && !(p == s && c == '-'))
      continue;
    buf_add(out, run, (size_t)(p - run));
    static const char hex[] = "0123456789ABCDEF";
    char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
    buf_add(out, esc, 3);
    run = p + 1;
  }
  buf_adds(out, run);
}

static int hexval(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return -1;
}

bool fstate_unescape(const char *s, size_t n, char **out) {
  *out = NULL;
  if (n == 1 && s[0] == '-')
    return true;
  if (n == 0)
    return false;
  if (!memchr(s, '%', n)) {
    *out = xstrndup(s, n);
    return true;
  }
  struct buf b = BUF_INIT;
  for (size_t i = 0; i < n; i++) {
    if (s[i] != '%') {
      buf_addc(&b, s[i]);
      continue;
    }
    int hi = i + 2 < n ? hexval(s[i + 1]) : -1;
    int lo = i + 2 < n ? hexval(s[i + 2]) : -1;
    if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
      buf_release(&b);
      return false;
    }
    buf_addc(&b, (char)(hi * 16 + lo));
    i += 2;
  }
  *out = buf_detach(&b, NULL);
  return true;
}

/* ---- entries ---- */

static void entry_free(struct fentry *e) {
  free(e->path);
  free(e->what);
  free(e);
}

struct fentry *fstate_get(const struct fstate *s, const char *path) {
  return hmap_get(&s->entries, path);
}

static void ref_add(struct fstate *s, const char *hash) {
  if (!*hash)
    return;
  size_t *count = hmap_get(&s->refs, hash);
  if (!count) {
    count = xcalloc(1, sizeof *count);
    hmap_put(&s->refs, hash, count);
  }
  (*count)++;
}

static bool ref_named(struct fstate *s, const char *hash) {
  size_t *count = hmap_get(&s->refs, hash);
  return count && *count > 0;
}

static void ref_drop(struct fstate *s, const char *hash) {
  if (!*hash)
    return;
  size_t *count = hmap_get(&s->refs, hash);
  if (count && *count && --*count == 0)
    strlist_add(&s->dropped, hash);
}

struct fentry *fstate_put(struct fstate *s, const char *path) {
  struct fentry *e = fstate_get(s, path);
  if (e)
    return e;
  e = xcalloc(1, sizeof *e);
  e->path = xstrdup(path);
  e->type = FE_FILE;
  hmap_put(&s->entries, path, e);
  return e;
}

void fentry_set_what(struct fentry *e, const char *what) {
  str_set(&e->what, what);
}

void fstate_set_hash(struct fstate *s, struct fentry *e, const char *hash) {
  if (strcmp(e->hash, hash) == 0)
    return;
  if (e->type == FE_FILE)
    ref_drop(s, e->hash);
  snprintf(e->hash, sizeof e->hash, "%s", hash);
  if (e->type == FE_FILE)
    ref_add(s, e->hash);
}

void fstate_remove(struct fstate *s, const char *path) {
  struct fentry *e = hmap_del(&s->entries, path);
  if (!e)
    return;
  if (e->type == FE_FILE)
    ref_drop(s, e->hash);
  entry_free(e);
}

static int cmp_entry(const void *a, const void *b) {
  return strcmp((*(struct fentry *const *)a)->path,
                (*(struct fentry *const *)b)->path);
}

struct entries_out {
  struct fentry **v;
  size_t n;
};

static void collect_entry(void *ctx, void *value) {
  struct entries_out *o = ctx;
  o->v[o->n++] = value;
}

struct fentry **fstate_entries(const struct fstate *s, bool sorted, size_t *n) {
  struct entries_out o = {xcalloc(s->entries.count + 1, sizeof *o.v), 0};
  hmap_each(&s->entries, collect_entry, &o);
  struct fentry **v = o.v;
  size_t k = o.n;
  if (sorted)
    xsort(v, k, sizeof *v, cmp_entry);
  *n = k;
  return v;
}

size_t fstate_count(const struct fstate *s) { return s->entries.count; }

/* ---- accessors ---- */

int fstate_dirfd(const struct fstate *s) { return s->dirfd; }
const char *fstate_dir(const struct fstate *s) { return s->dir; }
const char *fstate_db(const struct fstate *s) { return s->db; }
void fstate_set_db(struct fstate *s, const char *db) { str_set(&s->db, db); }
const char *fstate_session(const struct fstate *s) { return s->session; }
int64_t fstate_rev(const struct fstate *s) { return s->rev; }
void fstate_set_rev(struct fstate *s, int64_t rev) { s->rev = rev; }

/* ---- small file helpers ---- */

static bool write_all(int fd, const char *p, size_t len) {
  while (len) {
    ssize_t w = write(fd, p, len);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0) {
      if (w == 0)
        errno = EIO;
      return false;
    }
    p += w;
    len -= (size_t)w;
  }
  return true;
}

int fstate_read_fd(int fd, size_t max, struct buf *out) {
  for (;;) {
    buf_grow(out, 65536);
    ssize_t r = read(fd, out->ptr + out->len, out->cap - out->len - 1);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0)
      return -errno;
    if (r == 0)
      return 0;
    out->len += (size_t)r;
    out->ptr[out->len] = '\0';
    if (out->len > max)
      return -EFBIG;
  }
}

static void fail(struct buf *err, int e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail(struct buf *err, int e, const char *fmt, ...) {
  if (!err)
    return;
  va_list ap;
  va_start(ap, fmt);
  buf_vprintf(err, fmt, ap);
  va_end(ap);
  if (e)
    buf_printf(err, ": %s", strerror(e));
}

/* Writes text to name in dfd through a temporary file and a rename,
 * synced, and syncs dfd: the file is whole or as it was. */
static int replace_synced(int dfd, const char *name, const char *text,
                          size_t len) {
  char *tmp = xasprintf("%s.tmp", name);
  int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int rc = 0;
  if (fd < 0) {
    rc = -errno;
    goto out;
  }
  if (!write_all(fd, text, len) || fsync(fd))
    rc = -errno;
  if (close(fd) && !rc)
    rc = -errno;
  if (!rc && renameat(dfd, tmp, dfd, name))
    rc = -errno;
  if (!rc && fsync(dfd))
    rc = -errno;
  if (rc)
    unlinkat(dfd, tmp, 0);
out:
  free(tmp);
  return rc;
}

/* Removes the files in folder name of dfd (not the folder). */
static void empty_dir(int dfd, const char *name) {
  int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d = fd < 0 ? NULL : fdopendir(fd);
  if (!d) {
    if (fd >= 0)
      close(fd);
    return;
  }
  struct dirent *de;
  while ((de = readdir(d)))
    if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
      unlinkat(dirfd(d), de->d_name, 0);
  closedir(d);
}

/* ---- the lock ---- */

static int take_lock(struct fstate *s, struct buf *err) {
  s->lockfd = openat(s->sfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (s->lockfd < 0) {
    int e = errno;
    fail(err, e, "cannot open %s/" FSTATE_DIR "/lock", s->dir);
    return -e;
  }
  if (flock(s->lockfd, LOCK_EX | LOCK_NB)) {
    int e = errno;
    if (e == EWOULDBLOCK) {
      struct buf who = BUF_INIT;
      fstate_read_fd(s->lockfd, 4096, &who);
      while (who.len && (who.ptr[who.len - 1] == '\n'))
        buf_truncate(&who, who.len - 1);
      fail(err, 0, "%s is being synced by another taskctl (%s)", s->dir,
           who.len ? who.ptr : "pid unknown");
      buf_release(&who);
      return -EBUSY;
    }
    fail(err, e, "cannot lock %s/" FSTATE_DIR "/lock", s->dir);
    return -e;
  }
  char line[64];
  int n = snprintf(line, sizeof line, "pid %ld\n", (long)getpid());
  if (ftruncate(s->lockfd, 0) == 0)
    (void)!pwrite(s->lockfd, line, (size_t)n, 0);
  return 0;
}

/* ---- opening ---- */

static struct fstate *state_new(const char *dir) {
  struct fstate *s = xcalloc(1, sizeof *s);
  s->dir = xstrdup(dir);
  s->dirfd = s->sfd = s->lockfd = -1;
  hmap_init(&s->entries);
  hmap_init(&s->refs);
  return s;
}

static void free_entry(void *ctx, void *value) {
  (void)ctx;
  entry_free(value);
}

static void free_ref(void *ctx, void *value) {
  (void)ctx;
  free(value);
}

void fstate_close(struct fstate *s) {
  if (!s)
    return;
  hmap_each(&s->entries, free_entry, NULL);
  hmap_release(&s->entries);
  hmap_each(&s->refs, free_ref, NULL);
  hmap_release(&s->refs);
  strlist_clear(&s->dropped);
  strlist_clear(&s->written);
  buf_release(&s->manifest);
  if (s->lockfd >= 0)
    close(s->lockfd); /* releases the lock */
  if (s->sfd >= 0)
    close(s->sfd);
  if (s->dirfd >= 0)
    close(s->dirfd);
  free(s->db);
  free(s->session);
  free(s->dir);
  free(s);
}

int fstate_create(const char *dir, const char *db_path, const char *session,
                  struct fstate **out, struct buf *err) {
  struct fstate *s = state_new(dir);
  *out = NULL;
  int rc = 0;
  s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (s->dirfd < 0) {
    rc = -errno;
    fail(err, -rc, "cannot open folder %s", dir);
    goto fail;
  }
  if (mkdirat(s->dirfd, FSTATE_DIR, 0755)) {
    rc = -errno;
    if (rc == -EEXIST)
      fail(err, 0, "%s is already a checkout (it has " FSTATE_DIR "/)", dir);
    else
      fail(err, -rc, "cannot make %s/" FSTATE_DIR, dir);
    goto fail;
  }
  s->sfd = openat(s->dirfd, FSTATE_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (s->sfd < 0 || (mkdirat(s->sfd, "tmp", 0700) && errno != EEXIST) ||
      (mkdirat(s->sfd, "texts", 0755) && errno != EEXIST)) {
    rc = -errno;
    fail(err, -rc, "cannot make %s/" FSTATE_DIR, dir);
    goto fail;
  }
  static const char ignore[] =
      "# The state of 'taskctl sync': never commit it.\n*\n";
  if ((rc = replace_synced(s->sfd, ".gitignore", ignore, sizeof ignore - 1))) {
    fail(err, -rc, "cannot write %s/" FSTATE_DIR "/.gitignore", dir);
    goto fail;
  }
  if ((rc = take_lock(s, err)))
    goto fail;
  s->db = xstrdup(db_path);
  s->session = xstrdup(session);
  *out = s;
  return 0;
fail:
  fstate_close(s);
  return rc;
}

/* Splits line into space-separated fields (at most max); returns how
 * many. */
static size_t fields(char *line, char **f, size_t *len, size_t max) {
  size_t n = 0;
  char *p = line;
  while (*p && n < max) {
    char *sp = strchr(p, ' ');
    f[n] = p;
    len[n] = sp ? (size_t)(sp - p) : strlen(p);
    n++;
    if (!sp)
      break;
    p = sp + 1;
  }
  return n;
}

static bool parse_i64(const char *s, size_t n, int64_t *out) {
  bool neg = n && s[0] == '-';
  size_t i = neg;
  if (i == n || n - i > 19)
    return false;
  uint64_t v = 0;
  for (; i < n; i++) {
    if (s[i] < '0' || s[i] > '9')
      return false;
    v = v * 10 + (uint64_t)(s[i] - '0');
  }
  if (v > (uint64_t)INT64_MAX)
    return false;
  *out = neg ? -(int64_t)v : (int64_t)v;
  return true;
}

static bool is_hash(const char *s, size_t n) {
  if (n != SHA256_HEX - 1)
    return false;
  for (size_t i = 0; i < n; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
      return false;
  return true;
}

/* One "F" or "P" line of the manifest. */
static bool load_entry(struct fstate *s, char *line) {
  char *f[12];
  size_t len[12];
  size_t n = fields(line, f, len, 12);
  bool file = n == 10 && len[0] == 1 && f[0][0] == 'F';
  bool plain = n == 7 && len[0] == 1 && f[0][0] == 'P';
  if (!file && !plain)
    return false;
  char *path = NULL, *what = NULL;
  size_t i = 1;
  if (!fstate_unescape(f[i], len[i], &path) || !path)
    goto bad;
  i++;
  if (file && !fstate_unescape(f[i], len[i], &what))
    goto bad;
  i += file;
  int64_t rev = 0, size, mtime, ctime, ino;
  if (file && !parse_i64(f[i], len[i], &rev))
    goto bad;
  i += file;
  const char *hash = f[i];
  size_t hlen = len[i++];
  if (!(hlen == 1 && hash[0] == '-') && !is_hash(hash, hlen))
    goto bad;
  unsigned flags = 0;
  if (file) {
    if (len[i] != 1 || (f[i][0] != 'r' && f[i][0] != '-'))
      goto bad;
    flags = f[i++][0] == 'r' ? FE_RACY : 0;
  }
  if (!parse_i64(f[i], len[i], &size) ||
      !parse_i64(f[i + 1], len[i + 1], &mtime) ||
      !parse_i64(f[i + 2], len[i + 2], &ctime) ||
      !parse_i64(f[i + 3], len[i + 3], &ino) || fstate_get(s, path))
    goto bad;
  struct fentry *e = fstate_put(s, path);
  e->type = file ? FE_FILE : FE_PLAIN;
  e->flags = flags;
  e->what = what;
  e->rev = rev;
  if (hlen != 1) {
    char h[SHA256_HEX];
    memcpy(h, hash, hlen);
    h[hlen] = '\0';
    fstate_set_hash(s, e, h);
  }
  e->mark = (struct fmark){size, mtime, ctime, (uint64_t)ino};
  free(path);
  return true;
bad:
  free(path);
  free(what);
  return false;
}

static int load(struct fstate *s, struct buf *err) {
  int fd = openat(s->sfd, "state", O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    fail(err, e, "cannot read %s/" FSTATE_DIR "/state", s->dir);
    return -e;
  }
  struct buf text = BUF_INIT;
  int rc = fstate_read_fd(fd, SIZE_MAX / 2, &text);
  close(fd);
  if (rc) {
    fail(err, -rc, "cannot read %s/" FSTATE_DIR "/state", s->dir);
    buf_release(&text);
    return rc;
  }
  int line = 0;
  size_t count = 0;
  bool ended = false;
  char *p = text.ptr;
  while (*p && !ended) {
    char *nl = strchr(p, '\n');
    if (!nl)
      break;
    *nl = '\0';
    line++;
    char *f[3];
    size_t len[3];
    size_t n = fields(p, f, len, 3);
    bool ok = true;
    if (line == 1) {
      ok = strcmp(p, MANIFEST_MAGIC) == 0;
    } else if (n == 2 && len[0] == 8 && strncmp(f[0], "database", 8) == 0) {
      free(s->db);
      ok = fstate_unescape(f[1], len[1], &s->db) && s->db;
    } else if (n == 2 && len[0] == 7 && strncmp(f[0], "session", 7) == 0) {
      free(s->session);
      ok = fstate_unescape(f[1], len[1], &s->session);
    } else if (n == 2 && len[0] == 8 && strncmp(f[0], "revision", 8) == 0) {
      ok = parse_i64(f[1], len[1], &s->rev);
    } else if (n == 2 && len[0] == 3 && strncmp(f[0], "end", 3) == 0) {
      int64_t want;
      ok = parse_i64(f[1], len[1], &want) && (size_t)want == count;
      ended = ok;
    } else {
      ok = load_entry(s, p);
      count++;
    }
    if (!ok) {
      fail(err, 0, "%s/" FSTATE_DIR "/state:%d: not a line of a manifest",
           s->dir, line);
      buf_release(&text);
      return -EINVAL;
    }
    p = nl + 1;
  }
  if (!ended || !s->db) {
    buf_release(&text);
    fail(err, 0, "%s/" FSTATE_DIR "/state is cut short", s->dir);
    return -EINVAL;
  }
  /* The lines were cut at their ends: mend them to compare with. */
  for (size_t i = 0; i < text.len; i++)
    if (text.ptr[i] == '\0')
      text.ptr[i] = '\n';
  s->manifest = text;
  return 0;
}

int fstate_open(const char *dir, struct fstate **out, struct buf *err) {
  struct fstate *s = state_new(dir);
  *out = NULL;
  int rc = 0;
  s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (s->dirfd < 0) {
    rc = -errno;
    fail(err, -rc, "cannot open folder %s", dir);
    goto fail;
  }
  s->sfd = openat(s->dirfd, FSTATE_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (s->sfd < 0) {
    rc = -errno;
    if (rc == -ENOENT)
      fail(err, 0,
           "%s is not a checkout (it has no " FSTATE_DIR
           "/); make one with 'taskctl checkout %s'",
           dir, dir);
    else
      fail(err, -rc, "cannot open %s/" FSTATE_DIR, dir);
    goto fail;
  }
  if ((rc = take_lock(s, err)))
    goto fail;
  if ((mkdirat(s->sfd, "tmp", 0700) && errno != EEXIST) ||
      (mkdirat(s->sfd, "texts", 0755) && errno != EEXIST)) {
    rc = -errno;
    fail(err, -rc, "cannot make the folders of %s/" FSTATE_DIR, dir);
    goto fail;
  }
  /* Temporary files of a run that was killed: holding the lock, no one
   * else writes them. */
  empty_dir(s->sfd, "tmp");
  unlinkat(s->sfd, "state.tmp", 0);
  unlinkat(s->sfd, "intent.tmp", 0);
  if ((rc = load(s, err)))
    goto fail;
  *out = s;
  return 0;
fail:
  fstate_close(s);
  return rc;
}

void fstate_destroy(struct fstate *s) {
  int fd = openat(s->sfd, "texts", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d = fd < 0 ? NULL : fdopendir(fd);
  if (d) {
    struct dirent *de;
    while ((de = readdir(d)))
      if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
        empty_dir(dirfd(d), de->d_name);
        unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR);
      }
    closedir(d);
  } else if (fd >= 0) {
    close(fd);
  }
  empty_dir(s->sfd, "tmp");
  unlinkat(s->sfd, "texts", AT_REMOVEDIR);
  unlinkat(s->sfd, "tmp", AT_REMOVEDIR);
  static const char *const files[] = {
      "state",  "state.tmp",  ".gitignore", ".gitignore.tmp",
      "intent", "intent.tmp", "lock"};
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
    unlinkat(s->sfd, files[i], 0);
  unlinkat(s->dirfd, FSTATE_DIR, AT_REMOVEDIR);
}

/* ---- the intent of a pass ---- */

int fstate_intent_put(struct fstate *s, const char *text, size_t len) {
  return replace_synced(s->sfd, "intent", text, len);
}

int fstate_intent_get(const struct fstate *s, struct buf *out) {
  int fd = openat(s->sfd, "intent", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  int rc = fstate_read_fd(fd, 64u << 20, out);
  close(fd);
  return rc;
}

void fstate_intent_clear(struct fstate *s) { unlinkat(s->sfd, "intent", 0); }

/* ---- texts ---- */

static void text_name(const char *hash, char name[SHA256_HEX + 8]) {
  snprintf(name, SHA256_HEX + 8, "texts/%.2s/%s", hash, hash + 2);
}

static void note_written(struct fstate *s, const char *path) {
  if (++s->nwritten <= SYNC_EACH_MAX)
    strlist_add(&s->written, path);
}

int fstate_text_put(struct fstate *s, const char *text, size_t len,
                    char hash[SHA256_HEX]) {
  sha256_hex(text, len, hash);
  char name[SHA256_HEX + 8];
  text_name(hash, name);
  struct stat st;
  if (fstatat(s->sfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
      st.st_size == (off_t)len)
    return 0;
  char tmp[64];
  snprintf(tmp, sizeof tmp, "tmp/t%ld-%lu", (long)getpid(), ++s->tmp_seq);
  int fd = openat(s->sfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return -errno;
  int rc = write_all(fd, text, len) ? 0 : -errno;
  if (close(fd) && !rc)
    rc = -errno;
  if (!rc && renameat(s->sfd, tmp, s->sfd, name)) {
    rc = -errno;
    if (rc == -ENOENT) {
      /* The first text of its folder: made on demand. */
      name[8] = '\0';
      rc = mkdirat(s->sfd, name, 0755) && errno != EEXIST ? -errno : 0;
      name[8] = '/';
      if (!rc && renameat(s->sfd, tmp, s->sfd, name))
        rc = -errno;
    }
  }
  if (rc) {
    unlinkat(s->sfd, tmp, 0);
    return rc;
  }
  char *rel = xasprintf(FSTATE_DIR "/%s", name);
  note_written(s, rel);
  free(rel);
  return 0;
}

int fstate_text_get(const struct fstate *s, const char *hash, struct buf *out) {
  char name[SHA256_HEX + 8];
  if (!is_hash(hash, strlen(hash)))
    return -ENOENT;
  text_name(hash, name);
  int fd = openat(s->sfd, name, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  int rc = fstate_read_fd(fd, SIZE_MAX / 2, out);
  close(fd);
  return rc;
}

/* ---- files of the checkout ---- */

int fstate_mkdirs(const struct fstate *s, const char *path) {
  char *p = xstrdup(path);
  int rc = 0;
  for (char *slash = strchr(p, '/'); slash; slash = strchr(slash + 1, '/')) {
    *slash = '\0';
    if (mkdirat(s->dirfd, p, 0755) && errno != EEXIST) {
      rc = -errno;
      break;
    }
    *slash = '/';
  }
  free(p);
  return rc;
}

int fstate_write(struct fstate *s, const char *path, const char *text,
                 size_t len, mode_t mode, int64_t mtime_ns,
                 struct fmark *mark) {
  char tmp[64];
  snprintf(tmp, sizeof tmp, FSTATE_DIR "/tmp/w%ld-%lu", (long)getpid(),
           ++s->tmp_seq);
  int fd = openat(s->dirfd, tmp,
                  O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    return -errno;
  int rc = write_all(fd, text, len) ? 0 : -errno;
  if (!rc && fchmod(fd, mode))
    rc = -errno;
  if (!rc && mtime_ns > 0) {
    struct timespec ts[2] = {{0, UTIME_OMIT},
                             {mtime_ns / 1000000000, mtime_ns % 1000000000}};
    if (futimens(fd, ts))
      rc = -errno;
  }
  if (close(fd) && !rc)
    rc = -errno;
  if (!rc && renameat(s->dirfd, tmp, s->dirfd, path)) {
    rc = -errno;
    /* Its folders are made on demand. */
    if (rc == -ENOENT && (rc = fstate_mkdirs(s, path)) == 0 &&
        renameat(s->dirfd, tmp, s->dirfd, path))
      rc = -errno;
  }
  struct stat st;
  if (!rc && fstatat(s->dirfd, path, &st, AT_SYMLINK_NOFOLLOW))
    rc = -errno;
  if (rc) {
    unlinkat(s->dirfd, tmp, 0);
    return rc;
  }
  fmark_of(&st, mark);
  note_written(s, path);
  return 0;
}

int fstate_read(const struct fstate *s, const char *path, size_t max,
                struct buf *out, struct stat *st) {
  int fd = openat(s->dirfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  int rc = 0;
  if (fstat(fd, st))
    rc = -errno;
  else if (!S_ISREG(st->st_mode))
    rc = S_ISDIR(st->st_mode) ? -EISDIR : -EINVAL;
  else if ((size_t)st->st_size > max)
    rc = -EFBIG;
  if (!rc)
    rc = fstate_read_fd(fd, max, out);
  /* The stat that goes with the bytes read: taken after reading, a write
   * in between shows as a change at the next look. */
  if (!rc && fstat(fd, st))
    rc = -errno;
  close(fd);
  return rc;
}

/* ---- committing ---- */

/* Syncs the files written since the last commit, and their folders. */
static int sync_written(struct fstate *s) {
  int rc = 0;
  if (s->nwritten > SYNC_EACH_MAX) {
    if (syncfs(s->dirfd))
      rc = -errno;
  } else {
    for (size_t i = 0; i < s->written.n && !rc; i++) {
      const char *path = s->written.v[i];
      int fd = openat(s->dirfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0) {
        if (errno != ENOENT) /* replaced since: its successor is listed */
          rc = -errno;
        continue;
      }
      if (fsync(fd))
        rc = -errno;
      close(fd);
      const char *slash = strrchr(path, '/');
      char *dir = slash ? xstrndup(path, (size_t)(slash - path)) : xstrdup(".");
      fd = openat(s->dirfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (fd >= 0) {
        if (fsync(fd) && !rc)
          rc = -errno;
        close(fd);
      }
      free(dir);
    }
  }
  strlist_clear(&s->written);
  s->nwritten = 0;
  return rc;
}

/* Appends " N" (the manifest is written for 100,000 files at a time:
 * no printf). */
static void add_num(struct buf *b, int64_t v) {
  char digits[24];
  int n = 0;
  uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;
  do {
    digits[n++] = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  buf_grow(b, (size_t)n + 2);
  b->ptr[b->len++] = ' ';
  if (v < 0)
    b->ptr[b->len++] = '-';
  while (n)
    b->ptr[b->len++] = digits[--n];
  b->ptr[b->len] = '\0';
}

static void add_entry_line(struct buf *b, const struct fentry *e) {
  buf_adds(b, e->type == FE_FILE ? "F " : "P ");
  fstate_escape(e->path, b);
  if (e->type == FE_FILE) {
    buf_addc(b, ' ');
    fstate_escape(e->what, b);
    add_num(b, e->rev);
  }
  buf_addc(b, ' ');
  buf_adds(b, *e->hash ? e->hash : "-");
  if (e->type == FE_FILE)
    buf_adds(b, e->flags & FE_RACY ? " r" : " -");
  add_num(b, e->mark.size);
  add_num(b, e->mark.mtime_ns);
  add_num(b, e->mark.ctime_ns);
  add_num(b, (int64_t)e->mark.ino);
  buf_addc(b, '\n');
}

int fstate_commit(struct fstate *s, struct buf *err) {
  int rc = sync_written(s);
  if (rc) {
    fail(err, -rc, "cannot sync the files written in %s", s->dir);
    return rc;
  }
  struct buf b = BUF_INIT;
  buf_adds(&b, MANIFEST_MAGIC "\ndatabase ");
  fstate_escape(s->db, &b);
  buf_adds(&b, "\nsession ");
  fstate_escape(s->session, &b);
  buf_printf(&b, "\nrevision %" PRId64 "\n", s->rev);
  /* A file whose time is this close to now could be written again within
   * the same timestamp tick without its stat changing. */
  int64_t racy_after = now_ns() - 1000000000;
  size_t n;
  struct fentry **v = fstate_entries(s, true, &n);
  buf_grow(&b, s->manifest.len + 4096);
  for (size_t i = 0; i < n; i++) {
    if (v[i]->mark.mtime_ns >= racy_after)
      v[i]->flags |= FE_RACY;
    add_entry_line(&b, v[i]);
  }
  free(v);
  buf_printf(&b, "end %zu\n", n);
  if (b.len != s->manifest.len || memcmp(b.ptr, s->manifest.ptr, b.len)) {
    rc = replace_synced(s->sfd, "state", b.ptr, b.len);
    if (rc) {
      buf_release(&b);
      fail(err, -rc, "cannot write %s/" FSTATE_DIR "/state", s->dir);
      return rc;
    }
    buf_release(&s->manifest);
    s->manifest = b;
  } else {
    buf_release(&b);
  }
  for (size_t i = 0; i < s->dropped.n; i++) {
    if (ref_named(s, s->dropped.v[i]))
      continue;
    char name[SHA256_HEX + 8];
    text_name(s->dropped.v[i], name);
    unlinkat(s->sfd, name, 0);
  }
  strlist_clear(&s->dropped);
  return 0;
}

void fstate_gc(struct fstate *s) {
  int fd = openat(s->sfd, "texts", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *top = fd < 0 ? NULL : fdopendir(fd);
  if (!top) {
    if (fd >= 0)
      close(fd);
    return;
  }
  struct dirent *de;
  while ((de = readdir(top))) {
    if (strlen(de->d_name) != 2)
      continue;
    int sub =
        openat(dirfd(top), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = sub < 0 ? NULL : fdopendir(sub);
    if (!d) {
      if (sub >= 0)
        close(sub);
      continue;
    }
    struct dirent *te;
    while ((te = readdir(d))) {
      char hash[SHA256_HEX];
      if (strlen(te->d_name) != SHA256_HEX - 3)
        continue;
      memcpy(hash, de->d_name, 2);
      memcpy(hash + 2, te->d_name, SHA256_HEX - 3);
      hash[SHA256_HEX - 1] = '\0';
      if (!ref_named(s, hash))
        unlinkat(dirfd(d), te->d_name, 0);
    }
    closedir(d);
  }
  closedir(top);
}
