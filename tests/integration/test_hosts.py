# SPDX-License-Identifier: MIT
"""Several hosts on one PostgreSQL database. Three taskfs daemons, each in
a network namespace of its own joined to the server by a veth pair (the
traffic stays on this machine), mount one database: an edit saved on one
host is seen on the others; the same file saved on two hosts at once
merges as on one host; saves go on while the server restarts, connections
are killed and a host's link goes down, and afterwards every value a save
reported stored is in the database, every text a save could not store is
kept beside its file, and the server's indexes pass amcheck.

Needs root (network namespaces, veth pairs) and a PostgreSQL server
installed (tests/pg-cluster.sh starts a cluster of this module's own that
listens on the hosts' links)."""
import errno
import glob
import os
import random
import re
import shutil
import subprocess
import threading
import time
import uuid

import pytest

from conftest import Taskctl, eventually, read, write
from hosts import HOSTS, NET, Network, Server
from test_conflicts import block_of, edit_block



def why_not():
    """Why this machine cannot run these tests, or None."""
    if os.geteuid() != 0:
        return "needs root for network namespaces"
    for tool in ("ip", "nsenter", "psql", "runuser"):
        if not shutil.which(tool):
            return tool + " is not installed"
    if not glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        return "no PostgreSQL server installed"
    return None


pytestmark = pytest.mark.skipif(why_not() is not None,
                                reason=str(why_not()))


@pytest.fixture(scope="module")
def net():
    n = Network()
    try:
        yield n
    finally:
        n.remove()


@pytest.fixture(scope="module")
def server(net):
    s = Server(net)
    try:
        s.admin("CREATE EXTENSION IF NOT EXISTS amcheck")
        yield s
    finally:
        s.stop()


def amcheck(server, schema):
    """What amcheck finds wrong in schema: every B-tree index checked
    against its parent pages and its table (bt_index_parent_check with
    heapallindexed), every table's heap (verify_heapam)."""
    indexes = ("SELECT c.oid FROM pg_index i JOIN pg_class c ON "
               "c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam JOIN "
               "pg_namespace n ON n.oid = c.relnamespace WHERE "
               "a.amname = 'btree' AND n.nspname = '%s'" % schema)
    assert int(server.admin("SELECT count(*) FROM (%s) x" % indexes)) > 5
    problems = []
    try:
        server.admin("DO $$ DECLARE r record; BEGIN FOR r IN %s LOOP "
                     "PERFORM bt_index_parent_check(r.oid, true); END LOOP; "
                     "END $$" % indexes)
    except AssertionError as e:
        problems.append(str(e))
    heap = server.admin(
        "SELECT c.relname || ': ' || v.msg FROM pg_class c JOIN "
        "pg_namespace n ON n.oid = c.relnamespace, LATERAL verify_heapam("
        "c.oid) v WHERE c.relkind = 'r' AND n.nspname = '%s'" % schema)
    return problems + [p for p in heap.splitlines() if p]


@pytest.fixture
def team(server, net, mount_factory):
    """The demo database in a fresh schema, mounted on every host over its
    link; returns (server, schema, taskctl on the socket, session, mounts
    by host number 1..HOSTS)."""
    schema = "hosts_" + uuid.uuid4().hex[:10]
    server.admin("CREATE SCHEMA %s AUTHORIZATION taskfs" % schema)
    ctl = Taskctl(server.uri(schema))
    session = ctl.run("demo").stdout.strip().splitlines()[-1]
    mounts = {n: mount_factory(server.uri(schema, n), name="h%d" % n,
                               wrap=net.wrap(n))
              for n in range(1, HOSTS + 1)}
    yield server, schema, ctl, session, mounts
    for m in mounts.values():
        m.unmount()
    problems = amcheck(server, schema)
    server.admin("DROP SCHEMA %s CASCADE" % schema)
    assert not problems, problems


