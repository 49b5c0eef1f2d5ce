# SPDX-License-Identifier: MIT
"""taskctl on a real database: every command in text and JSON, the demo,
bulk import, each documented exit status, and the sync figures and edit
log that saves through a mount leave."""
import errno
import json
import os
import re
import shutil
import sqlite3
import subprocess

import pytest

from conftest import REPO, TASKCTL, Taskctl, read, write

STATUSES = {"planned", "active", "blocked", "completed"}


def run(*args, cwd=None, env=None, input=None):
    """taskctl without the fixture's -d, for the default path and env."""
    return subprocess.run([TASKCTL] + [str(a) for a in args],
                          capture_output=True, text=True, cwd=cwd, env=env,
                          input=input, timeout=60)


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if k != "TASKFS_DB"}
    env.update(extra)
    return env


def kv(text):
    """The "key: value" lines of a show command (first lines only)."""
    out = {}
    for line in text.splitlines():
        if line and not line[0].isspace() and ":" in line:
            key, _, value = line.partition(":")
            out[key] = value.strip()
    return out


def table(text):
    """Rows of a text list as dicts, cut at the header's column starts."""
    lines = text.splitlines()
    header = lines[0]
    starts = [i for i, ch in enumerate(header)
              if ch != " " and (i == 0 or header[i - 1] == " ")]
    names = header.split()
    rows = []
    for line in lines[1:]:
        row = {}
        for k, name in enumerate(names):
            end = starts[k + 1] if k + 1 < len(starts) else None
            row[name] = line[starts[k]:end].strip()
        rows.append(row)
    return rows


def fail(ctl, *args, code, input=None):
    p = ctl.run(*args, check=False, input=input)
    assert p.returncode == code, (args, p.returncode, p.stdout, p.stderr)
    lines = p.stderr.strip().splitlines()
    assert lines and lines[0].startswith("taskctl: "), p.stderr
    return p


@pytest.fixture
def session(taskctl):
    """An empty session with one group named "work"."""
    taskctl.run("init")
    s = taskctl.run("session", "create", "--title", "Work").stdout.strip()
    taskctl.run("group", "create", "--session", s, "--name", "work",
                "--title", "Work items")
    return taskctl, s


# ---- init and the database path ----

def test_init_is_idempotent(taskctl):
    first = taskctl.run("init").stdout.strip()
    assert first == os.path.abspath(taskctl.db)
    assert os.path.exists(taskctl.db)
    s = taskctl.run("session", "create", "--title", "Keep me").stdout.strip()
    second = taskctl.run("init")
    assert second.stdout.strip() == first
    assert [x["id"] for x in taskctl.json("session", "list")] == [s]
    with sqlite3.connect(taskctl.db) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] >= 1


def test_default_path_under_cwd(workdir):
    env = clean_env()
    p = run("init", cwd=workdir, env=env)
    assert p.returncode == 0, p.stderr
    db = os.path.join(workdir, ".task_orchestrator", "tasks.db")
    assert p.stdout.strip() == db
    assert os.path.isfile(db)
    s = run("session", "create", "--title", "Here", cwd=workdir, env=env)
    assert s.returncode == 0, s.stderr
    p = run("session", "list", "--json", cwd=workdir, env=env)
    assert [x["id"] for x in json.loads(p.stdout)] == [s.stdout.strip()]


def test_default_path_missing_is_exit_6(workdir):
    p = run("task", "list", cwd=workdir, env=clean_env())
    assert p.returncode == 6
    assert "taskctl init" in p.stderr
    assert not os.path.exists(os.path.join(workdir, ".task_orchestrator"))


def test_env_db_and_d_overrides_it(workdir):
    env_db = os.path.join(workdir, "env.db")
    other = os.path.join(workdir, "other.db")
    env = clean_env(TASKFS_DB=env_db)
    assert run("init", cwd=workdir, env=env).returncode == 0
    assert os.path.isfile(env_db)
    assert not os.path.exists(os.path.join(workdir, ".task_orchestrator"))
    run("session", "create", "--title", "In env", cwd=workdir, env=env)
    assert run("-d", other, "init", cwd=workdir, env=env).returncode == 0
    p = run("session", "list", "--json", "--db", other, cwd=workdir, env=env)
    assert json.loads(p.stdout) == []
    p = run("session", "list", "--json", cwd=workdir, env=env)
    assert [x["title"] for x in json.loads(p.stdout)] == ["In env"]


# ---- demo ----

def test_demo(demo):
    ctl, s = demo
    assert s.startswith("session_")
    info = ctl.json("session", "show", s)
    assert info["title"] == "Advanced Analytics Dashboard"
    assert info["mode"] == "development_roles.yaml"
    groups = ctl.groups(s)
    assert [g["name"] for g in groups] == \
        ["frontend", "backend", "testing", "documentation"]
    assert [g["id"] for g in groups] == [
        "frontend_group_001", "backend_group_001", "testing_group_001",
        "documentation_group_001"]
    tasks = ctl.tasks(s)
    assert 30 <= len(tasks) <= 40
    assert {t["status"] for t in tasks} == STATUSES
    assert {t["group"] for t in tasks} == {g["id"] for g in groups}
    ids = {t["id"] for t in tasks}
    assert "auth_components_001" in ids and "dashboard_layout_001" in ids
    for t in tasks:
        assert t["title"] and t["description"] and t["specialist"]
        assert t["estimate"] and t["estimate"] > 0
        assert set(t["dependencies"]) <= ids, t["id"]
        if t["status"] == "completed":
            assert t["progress"] == 100 and t["completed_at"]
        if t["status"] in ("active", "blocked"):
            assert t["current_status"], t["id"]
    assert sum(bool(t["dependencies"]) for t in tasks) >= 10
    assert sum(bool(t["deliverables"]) for t in tasks) >= 20


