# SPDX-License-Identifier: MIT
"""taskfs and taskctl on a PostgreSQL database: the tree, a save through
the mount, a change made with psql seen through the mount, a conflict
between psql and a save, and the password of the database's URI never
shown (/proc/mounts, ps, the log, taskctl's output); the same save, psql
change and conflict through a plain folder (taskctl checkout and sync);
a database copied from SQLite to the server and back (taskctl copy).

Needs TASKFS_TEST_PG, the URI of a database whose user may create schemas
(tools/run-tests starts a cluster and sets it); each test works in a
schema of its own (conftest's pg_uri)."""
import os
import sqlite3
import subprocess
import tempfile
import threading
import time
import urllib.parse

import pytest

from conftest import TASKCTL, TASKFS, Taskctl, psql, read, write

BASE = os.environ.get("TASKFS_TEST_PG")

pytestmark = pytest.mark.skipif(not BASE, reason="TASKFS_TEST_PG is not set")


def password_of(uri):
    return urllib.parse.urlsplit(uri).password


@pytest.fixture
def pg_demo(pg_uri):
    ctl = Taskctl(pg_uri)
    p = ctl.run("demo")
    return ctl, p.stdout.strip().splitlines()[-1]


@pytest.fixture
def pg_mounted(pg_demo, mount_factory):
    ctl, session = pg_demo
    return mount_factory(ctl.db), ctl, session


def test_taskctl_init_and_no_password(pg_uri):
    ctl = Taskctl(pg_uri)
    p = ctl.run("init")
    secret = password_of(pg_uri)
    assert secret and secret not in p.stdout + p.stderr
    assert "postgresql://" in p.stdout
    # Whole-database backups of PostgreSQL are pg_dump's.
    p = ctl.run("backup", "/nonexistent/copy.db", check=False)
    assert p.returncode != 0 and "pg_dump" in p.stderr
    wrong = Taskctl(pg_uri.replace(secret, "not-the-password"))
    p = wrong.run("session", "list", check=False)
    assert p.returncode != 0
    assert "not-the-password" not in p.stdout + p.stderr


def test_taskctl_check_shows_no_password(pg_uri):
    ctl = Taskctl(pg_uri)
    ctl.run("init")
    p = ctl.run("check")
    assert "integrity:      ok" in p.stdout
    assert password_of(pg_uri) not in p.stdout + p.stderr


def test_taskctl_whole_database_commands_on_a_server(pg_uri, workdir):
    """backup --list and restore know a server's database: they say what
    to use instead, without the password, and make no file of the URI."""
    ctl = Taskctl(pg_uri)
    ctl.run("init")
    secret = password_of(pg_uri)
    p = ctl.run("backup", "--list", check=False)
    assert p.returncode == 4 and "pg_dump" in p.stderr, p.stderr
    assert secret not in p.stdout + p.stderr
    f = Taskctl(os.path.join(workdir, "file.db"))
    f.run("demo")
    f.run("backup", os.path.join(workdir, "b.db"))
    before = set(os.listdir(workdir))
    p = ctl.run("restore", os.path.join(workdir, "b.db"), check=False)
    assert p.returncode == 4 and "pg_restore" in p.stderr, p.stderr
    assert secret not in p.stdout + p.stderr
    assert set(os.listdir(workdir)) == before
    assert ctl.json("session", "list") == []


def test_tree(pg_mounted):
    m, ctl, session = pg_mounted
    assert os.listdir(m.mnt) == [session]
    top = set(os.listdir(m.path(session)))
    assert {"session.md", "task_groups", "tasks", "notes", "meta"} <= top
    groups = sorted(g["name"] + ".md" for g in ctl.groups(session))
    assert sorted(os.listdir(m.path(session, "task_groups"))) == groups
    text = read(m.path(session, "session.md"))
    assert text.startswith("---\ntaskfs: 1\n")
    assert os.stat(m.path(session, "session.md")).st_size == \
        len(text.encode())


