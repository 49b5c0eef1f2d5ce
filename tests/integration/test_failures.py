# SPDX-License-Identifier: MIT
"""Failures of the database under a running mount: locked past the busy
timeout, a full disk, a read-only database, the file deleted or replaced,
a schema from a newer taskfs, and kill -9 of the daemon in the middle of
saves. Each checks the errno the caller gets, the daemon's log line, that
nothing was half-applied, and that the text saved is not lost."""
import errno
import os
import random
import re
import subprocess
import sys
import threading
import time

import pytest

from conftest import (TASKCTL, TASKFS, Mount, Taskctl, integrity, is_mounted,
                      is_pg, read, shown, sqlite_only)

# The schema version this taskfs writes (engine/store.h).
SCHEMA_VERSION = 3


def gpath(m, session, name="frontend"):
    return m.path(session, "task_groups", name + ".md")


def retitle(text, title):
    """The group file text with the group's title changed."""
    new, n = re.subn(r"^# .*$", "# " + title, text, count=1, flags=re.M)
    assert n == 1
    return new


def save(path, text):
    """Writes text to path as an editor saving in place does; returns the
    errno of close() (0 when it succeeded)."""
    fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
    try:
        os.write(fd, text.encode())
    finally:
        try:
            os.close(fd)
        except OSError as e:
            return e.errno
    return 0


def db_state(ctl):
    """Every row of every table but the sync log, which a mount writes on
    its own (renders, and saves that failed), and the PostgreSQL backend's
    schema version (SQLite keeps it in no table)."""
    return {t: sorted(ctl.sql("SELECT * FROM %s" % t), key=repr)
            for t in ctl.tables() if t not in ("sync_ops", "taskfs_schema")}


def kept_copies(m, session, name="frontend"):
    """The .unsaved copies beside a group file, by name."""
    d = os.path.dirname(gpath(m, session, name))
    return sorted(n for n in os.listdir(d)
                  if n.startswith(name + ".md.unsaved-"))


def assert_kept(m, session, text):
    """Exactly one copy of the refused text is kept beside the file, byte
    for byte; returns its name."""
    names = kept_copies(m, session)
    assert len(names) == 1, names
    assert re.fullmatch(r"frontend\.md\.unsaved-\d{8}-\d{6}", names[0])
    with open(os.path.join(os.path.dirname(gpath(m, session)), names[0]),
              "rb") as f:
        assert f.read() == text.encode()
    return names[0]


def log_lines(m, needle):
    return [line for line in m.stderr().splitlines() if needle in line]


def wait_for(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def group(ctl, session, name="frontend"):
    return [g for g in ctl.groups(session) if g["name"] == name][0]


# ---- a database locked by another program ----

def test_reads_go_on_while_a_save_waits(demo, mount_factory):
    """A save waiting for the database's write lock holds up no reader:
    other files, the session's overview and the file being saved read
    (its last text) and stat while the save waits, and the save lands
    once the lock is gone."""
    ctl, s = demo
    m = mount_factory(ctl.db, options=["-o", "busy_timeout=20000"])
    p = gpath(m, s)
    text = read(p)
    edited = retitle(text, "Frontend saved after the lock")
    others = [gpath(m, s, g["name"]) for g in ctl.groups(s)
              if g["name"] != "frontend"]
    others.append(m.path(s, "session.md"))
    before = {o: read(o) for o in others}
    result = {}
    with ctl.write_locked():
        writer = threading.Thread(
            target=lambda: result.setdefault("rc", save(p, edited)))
        writer.start()
        time.sleep(0.5)  # the save reaches the lock and waits
        assert writer.is_alive()
        for o in others:
            assert read(o) == before[o]
            assert os.stat(o).st_size == len(before[o].encode())
        assert read(p) == text
        # Every read came back while the save still waited.
        assert writer.is_alive()
    writer.join(60)
    assert result == {"rc": 0}
    assert group(ctl, s)["title"] == "Frontend saved after the lock"
    assert "# Frontend saved after the lock" in read(p)


def test_database_busy(demo, mount_factory):
    ctl, s = demo
    m = mount_factory(ctl.db, options=["-o", "busy_timeout=200"])
    p = gpath(m, s)
    text = read(p)
    edited = retitle(text, "Frontend while locked")
    task_file = m.path(s, "tasks", "active", "dashboard_layout_001.md")
    task_text = read(task_file)
    before = db_state(ctl)
    with ctl.write_locked():
        # Readers are not held up by a writer (WAL, MVCC).
        assert read(p) == text
        assert read(task_file) == task_text
        t0 = time.monotonic()
        assert save(p, edited) == errno.EBUSY
        waited = time.monotonic() - t0
        assert 0.2 <= waited < 3, waited
        assert read(p) == text
    assert db_state(ctl) == before
    kept = assert_kept(m, s, edited)
    label = "%s/task_groups/frontend.md" % s
    # SQLite retries for the busy timeout; PostgreSQL waits that long for
    # the lock (lock_timeout) and gives its reason.
    waited = ("waited 200 ms): canceling statement due to lock timeout"
              if is_pg(ctl.db) else "retried for 200 ms)")
    (line,) = log_lines(m, "save %s failed" % label)
    assert line == (
        "taskfs: save %s failed (Device or resource busy): database %s is "
        "locked by another program (%s; nothing was applied, the text is "
        "kept in %s/task_groups/%s" % (label, shown(ctl.db), waited, s, kept))
    # Once the lock is gone a save works, and the failure is in the sync
    # log.
    assert save(p, edited) == 0
    assert group(ctl, s)["title"] == "Frontend while locked"
    assert wait_for(lambda: ctl.json("stats", "--session", s)
                    ["errors_by_kind"].get("busy") == 1)
    (err,) = [e for e in ctl.json("stats")["last_errors"]
              if e["kind"] == "busy"]
    assert (err["type"], err["file"], err["status"]) == (
        "save", "task_groups/frontend.md", "error")


# ---- a full disk ----

@pytest.fixture
def small_fs(workdir):
    """A 4 MiB tmpfs, unmounted at the end whatever happens."""
    d = os.path.join(workdir, "small")
    os.mkdir(d)
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", d],
                       capture_output=True, text=True)
    if p.returncode != 0:
        pytest.skip("cannot mount a tmpfs: " + p.stderr)
    yield d
    if subprocess.run(["umount", d]).returncode != 0:
        subprocess.run(["umount", "-l", d])


