# SPDX-License-Identifier: MIT
"""Real programs save a group file through the mount; each save must end
in exactly the intended change of the database, with no group or task
appearing or vanishing and no stray file left behind."""
import os
import shutil
import subprocess
import tempfile
import time

import pytest

from conftest import REPO, read, write

NODE_MODULES = os.path.join(REPO, "tests", "integration", "node",
                            "node_modules")


class Scene:
    """The demo mounted, one group file, and one task in it to edit."""

    def __init__(self, mounted):
        self.m, self.ctl, self.session = mounted
        groups = self.ctl.groups(self.session)
        self.group = [g for g in groups if g["name"] == "frontend"][0]
        self.dir = self.m.path(self.session, "task_groups")
        self.path = os.path.join(self.dir, "frontend.md")
        tasks = self.ctl.json("task", "list", "--group", self.group["id"])
        self.task = [t for t in tasks if t["status"] == "active"][0]
        self.before = self.state()
        self.listing = sorted(os.listdir(self.dir))

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

    def check(self, new_title, extra_files=()):
        got = self.ctl.task(self.task["id"])
        assert got["title"] == new_title
        assert got["status"] == self.task["status"]
        assert got["progress"] == self.task["progress"]
        assert self.state() == self.before, "no group or task came or went"
        assert sorted(os.listdir(self.dir)) == sorted(
            self.listing + list(extra_files)), "no stray files"
        text = read(self.path)
        assert self.heading(new_title) in text
        assert text.startswith("---\ntaskfs: 1\n")
        # The file holds the database's truth again, and saving it back
        # changes nothing.
        assert "could not be applied" not in text
        assert not os.path.exists(os.path.join(self.dir, "frontend.error.md"))
        # Saved exactly once, never held on the way (a shell's "> file"
        # closes a descriptor of the empty file before writing).
        log = self.m.stderr()
        assert "could not be applied" not in log, log
        saves = [line for line in log.splitlines()
                 if line.startswith("taskfs: saved %s/task_groups/frontend.md"
                                    % self.session)]
        assert len(saves) == 1, log


@pytest.fixture
def scene(mounted):
    return Scene(mounted)


def run(cmd, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60, **kw)
    assert p.returncode == 0, f"{cmd}: {p.returncode}\n{p.stdout}{p.stderr}"
    return p


def vim_cmd(scene, new_title, settings):
    old = scene.heading().replace("`", "\\`")
    return ["vim", "-u", "DEFAULTS", "-N", "-i", "NONE", "-es",
            "-c", settings,
            "-c", "%%s/^%s$/%s/" % (old.replace("/", "\\/"),
                                     scene.heading(new_title).replace("`", "\\`")),
            "-c", "wq", scene.path]


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
    session = "taskfs-nano-%d" % os.getpid()
    run(["tmux", "new-session", "-d", "-s", session, "-x", "200", "-y", "50",
         "nano", "+%d,5" % line, scene.path])
    try:
        deadline = time.time() + 10
        while "GNU nano" not in run(["tmux", "capture-pane", "-p", "-t",
                                     session]).stdout:
            assert time.time() < deadline, "nano did not start"
            time.sleep(0.1)
        run(["tmux", "send-keys", "-t", session, "Nano "])
        run(["tmux", "send-keys", "-t", session, "C-o"])
        time.sleep(0.3)
        run(["tmux", "send-keys", "-t", session, "Enter"])
        deadline = time.time() + 10
        while "Wrote" not in run(["tmux", "capture-pane", "-p", "-t",
                                  session]).stdout:
            assert time.time() < deadline, "nano did not save"
            time.sleep(0.1)
        run(["tmux", "send-keys", "-t", session, "C-x"])
        deadline = time.time() + 10
        while subprocess.run(["tmux", "has-session", "-t", session],
                             capture_output=True).returncode == 0:
            assert time.time() < deadline, "nano did not exit"
            time.sleep(0.1)
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
    # emacs keeps its backup of the previous text, as it does anywhere; the
    # lock and the auto-save file are gone.
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
    got = scene.ctl.task(scene.task["id"])
    assert got["status"] == "completed" and got["progress"] == 100
    assert scene.state() == scene.before


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


def test_shell_append(scene):
    notes = scene.m.path(scene.session, "notes", "decisions.md")
    before = read(notes)
    run(["bash", "-c", 'echo "- Appended by the shell" >> "$1"', "-", notes])
    after = read(notes)
    assert after.endswith(before.split("---\n", 2)[2] +
                          "- Appended by the shell\n")
    body = scene.ctl.run("export").stdout
    assert "Appended by the shell" in body
    assert scene.state() == scene.before


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
    """unlink, then create with O_EXCL: the name must be gone in between
    and the new text is a save, not a deletion and a creation."""
    text = scene.edited_text("By checkout")
    os.unlink(scene.path)
    assert not os.path.exists(scene.path)
    assert "frontend.md" not in os.listdir(scene.dir)
    fd = os.open(scene.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    os.write(fd, text.encode())
    os.close(fd)
    scene.check("By checkout")


def test_write_in_place_and_truncate(scene):
    text = scene.edited_text("In place")
    with open(scene.path, "r+") as f:
        f.seek(0)
        f.write(text)
        f.truncate()
    scene.check("In place")


def test_vim_twice_without_reload(scene):
    """A buffer saved twice, with the old revision still in it: no
    duplicate task and no conflict with its own first save."""
    text = read(scene.path)
    marker = "## 📋 Planned\n"
    assert marker in text
    first = text.replace(marker, marker + "\n### Brand new task\n\n"
                         "- **Priority**: low\n", 1)
    write(scene.path, first)
    tasks = scene.ctl.json("task", "list", "--group", scene.group["id"])
    new = [t for t in tasks if t["title"] == "Brand new task"]
    assert len(new) == 1
    second = first.replace(scene.heading(), scene.heading("Second save"), 1)
    write(scene.path, second)
    tasks = scene.ctl.json("task", "list", "--group", scene.group["id"])
    assert len([t for t in tasks if t["title"] == "Brand new task"]) == 1
    assert scene.ctl.task(scene.task["id"])["title"] == "Second save"
    assert "`%s`" % new[0]["id"] in read(scene.path)