def group_tasks(ctl, session, name):
    g = [g for g in ctl.groups(session) if g["name"] == name][0]
    return ctl.json("task", "list", "--group", g["id"])


def progress_of(text, task_id):
    return int(re.search(r"- \*\*Progress\*\*: (\d+)%",
                         block_of(text, task_id)).group(1))


def test_hosts_run_in_their_own_networks(team, net):
    """Each daemon reaches the server from its own namespace: the server
    sees one connection from each host's address."""
    server, schema, ctl, session, mounts = team
    for m in mounts.values():
        assert os.listdir(m.path(session, "task_groups"))
    peers = server.admin("SELECT DISTINCT client_addr FROM pg_stat_activity "
                         "WHERE application_name = 'taskfs' AND "
                         "client_addr IS NOT NULL").split()
    assert sorted(peers) == [NET % (n, 2) for n in range(1, HOSTS + 1)]
    for n in range(1, HOSTS + 1):
        # Host n reaches no other host's address of this machine's links.
        p = subprocess.run(net.wrap(n) + ["ip", "-o", "addr"],
                           capture_output=True, text=True, check=True)
        assert NET % (n, 2) in p.stdout
        assert not any(NET % (k, 2) in p.stdout
                       for k in range(1, HOSTS + 1) if k != n)


def test_edit_seen_on_every_host(team):
    """A save on one host is read on the others without anybody there
    doing anything but reading: their kernels were told to forget."""
    server, schema, ctl, session, mounts = team
    tasks = group_tasks(ctl, session, "frontend")
    t = tasks[0]
    paths = {n: m.path(session, "task_groups", "frontend.md")
             for n, m in mounts.items()}
    texts = {n: read(p) for n, p in paths.items()}  # cached everywhere
    old = progress_of(texts[1], t["id"])
    new = 13 if old != 13 else 14
    body = texts[1].split("\n---\n", 1)[1]
    write(paths[1], edit_block(body, t["id"], "- **Progress**: %d%%" % old,
                               "- **Progress**: %d%%" % new))
    assert ctl.task(t["id"])["progress"] == new
    for n in (2, 3):
        eventually(lambda: progress_of(read(paths[n]), t["id"]) == new,
                   "host %d reading the edit of host 1" % n)
        assert os.stat(paths[n]).st_size == len(read(paths[n]).encode())
    # A task's own file, and the change made by psql on the server.
    ctl.run("task", "set", t["id"], "--title", "Renamed on the server")
    for n in (1, 2, 3):
        eventually(lambda: "Renamed on the server" in
                   read(paths[n]), "host %d reading taskctl's change" % n)


