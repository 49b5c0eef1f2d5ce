# SPDX-License-Identifier: MIT
"""Write-back through the mount: each kind of edit, every view, structural
changes, renames and unlinks, bad input held with its diagnostics, and
the database checked after each."""
import errno
import os
import re
import subprocess
import time

import pytest

from conftest import read, write


@pytest.fixture
def env(mounted):
    m, ctl, session = mounted
    groups = {g["name"]: g for g in ctl.groups(session)}
    return m, ctl, session, groups


def gpath(m, session, name):
    return m.path(session, "task_groups", name + ".md")


def tasks_of(ctl, group):
    return ctl.json("task", "list", "--group", group["id"])


def block(text, task_id):
    """The text of one task block of a group file."""
    m = re.search(r"^### .* `%s`$" % re.escape(task_id), text, re.M)
    start = m.start()
    ends = [i for i in (text.find("\n### ", start + 1),
                        text.find("\n## ", start + 1)) if i >= 0]
    return text[start:min(ends) + 1]


def test_new_task_gets_an_id(env):
    m, ctl, session, groups = env
    p = gpath(m, session, "backend")
    text = read(p)
    text = text.replace("## 📋 Planned\n", "## 📋 Planned\n\n"
                        "### Rate limiting\n\n- **Priority**: high\n"
                        "- **Estimate**: 3h\n\nThrottle the API per key.\n",
                        1)
    write(p, text)
    new = [t for t in tasks_of(ctl, groups["backend"])
           if t["title"] == "Rate limiting"]
    assert len(new) == 1
    t = new[0]
    assert (t["status"], t["priority"], t["estimate"]) == ("planned", "high",
                                                            3.0)
    assert t["description"] == "Throttle the API per key."
    assert "### Rate limiting `%s`" % t["id"] in read(p)
    assert os.path.exists(m.path(session, "tasks", "planned",
                                 t["id"] + ".md"))


def test_delete_and_restore_block(env):
    m, ctl, session, groups = env
    p = gpath(m, session, "testing")
    text = read(p)
    victim = tasks_of(ctl, groups["testing"])[0]
    write(p, text.replace(block(text, victim["id"]), ""))
    assert victim["id"] not in [t["id"] for t in
                                tasks_of(ctl, groups["testing"])]
    assert ctl.task(victim["id"])["deleted"] is True
    assert "`%s`" % victim["id"] not in read(p)
    ctl.run("task", "restore", victim["id"])
    assert "`%s`" % victim["id"] in read(p)


def test_move_block_between_groups(env):
    m, ctl, session, groups = env
    src, dst = gpath(m, session, "frontend"), gpath(m, session,
                                                     "documentation")
    t = [t for t in tasks_of(ctl, groups["frontend"])
         if t["status"] == "planned"][0]
    stext, dtext = read(src), read(dst)
    b = block(stext, t["id"])
    # Paste first (the block is then in both files), cut second.
    write(dst, dtext.replace("## 📋 Planned\n", "## 📋 Planned\n\n" + b, 1))
    assert ctl.task(t["id"])["group"] == groups["documentation"]["id"]
    write(src, stext.replace(b, ""))
    got = ctl.task(t["id"])
    assert got["group"] == groups["documentation"]["id"]
    assert got["deleted"] is False
    assert "`%s`" % t["id"] in read(dst)
    assert "`%s`" % t["id"] not in read(src)


def test_cut_then_paste_between_groups(env):
    """Saved in the other order: the cut deletes, the paste brings the
    task back into the new group."""
    m, ctl, session, groups = env
    src, dst = gpath(m, session, "frontend"), gpath(m, session, "testing")
    t = [t for t in tasks_of(ctl, groups["frontend"])
         if t["status"] == "planned"][0]
    stext, dtext = read(src), read(dst)
    b = block(stext, t["id"])
    write(src, stext.replace(b, ""))
    assert ctl.task(t["id"])["deleted"] is True
    write(dst, dtext.replace("## 📋 Planned\n", "## 📋 Planned\n\n" + b, 1))
    got = ctl.task(t["id"])
    assert (got["group"], got["deleted"]) == (groups["testing"]["id"], False)


