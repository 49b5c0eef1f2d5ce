# SPDX-License-Identifier: MIT
"""taskfs among the usual Linux tools: mount(8) and fstab through
mount.fuse3, umount and fusermount3 with files still open, SIGTERM and
SIGINT while a writer holds unsaved bytes, the systemd user unit, meson
install, man pages, bash completion, and the --help, --version and usage
conventions of taskfs and taskctl."""
import errno
import glob
import os
import re
import shlex
import shutil
import signal
import sqlite3
import subprocess
import threading
import time

import pytest

from conftest import (BUILD, HELPER_DIR, MOUNT_BASE, REPO, TASKCTL, TASKFS,
                      Daemon, install_helper, is_mounted, read)

DOCS = os.path.join(REPO, "docs")
COMPLETIONS = os.path.join(REPO, "tools", "bash-completion")


def project_version():
    with open(os.path.join(REPO, "meson.build")) as f:
        return re.search(r"version\s*:\s*'([^']+)'", f.read()).group(1)


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60,
                          **kw)


def wait_for(cond, timeout=10, what="condition"):
    deadline = time.time() + timeout
    while not cond():
        if time.time() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.05)


def daemon_pids(mnt):
    """The taskfs processes serving mount point mnt."""
    pids = []
    for d in glob.glob("/proc/[0-9]*"):
        try:
            with open(d + "/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"taskfs") and mnt.encode() in argv:
            pids.append(int(os.path.basename(d)))
    return pids


def mount_source(mnt):
    """(source, type, options) of the mount at mnt."""
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            if fields[4] == mnt:
                rest = line.split(" - ", 1)[1].split()
                return rest[1], rest[0], fields[5] + "," + rest[2]
    return None


def force_unmount(mnt):
    """Cleanup after a failed test: never leave a mount or a daemon."""
    pids = daemon_pids(mnt)
    while is_mounted(mnt):
        if run(["umount", "-l", mnt]).returncode != 0:
            run(["fusermount3", "-u", "-z", mnt])
            break
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def db_holds(ctl, text):
    """Whether some text stored in the database contains text."""
    def strings(v):
        if isinstance(v, str):
            yield v
        elif isinstance(v, dict):
            for x in v.values():
                yield from strings(x)
        elif isinstance(v, list):
            for x in v:
                yield from strings(x)
    return any(text in s for s in strings(ctl.json("export")))


# ---- mount(8), fstab and umount ----


@pytest.fixture
def helper(workdir):
    """taskfs where mount.fuse3 finds it (conftest.install_helper); removed
    afterwards."""
    if os.geteuid() != 0:
        pytest.skip("mount(8) of a FUSE type needs root")
    if not any(os.path.exists(os.path.join(d, "mount.fuse3"))
               for d in ("/sbin", "/usr/sbin")):
        pytest.fail("mount.fuse3 is missing: install fuse3")
    link = install_helper(workdir)
    inner = os.readlink(link)
    yield link
    if os.path.islink(link) and os.readlink(link) == inner:
        os.unlink(link)


def test_mount_t_fuse_taskfs(helper, demo, workdir):
    ctl, session = demo
    mnt = os.path.join(workdir, "mnt")
    os.mkdir(mnt)
    # What fstab and mount.fuse3 may pass: kernel flags, options for
    # mount(8) itself, and taskfs's own.
    opts = ("nodev,nosuid,noatime,relatime,nofail,_netdev,"
            "x-systemd.device-timeout=10,comment=tasks,session=" + session)
    try:
        p = run(["mount", "-t", "fuse.taskfs", "-o", opts, ctl.db, mnt])
        assert p.returncode == 0, p.stderr
        assert is_mounted(mnt)
        source, fstype, options = mount_source(mnt)
        assert (source, fstype) == (ctl.db, "fuse.taskfs")
        for flag in ("nodev", "nosuid", "noatime"):
            assert flag in options.split(","), options
        pids = daemon_pids(mnt)
        assert len(pids) == 1
        # -o session: the mount point is the session's directory.
        assert sorted(os.listdir(mnt)) == [
            "meta", "notes", "session.md", "task_groups", "tasks"]
        path = os.path.join(mnt, "tasks", "active",
                            "dashboard_layout_001.md")
        text = read(path)
        assert "- [ ] **Status**: active" in text
        with open(path, "w") as f:
            f.write(text.replace("- [ ] **Status**: active",
                                 "- [x] **Status**: active"))
        assert ctl.task("dashboard_layout_001")["status"] == "completed"
        assert os.path.exists(os.path.join(
            mnt, "tasks", "completed", "dashboard_layout_001.md"))
        p = run(["umount", mnt])
        assert p.returncode == 0, p.stderr
        assert not is_mounted(mnt)
        for q in pids:
            assert Daemon(q).wait(timeout=20) == 0
    finally:
        force_unmount(mnt)


def test_fstab_line(helper, demo, workdir):
    """The fstab line of taskfs(1): mount -a mounts it once, umount ends
    it."""
    ctl, session = demo
    mnt = os.path.join(workdir, "sessions")
    os.mkdir(mnt)
    fstab = os.path.join(workdir, "fstab")
    with open(fstab, "w") as f:
        f.write("%s  %s  fuse.taskfs  nofail,nodev,nosuid,noatime,"
                "allow_other  0  0\n" % (ctl.db, mnt))
    try:
        for _ in range(2):
            p = run(["mount", "-a", "-T", fstab])
            assert p.returncode == 0, p.stderr
        with open("/proc/self/mountinfo") as f:
            assert sum(line.split()[4] == mnt for line in f) == 1
        assert "allow_other" in mount_source(mnt)[2]
        assert os.listdir(mnt) == [session]
        pids = daemon_pids(mnt)
        assert len(pids) == 1
        p = run(["umount", mnt])
        assert p.returncode == 0, p.stderr
        assert not is_mounted(mnt)
        assert Daemon(pids[0]).wait(timeout=20) == 0
    finally:
        force_unmount(mnt)


def test_mount_options_given_directly(demo, mount_factory):
    """The options of mount(8) and fstab, given to taskfs itself."""
    ctl, session = demo
    m = mount_factory(ctl.db, options=[
        "-o", "rw,nosuid,nodev,noexec,noatime,relatime,strictatime,sync,"
        "async,dirsync,auto,noauto,user,nouser,users,owner,group,_netdev,"
        "nofail,defaults,comment=x,x-systemd.automount,x-gvfs-hide"])
    options = mount_source(m.mnt)[2].split(",")
    for flag in ("nosuid", "nodev", "noexec", "noatime", "dirsync"):
        assert flag in options
    assert os.listdir(m.mnt) == [session]
    assert m.stderr() == ""


def test_read_only_mount(demo, mount_factory):
    ctl, session = demo
    m = mount_factory(ctl.db, options=["-o", "ro"])
    path = m.path(session, "notes", "decisions.md")
    assert "Decisions" in read(path)
    with pytest.raises(OSError) as e:
        open(path, "a").close()
    assert e.value.errno == errno.EROFS
    with pytest.raises(OSError) as e:
        open(m.path(session, "scratch.txt"), "w").close()
    assert e.value.errno == errno.EROFS


def test_unknown_option_is_a_usage_error(demo, workdir):
    ctl, session = demo
    mnt = os.path.join(workdir, "mnt")
    os.mkdir(mnt)
    p = run([TASKFS, "-f", ctl.db, mnt, "-o", "bogus_option"])
    assert p.returncode == 2
    assert "bogus_option" in p.stderr and "taskfs --help" in p.stderr
    assert not is_mounted(mnt)


def test_second_mount_on_a_mount_is_refused(mounted):
    m, ctl, session = mounted
    p = run([TASKFS, "-f", ctl.db, m.mnt])
    assert p.returncode == 1
    assert "taskfs mount already" in p.stderr
    assert "fusermount3 -u" in p.stderr
    with open("/proc/self/mountinfo") as f:
        assert sum(line.split()[4] == m.mnt for line in f) == 1


# ---- signals and unmounting with a writer ----


def dirty_writer(m, session, marker):
    """A descriptor of a notes file with marker written, not yet closed."""
    fd = os.open(m.path(session, "notes", "learnings.md"),
                 os.O_WRONLY | os.O_APPEND)
    os.write(fd, ("\n%s\n" % marker).encode())
    return fd


def close_fails_disconnected(fd):
    with pytest.raises(OSError) as e:
        os.close(fd)
    assert e.value.errno == errno.ENOTCONN


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT,
                                 signal.SIGHUP], ids=lambda s: s.name)
