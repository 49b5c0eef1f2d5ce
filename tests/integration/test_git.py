# SPDX-License-Identifier: MIT
"""git in a mounted session directory: a repository of the generated
files, its index kept in the ordinary .git directory; a commit leaves the
status clean and the stat data git caches stable; a change made with
taskctl shows as exactly that markdown diff; checkout and stash write
texts back through the usual save rules; and no git command leaves
anything behind in the mount or an error in the daemon's log.

meta/ is kept out of the repository: its files are read-only views of the
sync log (git could not write them back) and they change as the mount is
used."""
import os
import re
import subprocess

import pytest

from conftest import eventually, read

# Debian's git reads no system configuration; nothing of the machine's
# user configuration either.
GIT_OPTIONS = [
    "-c", "user.name=Taskfs Test", "-c", "user.email=test@taskfs.invalid",
    "-c", "init.defaultBranch=main", "-c", "core.fsync=all",
    "-c", "core.fsyncMethod=fsync", "-c", "advice.detachedHead=false",
]

GENERATED_NOTES = {"decisions.md", "learnings.md", "resources.md"}
STATUSES = ("active", "blocked", "completed", "planned")


class Repo:
    """git run in the session directory of a mount, with a check after
    every command that the mount holds nothing stray and the daemon logged
    nothing but saves."""

    def __init__(self, m, ctl, session, home):
        self.m, self.ctl, self.session = m, ctl, session
        self.dir = m.path(session)
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": home,
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_TERMINAL_PROMPT": "0",
            "LC_ALL": "C",
            "TZ": "UTC",
        }

    def run(self, *args, check=True):
        p = subprocess.run(["git"] + GIT_OPTIONS + list(args), cwd=self.dir,
                           env=self.env, capture_output=True, text=True,
                           timeout=120)
        if check and p.returncode != 0:
            raise AssertionError("git %s exited %d\n%s%s" % (
                " ".join(args), p.returncode, p.stdout, p.stderr))
        assert_tidy(self)
        assert_quiet_log(self.m)
        return p

    def status(self):
        """Paths git reports as changed, with their two status letters."""
        out = self.run("status", "--porcelain", "--untracked-files=all")
        return sorted(line for line in out.stdout.splitlines() if line)

    def path(self, *parts):
        return os.path.join(self.dir, *parts)


def expected_files(repo):
    """Every file the session directory should hold, from the database."""
    ctl, session = repo.ctl, repo.session
    files = {"session.md", ".gitignore", ".gitattributes",
             "meta/sync_status.md", "meta/edit_log.md"}
    files |= {"notes/" + n for n in GENERATED_NOTES}
    files |= {"task_groups/%s.md" % g["name"] for g in ctl.groups(session)}
    files |= {"tasks/%s/%s.md" % (t["status"], t["id"])
              for t in ctl.tasks(session)}
    return files


def assert_tidy(repo):
    """No lock, temporary, backup, error or conflict file anywhere: the
    files outside .git are the generated ones and .gitignore, and .git
    holds no lock or temporary file of an unfinished command."""
    found, strays = set(), []
    for root, dirs, files in os.walk(repo.dir):
        rel = os.path.relpath(root, repo.dir)
        if rel == ".git" or rel.startswith(".git/"):
            strays += [os.path.join(rel, f) for f in files
                       if f.endswith(".lock") or f.startswith("tmp_")
                       or f.startswith("index.stash.")]
            continue
        for f in files:
            path = f if rel == "." else os.path.join(rel, f)
            if not path.startswith("meta/backups/"):
                found.add(path)
    strays += sorted(found - expected_files(repo))
    assert not strays, "left in the mount: %s" % strays


def assert_quiet_log(m):
    """The daemon logged saves and nothing else (no error, no warning, no
    conflict, no held text)."""
    other = [line for line in m.stderr().splitlines()
             if line and not line.startswith("taskfs: saved ")]
    assert not other, "daemon log:\n%s" % "\n".join(other)


@pytest.fixture
def repo(mounted, workdir):
    """A repository in the demo session's directory with everything but
    meta/ committed."""
    m, ctl, session = mounted
    home = os.path.join(workdir, "home")
    os.makedirs(home)
    r = Repo(m, ctl, session, home)
    with open(r.path(".gitignore"), "w") as f:
        f.write("meta/\n")
    r.run("init", "-q")
    r.run("add", "-A")
    r.run("commit", "-q", "-m", "Snapshot of the session")
    return r


