// The official `openai` npm SDK, unmodified, against AgentDesk's OpenAI-compatible surface (/v1):
// the agents as models, completions streamed and whole, the SDK's stream helper, a round trip
// through the caller's own tool, an image, usage, and each error class the SDK maps.
//
//   node openai-sdk.test.mjs --agentdesk BIN --fake BIN
import OpenAI from 'openai';
import { args, check, runMain, startAgentDesk, startCuttingProxy, startFake, until } from './harness.mjs';

const options = args();
// A 1x1 PNG.
const png =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
const fakeModel = (settings) =>
  'fake:' + Object.entries(settings).map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`).join(',');

async function expectError(promise, Class, what) {
  try {
    await promise;
  } catch (e) {
    check(e instanceof Class, `${what}: ${e?.constructor?.name} (${e?.status}) ${e?.message}, expected ${Class.name}`);
    return e;
  }
  throw new Error(`${what}: no error, expected ${Class.name}`);
}

async function main() {
  const fake = await startFake(options.fake);
  const page = 'http://chat.example';
  const server = await startAgentDesk(options.agentdesk, fake, { corsOrigins: [page], extraArgs: ['--api-concurrency', '2'] });
  const client = new OpenAI({ apiKey: server.token, baseURL: `${server.url}/v1`, maxRetries: 0 });
  const makeAgent = async (name, model) => {
    const r = await server.api('POST', '/api/agents', { name, model, system_prompt: 'You are terse.' });
    check(r.status === 201, `agent ${name}: ${r.status}`);
    return r.json.id;
  };
  const text = 'Agents as models: 智能体 😀 done.';
  const plain = await makeAgent('plain', fakeModel({ tokens: 6, text }));

  // models.list and models.retrieve: the tenant's agents.
  const models = [];
  for await (const model of client.models.list()) models.push(model);
  check(models.some((m) => m.id === plain && m.object === 'model' && m.name === 'plain'), `models: ${JSON.stringify(models)}`);
  check((await client.models.retrieve(plain)).id === plain, 'models.retrieve');

  // Non-stream, the agent named by its name; usage; the session kept with origin "api".
  const whole = await client.chat.completions.create({ model: 'plain', messages: [{ role: 'user', content: '你好' }] });
  check(whole.object === 'chat.completion' && whole.choices[0].message.content === text, `whole: ${JSON.stringify(whole)}`);
  check(whole.choices[0].finish_reason === 'stop', `whole finish: ${whole.choices[0].finish_reason}`);
  check(whole.usage.total_tokens === whole.usage.prompt_tokens + whole.usage.completion_tokens && whole.usage.completion_tokens > 0,
        `whole usage: ${JSON.stringify(whole.usage)}`);
  const visible = (await server.api('GET', `/api/sessions?agent_id=${plain}`)).json.sessions;
  const api = (await server.api('GET', `/api/sessions?agent_id=${plain}&origin=api`)).json.sessions;
  check(visible.length === 0 && api.length === 1 && api[0].origin === 'api', `sessions: ${JSON.stringify({ visible, api })}`);
  const kept = (await server.api('GET', `/api/sessions/${api[0].id}/messages`)).json.messages;
  check(kept.length === 2 && kept[0].content === '你好' && kept[1].content === text, `kept: ${JSON.stringify(kept)}`);
  const stats = (await server.api('GET', `/api/agents/${plain}/stats`)).json;
  check(stats.sessions === 1 && stats.messages === 2 && stats.tokens_used === whole.usage.total_tokens,
        `stats count the call: ${JSON.stringify(stats)}`);

  // X-AgentDesk-Session continues that session.
  const again = await client.chat.completions
    .create({ model: plain, messages: [{ role: 'user', content: 'again' }] }, { headers: { 'X-AgentDesk-Session': api[0].id } })
    .withResponse();
  check(again.response.headers.get('x-agentdesk-session') === api[0].id, 'X-AgentDesk-Session answered');
  check((await server.api('GET', `/api/sessions/${api[0].id}/messages`)).json.messages.length === 4, 'continued session has 4 messages');

  // Stream with include_usage: content deltas, a finish chunk, a usage chunk without choices.
  const stream = await client.chat.completions.create({
    model: plain, stream: true, stream_options: { include_usage: true },
    messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'stream please' }],
  });
  let streamed = '';
  let finish = null;
  let usage = null;
  for await (const chunk of stream) {
    check(chunk.object === 'chat.completion.chunk', `chunk object ${chunk.object}`);
    if (chunk.usage) usage = chunk.usage;
    for (const choice of chunk.choices) {
      streamed += choice.delta.content ?? '';
      finish = choice.finish_reason ?? finish;
    }
  }
  check(streamed === text && finish === 'stop', `stream: ${JSON.stringify(streamed)} ${finish}`);
  check(usage && usage.completion_tokens > 0, `stream usage: ${JSON.stringify(usage)}`);

  // The stream helper and finalChatCompletion(), with reasoning passed through as DeepSeek does.
  const thinker = await makeAgent('thinker', fakeModel({ tokens: 4, text: 'Forty-two.', reasoning: 'Let me think it over.' }));
  const helper = client.chat.completions.stream({ model: thinker, messages: [{ role: 'user', content: 'answer?' }] });
  let reasoning = '';
  helper.on('chunk', (chunk) => (reasoning += chunk.choices[0]?.delta?.reasoning_content ?? ''));
  const final = await helper.finalChatCompletion();
  check(final.choices[0].message.content === 'Forty-two.', `helper final: ${JSON.stringify(final.choices[0])}`);
  check(reasoning === 'Let me think it over.', `reasoning deltas: ${JSON.stringify(reasoning)}`);
  const wholeReasoning = await client.chat.completions.create({ model: thinker, messages: [{ role: 'user', content: 'q' }] });
  check(wholeReasoning.choices[0].message.reasoning_content === 'Let me think it over.', 'reasoning_content in a whole answer');

  // A round trip through the caller's own tool: streamed, then answered with role "tool".
  const tooled = await makeAgent('tooled', fakeModel({ calls: 'get_weather|{"city":"Paris"}', argsplit: 5 }));
  const tools = [{ type: 'function', function: { name: 'get_weather', description: 'Weather in a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }];
  const asked = [{ role: 'user', content: 'Weather in Paris?' }];
  const toolStream = client.chat.completions.stream({ model: tooled, messages: asked, tools, tool_choice: 'auto' });
  const toolFinal = await toolStream.finalChatCompletion();
  const choice = toolFinal.choices[0];
  check(choice.finish_reason === 'tool_calls', `tool finish: ${choice.finish_reason}`);
  const call = choice.message.tool_calls?.[0];
  check(call?.function.name === 'get_weather' && JSON.parse(call.function.arguments).city === 'Paris' && call.id,
        `tool call: ${JSON.stringify(choice.message)}`);
  const answered = await client.chat.completions.create({
    model: tooled, tools,
    messages: [...asked, choice.message, { role: 'tool', tool_call_id: call.id, content: '18°C, sunny' }],
  });
  check(answered.choices[0].message.content.includes('18°C, sunny') && answered.choices[0].finish_reason === 'stop',
        `after the tool: ${JSON.stringify(answered.choices[0])}`);
  const wholeCall = await client.chat.completions.create({ model: tooled, tools, messages: asked });
  check(wholeCall.choices[0].message.tool_calls[0].function.name === 'get_weather', 'tool call in a whole answer');

  // An image, as a data URL.
  const seeing = await makeAgent('seeing', 'fake:tokens=3');
  const seen = await client.chat.completions.create({ model: seeing, messages: [{ role: 'user', content: [
    { type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url: `data:image/png;base64,${png}` } }] }] });
  check(/I see 1 image/.test(seen.choices[0].message.content), `image: ${seen.choices[0].message.content}`);

  // Errors, each as the SDK's own class.
  const badKey = new OpenAI({ apiKey: 'not-a-token', baseURL: `${server.url}/v1`, maxRetries: 0 });
  const auth = await expectError(badKey.models.list(), OpenAI.AuthenticationError, 'bad key');
  check(auth.code === 'invalid_api_key', `401 code ${auth.code}`);
  // The completions route takes large bodies, so its token is checked as soon as the head is read.
  const authPost = await expectError(badKey.chat.completions.create({ model: plain, messages: asked }),
                                     OpenAI.AuthenticationError, 'bad key on completions');
  check(authPost.code === 'invalid_api_key' && authPost.type === 'authentication_error', `401 on POST: ${authPost.code} ${authPost.type}`);
  const missing = await expectError(client.chat.completions.create({ model: 'no-such-agent', messages: asked }), OpenAI.NotFoundError, 'unknown model');
  check(missing.code === 'model_not_found' && missing.param === 'model', `404: ${missing.code} ${missing.param}`);
  const bad = await expectError(client.chat.completions.create({ model: plain, messages: [{ role: 'robot', content: 'x' }] }),
                                OpenAI.BadRequestError, 'bad role');
  check(bad.param === 'messages[0].role' && bad.type === 'invalid_request_error', `400: ${bad.param} ${bad.type}`);
  await expectError(client.chat.completions.create({ model: plain, messages: asked, n: 2 }), OpenAI.BadRequestError, 'n=2');
  await expectError(client.chat.completions.create({ model: plain, messages: [{ role: 'user', content: [
    { type: 'image_url', image_url: { url: 'data:image/png;base64,aGVsbG8=' } }] }] }), OpenAI.BadRequestError, 'not an image');

  // The provider's rate limit before any word is the caller's 429; a failure mid-stream an error the SDK raises.
  const limited = await makeAgent('limited', fakeModel({ status: 429 }));
  const rate = await expectError(client.chat.completions.create({ model: limited, messages: asked, stream: true }),
                                 OpenAI.RateLimitError, 'upstream 429');
  check(rate.headers?.get('retry-after'), 'Retry-After on 429');
  const failing = await makeAgent('failing', fakeModel({ tokens: 6, inband: 2 }));
  const failingStream = await client.chat.completions.create({ model: failing, messages: asked, stream: true });
  let before = '';
  const inband = await expectError((async () => {
    for await (const chunk of failingStream) before += chunk.choices[0]?.delta?.content ?? '';
  })(), OpenAI.APIError, 'error mid-stream');
  check(before.length > 0 && inband.error, `mid-stream error after ${JSON.stringify(before)}: ${inband.message}`);

  // AgentDesk's own limit: at most 2 completions of one user at once (--api-concurrency 2).
  const slow = await makeAgent('slow', fakeModel({ tokens: 40, delay: 50 }));
  const running = [1, 2].map(() => client.chat.completions.create({ model: slow, messages: asked }));
  await until(async () => {
    const list = (await server.api('GET', `/api/sessions?agent_id=${slow}&origin=api`)).json.sessions;
    return list.filter((s) => s.streaming).length === 2;
  }, 'two slow completions running');
  const busy = await expectError(client.chat.completions.create({ model: slow, messages: asked }), OpenAI.RateLimitError, 'over the limit');
  check(busy.headers.get('retry-after') === '1', 'Retry-After on our own 429');
  await Promise.all(running);

  // A caller that leaves stops the reply at once (no resume grace on /v1).
  const cutProxy = await startCuttingProxy(server.url, { afterEvents: 4 });
  const cutClient = new OpenAI({ apiKey: server.token, baseURL: `${cutProxy.url}/v1`, maxRetries: 0 });
  const cutStream = await cutClient.chat.completions.create({ model: slow, messages: [{ role: 'user', content: 'cut me' }], stream: true });
  // The SDK may end the iteration quietly or raise (undici's "terminated"): either way the text is short.
  let cutText = '';
  let cutError = null;
  try {
    for await (const chunk of cutStream) cutText += chunk.choices[0]?.delta?.content ?? '';
  } catch (e) {
    cutError = e;
  }
  check(cutText.split(' ').length < 40, `the cut stream got it all: ${cutText}`);
  await until(async () => {
    const list = (await server.api('GET', `/api/sessions?agent_id=${slow}&origin=api`)).json.sessions;
    const session = list.find((s) => s.title === 'cut me');
    if (!session || session.streaming) return false;
    const messages = (await server.api('GET', `/api/sessions/${session.id}/messages`)).json.messages;
    return messages[1].finish_reason === 'Disconnected';
  }, `the cut reply (${cutError?.message ?? 'ended quietly'}) to stop as Disconnected`, 5000);
  cutProxy.close();

  // CORS as on the rest of the API: a page's preflight with the SDK's own headers, then the answer.
  const preflight = await fetch(`${server.url}/v1/chat/completions`, { method: 'OPTIONS', headers: {
    Origin: page, 'Access-Control-Request-Method': 'POST',
    'Access-Control-Request-Headers': 'authorization, content-type, x-stainless-os, x-agentdesk-session' } });
  check(preflight.status === 204 && preflight.headers.get('access-control-allow-origin') === page &&
        /x-stainless-os/.test(preflight.headers.get('access-control-allow-headers')), `preflight: ${preflight.status}`);
  const fromPage = await fetch(`${server.url}/v1/chat/completions`, { method: 'POST',
    headers: { Origin: page, Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ model: plain, messages: asked }) });
  check(fromPage.status === 200 && fromPage.headers.get('access-control-allow-origin') === page &&
        /X-AgentDesk-Session/.test(fromPage.headers.get('access-control-expose-headers')), 'CORS on the answer');
  const otherPage = await fetch(`${server.url}/v1/models`, { headers: { Origin: 'http://evil.example', Authorization: `Bearer ${server.token}` } });
  check(!otherPage.headers.get('access-control-allow-origin'), 'no CORS for another origin');

  // The network dies as AgentDesk begins to answer: APIConnectionError, and the reply stops.
  const resetProxy = await startCuttingProxy(server.url, { atResponse: true });
  const deadClient = new OpenAI({ apiKey: server.token, baseURL: `${resetProxy.url}/v1`, maxRetries: 0 });
  await expectError(deadClient.chat.completions.create({ model: slow, stream: true, messages: [{ role: 'user', content: 'reset me' }] }),
                    OpenAI.APIConnectionError, 'reset');
  check(resetProxy.stats.cut === 1, `reset proxy: ${JSON.stringify(resetProxy.stats)}`);
  await until(async () => {
    const list = (await server.api('GET', `/api/sessions?agent_id=${slow}&origin=api`)).json.sessions;
    const session = list.find((s) => s.title === 'reset me');
    if (!session || session.streaming) return false;
    return (await server.api('GET', `/api/sessions/${session.id}/messages`)).json.messages[1].finish_reason === 'Disconnected';
  }, 'the reset reply to stop as Disconnected', 5000);
  resetProxy.close();

  server.cleanup();
  console.log('openai SDK against /v1: ok');
  return false;
}

runMain(main);