def test_signal_saves_the_dirty_writer(demo, mount_factory, sig):
    ctl, session = demo
    m = mount_factory(ctl.db)
    marker = "Written before %s, never closed" % sig.name
    fd = dirty_writer(m, session, marker)
    # A group file too, with a task ticked.
    gpath = m.path(session, "task_groups", "frontend.md")
    text = read(gpath)
    block = text.index("`dashboard_layout_001`")
    box = text.index("- [ ] **Status**", block)
    gfd = os.open(gpath, os.O_WRONLY | os.O_TRUNC)
    os.write(gfd, (text[:box] + "- [x]" + text[box + 5:]).encode())
    m.proc.send_signal(sig)
    assert m.proc.wait(timeout=20) == 0
    assert not is_mounted(m.mnt)
    close_fails_disconnected(fd)
    close_fails_disconnected(gfd)
    assert db_holds(ctl, marker)
    assert ctl.task("dashboard_layout_001")["status"] == "completed"
    err = m.stderr()
    assert "learnings.md was still open for writing at unmount" in err
    assert "frontend.md was still open for writing at unmount" in err


def test_signal_keeps_the_text_when_the_save_fails(demo, mount_factory):
    ctl, session = demo
    m = mount_factory(ctl.db, options=["-o", "busy_timeout=200"])
    marker = "Written while the database is locked"
    fd = dirty_writer(m, session, marker)
    db = sqlite3.connect(ctl.db, isolation_level=None)
    try:
        db.execute("BEGIN IMMEDIATE")
        m.proc.send_signal(signal.SIGTERM)
        assert m.proc.wait(timeout=20) == 0
    finally:
        db.execute("ROLLBACK")
        db.close()
    assert not is_mounted(m.mnt)
    close_fails_disconnected(fd)
    assert not db_holds(ctl, marker)
    kept = glob.glob(os.path.join(m.mnt, session, "notes",
                                  "learnings.md.unsaved-*"))
    assert len(kept) == 1
    assert marker in read(kept[0])
    assert "the text is kept in %s/notes/%s" % (
        session, os.path.basename(kept[0])) in m.stderr()