def test_same_file_saved_on_two_hosts_at_once(team):
    """Two hosts save the same group file at the same moment, each from
    the text it read: different tasks merge; the same field ends with one
    value and the other kept (a backup or a conflict), as on one host."""
    server, schema, ctl, session, mounts = team
    tasks = group_tasks(ctl, session, "backend")
    a, b, c = tasks[0], tasks[1], tasks[2]
    paths = {n: mounts[n].path(session, "task_groups", "backend.md")
             for n in (1, 2)}
    texts = {n: read(paths[n]).split("\n---\n", 1)[1] for n in (1, 2)}

    def edited(n):
        mine = a if n == 1 else b
        text = edit_block(texts[n], mine["id"],
                          "- **Progress**: %d%%" % mine["progress"],
                          "- **Progress**: %d%%" % (40 + n))
        title = block_of(text, c["id"]).split("\n", 1)[0]
        return text.replace(title, "### Host %d title `%s`" % (n, c["id"]))

    new = {n: edited(n) for n in (1, 2)}
    go = threading.Barrier(2)
    errors = []

    def save(n):
        go.wait()
        try:
            write(paths[n], new[n])
        except OSError as e:
            errors.append((n, e))

    threads = [threading.Thread(target=save, args=(n,)) for n in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert ctl.task(a["id"])["progress"] == 41
    assert ctl.task(b["id"])["progress"] == 42
    title = ctl.task(c["id"])["title"]
    assert title in ("Host 1 title", "Host 2 title")
    other = "Host 2 title" if title == "Host 1 title" else "Host 1 title"
    kept = server.admin(
        "SELECT count(*) FROM %s.backups WHERE convert_from(text, 'UTF8') "
        "LIKE '%%%s%%'" % (schema, other))
    open_ = server.admin(
        "SELECT count(*) FROM %s.conflicts WHERE file_value = '%s' OR "
        "db_value = '%s'" % (schema, other, other))
    assert int(kept) + int(open_) > 0, "%s was lost" % other
    for n in (1, 2, 3):
        path = mounts[n].path(session, "task_groups", "backend.md")
        eventually(lambda: progress_of(read(path), a["id"]) == 41 and
                   progress_of(read(path), b["id"]) == 42,
                   "host %d reading both saves" % n)


def written_values(server, schema):
    """Every (task, title) the database holds: now, in its history, in
    backups and in conflicts."""
    out = server.admin(
        "SELECT rec || E'\\t' || new_value FROM {s}.history WHERE "
        "tbl = 'task' AND field = 'title' AND new_value IS NOT NULL "
        "UNION SELECT id || E'\\t' || title FROM {s}.tasks "
        "UNION SELECT record || E'\\t' || convert_from(text, 'UTF8') FROM "
        "{s}.backups WHERE field = 'title' "
        "UNION SELECT target_id || E'\\t' || file_value FROM {s}.conflicts "
        "WHERE file_value IS NOT NULL".format(s=schema))
    return {tuple(line.split("\t", 1)) for line in out.splitlines()}


def unsaved_texts(mounts, session):
    """The texts kept beside files whose save could not be stored."""
    texts = []
    for m in mounts.values():
        for root, dirs, names in os.walk(m.path(session)):
            texts += [read(os.path.join(root, f)) for f in names
                      if ".unsaved-" in f]
    return texts


def test_saves_through_restarts_kills_and_a_link_down(team, net):
    """Every host saves its own group file in a loop, and two of them the
    same one now and then, while the server restarts, every connection of
    taskfs is killed and host 3's link is down for a while. A save either
    stores its text or fails with an error and keeps its text beside the
    file; the daemons connect again by themselves; nothing is lost."""
    server, schema, ctl, session, mounts = team
    names = {1: "frontend", 2: "backend", 3: "testing"}
    groups = {n: group_tasks(ctl, session, names[n]) for n in names}
    stored, failed = [], []  # (host, task, title), and the error of failed
    lock = threading.Lock()
    stop = threading.Event()

    def host(n):
        rnd = random.Random(n)
        k = 0
        while not stop.is_set():
            k += 1
            name = names[n] if k % 4 or n == 3 else names[3 - n]
            path = mounts[n].path(session, "task_groups", name + ".md")
            try:
                text = read(path)
            except OSError:
                time.sleep(0.05)
                continue
            tid = rnd.choice([t["id"] for t in groups[
                [h for h in names if names[h] == name][0]]])
            value = "H%d-%d" % (n, k)
            try:
                b = block_of(text, tid)
            except AttributeError:
                continue
            head = b.split("\n", 1)[0]
            new = text.replace(head, "### %s `%s`" % (value, tid), 1)
            try:
                f = open(path, "w", encoding="utf-8")
            except OSError:
                continue  # not opened: the editor still holds the text
            try:
                with f:
                    f.write(new)
            except OSError as e:
                with lock:
                    failed.append((n, tid, value, e.strerror))
            else:
                with lock:
                    stored.append((n, tid, value))
            time.sleep(rnd.random() * 0.05)

    threads = [threading.Thread(target=host, args=(n,)) for n in names]
    for t in threads:
        t.start()
    try:
        time.sleep(1.5)
        server.restart()
        time.sleep(1.5)
        server.admin("SELECT pg_terminate_backend(pid) FROM "
                     "pg_stat_activity WHERE application_name = 'taskfs'")
        time.sleep(1.5)
        net.link(3, False)
        time.sleep(3)
        net.link(3, True)
        time.sleep(1.5)
    finally:
        net.link(3, True)
        stop.set()
        for t in threads:
            t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a save never returned"
    assert len(stored) > 30, (len(stored), len(failed))
    for n in names:
        assert any(w[0] == n for w in stored), "host %d saved nothing" % n

    # Every host saves again once the faults are over.
    for n in names:
        path = mounts[n].path(session, "task_groups", names[n] + ".md")
        tid = groups[n][0]["id"]

        def saved_again():
            text = read(path)
            head = block_of(text, tid).split("\n", 1)[0]
            try:
                write(path, text.replace(head, "### After %d `%s`" % (n, tid)))
            except OSError:
                return False
            return ctl.task(tid)["title"] == "After %d" % n
        eventually(saved_again, "host %d saving after the faults" % n,
                   timeout=30)

    values = written_values(server, schema)
    lost = [w for w in stored if (w[1], w[2]) not in values]
    assert not lost, "stored but not in the database: %s" % lost[:10]
    kept = unsaved_texts(mounts, session)
    gone = [w for w in failed if (w[1], w[2]) not in values and
            not any("### %s `%s`" % (w[2], w[1]) in t for t in kept)]
    assert not gone, "failed and not kept: %s\n%s" % (gone[:10], "\n".join(
        "host %d: %s" % (n, line) for n in sorted(mounts)
        for line in mounts[n].log().splitlines()
        if "failed" in line or "could not be applied" in line))


def test_server_down(team):
    """With the server stopped, what a host has read stays readable; a
    save, a removal and a rename fail with EIO, and the text of the save
    is kept beside the file; once the server is back the daemon connects
    by itself, the next save is stored, and the failed one is in
    meta/sync_status.md and taskctl stats."""
    server, schema, ctl, session, mounts = team
    m = mounts[1]
    t = group_tasks(ctl, session, "frontend")[0]
    path = m.path(session, "task_groups", "frontend.md")
    text = read(path)
    head = block_of(text, t["id"]).split("\n", 1)[0]
    server.down()
    try:
        assert read(path) == text
        assert os.stat(path).st_size == len(text.encode())
        with pytest.raises(OSError) as e:
            write(path, text.replace(head, "### While down `%s`" % t["id"]))
        assert e.value.errno == errno.EIO
        assert "failed" in m.log() and "the text is kept in" in m.log()
        # A name the store cannot tell about is not taken for an ordinary
        # file: removing or renaming it fails with the store's error.
        for change in (lambda: os.unlink(path),
                       lambda: os.rename(path, path + "~")):
            with pytest.raises(OSError) as e:
                change()
            assert e.value.errno == errno.EIO
    finally:
        server.up()
    kept = [f for f in os.listdir(os.path.dirname(path))
            if f.startswith("frontend.md.unsaved-")]
    assert len(kept) == 1, os.listdir(os.path.dirname(path))
    assert "### While down `%s`" % t["id"] in read(
        os.path.join(os.path.dirname(path), kept[0]))

    def saved():
        try:
            write(path, read(path).replace(
                block_of(read(path), t["id"]).split("\n", 1)[0],
                "### Back up `%s`" % t["id"]))
        except OSError:
            return False
        return ctl.task(t["id"])["title"] == "Back up"
    eventually(saved, "a save once the server is back", timeout=30)
    status = read(m.path(session, "meta", "sync_status.md"))
    errors = status.split("Last Errors", 1)[1]
    assert "frontend.md" in errors, status
    stats = ctl.json("stats", "--session", session)
    assert stats["errors"] >= 1 and stats["success_rate"] < 1.0, stats
    assert any("frontend.md" in str(e) for e in stats["last_errors"]), stats