def test_save_through_the_mount(pg_mounted):
    m, ctl, session = pg_mounted
    task = [t for t in ctl.tasks(session) if t["status"] == "active"][0]
    path = m.path(session, "tasks", "active", task["id"] + ".md")
    text = read(path)
    old = "**Progress**: %d%%" % task["progress"]
    assert old in text
    write(path, text.replace(old, "**Progress**: 93%", 1))
    assert ctl.task(task["id"])["progress"] == 93
    log = psql(ctl.db, "SELECT source || ' ' || field || ' ' || new_value"
                       " FROM history WHERE rec = '%s' ORDER BY id DESC"
                       " LIMIT 1" % task["id"])
    assert log == "taskfs progress 93"


def wait_for(check, timeout=5.0):
    """A change by another program reaches the mount as a notification
    from the server, a moment after that program's commit returns."""
    deadline = time.time() + timeout
    while True:
        if check():
            return True
        if time.time() > deadline:
            return False
        time.sleep(0.05)


def test_psql_change_seen(pg_mounted):
    m, ctl, session = pg_mounted
    task = ctl.tasks(session)[0]
    path = m.path(session, "tasks", task["status"], task["id"] + ".md")
    assert task["title"] in read(path)
    psql(ctl.db, "UPDATE tasks SET title = 'Renamed by psql'"
                 " WHERE id = '%s'" % task["id"])
    assert wait_for(lambda: "Renamed by psql" in read(path))
    # A new task inserted with SQL gets its file.
    group = ctl.groups(session)[0]
    psql(ctl.db, "INSERT INTO tasks (id, session_id, group_id, title)"
                 " VALUES ('sql_task_001', '%s', '%s', 'From SQL')"
                 % (session, group["id"]))
    planned = m.path(session, "tasks", "planned")
    assert wait_for(lambda: "sql_task_001.md" in os.listdir(planned))
    assert ctl.task("sql_task_001")["title"] == "From SQL"
    src = psql(ctl.db, "SELECT DISTINCT source FROM history"
                       " WHERE rec IN ('sql_task_001', '%s')"
                       " AND source = 'sql'" % task["id"])
    assert src == "sql"


def test_conflict_between_psql_and_a_save(pg_demo, mount_factory, workdir):
    ctl, session = pg_demo
    conf = os.path.join(workdir, "taskfs.yaml")
    write(conf, "auto_merge_window: 0s\n")
    m = mount_factory(ctl.db, options=["-o", "config=" + conf])
    group = [g for g in ctl.groups(session) if g["name"] == "frontend"][0]
    task = [t for t in ctl.json("task", "list", "--group", group["id"])
            if t["status"] == "active"][0]
    path = m.path(session, "task_groups", "frontend.md")
    text = read(path)
    psql(ctl.db, "UPDATE tasks SET status = 'blocked' WHERE id = '%s'"
         % task["id"])
    start = text.index("`%s`" % task["id"])
    line = "- [ ] **Status**: active"
    at = text.index(line, start)
    write(path, text[:at] + "- [x] **Status**: active" +
          text[at + len(line):])
    assert ctl.task(task["id"])["status"] == "blocked"
    c = ctl.json("conflicts")
    assert [(x["field"], x["database"], x["file"]) for x in c] == [
        ("status", "blocked", "completed")]
    assert "frontend.conflict.md" in os.listdir(os.path.dirname(path))


def test_password_never_shown(pg_mounted):
    m, ctl, session = pg_mounted
    secret = password_of(ctl.db)
    assert secret
    with open("/proc/mounts") as f:
        mounts = f.read()
    assert m.mnt in mounts
    assert secret not in mounts
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True,
                        text=True).stdout
    assert secret not in ps
    read(m.path(session, "session.md"))
    assert secret not in m.stderr()


