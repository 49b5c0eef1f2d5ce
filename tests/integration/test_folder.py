# SPDX-License-Identifier: MIT
"""The tree as plain files, without FUSE: taskctl checkout writes it,
taskctl sync (once, or --watch) saves what programs did to the files
through the mount's rules and writes back what the database changed.

The editor matrix of test_editors.py runs against a watched folder (the
database holds the edit within a bounded wait, saved exactly once, with no
stray file and no error file) and against one sync after the editor. Then
offline edits while the database changed, a git pull of edits made in
another clone, renames between status folders, removals, held input, new
records, the user's own files, and a watcher killed with SIGKILL."""
import json
import os
import random
import re
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

from conftest import REPO, TASKCTL, integrity, read, write

NODE_MODULES = os.path.join(REPO, "tests", "integration", "node",
                            "node_modules")
GIT_OPTIONS = [
    "-c", "user.name=Taskfs Test", "-c", "user.email=test@taskfs.invalid",
    "-c", "init.defaultBranch=main", "-c", "advice.detachedHead=false",
    "-c", "pull.rebase=false",
]
EXIT_CONFLICTS, EXIT_HELD = 8, 9


def wait_until(cond, timeout=10.0, what="condition"):
    deadline = time.time() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.time() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.01)


def run(cmd, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60, **kw)
    assert p.returncode == 0, f"{cmd}: {p.returncode}\n{p.stdout}{p.stderr}"
    return p


def files_under(d):
    """Every file under d, relative, the state folder left out."""
    out = set()
    for root, dirs, names in os.walk(d):
        dirs[:] = [x for x in dirs if x != ".taskfs"]
        for n in names:
            out.add(os.path.relpath(os.path.join(root, n), d))
    return out


class Watcher:
    """taskctl sync --watch on a checkout, its output in files."""

    def __init__(self, ctl, tree, grace=None):
        self.ctl, self.tree = ctl, tree
        base = tree.rstrip("/")
        self.out_path, self.err_path = base + ".watch.out", base + ".watch.err"
        self.out = open(self.out_path, "a+")
        self.err = open(self.err_path, "a+")
        cmd = [TASKCTL, "-d", ctl.db, "sync", "--watch", tree]
        if grace is not None:
            cmd += ["--grace", str(grace)]
        self.proc = subprocess.Popen(cmd, stdout=self.out, stderr=self.err)
        wait_until(lambda: "watching " in self.stdout() or
                   self.proc.poll() is not None, what="the watcher")
        assert self.proc.poll() is None, self.stderr()

    def stdout(self):
        with open(self.out_path) as f:
            return f.read()

    def stderr(self):
        with open(self.err_path) as f:
            return f.read()

    def lines(self, prefix):
        return [l for l in self.stdout().splitlines() if l.startswith(prefix)]

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        rc = self.proc.wait(timeout=20)
        self.out.close()
        self.err.close()
        return rc


class Checkout:
    """The demo database checked out into a folder; sync once or watch."""

    def __init__(self, ctl, session, workdir, name="tree", args=()):
        self.ctl, self.session = ctl, session
        self.tree = os.path.join(workdir, name)
        p = ctl.run("checkout", *args, self.tree)
        assert "checked out" in p.stdout, p.stdout
        self.watcher = None

    def path(self, *parts):
        return os.path.join(self.tree, self.session, *parts)

    def sync(self, want=0):
        p = self.ctl.run("sync", self.tree, check=False)
        assert p.returncode == want, "sync exited %d, not %d\n%s%s" % (
            p.returncode, want, p.stdout, p.stderr)
        return p

    def watch(self, grace=None):
        self.watcher = Watcher(self.ctl, self.tree, grace)
        return self.watcher

    def stop(self):
        if self.watcher:
            rc = self.watcher.stop()
            err = self.watcher.stderr()
            self.watcher = None
            assert rc == 0, "the watcher exited %d: %s" % (rc, err)
            return err
        return ""


@pytest.fixture
def checkout(demo, workdir):
    ctl, session = demo
    c = Checkout(ctl, session, workdir)
    yield c
    c.stop()
    problems = integrity(ctl.db)
    assert not problems, problems


@pytest.fixture(params=["watch", "once"])
def mode(request):
    return request.param


