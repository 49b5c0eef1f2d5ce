#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Two builds of taskfs on one file, in the same minutes.

Mounts two taskfs binaries (A and B, say the tree before and after a
change) on the same 1,000-task database, and a tmpfs copy of the group
file, then times in turn, on every side, the cases of bench.py that one
file's rendering decides:

  - cold `cat` of the group file right after `taskctl task set` changed
    the title of one of its tasks (on tmpfs: right after the file was
    rewritten);
  - `sed -i` ticking one planned task's box (sed renames a temporary file
    over the group file; the save, then the next read's render);
  - the `cat` after that save.

Both mounts show the same database, so a change made through one is a
change by another program for the other; the order of the sides turns
each round. Prints medians and the ratios to tmpfs and to A.

    sudo bench/render_ab.py --a build-before --b build-release --runs 15
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--a", required=True, help="build folder of side A")
    ap.add_argument("--b", required=True, help="build folder of side B")
    ap.add_argument("--tasks", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=15)
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="taskfs-ab-", dir="/var/tmp")
    daemons = []
    try:
        run(a, work, daemons)
    finally:
        for d in daemons:
            d.stop()
        shutil.rmtree(work, ignore_errors=True)


def run(a, work, daemons):
    db = os.path.join(work, "ab.db")
    bench.say("building a %d-task database (1 group)..." % a.tasks)
    sid = bench.make_db(a.b, db, a.tasks, 1)
    ctl = bench.Ctl(a.b, db)
    roots = {}
    for side, build in (("A", a.a), ("B", a.b)):
        mnt = os.path.join(work, "mnt" + side)
        os.makedirs(mnt)
        daemons.append(bench.Daemon(
            [os.path.join(build, "fs", "taskfs"), "-f", db, mnt], mnt))
        roots[side] = os.path.join(mnt, sid)
    shm = tempfile.mkdtemp(prefix="taskfs-ab-", dir="/dev/shm")
    try:
        gfile = os.path.join("task_groups", "group-000.md")
        os.makedirs(os.path.join(shm, "task_groups"))
        shutil.copy(os.path.join(roots["A"], gfile), os.path.join(shm, gfile))
        roots["tmpfs"] = shm
        measure(a, ctl, roots, gfile)
    finally:
        shutil.rmtree(shm, ignore_errors=True)


def measure(a, ctl, roots, gfile):
    import json
    tasks = json.loads(ctl.run("task", "list", "--json"))
    pending = [t["id"] for t in tasks if t["status"] == "planned"]
    cases = ("cat group file, cold", "sed -i tick one box",
             "cat after the save")
    times = {c: {s: [] for s in roots} for c in cases}
    sides = list(roots)
    for r in range(a.runs):
        order = sides[r % len(sides):] + sides[:r % len(sides)]
        for side in order:
            p = os.path.join(roots[side], gfile)
            if side == "tmpfs":
                with open(p, "r+") as f:
                    t = f.read()
                    f.seek(0)
                    f.write(t)
            else:
                ctl.run("task", "set", pending[r], "--title", "Cold %d%s"
                        % (r, side))
            times[cases[0]][side].append(bench.timed(["cat", p]))
        for side in order:
            p = os.path.join(roots[side], gfile)
            tid = pending.pop()
            times[cases[1]][side].append(bench.tick(p, tid))
            times[cases[2]][side].append(bench.timed(["cat", p]))
    print("%-24s %9s %9s %9s %9s %9s" % ("median ms", "tmpfs", "A", "B",
                                        "B/tmpfs", "B/A"))
    for c in cases:
        m = {s: statistics.median(times[c][s]) for s in roots}
        print("%-24s %9.2f %9.2f %9.2f %8.2fx %8.2fx" % (
            c, m["tmpfs"], m["A"], m["B"], m["B"] / m["tmpfs"],
            m["B"] / m["A"]))


if __name__ == "__main__":
    if os.geteuid() != 0:
        sys.exit("render_ab.py mounts FUSE file systems: run it as root")
    t0 = time.time()
    main()
    bench.say("done in %.0f s" % (time.time() - t0))
