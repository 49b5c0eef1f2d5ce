/* SPDX-License-Identifier: MIT */
/* sqlite_file.c: where an SQLite database file may live. SQLite's
 * locking and its write-ahead log rely on every program reaching the file
 * by one name, on one machine, through a file system that keeps POSIX
 * locks; the files that break those rules are refused here. */
#include "sqlite.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>

/* File systems whose files other machines share, or that a user-space
 * daemon serves (FUSE): WAL's shared memory index works only between
 * processes of one machine, and their POSIX locks are not SQLite's. */
static const struct {
  long magic;
  const char *name;
} unsafe_fs[] = {
    {NFS_SUPER_MAGIC, "NFS"},    {SMB_SUPER_MAGIC, "SMB"},
    {(long)0xFF534D42, "CIFS"},  {(long)0xFE534D42, "SMB2"},
    {CODA_SUPER_MAGIC, "Coda"},  {AFS_SUPER_MAGIC, "AFS"},
    {(long)0x6B414653, "AFS"},   {V9FS_MAGIC, "9P"},
    {CEPH_SUPER_MAGIC, "Ceph"},  {(long)0x01161970, "GFS2"},
    {(long)0x7461636f, "OCFS2"}, {(long)0x0BD00BD0, "Lustre"},
    {(long)0x65735546, "FUSE"},
};

int store_file_check(struct store *st, const char *path) {
  if (getenv("TASKFS_UNSAFE_DB_FS"))
    return ENG_OK;
  struct stat s;
  bool exists = stat(path, &s) == 0;
  if (exists && S_ISREG(s.st_mode) && s.st_nlink > 1)
    return store_fail(
        st, ENG_INVALID,
        "database %s has %ju hard links; SQLite names its -wal and -shm "
        "files after the path it is opened by, so programs opening it by "
        "different names would not see each other's changes and could "
        "damage it. Keep one name: remove the other links",
        path, (uintmax_t)s.st_nlink);
  /* A database still to be created: where it would be. */
  struct statfs f;
  char *dir = NULL;
  if (!exists) {
    const char *slash = strrchr(path, '/');
    dir = slash ? xstrndup(path, (size_t)(slash - path + 1)) : xstrdup(".");
  }
  int rc = statfs(dir ? dir : path, &f);
  free(dir);
  if (rc != 0)
    return ENG_OK;
  for (size_t i = 0; i < sizeof unsafe_fs / sizeof *unsafe_fs; i++)
    if ((long)f.f_type == unsafe_fs[i].magic)
      return store_fail(
          st, ENG_INVALID,
          "database %s is on a %s file system; SQLite's locks and its "
          "write-ahead log need the database on a local disk of the "
          "machine that uses it. Move it to a local folder (set "
          "TASKFS_UNSAFE_DB_FS=1 to use it there anyway, at the risk of "
          "damaging it)",
          path, unsafe_fs[i].name);
  return ENG_OK;
}
