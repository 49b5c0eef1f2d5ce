# SPDX-License-Identifier: MIT
"""taskfs and taskctl on a PostgreSQL database: the tree, a save through
the mount, a change made with psql seen through the mount, a conflict
between psql and a save, and the password of the database's URI never
shown (/proc/mounts, ps, the log, taskctl's output); the same save, psql
change and conflict through a plain folder (taskctl checkout and sync).

Needs TASKFS_TEST_PG, the URI of a database whose user may create schemas
(tools/run-tests starts a cluster and sets it); each test works in a
schema of its own."""
import os
import subprocess
import tempfile
import time
import urllib.parse
import uuid

import pytest

from conftest import TASKCTL, TASKFS, Taskctl, read, write

BASE = os.environ.get("TASKFS_TEST_PG")

pytestmark = pytest.mark.skipif(not BASE, reason="TASKFS_TEST_PG is not set")


def password_of(uri):
    return urllib.parse.urlsplit(uri).password


def psql(uri, sql):
    """Runs sql with psql, as another program would; returns its output."""
    p = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v",
                        "ON_ERROR_STOP=1", "-d", uri, "-c", sql],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    return p.stdout.strip()


@pytest.fixture
def pg_uri():
    """The URI of a fresh schema of the test database, dropped after."""
    schema = "it_" + uuid.uuid4().hex[:12]
    psql(BASE, "CREATE SCHEMA " + schema)
    sep = "&" if "?" in BASE else "?"
    yield BASE + sep + "options=-csearch_path%3D" + schema
    psql(BASE, "DROP SCHEMA %s CASCADE" % schema)


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
