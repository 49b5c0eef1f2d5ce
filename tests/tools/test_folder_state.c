/* SPDX-License-Identifier: MIT */
/* test_folder_state.c: the pure parts of a folder checkout: SHA-256
 * against the standard's test vectors, the manifest's escaping, and the
 * state folder written, read back, locked, and kept consistent. */
#include "folder_state.h"
#include "harness.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static void test_sha256(void) {
  char hex[SHA256_HEX];
  sha256_hex("", 0, hex);
  STR_EQ(hex,
         "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  sha256_hex("abc", 3, hex);
  STR_EQ(hex,
         "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  sha256_hex(m, strlen(m), hex);
  STR_EQ(hex,
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  /* A million 'a's, fed in uneven pieces: block boundaries and the
   * padding of a length that is not a whole block. */
  struct sha256 s;
  unsigned char h[32];
  char chunk[997];
  memset(chunk, 'a', sizeof chunk);
  sha256_init(&s);
  size_t left = 1000000;
  while (left) {
    size_t n = left < sizeof chunk ? left : sizeof chunk;
    sha256_update(&s, chunk, n);
    left -= n;
  }
  sha256_final(&s, h);
  char got[65];
  for (int i = 0; i < 32; i++)
    snprintf(got + 2 * i, 3, "%02x", h[i]);
  STR_EQ(got,
         "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  /* 55, 56 and 64 bytes: the lengths around the padding's edge. */
  char a64[64];
  memset(a64, 'a', sizeof a64);
  sha256_hex(a64, 55, hex);
  STR_EQ(hex,
         "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
  sha256_hex(a64, 56, hex);
  STR_EQ(hex,
         "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
  sha256_hex(a64, 64, hex);
  STR_EQ(hex,
         "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
}

static void roundtrip(const char *s) {
  struct buf b = BUF_INIT;
  fstate_escape(s, &b);
  OK(!strchr(b.ptr, ' ') && !strchr(b.ptr, '\n'), "escaped '%s'", b.ptr);
  char *back = NULL;
  OK(fstate_unescape(b.ptr, b.len, &back), "unescape '%s'", b.ptr);
  OK(str_eq(back, s), "'%s' came back as '%s'", s ? s : "(null)",
     back ? back : "(null)");
  free(back);
  buf_release(&b);
}

static void test_escape(void) {
  roundtrip(NULL);
  roundtrip("-");
  roundtrip("--x");
  roundtrip("plain/path.md");
  roundtrip("a b\tc\nd%e\x7f");
  roundtrip("caf\xc3\xa9 \xf0\x9f\x93\x9d.md");
  char *out;
  OK(!fstate_unescape("%4", 2, &out), "a cut escape");
  OK(!fstate_unescape("%zz", 3, &out), "a bad escape");
  OK(!fstate_unescape("%00", 3, &out), "NUL is no byte of a name");
  OK(!fstate_unescape("", 0, &out), "empty");
}

static char *temp_dir(void) {
  char tmpl[] = "/tmp/test_folder_state.XXXXXX";
  char *d = mkdtemp(tmpl);
  OK(d != NULL, "mkdtemp: %s", strerror(errno));
  return xstrdup(d);
}

static void rm_rf(const char *path) {
  char *cmd = xasprintf("rm -rf '%s'", path);
  OK(system(cmd) == 0, "%s", cmd);
  free(cmd);
}

static size_t count_texts(const char *dir) {
  char *cmd = xasprintf("find '%s/.taskfs/texts' -type f | wc -l", dir);
  FILE *p = popen(cmd, "r");
  size_t n = 0;
  if (p) {
    if (fscanf(p, "%zu", &n) != 1)
      n = (size_t)-1;
    pclose(p);
  }
  free(cmd);
  return n;
}

static void test_state(void) {
  char *dir = temp_dir();
  struct fstate *s;
  struct buf err = BUF_INIT;
  INT_EQ(fstate_create(dir, "/db/tasks.db", "s1", &s, &err), 0);
  OK(s != NULL, "%s", err.ptr);
  if (!s)
    return;
  struct stat st;
  char *ignore = xasprintf("%s/.taskfs/.gitignore", dir);
  OK(stat(ignore, &st) == 0, "the state folder is kept out of git");
  free(ignore);

  /* A second checkout of the same folder is refused. */
  struct fstate *again;
  buf_truncate(&err, 0);
  INT_EQ(fstate_create(dir, "/db/tasks.db", NULL, &again, &err), -EEXIST);

  /* Files written through the state: atomically, with the mode and
   * time asked for, their folders made. */
  struct fmark mark;
  INT_EQ(fstate_write(s, "s1/task_groups/a.md", "hello\n", 6, 0444,
                      1700000000123456789LL, &mark),
         0);
  char *path = xasprintf("%s/s1/task_groups/a.md", dir);
  OK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0444, "mode %o",
     st.st_mode & 07777);
  INT_EQ(st.st_mtim.tv_sec, 1700000000);
  INT_EQ(st.st_mtim.tv_nsec, 123456789);
  INT_EQ(mark.size, 6);
  free(path);

  char hash[SHA256_HEX];
  INT_EQ(fstate_text_put(s, "hello\n", 6, hash), 0);
  struct fentry *e = fstate_put(s, "s1/task_groups/a.md");
  fentry_set_what(e, "group active decisions - s1 g1");
  e->rev = 42;
  e->mark = mark;
  fstate_set_hash(s, e, hash);
  struct fentry *p = fstate_put(s, "s1/task_groups/notes copy.md");
  p->type = FE_PLAIN;
  fstate_set_hash(s, p, hash);
  p->mark = (struct fmark){1, 2, 3, 4};
  /* Many entries: the table grows. */
  for (int i = 0; i < 3000; i++) {
    char name[64];
    snprintf(name, sizeof name, "s1/tasks/active/t%d.md", i);
    struct fentry *t = fstate_put(s, name);
    fentry_set_what(t, "task active decisions - s1 t");
    t->rev = i;
  }
  INT_EQ(fstate_count(s), 3002);
  fstate_set_rev(s, 99);
  buf_truncate(&err, 0);
  INT_EQ(fstate_commit(s, &err), 0);
  OK(!(e->flags & FE_RACY), "a file dated long ago is not racy");
  struct fmark now;
  INT_EQ(fstate_write(s, "s1/notes/n.md", "n\n", 2, 0644, 0, &now), 0);
  struct fentry *fresh = fstate_put(s, "s1/notes/n.md");
  fresh->mark = now;
  buf_truncate(&err, 0);
  INT_EQ(fstate_commit(s, &err), 0);
  OK(fresh->flags & FE_RACY, "a file written just now is racy");
  fstate_close(s);

  /* Read back. */
  buf_truncate(&err, 0);
  INT_EQ(fstate_open(dir, &s, &err), 0);
  OK(s != NULL, "%s", err.ptr);
  if (!s)
    return;
  STR_EQ(fstate_db(s), "/db/tasks.db");
  STR_EQ(fstate_session(s), "s1");
  INT_EQ(fstate_rev(s), 99);
  INT_EQ(fstate_count(s), 3003);
  e = fstate_get(s, "s1/task_groups/a.md");
  OK(e && e->type == FE_FILE && e->rev == 42, "the file entry");
  if (e) {
    STR_EQ(e->what, "group active decisions - s1 g1");
    STR_EQ(e->hash, hash);
    OK(fmark_eq(&e->mark, &mark), "its mark");
    OK(!(e->flags & FE_RACY), "not racy");
    struct fentry *back = fstate_get(s, "s1/notes/n.md");
    OK(back && (back->flags & FE_RACY), "racy after reading back");
  }
  p = fstate_get(s, "s1/task_groups/notes copy.md");
  OK(p && p->type == FE_PLAIN && p->mark.ino == 4, "the plain entry");
  struct fentry *t = fstate_get(s, "s1/tasks/active/t2999.md");
  OK(t && t->rev == 2999, "the last task");
  struct buf text = BUF_INIT;
  INT_EQ(fstate_text_get(s, hash, &text), 0);
  STR_EQ(text.ptr, "hello\n");
  buf_release(&text);
  size_t n;
  struct fentry **v = fstate_entries(s, true, &n);
  INT_EQ(n, 3003);
  for (size_t i = 1; i < n; i++)
    OK(strcmp(v[i - 1]->path, v[i]->path) < 0, "sorted");
  free(v);

  /* Locked while open. */
  struct fstate *other;
  buf_truncate(&err, 0);
  INT_EQ(fstate_open(dir, &other, &err), -EBUSY);
  OK(strstr(err.ptr, "pid") != NULL, "names the holder: %s", err.ptr);

  /* A text no entry names any more goes at the commit; one still named
   * by the plain entry is not counted (plain entries keep no text). */
  INT_EQ(count_texts(dir), 1);
  char h2[SHA256_HEX];
  INT_EQ(fstate_text_put(s, "bye\n", 4, h2), 0);
  e = fstate_get(s, "s1/task_groups/a.md");
  fstate_set_hash(s, e, h2);
  INT_EQ(count_texts(dir), 2);
  buf_truncate(&err, 0);
  INT_EQ(fstate_commit(s, &err), 0);
  INT_EQ(count_texts(dir), 1);
  struct buf gone = BUF_INIT;
  INT_EQ(fstate_text_get(s, hash, &gone), -ENOENT);
  buf_release(&gone);

  /* A text left by a run killed before its commit: the gc takes it. */
  char h3[SHA256_HEX];
  INT_EQ(fstate_text_put(s, "orphan\n", 7, h3), 0);
  INT_EQ(count_texts(dir), 2);
  fstate_gc(s);
  INT_EQ(count_texts(dir), 1);

  fstate_remove(s, "s1/task_groups/a.md");
  OK(fstate_get(s, "s1/task_groups/a.md") == NULL, "removed");
  buf_truncate(&err, 0);
  INT_EQ(fstate_commit(s, &err), 0);
  INT_EQ(count_texts(dir), 0);
  fstate_close(s);

  /* A manifest cut short is refused, not half read. */
  char *state = xasprintf("%s/.taskfs/state", dir);
  OK(truncate(state, 200) == 0, "truncate");
  buf_truncate(&err, 0);
  INT_EQ(fstate_open(dir, &s, &err), -EINVAL);
  OK(strstr(err.ptr, "state") != NULL, "%s", err.ptr);
  free(state);

  /* Not a checkout. */
  char *plain = temp_dir();
  buf_truncate(&err, 0);
  INT_EQ(fstate_open(plain, &s, &err), -ENOENT);
  OK(strstr(err.ptr, "not a checkout") != NULL, "%s", err.ptr);
  rm_rf(plain);
  free(plain);

  buf_release(&err);
  rm_rf(dir);
  free(dir);
}

static void test_destroy(void) {
  char *dir = temp_dir();
  struct fstate *s;
  struct buf err = BUF_INIT;
  INT_EQ(fstate_create(dir, "/db", NULL, &s, &err), 0);
  char hash[SHA256_HEX];
  INT_EQ(fstate_text_put(s, "x", 1, hash), 0);
  fstate_destroy(s);
  fstate_close(s);
  char *sdir = xasprintf("%s/.taskfs", dir);
  struct stat st;
  OK(stat(sdir, &st) != 0 && errno == ENOENT, "the state folder is gone");
  free(sdir);
  buf_release(&err);
  rm_rf(dir);
  free(dir);
}

int main(void) {
  test_sha256();
  test_escape();
  test_state();
  test_destroy();
  return harness_done("folder_state");
}
