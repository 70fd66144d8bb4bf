/**
 * sort/<kind>-20k/<engine>: one sample = one warm invoke whose handler sorts a fresh copy of a
 * 20,000-element array made at INIT — the guest's interruptible sorts (src/engines/guest/
 * interruptible-sort.ts: natively in bounded runs, merged in JavaScript; the default order of
 * non-strings merged wholly in JavaScript). Kinds: `numbers-default` (`a.sort()`: ToString order),
 * `numbers-compare` (`(x, y) => x - y`), `strings-default`, `objects-compare`. Beside them, in the
 * same run: `node` (the host's own sort of the same array) and `quickjs-native` (QuickJS's own sort in
 * a raw quickjs-emscripten context, no invoke around it), the engines' uninterruptible sorts that
 * lambdalet replaces. The invoke's own cost (tens of µs) is small beside a sort of milliseconds.
 */
import { runInThisContext } from 'node:vm';
import RELEASE_SYNC_EXPORTS from '@jitl/quickjs-wasmfile-release-sync';
import { newQuickJSWASMModuleFromVariant, type QuickJSSyncVariant } from 'quickjs-emscripten-core';
import { runtimeFor } from '../lib/lambdalet.ts';
import type { Suite } from '../lib/suite.ts';

const RELEASE_SYNC = ((RELEASE_SYNC_EXPORTS as { default?: QuickJSSyncVariant }).default ?? RELEASE_SYNC_EXPORTS) as QuickJSSyncVariant;

/** The arrays (same seed everywhere) and one sort of each kind, as guest-side JavaScript. */
const PROGRAM = `
let s = 1;
const rnd = () => { s = (s * 16807) % 2147483647; return s / 2147483647; };
const numbers = Array.from({ length: 20000 }, () => rnd() * 1e6);
const strings = numbers.map((n) => 'k' + n.toFixed(3));
const objects = numbers.map((n, i) => ({ n, i }));
const sorts = {
  'numbers-default': () => numbers.slice().sort().length,
  'numbers-compare': () => numbers.slice().sort((x, y) => x - y).length,
  'strings-default': () => strings.slice().sort().length,
  'objects-compare': () => objects.slice().sort((x, y) => x.n - y.n).length,
};`;
const KINDS = ['numbers-default', 'numbers-compare', 'strings-default', 'objects-compare'] as const;

export async function sortArea(suite: Suite): Promise<void> {
  const iterations = suite.pick(20, 6);
  // The host's own sorts (V8's, uninterruptible) of the same arrays.
  // In this context, not a vm context (whose global lookups go through an interceptor, slower).
  const host = runInThisContext(`(() => { ${PROGRAM}; return sorts; })()`) as Record<string, () => number>;
  for (const kind of KINDS) await suite.measure(`sort/${kind}-20k/node`, () => expectLength(host[kind]!()), { iterations });

  // QuickJS's own sorts (uninterruptible C), called straight in a raw context.
  const module = await newQuickJSWASMModuleFromVariant(RELEASE_SYNC);
  const context = module.newContext();
  try {
    context.unwrapResult(context.evalCode(`${PROGRAM}; globalThis.sorts = sorts;`)).dispose();
    for (const kind of KINDS) {
      await suite.measure(`sort/${kind}-20k/quickjs-native`, () => {
        const result = context.unwrapResult(context.evalCode(`sorts['${kind}']()`));
        const length = context.getNumber(result);
        result.dispose();
        expectLength(length);
      }, { iterations });
    }
  } finally {
    context.dispose();
  }

  const rt = await runtimeFor('v8');
  try {
    for (const engine of ['v8', 'quickjs'] as const) {
      const name = `sort-${engine}`;
      await rt.deploy({ name, engine, memoryMb: 512, timeoutMs: 120_000, code: { files: { 'index.mjs': `${PROGRAM}\nexport const handler = async (kind) => sorts[kind]();` } } });
      for (const kind of KINDS) {
        const label = `sort/${kind}-20k/${engine}`;
        await suite.measure(label, async () => expectLength((await rt.invoke(name, kind)).payload), { iterations });
        suite.ratio(label, `sort/${kind}-20k/node`);
        suite.ratio(label, `sort/${kind}-20k/quickjs-native`);
      }
    }
  } finally {
    await rt.close();
  }
}

function expectLength(length: unknown): void {
  if (length !== 20000) throw new Error(`sort bench: expected 20000 sorted elements, got ${JSON.stringify(length)}`);
}
