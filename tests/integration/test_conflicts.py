# SPDX-License-Identifier: MIT
"""Saves based on an old revision while the database changed: clean
merges, auto merges, file wins, database wins, conflict files and their
resolution (ticking, deleting, taskctl), manual-resolution tasks, backups,
and a stress run of editors and database writers that loses nothing."""
import json
import os
import random
import re
import subprocess
import tempfile
import threading
import time

import pytest

from conftest import integrity, read, write


def block_of(text, task_id):
    m = re.search(r"^### .* `%s`$" % re.escape(task_id), text, re.M)
    start = m.start()
    ends = [i + 1 for i in (text.find("\n### ", start + 1),
                            text.find("\n## ", start + 1)) if i >= 0]
    return text[start:min(ends, default=len(text))]


def edit_block(text, task_id, old, new):
    b = block_of(text, task_id)
    assert old in b, (old, b)
    return text.replace(b, b.replace(old, new, 1), 1)


def sed(path, expr):
    subprocess.run(["sed", "-i", expr, path], check=True)


def py_replace(path, text):
    fd, tmp = tempfile.mkstemp(suffix=".md", dir=os.path.dirname(path))
    os.write(fd, text.encode())
    os.fsync(fd)
    os.close(fd)
    os.replace(tmp, path)


def vim_write(path, text, workdir):
    """vim writes the buffer (rename-and-create save) from a file we give
    it: the buffer's text is exactly text."""
    src = os.path.join(workdir, "vim-src.md")
    write(src, text)
    subprocess.run(["vim", "-u", "DEFAULTS", "-N", "-i", "NONE", "-es",
                    "-c", "%d", "-c", "0r " + src, "-c", "$d",
                    "-c", "w! " + path, "-c", "q!", src],
                   check=True, capture_output=True, timeout=30)