def test_demo_notes_and_sections(demo):
    ctl, s = demo
    export = json.loads(ctl.run("export").stdout)
    (sess,) = [x for x in export["sessions"] if x["id"] == s]
    sections = {x["key"]: x for x in sess["sections"]}
    for name in ("decisions", "learnings", "resources"):
        body = sections["notes/" + name]["body"]
        assert body.startswith("\n- ") and body.endswith("\n"), name
        assert len(body) > 100
    shown = sorted((x for x in sess["sections"]
                    if not x["key"].startswith("notes/")),
                   key=lambda x: x["position"])
    assert shown[0]["key"] == "key_insights"
    assert shown[0]["heading"] == "## \U0001f4a1 Key Insights"
    for x in shown[:-1]:
        assert x["body"].startswith("\n") and x["body"].endswith("\n\n")
    assert shown[-1]["body"].endswith("\n")
    assert not shown[-1]["body"].endswith("\n\n")
    for g in sess["groups"]:
        (notes,) = g["sections"]
        assert notes["key"] == "notes"
        assert notes["heading"] == "## \U0001f4dd Notes"
        assert notes["body"].startswith("\n###")
        assert notes["body"].endswith("\n")


def test_demo_twice_in_one_database(demo):
    ctl, first = demo
    second = ctl.run("demo").stdout.strip().splitlines()[-1]
    assert second != first
    assert len(ctl.tasks(second)) == len(ctl.tasks(first))
    ids = {t["id"] for t in ctl.tasks(second)}
    assert "auth_components_002" in ids
    for t in ctl.tasks(second):
        assert set(t["dependencies"]) <= ids


def test_demo_creates_database(workdir):
    p = run("demo", cwd=workdir, env=clean_env())
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip().splitlines()[-1].startswith("session_")
    assert os.path.isfile(
        os.path.join(workdir, ".task_orchestrator", "tasks.db"))


# ---- sessions ----

def test_session_commands(taskctl):
    taskctl.run("init")
    s = taskctl.run("session", "create", "--title", "Launch", "--mode",
                    "development_roles.yaml", "--description",
                    "Ship it.\nSecond line.", "--status", "paused").stdout
    s = s.strip()
    rows = table(taskctl.run("session", "list").stdout)
    assert rows == [{"ID": s, "STATUS": "paused", "GROUPS": "0",
                     "TASKS": "0", "DONE": "0", "TITLE": "Launch"}]
    (js,) = taskctl.json("session", "list")
    assert js["id"] == s and js["status"] == "paused"
    shown = taskctl.run("session", "show", s).stdout
    fields = kv(shown)
    assert fields["id"] == s and fields["title"] == "Launch"
    assert fields["mode"] == "development_roles.yaml"
    assert "Ship it." in shown and "Second line." in shown
    one = taskctl.json("session", "show", s)
    assert one["description"] == "Ship it.\nSecond line."
    taskctl.run("session", "set", s, "--status", "completed", "--title", "L2")
    one = taskctl.json("session", "show", s)
    assert (one["status"], one["title"]) == ("completed", "L2")
    mine = taskctl.run("session", "create", "--title", "X", "--id",
                       "my_session").stdout.strip()
    assert mine == "my_session"
    p = fail(taskctl, "session", "create", "--title", "Y", "--status",
             "sleeping", code=4)
    assert "sleeping" in p.stderr
    fail(taskctl, "session", "create", "--title", "Z", "--id", "my_session",
         code=4)
    fail(taskctl, "session", "show", "nope", code=3)
    fail(taskctl, "session", "set", "nope", "--title", "x", code=3)
    out = taskctl.run("session", "create", "--title", "J", "--json").stdout
    assert json.loads(out)["title"] == "J"


# ---- groups ----

def test_group_commands(session):
    ctl, s = session
    gid = ctl.run("group", "create", "--session", s, "--name", "ops",
                  "--title", "Operations", "--priority", "high", "--status",
                  "active", "--specialist", "devops", "--description",
                  "Deploys").stdout.strip()
    assert gid == "ops_group_001"
    rows = table(ctl.run("group", "list", "--session", s).stdout)
    assert [r["NAME"] for r in rows] == ["work", "ops"]
    assert rows[1]["PRIORITY"] == "high" and rows[1]["TITLE"] == "Operations"
    groups = ctl.groups(s)
    assert [g["name"] for g in groups] == ["work", "ops"]
    by_name = ctl.json("group", "show", "ops", "--session", s)
    by_id = ctl.json("group", "show", gid)
    assert by_name["id"] == by_id["id"] == gid
    assert by_id["specialist"] == "devops" and by_id["status"] == "active"
    fields = kv(ctl.run("group", "show", gid).stdout)
    assert fields["name"] == "ops" and fields["priority"] == "high"
    ctl.run("group", "set", gid, "--title", "Ops", "--priority", "low",
            "--status", "blocked", "--specialist", "sre", "--description",
            "New", "--name", "operations")
    g = ctl.json("group", "show", gid)
    assert (g["title"], g["priority"], g["status"], g["specialist"],
            g["description"], g["name"]) == \
        ("Ops", "low", "blocked", "sre", "New", "operations")
    ctl.run("group", "set", "operations", "--session", s, "--title", "O")
    assert ctl.json("group", "show", gid)["title"] == "O"
    # All sessions: a SESSION column leads.
    rows = table(ctl.run("group", "list").stdout)
    assert {r["SESSION"] for r in rows} == {s}
    fail(ctl, "group", "create", "--session", s, "--name", "work", code=4)
    fail(ctl, "group", "create", "--session", "nope", "--name", "x", code=3)
    fail(ctl, "group", "show", "nope", code=3)
    fail(ctl, "group", "show", "nope", "--session", s, code=3)
    fail(ctl, "group", "set", gid, "--priority", "urgent", code=4)
    fail(ctl, "group", "set", gid, "--name", "a/b", code=4)


