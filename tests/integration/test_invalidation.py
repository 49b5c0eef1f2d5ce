# SPDX-License-Identifier: MIT
"""The kernel caches generated names, attributes, pages and listings for
long; a commit by another program (taskctl, plain sqlite3) must still be
seen through every cached path: lookup (a file appears, moves, goes),
getattr (its size), readdir (a listing) and read (its text), also right
after the file or folder was read, so that the kernel holds it. Nothing
else touches the mount meanwhile. The checks poll with a generous bound
and assert no timing."""
import os
import sqlite3
import time

import pytest

from conftest import eventually, read, write


@pytest.fixture
def mounted(demo, mount_factory):
    """The demo database mounted with the kernel's cache and its watcher."""
    ctl, session = demo
    return mount_factory(ctl.db, options=["-o", "kernel_cache"]), ctl, session


def sql(db, statement, *args):
    con = sqlite3.connect(db, isolation_level=None)
    try:
        con.execute(statement, args)
    finally:
        con.close()


def planned_task(ctl, session):
    return next(t for t in ctl.tasks(session) if t["status"] == "planned")


def hold(path):
    """Reads a file or lists a folder, and stats it, so that the kernel
    holds its name, attributes and pages or listing."""
    if os.path.isdir(path):
        os.listdir(path)
    else:
        read(path)
    os.stat(path)


def test_sql_title_shows_in_size_and_text(mounted):
    m, ctl, session = mounted
    t = planned_task(ctl, session)
    p = m.path(session, "tasks", "planned", t["id"] + ".md")
    g = m.path(session, "task_groups",
               t["group_name"] + ".md")
    for f in (p, g):
        hold(f)
        hold(f)
    size, gsize = os.stat(p).st_size, os.stat(g).st_size
    title = "Retitled by plain SQL, a good deal longer than before"
    sql(ctl.db, "UPDATE tasks SET title = ? WHERE id = ?", title, t["id"])
    eventually(lambda: os.stat(p).st_size != size, "task file size")
    eventually(lambda: os.stat(g).st_size != gsize, "group file size")
    assert title in read(p)
    assert title in read(g)
    # stat and read agree: the size is that of the new text.
    with open(p, "rb") as f:
        assert len(f.read()) == os.stat(p).st_size


def test_taskctl_change_shows_in_text(mounted):
    m, ctl, session = mounted
    t = planned_task(ctl, session)
    p = m.path(session, "tasks", "planned", t["id"] + ".md")
    hold(p)
    for progress in (10, 20, 35):
        ctl.run("task", "set", t["id"], "--progress", progress)
        eventually(lambda: "**Progress**: %d%%" % progress in read(p),
                   "progress %d" % progress)


def test_new_task_appears(mounted):
    m, ctl, session = mounted
    t = planned_task(ctl, session)
    planned = m.path(session, "tasks", "planned")
    gfile = m.path(session, "task_groups",
                   t["group_name"] + ".md")
    hold(planned)
    hold(gfile)
    new = ctl.run("task", "add", "--session", session, "--group",
                  t["group"], "--title",
                  "Appeared from taskctl").stdout.strip().splitlines()[-1]
    name = new + ".md"
    eventually(lambda: name in os.listdir(planned), "listing of planned/")
    eventually(lambda: os.path.exists(os.path.join(planned, name)),
               "lookup of the new file")
    assert "Appeared from taskctl" in read(os.path.join(planned, name))
    eventually(lambda: "Appeared from taskctl" in read(gfile),
               "group file text")


def test_sql_insert_appears(mounted):
    m, ctl, session = mounted
    t = planned_task(ctl, session)
    planned = m.path(session, "tasks", "planned")
    hold(planned)
    sql(ctl.db, "INSERT INTO tasks (id, session_id, group_id, title) "
        "VALUES ('sql_made_001', ?, ?, 'Made with sqlite3')",
        session, t["group"])
    eventually(lambda: "sql_made_001.md" in os.listdir(planned),
               "listing of planned/")
    assert "Made with sqlite3" in read(os.path.join(planned,
                                                    "sql_made_001.md"))