class Scene:
    """One group file of a checkout and one active task in it to edit,
    watched or synced once after the program ran."""

    def __init__(self, checkout, mode):
        self.c, self.mode = checkout, mode
        self.ctl, self.session = checkout.ctl, checkout.session
        groups = self.ctl.groups(self.session)
        self.group = [g for g in groups if g["name"] == "frontend"][0]
        self.dir = checkout.path("task_groups")
        self.path = os.path.join(self.dir, "frontend.md")
        tasks = self.ctl.json("task", "list", "--group", self.group["id"])
        self.task = [t for t in tasks if t["status"] == "active"][0]
        self.before = self.state()
        self.listing = sorted(os.listdir(self.dir))
        self.rel = os.path.relpath(self.path, checkout.tree)
        self.rev0 = re.search(r"(?m)^revision: (\d+)$", read(self.path)).group(1)
        self.output = ""
        if mode == "watch":
            checkout.watch()

    def state(self):
        groups = sorted(g["id"] for g in self.ctl.groups(self.session))
        tasks = sorted(t["id"] for t in self.ctl.tasks(self.session))
        return groups, tasks

    def heading(self, title=None):
        return "### %s `%s`" % (title or self.task["title"], self.task["id"])

    def edited_text(self, new_title):
        text = read(self.path)
        assert self.heading() in text
        return text.replace(self.heading(), self.heading(new_title), 1)

    def line_of(self, needle):
        for i, line in enumerate(read(self.path).split("\n"), 1):
            if line == needle:
                return i
        raise AssertionError(needle)

    def settle(self, done, path=None, rev0=None):
        """After the program: sync once, or wait for the watcher to have
        done it (done() true and the file at path written back)."""
        if self.mode == "once":
            self.output = self.c.sync().stdout
            assert done()
            return
        path, rev0 = path or self.path, rev0 or self.rev0
        wait_until(done, what="the database to hold the edit")
        wait_until(lambda: "revision: %s\n" % rev0 not in read(path),
                   what="the file to be written back")
        time.sleep(0.3)  # anything else the watcher would do, it does now
        self.output = self.c.watcher.stdout()

    def check(self, new_title, extra_files=()):
        self.settle(lambda: self.ctl.task(self.task["id"])["title"] ==
                    new_title)
        got = self.ctl.task(self.task["id"])
        assert got["status"] == self.task["status"]
        assert got["progress"] == self.task["progress"]
        assert self.state() == self.before, "no group or task came or went"
        assert sorted(os.listdir(self.dir)) == sorted(
            self.listing + list(extra_files)), "no stray files"
        text = read(self.path)
        assert self.heading(new_title) in text
        assert text.startswith("---\ntaskfs: 1\n")
        assert not os.path.exists(os.path.join(self.dir, "frontend.error.md"))
        assert "held" not in self.output, self.output
        saves = [l for l in self.output.splitlines()
                 if l.startswith("saved %s:" % self.rel)]
        assert len(saves) == 1, self.output
        # Nothing left to do: the folder and the database agree.
        err = self.c.stop()
        assert "taskctl:" not in err, err
        again = self.c.sync().stdout
        assert "saved" not in again and " 0 files written, 0 removed" in \
            again, again


@pytest.fixture
def scene(checkout, mode):
    return Scene(checkout, mode)


def vim_cmd(scene, new_title, settings):
    old = scene.heading().replace("`", "\\`")
    return ["vim", "-u", "DEFAULTS", "-N", "-i", "NONE", "-es",
            "-c", settings,
            "-c", "%%s/^%s$/%s/" % (old.replace("/", "\\/"),
                                     scene.heading(new_title).replace("`", "\\`")),
            "-c", "wq", scene.path]


# ---- the editor matrix ----

@pytest.mark.parametrize("settings", [
    "set backupcopy=auto",
    "set backupcopy=no writebackup",
    "set nowritebackup",
    "set backupcopy=yes",
])
def test_vim(scene, settings):
    run(vim_cmd(scene, "Edited by vim", settings))
    scene.check("Edited by vim")


def test_neovim(scene, workdir):
    env = dict(os.environ, XDG_STATE_HOME=os.path.join(workdir, "state"),
               XDG_DATA_HOME=os.path.join(workdir, "data"))
    old = scene.heading().replace("`", "\\`")
    run(["nvim", "--headless", "-u", "NONE", "-i", "NONE",
         "-c", "%%s/^%s$/%s/" % (old, scene.heading("By neovim").replace(
             "`", "\\`")),
         "-c", "wq", scene.path], env=env)
    scene.check("By neovim")


def test_nano_in_tmux(scene):
    line = scene.line_of(scene.heading())
    session = "taskfs-folder-nano-%d" % os.getpid()
    run(["tmux", "new-session", "-d", "-s", session, "-x", "200", "-y", "50",
         "nano", "+%d,5" % line, scene.path])
    try:
        wait_until(lambda: "GNU nano" in run(
            ["tmux", "capture-pane", "-p", "-t", session]).stdout,
            what="nano to start")
        run(["tmux", "send-keys", "-t", session, "Nano "])
        run(["tmux", "send-keys", "-t", session, "C-o"])
        time.sleep(0.3)
        run(["tmux", "send-keys", "-t", session, "Enter"])
        wait_until(lambda: "Wrote" in run(
            ["tmux", "capture-pane", "-p", "-t", session]).stdout,
            what="nano to save")
        run(["tmux", "send-keys", "-t", session, "C-x"])
        wait_until(lambda: subprocess.run(
            ["tmux", "has-session", "-t", session],
            capture_output=True).returncode != 0, what="nano to exit")
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session],
                       capture_output=True)
    scene.check("Nano " + scene.task["title"])


def test_emacs_batch(scene, workdir):
    """emacs locks the file with a .#name symlink, auto-saves to #name#,
    renames the original to name~ and writes the file anew."""
    env = dict(os.environ, HOME=workdir)
    lisp = ('(progn (goto-char (point-min)) (search-forward "%s") '
            '(replace-match "%s" t t) '
            '(princ (format "locked=%%s\\n" (file-locked-p buffer-file-name))) '
            '(auto-save-mode 1) (do-auto-save t) '
            '(princ (format "autosaved=%%s\\n" '
            '(file-exists-p buffer-auto-save-file-name))) '
            '(save-buffer))' %
            (scene.heading(), scene.heading("By emacs")))
    p = run(["emacs", "--batch", "--no-site-file", scene.path, "--eval", lisp],
            env=env)
    assert "locked=t" in p.stdout and "autosaved=t" in p.stdout, p.stdout
    scene.check("By emacs", extra_files=["frontend.md~"])
    assert scene.heading() in read(os.path.join(scene.dir, "frontend.md~"))


def test_sed_inplace(scene):
    run(["sed", "-i", "s/^%s$/%s/" % (scene.heading(),
                                       scene.heading("By sed")), scene.path])
    scene.check("By sed")


def test_sed_ticks_checkbox(scene):
    line = scene.line_of(scene.heading()) + 2
    assert read(scene.path).split("\n")[line - 1].startswith("- [ ] **Status")
    run(["sed", "-i", "%ds/- \\[ \\]/- [x]/" % line, scene.path])
    scene.settle(lambda: scene.ctl.task(scene.task["id"])["status"] ==
                 "completed")
    got = scene.ctl.task(scene.task["id"])
    assert got["status"] == "completed" and got["progress"] == 100
    assert scene.state() == scene.before
    # Its task file moved to tasks/completed/.
    tid = scene.task["id"]
    wait_until(lambda: os.path.exists(
        scene.c.path("tasks", "completed", tid + ".md")), what="the move")
    assert not os.path.exists(scene.c.path("tasks", "active", tid + ".md"))


