// SPDX-License-Identifier: MIT
// mcp.test.mjs: taskctl mcp driven by the official MCP SDK's client over
// stdio, and by raw lines for what a well-behaved client never sends.
// Run by tests/integration/test_mcp.py, one test at a time
// (--test-name-pattern), with TASKCTL, MCP_DB and MCP_SESSION set (a demo
// database) and, for the mount tests, MCP_MNT (a taskfs mount of it).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { test } from 'node:test';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import {
  LoggingMessageNotificationSchema,
  ResourceListChangedNotificationSchema,
  ResourceUpdatedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';

const TASKCTL = process.env.TASKCTL;
const DB = process.env.MCP_DB;
const SESSION = process.env.MCP_SESSION;
const MNT = process.env.MCP_MNT;

const TOOLS = [
  'session_create', 'session_list', 'session_show', 'session_set',
  'group_create', 'group_list', 'group_show', 'group_set', 'group_remove',
  'group_restore', 'task_add', 'task_add_many', 'task_set', 'task_show',
  'task_list', 'task_remove', 'task_restore', 'conflict_list',
  'conflict_resolve', 'backup_list', 'backup_restore', 'sync_stats',
  'edit_log',
];

// ---- helpers ----

// An SDK client on a new taskctl mcp process; it records the
// notifications it gets.
async function connect(name = 'node-test', extraArgs = []) {
  const transport = new StdioClientTransport({
    command: TASKCTL,
    args: ['-d', DB, ...extraArgs, 'mcp'],
    stderr: 'inherit',
  });
  const client = new Client({ name, version: '1.0.0' });
  client.updated = [];
  client.listChanged = 0;
  client.logs = [];
  client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
    client.updated.push(n.params.uri);
  });
  client.setNotificationHandler(ResourceListChangedNotificationSchema, () => {
    client.listChanged++;
  });
  client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
    client.logs.push(n.params);
  });
  await client.connect(transport);
  // Listing the tools makes the SDK check every structured result
  // against its tool's outputSchema.
  client.tools = (await client.listTools()).tools;
  return client;
}

async function waitFor(what, cond, ms = 5000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`timed out waiting for ${what}`);
}

// Calls a tool that must succeed; returns its structured result.
async function call(client, name, args = {}) {
  const r = await client.callTool({ name, arguments: args });
  assert.ok(!r.isError, `${name} failed: ${r.content?.[0]?.text}`);
  assert.ok(r.structuredContent, `${name} gave no structured content`);
  assert.deepEqual(JSON.parse(r.content[0].text), r.structuredContent,
    `${name}: the text content is the structured content as JSON`);
  return r.structuredContent;
}

// Calls a tool that must fail as a tool (isError), not as a request.
async function callFails(client, name, args, pattern) {
  const r = await client.callTool({ name, arguments: args });
  assert.equal(r.isError, true, `${name} ${JSON.stringify(args)} did not fail`);
  assert.equal(r.structuredContent, undefined);
  assert.match(r.content[0].text, pattern);
  return r.content[0].text;
}

function taskctl(...args) {
  const p = spawnSync(TASKCTL, ['-d', DB, ...args], { encoding: 'utf8' });
  assert.equal(p.status, 0, `taskctl ${args.join(' ')}: ${p.stderr}`);
  return p.stdout;
}