def test_status_change_moves_the_file(mounted):
    m, ctl, session = mounted
    t = planned_task(ctl, session)
    name = t["id"] + ".md"
    old = m.path(session, "tasks", "planned", name)
    new = m.path(session, "tasks", "active", name)
    for p in (old, m.path(session, "tasks", "planned"),
              m.path(session, "tasks", "active")):
        hold(p)
    assert not os.path.exists(new)
    sql(ctl.db, "UPDATE tasks SET status = 'active' WHERE id = ?", t["id"])
    eventually(lambda: not os.path.exists(old), "lookup of the old name")
    eventually(lambda: os.path.exists(new), "lookup of the new name")
    assert name not in os.listdir(m.path(session, "tasks", "planned"))
    assert name in os.listdir(m.path(session, "tasks", "active"))
    assert "**Status**: active" in read(new)
    # And back, by taskctl.
    hold(new)
    ctl.run("task", "set", t["id"], "--status", "planned")
    eventually(lambda: os.path.exists(old) and not os.path.exists(new),
               "the file back in planned/")


def test_moved_file_read_at_once_through_its_old_name(mounted):
    """A task file read through its old name right after its status
    changed (the open gives the kernel the new text, unless the watcher's
    pass came first and the name is already gone): the old name still
    goes, the new one comes, and both the text and the attributes are
    the new ones."""
    m, ctl, session = mounted
    t = planned_task(ctl, session)
    name = t["id"] + ".md"
    old = m.path(session, "tasks", "planned", name)
    new = m.path(session, "tasks", "active", name)
    hold(old)
    hold(old)
    sql(ctl.db, "UPDATE tasks SET status = 'active', title = 'Moved and "
        "read at once' WHERE id = ?", t["id"])
    try:
        with open(old, "rb") as f:
            text = f.read().decode()
    except FileNotFoundError:
        text = None  # the watcher's pass came first: the name is gone
    eventually(lambda: not os.path.exists(old), "lookup of the old name")
    eventually(lambda: os.path.exists(new), "lookup of the new name")
    now = read(new)
    assert "**Status**: active" in now and "Moved and read at once" in now
    assert os.stat(new).st_size == len(now.encode())
    assert text in (None, now)
    hold(new)
    assert read(new) == now


def test_group_rename_and_removal(mounted):
    m, ctl, session = mounted
    g = ctl.groups(session)[0]
    groups = m.path(session, "task_groups")
    old = os.path.join(groups, g["name"] + ".md")
    hold(groups)
    hold(old)
    ctl.run("group", "set", g["id"], "--name", "renamed-elsewhere")
    new = os.path.join(groups, "renamed-elsewhere.md")
    eventually(lambda: not os.path.exists(old), "lookup of the old name")
    eventually(lambda: os.path.exists(new), "lookup of the new name")
    assert "renamed-elsewhere.md" in os.listdir(groups)
    assert g["name"] + ".md" not in os.listdir(groups)
    hold(new)
    ctl.run("group", "rm", g["id"])
    eventually(lambda: not os.path.exists(new), "lookup of a removed group")
    assert "renamed-elsewhere.md" not in os.listdir(groups)


def test_removed_task_goes(mounted):
    m, ctl, session = mounted
    t = planned_task(ctl, session)
    p = m.path(session, "tasks", "planned", t["id"] + ".md")
    hold(p)
    hold(m.path(session, "tasks", "planned"))
    ctl.run("task", "rm", t["id"])
    eventually(lambda: not os.path.exists(p), "lookup of a removed task")
    assert t["id"] + ".md" not in os.listdir(m.path(session, "tasks",
                                                    "planned"))
    ctl.run("task", "restore", t["id"])
    eventually(lambda: os.path.exists(p), "lookup of a restored task")