def test_group_rm_and_restore(session):
    ctl, s = session
    gid = ctl.json("group", "show", "work", "--session", s)["id"]
    t = ctl.run("task", "add", "--group", gid, "--title", "Inside").stdout
    t = t.strip()
    ctl.run("group", "rm", gid)
    assert ctl.groups(s) == []
    assert [g["id"] for g in
            ctl.json("group", "list", "--session", s, "--deleted")] == [gid]
    assert "(deleted)" in ctl.run("group", "list", "--session", s,
                                  "--deleted").stdout
    assert ctl.tasks(s) == []
    assert ctl.json("group", "show", gid)["deleted"] is True
    # Its name is free now; once taken, restoring must fail clearly.
    other = ctl.run("group", "create", "--session", s, "--name",
                    "work").stdout.strip()
    p = fail(ctl, "group", "restore", gid, code=4)
    assert "work" in p.stderr and other in p.stderr
    assert ctl.json("group", "show", gid)["deleted"] is True
    ctl.run("group", "restore", gid, "--name", "work_old")
    g = ctl.json("group", "show", gid)
    assert g["deleted"] is False and g["name"] == "work_old"
    assert [x["id"] for x in ctl.tasks(s)] == [t]


# ---- tasks ----

def test_task_add_and_show(session):
    ctl, s = session
    base = ctl.run("task", "add", "--session", s, "--group", "work",
                   "--title", "Base").stdout.strip()
    tid = ctl.run("task", "add", "--session", s, "--group", "work",
                  "--title", "Build login form", "--status", "active",
                  "--progress", "30%", "--priority", "critical",
                  "--specialist", "implementer", "--description",
                  "Two\nlines", "--estimate", "4h", "--actual", "90m",
                  "--depends", base, "--deliverable", "Form",
                  "--deliverable", "Tests", "--current-status",
                  "Half done").stdout.strip()
    assert tid == "build_login_form_001"
    t = ctl.task(tid)
    for key in ("id", "session", "group", "title", "description", "status",
                "progress", "priority", "specialist", "revision"):
        assert key in t
    assert t["session"] == s and t["group_name"] == "work"
    assert (t["status"], t["progress"], t["priority"]) == \
        ("active", 30, "critical")
    assert (t["estimate"], t["actual"]) == (4, 1.5)
    assert t["dependencies"] == [base]
    assert t["deliverables"] == ["Form", "Tests"]
    assert t["current_status"] == "Half done"
    assert t["description"] == "Two\nlines"
    assert t["started_at"]
    text = ctl.run("task", "show", tid).stdout
    fields = kv(text)
    assert fields["id"] == tid and fields["status"] == "active"
    assert fields["progress"] == "30%" and fields["estimate"] == "4h"
    assert fields["actual"] == "1.5h" and fields["group"].startswith("work")
    assert "Tests" in text and "lines" in text
    # A group id needs no session; --id is kept.
    gid = t["group"]
    mine = ctl.run("task", "add", "--group", gid, "--title", "Mine", "--id",
                   "my-task.1").stdout.strip()
    assert mine == "my-task.1" and ctl.task(mine)["group"] == gid
    out = ctl.run("task", "add", "--group", gid, "--title", "J", "--json")
    assert json.loads(out.stdout)["title"] == "J"


SET_CASES = [
    (("--title", "New title"), "title", "New title"),
    (("--status", "blocked"), "status", "blocked"),
    (("--status", "in progress"), "status", "active"),
    (("--progress", "45"), "progress", 45),
    (("--progress", "46%"), "progress", 46),
    (("--priority", "high"), "priority", "high"),
    (("--specialist", "tester"), "specialist", "tester"),
    (("--description", "a\nb"), "description", "a\nb"),
    (("--estimate", "1h30m"), "estimate", 1.5),
    (("--estimate", ""), "estimate", None),
    (("--actual", "2.5"), "actual", 2.5),
    (("--current-status", "Waiting"), "current_status", "Waiting"),
    (("--deliverable", "x", "--deliverable", "y"), "deliverables", ["x", "y"]),
    (("--no-deliverables",), "deliverables", []),
    (("--no-depends",), "dependencies", []),
]


@pytest.mark.parametrize("args,key,value", SET_CASES,
                         ids=[" ".join(c[0]) for c in SET_CASES])
def test_task_set_field(session, args, key, value):
    ctl, s = session
    dep = ctl.run("task", "add", "--session", s, "--group", "work",
                  "--title", "Dep").stdout.strip()
    tid = ctl.run("task", "add", "--session", s, "--group", "work",
                  "--title", "T", "--depends", dep, "--deliverable", "d",
                  "--estimate", "1h").stdout.strip()
    before = ctl.task(tid)
    ctl.run("task", "set", tid, *args)
    after = ctl.task(tid)
    assert after[key] == value
    assert after["revision"] > before["revision"]
    for other in ("title", "priority", "specialist", "group"):
        if other != key:
            assert after[other] == before[other]


def test_task_set_depends_and_group(session):
    ctl, s = session
    a, b, c = (ctl.run("task", "add", "--session", s, "--group", "work",
                       "--title", n).stdout.strip() for n in "ABC")
    ctl.run("task", "set", c, "--depends", a)
    ctl.run("task", "set", c, "--depends", b, "--depends", a)
    assert ctl.task(c)["dependencies"] == [b, a]
    fail(ctl, "task", "set", c, "--depends", "nope", code=3)
    fail(ctl, "task", "set", c, "--depends", c, code=4)
    fail(ctl, "task", "set", c, "--depends", a, "--no-depends", code=2)
    assert ctl.task(c)["dependencies"] == [b, a]
    g2 = ctl.run("group", "create", "--session", s, "--name",
                 "later").stdout.strip()
    ctl.run("task", "set", c, "--group", "later")
    assert ctl.task(c)["group"] == g2
    ctl.run("task", "set", c, "--group", ctl.task(a)["group"])
    assert ctl.task(c)["group_name"] == "work"
    other = ctl.run("session", "create", "--title", "Other").stdout.strip()
    og = ctl.run("group", "create", "--session", other, "--name",
                 "work").stdout.strip()
    p = fail(ctl, "task", "set", c, "--group", og, code=4)
    assert "session" in p.stderr
    fail(ctl, "task", "set", c, "--group", "nowhere", code=3)


