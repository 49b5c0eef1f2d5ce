# SPDX-License-Identifier: MIT
"""A soak on a background mount: editors save through the mount while
taskctl and plain sqlite3 write the same database, for a while, in turns
that no one orders. Afterwards the database checks clean and every value
each side wrote is in it: in the history of changes, or kept as a backup
or a conflict where the other side's change won.

TASKFS_SOAK_SECONDS sets the length (default 30; tools/run-soak runs it
for 10 minutes). The figures go to stdout (pytest -s) and to
soak-figures.json in TASKFS_SOAK_REPORT's folder when that is set."""
import json
import os
import random
import re
import shutil
import sqlite3
import subprocess
import tempfile
import threading
import time

from conftest import TASKCTL, integrity, read

SECONDS = float(os.environ.get("TASKFS_SOAK_SECONDS", "30"))

# Tasks the editors change through their files, tasks the outside writers
# change, and one both change.
EDITED = ["dashboard_layout_001", "chart_components_001"]
OUTSIDE = ["auth_api_001", "metrics_endpoints_001"]
BOTH = "api_integration_tests_001"

STATUS_LINE = re.compile(r"^\*\*Current status\*\*: .*$", re.M)


def task_file(m, session, task):
    for status in ("active", "planned", "blocked", "completed"):
        p = m.path(session, "tasks", status, task + ".md")
        if os.path.exists(p):
            return p
    raise AssertionError("no file for task " + task)


def new_text(path, marker):
    text = read(path)
    line = "**Current status**: soak %s" % marker
    if STATUS_LINE.search(text):
        return STATUS_LINE.sub(line, text, count=1)
    return text.replace("\n## ", "\n%s\n\n## " % line, 1)


# ---- the editors: each saves marker into the task's current status ----

def with_sed(path, marker, scratch):
    subprocess.run(["sed", "-i", "-E", r"s/^(\*\*Current status\*\*: ).*$/"
                    r"\1soak %s/" % marker, path], check=True, timeout=60)