// taskctl mcp spoken to line by line, without the SDK.
class Raw {
  constructor(extraArgs = []) {
    this.proc = spawn(TASKCTL, ['-d', DB, ...extraArgs, 'mcp'], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    this.msgs = [];
    this.exited = new Promise((resolve) => this.proc.on('exit', (code) => resolve(code)));
    readline.createInterface({ input: this.proc.stdout }).on('line', (l) => {
      this.msgs.push(JSON.parse(l)); // every line must be JSON
    });
  }

  write(text) {
    this.proc.stdin.write(text + '\n');
  }

  send(msg) {
    this.write(JSON.stringify(msg));
  }

  async next(pred, what, ms = 5000) {
    let found;
    await waitFor(what, () => {
      const i = this.msgs.findIndex(pred);
      if (i >= 0) [found] = this.msgs.splice(i, 1);
      return i >= 0;
    }, ms);
    return found;
  }

  async request(id, method, params) {
    this.send({ jsonrpc: '2.0', id, method, ...(params ? { params } : {}) });
    return this.next((m) => m.id === id, `the answer to ${method} (${id})`);
  }

  async init(version = '2025-06-18') {
    const r = await this.request(0, 'initialize', {
      protocolVersion: version, capabilities: {},
      clientInfo: { name: 'raw-test', version: '1.0.0' },
    });
    this.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    return r;
  }

  async close() {
    this.proc.stdin.end();
    return this.exited;
  }
}

function mountPath(uri) {
  return path.join(MNT, decodeURIComponent(uri.slice('taskfs:///'.length)));
}

// ---- the session ----

test('initialize: the SDK client connects and sees the capabilities', async () => {
  const client = await connect();
  const caps = client.getServerCapabilities();
  assert.ok(caps.tools);
  assert.equal(caps.resources.subscribe, true);
  assert.equal(caps.resources.listChanged, true);
  assert.ok(caps.logging);
  assert.equal(client.getServerVersion().name, 'taskctl');
  assert.match(client.getInstructions(), /conflict/);
  assert.deepEqual(await client.ping(), {});
  await client.close();
});

test('initialize: the version asked for when spoken, else the newest', async () => {
  for (const [asked, answered] of [
    ['2025-06-18', '2025-06-18'], ['2025-03-26', '2025-03-26'],
    ['2024-11-05', '2024-11-05'], ['2025-11-25', '2025-06-18'],
    ['1999-01-01', '2025-06-18'],
  ]) {
    const raw = new Raw();
    const r = await raw.init(asked);
    assert.equal(r.result.protocolVersion, answered, `asked ${asked}`);
    // What each revision has: output schemas from 2025-06-18 on.
    const tools = (await raw.request(1, 'tools/list')).result.tools;
    assert.equal(tools.length, TOOLS.length);
    assert.equal('outputSchema' in tools[0], answered >= '2025-06-18', asked);
    const shown = await raw.request(2, 'tools/call',
      { name: 'session_show', arguments: { id: SESSION } });
    assert.equal('structuredContent' in shown.result, answered >= '2025-06-18');
    const missing = await raw.request(3, 'resources/read',
      { uri: `taskfs:///${SESSION}/no_such_file.md` });
    assert.equal(missing.error.code, answered >= '2025-06-18' ? -32602 : -32002);
    assert.equal(await raw.close(), 0);
  }
});

test('lifecycle: only ping before initialize, and initialize once', async () => {
  const raw = new Raw();
  assert.deepEqual((await raw.request(1, 'ping')).result, {});
  assert.equal((await raw.request(2, 'tools/list')).error.code, -32600);
  const bad = await raw.request(3, 'initialize', { capabilities: {} });
  assert.equal(bad.error.code, -32602);
  await raw.init();
  const again = await raw.request(4, 'initialize', {
    protocolVersion: '2025-06-18', capabilities: {},
    clientInfo: { name: 'x', version: '1' },
  });
  assert.equal(again.error.code, -32600);
  assert.equal(await raw.close(), 0);
});

// ---- tools ----

test('tools/list: every tool, with input and output schemas', async () => {
  const client = await connect();
  const names = client.tools.map((t) => t.name).sort();
  assert.deepEqual(names, [...TOOLS].sort());
  for (const t of client.tools) {
    assert.equal(t.inputSchema.type, 'object', t.name);
    assert.equal(t.outputSchema.type, 'object', t.name);
    assert.ok(t.description && t.title, t.name);
  }
  await client.close();
});

test('tools: every tool called, its changes recorded as mcp:<client>', async () => {
  const client = await connect('planner-agent');
  const called = new Set();
  const c = async (name, args) => { called.add(name); return call(client, name, args); };

  const { session } = await c('session_create', { title: 'Agent plan', mode: 'dev' });
  const s = session.id;
  assert.ok((await c('session_list')).sessions.some((x) => x.id === s));
  assert.equal((await c('session_show', { id: s })).session.title, 'Agent plan');
  assert.equal((await c('session_set', { id: s, status: 'paused' })).session.status, 'paused');

  const { group } = await c('group_create', { session: s, name: 'api', title: 'API' });
  assert.equal(group.name, 'api');
  assert.equal((await c('group_list', { session: s })).groups.length, 1);
  assert.equal((await c('group_show', { session: s, id: 'api' })).group.id, group.id);
  assert.equal((await c('group_set', { id: group.id, priority: 'high' })).group.priority, 'high');

  const { task } = await c('task_add', {
    session: s, group: 'api', title: 'Design endpoints', estimate: '4h',
    deliverables: ['openapi.yaml'],
  });
  assert.equal(task.estimate, 4);
  const many = await c('task_add_many', { tasks: [
    { session: s, group: 'api', title: 'Write handlers', dependencies: [task.id] },
    { session: s, group: 'api', title: 'Test handlers', priority: 'low', estimate: 2 },
  ] });
  assert.equal(many.tasks.length, 2);
  assert.deepEqual(many.tasks[0].dependencies, [task.id]);
  const set = await c('task_set', { id: task.id, status: 'active', progress: 40 });
  assert.equal(set.task.status, 'active');
  assert.equal(set.task.progress, 40);
  assert.equal((await c('task_show', { id: task.id })).task.progress, 40);
  assert.deepEqual((await c('task_list', { session: s, status: 'active' })).tasks.map((t) => t.id), [task.id]);
  assert.equal((await c('task_list', { session: s, group: 'api' })).tasks.length, 3);

  assert.equal((await c('task_remove', { id: task.id })).task.deleted, true);
  assert.equal((await c('task_list', { session: s })).tasks.length, 2);
  assert.equal((await c('task_list', { session: s, include_deleted: true })).tasks.length, 3);
  assert.equal((await c('task_restore', { id: task.id })).task.deleted, false);
  assert.equal((await c('group_remove', { id: group.id })).group.deleted, true);
  const hidden = await c('task_restore', { id: task.id });
  assert.match(hidden.note, /group_restore/);
  assert.equal((await c('group_restore', { id: group.id })).group.deleted, false);

  assert.ok(Array.isArray((await c('conflict_list', {})).conflicts));
  called.add('conflict_resolve');
  await callFails(client, 'conflict_resolve', { id: 999999, keep: 'db' }, /conflict/);
  assert.ok(Array.isArray((await c('backup_list', {})).backups));
  called.add('backup_restore');
  await callFails(client, 'backup_restore', { id: 999999 }, /no backup 999999; backup_list/);
  const stats = await c('sync_stats', { session: s });
  assert.equal(typeof stats.success_rate, 'number');

  const log = await c('edit_log', { session: s, source: 'mcp:planner-agent', limit: 0 });
  assert.ok(log.changes.length > 0);
  assert.ok(log.changes.every((x) => x.source === 'mcp:planner-agent'));
  assert.ok(log.changes.some((x) => x.record === task.id && x.field === 'progress' && x.new === '40'));
  // The mount's edit log (the default) has none of them.
  assert.equal((await c('edit_log', { session: s })).changes.length, 0);
  assert.deepEqual([...called].sort(), [...TOOLS].sort());
  await client.close();
  // taskctl sees the same records.
  assert.match(taskctl('task', 'show', task.id), /progress: +40%/);
});

test('tools: bad arguments and values fail as tools and change nothing', async () => {
  const client = await connect();
  const before = JSON.parse(taskctl('--json', 'task', 'show', 'dashboard_layout_001'));
  await callFails(client, 'task_set', { id: 'dashboard_layout_001', status: 'finished' }, /status 'finished'/);
  await callFails(client, 'task_set', { id: 'dashboard_layout_001', progress: 150 }, /outside 0-100/);
  await callFails(client, 'task_set', { id: 'dashboard_layout_001', estimate: 'soon' }, /effort/);
  await callFails(client, 'task_set', { id: 'dashboard_layout_001', title: 7 }, /must be a string/);
  await callFails(client, 'task_set', { id: 'dashboard_layout_001', colour: 'red' }, /no argument "colour"/);
  await callFails(client, 'task_set', { id: 'dashboard_layout_001' }, /nothing to change/);
  await callFails(client, 'task_set', { id: 'no_such_task', progress: 5 }, /no task with id 'no_such_task'; task_list/);
  await callFails(client, 'task_add', { group: 'frontend' }, /needs the argument "title"/);
  await callFails(client, 'task_add', { group: 'no_such_group', title: 'x' }, /no group with id 'no_such_group'/);
  await callFails(client, 'task_add', { group: 'frontend', session: SESSION, title: 'x', dependencies: ['nope'] }, /to depend on/);
  // A plan is all or none: the second task is wrong, so neither is added.
  await callFails(client, 'task_add_many', { tasks: [
    { group: 'frontend', session: SESSION, title: 'Fine' },
    { group: 'frontend', session: SESSION, title: 'Bad', progress: 500 },
  ] }, /element 1 of the input: .*nothing was imported/);
  await callFails(client, 'conflict_resolve', { id: 1, keep: 'manual' }, /needs "value"/);
  const after = JSON.parse(taskctl('--json', 'task', 'show', 'dashboard_layout_001'));
  assert.deepEqual(after, before);
  assert.ok(!taskctl('task', 'list', '--session', SESSION).includes('Fine'));
  // An unknown tool is a protocol error.
  await assert.rejects(client.callTool({ name: 'no_such_tool', arguments: {} }),
    (e) => e.code === -32602 && /unknown tool/.test(e.message));
  await client.close();
});

test('tools: a locked database is a tool error that says to try again', async () => {
  // Another program holds the write lock for two seconds.
  const holder = spawn('python3', ['-c', `
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(2)
c.execute("ROLLBACK")
`, DB], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve) => holder.stdout.once('data', resolve));
  const client = await connect('node-test', ['--busy-timeout', '200']);
  const text = await callFails(client, 'task_set', { id: 'dashboard_layout_001', progress: 77 }, /call the tool again/);
  assert.match(text, /lock|busy/i);
  await new Promise((resolve) => holder.on('exit', resolve));
  assert.equal((await call(client, 'task_set', { id: 'dashboard_layout_001', progress: 77 })).task.progress, 77);
  await client.close();
});

