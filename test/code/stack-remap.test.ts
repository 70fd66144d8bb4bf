import { describe, it, expect } from 'vitest';
import type { FunctionBundle } from '../../src/code/index.ts';
import { REMAP_POSITIONS_PER_PHASE, remapBudget } from '../../src/code/stack-remap.ts';
import { bundleOk, load } from './helpers.ts';

async function stackOf(bundle: FunctionBundle, call: (root: Record<string, unknown>) => unknown): Promise<string[]> {
  const root = await load(bundle);
  try {
    await call(root);
  } catch (error) {
    return (error as Error).stack!.split('\n');
  }
  throw new Error('expected the handler to throw');
}

describe('remapStack', () => {
  it('maps a throw on line 3 of index.mjs back to /var/task/index.mjs:3', async () => {
    const bundle = await bundleOk(
      { files: { 'index.mjs': 'import { helper } from "./lib/helper.mjs";\nexport const handler = async () => {\n  throw new Error("boom");\n};\nexport const viaHelper = () => helper();\n', 'lib/helper.mjs': '// a comment\n\nexport function helper() {\n    return null.x;\n}\n' } },
      'index.handler',
    );
    const stack = await stackOf(bundle, (root) => (root.handler as () => Promise<void>)());
    const raw = stack.find((line) => line.includes(bundle.filename));
    expect(raw).toBeDefined();
    // Unmapped, the position is the bundle's, far below line 3.
    expect(raw).not.toContain(`${bundle.filename}:3:`);
    const mapped = bundle.remapStack(stack);
    expect(mapped[0]).toBe('Error: boom');
    expect(mapped.some((line) => line.includes('/var/task/index.mjs:3:9'))).toBe(true);

    const helperStack = bundle.remapStack(await stackOf(bundle, (root) => (root.viaHelper as () => unknown)()));
    expect(helperStack.some((line) => line.includes('/var/task/lib/helper.mjs:4:17'))).toBe(true);
    expect(helperStack.some((line) => line.includes('/var/task/index.mjs:5:32'))).toBe(true);
  });

  it('accounts for the declaration spliced into line 1 of a file using import.meta', async () => {
    const bundle = await bundleOk(
      { files: { 'index.mjs': 'export const handler = () => { throw new Error(import.meta.url); };\n' } },
      'index.handler',
    );
    const mapped = bundle.remapStack(await stackOf(bundle, (root) => (root.handler as () => unknown)()));
    expect(mapped[0]).toBe('Error: file:///var/task/index.mjs');
    expect(mapped.some((line) => line.includes('/var/task/index.mjs:1:38'))).toBe(true);
  });

  it('maps CommonJS and TypeScript sources too', async () => {
    const cjs = await bundleOk({ files: { 'index.js': '\n\nexports.handler = () => {\n  undefinedFunction();\n};\n' } }, 'index.handler');
    const cjsStack = cjs.remapStack(await stackOf(cjs, (root) => (root.handler as () => unknown)()));
    expect(cjsStack.some((line) => line.includes('/var/task/index.js:4:3'))).toBe(true);

    const ts = await bundleOk(
      { files: { 'index.ts': 'type Event = { n: number };\ninterface Unused { a: string }\nexport const handler = (e: Event): number => {\n  if (e.n > 0) throw new RangeError("too big");\n  return e.n;\n};\n', 'package.json': '{"type":"module"}' } },
      'index.handler',
    );
    const tsStack = ts.remapStack(await stackOf(ts, (root) => (root.handler as (e: unknown) => unknown)({ n: 1 })));
    expect(tsStack.some((line) => line.includes('/var/task/index.ts:4:22'))).toBe(true);
  });

  it('maps lines below esbuild\'s __require shim, which the guest loader replaces (issue #12: a handler bundled with pino logged line 6994 for line 6)', async () => {
    const bundle = await bundleOk(
      { files: { 'index.mjs': 'import load from "./dep.cjs";\nexport const handler = async () => {\n  throw new Error("after the shim");\n};\nexport const loader = load;\n', 'dep.cjs': 'module.exports = (name) => require(name);\n' } },
      'index.handler',
    );
    // The computed require() made esbuild emit its multi-line shim, which plugins.ts replaced.
    expect(bundle.script).toContain('var __require = (name) => globalThis[Symbol.for(');
    const mapped = bundle.remapStack(await stackOf(bundle, (root) => (root.handler as () => Promise<void>)()));
    expect(mapped[0]).toBe('Error: after the shim');
    expect(mapped.some((line) => line.includes('/var/task/index.mjs:3:9'))).toBe(true);
  });

  it('leaves lines that do not point into the bundle unchanged', async () => {
    const bundle = await bundleOk({ files: { 'index.mjs': 'export const handler = () => 1;' } }, 'index.handler');
    const lines = ['Error: x', '    at somewhere (/opt/other.js:10:5)', '    at async Promise.all (index 0)', `    at ${bundle.filename}:1:5`];
    expect(bundle.remapStack(lines)).toEqual(lines);
  });

  describe('only stack frames, within a budget (issue #15: guest text source-mapped on the host thread)', () => {
    const source = 'export const handler = async () => {\n  throw new Error("boom");\n};\n';
    /** The bundle and the position V8 gives the throw, as `<filename>:L:C`. */
    async function thrower(): Promise<{ bundle: FunctionBundle; position: string; mapped: string }> {
      const bundle = await bundleOk({ files: { 'index.mjs': source } }, 'index.handler');
      const frame = (await stackOf(bundle, (root) => (root.handler as () => Promise<void>)())).find((line) => line.includes(bundle.filename))!;
      const position = new RegExp(`${bundle.filename.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+`).exec(frame)![0];
      return { bundle, position, mapped: '/var/task/index.mjs:2:9' };
    }

    it('remaps a frame as V8 writes it (named, anonymous, async, in JSON and Text log lines); other text naming the bundle stays', async () => {
      const { bundle, position, mapped } = await thrower();
      const frames = [
        `    at handler (${position})`,
        `    at ${position}`,
        `    at async ${position}`,
        `{"stackTrace":["Error: boom","    at handler (${position})"]}`,
        `Error: boom\r    at handler (${position})\r    at other`,
      ];
      expect(bundle.remapStack(frames)).toEqual(frames.map((line) => line.replace(position, mapped)));
      const notFrames = [`see ${position} here`, `${position}`, `(${position}x)`, `cat ${position}`, `at ${position}:9`];
      expect(bundle.remapStack(notFrames)).toEqual(notFrames);
    });

    it(`a phase looks at most ${REMAP_POSITIONS_PER_PHASE} positions: at the budget all are mapped, past it none`, async () => {
      const { bundle, position, mapped } = await thrower();
      const frame = `    at handler (${position})`;
      const budget = remapBudget();
      const under = bundle.remapStack(Array<string>(REMAP_POSITIONS_PER_PHASE - 1).fill(frame), budget);
      expect(under.every((line) => line.includes(mapped))).toBe(true);
      expect(budget.positions).toBe(1);
      // The last one the budget allows, then one past it (in the same call: lines are mapped in order).
      expect(bundle.remapStack([frame, frame], budget)).toEqual([frame.replace(position, mapped), frame]);
      expect(bundle.remapStack([frame], budget)).toEqual([frame]);
      // Non-frame positions count too: looking at them is the host's time.
      const other = remapBudget();
      bundle.remapStack([`${position} `.repeat(REMAP_POSITIONS_PER_PHASE)], other);
      expect(bundle.remapStack([frame], other)).toEqual([frame]);
      // Without a budget (the bundle's own callers, tests), nothing is counted.
      expect(bundle.remapStack(Array<string>(REMAP_POSITIONS_PER_PHASE + 1).fill(frame)).every((line) => line.includes(mapped))).toBe(true);
    });
  });
});