def test_session_file_and_folder_time(mounted):
    m, ctl, session = mounted
    t = planned_task(ctl, session)
    smd = m.path(session, "session.md")
    hold(smd)
    hold(m.path(session))
    before = read(smd)
    dir_mtime = os.stat(m.path(session)).st_mtime_ns
    time.sleep(0.01)
    ctl.run("task", "set", t["id"], "--status", "completed")
    eventually(lambda: read(smd) != before, "session.md text")
    eventually(lambda: os.stat(m.path(session)).st_mtime_ns != dir_mtime,
               "the session folder's time")


def test_open_reader_keeps_its_snapshot(mounted):
    m, ctl, session = mounted
    t = planned_task(ctl, session)
    p = m.path(session, "tasks", "planned", t["id"] + ".md")
    hold(p)
    with open(p, "rb") as f:
        first = f.read(10)
        sql(ctl.db, "UPDATE tasks SET title = 'Changed while open' "
            "WHERE id = ?", t["id"])
        eventually(lambda: "Changed while open" in read(p), "a new open")
        rest = f.read()
    snapshot = first + rest
    assert b"Changed while open" not in snapshot
    assert snapshot.decode().startswith("---\n")


def test_save_through_mount_then_read(mounted):
    m, ctl, session = mounted
    marker = "## 📋 Planned\n"
    paths = [m.path(session, "task_groups", g["name"] + ".md")
             for g in ctl.groups(session)]
    p = next(x for x in paths if marker in read(x))
    hold(p)
    text = read(p)
    write(p, text.replace(marker, marker + "\n### Written through the "
                          "mount\n\nA task made by a save.\n", 1))
    # Read at once: the saved rendering, with the new task's id.
    new = next(x for x in ctl.tasks(session)
               if x["title"] == "Written through the mount")
    after = read(p)
    assert "### Written through the mount `%s`" % new["id"] in after
    assert os.stat(p).st_size == len(after.encode())
    # Its own file is there at once, and the session's overview follows.
    tp = m.path(session, "tasks", "planned", new["id"] + ".md")
    assert os.path.exists(tp)
    assert "A task made by a save." in read(tp)


def test_repeated_changes_never_stale(mounted):
    """After each commit, once a change shows it stays: stat and read
    agree with the database from then on."""
    m, ctl, session = mounted
    t = planned_task(ctl, session)
    p = m.path(session, "tasks", "planned", t["id"] + ".md")
    for i in range(15):
        hold(p)
        title = "Round %d %s" % (i, "x" * (i % 4))
        sql(ctl.db, "UPDATE tasks SET title = ? WHERE id = ?", title, t["id"])
        eventually(lambda: title in read(p), "round %d" % i)
        for _ in range(3):
            text = read(p)
            assert title in text
            assert os.stat(p).st_size == len(text.encode())


def drop_page_cache():
    if not os.access("/proc/sys/vm/drop_caches", os.W_OK):
        pytest.skip("needs root to drop the page cache")
    os.sync()
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("1\n")


@pytest.fixture
def uncached(demo, mount_factory):
    """A mount that keeps no rendering (-o render_cache=0): an open of a
    file whose pages the kernel holds renders nothing, and the text comes
    from the kernel alone."""
    ctl, session = demo
    m = mount_factory(ctl.db, options=["-o", "render_cache=0"])
    return m, ctl, session


def test_reader_of_kernel_pages_reads_after_they_are_dropped(uncached):
    """A reader opened on pages the kernel held reads its whole text when
    the kernel lets them go while it reads."""
    m, ctl, session = uncached
    g = m.path(session, "task_groups", ctl.groups(session)[0]["name"] + ".md")
    t = planned_task(ctl, session)
    p = m.path(session, "tasks", "planned", t["id"] + ".md")
    for f in (g, p):
        hold(f)
        text = read(f).encode()
        with open(f, "rb") as r:
            first = r.read(100)
            drop_page_cache()
            rest = r.read()
            assert first + rest == text
            drop_page_cache()
            assert os.pread(r.fileno(), len(text) + 10, 0) == text
            assert os.fstat(r.fileno()).st_size == len(text)