// ---- resources ----

test('resources: listed in pages, read as the tree shows them', async () => {
  // Enough files for more than one page.
  const tasks = [];
  for (let i = 0; i < 250; i++) tasks.push({ group: 'testing', session: SESSION, title: `Case ${i}` });
  const client = await connect();
  await call(client, 'task_add_many', { tasks });
  const uris = [];
  let cursor;
  let pages = 0;
  do {
    const page = await client.listResources(cursor ? { cursor } : {});
    pages++;
    for (const r of page.resources) {
      assert.match(r.uri, /^taskfs:\/\/\//);
      assert.equal(r.mimeType, 'text/markdown');
      uris.push(r.uri);
    }
    cursor = page.nextCursor;
  } while (cursor);
  assert.ok(pages >= 2, `${pages} pages`);
  assert.equal(new Set(uris).size, uris.length, 'no file twice');
  const group = `taskfs:///${SESSION}/task_groups/frontend.md`;
  for (const u of [group, `taskfs:///${SESSION}/session.md`,
    `taskfs:///${SESSION}/tasks/active/dashboard_layout_001.md`,
    `taskfs:///${SESSION}/notes/decisions.md`, `taskfs:///${SESSION}/meta/sync_status.md`]) {
    assert.ok(uris.includes(u), u);
  }
  const read = await client.readResource({ uri: group });
  assert.equal(read.contents.length, 1);
  assert.equal(read.contents[0].uri, group);
  assert.match(read.contents[0].text, /^---\ntaskfs: 1\n/);
  assert.match(read.contents[0].text, /Create dashboard layout `dashboard_layout_001`/);
  await assert.rejects(client.readResource({ uri: `taskfs:///${SESSION}/task_groups/nope.md` }),
    (e) => e.code === -32602);
  await assert.rejects(client.readResource({ uri: 'file:///etc/passwd' }), (e) => e.code === -32602);
  await assert.rejects(client.listResources({ cursor: 'bogus' }), (e) => e.code === -32602);
  const templates = await client.listResourceTemplates();
  assert.ok(templates.resourceTemplates.some((t) => t.uriTemplate.includes('{task}')));
  await client.close();
});

test('resources: a subscriber is told of a change by another program', async () => {
  const client = await connect();
  const group = `taskfs:///${SESSION}/task_groups/frontend.md`;
  const other = `taskfs:///${SESSION}/task_groups/backend.md`;
  const task = `taskfs:///${SESSION}/tasks/active/dashboard_layout_001.md`;
  const later = `taskfs:///${SESSION}/tasks/planned/new_by_taskctl.md`;
  for (const uri of [group, other, task, later]) await client.subscribeResource({ uri });
  await client.setLoggingLevel('debug');

  taskctl('task', 'set', 'dashboard_layout_001', '--progress', '65');
  await waitFor('updates of the task and its group', () =>
    client.updated.includes(group) && client.updated.includes(task));
  assert.ok(!client.updated.includes(other), 'the other group did not change');
  assert.ok(client.logs.some((l) => l.level === 'debug' && /database changed/.test(l.data)));
  assert.match((await client.readResource({ uri: task })).contents[0].text, /65%/);

  // A new file: an update of its subscription, and a new listing.
  client.updated.length = 0;
  taskctl('task', 'add', '--session', SESSION, '--group', 'frontend', '--title', 'New', '--id', 'new_by_taskctl');
  await waitFor('the new file', () => client.updated.includes(later) && client.listChanged > 0);

  // After unsubscribing, nothing more.
  await client.unsubscribeResource({ uri: group });
  client.updated.length = 0;
  taskctl('group', 'set', 'frontend_group_001', '--title', 'Front end');
  await new Promise((r) => setTimeout(r, 600));
  assert.ok(!client.updated.includes(group));
  await client.close();
});

test('resources: a subscriber is told of a save through the mount', async () => {
  assert.ok(MNT, 'MCP_MNT names the mount');
  const client = await connect();
  const group = `taskfs:///${SESSION}/task_groups/backend.md`;
  await client.subscribeResource({ uri: group });
  const file = mountPath(group);
  const text = fs.readFileSync(file, 'utf8');
  // What the mount shows is what the resource reads.
  assert.equal((await client.readResource({ uri: group })).contents[0].text, text);
  fs.writeFileSync(file, text.replace('# Backend API', '# Backend API and workers'));
  await waitFor('the update after the save', () => client.updated.includes(group));
  const after = (await client.readResource({ uri: group })).contents[0].text;
  assert.match(after, /# Backend API and workers/);
  assert.equal(after, fs.readFileSync(file, 'utf8'));
  const g = await call(client, 'group_show', { id: 'backend', session: SESSION });
  assert.equal(g.group.title, 'Backend API and workers');
  await client.close();
});

// ---- bad requests ----

test('bad requests: each gets its error, and the server goes on', async () => {
  const raw = new Raw();
  await raw.init();
  const next = (what) => raw.next((m) => m.error && m.id === null, what);
  raw.write('{"jsonrpc": "2.0", "id": 1, "method": "ping"');
  assert.equal((await next('the parse error')).error.code, -32700);
  raw.write('not json at all');
  assert.equal((await next('the parse error')).error.code, -32700);
  raw.write('[1, 2]');
  assert.equal((await next('the batch error')).error.code, -32600);
  raw.write('{"jsonrpc": "2.0", "id": 2, "method": 5}');
  assert.equal((await raw.next((m) => m.id === 2, 'invalid')).error.code, -32600);
  raw.write('{"id": 3, "method": "ping"}');
  assert.equal((await raw.next((m) => m.id === 3, 'invalid')).error.code, -32600);
  assert.equal((await raw.request(4, 'no/such/method')).error.code, -32601);
  assert.equal((await raw.request(5, 'resources/read', {})).error.code, -32602);
  assert.equal((await raw.request(6, 'tools/call', { arguments: {} })).error.code, -32602);
  assert.equal((await raw.request(7, 'tools/call', { name: 'task_show', arguments: [1] })).error.code, -32602);
  assert.equal((await raw.request(8, 'resources/subscribe', { uri: 'http://x/' })).error.code, -32602);
  assert.equal((await raw.request(9, 'logging/setLevel', { level: 'loud' })).error.code, -32602);
  // Notifications get no answer, known or not.
  raw.send({ jsonrpc: '2.0', method: 'notifications/whatever' });
  assert.deepEqual((await raw.request(10, 'ping')).result, {});
  assert.equal(raw.msgs.length, 0, JSON.stringify(raw.msgs));
  assert.equal(await raw.close(), 0);
});

test('bad requests: a message over 4 MiB is refused, one under it taken', async () => {
  const raw = new Raw();
  await raw.init();
  const limit = 4 * 1024 * 1024;
  const line = (id, size) => {
    const head = `{"jsonrpc":"2.0","id":${id},"method":"ping","params":{"pad":"`;
    const tail = '"}}';
    return head + 'x'.repeat(size - head.length - tail.length) + tail;
  };
  raw.write(line(1, limit + 1));
  const refused = await raw.next((m) => m.error && m.id === null, 'the refusal');
  assert.equal(refused.error.code, -32600);
  assert.match(refused.error.message, /4194305 bytes refused: the limit is 4194304/);
  raw.write(line(2, limit));
  assert.deepEqual((await raw.next((m) => m.id === 2, 'the ping at the limit')).result, {});
  assert.deepEqual((await raw.request(3, 'ping')).result, {});
  assert.equal(await raw.close(), 0);
});

test('bad requests: batches only under 2025-03-26', async () => {
  const raw = new Raw();
  await raw.init('2025-03-26');
  raw.send([
    { jsonrpc: '2.0', id: 1, method: 'ping' },
    { jsonrpc: '2.0', method: 'notifications/whatever' },
    { jsonrpc: '2.0', id: 2, method: 'no/such' },
  ]);
  const answers = await raw.next((m) => Array.isArray(m), 'the batch answer');
  assert.equal(answers.length, 2);
  assert.deepEqual(answers.find((a) => a.id === 1).result, {});
  assert.equal(answers.find((a) => a.id === 2).error.code, -32601);
  assert.equal(await raw.close(), 0);
});
