# SPDX-License-Identifier: MIT
"""Whole-database backups, restore and the integrity check with taskctl:
a backup taken while another program writes, a restore under a mount, an
editor's stale buffer saved after a restore, a damaged database restored
by copy, the backup before a schema upgrade, and every refusal."""
import glob
import json
import os
import sqlite3
import subprocess
import sys
import time

import pytest

from conftest import TASKFS, Taskctl, eventually, is_mounted, read, write

DESC = "x" * 900


def big_demo(ctl):
    """The demo session and 1,500 more tasks: a file of a few MiB, which
    the backup copies in many steps."""
    session = ctl.run("demo").stdout.strip().splitlines()[-1]
    tasks = [{"session": session, "group": "backend",
              "title": "Filler task %d" % i, "description": DESC}
             for i in range(1500)]
    ctl.run("task", "import", input=json.dumps(tasks))
    return session


def damage(path):
    """Overwrites a page in the middle of the file, as a disk might."""
    size = os.path.getsize(path)
    with open(path, "r+b") as f:
        f.seek((size // 2) & ~4095)
        f.write(b"\x5a" * 4096)


WRITER = r"""
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], timeout=10, isolation_level=None)
end = time.time() + float(sys.argv[2])
n = 0
while time.time() < end:
    n += 1
    db.execute("BEGIN IMMEDIATE")
    # Two tasks always hold the same progress in a consistent state.
    db.execute("UPDATE tasks SET progress = ? WHERE id IN (?, ?)",
               (n % 101, sys.argv[3], sys.argv[4]))
    db.execute("COMMIT")
print(n)
"""


def test_backup_while_another_program_writes(taskctl, workdir):
    big_demo(taskctl)
    a, b = "auth_api_001", "dashboard_layout_001"
    assert taskctl.task(a) and taskctl.task(b)
    writer = subprocess.Popen([sys.executable, "-c", WRITER, taskctl.db, "6",
                               a, b], stdout=subprocess.PIPE, text=True)
    copies = []
    try:
        time.sleep(0.3)
        for i in range(4):
            path = os.path.join(workdir, "copy%d.db" % i)
            out = taskctl.json("backup", path)
            copies.append((path, out))
    finally:
        written = int(writer.communicate(timeout=60)[0])
    assert writer.returncode == 0 and written > 10
    for path, out in copies:
        assert out["path"] == path
        assert out["size"] == os.path.getsize(path) > 2 * 1024 * 1024
        db = sqlite3.connect(path)
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        rev = db.execute("SELECT rev FROM revision").fetchone()[0]
        assert out["revision"] == rev
        # The revision is that of the newest change the copy holds, and
        # both tasks of each write moved together.
        assert rev == db.execute("SELECT max(revision) FROM history")\
            .fetchone()[0]
        pa, pb = [r[0] for r in db.execute(
            "SELECT progress FROM tasks WHERE id IN (?, ?)", (a, b))]
        assert pa == pb
        db.close()
        assert not os.path.exists(path + "-wal")
    assert not glob.glob(os.path.join(workdir, "*.tmp-*"))
    assert len({out["revision"] for _, out in copies}) > 1


def test_backup_file_rules(demo, workdir):
    ctl, session = demo
    path = os.path.join(workdir, "b.db")
    p = ctl.run("backup", path)
    assert p.stdout.startswith("path:") and path in p.stdout
    assert "revision:" in p.stdout
    before = os.path.getsize(path)
    ctl.run("task", "set", "dashboard_layout_001", "--progress", "5")
    p = ctl.run("backup", path, check=False)
    assert p.returncode == 4 and "--force" in p.stderr
    assert os.path.getsize(path) == before
    ctl.run("backup", "--force", path)
    db = sqlite3.connect(path)
    assert db.execute("SELECT progress FROM tasks"
                      " WHERE id = 'dashboard_layout_001'").fetchone()[0] == 5
    db.close()
    # A folder that does not exist: exit 1, nothing left behind.
    p = ctl.run("backup", os.path.join(workdir, "no", "b.db"), check=False)
    assert p.returncode == 1 and p.stderr.startswith("taskctl: ")
    # Never over the database itself.
    p = ctl.run("backup", "--force", ctl.db, check=False)
    assert p.returncode == 4 and "database itself" in p.stderr
    assert not glob.glob(os.path.join(workdir, "*.tmp-*"))
    # Usage.
    for args in (["backup"], ["backup", "--list", path],
                 ["backup", "--list", "--force"]):
        assert ctl.run(*args, check=False).returncode == 2
    p = ctl.run("backup", "--list")
    assert p.stdout.startswith("no automatic backups in ")
    assert ctl.json("backup", "--list") == []


def test_restore_under_a_mount(demo, mount_factory, workdir):
    ctl, session = demo
    m = mount_factory(ctl.db)
    backup = os.path.join(workdir, "b.db")
    ctl.run("backup", backup)
    task_file = m.path(session, "tasks", "active", "dashboard_layout_001.md")
    group_file = m.path(session, "task_groups", "frontend.md")
    assert "**Progress**: 60%" in read(task_file)

    ctl.run("task", "set", "dashboard_layout_001", "--progress", "90",
            "--title", "Dashboard layout, later")
    ctl.run("group", "set", "frontend", "--session", session,
            "--name", "web")
    added = ctl.run("task", "add", "--session", session, "--group",
                    "backend", "--title", "Added after the backup")\
        .stdout.strip()
    ctl.run("task", "rm", "chart_components_001")
    assert "**Progress**: 90%" in read(task_file)
    assert not os.path.exists(group_file)
    before = ctl.json("export")["revision"]

    p = ctl.run("restore", backup)
    assert "saved the database as it was: " in p.stdout
    saved = p.stdout.split("saved the database as it was: ")[1].split()[0]
    assert os.path.dirname(saved) == os.path.join(workdir, "taskfs-backups")
    # The mount shows the restored state at once.
    text = read(task_file)
    assert "**Progress**: 60%" in text
    assert "# Create dashboard layout `dashboard_layout_001`" in text
    assert "### Create dashboard layout" in read(group_file)
    assert not os.path.exists(m.path(session, "task_groups", "web.md"))
    assert not os.path.exists(m.path(session, "tasks", "planned",
                                     added + ".md"))
    assert glob.glob(m.path(session, "tasks", "*", "chart_components_001.md"))
    # Deleted softly, so it can be brought back; the history has it all.
    assert ctl.task(added)["deleted"] == 1
    db = sqlite3.connect(ctl.db)
    rows = db.execute("SELECT DISTINCT source FROM history WHERE revision > ?",
                      (before,)).fetchall()
    assert rows == [("restore",)]
    assert db.execute("SELECT rev FROM revision").fetchone()[0] > before
    db.close()
    # The replaced state is the automatic backup.
    listed = ctl.json("backup", "--list")
    assert [b["path"] for b in listed] == [saved]
    assert listed[0]["reason"] == "before-restore"
    old = sqlite3.connect(saved)
    assert old.execute("SELECT name FROM task_groups"
                       " WHERE id = 'frontend_group_001'").fetchone()[0] == \
        "web"
    old.close()


def test_stale_buffer_saved_after_restore(demo, mount_factory, workdir):
    ctl, session = demo
    m = mount_factory(ctl.db)
    backup = os.path.join(workdir, "b.db")
    ctl.run("backup", backup)
    ctl.run("task", "set", "dashboard_layout_001", "--progress", "90")
    task_file = m.path(session, "tasks", "active", "dashboard_layout_001.md")
    buffer = read(task_file)  # an editor's buffer, not reloaded
    assert "**Progress**: 90%" in buffer
    ctl.run("restore", backup)
    assert ctl.task("dashboard_layout_001")["progress"] == 60

    # Saved as it was: nothing of the restore is undone.
    write(task_file, buffer)
    assert ctl.task("dashboard_layout_001")["progress"] == 60
    # Saved with an edit of another field: that edit is applied, the
    # restored progress stays.
    write(task_file, buffer.replace("- **Priority**: high",
                                    "- **Priority**: critical"))
    t = ctl.task("dashboard_layout_001")
    assert (t["progress"], t["priority"]) == (60, "critical")
    assert "**Progress**: 60%" in read(task_file)


def test_check_and_restore_of_a_damaged_database(demo, workdir):
    ctl, session = demo
    big = Taskctl(ctl.db)
    tasks = [{"session": session, "group": "backend",
              "title": "Filler task %d" % i, "description": DESC}
             for i in range(300)]
    big.run("task", "import", input=json.dumps(tasks))
    backup = os.path.join(workdir, "b.db")
    ctl.run("backup", backup)
    ctl.run("restore", backup)  # leaves an automatic backup
    [auto] = ctl.json("backup", "--list")
    p = ctl.run("check")
    assert "integrity:" in p.stdout and "ok" in p.stdout
    assert ctl.json("check")["integrity"] == "ok"

    damage(ctl.db)
    p = ctl.run("check", check=False)
    assert p.returncode == 6
    assert p.stderr.startswith("taskctl: database ")
    assert "is damaged" in p.stderr
    assert auto["path"] in p.stderr
    assert "taskctl -d %s restore %s" % (ctl.db, auto["path"]) in p.stderr
    # --list still works on a damaged database.
    assert ctl.json("backup", "--list") == [auto]

    p = ctl.run("restore", backup)
    assert "is damaged; moved it aside to" in p.stdout
    assert "into its place" in p.stdout
    [aside] = glob.glob(ctl.db + ".damaged-*")
    assert os.path.getsize(aside) > 0
    ctl.run("check")
    assert len(ctl.tasks(session)) == 35 + 300


def test_restore_of_a_missing_database(demo, workdir):
    ctl, session = demo
    backup = os.path.join(workdir, "b.db")
    ctl.run("backup", backup)
    os.unlink(ctl.db)
    out = ctl.json("restore", backup)
    assert out["copied"] is True and out["damaged"] is None
    assert out["saved"] is None
    assert out["revision"] == out["from_revision"]
    assert len(ctl.tasks(session)) == 35


def test_restore_refusals(demo, workdir):
    ctl, session = demo
    backup = os.path.join(workdir, "b.db")
    ctl.run("backup", backup)
    rev = ctl.json("export")["revision"]

    def refused(path, code, words):
        p = ctl.run("restore", path, check=False)
        assert p.returncode == code, (p.stdout, p.stderr)
        assert p.stderr.startswith("taskctl: ") and words in p.stderr
        assert ctl.json("export")["revision"] == rev

    refused(os.path.join(workdir, "missing.db"), 1, "no backup file")
    text = os.path.join(workdir, "text.db")
    write(text, "not a database at all, just words\n" * 40)
    refused(text, 4, "not an SQLite database")
    newer = os.path.join(workdir, "newer.db")
    ctl.run("backup", newer)
    db = sqlite3.connect(newer)
    db.execute("PRAGMA user_version = 99")
    db.close()
    refused(newer, 4, "newer")
    broken = os.path.join(workdir, "broken.db")
    subprocess.run(["cp", backup, broken], check=True)
    damage(broken)
    refused(broken, 4, "damaged")
    refused(ctl.db, 4, "database itself")
    assert ctl.run("restore", check=False).returncode == 2
    # A database of a newer taskfs is left alone.
    db = sqlite3.connect(ctl.db)
    db.execute("PRAGMA user_version = 99")
    db.close()
    p = ctl.run("restore", backup, check=False)
    assert p.returncode == 6 and "newer" in p.stderr
    assert not glob.glob(ctl.db + ".damaged-*")


def test_backup_before_a_schema_upgrade(demo, workdir):
    ctl, session = demo
    db = sqlite3.connect(ctl.db)
    db.execute("DROP TABLE sync_ops")
    db.execute("PRAGMA user_version = 2")
    db.close()
    p = ctl.run("task", "list", "--session", session)
    assert "upgraded the schema" in p.stderr
    [b] = ctl.json("backup", "--list")
    assert b["reason"] == "before-schema-2-to-3"
    assert os.path.basename(b["path"]).startswith("tasks.db-")
    old = sqlite3.connect(b["path"])
    assert old.execute("PRAGMA user_version").fetchone()[0] == 2
    old.close()
    assert oct(os.stat(os.path.dirname(b["path"])).st_mode & 0o777) == "0o700"
    # Upgraded once: the next command makes no backup.
    p = ctl.run("task", "list", "--session", session)
    assert p.stderr == ""
    assert len(ctl.json("backup", "--list")) == 1


def test_restore_of_a_damaged_database_under_a_mount(demo, mount_factory,
                                                      workdir):
    ctl, session = demo
    tasks = [{"session": session, "group": "backend",
              "title": "Filler task %d" % i, "description": DESC}
             for i in range(300)]
    ctl.run("task", "import", input=json.dumps(tasks))
    backup = os.path.join(workdir, "b.db")
    ctl.run("backup", backup)
    ctl.run("task", "set", "dashboard_layout_001", "--progress", "90")
    m = mount_factory(ctl.db)
    task_file = m.path(session, "tasks", "active", "dashboard_layout_001.md")
    assert "**Progress**: 90%" in read(task_file)
    damage(ctl.db)
    assert ctl.run("check", check=False).returncode == 6
    p = ctl.run("restore", backup)
    assert "moved it aside" in p.stdout
    # The mount notices the file was replaced (checked at most every
    # 100 ms) and shows the backup.
    deadline = time.time() + 5
    while "**Progress**: 60%" not in read(task_file):
        assert time.time() < deadline, read(task_file)
        time.sleep(0.05)
    assert "was replaced" in m.stderr()


def test_restore_of_swapped_group_names_under_a_mount(demo, mount_factory,
                                                       workdir):
    ctl, session = demo
    m = mount_factory(ctl.db)
    backup = os.path.join(workdir, "b.db")
    ctl.run("backup", backup)
    front = m.path(session, "task_groups", "frontend.md")
    back = m.path(session, "task_groups", "backend.md")
    assert "Frontend Development" in read(front)
    for gid, name in (("frontend_group_001", "tmp"),
                      ("backend_group_001", "frontend"),
                      ("frontend_group_001", "backend")):
        ctl.run("group", "set", gid, "--name", name)
    eventually(lambda: "Backend API" in read(front))
    before = ctl.json("export")["revision"]
    ctl.run("restore", backup)
    eventually(lambda: "Frontend Development" in read(front))
    eventually(lambda: "Backend API" in read(back))
    # One change of name per group, straight back.
    db = sqlite3.connect(ctl.db)
    rows = db.execute("SELECT rec, old_value, new_value FROM history"
                      " WHERE revision > ? AND field = 'name' ORDER BY rec",
                      (before,)).fetchall()
    db.close()
    assert rows == [("backend_group_001", "frontend", "backend"),
                    ("frontend_group_001", "backend", "frontend")]
    # The mount goes on saving through the rebuilt index.
    text = read(front).replace("**Status**: active", "**Status**: blocked", 1)
    write(front, text)
    assert [g for g in ctl.groups(session)
            if g["name"] == "frontend"][0]["status"] == "blocked"


def test_damaged_database_is_mounted_read_only(demo, workdir):
    """taskfs checks the database once the mount serves: a damaged one
    turns the mount read-only, and the log names the backups and how to
    restore."""
    ctl, session = demo
    tasks = [{"session": session, "group": "backend",
              "title": "Filler task %d" % i, "description": DESC}
             for i in range(300)]
    ctl.run("task", "import", input=json.dumps(tasks))
    ctl.run("backup", os.path.join(workdir, "b.db"))
    damage(ctl.db)
    mnt = os.path.join(workdir, "mnt")
    os.mkdir(mnt)
    log = os.path.join(workdir, "damaged.log")
    p = subprocess.run([TASKFS, ctl.db, mnt, "-o", "logfile=" + log],
                       capture_output=True, text=True, timeout=30)
    try:
        assert p.returncode == 0, p.stderr
        deadline = time.time() + 20
        while "read-only" not in (open(log).read()
                                  if os.path.exists(log) else ""):
            assert time.time() < deadline, "the check did not fail"
            time.sleep(0.05)
        text = open(log).read()
        assert "is damaged" in text and "restore" in text
    finally:
        subprocess.run(["fusermount3", "-u", mnt])
    assert not is_mounted(mnt)