@pytest.mark.parametrize("form", ["-d", "--db="])
def test_taskctl_command_line_shows_no_password(pg_demo, form):
    """A running taskctl (here the MCP server, which waits on its input)
    names its database without the password in ps and /proc."""
    ctl, session = pg_demo
    secret = password_of(ctl.db)
    args = [form, ctl.db] if form == "-d" else [form + ctl.db]
    p = subprocess.Popen([TASKCTL] + args + ["mcp"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        time.sleep(0.3)
        assert p.poll() is None, p.stderr.read()
        with open("/proc/%d/cmdline" % p.pid, "rb") as f:
            cmdline = f.read()
        assert b"postgresql://" in cmdline
        assert secret.encode() not in cmdline
        ps = subprocess.run(["ps", "-o", "args=", "-p", str(p.pid)],
                            capture_output=True, text=True).stdout
        assert "taskctl" in ps and secret not in ps
    finally:
        p.stdin.close()
        p.wait(timeout=10)
        p.stdout.close()
        p.stderr.close()


# Without FUSE: taskctl checkout and sync keep a plain folder and the
# database in step with the mount's rules (docs/folder.md); on PostgreSQL
# they exercise the same saves, merges and conflicts as a mount.

EXIT_CONFLICTS = 8


def folder_sync(ctl, tree, want=0):
    p = ctl.run("sync", tree, check=False)
    assert p.returncode == want, p.stdout + p.stderr
    return p


@pytest.fixture
def pg_checkout(pg_demo, workdir):
    ctl, session = pg_demo
    tree = os.path.join(workdir, "tree")
    p = ctl.run("checkout", tree)
    assert "checked out" in p.stdout, p.stdout
    return ctl, session, os.path.join(tree, session), tree


def frontend_task(ctl, session):
    """An active task of the group frontend."""
    g = [g for g in ctl.groups(session) if g["name"] == "frontend"][0]
    return [t for t in ctl.json("task", "list", "--group", g["id"])
            if t["status"] == "active"][0]


def test_folder_save(pg_checkout):
    ctl, session, top, tree = pg_checkout
    task = frontend_task(ctl, session)
    path = os.path.join(top, "tasks", "active", task["id"] + ".md")
    old = "**Progress**: %d%%" % task["progress"]
    write(path, read(path).replace(old, "**Progress**: 64%", 1))
    folder_sync(ctl, tree)
    assert ctl.task(task["id"])["progress"] == 64


def test_folder_gets_psql_change(pg_checkout):
    ctl, session, top, tree = pg_checkout
    task = frontend_task(ctl, session)
    psql(ctl.db, "UPDATE tasks SET title = 'Set by psql' WHERE id = '%s'"
         % task["id"])
    folder_sync(ctl, tree)
    path = os.path.join(top, "tasks", "active", task["id"] + ".md")
    assert "# Set by psql `%s`" % task["id"] in read(path)


def test_folder_conflict_with_psql(pg_checkout):
    ctl, session, top, tree = pg_checkout
    task = frontend_task(ctl, session)
    path = os.path.join(top, "task_groups", "frontend.md")
    heading = "### %s `%s`" % (task["title"], task["id"])
    text = read(path)
    assert heading in text
    psql(ctl.db, "UPDATE tasks SET title = 'Database title' WHERE id = '%s'"
         % task["id"])
    write(path, text.replace(heading, "### File title `%s`" % task["id"], 1))
    folder_sync(ctl, tree, want=EXIT_CONFLICTS)
    assert ctl.task(task["id"])["title"] == "Database title"
    conflicts = ctl.json("conflicts")
    assert [(c["field"], c["database"], c["file"]) for c in conflicts] == [
        ("title", "Database title", "File title")]
    assert os.path.exists(path[:-3] + ".conflict.md")


def test_folder_state_holds_no_password(pg_checkout):
    ctl, session, top, tree = pg_checkout
    secret = password_of(ctl.db)
    for root, dirs, names in os.walk(tree):
        for n in names:
            with open(os.path.join(root, n), "rb") as f:
                assert secret.encode() not in f.read(), os.path.join(root, n)


def test_folder_sync_with_libpq_credentials(pg_checkout):
    """The state names the database without its password: a sync without
    -d connects with libpq's credentials, and says how to give them when
    there are none; -d with the password works as well."""
    ctl, session, top, tree = pg_checkout
    secret = password_of(ctl.db)
    env = {k: v for k, v in os.environ.items()
           if k not in ("TASKFS_DB", "PGPASSWORD", "PGPASSFILE",
                        "PGSERVICEFILE")}
    env["PGPASSFILE"] = os.path.join(tree, "no-such-pgpass")
    p = subprocess.run([TASKCTL, "sync", tree], capture_output=True,
                       text=True, env=env, timeout=60)
    assert p.returncode != 0
    assert "asks for a password and none was given" in p.stderr, p.stderr
    assert "PGPASSWORD" in p.stderr and "~/.pgpass" in p.stderr
    assert secret not in p.stdout + p.stderr
    env["PGPASSWORD"] = secret
    p = subprocess.run([TASKCTL, "sync", tree], capture_output=True,
                       text=True, env=env, timeout=60)
    assert p.returncode == 0, p.stderr
    assert secret not in p.stdout + p.stderr
    folder_sync(ctl, tree)
    # Another database is refused, without showing either password.
    other = ctl.db.replace("options=", "application_name=x&options=")
    p = subprocess.run([TASKCTL, "-d", other, "sync", tree],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 4 and "is a checkout of the database" in p.stderr
    assert secret not in p.stdout + p.stderr


# Moving a database between an SQLite file and a server: taskctl copy.

EXIT_NOTEMPTY = 10


def edited_demo(workdir, name="orig.db"):
    """A demo database with a history of several revisions: fields of a
    task changed several times, a task completed and one removed, a group
    retitled; saves from a plain folder (the edit log), one of them in
    conflict with taskctl (a conflict and its backups)."""
    ctl = Taskctl(os.path.join(workdir, name))
    session = ctl.run("demo").stdout.strip().splitlines()[-1]
    tasks = ctl.tasks(session)
    t = tasks[0]["id"]
    for progress in (10, 35, 80):
        ctl.run("task", "set", t, "--progress", str(progress))
    ctl.run("task", "set", t, "--title", "Renamed once", "--estimate", "2.5h")
    ctl.run("task", "set", tasks[1]["id"], "--status", "completed")
    ctl.run("task", "rm", tasks[2]["id"])
    g = ctl.groups(session)[0]
    ctl.run("group", "set", g["id"], "--title", "Retitled group")
    tree = os.path.join(workdir, "tree-" + name)
    ctl.run("checkout", tree)
    task = frontend_task(ctl, session)
    path = os.path.join(tree, session, "tasks", "active", task["id"] + ".md")
    old = "**Progress**: %d%%" % task["progress"]
    write(path, read(path).replace(old, "**Progress**: 64%", 1))
    folder_sync(ctl, tree)
    heading = "# %s `%s`" % (task["title"], task["id"])
    text = read(path)
    ctl.run("task", "set", task["id"], "--title", "Database title")
    write(path, text.replace(heading, "# File title `%s`" % task["id"], 1))
    folder_sync(ctl, tree, want=EXIT_CONFLICTS)
    return ctl, session


def views(ctl, session):
    """What taskctl shows of a database, as JSON."""
    return {
        "export": ctl.json("export"),
        "sessions": ctl.json("session", "list"),
        "groups": ctl.json("group", "list", "--session", session,
                           "--deleted"),
        "tasks": ctl.json("task", "list", "--session", session, "--deleted"),
        "log": ctl.json("log", "--session", session, "--limit", "1000"),
        "conflicts": ctl.json("conflicts", "--all"),
        "backups": ctl.json("backups"),
        "tasks_shown": [ctl.task(t["id"]) for t in ctl.tasks(session)],
    }


def copy(src, dst, want=0):
    p = subprocess.run([TASKCTL, "copy", "--from", src, "--to", dst],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == want, p.stdout + p.stderr
    return p


def test_copy_sqlite_to_pg_and_back(workdir, pg_uri):
    ctl, session = edited_demo(workdir)
    want = views(ctl, session)
    assert want["log"] and want["conflicts"] and want["backups"]
    secret = password_of(pg_uri)
    p = copy(ctl.db, pg_uri)
    assert secret not in p.stdout + p.stderr
    rev = ctl.json("check")["revision"]
    assert "revision %d" % rev in p.stdout and "verified" in p.stdout
    pg = Taskctl(pg_uri)
    assert views(pg, session) == want
    assert pg.json("check")["revision"] == rev
    back = Taskctl(os.path.join(workdir, "back.db"))
    copy(pg_uri, back.db)
    assert views(back, session) == want
    # The next change is the same revision on all three, and the history
    # triggers are in place on the copies.
    t = want["tasks"][0]["id"]
    for c in (ctl, pg, back):
        c.run("task", "set", t, "--progress", "55")
        assert c.json("check")["revision"] == rev + 1
        assert c.task(t)["revision"] == rev + 1


def tree_files(top):
    files = {}
    for root, dirs, names in os.walk(top):
        for n in names:
            path = os.path.join(root, n)
            files[os.path.relpath(path, top)] = open(path, "rb").read()
    return files


def test_copy_mounts_alike(workdir, pg_uri, mount_factory):
    ctl, session = edited_demo(workdir)
    copy(ctl.db, pg_uri)
    a = tree_files(mount_factory(ctl.db, name="orig").mnt)
    b = tree_files(mount_factory(pg_uri, name="copy").mnt)
    assert sorted(a) == sorted(b)
    assert os.path.join(session, "meta", "edit_log.md") in a
    assert [p for p in a if a[p] != b[p]] == []
    assert len(a) > 40


def test_copy_refuses_a_target_that_is_not_empty(workdir, pg_uri):
    ctl, session = edited_demo(workdir)
    target = Taskctl(pg_uri)
    other = target.run("demo").stdout.strip().splitlines()[-1]
    before = views(target, other)
    p = copy(ctl.db, pg_uri, want=EXIT_NOTEMPTY)
    assert "is not empty" in p.stderr
    assert password_of(pg_uri) not in p.stdout + p.stderr
    assert views(target, other) == before
    # An SQLite file that holds a database is refused the same way.
    full = Taskctl(os.path.join(workdir, "full.db"))
    full.run("init")
    full.run("session", "create", "--title", "Mine")
    before = full.json("export")
    p = copy(pg_uri, full.db, want=EXIT_NOTEMPTY)
    assert "is not empty" in p.stderr
    assert full.json("export") == before
    # A database made by init is empty.
    empty = Taskctl(os.path.join(workdir, "empty.db"))
    empty.run("init")
    copy(ctl.db, empty.db)
    assert views(empty, session) == views(ctl, session)


def test_copy_while_the_source_is_written(workdir, pg_uri):
    """The source is read in one snapshot: the copy is the database as of
    one revision, whatever another program commits meanwhile."""
    ctl, session = edited_demo(workdir)
    tasks = [t["id"] for t in ctl.tasks(session)]
    stop = threading.Event()
    writes = []

    def writer():
        i = 0
        while not stop.is_set():
            t = tasks[i % len(tasks)]
            p = ctl.run("task", "set", t, "--progress", str(i % 101),
                        check=False)
            writes.append(p.returncode)
            i += 1

    th = threading.Thread(target=writer)
    th.start()
    try:
        while len(writes) < 3:
            time.sleep(0.02)
        copy(ctl.db, pg_uri)
        copied = len(writes)
        time.sleep(0.2)
    finally:
        stop.set()
        th.join()
    assert len(writes) > copied and all(rc == 0 for rc in writes)
    pg = Taskctl(pg_uri)
    assert pg.run("check").returncode == 0
    rev = pg.json("check")["revision"]
    db = sqlite3.connect(ctl.db)
    # Every row as the source had it at that revision, none after it.
    n_hist = db.execute("SELECT count(*) FROM history WHERE revision <= ?",
                        (rev,)).fetchone()[0]
    assert int(psql(pg_uri, "SELECT count(*) FROM history")) == n_hist
    assert int(psql(pg_uri, "SELECT max(revision) FROM history")) == rev
    for t in tasks:
        row = db.execute("SELECT new_value FROM history WHERE rec = ? AND"
                         " field = 'progress' AND revision <= ?"
                         " ORDER BY revision DESC LIMIT 1",
                         (t, rev)).fetchone()
        if row:
            assert str(pg.task(t)["progress"]) == str(row[0])
    db.close()