def stat_data(path):
    """What git's index keeps of a file to tell that it did not change."""
    st = os.lstat(path)
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns,
            st.st_uid, st.st_gid, st.st_mode)


def tracked(repo):
    return repo.run("ls-files", "-z").stdout.split("\0")[:-1]


def changed_lines(diff):
    """The removed and added lines of a unified diff."""
    return [line for line in diff.splitlines()
            if line[:1] in "-+" and not line.startswith(("---", "+++"))]


def task_path(repo, task):
    return repo.path("tasks", task["status"], task["id"] + ".md")


def pick_task(repo, status="active"):
    return [t for t in repo.ctl.tasks(repo.session)
            if t["status"] == status][0]


def group_name(repo, group_id):
    return [g["name"] for g in repo.ctl.groups(repo.session)
            if g["id"] == group_id][0]


def test_commit_leaves_status_clean(repo):
    files = tracked(repo)
    assert ".gitignore" in files and "session.md" in files
    assert not [f for f in files if f.startswith("meta/")]
    assert len([f for f in files if f.startswith("tasks/")]) == len(
        repo.ctl.tasks(repo.session))
    assert repo.status() == []
    # The committed bytes are what the files read.
    for f in ("session.md", files[-1]):
        shown = repo.run("show", "HEAD:" + f).stdout
        assert shown == read(repo.path(f)), f
    assert repo.run("log", "--oneline").stdout.count("\n") == 1


def test_stat_data_stable(repo):
    """Reads, git commands and the kernel forgetting its inodes change
    none of the stat data git compares: git finds no file to look at
    again (diff-files compares stat data only, it does not refresh)."""
    files = tracked(repo)
    before = {f: stat_data(repo.path(f)) for f in files}
    for f in files:
        read(repo.path(f))
    repo.run("status")
    assert {f: stat_data(repo.path(f)) for f in files} == before
    if os.access("/proc/sys/vm/drop_caches", os.W_OK):
        os.sync()
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("2\n")
    assert {f: stat_data(repo.path(f)) for f in files} == before
    assert repo.run("diff-files", "--name-only").stdout == ""
    assert repo.status() == []


def test_taskctl_change_shows_as_diff(repo):
    task = pick_task(repo)
    old, new = task["title"], "Renamed by the orchestrator"
    repo.ctl.run("task", "set", task["id"], "--title", new)
    group = group_name(repo, task["group"])
    tpath = "tasks/%s/%s.md" % (task["status"], task["id"])
    # The task's file and its group's file show the title; session.md
    # shows the session's revision (once the daemon's watcher has told the
    # kernel: a moment after taskctl's commit).
    want = [" M session.md", " M task_groups/%s.md" % group, " M " + tpath]
    eventually(lambda: repo.status() == want, "git status to show the change")
    rev = repo.ctl.task(task["id"])["revision"]
    lines = changed_lines(repo.run("diff", "--", tpath).stdout)
    assert lines[0].startswith("-revision: ")
    assert lines[1:] == ["+revision: %d" % rev,
                         "-# %s `%s`" % (old, task["id"]),
                         "+# %s `%s`" % (new, task["id"])]
    lines = changed_lines(repo.run("diff", "--", "session.md").stdout)
    assert len(lines) == 2 and lines[1] == "+revision: %d" % rev
    lines = changed_lines(
        repo.run("diff", "--", "task_groups/%s.md" % group).stdout)
    assert "-### %s `%s`" % (old, task["id"]) in lines
    assert "+### %s `%s`" % (new, task["id"]) in lines
    assert len(lines) == 6  # revision, overview row, heading
    # Committed, the status is clean again.
    repo.run("commit", "-q", "-a", "-m", "Rename")
    assert repo.status() == []


def test_checkout_is_a_save(repo):
    """git checkout unlinks the file and creates it with O_EXCL: the name
    must be gone in between, and the text written is a save of the same
    task, never a deletion."""
    task = pick_task(repo)
    repo.ctl.run("task", "set", task["id"], "--title", "Changed by taskctl")
    # git compares the file's size and time with its index: the mount
    # shows the commit within milliseconds, not when taskctl exits.
    eventually(lambda: "Changed by taskctl" in read(task_path(repo, task)))
    tpath = "tasks/%s/%s.md" % (task["status"], task["id"])
    repo.run("checkout", "--", tpath)
    after = repo.ctl.task(task["id"])
    assert not after["deleted"]
    assert after["status"] == task["status"]
    text = read(task_path(repo, task))
    assert "\n# %s `%s`\n" % (after["title"], task["id"]) in text
    assert "\nrevision: %d\n" % after["revision"] in text
    assert os.listdir(repo.path("tasks", task["status"])).count(
        task["id"] + ".md") == 1


