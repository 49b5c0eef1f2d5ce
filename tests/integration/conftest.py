# SPDX-License-Identifier: MIT
"""Fixtures for the integration tests: the binaries, a demo database, and
a real taskfs mount in a temporary folder that is always unmounted.

Binaries come from TASKFS_BIN and TASKCTL_BIN, or from the build folder
named by TASKFS_BUILD (default: <repo>/build). TASKFS_VALGRIND=1 runs the
daemon under valgrind's memcheck and fails a test on any error it reports.

TASKFS_TEST_BACKEND chooses where the tests' databases are: "sqlite" (the
default), a file in the test's folder, or "postgresql", a fresh schema of
the database TASKFS_TEST_PG names (a URI whose user may create schemas,
as tests/pg-cluster.sh prints), dropped after the test.
"""
import contextlib
import ctypes
import glob
import json
import os
import re
import shlex
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import time
import uuid

import pytest

try:
    import psycopg2
except ImportError:
    psycopg2 = None

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("TASKFS_BUILD", os.path.join(REPO, "build"))
TASKFS = os.environ.get("TASKFS_BIN", os.path.join(BUILD, "fs", "taskfs"))
TASKCTL = os.environ.get("TASKCTL_BIN", os.path.join(BUILD, "tools", "taskctl"))
VALGRIND = os.environ.get("TASKFS_VALGRIND") == "1"

# Mounts live outside /tmp: emacs makes no backup files under /tmp, and the
# tests check that it does.
MOUNT_BASE = os.environ.get("TASKFS_TEST_DIR", "/var/tmp/taskfs-tests")

BACKEND = os.environ.get("TASKFS_TEST_BACKEND", "sqlite")
PG = os.environ.get("TASKFS_TEST_PG")
if BACKEND not in ("sqlite", "postgresql"):
    raise pytest.UsageError("TASKFS_TEST_BACKEND is sqlite or postgresql, "
                            "not " + BACKEND)
if BACKEND == "postgresql" and not PG:
    raise pytest.UsageError("TASKFS_TEST_BACKEND=postgresql needs "
                            "TASKFS_TEST_PG, the URI of a test database")


def sqlite_only(reason):
    """Marks a test about what is SQLite's own (its file, its locks), run
    on the SQLite backend only; reason names it."""
    return pytest.mark.skipif(BACKEND != "sqlite", reason=reason)


def is_pg(db):
    """Whether db names a PostgreSQL database rather than a file."""
    return db.startswith(("postgresql://", "postgres://", "service="))


def shown(db):
    """The database as taskfs names it in its messages: the real path of a
    file, a URI without its password."""
    if is_pg(db):
        return re.sub(r"^(postgres(?:ql)?://[^:@/]*):[^@/]*@", r"\1@", db)
    return os.path.realpath(db)


def psql(uri, sql):
    """Runs sql with psql, as another program would; returns its output."""
    p = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v",
                        "ON_ERROR_STOP=1", "-d", uri, "-c", sql],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    return p.stdout.strip()


def pg_connect(uri):
    if psycopg2 is None:
        pytest.fail("python3-psycopg2 is needed for the tests on PostgreSQL")
    return psycopg2.connect(uri)


def sql(db, statement, params=()):
    """Runs one statement on the database as another program would (the
    sqlite3 module on a file, psycopg2 on PostgreSQL), in a transaction of
    its own; returns the rows it gave, blobs as bytes. Parameters are
    written ?, as sqlite3 takes them."""
    if not is_pg(db):
        con = sqlite3.connect(db)
        try:
            rows = con.execute(statement, params).fetchall()
            con.commit()
        finally:
            con.close()
        return rows
    con = pg_connect(db)
    try:
        with con:
            with con.cursor() as cur:
                if params:
                    statement = statement.replace("%", "%%").replace("?", "%s")
                    cur.execute(statement, params)
                else:
                    cur.execute(statement)
                rows = cur.fetchall() if cur.description else []
    finally:
        con.close()
    return [tuple(bytes(v) if isinstance(v, memoryview) else v for v in r)
            for r in rows]