def test_completed_means_100_percent(session):
    ctl, s = session
    tid = ctl.run("task", "add", "--session", s, "--group", "work",
                  "--title", "Finish", "--progress", "20").stdout.strip()
    ctl.run("task", "set", tid, "--status", "completed")
    t = ctl.task(tid)
    assert (t["status"], t["progress"]) == ("completed", 100)
    assert t["completed_at"]
    ctl.run("task", "set", tid, "--status", "active")
    ctl.run("task", "set", tid, "--status", "done", "--progress", "80")
    t = ctl.task(tid)
    assert (t["status"], t["progress"]) == ("completed", 80)
    added = ctl.run("task", "add", "--session", s, "--group", "work",
                    "--title", "Done already", "--status",
                    "completed").stdout.strip()
    assert ctl.task(added)["progress"] == 100


def test_task_list_filters_and_text(demo):
    ctl, s = demo
    rows = table(ctl.run("task", "list", "--session", s).stdout)
    assert len(rows) == len(ctl.tasks(s))
    assert {r["STATUS"] for r in rows} == STATUSES
    assert all(r["PROGRESS"].endswith("%") for r in rows)
    active = ctl.json("task", "list", "--session", s, "--status", "active")
    assert active and {t["status"] for t in active} == {"active"}
    rows = table(ctl.run("task", "list", "--session", s, "--status",
                         "active").stdout)
    assert [r["ID"] for r in rows] == [t["id"] for t in active]
    backend = ctl.json("task", "list", "--session", s, "--group", "backend")
    assert backend and {t["group_name"] for t in backend} == {"backend"}
    rows = table(ctl.run("task", "list", "--group",
                         "backend_group_001").stdout)
    assert [r["ID"] for r in rows] == [t["id"] for t in backend]
    assert {r["GROUP"] for r in rows} == {"backend"}
    assert len(ctl.json("task", "list")) == len(ctl.tasks(s))
    fail(ctl, "task", "list", "--status", "sleeping", code=4)
    fail(ctl, "task", "list", "--session", "nope", code=3)
    fail(ctl, "task", "list", "--group", "backend", code=3)


def test_task_rm_and_restore(session):
    ctl, s = session
    keep, gone = (ctl.run("task", "add", "--session", s, "--group", "work",
                          "--title", n).stdout.strip()
                  for n in ("Keep", "Gone"))
    ctl.run("task", "rm", gone)
    assert [t["id"] for t in ctl.tasks(s)] == [keep]
    assert gone not in ctl.run("task", "list", "--session", s).stdout
    deleted = ctl.json("task", "list", "--session", s, "--deleted")
    assert {t["id"]: t["deleted"] for t in deleted} == \
        {keep: False, gone: True}
    text = ctl.run("task", "list", "--session", s, "--deleted").stdout
    assert gone in text and "(deleted)" in text
    assert ctl.task(gone)["deleted"] is True
    ctl.run("task", "restore", gone)
    assert [t["id"] for t in ctl.tasks(s)] == [keep, gone]
    fail(ctl, "task", "rm", "nope", code=3)
    fail(ctl, "task", "restore", "nope", code=3)


# ---- import ----

def test_import_three(session):
    ctl, s = session
    gid = ctl.groups(s)[0]["id"]
    data = [
        {"session": s, "group": "work", "title": "One", "status": "active",
         "progress": 10, "priority": "high", "estimate": 4,
         "actual": "30m", "deliverables": ["a", "b"],
         "current_status": "Started"},
        {"group": gid, "title": "Two", "id": "two", "dependencies": ["one_001"],
         "estimate": "1.5h", "specialist": "tester", "description": "D"},
        {"group": gid, "title": "Three", "status": "done",
         "dependencies": ["two"]},
    ]
    p = ctl.run("task", "import", input=json.dumps(data))
    ids = p.stdout.split()
    assert ids == ["one_001", "two", "three_001"]
    one, two, three = (ctl.task(i) for i in ids)
    assert (one["status"], one["progress"], one["estimate"],
            one["actual"]) == ("active", 10, 4, 0.5)
    assert one["deliverables"] == ["a", "b"]
    assert two["dependencies"] == ["one_001"] and two["estimate"] == 1.5
    assert (three["status"], three["progress"]) == ("completed", 100)


def test_import_from_file_and_json_output(session, workdir):
    ctl, s = session
    path = os.path.join(workdir, "in.json")
    with open(path, "w") as f:
        json.dump([{"session": s, "group": "work", "title": "F1"},
                   {"session": s, "group": "work", "title": "F2",
                    "dependencies": ["f3"]},
                   {"session": s, "group": "work", "title": "F3",
                    "id": "f3"}], f)
    out = ctl.run("task", "import", path, "--json").stdout
    assert [t["title"] for t in json.loads(out)] == ["F1", "F2", "F3"]
    assert ctl.run("task", "import", input="[]").stdout == ""
    fail(ctl, "task", "import", os.path.join(workdir, "missing.json"),
         code=1)


BAD_ELEMENTS = [
    ({"title": "no group"}, "group"),
    ({"group": "work"}, "title"),
    ({"group": "nowhere", "title": "x"}, "nowhere"),
    ({"group": "work", "title": "x", "progress": "140"}, "outside 0-100"),
    ({"group": "work", "title": "x", "progress": "abc"}, "abc"),
    ({"group": "work", "title": "x", "status": "sleeping"}, "sleeping"),
    ({"group": "work", "title": "x", "priority": "urgent"}, "urgent"),
    ({"group": "work", "title": "x", "estimate": "soon"}, "soon"),
    ({"group": "work", "title": "x", "dependencies": ["ghost"]}, "ghost"),
    ({"group": "work", "title": "x", "dependencies": "a"}, "array"),
    ({"group": "work", "title": "x", "id": "first"}, "first"),
    ({"group": "work", "title": "two\nlines"}, "one line"),
    ({"group": "work", "title": "x", "id": "bad id"}, "bad id"),
]


@pytest.mark.parametrize("bad,words", BAD_ELEMENTS,
                         ids=[w for _, w in BAD_ELEMENTS])