def test_signal_finishes_the_save_in_progress(demo, mount_factory):
    ctl, session = demo
    m = mount_factory(ctl.db, options=["-o", "busy_timeout=20000"])
    marker = "Closed while the database is locked"
    fd = dirty_writer(m, session, marker)
    db = sqlite3.connect(ctl.db, isolation_level=None)
    result = {}

    def close():
        try:
            os.close(fd)
            result["close"] = 0
        except OSError as e:
            result["close"] = e.errno

    closer = threading.Thread(target=close)
    try:
        db.execute("BEGIN IMMEDIATE")
        closer.start()
        time.sleep(0.5)  # the save waits for the lock
        m.proc.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        assert m.proc.poll() is None, "taskfs left before the save finished"
        assert closer.is_alive()
    finally:
        db.execute("ROLLBACK")
        db.close()
    closer.join(timeout=20)
    assert result == {"close": 0}
    assert m.proc.wait(timeout=20) == 0
    assert not is_mounted(m.mnt)
    assert db_holds(ctl, marker)


def test_fusermount_refuses_while_a_writer_is_open(demo, mount_factory):
    ctl, session = demo
    m = mount_factory(ctl.db)
    fd = dirty_writer(m, session, "First part")
    p = run(["fusermount3", "-u", m.mnt])
    assert p.returncode != 0
    assert "busy" in p.stderr
    assert is_mounted(m.mnt) and m.proc.poll() is None
    os.write(fd, b"Second part\n")
    os.close(fd)
    assert db_holds(ctl, "First part\nSecond part")
    p = run(["fusermount3", "-u", m.mnt])
    assert p.returncode == 0, p.stderr
    assert m.proc.wait(timeout=20) == 0