def with_python_replace(path, marker, scratch):
    text = new_text(path, marker)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".md")
    with os.fdopen(fd, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def with_vim(path, marker, scratch):
    subprocess.run(["vim", "-N", "-u", "NONE", "-i", "NONE", "-es",
                    "-c", r"%%s/^\*\*Current status\*\*: .*$/"
                    r"**Current status**: soak %s/" % marker,
                    "-c", "w!", "-c", "q!", path], check=True, timeout=60,
                   stdin=subprocess.DEVNULL)


class Declined(Exception):
    """The editor refused to save, as it would ask a person first."""


def with_emacs(path, marker, scratch):
    # Told the file changed on disk since it was read (the outside writer
    # changed the task), emacs goes on, as a user answering "yes, edit
    # anyway" and "save anyway" would: the questions it would ask on the
    # first change of the buffer and on saving are answered so (a batch
    # emacs would read the answer from stdin).
    script = ('(progn (setq make-backup-files nil)'
              ' (defun ask-user-about-supersession-threat (_fn) nil)'
              ' (defun yes-or-no-p (_prompt) t)'
              ' (find-file "%s") (set-visited-file-modtime)'
              ' (goto-char (point-min))'
              ' (re-search-forward "^\\\\*\\\\*Current status\\\\*\\\\*: .*$")'
              ' (replace-match "**Current status**: soak %s" t t)'
              ' (set-visited-file-modtime) (save-buffer))' % (path, marker))
    p = subprocess.run(["emacs", "--batch", "-Q", "--eval", script],
                       timeout=60, capture_output=True, text=True)
    if p.returncode != 0 and "changed on disk" in p.stderr:
        raise Declined(p.stderr[:200])
    if p.returncode != 0:
        raise AssertionError("emacs exited %d: %s" % (p.returncode,
                                                      p.stderr[:700]))


def with_cp(path, marker, scratch):
    tmp = os.path.join(scratch, "copy.md")
    with open(tmp, "w") as f:
        f.write(new_text(path, marker))
    subprocess.run(["cp", tmp, path], check=True, timeout=60)


def with_shell(path, marker, scratch):
    text = new_text(path, marker)
    subprocess.run(["sh", "-c", 'cat > "$1"', "sh", path], input=text,
                   text=True, check=True, timeout=60)


EDITORS = [with_sed, with_python_replace, with_vim, with_emacs, with_cp,
           with_shell]
# vim run as a script drops its edit when the file changed on disk since
# it read it (it reloads it, as it would ask a person to): it edits only
# the files no outside writer changes.
BOTH_EDITORS = [e for e in EDITORS if e is not with_vim]


def append_note(m, session, marker):
    path = m.path(session, "notes", "decisions.md")
    with open(path, "a") as f:
        f.write("- soak note %s\n" % marker)


class Side:
    """One side's writes, in order: (what, marker)."""

    def __init__(self):
        self.written, self.failures, self.declined = [], [], 0

    def record(self, what, marker):
        self.written.append((what, marker))


def editor_loop(m, session, side, stop, rng, scratch):
    n = 0
    while not stop.is_set():
        n += 1
        marker = "E%d" % n
        try:
            if n % 7 == 0:
                append_note(m, session, marker)
                side.record("note", marker)
                continue
            task = rng.choice(EDITED + [BOTH])
            editor = rng.choice(EDITORS if task != BOTH else BOTH_EDITORS)
            editor(task_file(m, session, task), marker, scratch)
            side.record("%s:%s" % (editor.__name__, task), marker)
        except Declined:
            side.declined += 1
        except Exception as e:  # a failed save is a finding, not a stop
            side.failures.append("%s: %r" % (marker, e))


def outside_loop(db, side, stop, rng):
    n = 0
    while not stop.is_set():
        n += 1
        task = rng.choice(OUTSIDE + [BOTH])
        if n % 2:
            marker = "T%d" % n
            p = subprocess.run([TASKCTL, "-d", db, "task", "set", task,
                                "--current-status", "soak " + marker],
                               capture_output=True, text=True, timeout=60)
            what = "taskctl:" + task
        else:
            marker = "S%d" % n
            p = subprocess.run(
                ["sqlite3", "-cmd", ".timeout 10000", db,
                 "UPDATE tasks SET current_status = 'soak %s' WHERE id = '%s'"
                 % (marker, task)], capture_output=True, text=True,
                timeout=60)
            what = "sqlite3:" + task
        if p.returncode == 0:
            side.record(what, marker)
        else:
            side.failures.append("%s: %s" % (marker, p.stderr.strip()))
        time.sleep(rng.uniform(0, 0.05))


def kept_values(db):
    """Every text the database keeps of changes: the history's values,
    the backups, the conflicts' sides."""
    c = sqlite3.connect(db)
    try:
        rows = c.execute("SELECT new_value FROM history UNION ALL "
                         "SELECT old_value FROM history UNION ALL "
                         "SELECT text FROM backups UNION ALL "
                         "SELECT file_value FROM conflicts UNION ALL "
                         "SELECT db_value FROM conflicts").fetchall()
    finally:
        c.close()
    return "\n".join(str(r[0]) for r in rows if r[0] is not None)


def test_soak_editors_and_outside_writers(demo, mount_factory, workdir):
    ctl, session = demo
    m = mount_factory(ctl.db, mode="background")
    scratch = os.path.join(workdir, "scratch")
    os.mkdir(scratch)
    editors, outside = Side(), Side()
    stop = threading.Event()
    threads = [
        threading.Thread(target=editor_loop, args=(
            m, session, editors, stop, random.Random(1), scratch)),
        threading.Thread(target=outside_loop, args=(
            ctl.db, outside, stop, random.Random(2))),
    ]
    started = time.monotonic()
    for t in threads:
        t.start()
    time.sleep(SECONDS)
    stop.set()
    for t in threads:
        t.join(timeout=120)
    took = time.monotonic() - started
    # Between the two sides and after them, the mount reads clean.
    for task in EDITED + OUTSIDE + [BOTH]:
        assert "revision:" in read(task_file(m, session, task))
    assert m.unmount() == 0
    problems = integrity(ctl.db)
    figures = {
        "seconds": round(took, 1),
        "saves_through_mount": len(editors.written),
        "outside_writes": len(outside.written),
        "editor_failures": len(editors.failures),
        "editor_declined": editors.declined,
        "outside_failures": len(outside.failures),
        "integrity": problems or "ok",
    }
    kept = kept_values(ctl.db)
    lost = [(what, marker) for what, marker in
            editors.written + outside.written
            if not re.search(r"soak (note )?%s\b" % marker, kept)]
    figures["lost"] = len(lost)
    print("soak: " + json.dumps(figures))
    report = os.environ.get("TASKFS_SOAK_REPORT")
    if report:
        with open(os.path.join(report, "soak-figures.json"), "w") as f:
            json.dump(figures, f)
    if problems or lost or editors.failures or outside.failures:
        # Kept for a look: the database and the daemon's log.
        keep = os.environ.get("TASKFS_SOAK_REPORT") or tempfile.mkdtemp(
            prefix="taskfs-soak-")
        shutil.copy(ctl.db, keep)
        shutil.copy(m.logfile, keep)
        print("soak: database and log kept in " + keep)
    assert problems == [], problems
    assert not lost, lost[:20]
    assert not editors.failures, editors.failures[:10]
    assert not outside.failures, outside.failures[:10]
    assert editors.written and outside.written
    # The last value of each task is one its writers wrote.
    for task in EDITED + OUTSIDE:
        assert ctl.task(task)["current_status"].startswith("soak ")
    # Nothing stray is left beside the files.
    strays = []
    for root, dirs, files in os.walk(os.path.join(m.mnt, session)):
        strays += [f for f in files if f.startswith(("tmp", "sed", ".#"))
                   or f.endswith(("~", ".swp", ".unsaved"))]
    assert not strays, strays
    shutil.rmtree(scratch)
