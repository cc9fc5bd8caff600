// The SSE client libraries people use, unmodified, against the real server (and through nginx):
// the npm `eventsource` (the browser EventSource API, the reference's GET example) and
// `@microsoft/fetch-event-source` (what the reference recommends for POST), both with their
// default behaviour. Each scenario must show the whole reply exactly once and start exactly one
// turn, also when the connection drops in the middle.
//
//   node sse-clients.test.mjs --agentdesk BIN --fake BIN [--via direct|nginx]
import { createRequire } from 'node:module';
import { EventSource } from 'eventsource';
import { args, check, runMain, startAgentDesk, startCuttingProxy, startFake, startNginx, until } from './harness.mjs';

const require = createRequire(import.meta.url);
// A browser library: it reads `window` and `document` (visibility). A visible tab, as on a desk.
globalThis.window = globalThis;
globalThis.document = Object.assign(new EventTarget(), { hidden: false });
const { fetchEventSource } = require('@microsoft/fetch-event-source');

const options = args();
const text = 'Streams that survive the network: 断线之后继续 😀 and the rest arrives once.';
const model = `fake:tokens=16,delay=40,text=${encodeURIComponent(text)}`;

// fetch, counted: every request a library makes, with the headers that matter here.
function countingFetch(log) {
  return async (input, init = {}) => {
    const headers = new Headers(init.headers || {});
    const response = await fetch(input, init);
    log.push({ method: init.method || 'GET', lastEventId: headers.get('last-event-id'), status: response.status });
    return response;
  };
}

async function oneTurn(server, agentId, what) {
  const sessions = await server.sessions(agentId);
  check(sessions.length === 1, `${what}: ${sessions.length} sessions, expected 1`);
  const [session] = sessions;
  check(session.messages.length === 2, `${what}: ${session.messages.length} messages, expected 2`);
  check(session.messages[1].content === text, `${what}: stored reply is ${JSON.stringify(session.messages[1].content)}`);
}

// EventSource as a page uses it when it does not close it: after `done` the server ends the
// response, the EventSource reconnects with Last-Event-ID, gets 204 and stops for good.
async function eventSourceLeftOpen(server, base) {
  const agentId = await server.createAgent(model);
  const requests = [];
  const url = `${base}/api/agents/${agentId}/chat/stream?message=${encodeURIComponent('hello')}&access_token=${server.token}`;
  const source = new EventSource(url, { fetch: countingFetch(requests) });
  let shown = '';
  let terminals = 0;
  source.onmessage = (event) => {
    const chunk = JSON.parse(event.data);
    if (chunk.type === 'content') shown += chunk.content;
    if (chunk.type === 'done' || chunk.type === 'error') terminals += 1;
  };
  await until(() => source.readyState === EventSource.CLOSED, 'the EventSource to close by itself', 30000);
  check(shown === text, `eventsource: shown ${JSON.stringify(shown)}`);
  check(terminals === 1, `eventsource: ${terminals} terminal chunks`);
  check(requests.length === 2, `eventsource: ${requests.length} requests: ${JSON.stringify(requests)}`);
  check(requests[1].status === 204 && requests[1].lastEventId?.endsWith(':18'), `eventsource: ${JSON.stringify(requests)}`);
  await oneTurn(server, agentId, 'eventsource left open');
}

// The network drops mid-reply: EventSource reconnects on its own and the reply continues.
async function eventSourceAcrossADrop(server, base) {
  const agentId = await server.createAgent(model);
  const proxy = await startCuttingProxy(base, { afterEvents: 5 });
  const requests = [];
  const url = `${proxy.url}/api/agents/${agentId}/chat/stream?message=${encodeURIComponent('hello')}&access_token=${server.token}`;
  const source = new EventSource(url, { fetch: countingFetch(requests) });
  let shown = '';
  let done = false;
  source.onmessage = (event) => {
    const chunk = JSON.parse(event.data);
    if (chunk.type === 'content') shown += chunk.content;
    if (chunk.type === 'done' || chunk.type === 'error') {
      done = true;
      source.close(); // what docs/api.md tells a page to do
    }
  };
  await until(() => done, 'the reply after the drop', 30000);
  proxy.close();
  check(proxy.stats.cut === 1, 'eventsource drop: the proxy did not cut');
  check(shown === text, `eventsource drop: shown ${JSON.stringify(shown)}`);
  check(requests.length === 2 && /:\d+$/.test(requests[1].lastEventId || ''), `eventsource drop: ${JSON.stringify(requests)}`);
  await oneTurn(server, agentId, 'eventsource across a drop');
}

