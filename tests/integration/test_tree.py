# SPDX-License-Identifier: MIT
"""The mounted tree: its shape, sizes and contents; changes made in the
database by taskctl or plain SQL showing on the next read; ordinary files
kept in the real directory underneath."""
import filecmp
import json
import os
import re
import shutil
import subprocess
import time

from conftest import eventually, is_pg, read, write


def test_tree_shape(mounted):
    m, ctl, session = mounted
    assert os.listdir(m.mnt) == [session]
    top = sorted(os.listdir(m.path(session)))
    assert top == ["meta", "notes", "session.md", "task_groups", "tasks"]
    assert sorted(os.listdir(m.path(session, "tasks"))) == [
        "active", "blocked", "completed", "planned"]
    assert sorted(os.listdir(m.path(session, "notes"))) == [
        "decisions.md", "learnings.md", "resources.md"]
    assert sorted(os.listdir(m.path(session, "meta"))) == [
        "backups", "edit_log.md", "sync_status.md"]
    groups = ctl.groups(session)
    assert sorted(os.listdir(m.path(session, "task_groups"))) == sorted(
        g["name"] + ".md" for g in groups)
    # Every live task has one file, in the folder of its status.
    tasks = ctl.tasks(session)
    assert len(tasks) >= 30
    for t in tasks:
        path = m.path(session, "tasks", t["status"], t["id"] + ".md")
        assert os.path.isfile(path), path
    files = sum(len(os.listdir(m.path(session, "tasks", s)))
                for s in ("active", "blocked", "completed", "planned"))
    assert files == len(tasks)


def test_sizes_and_reads(mounted):
    m, ctl, session = mounted
    for root, dirs, files in os.walk(m.mnt):
        for f in files:
            p = os.path.join(root, f)
            with open(p, "rb") as fh:
                data = fh.read()
            assert os.stat(p).st_size == len(data), p
            assert data.decode("utf-8")
    # A reader that reads in small pieces gets the same bytes.
    p = m.path(session, "session.md")
    with open(p, "rb") as fh:
        pieces = b"".join(iter(lambda: fh.read(7), b""))
    with open(p, "rb") as fh:
        assert pieces == fh.read()


def test_front_matter_and_layout(mounted):
    m, ctl, session = mounted
    g = ctl.groups(session)[0]
    text = read(m.path(session, "task_groups", g["name"] + ".md"))
    assert text.startswith("---\ntaskfs: 1\nsession: %s\ngroup: %s\n"
                           "revision: " % (session, g["id"]))
    assert "\n# %s\n" % g["title"] in text
    for heading in ("## 📊 Metrics", "## 🔄 Active", "## 🚫 Blocked",
                    "## 📋 Planned", "## ✅ Completed"):
        assert heading in text
    task = ctl.json("task", "list", "--group", g["id"])[0]
    assert "### %s `%s`" % (task["title"], task["id"]) in text
    box = "x" if task["status"] == "completed" else " "
    assert "- [%s] **Status**: %s" % (box, task["status"]) in text
    t = read(m.path(session, "tasks", task["status"], task["id"] + ".md"))
    assert t.startswith("---\ntaskfs: 1\nsession: %s\ntask: %s\n" %
                        (session, task["id"]))
    assert "- **Group**: %s" % g["name"] in t
    s = read(m.path(session, "session.md"))
    assert "## 🎯 Task Groups" in s and "(task_groups/%s.md)" % g["name"] in s
    notes = read(m.path(session, "notes", "decisions.md"))
    assert notes.split("---\n", 2)[2].strip().startswith("# 🧭 Decisions")
    assert len(notes) > 200, "demo notes are filled"


def test_deterministic(mounted):
    m, ctl, session = mounted
    before = {}
    for root, dirs, files in os.walk(m.mnt):
        for f in files:
            before[os.path.join(root, f)] = read(os.path.join(root, f))
    for p, text in before.items():
        assert read(p) == text