def test_lazy_unmount_waits_for_the_writer(demo, mount_factory):
    ctl, session = demo
    m = mount_factory(ctl.db)
    fd = dirty_writer(m, session, "Before the lazy unmount")
    p = run(["fusermount3", "-u", "-z", m.mnt])
    assert p.returncode == 0, p.stderr
    assert not is_mounted(m.mnt)
    time.sleep(0.3)
    assert m.proc.poll() is None, "taskfs left with a file open"
    os.write(fd, b"After it\n")
    os.close(fd)
    assert m.proc.wait(timeout=20) == 0
    assert db_holds(ctl, "Before the lazy unmount\nAfter it")


# ---- the systemd user unit ----


def unit_commands():
    """The Exec lines of docs/taskfs@.service, and its other settings."""
    cmds, settings = {}, {}
    with open(os.path.join(DOCS, "taskfs@.service")) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith(("#", "[")):
                continue
            key, value = line.split("=", 1)
            if key.startswith("Exec"):
                cmds[key] = value
            else:
                settings[key] = value
    return cmds, settings


def test_systemd_unit_mounts_and_stops(demo, workdir):
    """Runs what the unit runs, as systemd would: %f is the project,
    commands are looked up on the path, stop is SIGTERM to taskfs."""
    ctl, session = demo
    cmds, settings = unit_commands()
    assert settings["Type"] == "exec"
    assert settings.get("KillSignal", "SIGTERM") == "SIGTERM"
    project = os.path.join(workdir, "proj")
    os.makedirs(os.path.join(project, ".task_orchestrator"))
    os.rename(ctl.db, os.path.join(project, ".task_orchestrator",
                                   "tasks.db"))
    bindir = os.path.join(workdir, "bin")
    os.mkdir(bindir)
    os.symlink(os.path.abspath(TASKFS), os.path.join(bindir, "taskfs"))
    env = dict(os.environ, PATH=bindir + ":" + os.environ["PATH"])

    def argv(key):
        return [w.replace("%f", project) for w in
                shlex.split(cmds[key].lstrip("-"))]

    mnt = os.path.join(project, ".task_orchestrator", "sessions")
    assert run(argv("ExecStartPre"), env=env).returncode == 0
    assert os.path.isdir(mnt)
    log = open(os.path.join(workdir, "unit.log"), "w+")
    proc = subprocess.Popen(argv("ExecStart"), env=env, stderr=log)
    try:
        wait_for(lambda: is_mounted(mnt) or proc.poll() is not None,
                 what="the unit's mount")
        assert is_mounted(mnt), log.read()
        assert os.listdir(mnt) == [session]
        fd = os.open(os.path.join(mnt, session, "notes", "resources.md"),
                     os.O_WRONLY | os.O_APPEND)
        os.write(fd, b"\nSaved by the stop of the unit\n")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=int(settings["TimeoutStopSec"])) == 0
        close_fails_disconnected(fd)
        assert not is_mounted(mnt)
        # ExecStopPost clears a disconnected mount; here there is none,
        # and its failure is ignored ("-").
        assert cmds["ExecStopPost"].startswith("-")
        run(argv("ExecStopPost"), env=env)
        ctl.db = os.path.join(project, ".task_orchestrator", "tasks.db")
        assert db_holds(ctl, "Saved by the stop of the unit")
    finally:
        if proc.poll() is None:
            proc.kill()
        force_unmount(mnt)
        log.close()


def test_systemd_unit_verifies(helper, workdir):
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        pytest.skip("systemd-analyze is not installed")
    units = os.path.join(workdir, "units")
    os.mkdir(units)
    shutil.copy(os.path.join(DOCS, "taskfs@.service"), units)
    instance = os.path.join(units, "taskfs@home-ann-proj.service")
    os.symlink("taskfs@.service", instance)
    runtime = os.path.join(workdir, "runtime")
    os.mkdir(runtime, 0o700)
    p = run([analyze, "verify", "--user", "--man=no", instance],
            env=dict(os.environ, XDG_RUNTIME_DIR=runtime))
    assert p.returncode == 0, p.stderr
    assert p.stderr == ""


# ---- meson install, man pages, completion ----