def fill(path):
    """Writes path until the file system holding it is full."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        for chunk in (1 << 16, 4096, 512, 1):
            try:
                while True:
                    os.write(fd, b"\0" * chunk)
            except OSError as e:
                assert e.errno == errno.ENOSPC
    finally:
        os.close(fd)


@sqlite_only("a full disk under the SQLite database file")
def test_disk_full(small_fs, mount_factory):
    ctl = Taskctl(os.path.join(small_fs, "tasks.db"))
    s = ctl.run("demo").stdout.split()[-1]
    m = mount_factory(ctl.db)  # the mount point is not on the tmpfs
    p = gpath(m, s)
    text = read(p)
    edited = retitle(text, "Frontend on a full disk")
    before = db_state(ctl)
    filler = os.path.join(small_fs, "filler")
    fill(filler)
    assert save(p, edited) == errno.ENOSPC
    assert read(p) == text
    assert integrity(ctl.db) == []
    assert db_state(ctl) == before
    kept = assert_kept(m, s, edited)
    (line,) = log_lines(m, "No space left on device")
    assert line == (
        "taskfs: save %s/task_groups/frontend.md failed (No space left on "
        "device): no space left for database %s; nothing was applied, the "
        "text is kept in %s/task_groups/%s"
        % (s, os.path.realpath(ctl.db), s, kept))
    os.unlink(filler)
    assert save(p, edited) == 0
    assert group(ctl, s)["title"] == "Frontend on a full disk"
    assert integrity(ctl.db) == []


# ---- a read-only database ----

@pytest.fixture
def read_only_db(workdir):
    """The demo database seen through a read-only bind mount of its
    folder: (taskctl on the read-write path, session, read-only path)."""
    src = os.path.join(workdir, "db")
    ro = os.path.join(workdir, "ro")
    os.mkdir(src)
    os.mkdir(ro)
    ctl = Taskctl(os.path.join(src, "tasks.db"))
    s = ctl.run("demo").stdout.split()[-1]
    p = subprocess.run(["mount", "--bind", src, ro], capture_output=True,
                       text=True)
    if p.returncode != 0:
        pytest.skip("cannot bind-mount: " + p.stderr)
    try:
        p = subprocess.run(["mount", "-o", "remount,bind,ro", ro],
                           capture_output=True, text=True)
        if p.returncode != 0:
            pytest.skip("cannot make a bind mount read-only: " + p.stderr)
        yield ctl, s, os.path.join(ro, "tasks.db")
    finally:
        if subprocess.run(["umount", ro]).returncode != 0:
            subprocess.run(["umount", "-l", ro])


@sqlite_only("a read-only bind mount of the SQLite database file's folder")
def test_read_only_database(read_only_db, mount_factory):
    ctl, s, ro_db = read_only_db
    before = db_state(ctl)
    m = mount_factory(ro_db)
    (line,) = log_lines(m, "mounting it read-only")
    assert line == (
        "taskfs: cannot open database %s for writing: the file and its "
        "folder must be writable (SQLite keeps its -wal and -shm files "
        "beside it); mounting it read-only: saves fail with EROFS and their "
        "text is kept beside the file" % ro_db)
    p = gpath(m, s)
    text = read(p)
    assert "# Frontend" in text
    assert len(os.listdir(m.path(s, "tasks", "active"))) > 0
    edited = retitle(text, "Frontend on read-only media")
    assert save(p, edited) == errno.EROFS
    kept = assert_kept(m, s, edited)
    (line,) = log_lines(m, "Read-only file system")
    assert line == (
        "taskfs: save %s/task_groups/frontend.md failed (Read-only file "
        "system): the database is read-only; nothing was applied, the text "
        "is kept in %s/task_groups/%s" % (s, s, kept))
    # A managed file cannot be moved either (it would change the task).
    with pytest.raises(OSError) as e:
        os.rename(m.path(s, "tasks", "active", "dashboard_layout_001.md"),
                  m.path(s, "tasks", "completed", "dashboard_layout_001.md"))
    assert e.value.errno == errno.EROFS
    m.unmount()
    assert db_state(ctl) == before
    # taskctl reads it too, and refuses to write it.
    ro = Taskctl(ro_db)
    assert ro.task("dashboard_layout_001")["status"] == "active"
    p = ro.run("task", "set", "dashboard_layout_001", "--progress", "1",
               check=False)
    assert p.returncode == 7, p.stderr


# ---- the database file deleted, then replaced ----

@sqlite_only("the SQLite database file deleted and replaced")
def test_database_deleted_then_replaced(demo, mount_factory, workdir):
    ctl, s = demo
    m = mount_factory(ctl.db)
    p = gpath(m, s)
    text = read(p)
    edited = retitle(text, "Frontend without a database")
    db = os.path.realpath(ctl.db)
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.unlink(db + suffix)
    time.sleep(0.15)  # the file is checked at most every 100 ms
    # The mount keeps showing the last state.
    assert read(p) == text
    assert "dashboard_layout_001.md" in os.listdir(
        m.path(s, "tasks", "active"))
    assert save(p, edited) == errno.ESTALE
    assert read(p) == text
    kept = assert_kept(m, s, edited)
    assert log_lines(m, "database %s was deleted" % db) == [
        "taskfs: database %s was deleted; the mount shows its last state "
        "and refuses saves (ESTALE) until a database is back at that path"
        % db]
    assert log_lines(m, "save %s/task_groups/frontend.md failed" % s) == [
        "taskfs: save %s/task_groups/frontend.md failed (Stale file "
        "handle): the database file was deleted or replaced by one that "
        "cannot be used; nothing was applied, the text is kept in "
        "%s/task_groups/%s" % (s, s, kept)]
    # A rename that would change a task is refused the same way, and
    # changes nothing.
    task = m.path(s, "tasks", "active", "dashboard_layout_001.md")
    with pytest.raises(OSError) as e:
        os.rename(task, m.path(s, "tasks", "completed",
                               "dashboard_layout_001.md"))
    assert e.value.errno == errno.ESTALE
    assert os.path.exists(task)
    assert log_lines(m, "rename of %s/tasks/active/dashboard_layout_001.md "
                     "refused (Stale file handle)" % s)

    # A new database renamed to that path: the mount follows it.
    new = Taskctl(os.path.join(workdir, "new.db"))
    s2 = new.run("demo").stdout.split()[-1]
    os.rename(new.db, db)
    time.sleep(0.15)
    assert s2 in os.listdir(m.mnt)
    assert log_lines(m, "was replaced") == [
        "taskfs: database %s was replaced; the mount now shows the new one"
        % db]
    p2 = gpath(m, s2)
    assert save(p2, retitle(read(p2), "Frontend in the new database")) == 0
    assert group(ctl, s2)["title"] == "Frontend in the new database"
    # The old session's folder is an ordinary one now, holding the text.
    with open(os.path.join(os.path.dirname(p), kept), "rb") as f:
        assert f.read() == edited.encode()


# ---- a database from a newer taskfs ----

def set_schema_version(ctl, version):
    """Marks the database as written by another version of taskfs: SQLite's
    PRAGMA user_version, the PostgreSQL backend's taskfs_schema."""
    if is_pg(ctl.db):
        ctl.sql("UPDATE taskfs_schema SET version = ?", (version,))
    else:
        ctl.sql("PRAGMA user_version = %d" % version)


