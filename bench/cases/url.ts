/**
 * url/new-url-mix-x100/<engine>: one sample = one warm invoke whose handler runs 100 `new URL()`
 * over a fixed mix of 10 inputs (API URLs with a query, a path-absolute input against a base, an
 * IPv6 host, an IDN host, file:, data:, a URL with credentials, a dot segment) and reads each
 * one's href — the guest's core-js URL with lambdalet's build-time patches (src/engines/
 * guest-url-build.ts; issues #12, #21). Beside it, in the same run: `node`, the host's own URL
 * (ada) on the same loop. The invoke's own cost (tens of µs) is a small share of the sample.
 */
import { runInThisContext } from 'node:vm';
import { runtimeFor } from '../lib/lambdalet.ts';
import type { Suite } from '../lib/suite.ts';

const PROGRAM = `
const INPUTS = [
  ['https://api.example.com/v1/users/123?expand=profile&limit=10'],
  ['https://s3.us-east-1.amazonaws.com/bucket/key%20name?x-id=GetObject'],
  ['/v1/items?x=1', 'https://example.com/base/path'],
  ['http://[2001:db8::1]:8080/p'],
  ['https://münchen.example/straße'],
  ['file:///var/task/index.mjs'],
  ['data:text/plain;base64,SGVsbG8='],
  ['https://user:pass@h.example:8443/a/b#frag'],
  ['https://h.example/a/./b/../c'],
  ['http://localhost:3000/api?q=a+b'],
];
const parseMix = () => {
  let length = 0;
  for (let i = 0; i < 100; i++) {
    const [input, base] = INPUTS[i % INPUTS.length];
    length += new URL(input, base).href.length;
  }
  return length;
};`;

export async function urlArea(suite: Suite): Promise<void> {
  const iterations = suite.pick(40, 10);
  // In this context, not a vm context (whose global lookups go through an interceptor, slower).
  const host = runInThisContext(`(() => { ${PROGRAM}; return parseMix; })()`) as () => number;
  const expected = host();
  await suite.measure('url/new-url-mix-x100/node', () => expectLength(host(), expected), { iterations: iterations * 10 });

  const rt = await runtimeFor('v8');
  try {
    for (const engine of ['v8', 'quickjs'] as const) {
      const name = `url-${engine}`;
      await rt.deploy({ name, engine, code: { files: { 'index.mjs': `${PROGRAM}\nexport const handler = async () => parseMix();` } } });
      const label = `url/new-url-mix-x100/${engine}`;
      await suite.measure(label, async () => expectLength((await rt.invoke(name, {})).payload, expected), { iterations });
      suite.ratio(label, 'url/new-url-mix-x100/node');
    }
  } finally {
    await rt.close();
  }
}

function expectLength(length: unknown, expected: number): void {
  if (length !== expected) throw new Error(`url bench: expected hrefs of ${expected} characters in all, got ${JSON.stringify(length)}`);
}