def test_meson_install(workdir):
    meson = shutil.which("meson")
    if not meson:
        pytest.fail("meson is missing")
    dest = os.path.join(workdir, "dest")
    p = run([meson, "install", "-C", BUILD, "--no-rebuild", "--destdir",
             dest])
    assert p.returncode == 0, p.stdout + p.stderr
    files = [os.path.relpath(os.path.join(d, f), dest)
             for d, _, fs in os.walk(dest) for f in fs]

    def installed(suffix):
        found = [f for f in files if f.endswith(suffix)]
        assert len(found) == 1, (suffix, files)
        return os.path.join(dest, found[0])

    taskfs = installed("/bin/taskfs")
    taskctl = installed("/bin/taskctl")
    version = project_version()
    assert run([taskfs, "--version"]).stdout.splitlines()[0] == \
        "taskfs " + version
    assert run([taskctl, "--version"]).stdout == "taskctl %s\n" % version
    for page in ("/man/man1/taskfs.1", "/man/man1/taskctl.1",
                 "/man/man5/taskfs.yaml.5"):
        p = run(["man", "--warnings", "-l", installed("share" + page)],
                env=dict(os.environ, MANWIDTH="80"))
        assert p.returncode == 0 and p.stderr == "", p.stderr
        assert len(p.stdout) > 1000
    installed("/share/doc/taskfs/examples/taskfs.yaml")
    installed("/lib/systemd/user/taskfs@.service")
    for cmd in ("taskctl", "taskfs"):
        script = installed("/share/bash-completion/completions/" + cmd)
        p = run(["bash", "--norc", "-c",
                 "source %s && complete -p %s" % (shlex.quote(script), cmd)])
        assert p.stdout.strip() == "complete -F _%s %s" % (cmd, cmd)


def complete(script, line, cwd=None):
    """The completions bash would offer for line (cursor at its end) with
    the completion script loaded."""
    words = line.split(" ")
    prog = """
source %s
COMP_LINE=%s
COMP_POINT=${#COMP_LINE}
read -ra COMP_WORDS <<<"$COMP_LINE"
[[ $COMP_LINE == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
_%s
printf '%%s\\n' "${COMPREPLY[@]}"
""" % (shlex.quote(os.path.join(COMPLETIONS, script)), shlex.quote(line),
       script)
    env = dict(os.environ, PATH=os.path.dirname(os.path.abspath(TASKCTL)) +
               ":" + os.environ["PATH"])
    p = run(["bash", "--norc", "-c", prog], cwd=cwd, env=env)
    assert p.returncode == 0 and p.stderr == "", (words, p.stderr)
    return [w for w in p.stdout.split("\n") if w]


def help_commands(text):
    section = text.split("commands:\n", 1)[1].split("\n\n", 1)[0]
    return [re.match(r"\s+((?:[a-z][a-z-]*\s?)+)", line).group(1).split()
            for line in section.splitlines()]


def test_taskctl_completion(demo):
    ctl, session = demo
    commands = help_commands(run([TASKCTL, "--help"]).stdout)
    assert sorted(complete("taskctl", "taskctl ")) == sorted(
        {c[0] for c in commands})
    assert sorted(complete("taskctl", "taskctl task ")) == sorted(
        c[1] for c in commands if c[0] == "task" and len(c) > 1)
    # The MCP server is a command like the others, and takes no argument.
    assert complete("taskctl", "taskctl mc") == ["mcp"]
    assert complete("taskctl", "taskctl -d %s mcp " % ctl.db) == []
    options = set(re.findall(r"--[a-z][a-z-]*",
                             run([TASKCTL, "task", "add", "--help"]).stdout))
    assert options <= set(complete("taskctl", "taskctl task add --"))
    ids = [t["id"] for t in ctl.json("task", "list", "--deleted")]
    assert sorted(complete("taskctl", "taskctl -d %s task show " % ctl.db)) \
        == sorted(ids)
    assert complete("taskctl",
                    "taskctl --db=%s task list --session=" % ctl.db) == [
        session]
    assert complete("taskctl", "taskctl task set x --priority h") == ["high"]
    assert complete("taskctl", "taskctl resolve 3 --keep ") == ["db", "file"]
    # copy names its databases as files.
    assert {"--from", "--to"} <= set(complete("taskctl", "taskctl copy --"))
    here = os.path.dirname(ctl.db)
    assert complete("taskctl", "taskctl copy --from tasks.d", cwd=here) == [
        "tasks.db"]
    assert complete("taskctl", "taskctl copy --to=tasks.d", cwd=here) == [
        "tasks.db"]