def test_taskctl_change_shows(mounted):
    m, ctl, session = mounted
    t = [t for t in ctl.tasks(session) if t["status"] == "active"][0]
    group = [g for g in ctl.groups(session) if g["id"] == t["group"]][0]
    gpath = m.path(session, "task_groups", group["name"] + ".md")
    old = read(gpath)
    size = os.stat(gpath).st_size
    active = m.path(session, "tasks", "active", t["id"] + ".md")
    assert os.path.exists(active)
    ctl.run("task", "set", t["id"], "--status", "completed")
    eventually(lambda: not os.path.exists(active))
    done = m.path(session, "tasks", "completed", t["id"] + ".md")
    assert "- [x] **Status**: completed" in read(done)
    eventually(lambda: read(gpath) != old)
    new = read(gpath)
    assert new != old
    assert os.stat(gpath).st_size == len(new.encode())
    assert os.stat(gpath).st_size != size or new != old
    block = new[new.index("### %s `%s`" % (t["title"], t["id"])):]
    assert block.split("\n")[2] == "- [x] **Status**: completed"
    # A new task's file appears.
    tid = ctl.run("task", "add", "--session", session, "--group",
                  group["id"], "--title", "Fresh work").stdout.strip()
    eventually(lambda: tid + ".md" in os.listdir(
        m.path(session, "tasks", "planned")))
    eventually(lambda: "`%s`" % tid in read(gpath))


def test_plain_sql_change_shows(mounted):
    m, ctl, session = mounted
    t = [t for t in ctl.tasks(session) if t["status"] == "planned"][0]
    path = m.path(session, "tasks", "planned", t["id"] + ".md")
    text = read(path)
    fh = open(path)  # an open reader keeps its snapshot
    ctl.sql("UPDATE tasks SET progress = 42, title = 'Renamed by SQL' "
            "WHERE id = ?", (t["id"],))
    eventually(lambda: "- **Progress**: 42%" in read(path))
    new = read(path)
    assert "# Renamed by SQL `%s`" % t["id"] in new
    assert os.stat(path).st_size == len(new.encode())
    assert fh.read() == text
    fh.close()
    hist = ctl.sql(
        "SELECT source FROM history WHERE rec = ? AND field = 'progress'",
        (t["id"],))
    assert hist == [("sql",)]



def test_plain_sql_group_delete(mounted):
    """A group deleted by plain SQL takes its tasks out of the status
    folders, also when the foreign keys were off and its task rows stay
    behind: every name a folder lists opens."""
    m, ctl, session = mounted
    g = ctl.groups(session)[0]
    gone = {t["id"] for t in ctl.tasks(session) if t["group"] == g["id"]}
    assert gone
    # Listed before the delete (the kernel holds the folders' listings,
    # which the delete has to reach), the group's tasks among them.
    before = set()
    for s in ("active", "blocked", "completed", "planned"):
        before |= {n[:-3] for n in os.listdir(m.path(session, "tasks", s))}
    assert gone <= before
    if not is_pg(ctl.db):
        # Python's sqlite3 leaves foreign keys off, as the sqlite3 shell.
        ctl.sql("DELETE FROM task_groups WHERE id = ?", (g["id"],))
        assert ctl.sql("SELECT count(*) FROM tasks WHERE group_id = ?",
                       (g["id"],))[0][0] == len(gone)
    else:
        ctl.sql("DELETE FROM tasks WHERE group_id = ?", (g["id"],))
        ctl.sql("DELETE FROM task_groups WHERE id = ?", (g["id"],))
    eventually(lambda: g["name"] + ".md" not in os.listdir(
        m.path(session, "task_groups")))
    shown = set()
    for s in ("active", "blocked", "completed", "planned"):
        d = m.path(session, "tasks", s)
        for name in os.listdir(d):
            assert read(os.path.join(d, name)), name
            shown.add(name[:-3])
    assert shown and not shown & gone
    # The database checked after the unmount keeps its foreign keys.
    ctl.sql("DELETE FROM tasks WHERE group_id = ?", (g["id"],))