class Taskctl:
    """Runs taskctl on one database."""

    def __init__(self, db):
        self.db = db

    def sql(self, statement, params=()):
        return sql(self.db, statement, params)

    def tables(self):
        """The names of the database's tables."""
        if is_pg(self.db):
            q = ("SELECT table_name FROM information_schema.tables WHERE "
                 "table_schema = current_schema() AND "
                 "table_type = 'BASE TABLE'")
        else:
            q = ("SELECT name FROM sqlite_schema WHERE type = 'table' AND "
                 "name NOT LIKE 'sqlite_%'")
        return sorted(r[0] for r in self.sql(q))

    @contextlib.contextmanager
    def write_locked(self):
        """Another program in a transaction holding the database's write
        lock until the block ends (SQLite's BEGIN EXCLUSIVE; on PostgreSQL
        the row lock of the revision counter that every writer takes)."""
        if is_pg(self.db):
            con = pg_connect(self.db)
            try:
                con.cursor().execute("SELECT rev FROM revision FOR UPDATE")
                yield
            finally:
                con.rollback()
                con.close()
            return
        con = sqlite3.connect(self.db, isolation_level=None, timeout=0)
        try:
            con.execute("BEGIN EXCLUSIVE")
            yield
        finally:
            if con.in_transaction:
                con.execute("ROLLBACK")
            con.close()

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
def db_factory(workdir):
    """Names fresh databases: make(name) is a file of that name in the
    test's folder, or on PostgreSQL (the run's backend, or backend=
    "postgresql") the URI of a fresh schema of TASKFS_TEST_PG's database.
    The schemas are dropped after the test."""
    schemas = []

    def make(name="tasks.db", backend=None):
        if (backend or BACKEND) == "sqlite":
            return os.path.join(workdir, name)
        if not PG:
            pytest.skip("TASKFS_TEST_PG is not set")
        schema = "it_" + uuid.uuid4().hex[:12]
        psql(PG, "CREATE SCHEMA " + schema)
        schemas.append(schema)
        sep = "&" if "?" in PG else "?"
        return PG + sep + "options=-csearch_path%3D" + schema

    yield make
    for schema in schemas:
        psql(PG, "DROP SCHEMA %s CASCADE" % schema)


@pytest.fixture
def pg_uri(db_factory):
    """The URI of a fresh schema of the PostgreSQL test database."""
    return db_factory(backend="postgresql")


@pytest.fixture
def taskctl(db_factory):
    return Taskctl(db_factory())


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


# The daemon of a background mount is the child of a process that exits
# once the mount is ready. As a subreaper, this process becomes its parent
# then, and can wait for it and read its exit status like any child's.
_libc = ctypes.CDLL(None, use_errno=True)
_PR_SET_CHILD_SUBREAPER = 36
_libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)

# How mounts start: "background" (taskfs DB MNT, as users and tools/run-demo
# start it; the default), "mount" (mount -t fuse.taskfs, as fstab does),
# "unit" (the ExecStart line of docs/taskfs@.service, as systemd runs it)
# or "foreground" (taskfs -f, for tests that read what the process prints).
MOUNT_MODE = os.environ.get("TASKFS_MOUNT_MODE", "background")

# mount(8) clears PATH before it runs mount.fuse3, which starts taskfs
# through /bin/sh: the shell's default path begins here.
HELPER_DIR = "/usr/local/sbin"


class Daemon:
    """A taskfs process this process may wait for: its child, or the
    background daemon reparented here."""

    def __init__(self, pid, popen=None):
        self.pid, self.popen, self.returncode = pid, popen, None

    def poll(self):
        if self.popen is not None:
            self.returncode = self.popen.poll()
        elif self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout=None):
        deadline = None if timeout is None else time.time() + timeout
        while self.poll() is None:
            if deadline is not None and time.time() > deadline:
                raise subprocess.TimeoutExpired(str(self.pid), timeout)
            time.sleep(0.01)
        return self.returncode

    def send_signal(self, sig):
        if self.poll() is None:
            os.kill(self.pid, sig)

    def kill(self):
        self.send_signal(signal.SIGKILL)


