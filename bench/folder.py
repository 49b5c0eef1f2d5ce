#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""
The folder checkout (taskctl checkout, sync, sync --watch), measured:

1. In watch mode, the time from an editor's save (close(2) of the file
   written in place, or rename(2) of a temporary file over it) to the
   database holding the edit: median and p99 over --saves saves of the
   demo's frontend group file, read from the database with a plain SQLite
   connection polled every 0.2 ms.
2. taskctl sync of a --tasks task tree (100,000 by default, built as
   bench.py builds it) with nothing changed and with one task file
   changed, and the checkout itself.

Usage: folder.py [--build DIR] [--saves N] [--tasks N] [--groups G]
                 [--runs R] [--db FILE] [--keep] [--json FILE]
"""

import argparse
import json
import os
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (make_db, the 100,000-task database)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def say(*a):
    print(*a, file=sys.stderr, flush=True)


def pct(v, p):
    s = sorted(v)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


def taskctl(build, db, *args, check=True):
    p = subprocess.run([os.path.join(build, "tools", "taskctl"), "-d", db] +
                       list(args), capture_output=True, text=True)
    if check and p.returncode:
        raise SystemExit("taskctl %s: %s%s" % (" ".join(args), p.stdout,
                                               p.stderr))
    return p


def timed(build, db, *args, check=True):
    t0 = time.perf_counter()
    p = taskctl(build, db, *args, check=check)
    return (time.perf_counter() - t0) * 1000.0, p


def watch_latency(build, work, saves):
    db = os.path.join(work, "demo.db")
    tree = os.path.join(work, "demo-tree")
    session = taskctl(build, db, "demo").stdout.split()[-1]
    taskctl(build, db, "checkout", tree)
    path = os.path.join(tree, session, "task_groups", "frontend.md")
    out = open(os.path.join(work, "watch.out"), "w")
    proc = subprocess.Popen([os.path.join(build, "tools", "taskctl"), "-d",
                             db, "sync", "--watch", tree], stdout=out,
                            stderr=subprocess.STDOUT)
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True,
                          isolation_level=None)
    task = "dashboard_layout_001"

    def title():
        return con.execute("SELECT title FROM tasks WHERE id = ?",
                           (task,)).fetchone()[0]

    time.sleep(1.0)
    lat = {"in place": [], "rename": []}
    try:
        for i in range(saves):
            text = open(path).read()
            cur = title()
            new = "Dashboard layout %d" % i
            text = text.replace("### %s `%s`" % (cur, task),
                                "### %s `%s`" % (new, task), 1)
            rev = re.search(r"(?m)^revision: (\d+)$", text).group(1)
            how = "in place" if i % 2 == 0 else "rename"
            if how == "in place":
                f = open(path, "w")
                f.write(text)
                f.close()
            else:
                tmp = path + ".tmp%d" % i
                with open(tmp, "w") as f:
                    f.write(text)
                os.rename(tmp, path)
            t0 = time.perf_counter()
            deadline = t0 + 10
            while title() != new:
                if time.perf_counter() > deadline:
                    raise SystemExit("save %d never reached the database" % i)
                time.sleep(0.0002)
            lat[how].append((time.perf_counter() - t0) * 1000.0)
            # Let the watcher write the file back before the next save.
            while "revision: %s\n" % rev in open(path).read():
                if time.perf_counter() > deadline:
                    raise SystemExit("file %d never written back" % i)
                time.sleep(0.001)
            # ... and record its state, as a person's next save would come.
            time.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        out.close()
        con.close()
    both = lat["in place"] + lat["rename"]
    res = {}
    for name, v in (("all", both), ("in place", lat["in place"]),
                    ("rename", lat["rename"])):
        res[name] = {"saves": len(v), "median_ms": statistics.median(v),
                     "p99_ms": pct(v, 99), "max_ms": max(v)}
    return res


def big_sync(build, work, tasks, groups, runs, dbfile):
    db = os.path.join(work, "big.db")
    if dbfile:
        say("copying", dbfile)
        shutil.copy(dbfile, db)
    else:
        say("building a %d-task database (takes a while)" % tasks)
        bench.make_db(build, db, tasks, groups)
    tree = os.path.join(work, "big-tree")
    ms, p = timed(build, db, "checkout", tree)
    say(p.stdout.strip())
    res = {"checkout_ms": ms}
    idle = []
    for _ in range(runs):
        ms, p = timed(build, db, "sync", tree)
        idle.append(ms)
    res["sync_nothing_changed_ms"] = statistics.median(idle)
    session = sorted(d for d in os.listdir(tree) if d != ".taskfs")[0]
    planned = os.path.join(tree, session, "tasks", "planned")
    names = sorted(os.listdir(planned))[:runs]
    one = []
    for i, name in enumerate(names):
        path = os.path.join(planned, name)
        text = open(path).read()
        text = re.sub(r"(?m)^# (.*) `", r"# Edited %d: \1 `" % i, text, 1)
        with open(path, "w") as f:
            f.write(text)
        ms, p = timed(build, db, "sync", tree)
        if "saved " not in p.stdout:
            raise SystemExit("the change was not saved: " + p.stdout)
        one.append(ms)
    res["sync_one_file_changed_ms"] = statistics.median(one)
    res["sync_one_file_changed_runs_ms"] = one
    res["files"] = sum(len(f) for d, _, f in os.walk(tree)
                       if ".taskfs" not in d.split(os.sep))
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(REPO, "build"))
    ap.add_argument("--saves", type=int, default=300)
    ap.add_argument("--tasks", type=int, default=100000)
    ap.add_argument("--groups", type=int, default=100)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--db", help="a big database to copy instead of building "
                    "one (as bench.py --keep leaves)")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--json")
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="taskfs-folder-bench-", dir="/var/tmp")
    try:
        say("watch: %d saves" % a.saves)
        lat = watch_latency(a.build, work, a.saves)
        for name, r in lat.items():
            print("save to database, watch, %-8s: median %.2f ms, p99 %.2f ms, "
                  "max %.2f ms (%d saves)" % (name, r["median_ms"],
                                              r["p99_ms"], r["max_ms"],
                                              r["saves"]))
        big = big_sync(a.build, work, a.tasks, a.groups, a.runs, a.db)
        print("%d-task tree (%d files): checkout %.0f ms; sync, nothing "
              "changed: median %.0f ms; sync, one task file changed: "
              "median %.0f ms (runs %s)" % (
                  a.tasks, big["files"], big["checkout_ms"],
                  big["sync_nothing_changed_ms"],
                  big["sync_one_file_changed_ms"],
                  ", ".join("%.0f" % x
                            for x in big["sync_one_file_changed_runs_ms"])))
        if a.json:
            with open(a.json, "w") as f:
                json.dump({"watch": lat, "big": big}, f, indent=2)
    finally:
        if a.keep:
            say("kept", work)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