def test_move_to_status_section_and_reorder(env):
    m, ctl, session, groups = env
    p = gpath(m, session, "backend")
    text = read(p)
    planned = [t for t in tasks_of(ctl, groups["backend"])
               if t["status"] == "planned"]
    assert len(planned) >= 2
    a, b = planned[0], planned[1]
    ba, bb = block(text, a["id"]), block(text, b["id"])
    # Swap the two planned blocks.
    text2 = text.replace(ba, "@@A@@").replace(bb, ba).replace("@@A@@", bb)
    write(p, text2)
    order = [t["id"] for t in tasks_of(ctl, groups["backend"])
             if t["status"] == "planned"]
    assert order.index(b["id"]) < order.index(a["id"])
    # Move a block under Blocked.
    text = read(p)
    ba = block(text, a["id"])
    text = text.replace(ba, "").replace("## 🚫 Blocked\n",
                                        "## 🚫 Blocked\n\n" + ba, 1)
    write(p, text)
    assert ctl.task(a["id"])["status"] == "blocked"


def test_task_file_edits(env):
    m, ctl, session, groups = env
    t = [t for t in ctl.tasks(session) if t["status"] == "active"][0]
    p = m.path(session, "tasks", "active", t["id"] + ".md")
    text = read(p)
    text = text.replace("- [ ] **Status**: active", "- [ ] **Status**: blocked")
    text = text.replace("- **Group**: ", "- **Group**: testing\n- **Old**: ", 1)
    write(p, text)
    got = ctl.task(t["id"])
    assert got["status"] == "blocked"
    assert got["group"] == groups["testing"]["id"]
    assert not os.path.exists(p)
    assert os.path.exists(m.path(session, "tasks", "blocked", t["id"] + ".md"))


def test_mv_task_between_status_folders(env):
    m, ctl, session, groups = env
    t = [t for t in ctl.tasks(session) if t["status"] == "active"][0]
    src = m.path(session, "tasks", "active", t["id"] + ".md")
    dst = m.path(session, "tasks", "completed", t["id"] + ".md")
    subprocess.run(["mv", src, m.path(session, "tasks", "completed") + "/"],
                   check=True)
    got = ctl.task(t["id"])
    assert (got["status"], got["progress"]) == ("completed", 100)
    assert os.path.exists(dst) and not os.path.exists(src)
    assert "- [x] **Status**: completed" in read(dst)


def test_mv_group_file_renames_group(env):
    m, ctl, session, groups = env
    os.rename(gpath(m, session, "documentation"), gpath(m, session, "docs"))
    g = ctl.json("group", "show", groups["documentation"]["id"])
    assert g["name"] == "docs"
    assert os.path.exists(gpath(m, session, "docs"))
    assert not os.path.exists(gpath(m, session, "documentation"))
    assert "(task_groups/docs.md)" in read(m.path(session, "session.md"))


def test_rm_group_file_deletes_after_grace(demo, mount_factory):
    ctl, session = demo
    m = mount_factory(ctl.db, options=["-o", "grace=0.3"])
    groups = {g["name"]: g for g in ctl.groups(session)}
    os.unlink(gpath(m, session, "testing"))
    assert not os.path.exists(gpath(m, session, "testing"))
    time.sleep(1.0)
    names = [g["name"] for g in ctl.groups(session)]
    assert "testing" not in names
    ctl.run("group", "restore", groups["testing"]["id"])
    assert os.path.exists(gpath(m, session, "testing"))


def test_unlink_and_recreate_is_a_save(env):
    m, ctl, session, groups = env
    p = gpath(m, session, "frontend")
    text = read(p).replace("\n# Frontend Development\n",
                           "\n# Frontend Work\n")
    before = len(ctl.tasks(session))
    os.unlink(p)
    time.sleep(0.2)
    write(p, text)
    assert ctl.json("group", "show", groups["frontend"]["id"])["title"] == \
        "Frontend Work"
    assert len(ctl.tasks(session)) == before


def test_new_group_file(env):
    m, ctl, session, groups = env
    p = gpath(m, session, "design")
    write(p, "# Design System\n\n- **Priority**: high\n\n"
             "## Planned\n\n### Colour tokens\n\n### Type scale\n\n"
             "## Notes\n\nStart from the brand guide.\n")
    g = ctl.json("group", "show", "design", "--session", session)
    assert g["title"] == "Design System" and g["priority"] == "high"
    titles = sorted(t["title"] for t in tasks_of(ctl, g))
    assert titles == ["Colour tokens", "Type scale"]
    text = read(p)
    assert text.startswith("---\ntaskfs: 1\n")
    assert "Start from the brand guide.\n" in text