def test_newer_schema_under_a_mount(demo, mount_factory):
    ctl, s = demo
    m = mount_factory(ctl.db)
    p = gpath(m, s)
    text = read(p)
    edited = retitle(text, "Frontend for an older taskfs")
    before = db_state(ctl)
    set_schema_version(ctl, SCHEMA_VERSION + 1)
    assert read(p) == text
    assert save(p, edited) == errno.EROFS
    kept = assert_kept(m, s, edited)
    db = shown(ctl.db)
    assert log_lines(m, "upgraded by a newer taskfs; the mount") == [
        "taskfs: database %s was upgraded by a newer taskfs; the mount is "
        "read-only (EROFS) until it is mounted again with that version" % db]
    assert log_lines(m, "save %s/task_groups/frontend.md failed" % s) == [
        "taskfs: save %s/task_groups/frontend.md failed (Read-only file "
        "system): the database was upgraded by a newer taskfs; nothing was "
        "applied, the text is kept in %s/task_groups/%s" % (s, s, kept)]
    m.unmount()
    assert db_state(ctl) == before


def test_newer_schema_fresh_open(demo, workdir):
    ctl, s = demo
    set_schema_version(ctl, SCHEMA_VERSION + 1)
    mnt = os.path.join(workdir, "mnt")
    os.mkdir(mnt)
    try:
        p = subprocess.run([TASKFS, "-f", ctl.db, mnt], capture_output=True,
                           text=True, timeout=20)
    finally:
        if is_mounted(mnt):
            subprocess.run(["fusermount3", "-u", "-z", mnt])
    assert p.returncode == 3
    message = ("database %s has schema version %d, newer than this taskfs "
               "(%d); upgrade taskfs to use it"
               % (shown(ctl.db), SCHEMA_VERSION + 1,
                  SCHEMA_VERSION))
    assert p.stderr == "taskfs: %s\n" % message
    for args in (("task", "list"), ("task", "set", "dashboard_layout_001",
                                    "--progress", "1")):
        r = ctl.run(*args, check=False)
        assert r.returncode == 6, (args, r.stderr)
        # taskctl names a file as it was given, a URI without its password.
        assert r.stderr == "taskctl: %s\n" % message.replace(
            shown(ctl.db), shown(ctl.db) if is_pg(ctl.db) else ctl.db)