def test_perl_inplace(scene):
    run(["perl", "-pi", "-e", "s/^\\Q%s\\E$/%s/" % (
        scene.heading(), scene.heading("By perl")), scene.path])
    scene.check("By perl")


def test_rsync(scene, workdir):
    local = os.path.join(workdir, "frontend.md")
    write(local, scene.edited_text("By rsync"))
    run(["rsync", "-I", local, scene.path])
    scene.check("By rsync")


def test_cp_over(scene, workdir):
    local = os.path.join(workdir, "frontend.md")
    write(local, scene.edited_text("By cp"))
    run(["cp", local, scene.path])
    scene.check("By cp")


def test_shell_redirect(scene, workdir):
    local = os.path.join(workdir, "frontend.md")
    write(local, scene.edited_text("By shell"))
    run(["bash", "-c", 'cat "$1" > "$2"', "-", local, scene.path])
    scene.check("By shell")


def test_shell_redirect_of_a_builtin(scene, workdir):
    """bash opens the file for a builtin, hands the descriptor on and
    closes its own: the first close sees the file truncated, empty."""
    text = scene.edited_text("By printf")
    run(["bash", "-c", 'printf "%s" "$1" > "$2"', "-", text, scene.path])
    scene.check("By printf")


def test_truncated_then_written_later(scene):
    """A file emptied and written again a moment later is one save (the
    watcher waits for an empty file as the mount waits for its last
    descriptor)."""
    text = scene.edited_text("Written later")
    with open(scene.path, "w"):
        pass
    time.sleep(0.3)
    write(scene.path, text)
    scene.check("Written later")


def test_shell_append(scene):
    notes = scene.c.path("notes", "decisions.md")
    before = read(notes)
    rev0 = re.search(r"(?m)^revision: (\d+)$", before).group(1)
    run(["bash", "-c", 'echo "- Appended by the shell" >> "$1"', "-", notes])
    scene.settle(lambda: "Appended by the shell" in
                 scene.ctl.run("export").stdout, notes, rev0)
    after = read(notes)
    assert after.endswith(before.split("---\n", 2)[2] +
                          "- Appended by the shell\n")
    assert scene.state() == scene.before
    saves = [l for l in scene.output.splitlines() if l.startswith("saved ")]
    assert len(saves) == 1, scene.output


def test_python_os_replace(scene):
    text = scene.edited_text("By python")
    fd, tmp = tempfile.mkstemp(suffix=".md", dir=scene.dir)
    os.write(fd, text.encode())
    os.fsync(fd)
    os.close(fd)
    os.replace(tmp, scene.path)
    scene.check("By python")


def test_node_write_file_atomic(scene):
    if not os.path.isdir(os.path.join(NODE_MODULES, "write-file-atomic")):
        pytest.fail("write-file-atomic is not installed: run "
                    "'npm install' in tests/integration/node")
    text = scene.edited_text("By node")
    env = dict(os.environ, NODE_PATH=NODE_MODULES)
    run(["node", "-e",
         "require('write-file-atomic').sync(process.argv[1], "
         "process.argv[2])", scene.path, text], env=env)
    scene.check("By node")


def test_install_unlink_and_create_excl(scene, workdir):
    local = os.path.join(workdir, "frontend.md")
    write(local, scene.edited_text("By install"))
    run(["install", "-m", "644", local, scene.path])
    scene.check("By install")