def test_copy_of_group_file_is_plain(env):
    m, ctl, session, groups = env
    before = (len(ctl.groups(session)), len(ctl.tasks(session)))
    subprocess.run(["cp", gpath(m, session, "frontend"),
                    gpath(m, session, "copy")], check=True)
    assert (len(ctl.groups(session)), len(ctl.tasks(session))) == before
    assert read(gpath(m, session, "copy")) == read(gpath(m, session,
                                                          "frontend"))


def test_new_task_file(env):
    m, ctl, session, groups = env
    p = m.path(session, "tasks", "planned", "write_changelog.md")
    write(p, "# Write the changelog\n\n- **Group**: documentation\n"
             "- **Priority**: low\n\nFor the 2.0 release.\n")
    t = ctl.task("write_changelog")
    assert (t["status"], t["group"], t["priority"]) == (
        "planned", groups["documentation"]["id"], "low")
    assert "`write_changelog`" in read(p)


def test_session_and_notes_edits(env):
    m, ctl, session, groups = env
    p = m.path(session, "session.md")
    text = read(p)
    title = ctl.json("session", "show", session)["title"]
    text = text.replace("\n# %s\n" % title, "\n# Analytics 2.0\n")
    text += "\n## Open Questions\n\n- Who owns on-call?  \n"
    write(p, text)
    assert ctl.json("session", "show", session)["title"] == "Analytics 2.0"
    assert read(p).endswith("\n## Open Questions\n\n- Who owns on-call?  \n")
    n = m.path(session, "notes", "learnings.md")
    exact = read(n) + "\n```python\n# a comment, not a heading\nx = 1\n```\n"
    write(n, exact)
    assert read(n).split("\n---\n", 1)[1] == exact.split("\n---\n", 1)[1]


def test_crlf_and_bom(env):
    m, ctl, session, groups = env
    t = [t for t in ctl.tasks(session) if t["status"] == "planned"][0]
    p = m.path(session, "tasks", "planned", t["id"] + ".md")
    text = read(p).replace("- **Priority**: ", "- **Priority**: critical\n"
                           "- **Was**: ", 1)
    data = "\ufeff" + text.replace("\n", "\r\n")
    with open(p, "w", encoding="utf-8", newline="") as f:
        f.write(data)
    assert ctl.task(t["id"])["priority"] == "critical"
    assert "\r" not in read(p)


def test_bad_input_is_held(env):
    m, ctl, session, groups = env
    p = gpath(m, session, "frontend")
    text = read(p)
    t = [t for t in tasks_of(ctl, groups["frontend"])
         if t["status"] == "active"][0]
    bad = text.replace(block(text, t["id"]),
                       block(text, t["id"]).replace(
                           "- **Progress**: %d%%" % t["progress"],
                           "- **Progress**: 140%"))
    assert bad != text
    rev = ctl.sql("SELECT rev FROM revision")[0][0]
    f = open(p, "w")
    f.write(bad)
    with pytest.raises(OSError) as e:
        f.close()
    assert e.value.errno == errno.EBADMSG
    assert ctl.sql("SELECT rev FROM revision")[0][0] == rev
    assert read(p) == bad
    err = gpath(m, session, "frontend.error")
    report = read(err)
    line = bad.split("\n").index("- **Progress**: 140%") + 1
    assert "line %d: error: progress '140%%' is outside 0-100%%" % line in \
        report
    assert "frontend.md" in read(m.path(session, "meta", "sync_status.md"))
    assert ctl.task(t["id"])["progress"] == t["progress"]
    # Fixing it applies it and the error file goes away; the held text
    # it replaced is kept as a backup.
    write(p, bad.replace("- **Progress**: 140%", "- **Progress**: 90%"))
    assert ctl.task(t["id"])["progress"] == 90
    assert not os.path.exists(err)
    kept = ctl.json("backups")
    assert kept[0]["reason"] == "held text replaced by a later save"
    assert kept[0]["text"] == bad
    # Held again, then discarded by removing the error file.
    with pytest.raises(OSError):
        write(p, "\x00\x01binary")
    os.unlink(err)
    assert read(p).startswith("---\ntaskfs: 1\n")
    assert ctl.task(t["id"])["progress"] == 90


