#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""
taskfs on PostgreSQL: the same files read and saved through a mount of an
SQLite file and through mounts of the same database copied to a
PostgreSQL server (`taskctl copy`): on this machine over the server's
Unix socket, and from three hosts, each a network namespace joined to the
server by a veth pair; how long a save on one host takes to be read on
another; saves per second with three hosts saving different files and
one file. Medians (and p99) in milliseconds.

Usage: postgresql.py [--build DIR] [--tasks N] [--runs R] [--seconds S]
                [--json F]
Needs root (network namespaces, FUSE) and a PostgreSQL server installed.
"""

import argparse
import json
import os
import random
import re
import shutil
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests",
                                "integration"))
sys.path.insert(0, HERE)

from bench import (Ctl, Daemon, make_db, median, percentile,  # noqa: E402
                   say, tick)
from hosts import Network, Server  # noqa: E402


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def retitle(text, tid, title):
    """text with task tid's heading showing title."""
    new, n = re.subn(r"^### .* `%s`$" % re.escape(tid),
                     "### %s `%s`" % (title, tid), text, count=1, flags=re.M)
    if n != 1:
        raise SystemExit("no block of %s" % tid)
    return new


def ms_since(t0):
    return (time.perf_counter() - t0) * 1000.0


def wait_for(path, want, limit_ms=10000):
    """Reads path until it holds want; the milliseconds it took."""
    t0 = time.perf_counter()
    while want not in read(path):
        if ms_since(t0) > limit_ms:
            raise SystemExit("%s did not show %r within %d ms" %
                             (path, want, limit_ms))
        time.sleep(0.0005)
    return ms_since(t0)


def latencies(ctl, path, tids, runs):
    """Warm cat, cat showing another program's change, and sed -i tick of
    one file of a mount, each runs times; tids: (id, status) of the
    file's task blocks."""
    read(path)
    warm, cold, ticks = [], [], []
    for i in range(runs):
        t0 = time.perf_counter()
        read(path)
        warm.append(ms_since(t0))
    for i in range(runs):
        title = "Changed elsewhere %d %d" % (i, random.randrange(10**6))
        ctl.run("task", "set", tids[i % len(tids)][0], "--title", title)
        # From the commit to the first read showing it: the watcher
        # hears of it, tells the kernel, and the file is rendered again.
        cold.append(wait_for(path, title))
    planned = [t for t in tids if "planned" in t[1]]
    for i in range(min(runs, len(planned))):
        ticks.append(tick(path, planned[i][0]))
    return {"warm_cat": median(warm), "cold_cat": median(cold),
            "sed_tick": median(ticks)}


