# SPDX-License-Identifier: MIT
"""taskctl conflicts, resolve, backups and restore-backup on conflicts made
by real saves through a mount: the database and a file both change a
field, and what the policies of taskfs.yaml leave for a person is listed,
resolved and backed up."""
import json
import os
import re

import pytest

from conftest import read, write
from test_taskctl import fail, table

# Every both-sides change of a status or progress becomes a conflict to
# choose: the auto_merge window is empty.
ASK = "auto_merge_window: 0s\n"


def block(text, task_id):
    """One task block of a group file: from its "### <title> `<id>`"
    heading to the next heading of a task or section."""
    m = re.search(r"^### .* `%s`$" % re.escape(task_id), text, re.M)
    assert m, task_id
    start = m.start()
    ends = [i for i in (text.find("\n### ", start + 1),
                        text.find("\n## ", start + 1)) if i >= 0]
    return text[start:min(ends) + 1]


def edit_block(text, task_id, old, new):
    """text with old replaced by new within one task's block only."""
    b = block(text, task_id)
    assert b.count(old) == 1, (old, b)
    return text.replace(b, b.replace(old, new))


@pytest.fixture
def asking(demo, mount_factory, workdir):
    """The demo mounted with ASK as its taskfs.yaml (beside the database,
    where restore-backup looks for it too); returns (mount, taskctl,
    session, path of the frontend group file, an active frontend task)."""
    ctl, session = demo
    config = os.path.join(workdir, "taskfs.yaml")
    write(config, ASK)
    m = mount_factory(ctl.db, options=["-o", "config=" + config])
    path = m.path(session, "task_groups", "frontend.md")
    task = [t for t in ctl.json("task", "list", "--session", session,
                                "--group", "frontend")
            if t["status"] == "active"][0]
    return m, ctl, session, path, task


def progress_conflict(ctl, path, task, db_value, file_value):
    """The database sets the task's progress to db_value while a text read
    before sets it to file_value; returns the conflict recorded."""
    text = read(path)
    line = "- **Progress**: %d%%" % task["progress"]
    ctl.run("task", "set", task["id"], "--progress", db_value)
    write(path, edit_block(text, task["id"], line,
                           "- **Progress**: %d%%" % file_value))
    (c,) = ctl.json("conflicts")
    return c


def backups_of(ctl, task_id, field):
    return [b for b in ctl.json("backups")
            if b["kind"] == "task" and b["record"] == task_id
            and b["field"] == field]


