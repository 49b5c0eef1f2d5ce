# SPDX-License-Identifier: MIT
"""The daemon as users start it (in the background) keeps the database
whole: it holds SQLite's locks itself, sees other programs' commits and
they see its saves, and the database checks clean afterwards. Where the
database may live, the log of the background process, and what a fatal
signal leaves in it."""
import errno
import json
import os
import re
import signal
import sqlite3
import subprocess
import threading
import time

import pytest

from conftest import (TASKCTL, TASKFS, Daemon, Mount, find_daemon, integrity,
                      is_mounted, read, write)


def shm_locks(pid, path):
    """The POSIX locks process pid holds on the file at path."""
    st = os.stat(path)
    dev = "%02x:%02x:%d" % (os.major(st.st_dev), os.minor(st.st_dev),
                            st.st_ino)
    with open("/proc/locks") as f:
        return [line for line in f
                if " POSIX " in line and line.split()[4] == str(pid) and
                line.split()[5] == dev]


def test_background_daemon_holds_its_locks(demo, mount_factory):
    """The process that serves holds SQLite's lock on the shared-memory
    index: another program closing its connection then cannot believe it
    is the last one, checkpoint and delete the write-ahead log under it."""
    ctl, session = demo
    m = mount_factory(ctl.db, mode="background")
    read(m.path(session, "task_groups", "frontend.md"))
    assert m.proc.pid != os.getpid()
    assert shm_locks(m.proc.pid, ctl.db + "-shm"), \
        "the daemon holds no lock on %s-shm" % ctl.db
    for fd in os.listdir("/proc/%d/fd" % m.proc.pid):
        target = os.readlink("/proc/%d/fd/%s" % (m.proc.pid, fd))
        if target.startswith(ctl.db):
            assert "(deleted)" not in target, target
    # taskctl opens, writes and closes: the log stays.
    ctl.run("task", "set", "auth_api_001", "--progress", "33")
    assert os.path.exists(ctl.db + "-wal")
    assert shm_locks(m.proc.pid, ctl.db + "-shm")


def sed_progress(path, value):
    subprocess.run(["sed", "-i", r"s/\*\*Progress\*\*: [0-9]*%%/"
                    r"**Progress**: %d%%/" % value, path], check=True)


def test_both_sides_reach_each_other_in_the_background(demo, mount_factory):
    """A new user's first steps, as the README has them: taskfs started in
    the background, taskctl and sed -i through the mount in turns."""
    ctl, session = demo
    m = mount_factory(ctl.db, mode="background")
    task = m.path(session, "tasks", "active", "dashboard_layout_001.md")
    ctl.run("task", "set", "auth_api_001", "--progress", "33")
    sed_progress(task, 77)
    assert ctl.task("dashboard_layout_001")["progress"] == 77
    added = ctl.run("task", "add", "--session", session, "--group",
                    "frontend", "--title", "Added by orchestrator")
    new_id = added.stdout.strip().splitlines()[-1]
    sed_progress(task, 78)
    assert "Added by orchestrator" in read(
        m.path(session, "task_groups", "frontend.md"))
    assert ctl.task("dashboard_layout_001")["progress"] == 78
    assert m.unmount() == 0
    assert integrity(ctl.db) == []
    ids = [t["id"] for t in ctl.tasks(session)]
    assert new_id in ids
    assert ctl.task("auth_api_001")["progress"] == 33
    assert ctl.task("dashboard_layout_001")["progress"] == 78
    # The history holds each side's values, in order.
    db = sqlite3.connect(ctl.db)
    values = [r[0] for r in db.execute(
        "SELECT new_value FROM history WHERE rec = 'dashboard_layout_001'"
        " AND field = 'progress' ORDER BY revision")]
    db.close()
    assert values[-2:] == [77, 78]


def test_log_file_beside_the_database(demo, workdir):
    """Without -o logfile the background process logs to taskfs.log in
    the database's folder: its saves, with time and pid."""
    ctl, session = demo
    mnt = os.path.join(workdir, "mnt")
    os.mkdir(mnt)
    p = subprocess.run([TASKFS, ctl.db, mnt], capture_output=True,
                       text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    daemon = Daemon(find_daemon(mnt))
    try:
        path = os.path.join(mnt, session, "notes", "decisions.md")
        with open(path, "a") as f:
            f.write("\nLogged in the background\n")
    finally:
        subprocess.run(["fusermount3", "-u", mnt])
        assert daemon.wait(timeout=20) == 0
    log = read(os.path.join(workdir, "taskfs.log"))
    assert re.search(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}Z taskfs\[%d\]: "
                     r"saved %s/notes/decisions\.md" %
                     (daemon.pid, session), log, re.M), log


