# SPDX-License-Identifier: MIT
"""Hosts on one machine for the tests and benchmarks of several taskfs
daemons on one PostgreSQL server: network namespaces joined to this
machine by veth pairs (the traffic stays on this machine), and a cluster
of tests/pg-cluster.sh listening on this machine's end of every link.
Needs root."""
import os
import shutil
import subprocess
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
CLUSTER = os.path.join(REPO, "tests", "pg-cluster.sh")
HOSTS = 3
NET = "10.213.%d.%d"


def sh(*cmd, check=True):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if check and p.returncode != 0:
        raise AssertionError("%s exited %d: %s" % (" ".join(cmd),
                                                   p.returncode, p.stderr))
    return p


class Network:
    """count network namespaces, host n at 10.213.n.2 reaching this
    machine's end of its veth pair at 10.213.n.1."""

    def __init__(self, count=HOSTS):
        tag = os.getpid() % 100000
        self.count = count
        self.names = ["taskfs-h%d-%d" % (n, tag) for n in range(1, count + 1)]
        self.links = ["tfh%dv%d" % (n, tag) for n in range(1, count + 1)]
        self.made = []
        try:
            self.make()
        except BaseException:
            self.remove()
            raise

    def make(self):
        for n, (ns, link) in enumerate(zip(self.names, self.links), 1):
            sh("ip", "netns", "add", ns)
            self.made.append((ns, link))
            sh("ip", "link", "add", link, "type", "veth", "peer", "name",
               link + "p")
            sh("ip", "link", "set", link + "p", "netns", ns)
            sh("ip", "addr", "add", NET % (n, 1) + "/24", "dev", link)
            sh("ip", "link", "set", link, "up")
            for cmd in (["ip", "addr", "add", NET % (n, 2) + "/24", "dev",
                         link + "p"],
                        ["ip", "link", "set", link + "p", "up"],
                        ["ip", "link", "set", "lo", "up"]):
                sh("ip", "netns", "exec", ns, *cmd)

    def server_addresses(self):
        return ",".join(NET % (n, 1) for n in range(1, self.count + 1))

    def wrap(self, n):
        """The command prefix that runs a program on host n: in its
        network namespace, in this machine's mount namespace."""
        return ["nsenter", "--net=/run/netns/" + self.names[n - 1]]

    def link(self, n, up):
        sh("ip", "link", "set", self.links[n - 1], "up" if up else "down")

    def remove(self):
        for ns, link in self.made:
            sh("ip", "link", "del", link, check=False)
            sh("ip", "netns", "del", ns, check=False)


class Server:
    """A PostgreSQL cluster of this module's own, listening on its Unix
    socket and on this machine's end of every host's link."""

    def __init__(self, net):
        self.dir = tempfile.mkdtemp(prefix="taskfs-pg-hosts.")
        self.local = sh(CLUSTER, "start", self.dir,
                        net.server_addresses()).stdout.strip()
        with open(os.path.join(self.dir, "port")) as f:
            self.port = int(f.read())

    def uri(self, schema, host=None):
        """The URI of schema's database: on the socket, or over TCP from
        host n's side of its link."""
        opt = "options=-csearch_path%3D" + schema
        if host is None:
            return self.local + "&" + opt
        return "postgresql://taskfs:taskfs-secret@%s:%d/taskfs_test?%s" % (
            NET % (host, 1), self.port, opt)

    def admin(self, sql):
        """Runs sql as the postgres superuser; returns its output."""
        p = sh("runuser", "-u", "postgres", "--", "psql", "-X", "-q", "-A",
               "-t", "-v", "ON_ERROR_STOP=1", "-h", self.dir, "-p",
               str(self.port), "-d", "taskfs_test", "-c", sql)
        return p.stdout.strip()

    def restart(self):
        sh(CLUSTER, "restart", self.dir)

    def down(self):
        sh(CLUSTER, "stop", self.dir)

    def up(self):
        sh(CLUSTER, "resume", self.dir)

    def stop(self):
        sh(CLUSTER, "stop", self.dir, check=False)
        shutil.rmtree(self.dir, ignore_errors=True)