def as_text(value):
    """A text column that may hold any bytes (drafts, backups), as text."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def config(workdir, text):
    p = os.path.join(workdir, "taskfs.yaml")
    write(p, text)
    return ["-o", "config=" + p]


@pytest.fixture
def scene(demo, mount_factory, workdir, request):
    ctl, session = demo
    opts = config(workdir, request.param) if hasattr(request, "param") else []
    m = mount_factory(ctl.db, options=opts)
    group = [g for g in ctl.groups(session) if g["name"] == "frontend"][0]
    tasks = ctl.json("task", "list", "--group", group["id"])
    active = [t for t in tasks if t["status"] == "active"]
    path = m.path(session, "task_groups", "frontend.md")
    return m, ctl, session, path, active


def conflicts(ctl, *args):
    return ctl.json("conflicts", *args)


def backups(ctl):
    return ctl.json("backups")


def test_clean_merge(scene):
    m, ctl, session, path, active = scene
    a, b = active[0], active[1]
    text = read(path)
    ctl.run("task", "set", a["id"], "--priority", "critical")
    # sed -i on the old text: the line of b's progress, by number.
    line = text.split("\n").index("### %s `%s`" % (b["title"], b["id"])) + 4
    assert text.split("\n")[line - 1] == "- **Progress**: %d%%" % b["progress"]
    snapshot = os.path.join(os.path.dirname(path), "..", "old.md")
    write(snapshot, text)
    sed(snapshot, "%ds/.*/- **Progress**: 81%%/" % line)
    os.replace(snapshot, path)
    assert ctl.task(a["id"])["priority"] == "critical"
    assert ctl.task(b["id"])["progress"] == 81
    assert conflicts(ctl) == []


def test_auto_merge_later_wins(scene, workdir):
    m, ctl, session, path, active = scene
    a = active[0]
    text = read(path)
    ctl.run("task", "set", a["id"], "--progress", "11")
    vim_write(path, edit_block(text, a["id"], "- **Progress**: %d%%" %
                               a["progress"], "- **Progress**: 77%"), workdir)
    assert ctl.task(a["id"])["progress"] == 77
    assert conflicts(ctl) == []
    kept = [b for b in backups(ctl) if b["record"] == a["id"] and
            b["field"] == "progress"]
    assert [b["text"] for b in kept] == ["11"]


@pytest.mark.parametrize("scene", ["auto_merge_window: 0s\n"], indirect=True)
def test_conflict_file_and_ticking(scene):
    m, ctl, session, path, active = scene
    a = active[0]
    text = read(path)
    ctl.run("task", "set", a["id"], "--status", "blocked")
    old_line = "- [ ] **Status**: active"
    sed_text = edit_block(text, a["id"], old_line, "- [x] **Status**: active")
    py_replace(path, sed_text)
    # The rest of the edit is in; the status waits for a choice.
    assert ctl.task(a["id"])["status"] == "blocked"
    c = conflicts(ctl)
    assert [(x["type"], x["field"], x["database"], x["file"]) for x in c] == [
        ("task_status", "status", "blocked", "completed")]
    cf = m.path(session, "task_groups", "frontend.conflict.md")
    assert "frontend.conflict.md" in os.listdir(os.path.dirname(path))
    # It is edited like any file (its mode says so to non-root users).
    assert os.stat(cf).st_mode & 0o777 == 0o644
    ctext = read(cf)
    for part in ("# 🔄 Sync Conflict Resolution", "### 📊 Conflict Details",
                 "**File**: `task_groups/frontend.md`",
                 "**Conflict Type**: task_status",
                 "#### Option 1: Keep Database Version",
                 "#### Option 2: Keep File Version",
                 "#### Option 3: Manual Merge",
                 "**Resolution Status**: Waiting for user input"):
        assert part in ctext, part
    # The original file shows the database's state.
    assert "- [ ] **Status**: blocked" in block_of(read(path), a["id"])
    sed(cf, "s/^- \\[ \\] Keep the file version$/- [x] Keep the file version/")
    assert ctl.task(a["id"])["status"] == "completed"
    assert conflicts(ctl) == []
    assert not os.path.exists(cf)
    texts = {(b["field"], b["text"]) for b in backups(ctl)}
    assert ("status", "blocked") in texts and ("status", "completed") in texts


@pytest.mark.parametrize("scene", ["auto_merge_window: 0s\n"], indirect=True)
def test_resolution_by_deleting_and_by_taskctl(scene):
    m, ctl, session, path, active = scene
    a, b = active[0], active[1]
    text = read(path)
    ctl.run("task", "set", a["id"], "--progress", "5")
    ctl.run("task", "set", b["id"], "--progress", "6")
    new = edit_block(text, a["id"], "- **Progress**: %d%%" % a["progress"],
                     "- **Progress**: 50%")
    new = edit_block(new, b["id"], "- **Progress**: %d%%" % b["progress"],
                     "- **Progress**: 60%")
    write(path, new)
    c = {x["target"]: x for x in conflicts(ctl)}
    assert set(c) == {a["id"], b["id"]}
    ctl.run("resolve", c[b["id"]]["id"], "--keep", "file")
    assert ctl.task(b["id"])["progress"] == 60
    cf = m.path(session, "task_groups", "frontend.conflict.md")
    os.unlink(cf)
    assert not os.path.exists(cf)
    m.unmount()  # pending removals take effect at unmount at the latest
    assert ctl.task(a["id"])["progress"] == 5
    assert conflicts(ctl) == []
    done = {x["target"]: x["resolution"] for x in conflicts(ctl, "--all")}
    assert done == {a["id"]: "db", b["id"]: "file"}


@pytest.mark.parametrize("scene", ["conflicts:\n  user_content: file_wins\n"],
                         indirect=True)
def test_file_wins_for_text(scene):
    m, ctl, session, path, active = scene
    a = active[0]
    text = read(path)
    old = a["description"].split("\n")[0]
    ctl.run("task", "set", a["id"], "--description", "Changed by the agent.")
    py_replace(path, edit_block(text, a["id"], old, "Changed by me."))
    assert ctl.task(a["id"])["description"].startswith("Changed by me.")
    assert "Changed by the agent." in [b["text"] for b in backups(ctl)]


@pytest.mark.parametrize("scene", ["conflicts:\n  other: database_wins\n"],
                         indirect=True)
def test_database_wins(scene):
    m, ctl, session, path, active = scene
    a = active[0]
    text = read(path)
    ctl.run("task", "set", a["id"], "--title", "Agent title")
    py_replace(path, edit_block(text, a["id"], "### %s `" % a["title"],
                                "### My title `"))
    assert ctl.task(a["id"])["title"] == "Agent title"
    assert conflicts(ctl) == []
    assert "My title" in [b["text"] for b in backups(ctl)]


def test_manual_resolution_task(scene):
    m, ctl, session, path, active = scene
    a = active[0]
    text = read(path)
    ctl.run("task", "set", a["id"], "--title", "Agent title")
    write(path, edit_block(text, a["id"], "### %s `" % a["title"],
                           "### My title `"))
    assert ctl.task(a["id"])["title"] == "Agent title"
    c = conflicts(ctl)
    assert len(c) == 1 and c[0]["status"] == "manual"
    task = ctl.task(c[0]["manual_task"])
    assert task["title"].startswith("Resolve sync conflict")
    assert "`%s`" % task["id"] in read(path)
    ctl.run("resolve", c[0]["id"], "--keep", "file")
    assert ctl.task(a["id"])["title"] == "My title"
    assert ctl.task(task["id"])["status"] == "completed"


@pytest.mark.parametrize("scene", ["auto_merge_window: 0s\n"], indirect=True)
def test_backups_in_the_mount(scene):
    m, ctl, session, path, active = scene
    a = active[0]
    text = read(path)
    ctl.run("task", "set", a["id"], "--progress", "3")
    write(path, edit_block(text, a["id"], "- **Progress**: %d%%" %
                           a["progress"], "- **Progress**: 97%"))
    c = conflicts(ctl)[0]
    ctl.run("resolve", c["id"], "--keep", "file")
    bdir = m.path(session, "meta", "backups")
    names = os.listdir(bdir)
    listed = backups(ctl)
    assert len(names) == len(listed) >= 2
    for b in listed:
        name = [n for n in names if n.startswith("%d-" % b["id"])]
        assert len(name) == 1
        body = read(os.path.join(bdir, name[0]))
        assert "taskctl restore-backup %d" % b["id"] in body
        assert "```text\n%s\n```" % b["text"] in body
        with pytest.raises(OSError):
            write(os.path.join(bdir, name[0]), "x")


def test_no_front_matter_uses_last_read(scene):
    """A text saved without front matter is based on the revision last
    read from that path: the database's newer change is not undone."""
    m, ctl, session, path, active = scene
    a, b = active[0], active[1]
    text = read(path)
    body = text.split("\n---\n", 1)[1]
    ctl.run("task", "set", a["id"], "--priority", "low")
    write(path, edit_block(body, b["id"], "- **Progress**: %d%%" %
                           b["progress"], "- **Progress**: 44%"))
    assert ctl.task(a["id"])["priority"] == "low"
    assert ctl.task(b["id"])["progress"] == 44