# ---- the memory for files being written ----

def test_write_buffers_limit(demo, mount_factory):
    ctl, s = demo
    m = mount_factory(ctl.db, options=["-o", "max_buffers=1"])
    a, b = gpath(m, s, "frontend"), gpath(m, s, "backend")
    texts = read(a), read(b)
    tasks = ctl.tasks(s)
    chunk = b"x" * (64 << 10)
    fa = os.open(a, os.O_WRONLY | os.O_TRUNC)
    fb = os.open(b, os.O_WRONLY | os.O_TRUNC)
    try:
        for _ in range(10):
            os.write(fa, chunk)
        written = 0
        with pytest.raises(OSError) as e:
            for _ in range(10):
                written += os.write(fb, chunk)
        assert e.value.errno == errno.ENOMEM
        assert written == (1 << 20) - 10 * len(chunk)
    finally:
        # frontend's text is no group file: it is held, then discarded.
        with pytest.raises(OSError) as e:
            os.close(fa)
        assert e.value.errno == errno.EBADMSG
        # backend's lacks what the refused write held: it is never
        # applied, and its bytes are kept beside the file.
        with pytest.raises(OSError) as e:
            os.close(fb)
        assert e.value.errno == errno.ENOMEM
    assert log_lines(m, "refused (Cannot allocate memory)") == [
        "taskfs: write to %s/task_groups/backend.md refused (Cannot "
        "allocate memory): the files being written through the mount would "
        "hold more than 1 MiB together (-o max_buffers); close some of "
        "them, or mount with a larger max_buffers" % s]
    kept = kept_copies(m, s, "backend")
    assert len(kept) == 1
    assert log_lines(m, "failed (Cannot allocate memory)") == [
        "taskfs: save %s/task_groups/backend.md failed (Cannot allocate "
        "memory): a write to it failed (Cannot allocate memory), so the "
        "text is incomplete; nothing was applied, the text is kept in "
        "%s/task_groups/%s" % (s, s, kept[0])]
    kept = os.path.join(os.path.dirname(b), kept[0])
    assert os.path.getsize(kept) == written
    os.unlink(kept)
    os.unlink(gpath(m, s, "frontend.error"))
    assert (read(a), read(b)) == texts
    assert ctl.tasks(s) == tasks
    # Closed, the buffers no longer count.
    fb = os.open(b, os.O_WRONLY | os.O_TRUNC)
    try:
        for _ in range(15):
            assert os.write(fb, chunk) == len(chunk)
    finally:
        with pytest.raises(OSError) as e:
            os.close(fb)
        assert e.value.errno == errno.EBADMSG
    os.unlink(gpath(m, s, "backend.error"))
    assert read(b) == texts[1]
    # Growing a buffer by ftruncate counts as well.
    fb = os.open(b, os.O_RDWR)
    try:
        with pytest.raises(OSError) as e:
            os.ftruncate(fb, 2 << 20)
        assert e.value.errno == errno.ENOMEM
    finally:
        with pytest.raises(OSError) as e:
            os.close(fb)
        assert e.value.errno == errno.ENOMEM
    assert read(b) == texts[1]
    assert ctl.tasks(s) == tasks