def process_args(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().split(b"\0")
    except OSError:
        return []


def parent_pid(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return 0


def find_daemon(mnt):
    """The pid of the background daemon serving mnt, reparented to this
    process once its starter exited."""
    me, target = os.getpid(), mnt.encode()
    for d in os.listdir("/proc"):
        if d.isdigit() and parent_pid(int(d)) == me and \
                target in process_args(int(d)):
            return int(d)
    return None


def unit_exec_start():
    """The ExecStart command of docs/taskfs@.service, split into words."""
    with open(os.path.join(REPO, "docs", "taskfs@.service")) as f:
        for line in f:
            if line.startswith("ExecStart="):
                return shlex.split(line.split("=", 1)[1])
    raise AssertionError("docs/taskfs@.service has no ExecStart")


def install_helper(workdir):
    """taskfs where mount.fuse3 finds it: a symlink in HELPER_DIR to a link
    in workdir (one left by a killed run dangles and is replaced)."""
    link = os.path.join(HELPER_DIR, "taskfs")
    if os.path.lexists(link) and not (
            os.path.islink(link) and
            os.readlink(link).startswith(MOUNT_BASE + "/")):
        pytest.skip("%s is an installed taskfs; mount(8) would run it" % link)
    inner = os.path.join(workdir, "taskfs")
    if not os.path.lexists(inner):
        os.symlink(os.path.abspath(TASKFS), inner)
    os.makedirs(HELPER_DIR, exist_ok=True)
    tmp = link + ".%d" % os.getpid()
    os.symlink(inner, tmp)
    os.replace(tmp, link)
    return link


class Mount:
    """A taskfs daemon serving a folder, started in one of the MOUNT_MODE
    ways (mode None: the run's MOUNT_MODE); wrap is a command that runs
    taskfs (nsenter into a network namespace, for one)."""

    def __init__(self, db, mnt, options=(), mode=None, wrap=()):
        self.db, self.mnt = db, mnt
        self.mode = mode or MOUNT_MODE
        self.options = list(options)
        base = mnt.rstrip("/")
        self.logfile = base + ".log"
        self.errlog = open(base + ".stderr", "w+")
        self.vglog = None
        self.proc = None
        prefix = []
        if VALGRIND:
            self.vglog = base + ".valgrind"
            prefix = ["valgrind", "-q", "--error-exitcode=99",
                      "--log-file=" + self.vglog + ".%p", "--leak-check=no"]
        if self.mode == "unit":
            # The unit's layout: PROJECT/.task_orchestrator/{tasks.db,
            # sessions}; the project's database is the test's.
            project = base + "-project"
            orch = os.path.join(project, ".task_orchestrator")
            os.makedirs(orch, exist_ok=True)
            link = os.path.join(orch, "tasks.db")
            if not os.path.lexists(link):
                os.symlink(os.path.abspath(db), link)
            self.mnt = mnt = os.path.join(orch, "sessions")
        os.makedirs(mnt, exist_ok=True)
        started = time.time()
        deadline = started + (90 if VALGRIND else 15)
        if self.mode in ("foreground", "unit"):
            if self.mode == "unit":
                cmd = [w.replace("%f", project) for w in unit_exec_start()]
                cmd[0] = TASKFS
            else:
                cmd = [TASKFS, "-f", db, mnt]
            popen = subprocess.Popen(prefix + cmd + self.options,
                                     stdout=subprocess.DEVNULL,
                                     stderr=self.errlog)
            self.proc = Daemon(popen.pid, popen)
        elif self.mode in ("background", "mount"):
            given = [o.split("=", 1)[1] for o in self.options
                     if o.startswith("logfile=")]
            if given:
                self.logfile = given[-1]
                opts = self.options
            else:
                opts = self.options + ["-o", "logfile=" + self.logfile]
            if self.mode == "mount":
                install_helper(os.path.dirname(base))
                flat = ",".join(o for o in opts if o != "-o")
                cmd = ["mount", "-t", "fuse.taskfs", "-o", flat, db, mnt]
                if VALGRIND:
                    raise AssertionError("mount(8) cannot start valgrind")
            else:
                cmd = list(wrap) + prefix + [TASKFS, db, mnt] + opts
            p = subprocess.run(cmd, stdout=subprocess.DEVNULL,
                               stderr=self.errlog, timeout=deadline - started)
            if p.returncode != 0:
                raise AssertionError("%s exited %d: %s%s" % (
                    cmd[0], p.returncode, self.stderr(), self.log()))
            pid = find_daemon(mnt)
            if pid is None:
                raise AssertionError("no taskfs process serves " + mnt)
            self.proc = Daemon(pid)
        else:
            raise AssertionError("unknown mount mode " + self.mode)
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

    def log(self):
        """The log file of a background mount, its lines as on stderr."""
        try:
            with open(self.logfile, errors="replace") as f:
                text = f.read()
        except FileNotFoundError:
            return ""
        return re.sub(r"(?m)^\S+ \S+ taskfs\[\d+\]: ", "taskfs: ", text)

    def stderr(self):
        """What the daemon reported: its stderr, and its log file when it
        runs in the background."""
        self.errlog.flush()
        self.errlog.seek(0)
        return self.errlog.read() + self.log()

    def unmount(self):
        if is_mounted(self.mnt):
            subprocess.run(["fusermount3", "-u", self.mnt], check=False)
            if is_mounted(self.mnt):
                # Busy: a helper process may still hold a file open.
                time.sleep(0.5)
                subprocess.run(["fusermount3", "-u", "-z", self.mnt],
                               check=False)
        try:
            rc = self.proc.wait(timeout=90 if VALGRIND else 20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        return rc

    def valgrind_report(self):
        report = []
        for path in glob.glob(self.vglog + ".*") if self.vglog else []:
            with open(path) as f:
                text = valgrind_errors(f.read())
            if text:
                report.append(text)
        return "\n".join(report)


# Rows of a PostgreSQL schema whose foreign keys point nowhere: one query
# per foreign key, made from the catalog.
PG_FOREIGN_KEYS = """
SELECT c.conname, c.conrelid::regclass::text, c.confrelid::regclass::text,
       ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY
             AS k(n, i) JOIN pg_attribute a ON a.attrelid = c.conrelid
             AND a.attnum = k.n ORDER BY k.i),
       ARRAY(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY
             AS k(n, i) JOIN pg_attribute a ON a.attrelid = c.confrelid
             AND a.attnum = k.n ORDER BY k.i)
FROM pg_constraint c
WHERE c.contype = 'f' AND c.connamespace = current_schema()::regnamespace
ORDER BY c.conname"""


def pg_integrity(db):
    """The foreign keys of a PostgreSQL database checked row by row, as
    SQLite's foreign_key_check does, and every row of every table read."""
    problems = []
    con = pg_connect(db)
    try:
        cur = con.cursor()
        cur.execute(PG_FOREIGN_KEYS)
        for name, child, parent, cols, pcols in cur.fetchall():
            cur.execute(
                "SELECT count(*) FROM %s c WHERE %s AND NOT EXISTS "
                "(SELECT 1 FROM %s p WHERE %s)" % (
                    child, " AND ".join("c.%s IS NOT NULL" % c for c in cols),
                    parent, " AND ".join("p.%s = c.%s" % (p, c)
                                         for p, c in zip(pcols, cols))))
            n = cur.fetchone()[0]
            if n:
                problems.append("foreign key %s: %d rows of %s point nowhere"
                                % (name, n, child))
        cur.execute("SELECT table_name FROM information_schema.tables "
                    "WHERE table_schema = current_schema() AND "
                    "table_type = 'BASE TABLE'")
        for (table,) in cur.fetchall():
            cur.execute("SELECT * FROM %s" % table)
            cur.fetchall()
    except psycopg2.Error as e:
        problems.append(str(e).strip())
    finally:
        con.close()
    return problems


def integrity(db):
    """PRAGMA integrity_check and foreign_key_check of a database file, or
    None when there is no SQLite database at db (a test replaced it); the
    foreign keys of a PostgreSQL database."""
    if is_pg(db):
        return pg_integrity(db)
    if not os.path.exists(db):
        return None
    try:
        c = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
        try:
            rows = c.execute("PRAGMA integrity_check").fetchall()
            fks = c.execute("PRAGMA foreign_key_check").fetchall()
        finally:
            c.close()
    except sqlite3.DatabaseError as e:
        if "not a database" in str(e) or "unable to open" in str(e):
            return None
        return [str(e)]
    problems = [r[0] for r in rows if r[0] != "ok"]
    problems += ["foreign key: %r" % (r,) for r in fks]
    return problems


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
def mount_factory(workdir, db_factory):
    """Starts mounts; unmounts each at teardown, checking that the daemon
    exits 0, that no sanitizer or valgrind report was made, and that the
    database passes SQLite's integrity and foreign key checks (on
    PostgreSQL, the foreign key checks). Its databases outlive it."""
    mounts = []

    def start(db, name="mnt", options=(), mode=None, wrap=()):
        m = Mount(db, os.path.join(workdir, name), options, mode, wrap)
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
        report = m.valgrind_report()
        if report:
            failures.append("valgrind: " + report)
        m.errlog.close()
    for db in sorted({m.db for m in mounts}):
        problems = integrity(db)
        if problems:
            failures.append("database %s after unmount: %s" %
                            (db, "; ".join(problems)))
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


def eventually(check, what="the change", timeout=10.0):
    """Polls check() until it is true, failing (naming what) after
    timeout seconds. A commit by another program shows through the mount
    within milliseconds, when the daemon's watcher has told the kernel
    what to forget, not by the time that program exits."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("not seen through the mount: " + what)
        time.sleep(0.005)
