// docs/stream-demo.html in headless Chromium (Debian's), served from another origin than the API
// (CORS), against the real server: both of its ways to read the stream must show the whole reply,
// and a page from an origin the server does not allow must get nothing.
//
//   node browser-page.test.mjs --agentdesk BIN --fake BIN --page docs/stream-demo.html
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { chromium } from 'playwright-core';
import { args, check, freePort, runMain, startAgentDesk, startFake } from './harness.mjs';

const options = args();
const text = 'Hello from a page on another origin: 你好，世界 😀. Every token arrives once.';
const model = `fake:tokens=14,delay=30,text=${encodeURIComponent(text)}`;

async function servePage(port) {
  const html = readFileSync(options.page);
  const server = http.createServer((request, response) => {
    response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    response.end(html);
  });
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  return server;
}

async function main() {
  const pagePort = await freePort();
  const strangerPort = await freePort();
  const pageOrigin = `http://127.0.0.1:${pagePort}`;
  const fake = await startFake(options.fake);
  const api = await startAgentDesk(options.agentdesk, fake, { corsOrigins: [pageOrigin] });
  const agentId = await api.createAgent(model);
  const page1 = await servePage(pagePort);
  const page2 = await servePage(strangerPort);

  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
           '--disable-component-update', '--disable-sync'],
  });
  let failed = 0;
  const run = async (name, origin, mode, expectState) => {
    const page = await browser.newPage();
    const consoleLines = [];
    page.on('console', (m) => consoleLines.push(m.text()));
    const query = new URLSearchParams({ server: api.url, token: api.token, agent: agentId, message: `via ${mode}`, mode,
                                        autostart: '1' });
    try {
      await page.goto(`${origin}/stream-demo.html?${query}`);
      await page.waitForSelector(`#status[data-state="${expectState}"]`, { timeout: 30000 });
      const shown = await page.textContent('#output');
      const status = await page.textContent('#status');
      if (expectState === 'done') {
        check(shown === text, `${name}: the page shows ${JSON.stringify(shown)}`);
        check(/Done: Stop/.test(status), `${name}: status ${JSON.stringify(status)}`);
      } else {
        check(shown === '', `${name}: a page from a stranger origin shows ${JSON.stringify(shown)}`);
        check(/--cors-origin/.test(status), `${name}: status ${JSON.stringify(status)}`);
      }
      console.log(`ok   ${name}: ${status}`);
    } catch (e) {
      failed += 1;
      console.log(`FAIL ${name}: ${e.message}\n  page: ${await page.textContent('#status').catch(() => '?')}`);
      console.log(consoleLines.map((l) => `  console: ${l}`).join('\n'));
    }
    await page.close();
  };
  await run('fetch from an allowed origin', pageOrigin, 'fetch', 'done');
  await run('EventSource with a stream ticket from an allowed origin', pageOrigin, 'eventsource', 'done');
  await run('fetch from an origin the server does not allow', `http://127.0.0.1:${strangerPort}`, 'fetch', 'error');
  await browser.close();

  // One turn per page that was allowed, none for the stranger.
  const sessions = await api.sessions(agentId);
  if (sessions.length !== 2 || !sessions.every((s) => s.messages.length === 2 && s.messages[1].content === text)) {
    failed += 1;
    console.log(`FAIL stored: ${JSON.stringify(sessions.map((s) => s.messages.map((m) => m.content)))}`);
  }
  page1.close();
  page2.close();
  api.cleanup();
  return failed;
}

runMain(main);