def test_import_bad_element_adds_nothing(session, bad, words):
    ctl, s = session
    bad = dict(bad, session=s)
    good = {"session": s, "group": "work", "title": "Fine", "id": "first"}
    data = [good, {"session": s, "group": "work", "title": "Also fine"}, bad]
    before = ctl.json("export")
    p = fail(ctl, "task", "import", input=json.dumps(data), code=4)
    assert "element 2" in p.stderr and words in p.stderr
    assert p.stdout == ""
    assert ctl.tasks(s) == []
    after = ctl.json("export")
    assert after["revision"] == before["revision"]


@pytest.mark.parametrize("text", ["", "{", "{}", "[1]", '["x"]', "[[]]",
                                  "nonsense"])
def test_import_not_an_array_of_objects(session, text):
    ctl, s = session
    fail(ctl, "task", "import", input=text, code=4)
    assert ctl.tasks(s) == []


def test_import_20000(session):
    ctl, s = session
    n = 20000
    data = [{"session": s, "group": "work", "title": f"Bulk {i}",
             "estimate": 1, "status": "active" if i % 3 else "planned",
             "deliverables": [f"d{i}"]} for i in range(n)]
    p = ctl.run("task", "import", input=json.dumps(data))
    ids = p.stdout.split()
    assert len(ids) == len(set(ids)) == n
    assert len(ctl.tasks(s)) == n
    assert ctl.json("group", "show", "work", "--session", s)["tasks"] == n
    assert ctl.task(ids[-1])["title"] == f"Bulk {n - 1}"


def test_json_round_trip_of_text(session):
    ctl, s = session
    title = 'She said "ship it" \\o/ — ünïcödé ✓ 🚀 <&>'
    description = "line one\nline two\twith tab\n\n  indented \"quoted\""
    data = [{"session": s, "group": "work", "title": title,
             "description": description, "deliverables": ['a "b"', "ü\nv"],
             "current_status": "🔄 50 % \\ done", "specialist": "ré"}]
    (tid,) = ctl.run("task", "import", input=json.dumps(data)).stdout.split()
    t = ctl.task(tid)
    assert t["title"] == title and t["description"] == description
    assert t["deliverables"] == ['a "b"', "ü\nv"]
    assert t["current_status"] == "🔄 50 % \\ done"
    assert t["specialist"] == "ré"
    listed = [x for x in ctl.tasks(s) if x["id"] == tid][0]
    assert listed["title"] == title
    # The same through the command line, and out through export.
    tid2 = ctl.run("task", "add", "--session", s, "--group", "work",
                   "--title", title, "--description",
                   description).stdout.strip()
    assert ctl.task(tid2)["description"] == description
    export = ctl.json("export")
    titles = [t["title"] for x in export["sessions"] for g in x["groups"]
              for t in g["tasks"]]
    assert titles.count(title) == 2
    # Text output keeps the lines of a description readable.
    shown = ctl.run("task", "show", tid).stdout
    assert "line one\n" in shown and "line two" in shown


# ---- outside changes ----

def test_sql_update_by_another_process_is_seen(session):
    ctl, s = session
    tid = ctl.run("task", "add", "--session", s, "--group", "work",
                  "--title", "Watched").stdout.strip()
    rev = ctl.task(tid)["revision"]
    with sqlite3.connect(ctl.db) as db:
        (source,) = db.execute("SELECT source FROM history"
                               " ORDER BY id DESC LIMIT 1").fetchone()
    assert source == "taskctl"
    subprocess.run(["python3", "-c",
                    "import sqlite3,sys; db=sqlite3.connect(sys.argv[1]);"
                    "db.execute(\"UPDATE tasks SET progress=77, title='SQL'"
                    " WHERE id=?\", (sys.argv[2],)); db.commit()",
                    ctl.db, tid], check=True)
    t = ctl.task(tid)
    assert (t["progress"], t["title"]) == (77, "SQL")
    assert t["revision"] > rev
    assert kv(ctl.run("task", "show", tid).stdout)["progress"] == "77%"


# ---- exit statuses ----

@pytest.mark.parametrize("args", [
    ("bogus",), ("task",), ("task", "bogus"), ("task", "show"),
    ("task", "show", "a", "b"), ("task", "list", "--bogus"),
    ("task", "list", "--title", "x"), ("task", "add", "--group"),
    ("task", "add", "--title", "x"), ("session", "create"),
    ("--busy-timeout", "soon", "session", "list"), ("-x", "session", "list"),
    ("task", "list", "--deleted=yes"), ("task", "set", "t"),
    ("session", "create", "--title", "a", "--title", "b"), (),
])
def test_usage_errors_exit_2(session, args):
    ctl, s = session
    p = ctl.run(*args, check=False)
    assert p.returncode == 2, (args, p.stderr)
    assert p.stdout == ""
    assert p.stderr.startswith("taskctl: ")
    assert "usage: taskctl" in p.stderr


@pytest.mark.parametrize("args", [
    ("task", "show", "x"), ("task", "set", "x", "--title", "y"),
    ("task", "rm", "x"), ("group", "show", "x"), ("group", "rm", "x"),
    ("group", "restore", "x"), ("session", "show", "x"),
    ("group", "list", "--session", "x"),
    ("task", "add", "--group", "x", "--title", "t"),
    ("task", "add", "--session", "x", "--group", "work", "--title", "t"),
])
def test_unknown_ids_exit_3(session, args):
    ctl, s = session
    p = fail(ctl, *args, code=3)
    assert "'x'" in p.stderr or " x" in p.stderr
    assert "taskctl " in p.stderr.split(";", 1)[-1]  # says what to run


def test_invalid_values_exit_4(session):
    ctl, s = session
    tid = ctl.run("task", "add", "--session", s, "--group", "work",
                  "--title", "T").stdout.strip()
    p = fail(ctl, "task", "set", tid, "--progress", "140", code=4)
    assert p.stderr.strip() == "taskctl: progress '140' is outside 0-100"
    p = fail(ctl, "task", "set", tid, "--progress", "abc", code=4)
    assert "'abc'" in p.stderr
    for args in (("--status", "sleeping"), ("--priority", "urgent"),
                 ("--estimate", "soon"), ("--actual", "-1h"),
                 ("--title", "two\nlines"), ("--title", "")):
        fail(ctl, "task", "set", tid, *args, code=4)
    fail(ctl, "task", "add", "--session", s, "--group", "work", "--title",
         "Dup", "--id", tid, code=4)
    fail(ctl, "task", "add", "--session", s, "--group", "work", "--title",
         "Bad", "--id", ".hidden", code=4)
    assert ctl.task(tid)["progress"] == 0