// fetch-event-source with its defaults: no empty message to break JSON.parse, so no retry storm.
async function fetchEventSourceDefaults(server, base, { drop = false } = {}) {
  const agentId = await server.createAgent(model);
  const proxy = drop ? await startCuttingProxy(base, { afterEvents: 6 }) : null;
  const requests = [];
  let shown = '';
  let terminals = 0;
  let parseErrors = 0;
  await fetchEventSource(`${(proxy || { url: base }).url}/api/agents/${agentId}/chat/stream`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ message: 'hello', stream: true }),
    fetch: countingFetch(requests),
    onmessage(event) {
      let chunk;
      try {
        chunk = JSON.parse(event.data);
      } catch (e) {
        parseErrors += 1;
        throw e; // as the usual handler does: fetch-event-source then retries the POST
      }
      if (chunk.type === 'content') shown += chunk.content;
      if (chunk.type === 'done' || chunk.type === 'error') terminals += 1;
    },
    // The library's own advice for a server that closes unexpectedly: throw, and it retries. Node's
    // fetch reports a cut `Connection: close` response as a normal end (browsers report an error,
    // the body being chunked), so without this only a terminal chunk tells the two apart.
    ...(drop && {
      onclose() {
        if (terminals === 0) throw new Error('closed before the reply ended');
      },
    }),
  });
  proxy?.close();
  const what = drop ? 'fetch-event-source across a drop' : 'fetch-event-source';
  check(parseErrors === 0, `${what}: ${parseErrors} messages were not chunk JSON`);
  check(shown === text, `${what}: shown ${JSON.stringify(shown)}`);
  check(terminals === 1, `${what}: ${terminals} terminal chunks`);
  if (drop) {
    check(proxy.stats.cut === 1, `${what}: the proxy did not cut`);
    check(requests.length === 2 && requests.every((r) => r.method === 'POST'), `${what}: ${JSON.stringify(requests)}`);
    check(/:\d+$/.test(requests[1].lastEventId || ''), `${what}: the retry did not resume: ${JSON.stringify(requests)}`);
  } else {
    check(requests.length === 1, `${what}: ${requests.length} POSTs: ${JSON.stringify(requests)}`);
  }
  await oneTurn(server, agentId, what);
}

async function main() {
  const fake = await startFake(options.fake);
  const server = await startAgentDesk(options.agentdesk, fake);
  let base = server.url;
  if (options.via === 'nginx') base = (await startNginx(server.url)).url;
  const scenarios = [
    ['eventsource, not closed by the page', eventSourceLeftOpen],
    ['eventsource, network drop mid-reply', eventSourceAcrossADrop],
    ['fetch-event-source, default options', (s, b) => fetchEventSourceDefaults(s, b)],
    ['fetch-event-source, network drop mid-reply', (s, b) => fetchEventSourceDefaults(s, b, { drop: true })],
  ];
  let failed = 0;
  for (const [name, run] of scenarios) {
    const started = Date.now();
    try {
      await run(server, base);
      console.log(`ok   ${name} (${options.via || 'direct'}, ${Date.now() - started} ms)`);
    } catch (e) {
      failed += 1;
      console.log(`FAIL ${name} (${options.via || 'direct'}): ${e.message}`);
    }
  }
  if (failed) console.log(server.process.output.split('\n').slice(-30).join('\n'));
  server.cleanup();
  return failed;
}

runMain(main);
