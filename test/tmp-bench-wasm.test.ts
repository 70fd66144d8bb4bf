import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { it } from 'vitest';
import { createRuntime } from '../src/index.ts';
import { asLiteral, memoryModule } from './helpers/wasm-bytes.ts';

const lexer = readFileSync(createRequire(import.meta.url).resolve('es-module-lexer').replace(/lexer\.cjs$/, 'lexer.js'), 'utf8');
const body = `
  const time = (n, f) => { const t0 = Date.now(); for (let i = 0; i < n; i++) f(i); return (Date.now() - t0) * 1e6 / n; }; // ns per op
  await init;
  const e = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports;
  const src = "import a from './a.js'; export const b = 1;";
  let sink = 0;
  return {
    add: time(3e6, (i) => { sink += e.add(i, 1); }),
    buffer: time(1e6, () => { sink += e.memory.buffer.byteLength; }),
    lexerParse: time(20000, () => { sink += parse(src)[0].length; }),
    compileInstantiate: time(2000, () => { sink += new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports.add(1, 1); }),
    sink: sink > 0,
  };`;
it('bench', async () => {
  const rt = await createRuntime({ logSink: { write() {} } });
  await rt.deploy({ name: 'b', code: { files: { 'index.mjs': `import { init, parse } from './lexer.js'; const bytes = ${asLiteral(memoryModule({ max: 16 }))}; export const handler = async () => { ${body} };`, 'lexer.js': lexer } }, memoryMb: 256, timeoutMs: 120000 });
  const { init, parse } = (await import('es-module-lexer')) as unknown as Record<string, unknown>;
  const bytes = memoryModule({ max: 16 });
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const node = new Function('init', 'parse', 'bytes', `return (async () => { ${body} })()`) as (...a: unknown[]) => Promise<Record<string, number>>;
  const rows: Record<string, number[]>[] = [{}, {}];
  for (let round = 0; round < 5; round++) {
    const g = (await rt.invoke('b', {})).payload as Record<string, number>;
    if (round === 0) console.log('guest', JSON.stringify(g).slice(0, 400));
    const n = await node(init, parse, bytes);
    for (const [i, r] of [g, n].entries()) for (const [k, v] of Object.entries(r)) if (k !== 'sink') (rows[i]![k] ??= []).push(v);
  }
  const med = (a: number[]): number => a.sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
  for (const k of Object.keys(rows[0]!)) console.log(`${k}: guest ${med(rows[0]![k]!).toFixed(1)} ns, node ${med(rows[1]![k]!).toFixed(1)} ns, ratio ${(med(rows[0]![k]!) / med(rows[1]![k]!)).toFixed(2)}`);
  await rt.close();
}, 600000);