@pytest.mark.parametrize("bad,message", [
    ("revision: [1\n", "not valid YAML"),
    ("progress", "not a whole number"),
    ("unknown", "is not a task id"),
    ("duplicate", "appears twice"),
    ("utf8", "invalid UTF-8"),
    ("empty", "title line"),
])
def test_bad_inputs(env, bad, message):
    m, ctl, session, groups = env
    p = gpath(m, session, "backend")
    text = read(p)
    ids = [t["id"] for t in tasks_of(ctl, groups["backend"])]
    if bad.startswith("revision"):
        data = text.replace("revision: ", "revision: [", 1).encode()
    elif bad == "progress":
        b = block(text, ids[0])
        data = text.replace(b, b.replace("- **Progress**: ",
                                         "- **Progress**: abc")).encode()
    elif bad == "unknown":
        b = block(text, ids[0])
        data = text.replace(b, b.replace("`%s`\n" % ids[0],
                                         "`no_such_task_9`\n")).encode()
    elif bad == "duplicate":
        b = block(text, ids[1])
        data = text.replace(b, b.replace("`%s`\n" % ids[1],
                                         "`%s`\n" % ids[0])).encode()
    elif bad == "utf8":
        data = text.encode().replace(b"## \xf0\x9f\x93\x9d", b"## \xff\xfe", 1)
    else:
        data = b""
    before = ctl.run("export").stdout
    fd = os.open(p, os.O_WRONLY | os.O_TRUNC)
    os.write(fd, data)
    if data:
        with pytest.raises(OSError) as e:
            os.close(fd)
        assert e.value.errno == errno.EBADMSG
    else:
        # Truncated and never written: close() does not save (a shell's
        # "> file" closes a first descriptor before writing through its
        # copy); the empty text is saved when the file is released.
        os.close(fd)
        deadline = time.time() + 5
        while not os.path.exists(gpath(m, session, "backend.error")):
            assert time.time() < deadline, "the empty text was not held"
            time.sleep(0.02)
    assert ctl.run("export").stdout == before
    with open(p, "rb") as f:
        assert f.read() == data
    assert message in read(gpath(m, session, "backend.error"))
    os.unlink(gpath(m, session, "backend.error"))
    assert read(p) == text


def test_file_too_big(env):
    m, ctl, session, groups = env
    p = gpath(m, session, "backend")
    text = read(p)
    fd = os.open(p, os.O_WRONLY | os.O_TRUNC)
    chunk = b"x" * (1 << 20)
    written = 0
    with pytest.raises(OSError) as e:
        for _ in range(100):
            written += os.write(fd, chunk)
    assert e.value.errno == errno.EFBIG
    assert written == 64 << 20
    with pytest.raises(OSError) as e:
        os.close(fd)
    assert e.value.errno == errno.EFBIG
    assert read(p) == text
    kept = unsaved_copies(m, session, "backend")
    assert [os.path.getsize(k) for k in kept] == [64 << 20]
    os.unlink(kept[0])


def unsaved_copies(m, session, name):
    d = os.path.dirname(gpath(m, session, name))
    return [os.path.join(d, n) for n in sorted(os.listdir(d))
            if n.startswith(name + ".md.unsaved-")]


