# SPDX-License-Identifier: MIT
"""taskctl mcp, the MCP server on the database: the official SDK's client
drives it (node/mcp.test.mjs, one pytest test per node test), the public
conformance suite checks it where its scenarios apply, and an agent and a
person work on the same session, through MCP and through a real mount
with vim, until their updates of one field meet in a conflict that the
agent resolves (and then undoes from its backup)."""
import json
import os
import queue
import re
import select
import subprocess
import threading
import time

import pytest

from conftest import REPO, TASKCTL, read, write

NODE_DIR = os.path.join(REPO, "tests", "integration", "node")
NODE_TEST = os.path.join(NODE_DIR, "mcp.test.mjs")
CONFORMANCE = os.path.join(NODE_DIR, "node_modules", ".bin", "conformance")


def need_sdk():
    if not os.path.isdir(os.path.join(NODE_DIR, "node_modules",
                                      "@modelcontextprotocol", "sdk")):
        pytest.fail("the MCP SDK is not installed: run 'npm ci' in "
                    "tests/integration/node")


def node_tests():
    """The names of the tests of mcp.test.mjs, in order."""
    with open(NODE_TEST) as f:
        return re.findall(r"^test\('([^']+)'", f.read(), re.M)


# ---- the SDK's client (node) ----

@pytest.mark.parametrize("name", node_tests())
def test_sdk_client(name, demo, mount_factory):
    need_sdk()
    ctl, session = demo
    env = dict(os.environ, TASKCTL=os.path.abspath(TASKCTL), MCP_DB=ctl.db,
               MCP_SESSION=session)
    if "through the mount" in name:
        env["MCP_MNT"] = mount_factory(ctl.db).mnt
    p = subprocess.run(
        ["node", "--test", "--test-reporter=tap",
         "--test-name-pattern=^%s$" % re.escape(name), NODE_TEST],
        cwd=NODE_DIR, env=env, capture_output=True, text=True, timeout=120)
    out = p.stdout + p.stderr
    assert p.returncode == 0, out
    # Exactly this test ran, and passed: a pattern that matched nothing
    # would pass too.
    assert re.search(r"^# pass 1$", p.stdout, re.M), out
    assert re.search(r"^# fail 0$", p.stdout, re.M), out


def test_node_tests_are_found():
    names = node_tests()
    assert len(names) >= 10, names
    assert len(set(names)) == len(names), "two node tests share a name"


# ---- the conformance suite ----

