/**
 * The handler code every case runs, in two spellings of the same code: a module for lambdalet
 * (`export const handler = ...`, bundled at deploy) and a script whose value is the handler
 * function, for the baselines (evaluated in an isolate, a QuickJS context, a vm context, a worker
 * or a forked process).
 */

export interface HandlerCode {
  readonly name: string;
  /** For lambdalet: the module's source (index.mjs). */
  readonly module: string;
  /** For the baselines: a script whose completion value is the handler function. */
  readonly script: string;
}

const TRIVIAL_FN = 'async (e) => ({ hi: e.name })';
const ECHO_FN = 'async (e) => e';

/**
 * ~100 ms of top-level work: a spin until the wall clock has moved 100 ms. Engines differ 10-50x
 * in raw speed (QuickJS interprets), so a fixed amount of work would time the engine, not the cold
 * start; a fixed amount of time makes the figure "cold start + 100 ms" everywhere.
 */
export const HEAVY_INIT_MS = 100;
const HEAVY_TOP = `const __end = Date.now() + ${HEAVY_INIT_MS}; let __n = 0; while (Date.now() < __end) __n += Math.sqrt(__n + 1);`;
const HEAVY_FN = 'async (e) => ({ hi: e.name, spun: __n > 0 })';

export const TRIVIAL: HandlerCode = {
  name: 'trivial',
  module: `export const handler = ${TRIVIAL_FN};`,
  script: `(${TRIVIAL_FN})`,
};

export const ECHO: HandlerCode = {
  name: 'echo',
  module: `export const handler = ${ECHO_FN};`,
  script: `(${ECHO_FN})`,
};

export const HEAVY: HandlerCode = {
  name: 'heavy-init',
  module: `${HEAVY_TOP}\nexport const handler = ${HEAVY_FN};`,
  script: `(() => { ${HEAVY_TOP} return ${HEAVY_FN}; })()`,
};

/**
 * SnapStart's case: INIT that builds a 200,000-entry table (real work whose result the snapshot
 * must hold: tens of MB of heap), and a handler that reads it.
 */
const TABLE_TOP = `const table = new Map(); for (let i = 0; i < 200000; i++) table.set('k' + i, { i, s: String(i) });`;
const TABLE_FN = "async (e) => ({ hi: e.name, size: table.size, k1234: table.get('k1234').s })";

export const TABLE: HandlerCode = {
  name: 'table-init',
  module: `${TABLE_TOP}\nexport const handler = ${TABLE_FN};`,
  script: `(() => { ${TABLE_TOP} return ${TABLE_FN}; })()`,
};

export const TRIVIAL_EVENT = { name: 'bench' };
export const TRIVIAL_ANSWER = JSON.stringify({ hi: 'bench' });

/** lambdalet's default memoryMb; the raw isolates and QuickJS instances get the same. */
export const MEMORY_MB = 128;

/** An object of realistic records whose JSON is about `bytes` long. */
export function jsonEventOfAbout(bytes: number): { items: unknown[] } {
  const items: unknown[] = [];
  let length = '{"items":[]}'.length;
  for (let i = 0; length < bytes; i++) {
    const item = { id: i, sku: `sku-${String(i).padStart(6, '0')}`, name: `item number ${i}`, price: i * 1.25, tags: ['a', 'b'], inStock: i % 3 !== 0 };
    items.push(item);
    length += JSON.stringify(item).length + (i > 0 ? 1 : 0);
  }
  return { items };
}

export const JSON_EVENT = jsonEventOfAbout(100 * 1024);
export const JSON_EVENT_TEXT = JSON.stringify(JSON_EVENT);

/** Throws unless `payload` is the expected answer (compared as JSON). */
export function expectAnswer(label: string, payload: unknown, expected: string): void {
  const text = JSON.stringify(payload);
  if (text !== expected) throw new Error(`${label} answered ${String(text).slice(0, 200)}`);
}