def test_progress_conflict_listed_and_kept_from_file(asking):
    m, ctl, session, path, task = asking
    assert ctl.json("conflicts") == []
    assert ctl.run("conflicts").stdout == "no unresolved conflicts\n"
    c = progress_conflict(ctl, path, task, 11, 77)
    assert (c["type"], c["field"], c["target_kind"], c["target"]) == \
        ("progress_update", "progress", "task", task["id"])
    assert (c["database"], c["file"], c["base"]) == \
        ("11", "77", str(task["progress"]))
    assert (c["status"], c["resolution"]) == ("open", None)
    assert (c["session"], c["file_kind"], c["file_record"]) == \
        (session, "group", "frontend_group_001")
    assert c["database_source"] == "taskctl"
    assert task["id"] in c["label"]
    # The save applied nothing of that field: the database's value stays.
    assert ctl.task(task["id"])["progress"] == 11
    assert os.path.exists(m.path(session, "task_groups",
                                 "frontend.conflict.md"))
    assert ctl.json("conflicts", "--session", session) == [c]

    (row,) = table(ctl.run("conflicts").stdout)
    assert row == {"ID": str(c["id"]), "TYPE": "progress_update",
                   "STATUS": "open", "FILE": "group:frontend_group_001",
                   "FIELD": "progress", "LABEL": c["label"]}

    p = ctl.run("resolve", c["id"], "--keep", "file")
    assert p.stdout == "conflict %d resolved: kept the file's version\n" % \
        c["id"]
    assert ctl.task(task["id"])["progress"] == 77
    assert ctl.json("conflicts") == []
    (done,) = ctl.json("conflicts", "--all")
    assert (done["id"], done["status"], done["resolution"]) == \
        (c["id"], "resolved", "file")
    assert done["resolved_at"]
    (row,) = table(ctl.run("conflicts", "--all").stdout)
    assert row["STATUS"] == "resolved (file)"
    assert not os.path.exists(m.path(session, "task_groups",
                                     "frontend.conflict.md"))

    # Both versions were backed up before resolving, newest first.
    values = [b["text"] for b in backups_of(ctl, task["id"], "progress")]
    assert values[:2] == ["77", "11"]
    held = backups_of(ctl, task["id"], "progress")[1]
    assert held["reason"] == \
        "conflict %d: the database's version before resolving" % c["id"]
    assert held["size"] == 2 and held["session"] == session

    rows = table(ctl.run("backups").stdout)
    assert [r["ID"] for r in rows] == \
        [str(b["id"]) for b in ctl.json("backups")]
    first = [r for r in rows if r["ID"] == str(held["id"])][0]
    assert first["WHAT"] == "task %s progress" % task["id"]
    assert first["SIZE"] == "2" and first["REASON"] == held["reason"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", first["CREATED"])

    p = ctl.run("restore-backup", held["id"])
    assert p.stdout == "backup %d restored\n" % held["id"]
    assert ctl.task(task["id"])["progress"] == 11
    # The value it replaced (77) is backed up first.
    newest = backups_of(ctl, task["id"], "progress")[0]
    assert newest["text"] == "77"
    assert newest["reason"] == "before restoring backup %d" % held["id"]


def test_resolve_with_value(asking):
    m, ctl, session, path, task = asking
    c = progress_conflict(ctl, path, task, 11, 77)
    p = ctl.run("resolve", c["id"], "--value", "60")
    assert p.stdout == "conflict %d resolved: set to the given value\n" % \
        c["id"]
    assert ctl.task(task["id"])["progress"] == 60
    (done,) = ctl.json("conflicts", "--all")
    assert (done["status"], done["resolution"]) == ("resolved", "manual")


def test_resolve_errors(asking):
    m, ctl, session, path, task = asking
    c = progress_conflict(ctl, path, task, 11, 77)
    cid = c["id"]
    p = fail(ctl, "resolve", cid, "--value", "lots", code=4)
    assert p.stderr == "taskctl: 'lots' is not a progress 0-100%\n"
    p = fail(ctl, "resolve", cid, code=2)
    assert "--keep" in p.stderr and "usage: taskctl" in p.stderr
    fail(ctl, "resolve", cid, "--keep", "db", "--value", "5", code=2)
    p = fail(ctl, "resolve", "three", "--keep", "db", code=2)
    assert "'three'" in p.stderr and "usage: taskctl" in p.stderr
    fail(ctl, "resolve", "--keep", "db", code=2)
    # A word other than db or file is an invalid value, as for --status.
    p = fail(ctl, "resolve", cid, "--keep", "maybe", code=4)
    assert p.stderr == "taskctl: --keep takes db or file, not 'maybe'\n"
    p = fail(ctl, "resolve", cid + 1000, "--keep", "db", code=3)
    assert p.stderr.startswith("taskctl: no conflict %d;" % (cid + 1000))
    # None of that changed anything.
    assert ctl.json("conflicts") == [c]
    assert ctl.task(task["id"])["progress"] == 11

    ctl.run("resolve", cid, "--keep", "db")
    assert ctl.task(task["id"])["progress"] == 11
    p = fail(ctl, "resolve", cid, "--keep", "file", code=3)
    assert "resolved already" in p.stderr
    assert ctl.task(task["id"])["progress"] == 11
    (done,) = ctl.json("conflicts", "--all")
    assert done["resolution"] == "db"


def test_json_output(asking):
    m, ctl, session, path, task = asking
    c = progress_conflict(ctl, path, task, 11, 77)
    out = ctl.run("resolve", c["id"], "--keep", "file", "--json").stdout
    assert json.loads(out) == {"id": c["id"], "resolution": "file",
                               "manual_task": None}
    assert out.count("\n") == 1
    held = [b for b in backups_of(ctl, task["id"], "progress")
            if b["text"] == "11"][0]
    out = ctl.run("restore-backup", held["id"], "--json").stdout
    assert json.loads(out) == {"id": held["id"], "changes": 1,
                               "conflicts": 0, "kind": "task",
                               "record": task["id"], "field": "progress"}
    assert ctl.task(task["id"])["progress"] == 11


def test_unknown_ids_and_sessions(asking):
    m, ctl, session, path, task = asking
    p = fail(ctl, "restore-backup", 999, code=3)
    assert p.stderr == \
        "taskctl: no backup 999; 'taskctl backups' lists them\n"
    fail(ctl, "restore-backup", "x", code=2)
    fail(ctl, "restore-backup", "-1", code=2)
    fail(ctl, "restore-backup", "1", "2", code=2)
    fail(ctl, "conflicts", "--session", "nope", code=3)
    fail(ctl, "backups", "--session", "nope", code=3)
    fail(ctl, "backups", "--all", code=2)
    assert ctl.run("backups").stdout == "no backups\n"
    assert ctl.json("backups") == []
    assert ctl.json("conflicts", "--all") == []
    assert ctl.run("conflicts", "--all").stdout == "no conflicts\n"


def title_conflict(m, ctl, session):
    """The database and the frontend file both retitle its first task;
    returns that task as it was."""
    path = m.path(session, "task_groups", "frontend.md")
    task = ctl.json("task", "list", "--session", session, "--group",
                    "frontend")[0]
    text = read(path)
    ctl.run("task", "set", task["id"], "--title", "Title from taskctl")
    write(path, text.replace("### %s `%s`" % (task["title"], task["id"]),
                             "### Title from the file `%s`" % task["id"]))
    return task


def test_title_conflict_makes_a_task_that_resolve_completes(mounted):
    """The default policy (no taskfs.yaml): a title both sides changed
    is kept from the database and a task asks a person to choose."""
    m, ctl, session = mounted
    task = title_conflict(m, ctl, session)
    (c,) = [x for x in ctl.json("conflicts") if x["field"] == "title"]
    assert (c["type"], c["field"], c["status"]) == ("other", "title",
                                                    "manual")
    assert (c["database"], c["file"]) == ("Title from taskctl",
                                          "Title from the file")
    assert ctl.task(task["id"])["title"] == "Title from taskctl"
    reminders = [t for t in ctl.json("task", "list", "--session", session)
                 if "Resolve sync conflict" in t["title"]]
    assert [t["id"] for t in reminders] == [c["manual_task"]]
    assert reminders[0]["status"] == "planned"
    assert ("taskctl resolve %d" % c["id"]) in reminders[0]["description"]
    (row,) = [r for r in table(ctl.run("conflicts").stdout)
              if r["ID"] == str(c["id"])]
    assert row["STATUS"] == "manual" and row["FIELD"] == "title"

    p = ctl.run("resolve", c["id"], "--keep", "db")
    assert p.stdout.splitlines() == [
        "conflict %d resolved: kept the database's version" % c["id"],
        "task %s, which asked to resolve it, is completed" %
        c["manual_task"]]
    assert ctl.task(task["id"])["title"] == "Title from taskctl"
    reminder = ctl.task(c["manual_task"])
    assert (reminder["status"], reminder["progress"]) == ("completed", 100)
    assert c["id"] not in [x["id"] for x in ctl.json("conflicts")]
    # The file's title is kept as a backup, and can be brought back.
    mine = [b for b in backups_of(ctl, task["id"], "title")
            if b["text"] == "Title from the file"][0]
    ctl.run("restore-backup", mine["id"])
    assert ctl.task(task["id"])["title"] == "Title from the file"


def test_title_conflict_is_the_only_conflict(mounted):
    """The task a manual_task conflict creates in the saved file's group is
    not taken for a task that the saved text removed."""
    m, ctl, session = mounted
    title_conflict(m, ctl, session)
    assert [x["field"] for x in ctl.json("conflicts")] == ["title"]


def test_restore_whole_texts(asking):
    """A text saved with parts not kept is backed up whole; restoring it
    saves it again against its own base revision, so what the database
    changed since is settled as for any save. A text held for its errors,
    once discarded, is refused again with its diagnostics."""
    m, ctl, session, path, a = asking
    b = [t for t in ctl.json("task", "list", "--group", "frontend_group_001")
         if t["id"] != a["id"]][0]
    text = read(path)
    assert text.startswith("---\n")
    # A front matter key taskfs does not know is a warning; the rest of
    # the save is applied and the whole text backed up.
    saved = text.replace("---\n", "---\nmood: sunny\n", 1)
    saved = edit_block(saved, a["id"], "- **Priority**: %s" % a["priority"],
                       "- **Priority**: low")
    saved = edit_block(saved, a["id"], "- **Progress**: %d%%" % a["progress"],
                       "- **Progress**: 33%")
    write(path, saved)
    assert (ctl.task(a["id"])["priority"], ctl.task(a["id"])["progress"]) == \
        ("low", 33)
    (whole,) = [x for x in ctl.json("backups") if x["field"] is None]
    assert (whole["kind"], whole["record"], whole["text"]) == \
        ("group", "frontend_group_001", saved)
    assert whole["reason"] == "saved text with parts not kept"
    (row,) = [r for r in table(ctl.run("backups").stdout)
              if r["ID"] == str(whole["id"])]
    assert row["WHAT"] == "group frontend_group_001"
    assert row["SIZE"] == str(len(saved.encode()))

    # A later save of the file, then the database undoes one change of
    # the text and overrides the other.
    other = "critical" if b["priority"] != "critical" else "low"
    write(path, edit_block(read(path), b["id"], "- **Priority**: %s" %
                           b["priority"], "- **Priority**: " + other))
    ctl.run("task", "set", a["id"], "--priority", a["priority"],
            "--progress", "44")
    p = ctl.run("restore-backup", whole["id"])
    assert p.stdout == ("backup %d restored: 1 change, 1 conflict\n"
                        "'taskctl conflicts' lists the conflicts\n"
                        % whole["id"])
    assert p.stderr == ("taskctl: backup %d: line 2: warning: front matter "
                        "key 'mood' is not one of taskfs's and is ignored\n"
                        % whole["id"])
    # Only the text changed the priority since its base: it is applied.
    # Both changed the progress: that waits for a person.
    assert ctl.task(a["id"])["priority"] == "low"
    assert ctl.task(a["id"])["progress"] == 44
    assert ctl.task(b["id"])["priority"] == other
    (c,) = ctl.json("conflicts")
    assert (c["field"], c["target"], c["base"], c["database"], c["file"]) == \
        ("progress", a["id"], str(a["progress"]), "44", "33")
    ctl.run("resolve", c["id"], "--keep", "file")
    assert ctl.task(a["id"])["progress"] == 33

    # A text with an error is held; removing its .error.md keeps it as a
    # backup, and restoring that backup is refused the same way.
    bad = edit_block(read(path), a["id"], "- **Progress**: 33%",
                     "- **Progress**: 140%")
    with pytest.raises(OSError):
        write(path, bad)
    error = m.path(session, "task_groups", "frontend.error.md")
    os.unlink(error)
    (discarded,) = [x for x in ctl.json("backups") if x["reason"] ==
                    "discarded text that could not be applied"]
    assert discarded["text"] == bad
    line = bad[:bad.index("- **Progress**: 140%")].count("\n") + 1
    p = fail(ctl, "restore-backup", discarded["id"], code=4)
    assert p.stdout == ""
    assert p.stderr.splitlines() == [
        "taskctl: backup %d not restored: the text has errors; it is held "
        "as the text of group frontend_group_001 until it is fixed or its "
        ".error.md file is removed" % discarded["id"],
        "taskctl: backup %d: line %d: error: progress '140%%' is outside "
        "0-100%%" % (discarded["id"], line)]
    assert ctl.task(a["id"])["progress"] == 33
    assert read(path) == bad
    assert os.path.exists(error)
    os.unlink(error)
    assert read(path) != bad


def test_help(taskctl):
    top = taskctl.run("--help").stdout
    for usage in ("conflicts [--session S] [--all]",
                  "resolve ID --keep db|file | --value TEXT",
                  "backups [--session S]", "restore-backup ID"):
        assert "  " + usage + "\n" in top
    for cmd in ("conflicts", "resolve", "backups", "restore-backup"):
        p = taskctl.run(cmd, "--help")
        assert p.stdout.startswith("usage: taskctl [-d DB] [--json] " + cmd)
        assert p.stderr == ""
    assert "--keep file" in taskctl.run("resolve", "--help").stdout
    assert not os.path.exists(taskctl.db)