def test_mtime_follows_records(mounted):
    m, ctl, session = mounted
    t = ctl.tasks(session)[0]
    path = m.path(session, "tasks", t["status"], t["id"] + ".md")
    before = os.stat(path).st_mtime_ns
    time.sleep(0.05)
    ctl.run("task", "set", t["id"], "--priority", "critical")
    eventually(lambda: os.stat(path).st_mtime_ns > before)
    after = os.stat(path).st_mtime_ns
    assert abs(after / 1e9 - time.time()) < 30
    # Another group's file did not change.
    other = [g for g in ctl.groups(session) if g["id"] != t["group"]][0]
    gp = m.path(session, "task_groups", other["name"] + ".md")
    m1 = os.stat(gp).st_mtime_ns
    ctl.run("task", "set", t["id"], "--priority", "low")
    eventually(lambda: os.stat(path).st_mtime_ns > after)
    assert os.stat(gp).st_mtime_ns == m1


def test_page_cache_not_stale(mounted):
    m, ctl, session = mounted
    t = ctl.tasks(session)[0]
    path = m.path(session, "tasks", t["status"], t["id"] + ".md")
    for i in range(5):
        ctl.run("task", "set", t["id"], "--progress", str(10 + i))
        out = subprocess.run(["cat", path], capture_output=True,
                             text=True).stdout
        assert "- **Progress**: %d%%" % (10 + i) in out


def test_ordinary_files(mounted, workdir):
    m, ctl, session = mounted
    sd = m.path(session)
    write(os.path.join(sd, "scratch.txt"), "my own notes\nTODO: call\n")
    os.makedirs(os.path.join(sd, "images", "deep"))
    with open(os.path.join(sd, "images", "deep", "a.bin"), "wb") as f:
        f.write(bytes(range(256)) * 100)
    os.symlink("session.md", os.path.join(sd, "link.md"))
    gd = m.path(session, "task_groups")
    write(os.path.join(gd, "todo.txt"), "not a group\n")
    assert "scratch.txt" in os.listdir(sd)
    assert read(os.path.join(sd, "link.md")) == read(m.path(session,
                                                            "session.md"))
    assert os.readlink(os.path.join(sd, "link.md")) == "session.md"
    st = os.stat(os.path.join(sd, "images", "deep", "a.bin"))
    assert st.st_size == 25600
    found = subprocess.run(["find", m.mnt, "-name", "*.bin"],
                           capture_output=True, text=True).stdout.split()
    assert found == [os.path.join(sd, "images", "deep", "a.bin")]
    grep = subprocess.run(["grep", "-rl", "TODO: call", m.mnt],
                          capture_output=True, text=True).stdout.split()
    assert grep == [os.path.join(sd, "scratch.txt")]
    copy = os.path.join(workdir, "copy")
    subprocess.run(["cp", "-r", m.mnt, copy], check=True)
    assert filecmp.cmp(os.path.join(copy, session, "scratch.txt"),
                       os.path.join(sd, "scratch.txt"), shallow=False)
    assert read(os.path.join(copy, session, "session.md")) == read(
        m.path(session, "session.md"))
    os.rename(os.path.join(sd, "scratch.txt"), os.path.join(sd, "moved.txt"))
    os.chmod(os.path.join(sd, "moved.txt"), 0o600)
    assert os.stat(os.path.join(sd, "moved.txt")).st_mode & 0o777 == 0o600
    os.unlink(os.path.join(gd, "todo.txt"))
    assert "todo.txt" not in os.listdir(gd)
    # The files live in the real directory under the mount point.
    m.unmount()
    assert read(os.path.join(m.mnt, session, "moved.txt")).startswith("my own")
    assert os.path.isfile(os.path.join(m.mnt, session, "images", "deep",
                                       "a.bin"))
    assert not os.path.exists(os.path.join(m.mnt, session, "session.md"))