def test_write_past_the_limit_applies_nothing(env):
    """A program whose write fails part way closes a text that lacks what
    it meant to write: none of it is applied, all of it is kept."""
    m, ctl, session, groups = env
    p = gpath(m, session, "backend")
    text = read(p)
    before = ctl.run("export").stdout
    # The first half of the file: a valid group file with fewer tasks.
    head = text[:len(text) // 2].encode()
    fd = os.open(p, os.O_WRONLY | os.O_TRUNC)
    assert os.write(fd, head) == len(head)
    with pytest.raises(OSError) as e:
        os.pwrite(fd, b"rest", 64 << 20)
    assert e.value.errno == errno.EFBIG
    with pytest.raises(OSError) as e:
        os.close(fd)
    assert e.value.errno == errno.EFBIG
    assert ctl.run("export").stdout == before
    assert read(p) == text
    kept = unsaved_copies(m, session, "backend")
    assert len(kept) == 1
    with open(kept[0], "rb") as f:
        assert f.read() == head
    os.unlink(kept[0])
    # ftruncate past the limit fails the same way, and so does the close.
    fd = os.open(p, os.O_RDWR)
    with pytest.raises(OSError) as e:
        os.ftruncate(fd, (64 << 20) + 1)
    assert e.value.errno == errno.EFBIG
    with pytest.raises(OSError) as e:
        os.close(fd)
    assert e.value.errno == errno.EFBIG
    assert unsaved_copies(m, session, "backend") == []
    assert ctl.run("export").stdout == before


def test_truncate_by_name_is_held(env):
    m, ctl, session, groups = env
    p = gpath(m, session, "backend")
    n = len(tasks_of(ctl, groups["backend"]))
    os.truncate(p, 0)
    assert len(tasks_of(ctl, groups["backend"])) == n
    assert os.path.exists(gpath(m, session, "backend.error"))
    os.unlink(gpath(m, session, "backend.error"))


def test_concurrent_changes_merge(env):
    m, ctl, session, groups = env
    p = gpath(m, session, "frontend")
    ts = [t for t in tasks_of(ctl, groups["frontend"])
          if t["status"] == "active"]
    a, b = ts[0], ts[1]
    text = read(p)
    ctl.run("task", "set", b["id"], "--progress", "33")
    write(p, text.replace(block(text, a["id"]), block(text, a["id"]).replace(
        "### %s `" % a["title"], "### Renamed `")))
    assert ctl.task(a["id"])["title"] == "Renamed"
    assert ctl.task(b["id"])["progress"] == 33


def test_mtime_after_save(env):
    m, ctl, session, groups = env
    p = gpath(m, session, "frontend")
    before = os.stat(p).st_mtime
    time.sleep(0.05)
    write(p, read(p).replace("- **Priority**: high\n- **Specialist focus",
                             "- **Priority**: critical\n- **Specialist focus",
                             1))
    assert os.stat(p).st_mtime > before
    assert os.stat(p).st_size == len(read(p).encode())


def test_reader_sees_whole_text_while_rewritten(env):
    """A reader that opened the file before another process truncates and
    rewrites it in place reads the whole text it opened."""
    m, ctl, session, groups = env
    p = gpath(m, session, "frontend")
    text = read(p).encode()
    with open(p, "rb") as r:
        first = r.read(100)
        new = text.replace(b"\n## ", b"\n\n## ", 1)
        w = os.open(p, os.O_WRONLY | os.O_TRUNC)
        try:
            os.write(w, new[:len(new) // 3])
            rest = r.read()
            assert first + rest == text
            assert os.pread(r.fileno(), len(text) + 10, 0) == text
            os.write(w, new[len(new) // 3:])
        finally:
            os.close(w)
        assert os.pread(r.fileno(), len(text) + 10, 0) == text
    assert read(p).encode() == text


def test_without_render_cache(demo, mount_factory):
    """With no memory for renderings (-o render_cache=0) every file still
    reads, stats and saves exactly: sizes follow the database, and a text
    without a revision line builds on what the file last served."""
    ctl, session = demo
    m = mount_factory(ctl.db, options=["-o", "render_cache=0"])
    groups = {g["name"]: g for g in ctl.groups(session)}
    p = gpath(m, session, "frontend")
    text = read(p)
    assert os.stat(p).st_size == len(text.encode())
    ts = [t for t in tasks_of(ctl, groups["frontend"])
          if t["status"] == "active"]
    a, b = ts[0], ts[1]
    ctl.run("task", "set", b["id"], "--title", "A longer title than before")
    fresh = read(p)
    assert "### A longer title than before `%s`" % b["id"] in fresh
    assert os.stat(p).st_size == len(fresh.encode())
    # The old text without its front matter: based on the revision this
    # path served last (the fresh one), so b's new title stays.
    body = fresh.split("\n---\n", 1)[1]
    write(p, body.replace(block(body, a["id"]), block(body, a["id"]).replace(
        "### %s `" % a["title"], "### Renamed `")))
    assert ctl.task(a["id"])["title"] == "Renamed"
    assert ctl.task(b["id"])["title"] == "A longer title than before"
    assert os.stat(p).st_size == len(read(p).encode())
