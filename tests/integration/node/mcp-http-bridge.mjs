// SPDX-License-Identifier: MIT
// mcp-http-bridge.mjs: serves taskctl mcp (stdio) as Streamable HTTP on
// 127.0.0.1, for the MCP conformance suite, which tests servers by URL.
// Each HTTP session starts its own taskctl mcp; messages pass through
// unchanged, so what is tested is taskctl's answers.
//   node mcp-http-bridge.mjs TASKCTL DB
// prints {"url": "http://127.0.0.1:PORT/mcp"} once it listens.
import { randomUUID } from 'node:crypto';
import http from 'node:http';

import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';

const [taskctl, db] = process.argv.slice(2);
const sessions = new Map();

async function openSession() {
  const server = new StdioClientTransport({
    command: taskctl, args: ['-d', db, 'mcp'], stderr: 'inherit',
  });
  const front = new StreamableHTTPServerTransport({
    sessionIdGenerator: () => randomUUID(),
    onsessioninitialized: (id) => sessions.set(id, front),
  });
  front.onmessage = (msg) => server.send(msg).catch((e) => console.error(e));
  server.onmessage = (msg) => front.send(msg).catch((e) => console.error(e));
  front.onclose = () => {
    if (front.sessionId) sessions.delete(front.sessionId);
    server.close();
  };
  await server.start();
  await front.start();
  return front;
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const httpServer = http.createServer(async (req, res) => {
  try {
    if (!req.url.startsWith('/mcp')) {
      res.writeHead(404).end();
      return;
    }
    let body;
    if (req.method === 'POST') {
      const text = await readBody(req);
      try {
        body = JSON.parse(text);
      } catch {
        res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({
          jsonrpc: '2.0', id: null, error: { code: -32700, message: 'not JSON' },
        }));
        return;
      }
    }
    const id = req.headers['mcp-session-id'];
    let front = id ? sessions.get(id) : undefined;
    if (!front && !id && req.method === 'POST' && isInitializeRequest(body)) {
      front = await openSession();
    }
    if (!front) {
      res.writeHead(id ? 404 : 400).end();
      return;
    }
    await front.handleRequest(req, res, body);
  } catch (e) {
    console.error(e);
    if (!res.headersSent) res.writeHead(500).end();
  }
});

httpServer.listen(0, '127.0.0.1', () => {
  const { port } = httpServer.address();
  console.log(JSON.stringify({ url: `http://127.0.0.1:${port}/mcp` }));
});

function stop() {
  for (const front of sessions.values()) front.close();
  httpServer.close();
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