def visibility(paths, tids, runs):
    """Milliseconds from a save on host 1 returning to host 2 reading it,
    and host 3."""
    seen = {2: [], 3: []}
    for n in (2, 3):
        read(paths[n])
    for i in range(runs):
        title = "Host one %d %d" % (i, random.randrange(10**6))
        write(paths[1], retitle(read(paths[1]), tids[i % len(tids)], title))
        t0 = time.perf_counter()
        done = {}

        def watch(n):
            wait_for(paths[n], title)
            done[n] = ms_since(t0)
        threads = [threading.Thread(target=watch, args=(n,)) for n in (2, 3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for n in (2, 3):
            seen[n].append(done[n])
    both = seen[2] + seen[3]
    return {"median": median(both), "p99": percentile(both, 0.99),
            "max": max(both)}


def saves_per_second(paths, tids, seconds):
    """Every host saves in a loop for seconds: paths[n] and tids[n] are
    host n's file and its tasks. Saves stored and failed per second."""
    stop = time.time() + seconds
    counts = {n: [0, 0] for n in paths}

    def host(n):
        rnd = random.Random(n)
        k = 0
        while time.time() < stop:
            k += 1
            text = read(paths[n])
            try:
                write(paths[n], retitle(text, rnd.choice(tids[n]),
                                        "H%d save %d" % (n, k)))
                counts[n][0] += 1
            except OSError:
                counts[n][1] += 1
    threads = [threading.Thread(target=host, args=(n,)) for n in paths]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    s = (time.perf_counter() - t0)
    return {"stored_per_s": sum(c[0] for c in counts.values()) / s,
            "failed": sum(c[1] for c in counts.values()),
            "per_host": {n: c[0] / s for n, c in counts.items()}}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(os.path.dirname(HERE),
                                                    "build-release"))
    ap.add_argument("--tasks", type=int, default=3000)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--json")
    a = ap.parse_args()
    taskfs = os.path.join(a.build, "fs", "taskfs")
    work = tempfile.mkdtemp(prefix="taskfs-bench-hosts.", dir="/var/tmp")
    daemons, net, server = [], None, None
    try:
        say("making a database of %d tasks in 3 groups" % a.tasks)
        db = os.path.join(work, "tasks.db")
        sid = make_db(a.build, db, a.tasks, 3)
        net = Network(3)
        server = Server(net)
        server.admin("CREATE SCHEMA bench AUTHORIZATION taskfs")
        Ctl(a.build, db).run("copy", "--to", server.uri("bench"))
        ctls = {"sqlite": Ctl(a.build, db),
                "pg": Ctl(a.build, server.uri("bench"))}

        def mount(name, target, wrap=()):
            mnt = os.path.join(work, name)
            d = Daemon(list(wrap) + [taskfs, "-f", target, mnt], mnt)
            daemons.append(d)
            return mnt
        mnts = {"sqlite": mount("sqlite", db),
                "pg socket": mount("pg", server.uri("bench"))}
        for n in (1, 2, 3):
            mnts["pg host %d" % n] = mount("h%d" % n, server.uri("bench", n),
                                           net.wrap(n))
        groups = ["group-%03d" % g for g in range(3)]
        out = {"tasks": a.tasks, "runs": a.runs}

        def file_of(mnt, g):
            return os.path.join(mnt, sid, "task_groups", g + ".md")

        def tasks_of(g):
            text = read(file_of(mnts["sqlite"], g))
            blocks = re.findall(r"^### .* `([^`]+)`$\n(?:.*\n){0,3}?"
                                r"- \[.\] \*\*Status\*\*: (\w+)", text, re.M)
            return blocks
        tasks = {g: tasks_of(g) for g in groups}
        say("latencies of one %d-task file" % (a.tasks // 3))
        out["latency"] = {}
        for name, ctl in (("sqlite", ctls["sqlite"]),
                          ("pg socket", ctls["pg"]),
                          ("pg host 1", ctls["pg"])):
            g = groups[len(out["latency"])]
            out["latency"][name] = latencies(ctl, file_of(mnts[name], g),
                                             tasks[g], a.runs)
        say("visibility across hosts")
        paths = {n: file_of(mnts["pg host %d" % n], groups[0])
                 for n in (1, 2, 3)}
        ids = [t[0] for t in tasks[groups[0]]]
        out["visibility"] = visibility(paths, ids, a.runs)
        say("saves per second, different files")
        out["saves_different"] = saves_per_second(
            {n: file_of(mnts["pg host %d" % n], groups[n - 1])
             for n in (1, 2, 3)},
            {n: [t[0] for t in tasks[groups[n - 1]]] for n in (1, 2, 3)},
            a.seconds)
        say("saves per second, one file")
        out["saves_same"] = saves_per_second(
            paths, {n: ids for n in (1, 2, 3)}, a.seconds)
        report(out)
        if a.json:
            with open(a.json, "w") as f:
                json.dump(out, f, indent=2)
    finally:
        for d in daemons:
            d.stop()
        if server:
            server.stop()
        if net:
            net.remove()
        shutil.rmtree(work, ignore_errors=True)


def report(out):
    print("| one %d-task file, median ms | warm `cat` | taskctl's change "
          "read | `sed -i` tick |" % (out["tasks"] // 3))
    print("|---|--:|--:|--:|")
    base = out["latency"]["sqlite"]
    for name, v in out["latency"].items():
        print("| %s | %.2f (%.2fx) | %.2f (%.2fx) | %.2f (%.2fx) |" % (
            name, v["warm_cat"], v["warm_cat"] / base["warm_cat"],
            v["cold_cat"], v["cold_cat"] / base["cold_cat"],
            v["sed_tick"], v["sed_tick"] / base["sed_tick"]))
    v = out["visibility"]
    print("\nA save on host 1 read on hosts 2 and 3 (%d saves): median "
          "%.1f ms, p99 %.1f ms, max %.1f ms" % (out["runs"], v["median"],
                                                 v["p99"], v["max"]))
    for key, what in (("saves_different", "each host its own file"),
                      ("saves_same", "all three hosts one file")):
        v = out[key]
        print("Saves per second, %s: %.1f stored (%s), %d failed" % (
            what, v["stored_per_s"], ", ".join(
                "host %s %.1f" % (n, s) for n, s in v["per_host"].items()),
            v["failed"]))


if __name__ == "__main__":
    main()