def drop_kernel_caches():
    """Makes the kernel forget every unused dentry and inode, as memory
    pressure does: a FUSE daemon is told to FORGET them."""
    os.sync()
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("2\n")


def test_no_front_matter_after_forget(scene):
    """The revision last read from a path stays its base after the kernel
    forgot the file's inode: the name's next inode saves on it, and the
    database's newer change is not undone."""
    m, ctl, session, path, active = scene
    a, b = active[0], active[1]
    text = read(path)
    body = text.split("\n---\n", 1)[1]
    st = os.stat(path)
    drop_kernel_caches()
    ctl.run("task", "set", a["id"], "--priority", "low")
    write(path, edit_block(body, b["id"], "- **Progress**: %d%%" %
                           b["progress"], "- **Progress**: 44%"))
    assert os.stat(path).st_ino == st.st_ino
    assert ctl.task(a["id"])["priority"] == "low"
    assert ctl.task(b["id"])["progress"] == 44


def test_stress_nothing_lost(demo, mount_factory, workdir):
    """Editors and database writers change the same tasks at once for a
    while; afterwards every value either side wrote successfully is in the
    database's history, a backup, or a conflict."""
    ctl, session = demo
    m = mount_factory(ctl.db, options=config(
        workdir, "auto_merge_window: 0s\n"))
    group = [g for g in ctl.groups(session) if g["name"] == "backend"][0]
    ids = [t["id"] for t in ctl.json("task", "list", "--group", group["id"])]
    path = m.path(session, "task_groups", "backend.md")
    written = []  # (task, field, value) each side believes it stored
    lock = threading.Lock()
    stop = time.time() + 6

    def editor(n):
        rnd = random.Random(n)
        k = 0
        while time.time() < stop:
            k += 1
            tid = rnd.choice(ids)
            text = read(path)
            time.sleep(rnd.random() * 0.05)  # the user thinks
            value = "E%d-%d" % (n, k)
            try:
                b = block_of(text, tid)
            except AttributeError:
                continue
            title = re.match(r"### (.*) `", b).group(1)
            new = text.replace(b, b.replace("### %s `" % title,
                                            "### %s `" % value, 1), 1)
            try:
                (py_replace if k % 2 else lambda p, t: write(p, t))(path, new)
            except OSError:
                continue
            with lock:
                written.append((tid, "title", value))

    def agent(n):
        rnd = random.Random(100 + n)
        k = 0
        while time.time() < stop:
            k += 1
            tid = rnd.choice(ids)
            value = "D%d-%d" % (n, k)
            p = ctl.run("task", "set", tid, "--title", value, check=False)
            if p.returncode == 0:
                with lock:
                    written.append((tid, "title", value))
            time.sleep(rnd.random() * 0.03)

    threads = [threading.Thread(target=editor, args=(i,)) for i in range(3)]
    threads += [threading.Thread(target=agent, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(written) > 20
    history = {(r[0], r[1]) for r in ctl.sql(
        "SELECT rec, new_value FROM history WHERE tbl = 'task' AND "
        "field = 'title'")}
    current = {(r[0], r[1]) for r in ctl.sql("SELECT id, title FROM tasks")}
    kept = {(r[0], as_text(r[1])) for r in ctl.sql(
        "SELECT record, text FROM backups WHERE field = 'title'")}
    open_ = {(r[0], r[1]) for r in ctl.sql(
        "SELECT target_id, file_value FROM conflicts")} | \
        {(r[0], r[1]) for r in ctl.sql(
            "SELECT target_id, db_value FROM conflicts")}
    # Texts held because they could not be applied (a reader can see a
    # file cut short while another process rewrites it in place, as on
    # any filesystem) are kept whole, at the path or as backups.
    texts = [as_text(r[0]) for r in ctl.sql(
        "SELECT text FROM drafts UNION ALL "
        "SELECT text FROM backups WHERE field IS NULL")]
    # An edited block of a task deleted meanwhile is kept whole (JSON).
    blocks = {(r[0], json.loads(as_text(r[1])).get("title"))
              for r in ctl.sql(
                  "SELECT record, text FROM backups WHERE field = 'block'")}
    lost = [w for w in written if (w[0], w[2]) not in
            history | current | kept | open_ | blocks and
            not any("### %s `%s`" % (w[2], w[0]) in t for t in texts)]
    if lost:
        held = ctl.sql("SELECT kind, record, diagnostics FROM drafts")
        errors = ctl.sql("SELECT type, file, status, error FROM sync_ops "
                         "WHERE status != 'ok'")
        pytest.fail("lost %d of %d: %s\nheld: %s\nfailed ops: %s\nlog:\n%s"
                    % (len(lost), len(written), lost[:10], held, errors[:20],
                       m.stderr()[-4000:]))
    assert integrity(ctl.db) == []


def test_emptied_group_file_asks_before_deleting(mounted):
    """A group file cut to its header (a crashing program, a mistake)
    deletes no task: the conflict file lists them, and ticking option 2
    there deletes them all."""
    m, ctl, session = mounted
    path = m.path(session, "task_groups", "frontend.md")
    text = read(path)
    group = [g for g in ctl.groups(session) if g["name"] == "frontend"][0]
    before = [t for t in ctl.tasks(session) if t["group"] == group["id"]]
    assert len(before) >= 3
    head = text[:text.index("\n## ")]
    write(path, head + "\n")
    assert len([t for t in ctl.tasks(session)
                if t["group"] == group["id"]]) == len(before)
    conflict = m.path(session, "task_groups", "frontend.conflict.md")
    ctext = read(conflict)
    assert "would delete %d of the %d tasks" % (len(before), len(before)) \
        in ctext
    for t in before:
        assert "`%s`" % t["id"] in ctext
    # The file shows every task again.
    assert all("`%s`" % t["id"] in read(path) for t in before)
    # Confirmed: option 2 ticked in the conflict file.
    start = ctext.index("#### Option 2")
    box = ctext.index("- [ ]", start)
    write(conflict, ctext[:box] + "- [x]" + ctext[box + 5:])
    assert [t for t in ctl.tasks(session)
            if t["group"] == group["id"]] == []
    assert not os.path.exists(conflict)
    deleted = ctl.json("task", "list", "--group", group["id"], "--deleted")
    assert {t["id"] for t in deleted} >= {t["id"] for t in before}