def test_taskfs_completion(demo, workdir):
    ctl, session = demo
    os.mkdir(os.path.join(workdir, "mnt"))
    help_text = run([TASKFS, "--help"]).stdout
    names = set(re.findall(r"-o ([a-z_]+)", help_text))
    offered = complete("taskfs", "taskfs tasks.db mnt -o ", cwd=workdir)
    assert names <= {o.rstrip("=") for o in offered}, names
    assert complete("taskfs", "taskfs tasks.db mnt -o ro,nosu",
                    cwd=workdir) == ["ro,nosuid"]
    assert complete("taskfs", "taskfs tasks.db mnt -o log=d",
                    cwd=workdir) == ["debug"]
    assert complete("taskfs", "taskfs tasks.db mnt -o session=",
                    cwd=workdir) == [session]
    assert complete("taskfs", "taskfs tas", cwd=workdir) == ["tasks.db"]
    assert complete("taskfs", "taskfs tasks.db m", cwd=workdir) == ["mnt/"]


# ---- --help, --version and usage errors ----


@pytest.mark.parametrize("tool", [TASKFS, TASKCTL])
def test_help_and_version(tool):
    name = os.path.basename(tool)
    for flag in ("--help", "-h"):
        p = run([tool, flag])
        assert p.returncode == 0 and p.stderr == ""
        assert p.stdout.startswith("usage: ")
    for flag in ("--version", "-V"):
        p = run([tool, flag])
        assert p.returncode == 0 and p.stderr == ""
        assert p.stdout.splitlines()[0] == "%s %s" % (name, project_version())


@pytest.mark.parametrize("args", [
    [], ["tasks.db"], ["--bogus", "tasks.db", "mnt"],
    ["-o", "log=loud", "tasks.db", "mnt"], ["tasks.db", "mnt", "extra"],
    ["-o", "grace", "tasks.db", "mnt"],
])
def test_taskfs_usage_errors(workdir, args):
    os.mkdir(os.path.join(workdir, "mnt"))
    open(os.path.join(workdir, "tasks.db"), "w").close()
    p = run([TASKFS] + args, cwd=workdir)
    assert p.returncode == 2, p.stderr
    assert p.stdout == ""
    assert "usage: taskfs" in p.stderr
    assert "Try 'taskfs --help'" in p.stderr
    assert not is_mounted(os.path.join(workdir, "mnt"))


def test_taskfs_missing_database(workdir):
    os.mkdir(os.path.join(workdir, "mnt"))
    p = run([TASKFS, "nothing.db", "mnt"], cwd=workdir)
    assert p.returncode == 3
    assert "taskctl -d nothing.db init" in p.stderr


def test_taskctl_command_help(workdir):
    """Every command has its help on stdout, exit 0, with no database."""
    for words in help_commands(run([TASKCTL, "--help"]).stdout):
        p = run([TASKCTL] + words + ["--help"], cwd=workdir)
        assert p.returncode == 0 and p.stderr == "", words
        assert p.stdout.startswith("usage: taskctl")
        assert " ".join(words) in p.stdout.splitlines()[0]


@pytest.mark.parametrize("args", [
    ["session", "create"], ["session", "set", "s"], ["group", "create"],
    ["group", "create", "--session", "s"], ["group", "set", "g"],
    ["task", "add", "--title", "t"], ["task", "add", "--group", "g"],
    ["task", "set", "t"], ["resolve", "1"], ["resolve", "x", "--keep", "db"],
    ["resolve", "1", "--keep", "db", "--value", "v"],
    ["restore-backup", "x"], ["task", "show"], ["bogus"], ["task"],
    ["task", "list", "--bogus"], ["--db"],
])
def test_taskctl_usage_errors_before_the_database(workdir, args):
    """A usage error is exit 2 with a short usage and a hint, even where
    there is no database (not exit 6 for the missing database)."""
    p = run([TASKCTL, "-d", os.path.join(workdir, "none.db")] + args,
            cwd=workdir)
    assert p.returncode == 2, p.stderr
    assert p.stdout == ""
    lines = p.stderr.splitlines()
    assert lines[0].startswith("taskctl: ")
    assert lines[1].startswith("usage: taskctl")
    assert re.match(r"Try 'taskctl( [a-z-]+)* --help'", lines[2])
    assert not os.path.exists(os.path.join(workdir, "none.db"))