def test_checkout_undoes_taskctl_change(repo):
    """A file git makes again after unlinking it replaces the text the
    name showed: the database follows it, back to the committed title."""
    task = pick_task(repo)
    repo.ctl.run("task", "set", task["id"], "--title", "Changed by taskctl")
    # git compares the file's size and time with its index: the mount
    # shows the commit within milliseconds, not when taskctl exits.
    eventually(lambda: "Changed by taskctl" in read(task_path(repo, task)))
    tpath = "tasks/%s/%s.md" % (task["status"], task["id"])
    repo.run("checkout", "--", tpath)
    assert repo.ctl.task(task["id"])["title"] == task["title"]
    assert "\n# %s `%s`\n" % (task["title"], task["id"]) in read(
        task_path(repo, task))


def progress_line(text, task_id):
    """The 1-based line of a task block's progress field in a group
    file."""
    lines = text.split("\n")
    head = [i for i, x in enumerate(lines)
            if re.fullmatch(r"### .* `%s`" % re.escape(task_id), x)][0]
    return 1 + [i for i, x in enumerate(lines)
                if i > head and x.startswith("- **Progress**: ")][0]


def edit_progress(path, task_id, progress):
    """Sets a task's progress in a group file with sed -i (a temporary
    file renamed over the file)."""
    line = progress_line(read(path), task_id)
    subprocess.run(["sed", "-i", r"%ds/: [0-9]*%%$/: %d%%/" % (line, progress),
                    path], check=True)


def test_stash_saves_and_leaves_nothing(repo):
    """git stash of an edit made in the mount: the edit is a save, the
    stash a second one, and neither leaves anything behind or loses the
    task."""
    task = pick_task(repo)
    gpath = repo.path("task_groups",
                      group_name(repo, task["group"]) + ".md")
    edit_progress(gpath, task["id"], 77)
    assert repo.ctl.task(task["id"])["progress"] == 77
    assert " M task_groups/%s.md" % group_name(repo, task["group"]) in \
        repo.status()
    repo.run("stash")
    assert repo.run("stash", "list").stdout.count("\n") == 1
    after = repo.ctl.task(task["id"])
    assert not after["deleted"] and after["status"] == task["status"]
    text = read(gpath)
    line = text.split("\n")[progress_line(text, task["id"]) - 1]
    assert line == "- **Progress**: %d%%" % after["progress"]


def use_revision_filter(repo):
    """The documented set-up: git keeps the texts with the digits of their
    'revision:' line zeroed (the line changes with every save; zeroing
    keeps the size, which git compares before the content)."""
    repo.run("config", "filter.taskfs.clean",
             "sed -E '/^revision: [0-9]+$/s/[0-9]/0/g'")
    with open(repo.path(".gitattributes"), "w") as f:
        f.write("*.md filter=taskfs\n")
    repo.run("add", "--renormalize", ".")
    repo.run("add", ".gitattributes")
    repo.run("commit", "-q", "-m", "Without revision lines")
    assert repo.status() == []


def test_stash_round_trip(repo):
    """With the revision filter, git stash undoes an edit made in the
    mount and git stash pop brings it back; the database follows both."""
    use_revision_filter(repo)
    task = pick_task(repo)
    gpath = repo.path("task_groups",
                      group_name(repo, task["group"]) + ".md")
    edit_progress(gpath, task["id"], 77)
    assert repo.ctl.task(task["id"])["progress"] == 77
    repo.run("stash")
    assert repo.ctl.task(task["id"])["progress"] == task["progress"]
    assert repo.status() == []
    repo.run("stash", "pop")
    assert repo.ctl.task(task["id"])["progress"] == 77
    # The edit shows in the group's file and in the task's own file.
    assert repo.status() == sorted([
        " M task_groups/%s.md" % group_name(repo, task["group"]),
        " M tasks/%s/%s.md" % (task["status"], task["id"])])