def test_busy_exit_5(session):
    ctl, s = session
    tid = ctl.run("task", "add", "--session", s, "--group", "work",
                  "--title", "T").stdout.strip()
    db = sqlite3.connect(ctl.db, isolation_level=None)
    try:
        db.execute("BEGIN IMMEDIATE")
        p = fail(ctl, "--busy-timeout", "100", "task", "set", tid,
                 "--progress", "50", code=5)
        assert "locked" in p.stderr and "--busy-timeout" in p.stderr
        fail(ctl, "task", "set", tid, "--progress", "50",
             "--busy-timeout=50", code=5)
        # Readers are not held up by a writer.
        assert ctl.task(tid)["progress"] == 0
    finally:
        db.execute("ROLLBACK")
        db.close()
    ctl.run("--busy-timeout", "100", "task", "set", tid, "--progress", "50")
    assert ctl.task(tid)["progress"] == 50


def test_missing_and_foreign_databases_exit_6(workdir):
    missing = Taskctl(os.path.join(workdir, "missing.db"))
    p = fail(missing, "task", "list", code=6)
    assert "taskctl init" in p.stderr
    assert not os.path.exists(missing.db)
    fail(missing, "session", "create", "--title", "x", code=6)
    foreign = os.path.join(workdir, "foreign.db")
    with sqlite3.connect(foreign) as db:
        db.execute("CREATE TABLE t (x)")
    p = fail(Taskctl(foreign), "session", "list", code=6)
    assert "not a taskfs" in p.stderr
    fail(Taskctl(foreign), "init", code=6)
    garbage = os.path.join(workdir, "garbage.db")
    with open(garbage, "wb") as f:
        f.write(b"this is not a database at all\n" * 200)
    fail(Taskctl(garbage), "task", "list", code=6)
    fail(Taskctl(os.path.join(workdir, "no", "such", "dir.db")), "init",
         code=6)


def test_read_only_database_exit_7(demo, workdir):
    """A read-only bind mount (in a private mount namespace) holds the
    database: writes fail with 7, and so does creating a new one there."""
    ctl, s = demo
    if not shutil.which("unshare"):
        pytest.skip("unshare is not installed")
    ro = os.path.join(workdir, "ro")
    os.mkdir(ro)
    src = os.path.dirname(ctl.db)
    script = ('mount --bind -o ro "$1" "$2" || exit 99; shift 2; '
              'for db in tasks.db new.db; do '
              '"$@" -d "$RO/$db" task set auth_api_001 --progress 90; '
              'echo "rc=$?"; done')
    p = subprocess.run(["unshare", "-rm", "sh", "-c", script, "sh", src, ro,
                        TASKCTL], capture_output=True, text=True,
                       env=dict(os.environ, RO=ro), timeout=60)
    if p.returncode == 99 or "rc=" not in p.stdout:
        pytest.skip("cannot make a read-only bind mount: " + p.stderr)
    assert p.stdout.split() == ["rc=7", "rc=6"], p.stderr
    first = p.stderr.splitlines()[0]
    assert first.startswith("taskctl: ") and "writ" in first
    assert ctl.task("auth_api_001")["progress"] == 70


# ---- help, version, JSON everywhere ----

def test_help_and_version(taskctl):
    for args in (("--help",), ("-h",), ("task", "--help"),
                 ("task", "add", "--help"), ("--help", "task", "add"),
                 ("group", "list", "-h"), ("task", "add", "--bogus", "-h")):
        p = taskctl.run(*args)
        assert p.stdout.startswith("usage: taskctl"), args
        assert p.stderr == ""
    assert "--title" in taskctl.run("task", "add", "--help").stdout
    top = taskctl.run("--help").stdout
    for cmd in ("init", "demo", "export", "session create", "group restore",
                "task import", "task list"):
        assert cmd in top
    for code in range(8):
        assert f"  {code}  " in top
    assert not os.path.exists(taskctl.db)  # help opens nothing
    v = taskctl.run("--version").stdout
    assert v.startswith("taskctl ") and v.split()[1][0].isdigit()
    assert taskctl.run("-V").stdout == v


def test_read_commands_json(demo):
    ctl, s = demo
    gid = ctl.groups(s)[0]["id"]
    for args in (("session", "list"), ("session", "show", s),
                 ("group", "list", "--session", s), ("group", "list"),
                 ("group", "show", gid), ("task", "list"),
                 ("task", "list", "--session", s, "--deleted"),
                 ("task", "show", "auth_api_001")):
        out = ctl.run(*args, "--json").stdout
        assert out.endswith("\n") and out.count("\n") == 1
        json.loads(out)
        ctl.run("--json", *args)
    export = json.loads(ctl.run("export").stdout)
    assert export["taskfs"] == 1 and export["revision"] > 0
    (sess,) = export["sessions"]
    assert sum(len(g["tasks"]) for g in sess["groups"]) == len(ctl.tasks(s))
    assert json.loads(ctl.run("export", "--json").stdout) == export


def test_write_commands_json(session):
    ctl, s = session
    t = json.loads(ctl.run("task", "add", "--session", s, "--group", "work",
                           "--title", "J", "--json").stdout)
    assert t["title"] == "J"
    for args in (("task", "set", t["id"], "--progress", "5"),
                 ("task", "rm", t["id"]), ("task", "restore", t["id"])):
        assert json.loads(ctl.run(*args, "--json").stdout)["id"] == t["id"]
    g = json.loads(ctl.run("group", "set", "work", "--session", s, "--title",
                           "W", "--json").stdout)
    assert g["title"] == "W"


