#!/usr/bin/env node
// A small MCP server (stdio, newline-delimited JSON-RPC) that misbehaves on purpose, for the
// failure cases real servers do not produce on demand. No dependencies.
//
//   node scripted-server.mjs [--log FILE] [--version V] [--pages N] [--die-on-call] [--stall-on-call]
//                            [--exit-at-start] [--garbage]
//
// Tools: "slow" and "quick" (and N pages of "tool-<i>" with --pages). Every message it receives
// is appended to --log as one JSON line, so a test can see what the client sent (cancellations).
import { appendFileSync } from 'node:fs';
import readline from 'node:readline';

const argv = process.argv.slice(2);
const flag = (name) => argv.includes(name);
const value = (name, fallback) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : fallback);
const log = value('--log', null);
const version = value('--version', null);
const pages = Number(value('--pages', '1'));

if (flag('--exit-at-start')) {
  process.stderr.write('scripted-server: exiting at once, as asked\n');
  process.exit(3);
}

const send = (message) => process.stdout.write(JSON.stringify({ jsonrpc: '2.0', ...message }) + '\n');
const tools = (page) => {
  const list = [
    { name: 'slow', description: 'Takes long', inputSchema: { type: 'object', properties: {} } },
    { name: 'quick', description: 'Answers at once', inputSchema: { type: 'object', properties: {} } },
  ];
  return pages > 1 ? [{ name: `tool-${page}`, description: `page ${page}`, inputSchema: { type: 'object' } }] : list;
};

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  if (log) appendFileSync(log, line + '\n');
  let message;
  try {
    message = JSON.parse(line);
  } catch {
    return;
  }
  const { id, method, params } = message;
  if (method === 'initialize') {
    if (flag('--garbage')) process.stdout.write('this is not JSON-RPC\n');
    send({ id, result: { protocolVersion: version || params.protocolVersion, capabilities: { tools: { listChanged: true } },
                         serverInfo: { name: 'scripted', version: '1' } } });
  } else if (method === 'tools/list') {
    const page = params && params.cursor ? Number(params.cursor) : 1;
    const result = { tools: tools(page) };
    if (page < pages) result.nextCursor = String(page + 1);
    send({ id, result });
  } else if (method === 'tools/call') {
    if (flag('--die-on-call')) {
      process.stderr.write('scripted-server: dying in the middle of a call, as asked\n');
      process.exit(1);
    }
    if (flag('--stall-on-call') || params.name === 'slow') return; // never answers
    send({ id, result: { content: [{ type: 'text', text: `quick answer to ${JSON.stringify(params.arguments)}` }] } });
  } else if (method === 'ping') {
    send({ id, result: {} });
  } else if (id !== undefined && method) {
    send({ id, error: { code: -32601, message: 'Method not found' } });
  }
});