@pytest.fixture
def bridge(demo):
    """taskctl mcp behind Streamable HTTP on 127.0.0.1, as the conformance
    suite needs; returns its URL."""
    need_sdk()
    ctl, _ = demo
    p = subprocess.Popen(
        ["node", os.path.join(NODE_DIR, "mcp-http-bridge.mjs"),
         os.path.abspath(TASKCTL), ctl.db],
        cwd=NODE_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    try:
        ready, _, _ = select.select([p.stdout], [], [], 30)
        assert ready, "the bridge did not start"
        url = json.loads(p.stdout.readline())["url"]
        yield url
    finally:
        p.terminate()
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def conformance(url, scenario, workdir):
    return subprocess.run(
        [CONFORMANCE, "server", "--url", url, "--scenario", scenario,
         "--output-dir", os.path.join(workdir, "conformance")],
        cwd=workdir, capture_output=True, text=True, timeout=120)


# The scenarios of the suite that test what a server of its own tools and
# resources must do. The others test the suite's reference server's own
# tools, prompts and resources (test_simple_text, test://static-text,
# ...), completions (not offered), elicitation and sampling (never asked
# of a client), or the HTTP transport itself (SSE streams, DNS
# rebinding), which is the bridge's, not taskctl's.
APPLICABLE = ["server-initialize", "ping", "logging-set-level", "tools-list",
              "resources-list"]


@pytest.mark.parametrize("scenario", APPLICABLE)
def test_conformance(scenario, bridge, workdir):
    p = conformance(bridge, scenario, workdir)
    out = p.stdout + p.stderr
    assert p.returncode == 0, out
    m = re.search(r"Passed: (\d+)/(\d+), (\d+) failed", out)
    assert m and m.group(1) == m.group(2) and m.group(3) == "0", out


@pytest.mark.parametrize("scenario", ["resources-subscribe",
                                      "resources-unsubscribe"])
def test_conformance_foreign_uri_refused(scenario, bridge, workdir):
    """These subscribe to the reference server's test://watched-resource:
    taskctl refuses URIs that are not of its tree, and says so."""
    p = conformance(bridge, scenario, workdir)
    out = p.stdout + p.stderr
    assert "-32602" in out and "taskfs:/// URI" in out, out


# ---- an agent and a person ----

class Mcp:
    """A line-by-line MCP client of taskctl mcp, enough for a test. A
    thread reads its output: select() on a buffered pipe would miss lines
    already read into the buffer."""

    def __init__(self, db, name):
        self.p = subprocess.Popen([TASKCTL, "-d", db, "mcp"],
                                  stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.next_id = 0
        self.notes = []
        r = self.request("initialize", {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": name, "version": "1.0"}})
        assert r["result"]["protocolVersion"] == "2025-06-18"
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})

    def _read(self):
        for line in self.p.stdout:
            self.lines.put(json.loads(line))
        self.lines.put(None)

    def send(self, msg):
        self.p.stdin.write(json.dumps(msg) + "\n")
        self.p.stdin.flush()

    def receive(self, timeout):
        try:
            m = self.lines.get(timeout=max(timeout, 0))
        except queue.Empty:
            return None
        assert m is not None, "taskctl mcp ended"
        return m

    def request(self, method, params=None):
        self.next_id += 1
        msg = {"jsonrpc": "2.0", "id": self.next_id, "method": method}
        if params is not None:
            msg["params"] = params
        self.send(msg)
        deadline = time.time() + 30
        while time.time() < deadline:
            m = self.receive(deadline - time.time())
            if m is None:
                break
            if m.get("id") == self.next_id:
                return m
            self.notes.append(m)
        raise AssertionError("no answer to " + method)

    def tool(self, name, **args):
        r = self.request("tools/call", {"name": name, "arguments": args})
        result = r["result"]
        assert not result.get("isError"), result["content"][0]["text"]
        return result["structuredContent"]

    def read(self, uri):
        r = self.request("resources/read", {"uri": uri})
        return r["result"]["contents"][0]["text"]

    def wait_updated(self, uri, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for i, m in enumerate(self.notes):
                if m.get("method") == "notifications/resources/updated" and \
                        m["params"]["uri"] == uri:
                    del self.notes[i]
                    return
            m = self.receive(0.1)
            if m is not None:
                self.notes.append(m)
        raise AssertionError("no update of %s: %r" % (uri, self.notes))

    def close(self):
        self.p.stdin.close()
        assert self.p.wait(timeout=10) == 0


def block_of(text, task_id):
    m = re.search(r"^### .* `%s`$" % re.escape(task_id), text, re.M)
    start = m.start()
    ends = [i + 1 for i in (text.find("\n### ", start + 1),
                            text.find("\n## ", start + 1)) if i >= 0]
    return text[start:min(ends, default=len(text))]


def vim(path, *commands):
    """vim edits path as a person would, and saves: ':wq'."""
    cmd = ["vim", "-N", "-u", "NONE", "-i", "NONE", "-es"]
    for c in commands:
        cmd += ["-c", c]
    subprocess.run(cmd + ["-c", "wq", path], check=True,
                   capture_output=True, timeout=30)


def test_agent_and_person(demo, mount_factory, workdir):
    ctl, session = demo
    m = mount_factory(ctl.db)
    agent = Mcp(ctl.db, "planner")
    group_uri = "taskfs:///%s/task_groups/backend.md" % session
    group_file = m.path(session, "task_groups", "backend.md")

    # The agent plans: three tasks, in one call.
    plan = agent.tool("task_add_many", tasks=[
        {"session": session, "group": "backend", "id": "audit_schema",
         "title": "Design the audit log table", "estimate": 2},
        {"session": session, "group": "backend", "id": "audit_writer",
         "title": "Write audit log entries", "dependencies": ["audit_schema"]},
        {"session": session, "group": "backend", "id": "audit_api",
         "title": "Serve the audit log", "priority": "low"},
    ])
    assert [t["id"] for t in plan["tasks"]] == [
        "audit_schema", "audit_writer", "audit_api"]
    agent.request("resources/subscribe", {"uri": group_uri})
    # The person sees the plan in the mount.
    text = read(group_file)
    assert "### Design the audit log table `audit_schema`" in text
    assert text == agent.read(group_uri)

    # The person records progress with vim; the agent hears of it and
    # reads it.
    vim(group_file,
        r"/^### .* `audit_schema`$/;/Progress/s/\*\*Progress\*\*: 0%/"
        r"**Progress**: 50%/")
    agent.wait_updated(group_uri)
    assert agent.tool("task_show", id="audit_schema")["task"]["progress"] == 50
    assert "- **Progress**: 50%" in block_of(agent.read(group_uri),
                                             "audit_schema")
    edits = agent.tool("edit_log", session=session)["changes"]
    assert any(e["record"] == "audit_schema" and e["field"] == "progress" and
               e["source"] == "taskfs" for e in edits), edits

    # Both change the priority of one task: the person from the text read
    # before the agent's change.
    old = read(group_file)
    agent.tool("task_set", id="audit_schema", priority="critical")
    b = block_of(old, "audit_schema")
    assert "- **Priority**: medium" in b, b
    mine = old.replace(b, b.replace("- **Priority**: medium",
                                    "- **Priority**: low"), 1)
    src = os.path.join(workdir, "person.md")
    write(src, mine)
    vim(group_file, "%d", "0r " + src, "$d")

    conflict_file = m.path(session, "task_groups", "backend.conflict.md")
    assert os.path.exists(conflict_file)
    shown = read(conflict_file)
    assert "critical" in shown and "low" in shown, shown
    conflicts = agent.tool("conflict_list", session=session)["conflicts"]
    mine = [c for c in conflicts if c["target"] == "audit_schema"]
    assert len(mine) == 1, conflicts
    c = mine[0]
    assert c["field"] == "priority"
    assert c["database"] == "critical" and c["file"] == "low", c
    assert c["database_source"] == "mcp:planner", c
    # Until it is resolved the database keeps the agent's value.
    assert agent.tool("task_show", id="audit_schema")["task"]["priority"] == \
        "critical"

    # The agent resolves it the person's way.
    r = agent.tool("conflict_resolve", id=c["id"], keep="file")
    assert r["resolution"] == "file"
    assert agent.tool("task_show", id="audit_schema")["task"]["priority"] == \
        "low"
    assert not os.path.exists(conflict_file)
    assert "- **Priority**: low" in block_of(read(group_file), "audit_schema")
    assert agent.tool("conflict_list", session=session)["conflicts"] == []
    # Both versions were kept as backups.
    backups = agent.tool("backup_list", session=session)["backups"]
    values = {b["text"] for b in backups if b["field"] == "priority"}
    assert {"critical", "low"} <= values, backups
    # The agent brings its own value back from its backup after all.
    mine = [b for b in backups
            if b["field"] == "priority" and b["text"] == "critical"][0]
    restored = agent.tool("backup_restore", id=mine["id"])
    assert restored["field"] == "priority", restored
    assert agent.tool("task_show", id="audit_schema")["task"]["priority"] == \
        "critical"
    assert "- **Priority**: critical" in block_of(read(group_file),
                                                  "audit_schema")
    changes = agent.tool("edit_log", session=session, all_sources=True,
                         limit=0)["changes"]
    assert any(e["record"] == "audit_schema" and e["field"] == "priority" and
               e["source"] == "mcp:planner" for e in changes), changes
    # taskctl sees the same.
    assert ctl.task("audit_schema")["priority"] == "critical"
    agent.close()