def test_text_lists_are_aligned(demo):
    ctl, s = demo
    lines = ctl.run("task", "list", "--session", s).stdout.splitlines()
    col = lines[0].index("STATUS")
    for line in lines[1:]:
        assert line[col - 2:col] == "  " and line[col] != " "
    lines = ctl.run("group", "list", "--session", s).stdout.splitlines()
    col = lines[0].index("TITLE")
    assert all(line[col - 2:col] == "  " for line in lines[1:])


# ---- the man page ----

def test_man_page_has_no_warnings():
    if not shutil.which("man"):
        pytest.skip("man is not installed")
    page = os.path.join(REPO, "docs", "taskctl.1")
    p = subprocess.run(["man", "--warnings", "-l", page],
                       capture_output=True, text=True,
                       env=dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8"))
    assert p.returncode == 0
    assert p.stderr == ""
    assert "EXIT STATUS" in p.stdout


# ---- stats and log, from saves through a mount ----

def set_field(text, task_id, field, value):
    """The group file text with one field of one task block changed."""
    new, n = re.subn(r"(`%s`\n\n(?:.*\n)*?- \*\*%s\*\*: )[^\n]*"
                     % (re.escape(task_id), field), r"\g<1>" + value, text,
                     count=1)
    assert n == 1, (task_id, field)
    return new


@pytest.fixture
def synced(demo, mount_factory, workdir):
    """A mounted demo where a save changed two records, a save met a
    conflict (progress changed on both sides), and a save was held (bad
    progress); unmounted, so that every render is in the sync log.
    Returns (taskctl, session, the old title and priority)."""
    ctl, s = demo
    write(os.path.join(workdir, "taskfs.yaml"), "auto_merge_window: 0s\n")
    old_title = [g for g in ctl.groups(s) if g["name"] == "frontend"][0][
        "title"]
    old_priority = ctl.task("auth_components_001")["priority"]
    assert old_priority != "critical"
    m = mount_factory(ctl.db)
    p = m.path(s, "task_groups", "frontend.md")
    text = re.sub(r"^# .*$", "# Frontend (renamed)", read(p), count=1,
                  flags=re.M)
    write(p, set_field(text, "auth_components_001", "Priority", "critical"))
    text = read(p)
    ctl.run("task", "set", "dashboard_layout_001", "--progress", "5")
    write(p, set_field(text, "dashboard_layout_001", "Progress", "77%"))
    t = m.path(s, "tasks", "active", "chart_components_001.md")
    with pytest.raises(OSError) as e:
        write(t, re.sub(r"- \*\*Progress\*\*: \d+%", "- **Progress**: 140%",
                        read(t)))
    assert e.value.errno == errno.EBADMSG
    assert m.unmount() == 0
    return ctl, s, old_title, old_priority


def metrics(text):
    """The METRIC/VALUE table of 'taskctl stats' as a dict."""
    lines = text.split("\n\n")[0].splitlines()
    col = lines[0].index("VALUE")
    assert lines[0][:col].rstrip() == "METRIC"
    return {line[:col].rstrip(): line[col:] for line in lines[1:]}


def test_stats_after_saves_and_a_conflict(synced):
    ctl, s, _, _ = synced
    x = ctl.json("stats", "--session", s)
    renders = x["renders"]
    assert renders >= 3  # each file read, once at least
    assert {k: x[k] for k in ("session", "operations", "ok", "errors",
                              "held", "with_conflicts", "saves",
                              "conflicts_total", "conflicts_open",
                              "conflicts_resolved", "errors_by_kind")} == {
        "session": s, "operations": renders + 3, "ok": renders + 1,
        "errors": 0, "held": 1, "with_conflicts": 1, "saves": 3,
        "conflicts_total": 1, "conflicts_open": 1, "conflicts_resolved": 0,
        "errors_by_kind": {"parse": 1}}
    assert x["success_rate"] == pytest.approx((renders + 2) / (renders + 3))
    assert x["conflict_rate"] == pytest.approx(1 / 3)
    assert x["resolution_rate"] == 0
    assert 0 < x["save_p50_ms"] <= x["save_p95_ms"]
    assert 0 < x["render_p50_ms"] <= x["render_p95_ms"]
    (c,) = x["open_conflicts"]
    assert {k: c[k] for k in ("session", "file", "type", "field", "status",
                              "label")} == {
        "session": s, "file": "task_groups/frontend.conflict.md",
        "type": "progress_update", "field": "progress", "status": "open",
        "label": "Create dashboard layout `dashboard_layout_001`"}
    (e,) = x["last_errors"]
    assert {k: e[k] for k in ("type", "file", "status", "kind", "error")} == {
        "type": "save", "file": "tasks/active/chart_components_001.md",
        "status": "held", "kind": "parse",
        "error": "line 12: error: progress '140%' is outside 0-100%"}
    assert ctl.json("stats") == dict(x, session=None)

    text = ctl.run("stats", "--session", s).stdout
    assert metrics(text) == {
        "operations": "%d (%d renders, 3 saves and resolutions)"
                      % (renders + 3, renders),
        "sync success rate": "%.1f%% (%d of %d)"
                             % (100 * (renders + 2) / (renders + 3),
                                renders + 2, renders + 3),
        "conflict rate": "33.3% (1 of 3 saves)",
        "render time p50/p95": "%.2f ms / %.2f ms"
                               % (x["render_p50_ms"], x["render_p95_ms"]),
        "save time p50/p95": "%.2f ms / %.2f ms"
                             % (x["save_p50_ms"], x["save_p95_ms"]),
        "errors by kind": "parse 1",
        "user resolution rate": "0.0% (0 of 1 conflicts resolved)",
        "open conflicts": "1"}
    rows = table(text.split("\n\n")[1])
    assert rows == [{"ID": str(c["id"]), "SESSION": s,
                     "TYPE": "progress_update", "FIELD": "progress",
                     "LABEL": c["label"],
                     "FILE": "task_groups/frontend.conflict.md"}]
    assert text.split("\n\n")[2] == (
        "last errors, newest first:\n  %s UTC save "
        "tasks/active/chart_components_001.md: held (parse): line 12: "
        "error: progress '140%%' is outside 0-100%%\n" % e["at"][:19])

    # Resolved from the command line: the rate follows, and the
    # resolution counts in its session's figures.
    ctl.run("resolve", c["id"], "--keep", "file")
    y = ctl.json("stats", "--session", s)
    assert (y["conflicts_open"], y["conflicts_resolved"],
            y["resolution_rate"], y["open_conflicts"]) == (0, 1, 1.0, [])
    assert y["saves"] == 4
    y = ctl.json("stats")
    assert (y["saves"], y["ok"], y["resolution_rate"]) == (4, renders + 2,
                                                           1.0)
    assert y["conflict_rate"] == pytest.approx(1 / 4)
    m = metrics(ctl.run("stats").stdout)
    assert m["user resolution rate"] == "100.0% (1 of 1 conflicts resolved)"
    assert m["conflict rate"] == "25.0% (1 of 4 saves)"
    assert m["open conflicts"] == "0"


def test_log_of_edits_through_the_mount(synced):
    ctl, s, old_title, old_priority = synced
    entries = ctl.json("log", "--session", s)
    assert [{k: e[k] for k in ("session", "record_kind", "record", "op",
                               "field", "old", "new")} for e in entries] == [
        {"session": s, "record_kind": "task", "record": "auth_components_001",
         "op": "update", "field": "priority", "old": old_priority,
         "new": "critical"},
        {"session": s, "record_kind": "group", "record": "frontend_group_001",
         "op": "update", "field": "title", "old": old_title,
         "new": "Frontend (renamed)"}]
    assert entries[0]["revision"] > entries[1]["revision"]
    assert ctl.json("log") == entries
    assert ctl.json("log", "--limit", "1") == entries[:1]
    assert ctl.json("log", "--limit", "0") == entries
    # The changes made by taskctl (the conflict's other side) are not
    # edits through the mount.
    lines = ctl.run("log", "--session", s).stdout.splitlines()
    names = ["REV", "TIME (UTC)", "RECORD", "FIELD", "OLD", "NEW"]
    starts = [lines[0].index(n) for n in names]
    assert lines[0].split() == "REV TIME (UTC) RECORD FIELD OLD NEW".split()
    rows = [{n: line[a:b].strip() for n, a, b in
             zip(names, starts, starts[1:] + [None])} for line in lines[1:]]
    assert rows == [
        {"REV": str(e["revision"]), "TIME (UTC)": e["at"][:19],
         "RECORD": "%s %s" % (e["record_kind"], e["record"]),
         "FIELD": e["field"], "OLD": e["old"], "NEW": e["new"]}
        for e in entries]


def test_stats_and_log_without_a_mount(session):
    ctl, s = session
    x = ctl.json("stats", "--session", s)
    assert (x["operations"], x["success_rate"], x["open_conflicts"],
            x["last_errors"], x["errors_by_kind"]) == (0, 1.0, [], [], {})
    assert metrics(ctl.run("stats").stdout)["errors by kind"] == "none"
    assert ctl.json("log") == []
    assert ctl.run("log").stdout == "no edits through a mount yet\n"
    fail(ctl, "stats", "--session", "nope", code=3)
    fail(ctl, "log", "--session", "nope", code=3)
    for bad in ("x", "-1", "1.5", ""):
        fail(ctl, "log", "--limit", bad, code=2)
    # A bad --limit is a usage error even without a database.
    missing = Taskctl(ctl.db + ".missing")
    fail(missing, "log", "--limit", "x", code=2)
    fail(missing, "stats", code=6)
    for cmd in ("stats", "log"):
        h = ctl.run(cmd, "--help").stdout
        assert h.startswith("usage: taskctl [-d DB] [--json] %s [--session S]"
                            % cmd)
        assert "--session S" in h
    assert "--limit N" in ctl.run("log", "--help").stdout
    top = ctl.run("--help").stdout
    assert "  stats [--session S]\n" in top
    assert "  log [--session S] [--limit N]\n" in top


def test_copy_between_files(demo, workdir):
    ctl, session = demo
    task = ctl.tasks(session)[0]["id"]
    ctl.run("task", "set", task, "--progress", "42")
    ctl.run("task", "set", task, "--title", "Copied title")
    dst = Taskctl(os.path.join(workdir, "copy.db"))
    p = ctl.run("copy", "--to", dst.db)
    rev = ctl.json("check")["revision"]
    assert p.stdout.startswith("copied %s to %s: revision %d," %
                               (os.path.realpath(ctl.db),
                                os.path.realpath(dst.db), rev))
    assert p.stdout.rstrip().endswith("; verified")
    assert dst.json("export") == ctl.json("export")
    assert dst.json("check")["revision"] == rev
    # History rows are the source's, none added by the copy.
    db = [sqlite3.connect(x) for x in (ctl.db, dst.db)]
    rows = [c.execute("SELECT * FROM history ORDER BY id").fetchall()
            for c in db]
    assert rows[0] == rows[1] and len(rows[0]) > 40
    for c in db:
        c.close()
    # A target that holds anything is refused (exit 10) and left as it is.
    before = os.stat(dst.db).st_mtime_ns, dst.json("export")
    p = ctl.run("copy", "--from", ctl.db, "--to", dst.db, check=False)
    assert p.returncode == 10, p.stderr
    assert "is not empty" in p.stderr and "nothing was changed" in p.stderr
    assert (os.stat(dst.db).st_mtime_ns, dst.json("export")) == before
    p = ctl.run("copy", "--json", "--to", os.path.join(workdir, "j.db"))
    out = json.loads(p.stdout)
    assert out["revision"] == rev and out["verified"] and out["created"]
    assert out["rows"]["tasks"] == len(ctl.json("task", "list", "--deleted"))
    p = ctl.run("copy", check=False)
    assert p.returncode == 2 and "--to DB" in p.stderr
    p = ctl.run("copy", "--to", os.path.join(workdir, "no", "such.db"),
                check=False)
    assert p.returncode != 0 and "nothing was copied" in p.stderr