def test_reader_of_kernel_pages_keeps_text_renamed_away(uncached):
    """A reader opened on the kernel's pages keeps the text it opened when
    the file is renamed away from its managed name (its text becomes an
    ordinary file) or removed, also once the kernel let the pages go."""
    m, ctl, session = uncached
    ts = [t for t in ctl.tasks(session) if t["status"] == "planned"][:2]
    for t, how in zip(ts, ("rename", "unlink")):
        p = m.path(session, "tasks", "planned", t["id"] + ".md")
        hold(p)
        text = read(p).encode()
        with open(p, "rb") as r:
            if how == "rename":
                os.rename(p, m.path(session, "notes", "kept.md"))
            else:
                os.unlink(p)
            drop_page_cache()
            assert os.pread(r.fileno(), len(text) + 10, 0) == text


def test_reader_of_kernel_pages_keeps_snapshot_of_change(uncached):
    """A change by another program while a reader holds the kernel's
    pages: the reader keeps reading what it opened, new opens read the
    change, and stat agrees with them."""
    m, ctl, session = uncached
    t = planned_task(ctl, session)
    p = m.path(session, "tasks", "planned", t["id"] + ".md")
    hold(p)
    text = read(p).encode()
    with open(p, "rb") as r:
        first = r.read(10)
        sql(ctl.db, "UPDATE tasks SET title = 'Changed under a reader' "
            "WHERE id = ?", t["id"])
        eventually(lambda: "Changed under a reader" in read(p), "a new open")
        assert first + r.read() == text
        new = read(p)
        assert os.stat(p).st_size == len(new.encode())
    hold(p)
    assert read(p) == new


def test_conflict_file_comes_and_goes_in_a_held_listing(demo, mount_factory,
                                                       workdir):
    """A conflict file has no revision of its own: it shows in a listing
    the kernel holds when a save records the conflict, and leaves it when
    taskctl resolves it keeping the database's value (which changes no
    record)."""
    ctl, session = demo
    config = os.path.join(workdir, "taskfs.yaml")
    write(config, "auto_merge_window: 0s\n")
    m = mount_factory(ctl.db, options=["-o", "config=" + config])
    groups = m.path(session, "task_groups")
    path = os.path.join(groups, "frontend.md")
    task = [t for t in ctl.json("task", "list", "--session", session,
                                "--group", "frontend")
            if t["status"] == "active"][0]
    hold(groups)
    hold(groups)
    text = read(path)
    line = "- **Progress**: %d%%" % task["progress"]
    assert text.count(line) >= 1
    ctl.run("task", "set", task["id"], "--progress", 11)
    start = text.index("`%s`" % task["id"])
    at = text.index(line, start)
    write(path, text[:at] + "- **Progress**: 77%" + text[at + len(line):])
    (c,) = ctl.json("conflicts")
    eventually(lambda: "frontend.conflict.md" in os.listdir(groups),
               "the conflict file listed")
    hold(groups)
    ctl.run("resolve", c["id"], "--keep", "db")
    assert ctl.task(task["id"])["progress"] == 11
    eventually(lambda: "frontend.conflict.md" not in os.listdir(groups),
               "the conflict file gone from the listing")


def test_open_at_once_after_change_leaves_held_readers_alone(mounted):
    """A file read whole (the daemon lets go of its copy: the kernel holds
    the pages) and held open by a reader; plain SQL changes it, and at
    once, before the watcher's pass, the path is opened again: that open
    reads the new text, and the reader still reads the old."""
    m, ctl, session = mounted
    for i, t in enumerate(ctl.tasks(session)[:6]):
        path = m.path(session, "tasks", t["status"], t["id"] + ".md")
        text = read(path)
        with open(path) as fh:
            sql(ctl.db, "UPDATE tasks SET title = ? WHERE id = ?",
                "Raced %d" % i, t["id"])
            assert "# Raced %d `%s`" % (i, t["id"]) in read(path)
            assert fh.read() == text