def test_log_file_is_bounded(demo, workdir):
    """A log past 1 MiB is rotated to .1: the two together stay near 2
    MiB however long the mount runs."""
    ctl, session = demo
    log = os.path.join(workdir, "bounded.log")
    with open(log, "w") as f:
        f.write("filler line\n" * ((1 << 20) // 12 + 1))
    m = Mount(ctl.db, os.path.join(workdir, "mnt"),
              ["-o", "logfile=" + log], mode="background")
    try:
        path = m.path(session, "notes", "decisions.md")
        with open(path, "a") as f:
            f.write("\nAfter the rotation\n")
    finally:
        assert m.unmount() == 0
        m.errlog.close()
    assert os.path.getsize(log + ".1") >= 1 << 20
    assert os.path.getsize(log) < 4096
    assert "saved %s/notes/decisions.md" % session in read(log)


def test_unwritable_log_file_is_a_usage_error(demo, workdir):
    ctl, session = demo
    mnt = os.path.join(workdir, "mnt")
    os.mkdir(mnt)
    p = subprocess.run([TASKFS, ctl.db, mnt, "-o",
                        "logfile=" + os.path.join(workdir, "no", "such.log")],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 2
    assert "cannot write the log file" in p.stderr and "-o logfile" in \
        p.stderr
    assert not is_mounted(mnt)


def sanitized():
    with open(TASKFS, "rb") as f:
        return b"__asan_init" in f.read()


def test_fatal_signal_is_logged(demo, workdir):
    """A fault of the daemon leaves the signal, what it was doing and a
    backtrace in the log; the database is untouched."""
    if sanitized():
        pytest.skip("AddressSanitizer reports faults itself")
    ctl, session = demo
    m = Mount(ctl.db, os.path.join(workdir, "mnt"), mode="background")
    try:
        read(m.path(session, "session.md"))
        m.proc.send_signal(signal.SIGSEGV)
        assert m.proc.wait(timeout=20) == -signal.SIGSEGV
    finally:
        subprocess.run(["fusermount3", "-u", "-z", m.mnt])
        m.errlog.close()
    log = m.log()
    assert "fatal signal SIGSEGV" in log, log
    assert "Backtrace:" in log
    assert integrity(ctl.db) == []


def test_database_inside_the_mount_point_is_refused(workdir):
    mnt = os.path.join(workdir, "mnt")
    os.mkdir(mnt)
    db = os.path.join(mnt, "tasks.db")
    subprocess.run([TASKCTL, "-d", db, "init"], check=True,
                   capture_output=True)
    p = subprocess.run([TASKFS, db, mnt], capture_output=True, text=True,
                       timeout=30)
    assert p.returncode == 2
    assert "inside the mount point" in p.stderr
    assert not is_mounted(mnt)


def test_database_with_two_names_is_refused(demo, workdir):
    """A hard link would give the database two journal names."""
    ctl, session = demo
    other = os.path.join(workdir, "other.db")
    os.link(ctl.db, other)
    mnt = os.path.join(workdir, "mnt")
    os.mkdir(mnt)
    p = subprocess.run([TASKFS, ctl.db, mnt], capture_output=True,
                       text=True, timeout=30)
    assert p.returncode == 3
    assert "2 hard links" in p.stderr and "remove the other links" in \
        p.stderr
    assert not is_mounted(mnt)
    p = ctl.run("session", "list", check=False)
    assert p.returncode != 0 and "hard links" in p.stderr
    os.unlink(other)
    assert ctl.run("session", "list").returncode == 0


def test_database_through_a_symlink_is_one_database(demo, workdir,
                                                    mount_factory):
    """SQLite follows the link: the journal lives beside the real file,
    and the mount names the real file as its source."""
    ctl, session = demo
    link = os.path.join(workdir, "link.db")
    os.symlink(ctl.db, link)
    m = mount_factory(link)
    with open("/proc/self/mountinfo") as f:
        sources = [line.split(" - ")[1].split()[1] for line in f
                   if line.split()[4] == m.mnt]
    assert sources == [ctl.db]
    path = m.path(session, "tasks", "active", "dashboard_layout_001.md")
    sed_progress(path, 41)
    assert ctl.task("dashboard_layout_001")["progress"] == 41
    assert not os.path.exists(link + "-wal")


def test_database_on_a_fuse_file_system_is_refused(demo, mount_factory,
                                                   workdir):
    """A copy of the database kept as an ordinary file inside a taskfs
    mount is on a FUSE file system: refused for taskctl and taskfs."""
    ctl, session = demo
    m = mount_factory(ctl.db)
    inner = m.path(session, "copy.db")
    p = subprocess.run([TASKCTL, "-d", inner, "init"], capture_output=True,
                       text=True)
    assert p.returncode != 0 and "FUSE file system" in p.stderr
    assert not os.path.exists(inner)
    with open(ctl.db, "rb") as src, open(inner, "wb") as dst:
        dst.write(src.read())
    p = subprocess.run([TASKCTL, "-d", inner, "session", "list"],
                       capture_output=True, text=True)
    assert p.returncode != 0
    assert "FUSE file system" in p.stderr


def test_hard_link_to_the_database_is_not_served(demo, mount_factory,
                                                 workdir):
    """A name for the database made in the folder under the mount while
    it is mounted: opening it through the mount is refused, so that no
    program can drop the daemon's locks by closing it."""
    ctl, session = demo
    m = mount_factory(ctl.db)
    # The folder under the mount point, through the daemon's own
    # descriptor of it.
    real_dir = "/proc/%d/fd" % m.proc.pid
    realfd = [fd for fd in os.listdir(real_dir)
              if os.readlink(os.path.join(real_dir, fd)) == m.mnt]
    assert realfd, "the daemon holds the folder under the mount open"
    os.link(ctl.db, os.path.join(real_dir, realfd[0], session + "-db"))
    try:
        with pytest.raises(PermissionError):
            open(m.path(session + "-db"), "rb")
        assert "is the task database" in m.stderr()
    finally:
        os.unlink(os.path.join(real_dir, realfd[0], session + "-db"))


def damage(path):
    """Overwrites a page in the middle of the file, as a disk might."""
    size = os.path.getsize(path)
    with open(path, "r+b") as f:
        f.seek((size // 2) & ~4095)
        f.write(b"\x5a" * 4096)


def clean_log(log):
    """The log of a background daemon holds no sanitizer report."""
    text = read(log) if os.path.exists(log) else ""
    assert "Sanitizer" not in text and "runtime error" not in text, text


def background_mount(db, mnt, log, *options):
    os.makedirs(mnt, exist_ok=True)
    p = subprocess.run([TASKFS, db, mnt, "-o", "logfile=" + log] +
                       list(options),
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    return Daemon(find_daemon(mnt))


def wait_for_log(log, words, timeout=20):
    deadline = time.time() + timeout
    while True:
        text = read(log) if os.path.exists(log) else ""
        if all(w in text for w in words):
            return text
        assert time.time() < deadline, "not logged: %s: %s" % (words, text)
        time.sleep(0.05)


def test_failed_check_makes_the_mount_read_only(demo, workdir):
    """The check (PRAGMA quick_check) runs once the mount serves; a
    damaged database then refuses every save with EROFS, logged as a
    failed check at mount would be, and the text is kept beside the
    file."""
    ctl, session = demo
    filler = [{"session": session, "group": "backend",
               "title": "Filler task %d" % i, "description": "x" * 900}
              for i in range(300)]
    ctl.run("task", "import", input=json.dumps(filler))
    # The demo's groups and tasks come first in the file, the filler in
    # its middle, where the damage goes.
    damage(ctl.db)
    mnt = os.path.join(workdir, "mnt")
    log = os.path.join(workdir, "taskfs.log")
    daemon = background_mount(ctl.db, mnt, log)
    try:
        text = wait_for_log(log, ["is damaged", "read-only"])
        assert "taskctl -d %s restore" % ctl.db in text
        notes = os.path.join(mnt, session, "notes", "decisions.md")
        mine = "# Decisions\n\nKept though the database is damaged\n"
        with pytest.raises(OSError) as e:
            with open(notes, "w") as f:
                f.write(mine)
        assert e.value.errno == errno.EROFS
        kept = [n for n in os.listdir(os.path.dirname(notes))
                if n.startswith("decisions.md.unsaved-")]
        assert len(kept) == 1, os.listdir(os.path.dirname(notes))
        assert read(os.path.join(os.path.dirname(notes), kept[0])) == mine
    finally:
        subprocess.run(["fusermount3", "-u", mnt])
        assert daemon.wait(timeout=30) == 0
        clean_log(log)


def test_save_during_the_check_waits_for_it(demo, workdir, monkeypatch):
    """Reads are served while the check runs; a save issued meanwhile
    waits for its result, then is applied."""
    ctl, session = demo
    hold = os.path.join(workdir, "hold")
    open(hold, "w").close()
    monkeypatch.setenv("TASKFS_TEST_HOLD_CHECK", hold)
    mnt = os.path.join(workdir, "mnt")
    log = os.path.join(workdir, "taskfs.log")
    # The check's passing is logged at the debug level.
    daemon = background_mount(ctl.db, mnt, log, "-o", "log=debug")
    try:
        path = os.path.join(mnt, session, "tasks", "active",
                            "dashboard_layout_001.md")
        text = read(path)
        assert "**Progress**: 60%" in text
        done = {}

        def save():
            try:
                write(path, text.replace("**Progress**: 60%",
                                         "**Progress**: 75%", 1))
                done["ok"] = True
            except OSError as e:
                done["error"] = e

        writer = threading.Thread(target=save)
        writer.start()
        writer.join(1.0)
        # Still waiting for the check: nothing written, reads served.
        assert writer.is_alive() and not done
        assert ctl.task("dashboard_layout_001")["progress"] == 60
        assert "Frontend" in read(os.path.join(mnt, session, "task_groups",
                                               "frontend.md"))
        assert "check passed" not in (read(log) if os.path.exists(log)
                                      else "")
        os.unlink(hold)
        writer.join(30)
        assert done == {"ok": True}
        assert ctl.task("dashboard_layout_001")["progress"] == 75
        assert "database check passed" in read(log)
    finally:
        if os.path.exists(hold):
            os.unlink(hold)
        subprocess.run(["fusermount3", "-u", mnt])
        assert daemon.wait(timeout=30) == 0
        clean_log(log)
    assert integrity(ctl.db) == []
