# SPDX-License-Identifier: MIT
"""Fixtures for the integration tests: the binaries, a demo database, and
a real taskfs mount in a temporary folder that is always unmounted.

Binaries come from TASKFS_BIN and TASKCTL_BIN, or from the build folder
named by TASKFS_BUILD (default: <repo>/build). TASKFS_VALGRIND=1 runs the
daemon under valgrind's memcheck and fails a test on any error it reports.
"""
import json
import os
import shutil
import subprocess
import tempfile
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("TASKFS_BUILD", os.path.join(REPO, "build"))
TASKFS = os.environ.get("TASKFS_BIN", os.path.join(BUILD, "fs", "taskfs"))
TASKCTL = os.environ.get("TASKCTL_BIN", os.path.join(BUILD, "tools", "taskctl"))
VALGRIND = os.environ.get("TASKFS_VALGRIND") == "1"

# Mounts live outside /tmp: emacs makes no backup files under /tmp, and the
# tests check that it does.
MOUNT_BASE = os.environ.get("TASKFS_TEST_DIR", "/var/tmp/taskfs-tests")


class Taskctl:
    """Runs taskctl on one database."""

    def __init__(self, db):
        self.db = db

    def run(self, *args, check=True, input=None, env=None):
        cmd = [TASKCTL, "-d", self.db] + [str(a) for a in args]
        p = subprocess.run(cmd, capture_output=True, text=True, input=input,
                           env=env, timeout=60)
        if check and p.returncode != 0:
            raise AssertionError(
                f"{' '.join(cmd)} exited {p.returncode}\n{p.stdout}{p.stderr}")
        return p

    def json(self, *args):
        return json.loads(self.run(*args, "--json").stdout)

    def task(self, task_id):
        return self.json("task", "show", task_id)

    def tasks(self, session):
        return self.json("task", "list", "--session", session)

    def groups(self, session):
        return self.json("group", "list", "--session", session)


@pytest.fixture
def workdir():
    """A fresh folder outside /tmp, removed afterwards."""
    os.makedirs(MOUNT_BASE, exist_ok=True)
    d = tempfile.mkdtemp(prefix="t-", dir=MOUNT_BASE)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def taskctl(workdir):
    return Taskctl(os.path.join(workdir, "tasks.db"))


@pytest.fixture
def demo(taskctl):
    """A database holding the demo session; returns (taskctl, session id)."""
    p = taskctl.run("demo")
    session = p.stdout.strip().splitlines()[-1]
    return taskctl, session


def is_mounted(path):
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            if len(fields) > 4 and fields[4] == path:
                return True
    return False


class Mount:
    """A taskfs daemon running in the foreground on a folder."""

    def __init__(self, db, mnt, options=()):
        self.db, self.mnt = db, mnt
        os.makedirs(mnt, exist_ok=True)
        cmd = [TASKFS, "-f", db, mnt] + list(options)
        self.vglog = None
        if VALGRIND:
            self.vglog = mnt.rstrip("/") + ".valgrind.log"
            cmd = ["valgrind", "-q", "--error-exitcode=99",
                   "--log-file=" + self.vglog, "--leak-check=no"] + cmd
        self.errlog = open(mnt.rstrip("/") + ".stderr", "w+")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                                     stderr=self.errlog)
        deadline = time.time() + (60 if VALGRIND else 10)
        while not is_mounted(mnt):
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"taskfs exited {self.proc.returncode}: {self.stderr()}")
            if time.time() > deadline:
                self.proc.kill()
                raise AssertionError("taskfs did not mount in time")
            time.sleep(0.02)

    def path(self, *parts):
        return os.path.join(self.mnt, *parts)

    def stderr(self):
        self.errlog.flush()
        self.errlog.seek(0)
        return self.errlog.read()

    def unmount(self):
        if is_mounted(self.mnt):
            subprocess.run(["fusermount3", "-u", self.mnt], check=False)
            if is_mounted(self.mnt):
                # Busy: a helper process may still hold a file open.
                time.sleep(0.5)
                subprocess.run(["fusermount3", "-u", "-z", self.mnt],
                               check=False)
        try:
            rc = self.proc.wait(timeout=60 if VALGRIND else 20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        return rc


def valgrind_errors(log):
    """valgrind's log without its notes on system calls it does not know
    (openat2: taskfs then walks paths itself)."""
    lines = log.splitlines()
    keep, skip = [], 0
    for line in lines:
        if "WARNING: unhandled" in line and "syscall" in line:
            skip = 4  # the note's four lines of advice follow
            continue
        if skip:
            skip -= 1
            continue
        keep.append(line)
    return "\n".join(keep).strip()


@pytest.fixture
def mount_factory(workdir):
    """Starts mounts; unmounts each at teardown, checking that the daemon
    exits 0 with nothing on stderr but expected log lines."""
    mounts = []

    def start(db, name="mnt", options=()):
        m = Mount(db, os.path.join(workdir, name), options)
        mounts.append(m)
        return m

    yield start
    failures = []
    for m in mounts:
        rc = m.unmount()
        err = m.stderr()
        if rc != 0:
            failures.append(f"taskfs exited {rc}: {err}")
        for line in err.splitlines():
            if "AddressSanitizer" in line or "runtime error" in line or \
               "LeakSanitizer" in line:
                failures.append(f"sanitizer report: {err}")
                break
        if m.vglog and os.path.exists(m.vglog):
            with open(m.vglog) as f:
                report = valgrind_errors(f.read())
            if report:
                failures.append("valgrind: " + report)
        m.errlog.close()
    if failures:
        pytest.fail("\n".join(failures))


@pytest.fixture
def mounted(demo, mount_factory):
    """The demo database mounted; returns (mount, taskctl, session id)."""
    ctl, session = demo
    m = mount_factory(ctl.db)
    return m, ctl, session


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
