#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""
taskfs benchmark: the same commands on a taskfs mount, on a copy of its
tree in tmpfs, and (when libfuse's passthrough example can be built) on
that copy through a FUSE passthrough filesystem, interleaved, several
runs each. Prints the median of each and the ratios against tmpfs.

Usage: bench.py [--build DIR] [--tasks N] [--groups G] [--runs R]
                [--latency N] [--json F] [--keep] [--million]
"""

import argparse
import json
import os
import random
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# libfuse's path-based example: it holds no descriptor per inode, so it
# can walk 100,000 files within a container's limit on open files
# (passthrough_ll keeps one per inode the kernel knows).
PASSTHROUGH_SRC = "/usr/share/doc/libfuse3-dev/examples/passthrough.c"

WORDS = ("parser cache index query render merge schema token client server "
         "queue worker report chart export import login audit metric alert "
         "backup restore deploy review test build release docs api ui").split()


def say(*a):
    print(*a, file=sys.stderr, flush=True)


def is_mounted(path):
    path = os.path.realpath(path)
    with open("/proc/self/mounts") as f:
        return any(line.split()[1] == path for line in f)


def drop_caches():
    subprocess.run(["sync"], check=True)
    try:
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
        return True
    except OSError:
        return False


def timed(cmd, **kw):
    """Wall time of a command, in milliseconds."""
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, **kw)
    return (time.perf_counter() - t0) * 1000.0


class Ctl:
    def __init__(self, build, db):
        self.bin = os.path.join(build, "tools", "taskctl")
        self.db = db

    def run(self, *args, stdin=None):
        p = subprocess.run([self.bin, "-d", self.db] + list(args),
                           input=stdin, capture_output=True, text=True)
        if p.returncode:
            raise SystemExit("taskctl %s: %s" % (" ".join(args), p.stderr))
        return p.stdout.strip()


def sentence(rnd, n):
    return " ".join(rnd.choice(WORDS) for _ in range(n)).capitalize()


def make_db(build, db, tasks, groups):
    """A session of `tasks` tasks in `groups` groups, with descriptions,
    deliverables, dependencies, and a TODO in one task of eight."""
    ctl = Ctl(build, db)
    ctl.run("init")
    sid = ctl.run("session", "create", "--title", "Benchmark session",
                  "--id", "session_bench")
    rnd = random.Random(tasks)
    per = tasks // groups
    statuses = ["planned", "planned", "active", "completed", "blocked"]
    for g in range(groups):
        name = "group-%03d" % g
        gid = ctl.run("group", "create", "--session", sid, "--name", name,
                      "--title", "Group %d: %s" % (g, sentence(rnd, 3)),
                      "--description", sentence(rnd, 12) + ".")
        batch = []
        for i in range(per):
            tid = "t%03d_%04d" % (g, i)
            t = {"session": sid, "group": gid, "id": tid,
                 "title": sentence(rnd, 5),
                 "status": rnd.choice(statuses),
                 "priority": rnd.choice(["low", "medium", "high"]),
                 "specialist": rnd.choice(["implementer", "reviewer",
                                           "tester"]),
                 "estimate": rnd.choice([1, 2, 4, 8]),
                 "description": sentence(rnd, 20) + ".\n\n" +
                 ("TODO: " if i % 8 == 0 else "") + sentence(rnd, 10) + ".",
                 "deliverables": [sentence(rnd, 3), sentence(rnd, 4)]}
            if i and i % 3 == 0:
                t["dependencies"] = ["t%03d_%04d" % (g, i - 1)]
            if t["status"] == "completed":
                t["progress"] = 100
            elif t["status"] == "active":
                t["progress"] = rnd.choice([10, 50, 80])
            batch.append(t)
        ctl.run("task", "import", "-", stdin=json.dumps(batch))
    return sid


class Daemon:
    """A filesystem process in the foreground on a folder."""

    def __init__(self, cmd, mnt):
        self.mnt = mnt
        os.makedirs(mnt, exist_ok=True)
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.time() + 30
        while not is_mounted(mnt):
            if self.proc.poll() is not None or time.time() > deadline:
                raise SystemExit("could not mount %s: %s" % (mnt, cmd))
            time.sleep(0.01)

    def rss_kib(self):
        out = {}
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmRSS", "VmHWM"):
                    out[k] = int(v.split()[0])
        return out

    def stop(self):
        if is_mounted(self.mnt):
            subprocess.run(["fusermount3", "-u", self.mnt])
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()


def build_passthrough(work):
    if not os.path.exists(PASSTHROUGH_SRC):
        return None
    exe = os.path.join(work, "passthrough")
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "fuse3"],
                           capture_output=True, text=True).stdout.split()
    p = subprocess.run(["cc", "-O2", "-w", "-o", exe, PASSTHROUGH_SRC] +
                       flags, capture_output=True, text=True)
    return exe if p.returncode == 0 else None


def median(v):
    return statistics.median(v) if v else float("nan")


class Table:
    def __init__(self):
        self.rows = []  # (case, {side: [ms]})

    def add(self, case, side, ms):
        for c, d in self.rows:
            if c == case:
                d.setdefault(side, []).append(ms)
                return
        self.rows.append((case, {side: [ms]}))

    def medians(self):
        return [(c, {s: median(v) for s, v in d.items()})
                for c, d in self.rows]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[1])
    ap.add_argument("--build", default=os.path.join(REPO, "build-release"))
    ap.add_argument("--tasks", type=int, default=100000)
    ap.add_argument("--groups", type=int, default=100)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--latency", type=int, default=20,
                    help="commits timed per run for the change-visibility "
                    "latency (default 20)")
    ap.add_argument("--json", help="also write the figures here")
    ap.add_argument("--keep", action="store_true",
                    help="keep the work folder (databases, copies)")
    ap.add_argument("--million", action="store_true",
                    help="also a 1,000,000-task database (1,000 groups): "
                    "mount time, one file's read and save against the "
                    "1,000-task database, RSS after find of the tree")
    ap.add_argument("--million-only", action="store_true",
                    help="only the 1,000,000-task case")
    ap.add_argument("--million-size", type=int, default=1000000,
                    help="tasks of the --million database, 1,000 a group "
                    "(default 1,000,000)")
    a = ap.parse_args()
    if os.geteuid() != 0:
        say("note: not root: caches cannot be dropped; cold runs are "
            "cold for taskfs only")
    taskfs = os.path.join(a.build, "fs", "taskfs")
    work = tempfile.mkdtemp(prefix="taskfs-bench-", dir="/var/tmp")
    tmpfs = os.path.join(work, "tmpfs")
    os.makedirs(tmpfs)
    own_tmpfs = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4g",
                                "tmpfs", tmpfs],
                               capture_output=True).returncode == 0
    if not own_tmpfs:
        tmpfs = tempfile.mkdtemp(prefix="taskfs-bench-", dir="/dev/shm")
    daemons = []
    try:
        if a.million_only:
            extra = {}
            million(a, taskfs, work, daemons, extra)
            if a.json:
                with open(a.json, "w") as f:
                    json.dump(dict(extra, machine=machine()), f, indent=2)
        else:
            run(a, taskfs, work, tmpfs, daemons)
    finally:
        for d in daemons:
            d.stop()
        if own_tmpfs:
            subprocess.run(["umount", tmpfs])
        else:
            shutil.rmtree(tmpfs, ignore_errors=True)
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)


def mount_taskfs(taskfs, db, mnt, daemons):
    d = Daemon([taskfs, "-f", db, mnt], mnt)
    daemons.append(d)
    return d


def unmount(d, daemons):
    d.stop()
    daemons.remove(d)


def run(a, taskfs, work, tmpfs, daemons):
    big = os.path.join(work, "big.db")
    small = os.path.join(work, "small.db")
    per = a.tasks // a.groups
    t0 = time.time()
    say("building a %d-task database (%d groups)..." % (a.tasks, a.groups))
    sid = make_db(a.build, big, a.tasks, a.groups)
    say("building a %d-task database (1 group)..." % per)
    make_db(a.build, small, per, 1)
    say("databases built in %.0f s" % (time.time() - t0))
    ctl = Ctl(a.build, big)
    sctl = Ctl(a.build, small)

    mnt = os.path.join(work, "mnt")
    smnt = os.path.join(work, "smnt")
    fs = mount_taskfs(taskfs, big, mnt, daemons)
    sfs = mount_taskfs(taskfs, small, smnt, daemons)
    say("copying the rendered tree to tmpfs...")
    copy = os.path.join(tmpfs, sid)
    subprocess.run(["cp", "-r", os.path.join(mnt, sid), copy], check=True)
    passthrough = build_passthrough(work)
    pt_root = None
    if passthrough:
        pmnt = os.path.join(work, "pt")
        os.makedirs(pmnt)
        # It shows the whole root file system at its mount point.
        daemons.append(Daemon([passthrough, "-f", pmnt], pmnt))
        pt_root = pmnt + copy
    else:
        say("note: libfuse's passthrough example not found or not "
            "buildable: no FUSE floor column")

    roots = {"tmpfs": copy, "taskfs": os.path.join(mnt, sid)}
    if pt_root:
        roots["passthrough"] = pt_root
    group = "group-%03d" % (a.groups // 2)
    gfile = os.path.join("task_groups", group + ".md")
    gid = ctl.run("group", "show", group, "--session", sid, "--json")
    gid = json.loads(gid)["id"]
    tasks = json.loads(ctl.run("task", "list", "--group", gid, "--json"))
    pending = [t["id"] for t in tasks if t["status"] == "planned"]
    g0 = json.loads(ctl.run("group", "show", "group-000", "--session", sid,
                            "--json"))["id"]
    t0 = json.loads(ctl.run("task", "list", "--group", g0, "--json"))[0]
    other_task = os.path.join("tasks", t0["status"], t0["id"] + ".md")
    spending = [t["id"] for t in json.loads(
        sctl.run("task", "list", "--json")) if t["status"] == "planned"]
    sroot = os.path.join(smnt, "session_bench")
    sgfile = os.path.join("task_groups", "group-000.md")
    db = sqlite3.connect(big)
    sdb = sqlite3.connect(small)
    ldb = sqlite3.connect(big, isolation_level=None)

    tab = Table()
    lat = {}
    rnd = random.Random(1)
    for r in range(a.runs):
        say("run %d of %d" % (r + 1, a.runs))
        # cat of a 1,000-task file, warm: unchanged since the last read.
        for side, root in roots.items():
            p = os.path.join(root, gfile)
            timed(["cat", p])
            tab.add("cat group file, warm", side, timed(["cat", p]))
        # cold: right after a change to one of its tasks (on tmpfs and
        # the passthrough copy: right after the file was rewritten).
        for side, root in roots.items():
            p = os.path.join(root, gfile)
            tid = rnd.choice(pending)
            if side == "taskfs":
                ctl.run("task", "set", tid, "--title", "Cold %d" % r)
            else:
                with open(p, "r+") as f:
                    t = f.read()
                    f.seek(0)
                    f.write(t)
            tab.add("cat group file, cold", side, timed(["cat", p]))
        # sed -i ticking one checkbox: the database holds it when sed exits.
        for side, root in roots.items():
            p = os.path.join(root, gfile)
            tid = pending.pop()
            tab.add("sed -i tick one box", side, tick(p, tid))
            if side == "taskfs":
                st = db.execute("SELECT status FROM tasks WHERE id = ?",
                                (tid,)).fetchone()[0]
                if st != "completed":
                    raise SystemExit("sed -i on taskfs did not save: %s is "
                                     "%s" % (tid, st))
        # a taskctl change, then the cat that shows it.
        for side, root in roots.items():
            p = os.path.join(root, gfile)
            tid = rnd.choice(pending)
            t0 = time.perf_counter()
            ctl.run("task", "set", tid, "--progress", str(r + 1))
            subprocess.run(["cat", p], check=True, stdout=subprocess.DEVNULL)
            tab.add("taskctl change + cat", side,
                    (time.perf_counter() - t0) * 1000.0)
        # the same file in a 1,000-task database: cost follows the file,
        # not the database.
        p = os.path.join(sroot, sgfile)
        tid = spending.pop()
        sctl.run("task", "set", spending[0], "--title", "Cold %d" % r)
        tab.add("cat group file, cold", "taskfs 1k db", timed(["cat", p]))
        tab.add("sed -i tick one box", "taskfs 1k db", tick(p, tid))
        if sdb.execute("SELECT status FROM tasks WHERE id = ?",
                       (tid,)).fetchone()[0] != "completed":
            raise SystemExit("sed -i on the small mount did not save")
        # A commit by another program (plain sqlite3, taskctl), and the
        # time until stat, then cat, of the task's file shows it; nothing
        # else uses the mount meanwhile.
        for i in range(a.latency):
            tid = rnd.choice(pending)
            p = os.path.join(roots["taskfs"], "tasks", "planned", tid + ".md")
            for who in ("sqlite3", "taskctl"):
                for kind in ("stat", "cat"):
                    title = "%s %s %d %d %s" % (who, kind, r, i,
                                                "x" * rnd.randrange(1, 40))
                    ms = visible(ldb if who == "sqlite3" else ctl, p, tid,
                                 kind, title)
                    lat.setdefault("%s to %s" % (who, kind), []).append(ms)
        # Readers while 1,000-task files are saved in a loop: cat of a
        # small file, each timed.
        # A task file of another group (the saves do not change it), and
        # session.md (every save changes its counts: it renders again).
        busy = [pending.pop() for _ in range(10)]
        for case, small in (("cat task file during saves", other_task),
                            ("cat session.md during saves", "session.md")):
            for side, root in roots.items():
                for ms in read_during_saves(root, gfile, busy, small):
                    tab.add(case, side, ms)

    # The whole session: cold (fresh mount, caches dropped) then warm.
    walk = [("ls -R", ["ls", "-R"]),
            ("grep -r TODO", ["grep", "-r", "-c", "TODO"]),
            ("cat every file", ["sh", "-c",
                                "find . -type f -exec cat {} + >/dev/null"])]
    rss = {}
    for r in range(a.runs):
        say("session walk %d of %d" % (r + 1, a.runs))
        for name, cmd in walk:
            for side, root in roots.items():
                if side == "taskfs":
                    unmount(fs, daemons)
                    fs = mount_taskfs(taskfs, big, mnt, daemons)
                drop_caches()
                tab.add(name + ", cold", side, timed(cmd, cwd=root))
                tab.add(name + ", warm", side, timed(cmd, cwd=root))
        rss = fs.rss_kib()

    extra = {}
    if a.million:
        for d in (fs, sfs):
            unmount(d, daemons)
        million(a, taskfs, work, daemons, extra)
    report(a, tab, rss, lat, extra)


def read_during_saves(root, gfile, tids, small, n=300):
    """Milliseconds of each of n cats of the file small while another
    thread saves the 1,000-task file gfile over and over: the box of one
    of tids ticked, then unticked, each a rewrite of the file as it reads
    then."""
    import threading
    path = os.path.join(root, gfile)
    small = os.path.join(root, small)
    stop = threading.Event()
    saves = [0]

    def saver():
        boxes = ("- [ ] **Status**: planned", "- [x] **Status**: completed")
        i = 0
        while not stop.is_set():
            tid = tids[i % len(tids)]
            for old, new in (boxes, boxes[::-1]):
                with open(path) as f:
                    text = f.read()
                k = text.find("`%s`" % tid)
                j = text.find(old, k)
                if k < 0 or j < 0:
                    return
                with open(path, "w") as f:
                    f.write(text[:j] + new + text[j + len(old):])
                saves[0] += 1
            i += 1

    th = threading.Thread(target=saver)
    th.start()
    time.sleep(0.2)
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        with open(small, "rb") as f:
            f.read()
        out.append((time.perf_counter() - t0) * 1000.0)
        time.sleep(0.002)
    stop.set()
    th.join()
    if saves[0] < 2:
        raise SystemExit("no saves ran beside the readers on %s" % root)
    return out


def mount_time(taskfs, db, mnt):
    """Milliseconds for taskfs DB MNT (in the background) to return with
    the file system mounted and serving (a listing of the session
    directory through it)."""
    os.makedirs(mnt, exist_ok=True)
    t0 = time.perf_counter()
    subprocess.run([taskfs, db, mnt, "-o", "logfile=" + db + ".log"],
                   check=True)
    os.listdir(os.path.join(mnt, "session_bench"))
    ms = (time.perf_counter() - t0) * 1000.0
    pid = subprocess.run(["pgrep", "-f", "^%s %s %s" % (taskfs, db, mnt)],
                         capture_output=True, text=True).stdout.split()
    return ms, int(pid[0]) if pid else None


def bg_unmount(mnt, pid):
    subprocess.run(["fusermount3", "-u", mnt])
    for _ in range(600):
        if pid is None or not os.path.exists("/proc/%d" % pid):
            return
        time.sleep(0.05)


def million(a, taskfs, work, daemons, extra):
    """The 1,000,000-task database (1,000 groups) against a 1,000-task
    one: mount time, a cold read and a save of one group file, and the
    daemon's RSS after find of the whole tree."""
    big = os.path.join(work, "million.db")
    small = os.path.join(work, "k.db")
    t0 = time.time()
    n = a.million_size
    say("building a %d-task database (%d groups)..." % (n, n // 1000))
    make_db(a.build, big, n, n // 1000)
    make_db(a.build, small, 1000, 1)
    say("built in %.0f s" % (time.time() - t0))
    tab = Table()
    mnt = {big: os.path.join(work, "m1m"), small: os.path.join(work, "m1k")}
    ctls = {big: Ctl(a.build, big), small: Ctl(a.build, small)}
    name = {big: "1M-task db", small: "1k-task db"}
    group = {big: "group-%03d" % (a.million_size // 2000), small: "group-000"}
    rss = {}
    for r in range(a.runs):
        say("million run %d of %d" % (r + 1, a.runs))
        for db in (big, small):
            drop_caches()
            ms, pid = mount_time(taskfs, db, mnt[db])
            tab.add("mount (taskfs DB MNT returns)", name[db], ms)
            try:
                root = os.path.join(mnt[db], "session_bench")
                p = os.path.join(root, "task_groups", group[db] + ".md")
                gid = json.loads(ctls[db].run("group", "show", group[db],
                                              "--session", "session_bench",
                                              "--json"))["id"]
                tasks = json.loads(ctls[db].run("task", "list", "--group",
                                                gid, "--json"))
                pend = [t["id"] for t in tasks if t["status"] == "planned"]
                tab.add("stat session.md (a whole-session render)", name[db],
                        timed(["stat", os.path.join(root, "session.md")]))
                timed(["cat", p])
                ctls[db].run("task", "set", pend[0], "--title", "Cold %d" % r)
                tab.add("cat group file, cold", name[db], timed(["cat", p]))
                tab.add("cat group file, warm", name[db], timed(["cat", p]))
                tab.add("sed -i tick one box", name[db], tick(p, pend[-1]))
                if db == big and r == a.runs - 1:
                    tab.add("find of the whole tree", name[db],
                            timed(["find", root]))
                    if pid:
                        with open("/proc/%d/status" % pid) as f:
                            for line in f:
                                k, _, v = line.partition(":")
                                if k in ("VmRSS", "VmHWM"):
                                    rss[k] = int(v.split()[0])
            finally:
                bg_unmount(mnt[db], pid)
    extra["million"] = {"cases": dict(tab.medians()), "rss_kib": rss}
    print()
    print("%d tasks in %d groups against 1,000 tasks in 1 group, "
          "%d runs, medians (ms)" % (n, n // 1000, a.runs))
    for case, d in tab.medians():
        b, s_ = d.get("1M-task db"), d.get("1k-task db")
        print("%-32s%14s%14s%10s" % (
            case, "%.2f" % b if b is not None else "-",
            "%.2f" % s_ if s_ is not None else "-",
            "%.2fx" % (b / s_) if b and s_ else "-"))
    print("daemon RSS after find of the %d-task tree: %.1f MiB "
          "(peak %.1f MiB)" % (n, rss.get("VmRSS", 0) / 1024,
                               rss.get("VmHWM", 0) / 1024))


def visible(db, path, tid, kind, title):
    """Milliseconds from the commit of a new title of task tid (db is in
    autocommit mode) to stat (its size and time) or cat (its text) of
    path showing it. The file is read first, so that the kernel holds
    it."""
    def look():
        if kind == "stat":
            st = os.stat(path)
            return (st.st_size, st.st_mtime_ns)
        with open(path, "rb") as f:
            return f.read()
    before = look()
    if isinstance(db, Ctl):
        # taskctl has committed when it exits.
        old = json.loads(db.run("task", "show", tid, "--json"))["title"]
        if len(title) == len(old):
            title += "!"
        db.run("task", "set", tid, "--title", title)
    else:
        old = db.execute("SELECT title FROM tasks WHERE id = ?",
                         (tid,)).fetchall()[0][0]
        if len(title) == len(old):
            title += "!"
        db.execute("UPDATE tasks SET title = ? WHERE id = ?", (title, tid))
    t0 = time.perf_counter()
    want = title.encode()
    while True:
        now = look()
        ms = (time.perf_counter() - t0) * 1000.0
        if (now != before) if kind == "stat" else (want in now):
            return ms
        if ms > 10000:
            raise SystemExit("%s of %s did not show a commit within 10 s" %
                             (kind, path))
        time.sleep(0.0005)


def tick(path, tid):
    """sed -i ticks the checkbox of task tid's status line."""
    script = ("/`%s`$/,/Status/ s/^- \\[ \\] \\*\\*Status\\*\\*: planned/"
              "- [x] **Status**: completed/" % tid)
    return timed(["sed", "-i", script, path])


def percentile(v, q):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(q * (len(v) - 1))))] if v else 0.0


def report(a, tab, rss, lat, extra):
    rows = tab.medians()
    sides = ["tmpfs", "passthrough", "taskfs", "taskfs 1k db"]
    sides = [s for s in sides if any(s in d for _, d in rows)]
    out = {"tasks": a.tasks, "groups": a.groups, "runs": a.runs,
           "machine": machine(), "cases": {}, "rss_kib": rss}
    w = max(len(c) for c, _ in rows)
    head = "%-*s" % (w, "median ms") + "".join("%14s" % s for s in sides)
    head += "%14s%14s%14s" % ("taskfs/tmpfs", "taskfs/fuse", "fuse/tmpfs")
    print()
    print("taskfs benchmark: %d tasks in %d groups, %d runs, %s" %
          (a.tasks, a.groups, a.runs, out["machine"]))
    print(head)
    for case, d in rows:
        line = "%-*s" % (w, case)
        for s in sides:
            line += "%14s" % ("%.2f" % d[s] if s in d else "-")
        base, pt = d.get("tmpfs"), d.get("passthrough")
        for s, b in (("taskfs", base), ("taskfs", pt), ("passthrough", base)):
            line += "%14s" % ("%.2fx" % (d[s] / b) if b and s in d else "-")
        print(line)
        out["cases"][case] = d
    if "taskfs 1k db" in sides:
        for case, d in rows:
            if "taskfs 1k db" in d:
                print("%s: %d-task db / %d-task db = %.2fx" %
                      (case, a.tasks, a.tasks // a.groups,
                       d["taskfs"] / d["taskfs 1k db"]))
    out["latency_ms"] = {}
    for kind, v in lat.items():
        out["latency_ms"][kind] = {"median": median(v),
                                   "p99": percentile(v, 0.99), "n": len(v)}
        print("commit by %s through the mount showing it: "
              "median %.2f ms, p99 %.2f ms (%d commits)" %
              (kind, median(v), percentile(v, 0.99), len(v)))
    out["reader_p99_ms"] = {}
    for case, d in tab.rows:
        if case.endswith("during saves"):
            what = case[len("cat "):-len(" during saves")]
            out["reader_p99_ms"][what] = {s: percentile(v, 0.99)
                                          for s, v in d.items()}
            print("cat of %s while a 1,000-task file is saved in a loop: "
                  "p99 %s" % (what, ", ".join(
                      "%s %.2f ms" % (s, percentile(v, 0.99))
                      for s, v in d.items())))
    out.update(extra)
    print("daemon RSS after the walk: %.1f MiB (peak %.1f MiB)" %
          (rss.get("VmRSS", 0) / 1024, rss.get("VmHWM", 0) / 1024))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=2)


def machine():
    cpu = "unknown CPU"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return "%s, %d cores, Linux %s" % (cpu, os.cpu_count(), os.uname().release)


if __name__ == "__main__":
    main()