def test_git_checkout_pattern(scene):
    """unlink, then create with O_EXCL: a save, not a deletion and a
    creation."""
    text = scene.edited_text("By checkout")
    os.unlink(scene.path)
    fd = os.open(scene.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    os.write(fd, text.encode())
    os.close(fd)
    scene.check("By checkout")


def test_git_checkout_of_a_file(scene, workdir):
    """git itself: the folder is a work tree, and an edit committed
    without touching the file is checked out over it."""
    env = dict(os.environ, HOME=workdir, GIT_CONFIG_NOSYSTEM="1")
    g = ["git"] + GIT_OPTIONS
    tree = scene.c.tree
    run(g + ["init", "-q"], cwd=tree, env=env)
    run(g + ["add", "-A"], cwd=tree, env=env)
    run(g + ["commit", "-q", "-m", "tree"], cwd=tree, env=env)
    blob = run(g + ["hash-object", "-w", "--stdin"], cwd=tree, env=env,
               input=scene.edited_text("By git")).stdout.strip()
    run(g + ["update-index", "--cacheinfo", "100644,%s,%s" % (
        blob, os.path.relpath(scene.path, tree))], cwd=tree, env=env)
    run(g + ["commit", "-q", "-m", "edit"], cwd=tree, env=env)
    run(g + ["checkout", "--", scene.path], cwd=tree, env=env)
    scene.check("By git")


def test_write_in_place_and_truncate(scene):
    text = scene.edited_text("In place")
    with open(scene.path, "r+") as f:
        f.seek(0)
        f.write(text)
        f.truncate()
    scene.check("In place")


def test_saved_twice_without_reload(scene):
    """A buffer saved twice with the old revision still in it: no
    duplicate task and no conflict with its own first save."""
    text = read(scene.path)
    marker = "## 📋 Planned\n"
    first = text.replace(marker, marker + "\n### Brand new task\n\n"
                         "- **Priority**: low\n", 1)
    write(scene.path, first)

    def new_tasks():
        tasks = scene.ctl.json("task", "list", "--group", scene.group["id"])
        return [t for t in tasks if t["title"] == "Brand new task"]
    scene.settle(lambda: len(new_tasks()) == 1)
    second = first.replace(scene.heading(), scene.heading("Second save"), 1)
    write(scene.path, second)
    if scene.mode == "once":
        scene.c.sync()
    wait_until(lambda: scene.ctl.task(scene.task["id"])["title"] ==
               "Second save", what="the second save")
    assert len(new_tasks()) == 1
    wait_until(lambda: "`%s`" % new_tasks()[0]["id"] in read(scene.path),
               what="the new task's id in the file")
    assert not os.path.exists(os.path.join(scene.dir, "frontend.conflict.md"))


# ---- offline edits while the database changed ----

def group_file(c):
    return c.path("task_groups", "frontend.md")


def active_task(c):
    ctl = c.ctl
    g = [g for g in ctl.groups(c.session) if g["name"] == "frontend"][0]
    return [t for t in ctl.json("task", "list", "--group", g["id"])
            if t["status"] == "active"][0]


def test_clean_merge_of_offline_edits(checkout):
    c = checkout
    t = active_task(c)
    path = group_file(c)
    text = read(path).replace("### %s `%s`" % (t["title"], t["id"]),
                              "### Offline title `%s`" % t["id"], 1)
    c.ctl.run("task", "set", t["id"], "--priority", "critical",
              "--progress", "77")
    write(path, text)
    c.sync()
    got = c.ctl.task(t["id"])
    assert got["title"] == "Offline title"
    assert got["priority"] == "critical" and got["progress"] == 77
    after = read(path)
    assert "### Offline title `%s`" % t["id"] in after
    assert "- **Progress**: 77%" in after
    assert not os.path.exists(c.path("task_groups", "frontend.conflict.md"))


def test_auto_merge_of_status_later_wins(checkout):
    c = checkout
    t = active_task(c)
    path = c.path("tasks", "active", t["id"] + ".md")
    c.ctl.run("task", "set", t["id"], "--status", "blocked")
    write(path, read(path).replace("**Status**: active", "**Status**: planned"))
    c.sync()
    assert c.ctl.task(t["id"])["status"] == "planned"
    assert os.path.exists(c.path("tasks", "planned", t["id"] + ".md"))
    assert not os.path.exists(path)
    assert not os.path.exists(c.path("tasks", "blocked", t["id"] + ".md"))
    backups = c.ctl.json("backups")
    assert any(b.get("field") == "status" for b in backups), backups


def test_conflict_file_then_ticked(checkout):
    c = checkout
    t = active_task(c)
    path = group_file(c)
    text = read(path).replace("### %s `%s`" % (t["title"], t["id"]),
                              "### File title `%s`" % t["id"], 1)
    c.ctl.run("task", "set", t["id"], "--title", "Database title")
    write(path, text)
    p = c.sync(want=EXIT_CONFLICTS)
    conflict = c.path("task_groups", "frontend.conflict.md")
    assert os.path.exists(conflict)
    assert "conflict open: %s/task_groups/frontend.conflict.md" % c.session \
        in p.stdout
    assert c.ctl.task(t["id"])["title"] == "Database title"
    # Tick "keep the file version" in the conflict file.
    ctext = read(conflict)
    assert "- [ ] Keep the file version" in ctext
    write(conflict, ctext.replace("- [ ] Keep the file version",
                                  "- [x] Keep the file version", 1))
    c.sync()
    assert c.ctl.task(t["id"])["title"] == "File title"
    assert not os.path.exists(conflict)
    assert "### File title `%s`" % t["id"] in read(path)


def test_conflict_file_removed_keeps_database(checkout):
    c = checkout
    t = active_task(c)
    path = group_file(c)
    text = read(path).replace("### %s `%s`" % (t["title"], t["id"]),
                              "### File title `%s`" % t["id"], 1)
    c.ctl.run("task", "set", t["id"], "--title", "Database title")
    write(path, text)
    c.sync(want=EXIT_CONFLICTS)
    os.unlink(c.path("task_groups", "frontend.conflict.md"))
    c.sync()
    assert c.ctl.task(t["id"])["title"] == "Database title"
    assert not os.path.exists(c.path("task_groups", "frontend.conflict.md"))
    assert c.ctl.json("conflicts") == []


def test_database_changes_written_to_untouched_files(checkout):
    c = checkout
    t = active_task(c)
    c.ctl.run("task", "set", t["id"], "--title", "Changed by the system")
    p = c.sync()
    assert "saved" not in p.stdout
    assert "### Changed by the system `%s`" % t["id"] in read(group_file(c))
    assert "# Changed by the system `%s`" % t["id"] in read(
        c.path("tasks", "active", t["id"] + ".md"))
    # A new task appears, a deleted one goes.
    c.ctl.run("task", "add", "--session", c.session, "--group", "frontend",
              "--title", "Made by taskctl", "--id", "made_by_taskctl")
    c.ctl.run("task", "rm", t["id"])
    c.sync()
    assert os.path.exists(c.path("tasks", "planned", "made_by_taskctl.md"))
    assert not os.path.exists(c.path("tasks", "active", t["id"] + ".md"))


def test_watch_writes_database_changes(checkout):
    c = checkout
    t = active_task(c)
    c.watch()
    c.ctl.run("task", "set", t["id"], "--title", "Seen by the watcher")
    wait_until(lambda: "### Seen by the watcher `%s`" % t["id"] in
               read(group_file(c)), timeout=5, what="the rewrite")
    c.ctl.run("group", "create", "--session", c.session, "--name", "later",
              "--title", "Made later")
    wait_until(lambda: os.path.exists(c.path("task_groups", "later.md")),
               timeout=5, what="the new group's file")


# ---- git ----

def git(cwd, *args, env=None):
    return run(["git"] + GIT_OPTIONS + list(args), cwd=cwd, env=env)


def test_git_pull_of_edits_from_another_clone(demo, workdir):
    """The tree is committed in a project's repository: two clones of a
    bare repository, the tree checked out in a folder of the first. The
    second clone (no database there) edits a task and pushes; meanwhile
    the database changed another field of that task. A pull and a sync
    apply the edit with the three-way merge: both changes are kept."""
    ctl, session = demo
    env = dict(os.environ, HOME=workdir, GIT_CONFIG_NOSYSTEM="1")
    bare = os.path.join(workdir, "bare.git")
    git(workdir, "init", "-q", "--bare", bare, env=env)
    project = os.path.join(workdir, "project")
    git(workdir, "clone", "-q", bare, project, env=env)
    c = Checkout(ctl, session, project, name="tasks")
    tree = project
    write(os.path.join(project, ".gitignore"), "meta/\n")
    git(tree, "add", "-A", env=env)
    git(tree, "commit", "-q", "-m", "tasks", env=env)
    git(tree, "push", "-q", "origin", "main", env=env)
    status = git(tree, "status", "--porcelain", env=env).stdout
    assert status == "", status

    other = os.path.join(workdir, "other")
    git(workdir, "clone", "-q", bare, other, env=env)
    assert not os.path.exists(os.path.join(other, ".taskfs"))
    t = active_task(c)
    opath = os.path.join(other, "tasks", c.session, "task_groups",
                         "frontend.md")
    write(opath, read(opath).replace(
        "### %s `%s`" % (t["title"], t["id"]),
        "### Edited in the other clone `%s`" % t["id"], 1))
    git(other, "commit", "-q", "-am", "retitle", env=env)
    git(other, "push", "-q", "origin", "main", env=env)

    # Here, meanwhile: the database changes the same task's priority.
    c.ctl.run("task", "set", t["id"], "--priority", "critical")
    git(tree, "pull", "-q", "origin", "main", env=env)
    p = c.sync()
    assert "saved %s/task_groups/frontend.md" % c.session in p.stdout
    got = c.ctl.task(t["id"])
    assert got["title"] == "Edited in the other clone"
    assert got["priority"] == "critical"
    text = read(group_file(c))
    assert "### Edited in the other clone `%s`" % t["id"] in text

    # Both sides change the tree: the synced files are committed and
    # pushed here, the other clone pulls them and edits again, while the
    # database changes here; git merges, sync applies.
    git(tree, "commit", "-q", "-am", "sync", env=env)
    git(tree, "push", "-q", "origin", "main", env=env)
    git(other, "pull", "-q", "origin", "main", env=env)
    task_path = os.path.join(other, "tasks", c.session, "tasks", "active",
                             t["id"] + ".md")
    write(task_path, read(task_path).replace(
        "- **Progress**: %d%%" % t["progress"], "- **Progress**: 90%"))
    git(other, "commit", "-q", "-am", "progress", env=env)
    git(other, "push", "-q", "origin", "main", env=env)
    c.ctl.run("task", "set", t["id"], "--title", "Renamed here")
    c.sync()
    git(tree, "commit", "-q", "-am", "sync again", env=env)
    git(tree, "pull", "-q", "--no-edit", "origin", "main", env=env)
    c.sync()
    got = c.ctl.task(t["id"])
    assert got["progress"] == 90 and got["title"] == "Renamed here"


# ---- renames, removals, new files ----

def test_task_moved_between_status_folders(checkout, mode):
    c = checkout
    t = active_task(c)
    src = c.path("tasks", "active", t["id"] + ".md")
    dst = c.path("tasks", "completed", t["id"] + ".md")
    if mode == "watch":
        c.watch()
    os.rename(src, dst)
    if mode == "once":
        p = c.sync()
        assert "task %s is completed" % t["id"] in p.stdout
    wait_until(lambda: c.ctl.task(t["id"])["status"] == "completed",
               what="the status")
    wait_until(lambda: "**Status**: completed" in read(dst),
               what="the file written back")
    assert not os.path.exists(src)
    assert c.ctl.task(t["id"])["deleted"] is False
    assert "`%s`" % t["id"] in read(group_file(c))
    # After the grace time it is still there: a move, not a removal.
    time.sleep(0.5 if mode == "once" else 2.5)
    assert c.ctl.task(t["id"])["deleted"] is False


def test_group_file_renamed(checkout, mode):
    c = checkout
    if mode == "watch":
        c.watch()
    os.rename(c.path("task_groups", "testing.md"),
              c.path("task_groups", "qa.md"))
    if mode == "once":
        c.sync()
    wait_until(lambda: any(g["name"] == "qa" for g in c.ctl.groups(c.session)),
               what="the rename")
    assert not any(g["name"] == "testing" for g in c.ctl.groups(c.session))


def test_group_file_removed_is_deleted_softly(checkout, mode):
    c = checkout
    g = [g for g in c.ctl.groups(c.session) if g["name"] == "documentation"][0]
    tasks = c.ctl.json("task", "list", "--group", g["id"])
    if mode == "watch":
        c.watch(grace=0.5)
    os.unlink(c.path("task_groups", "documentation.md"))
    if mode == "once":
        p = c.sync()
        assert "deleted group %s" % g["id"] in p.stdout
    wait_until(lambda: not any(x["id"] == g["id"]
                               for x in c.ctl.groups(c.session)),
               what="the deletion")
    deleted = c.ctl.json("group", "list", "--session", c.session, "--deleted")
    assert [x for x in deleted if x["id"] == g["id"]][0]["deleted"] is True
    wait_until(lambda: not os.path.exists(
        c.path("tasks", tasks[0]["status"], tasks[0]["id"] + ".md")),
        what="its task files to go")
    # Restorable: the file comes back.
    c.ctl.run("group", "restore", g["id"])
    if mode == "once":
        c.sync()
    wait_until(lambda: os.path.exists(c.path("task_groups",
                                             "documentation.md")),
               what="the restored group's file")


def test_removed_then_made_again_within_grace(checkout):
    """vim and emacs rename the file away and write a new one: within the
    grace time that is a save, not a removal."""
    c = checkout
    c.watch(grace=1.0)
    path = c.path("task_groups", "documentation.md")
    text = read(path)
    os.rename(path, path + "~")
    time.sleep(0.4)
    write(path, text.replace("# Documentation", "# Documentation, again", 1))
    wait_until(lambda: c.ctl.json("group", "show", "documentation",
                                  "--session", c.session)["title"] ==
               "Documentation, again", what="the save")
    time.sleep(1.5)
    assert any(g["name"] == "documentation" for g in c.ctl.groups(c.session))


def test_session_file_unlinked_and_made_with_o_excl(checkout):
    """git checkout and install(1) unlink a file and create it with
    O_EXCL: the watcher must not have written it back in between."""
    c = checkout
    c.watch(grace=1.0)
    path = c.path("session.md")
    text = read(path)
    os.unlink(path)
    time.sleep(0.3)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    os.write(fd, text.replace("\n# ", "\n# Renamed: ", 1).encode())
    os.close(fd)
    wait_until(lambda: c.ctl.json("session", "show", c.session)["title"]
               .startswith("Renamed: "), what="the save")
    # Removed and not made again: it comes back after the grace time.
    os.unlink(path)
    wait_until(lambda: os.path.exists(path), timeout=5, what="session.md")
    assert c.ctl.json("session", "show", c.session)["title"].startswith(
        "Renamed: ")


def test_session_folder_removed_is_written_again(checkout):
    """The tree's folders cannot be removed (on the mount rmdir fails):
    removing one whole deletes nothing, it comes back."""
    c = checkout
    before = files_under(c.tree)
    n = len(c.ctl.tasks(c.session))
    shutil.rmtree(c.path("tasks"))
    c.sync()
    assert len(c.ctl.tasks(c.session)) == n
    assert files_under(c.tree) == before


def test_new_group_and_new_task_files(checkout, mode):
    c = checkout
    if mode == "watch":
        c.watch()
    write(c.path("task_groups", "research.md"),
          "# Research\n\n- **Priority**: high\n\nReading papers.\n\n"
          "## 📋 Planned\n\n### Survey the literature\n\n"
          "- **Priority**: medium\n")
    write(c.path("tasks", "planned", "write_docs.md"),
          "# Write the docs\n\n- **Group**: frontend\n- **Priority**: low\n")
    if mode == "once":
        c.sync()
    wait_until(lambda: any(g["name"] == "research"
                           for g in c.ctl.groups(c.session)),
               what="the new group")
    wait_until(lambda: any(t["id"] == "write_docs"
                           for t in c.ctl.tasks(c.session)),
               what="the new task")
    wait_until(lambda: "revision:" in read(c.path("task_groups",
                                                  "research.md")),
               what="the group file written back")
    text = read(c.path("task_groups", "research.md"))
    survey = [t for t in c.ctl.tasks(c.session)
              if t["title"] == "Survey the literature"]
    assert len(survey) == 1 and "`%s`" % survey[0]["id"] in text
    wait_until(lambda: "`write_docs`" in read(
        c.path("tasks", "planned", "write_docs.md")), what="the task file")


def test_users_own_files_are_left_alone(checkout, mode):
    c = checkout
    mine = {
        "notes/mine.txt": "my notes\n",
        "task_groups/frontend copy.md": read(group_file(c)),
        "task_groups/frontend.md.bak": read(group_file(c)),
        "tasks/active/.hidden.md": "# Hidden\n\n- **Group**: frontend\n",
        "scratch.md": "# Scratch\n",
    }
    before = c.ctl.run("export").stdout
    if mode == "watch":
        c.watch()
    for rel, text in mine.items():
        write(c.path(rel), text)
    if mode == "once":
        c.sync()
    else:
        time.sleep(1.0)
    for rel, text in mine.items():
        assert read(c.path(rel)) == text, rel
    assert before == c.ctl.run("export").stdout
    c.stop()
    p = c.sync()
    assert "saved" not in p.stdout and "new" not in p.stdout


# ---- bad input, mass deletion ----

def test_bad_input_is_held_with_its_diagnostic(checkout, mode):
    c = checkout
    path = group_file(c)
    t = active_task(c)
    if mode == "watch":
        c.watch()
    bad = read(path).replace("- **Progress**: %d%%" % t["progress"],
                             "- **Progress**: 140%", 1)
    write(path, bad)
    error = c.path("task_groups", "frontend.error.md")
    if mode == "once":
        p = c.sync(want=EXIT_HELD)
        assert "held %s/task_groups/frontend.md" % c.session in p.stdout
        assert "140" in p.stdout
    wait_until(lambda: os.path.exists(error), what="the error file")
    assert read(path) == bad, "the held text stays in the file"
    assert "140" in read(error) and "line " in read(error)
    assert c.ctl.task(t["id"])["progress"] == t["progress"]
    # Fixed: applied, the error file goes.
    write(path, bad.replace("140%", "65%"))
    if mode == "once":
        c.sync()
    wait_until(lambda: c.ctl.task(t["id"])["progress"] == 65,
               what="the fixed save")
    wait_until(lambda: not os.path.exists(error), what="the error file to go")


def test_removing_the_error_file_discards(checkout):
    c = checkout
    path = group_file(c)
    good = read(path)
    write(path, good.replace("---\ntaskfs: 1", "---\ntaskfs: [1", 1))
    c.sync(want=EXIT_HELD)
    os.unlink(c.path("task_groups", "frontend.error.md"))
    p = c.sync()
    assert "discarded" in p.stdout
    assert read(path).split("revision:")[0] == good.split("revision:")[0]


def test_mass_deletion_waits_for_confirmation(checkout):
    c = checkout
    path = group_file(c)
    text = read(path)
    n = len(c.ctl.tasks(c.session))
    head = text.split("## 🔄 Active")[0]
    write(path, head)
    c.sync(want=EXIT_CONFLICTS)
    assert len(c.ctl.tasks(c.session)) == n
    assert os.path.exists(c.path("task_groups", "frontend.conflict.md"))


# ---- the watcher ----

def test_watcher_stops_cleanly(checkout):
    c = checkout
    w = c.watch()
    w.proc.send_signal(signal.SIGINT)
    assert w.proc.wait(timeout=10) == 0
    c.watcher = None
    p = c.sync()
    assert "saved" not in p.stdout


def test_one_sync_at_a_time(checkout):
    c = checkout
    c.watch()
    p = c.ctl.run("sync", c.tree, check=False)
    assert p.returncode == 5, p.stdout + p.stderr
    assert "being synced by another taskctl" in p.stderr


def test_watcher_killed_mid_save(checkout):
    """SIGKILL at random moments while saves are applied: after a restart
    nothing is lost and nothing applied twice (new tasks are not made
    twice, the state folder is always readable)."""
    c = checkout
    path = group_file(c)
    rnd = random.Random(7)
    marker = "## 📋 Planned\n"
    for i in range(12):
        c.watch()
        text = read(path)
        title = "Survivor %d" % i
        write(path, text.replace(marker, marker + "\n### %s\n\n"
                                 "- **Priority**: low\n" % title, 1))
        time.sleep(rnd.uniform(0, 0.03))
        c.watcher.proc.kill()
        c.watcher.proc.wait()
        c.watcher = None
        c.watch()
        wait_until(lambda: any(t["title"] == title
                               for t in c.ctl.tasks(c.session)),
                   what="task %r" % title)
        time.sleep(0.2)
        c.stop()
        for k in range(i + 1):
            made = [t for t in c.ctl.tasks(c.session)
                    if t["title"] == "Survivor %d" % k]
            assert len(made) == 1, (k, made)
    p = c.sync()
    assert "saved" not in p.stdout, p.stdout


# ---- the commands ----

def test_checkout_of_one_session(demo, workdir):
    ctl, session = demo
    tree = os.path.join(workdir, "one")
    ctl.run("checkout", "--session", session, tree)
    assert os.path.exists(os.path.join(tree, "session.md"))
    assert os.path.exists(os.path.join(tree, "task_groups", "frontend.md"))
    write(os.path.join(tree, "notes", "decisions.md"),
          read(os.path.join(tree, "notes", "decisions.md")) + "\nMore.\n")
    ctl.run("sync", tree)
    assert "More." in ctl.run("export").stdout


def test_checkout_is_byte_for_byte_the_mount(demo, mount_factory, workdir):
    ctl, session = demo
    m = mount_factory(ctl.db)
    tree = os.path.join(workdir, "tree")
    ctl.run("checkout", tree)
    got = files_under(tree)
    want = files_under(m.mnt)
    assert got == want
    for rel in sorted(got):
        if rel.endswith("sync_status.md"):
            continue  # the mount's own renders are in the sync log
        with open(os.path.join(tree, rel), "rb") as a, \
                open(os.path.join(m.mnt, rel), "rb") as b:
            assert a.read() == b.read(), rel


def test_command_errors(demo, workdir):
    ctl, session = demo
    tree = os.path.join(workdir, "tree")
    assert ctl.run("sync", tree, check=False).returncode == 3
    ctl.run("checkout", tree)
    p = ctl.run("checkout", tree, check=False)
    assert p.returncode == 4 and "already a checkout" in p.stderr
    other = os.path.join(workdir, "other.db")
    ctl2 = type(ctl)(other)
    ctl2.run("init")
    p = ctl2.run("sync", tree, check=False)
    assert p.returncode == 4 and "not of" in p.stderr, p.stderr
    p = ctl.run("sync", "--grace", "1", tree, check=False)
    assert p.returncode == 2
    for cmd in ("sync", "checkout"):
        p = ctl.run(cmd, "--json", tree, check=False)
        assert p.returncode == 2 and "no --json" in p.stderr, p.stderr
    p = ctl.run("sync", check=False)
    assert p.returncode == 2 and "needs a folder" in p.stderr, p.stderr
    p = ctl.run("checkout", "--session", "nope", os.path.join(workdir, "x"),
                check=False)
    assert p.returncode == 3


def test_checkout_over_a_cloned_tree_keeps_its_edits(demo, workdir):
    """A tree cloned with git (no state folder) with an edit in it: the
    checkout keeps the edited file, the next sync saves it."""
    ctl, session = demo
    first = os.path.join(workdir, "first")
    ctl.run("checkout", first)
    clone = os.path.join(workdir, "clone")
    shutil.copytree(first, clone, ignore=shutil.ignore_patterns(".taskfs"))
    path = os.path.join(clone, session, "task_groups", "frontend.md")
    g = [g for g in ctl.groups(session) if g["name"] == "frontend"][0]
    t = [t for t in ctl.json("task", "list", "--group", g["id"])
         if t["status"] == "active"][0]
    write(path, read(path).replace("### %s `%s`" % (t["title"], t["id"]),
                                   "### From the clone `%s`" % t["id"], 1))
    p = ctl.run("checkout", clone)
    assert "1 file already there with other text is kept" in p.stdout
    ctl.run("sync", clone)
    assert ctl.task(t["id"])["title"] == "From the clone"


def test_completion(demo, workdir):
    from test_ecosystem import complete
    ctl, session = demo
    os.mkdir(os.path.join(workdir, "tree"))
    assert {"checkout", "sync"} <= set(complete("taskctl", "taskctl "))
    assert complete("taskctl", "taskctl sync --w") == ["--watch"]
    assert "--grace" in complete("taskctl", "taskctl sync --watch --")
    assert complete("taskctl", "taskctl -d %s checkout --session " %
                    ctl.db) == [session]
    assert complete("taskctl", "taskctl sync tr", cwd=workdir) == ["tree/"]
    assert complete("taskctl", "taskctl checkout tr", cwd=workdir) == \
        ["tree/"]


def test_a_name_taken_by_a_record_keeps_the_users_file(checkout):
    """A file of the user's whose name a record takes later is kept aside,
    never written over (on the mount the record's file hides it)."""
    c = checkout
    copy = c.path("task_groups", "qa.md")
    text = read(group_file(c))
    write(copy, text)
    c.sync()
    assert read(copy) == text
    c.ctl.run("group", "set", "testing", "--session", c.session,
              "--name", "qa")
    p = c.sync()
    assert "kept as" in p.stderr, p.stderr
    kept = [n for n in os.listdir(c.path("task_groups"))
            if n.startswith("qa.md.unsaved-")]
    assert len(kept) == 1 and read(c.path("task_groups", kept[0])) == text
    assert "# Testing" in read(copy)
    assert c.ctl.task(active_task(c)["id"])  # frontend untouched
    assert c.sync().stdout.startswith("revision ")


def test_read_only_files_are_written_again(checkout):
    c = checkout
    status = c.path("meta", "sync_status.md")
    good = read(status)
    os.chmod(status, 0o644)
    write(status, good + "\nmine\n")
    p = c.sync()
    assert "read-only" in p.stderr, p.stderr
    assert read(status) == good


def state_revision(c):
    with open(os.path.join(c.tree, ".taskfs", "state")) as f:
        return int(re.search(r"(?m)^revision (\d+)$", f.read()).group(1))


def sha256(text):
    import hashlib
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.mark.parametrize("name", ["fresh_task", "dashboard_layout_001"])
def test_new_file_made_by_a_killed_pass_is_not_made_again(checkout, name):
    """A pass killed after the database took a new file's record and
    before the file was replaced, as the intent it left says: the next
    pass does not make the record again. (The kill is played here: the
    record made with taskctl, the intent written as the pass writes it.)
    With a name that is taken, the record got another id and the file
    goes."""
    c = checkout
    rel = os.path.join(c.session, "tasks", "planned", name + ".md")
    path = os.path.join(c.tree, rel)
    text = "# Made once\n\n- **Group**: frontend\n- **Priority**: low\n"
    write(path, text)
    rev = state_revision(c)
    args = ["--id", name] if name == "fresh_task" else []
    made = c.ctl.run("task", "add", "--session", c.session, "--group",
                     "frontend", "--title", "Made once", "--priority", "low",
                     *args).stdout.strip()
    with open(os.path.join(c.tree, ".taskfs", "intent"), "w") as f:
        f.write("revision %d\n%s %s\n" % (rev, rel, sha256(text)))
    p = c.sync()
    assert "made before the last run was stopped" in p.stdout, p.stdout
    same = [t for t in c.ctl.tasks(c.session) if t["title"] == "Made once"]
    assert [t["id"] for t in same] == [made]
    if name == "fresh_task":
        assert "`fresh_task`" in read(path)
    else:
        assert not os.path.exists(path)
        assert os.path.exists(c.path("tasks", "planned", made + ".md"))
    assert not os.path.exists(os.path.join(c.tree, ".taskfs", "intent"))
    assert "saved" not in c.sync().stdout


def test_new_file_without_intent_is_a_new_record(checkout):
    """The same text and the same record, but no killed pass: a second
    task with that title is what the file asks for."""
    c = checkout
    path = c.path("tasks", "planned", "another.md")
    c.ctl.run("task", "add", "--session", c.session, "--group", "frontend",
              "--title", "Twice", "--priority", "low")
    write(path, "# Twice\n\n- **Group**: frontend\n")
    c.sync()
    assert len([t for t in c.ctl.tasks(c.session)
                if t["title"] == "Twice"]) == 2


def test_watcher_killed_while_new_files_become_records(checkout):
    """SIGKILL at random moments after new group and task files are
    written: after a restart each is one record."""
    c = checkout
    rnd = random.Random(11)
    for i in range(8):
        c.watch()
        write(c.path("tasks", "planned", "killed_%d.md" % i),
              "# Killed task %d\n\n- **Group**: frontend\n" % i)
        write(c.path("tasks", "planned", "auth_api_001.md"),
              "# Taken name %d\n\n- **Group**: backend\n" % i)
        write(c.path("task_groups", "killed_%d.md" % i),
              "# Killed group %d\n\n## 📋 Planned\n\n### First %d\n\n"
              "### Second %d\n" % (i, i, i))
        time.sleep(rnd.uniform(0, 0.04))
        c.watcher.proc.kill()
        c.watcher.proc.wait()
        c.watcher = None
        c.watch()
        titles = ["Killed task %d" % i, "Taken name %d" % i, "First %d" % i,
                  "Second %d" % i]
        wait_until(lambda: all(any(t["title"] == x
                                   for t in c.ctl.tasks(c.session))
                               for x in titles), what="the records")
        time.sleep(0.3)
        c.stop()
        tasks = c.ctl.tasks(c.session)
        for x in titles:
            assert len([t for t in tasks if t["title"] == x]) == 1, x
        groups = [g for g in c.ctl.groups(c.session)
                  if g["title"] == "Killed group %d" % i]
        assert len(groups) == 1
    assert "saved" not in c.sync().stdout