# ---- kill -9 in the middle of saves ----

# Saves the group file again and again; each save gives every task of
# the group the same new mark in its title, so a save half applied would
# leave two marks. Prints the number of each save whose close() returned
# 0, then the errno that stopped it.
WRITER = r"""
import re, sys
path, run = sys.argv[1], sys.argv[2]
i = 0
while True:
    try:
        with open(path) as f:
            text = f.read()
        text = re.sub(r"^### (.*?)(?: m[0-9]+-[0-9]+)? `([^`]+)`$",
                      lambda m: "### %s m%s-%d `%s`"
                      % (m.group(1), run, i, m.group(2)), text, flags=re.M)
        with open(path, "w") as f:
            f.write(text)
        print("ok", i, flush=True)
        i += 1
    except OSError as e:
        print("stopped", e.errno, flush=True)
        break
"""


def marks(ctl, session):
    """The marks in the titles of the frontend tasks: (run, save)."""
    found = set()
    for t in ctl.tasks(session):
        if t["group_name"] == "frontend":
            m = re.search(r" m([0-9]+)-([0-9]+)$", t["title"])
            found.add((int(m.group(1)), int(m.group(2))) if m else None)
    return found


def test_kill_9_during_saves(demo, workdir):
    ctl, s = demo
    mnt = os.path.join(workdir, "mnt")
    rng = random.Random(9)
    mounts = []
    try:
        for run in range(10):
            m = Mount(ctl.db, mnt)
            mounts.append(m)
            held = None
            if run == 0:
                # A file still open on the dead mount keeps it busy.
                held = os.open(m.path(s, "session.md"), os.O_RDONLY)
            w = subprocess.Popen([sys.executable, "-c", WRITER, gpath(m, s),
                                  str(run)], stdout=subprocess.PIPE, text=True)
            # The burst has begun: kill the daemon somewhere in it.
            first = w.stdout.readline()
            assert first == "ok 0\n", first
            time.sleep(rng.uniform(0.01, 0.4))
            m.proc.kill()
            assert m.proc.wait(timeout=10) == -9
            out = [first] + w.communicate(timeout=30)[0].split("\n")
            done = [int(x.split()[1]) for x in out if x.startswith("ok ")]
            assert out[len(done)].startswith("stopped")
            assert integrity(ctl.db) == []
            # Whole or nothing: one mark on every task. A save whose close()
            # returned 0 is in the database; the one cut off may be too.
            (mark,) = marks(ctl, s)
            assert mark[0] == run and mark[1] in (done[-1], done[-1] + 1)
            u = subprocess.run(["fusermount3", "-u", m.mnt],
                               capture_output=True, text=True)
            if held is not None:
                assert u.returncode != 0 and "busy" in u.stderr
                u = subprocess.run(["fusermount3", "-u", "-z", m.mnt],
                                   capture_output=True, text=True)
                os.close(held)
            assert u.returncode == 0, u.stderr
            assert not is_mounted(m.mnt)
        # Mounted again, it shows the data of the last save.
        m = Mount(ctl.db, mnt)
        mounts.append(m)
        text = read(gpath(m, s))
        assert len(re.findall(r"^### .* m%d-%d `" % mark, text, re.M)) == \
            len([t for t in ctl.tasks(s) if t["group_name"] == "frontend"])
        assert m.unmount() == 0
    finally:
        for m in mounts:
            if is_mounted(m.mnt):
                subprocess.run(["fusermount3", "-u", "-z", m.mnt])
        for m in mounts:
            if m.proc.poll() is None:
                m.proc.kill()
                m.proc.wait()
            m.errlog.close()
