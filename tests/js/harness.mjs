// Starts the real pieces the JavaScript tests talk to: the fake OpenAI-compatible upstream, the
// `agentdesk --headless` binary on a temporary data directory, and optionally nginx in front (its
// default buffering, as a team would put it) or a TCP proxy that cuts connections on purpose.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export function args() {
  const out = {};
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) out[argv[i].replace(/^--/, '')] = argv[i + 1];
  return out;
}

const children = [];
export function stopAll() {
  for (const child of children.splice(0)) {
    if (child.exitCode === null) child.kill('SIGTERM');
  }
}
process.on('exit', stopAll);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(1));

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Runs a test's main: its exit code is whether it failed, and no child outlives it.
export function runMain(main) {
  main()
    .then((failed) => {
      stopAll();
      process.exit(failed ? 1 : 0);
    })
    .catch((e) => {
      console.error(e);
      stopAll();
      process.exit(1);
    });
}

// Until `process` (started here) answers 200 on `${url}/api/health`.
async function healthy(child, url, what, timeoutMs = 30000) {
  await until(async () => {
    if (child.exitCode !== null) throw new Error(`${what} exited:\n${child.output}`);
    try {
      return (await fetch(`${url}/api/health`)).ok;
    } catch {
      return false;
    }
  }, `${what} to answer /api/health`, timeoutMs);
}

// Waits for `predicate` (polled), failing with `what` after timeoutMs.
export async function until(predicate, what, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await predicate();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function start(command, argv, env = {}) {
  const child = spawn(command, argv, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.output = '';
  child.stdout.on('data', (d) => (child.output += d));
  child.stderr.on('data', (d) => (child.output += d));
  children.push(child);
  return child;
}

// The fake upstream on a free port; `model` strings steer it per agent ("fake:tokens=5,...").
export async function startFake(fakeBinary) {
  const fake = start(fakeBinary, ['--port', '0']);
  const port = await until(() => fake.output.match(/listening on (\d+)/)?.[1], 'the fake upstream');
  return { process: fake, baseUrl: `http://127.0.0.1:${port}/v1` };
}

// agentdesk --headless with the fake as its provider, a token and an agent.
export async function startAgentDesk(binary, fake, { corsOrigins = [], extraArgs = [] } = {}) {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'agentdesk-js-'));
  const port = await freePort();
  const argv = ['--headless', '--port', String(port), '--data-dir', dataDir, ...extraArgs];
  for (const origin of corsOrigins) argv.push('--cors-origin', origin);
  const server = start(binary, argv, {
    OPENAI_BASE_URL: fake.baseUrl,
    OPENAI_API_KEY: 'sk-js-tests',
    OPENAI_MODEL: 'fake:tokens=5',
    QT_QPA_PLATFORM: 'offscreen',
  });
  const url = `http://127.0.0.1:${port}`;
  await healthy(server, url, 'agentdesk', 60000);
  const token = execFileSync(binary, ['token', 'create', '--tenant', 'js', '--user', 'tester', '--data-dir', dataDir], {
    encoding: 'utf8',
  }).trim();
  const api = async (method, route, body, headers = {}) => {
    const response = await fetch(url + route, {
      method,
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, json: text ? JSON.parse(text) : null };
  };
  return {
    process: server,
    url,
    token,
    dataDir,
    api,
    async createAgent(model) {
      const r = await api('POST', '/api/agents', { name: 'JS', model });
      if (r.status !== 201) throw new Error(`agent not created: ${r.status} ${JSON.stringify(r.json)}`);
      return r.json.id;
    },
    // Every session of the agent with its messages, to count turns the way the issue did.
    async sessions(agentId) {
      const list = (await api('GET', `/api/sessions?agent_id=${agentId}`)).json.sessions;
      const out = [];
      for (const s of list) out.push({ ...s, messages: (await api('GET', `/api/sessions/${s.id}/messages`)).json.messages });
      return out;
    },
    cleanup() {
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

// nginx in front of `upstreamUrl` with its defaults for a proxy: HTTP/1.0 to the upstream and
// response buffering on (AgentDesk's X-Accel-Buffering: no is what keeps the stream flowing).
export async function startNginx(upstreamUrl) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'agentdesk-nginx-'));
  mkdirSync(path.join(dir, 'tmp'));
  const port = await freePort();
  const conf = `
daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
    access_log ${dir}/access.log;
    client_body_temp_path ${dir}/tmp/body;
    proxy_temp_path ${dir}/tmp/proxy;
    fastcgi_temp_path ${dir}/tmp/fastcgi;
    uwsgi_temp_path ${dir}/tmp/uwsgi;
    scgi_temp_path ${dir}/tmp/scgi;
    server {
        listen 127.0.0.1:${port};
        location / { proxy_pass ${upstreamUrl}; }
    }
}
`;
  writeFileSync(path.join(dir, 'nginx.conf'), conf);
  const nginx = start(process.env.NGINX || '/usr/sbin/nginx', ['-p', dir, '-e', `${dir}/error.log`, '-c', `${dir}/nginx.conf`]);
  const url = `http://127.0.0.1:${port}`;
  await healthy(nginx, url, 'nginx');
  return { process: nginx, url, dir };
}

// A TCP proxy to `target` that cuts the first `cuts` connections once they carried `afterEvents`
// complete SSE events to the client: a network drop in the middle of a reply (a reset, as when a
// route goes away, so clients see an error rather than an orderly end).
// `atResponse`: reset as soon as the answer begins, before the client has any of it.
export async function startCuttingProxy(targetUrl, { afterEvents = 4, cuts = 1, atResponse = false } = {}) {
  const target = new URL(targetUrl);
  let remaining = cuts;
  const stats = { connections: 0, cut: 0 };
  const server = net.createServer((client) => {
    stats.connections += 1;
    const cutThis = remaining > 0;
    if (cutThis) remaining -= 1;
    const upstream = net.connect(Number(target.port), target.hostname);
    let seen = Buffer.alloc(0);
    let cutting = false;
    upstream.on('data', (data) => {
      if (cutting) return;
      if (!cutThis) return client.write(data);
      if (atResponse) {
        cutting = true;
        upstream.destroy();
        stats.cut += 1;
        return client.resetAndDestroy();
      }
      const before = seen.length;
      seen = Buffer.concat([seen, data]);
      let end = -1;
      for (let i = 0, from = 0; i < afterEvents; i += 1) {
        end = seen.indexOf('\n\n', from);
        if (end < 0) break;
        from = end + 2;
      }
      if (end < 0) return client.write(data);
      cutting = true;
      upstream.destroy();
      client.write(seen.subarray(before, end + 2), () =>
        // Let the client read what it got, then reset the connection.
        setTimeout(() => {
          stats.cut += 1;
          client.resetAndDestroy();
        }, 200),
      );
    });
    client.on('data', (data) => upstream.write(data));
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    upstream.on('close', () => {
      if (!cutting) client.end();
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, stats, close: () => server.close() };
}

export function check(condition, message) {
  if (!condition) throw new Error(message);
}