def test_no_escape(mounted, workdir):
    """Operations on ordinary files never follow a symlink out of the real
    directory: changing a link changes the link, not its target."""
    m, ctl, session = mounted
    sd = m.path(session)
    outside = os.path.join(workdir, "outside.txt")
    write(outside, "secret\n")
    before = os.stat(outside)
    link = os.path.join(sd, "out")
    os.symlink(outside, link)
    assert os.readlink(link) == outside
    os.lchown(link, 4321, 4321)
    assert os.lstat(link).st_uid == 4321
    assert os.stat(outside).st_uid == before.st_uid
    os.utime(link, (1, 1), follow_symlinks=False)
    assert os.lstat(link).st_mtime == 1
    assert os.stat(outside).st_mtime == before.st_mtime
    os.unlink(link)
    assert os.path.exists(outside)


def test_session_option(demo, mount_factory):
    ctl, session = demo
    m = mount_factory(ctl.db, options=["-o", "session=" + session])
    assert sorted(os.listdir(m.mnt)) == ["meta", "notes", "session.md",
                                        "task_groups", "tasks"]
    write(m.path("mine.txt"), "x")
    assert read(m.path("mine.txt")) == "x"


def test_read_only_files(mounted):
    m, ctl, session = mounted
    p = m.path(session, "meta", "sync_status.md")
    assert os.stat(p).st_mode & 0o777 == 0o444
    assert "Sync Status" in read(p)
    try:
        with open(p, "w") as f:
            f.write("x")
        assert False, "meta files are read-only"
    except PermissionError:
        pass
    try:
        os.unlink(p)
        assert False
    except PermissionError:
        pass


def test_block_size_takes_writes_whole(mounted):
    """Files report a block size of 128 KiB, the largest write the kernel
    sends in one request, so programs that buffer by it (Python; stdio
    takes up to 8 KiB of it) write a big file in a few requests instead
    of one per 4 KiB."""
    m, ctl, session = mounted
    sd = m.path(session)
    own = os.path.join(sd, "big.txt")
    write(own, "x\n")
    for p in (m.path(session, "session.md"), own, m.path(session, "tasks")):
        assert os.stat(p).st_blksize == 128 * 1024, p
    text = "a line of an ordinary file\n" * 12000
    script = ("import sys\n"
              "with open(sys.argv[1], 'w') as f:\n"
              "    for i in range(12000):\n"
              "        f.write('a line of an ordinary file\\n')\n")
    out = subprocess.run(
        ["strace", "-f", "-e", "trace=write", "-e", "signal=none",
         "/usr/bin/python3", "-c", script, own],
        capture_output=True, text=True, check=True).stderr
    sizes = [int(n) for n in re.findall(r"write\(\d+, .*\) += (\d+)", out)]
    assert sum(sizes) == len(text)
    assert len(sizes) <= 3, sizes
    assert read(own) == text


def test_renders_past_a_batch_of_the_sync_log(mounted):
    """Reading more files than one batch of the sync log (256 renders)
    takes the daemon through flushes of the log between renders: every
    file reads, the daemon stays up, and the log counts every render."""
    m, ctl, session = mounted
    data = [{"session": session, "group": "testing", "title": "Bulk %d" % i,
             "status": "active" if i % 3 else "planned"} for i in range(600)]
    ids = set(ctl.run("task", "import", input=json.dumps(data)).stdout.split())
    assert len(ids) == 600
    before = ctl.json("stats", "--session", session)["renders"]
    seen = 0
    for status in ("planned", "active"):
        d = m.path(session, "tasks", status)
        for name in os.listdir(d):
            if name[:-3] in ids:
                text = read(os.path.join(d, name))
                assert "`%s`" % name[:-3] in text, name
                seen += 1
    assert seen == 600
    assert m.proc.poll() is None, m.stderr()
    assert wait_for_renders(ctl, session, before + 600)


def wait_for_renders(ctl, session, want):
    """Whether the sync log comes to count want renders of the session
    (the mount writes it in batches, and at the latest when idle)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if ctl.json("stats", "--session", session)["renders"] >= want:
            return True
        time.sleep(0.2)
    return False
