/**
 * The sort conformance program (interruptible-sort.test.ts): one JavaScript source that builds the
 * same pseudo-random arrays from a seed, sorts them every way the specification allows, and returns
 * a JSON description of each outcome (elements with holes, -0, NaN, undefined and object identities
 * told apart; a thrown error by constructor name and message). Run once in a fresh Node context (the
 * native sorts) and once inside each engine's sandbox (lambdalet's replacements): the two must match.
 */
export const SORT_PROGRAM = String.raw`
function run(seed) {
  // Built-ins read once: in a vm context every global lookup goes through the context's interceptor,
  // and these run per element (the hashing alone was most of interruptible-sort.test.ts's CPU). The
  // globals the comparators and descriptions call per element are bound here too, the same objects
  // (String in reversedStrings alone was a third of Node's CPU for this program).
  const { String, Object, Number, BigInt, JSON, Array, Map, NaN, Infinity } = globalThis;
  const { floor, abs, trunc, imul } = Math;
  const hasOwn = Object.prototype.hasOwnProperty;
  let state = seed >>> 0 || 1;
  const random = () => { state ^= state << 13; state >>>= 0; state ^= state >>> 17; state ^= state << 5; state >>>= 0; return state / 4294967296; };
  const int = (n) => floor(random() * n);
  let nextId = 0;
  const objects = [];
  const makeObject = () => { const o = { id: nextId++, toString() { return 'o' + (this.id % 7); } }; objects.push(o); return o; };
  const pick = (kinds) => {
    switch (kinds[int(kinds.length)]) {
      case 'int': return int(50) - 10;
      case 'float': return (random() - 0.5) * 1e3;
      case 'special': return [NaN, -0, 0, Infinity, -Infinity, 1e21, 5e-7][int(7)];
      case 'string': return ['', 'a', 'B', 'ab', '\u00e9', '\ud83d\ude00', '\uffff', '10', '9', 'a'.repeat(300 + int(3))][int(10)];
      case 'undefined': return undefined;
      case 'null': return null;
      case 'bool': return random() < 0.5;
      case 'object': return makeObject();
      case 'bigint': return BigInt(int(100) - 50);
      default: throw new Error('kind');
    }
  };
  const describe = (v) => {
    if (v === undefined) return 'u';
    if (typeof v === 'number') return Object.is(v, -0) ? 'n-0' : 'n' + String(v);
    if (typeof v === 'bigint') return 'b' + String(v);
    if (typeof v === 'string') return v.length > 20 ? 'L' + v.length : 's' + v;
    if (v === null || typeof v === 'boolean') return String(v);
    if (typeof v === 'object' && v !== null && 'id' in v) return 'o#' + v.id;
    return typeof v;
  };
  const snapshot = (a) => {
    const out = [];
    for (let k = 0; k < a.length; k++) out.push(hasOwn.call(a, k) ? describe(a[k]) : 'hole');
    return digest(out.join(','));
  };
  // Long descriptions travel as a hash (FNV-1a) and their length: the response stays small. Each
  // distinct text is hashed once: many repeat (the unsorted base after every toSorted, the orders
  // that equal it), and hashing them char by char was a third of QuickJS's CPU for this program.
  const digests = new Map();
  const digest = (text) => {
    if (text.length <= 400) return text;
    let known = digests.get(text);
    if (known === undefined) digests.set(text, (known = fnv1a(text)));
    return known;
  };
  const fnv1a = (text) => {
    let h = 2166136261;
    for (let i = 0; i < text.length; i++) { h ^= text.charCodeAt(i); h = imul(h, 16777619) >>> 0; }
    return text.length + '#' + h.toString(16);
  };
  const attempt = (f) => { try { return f(); } catch (e) { return 'threw ' + (e && e.constructor && e.constructor.name) + ': ' + (e && e.message); } };
  const sizes = [0, 1, 2, 3, 7, 16, 100, 511, 512, 513, 1025, 3000];
  const kindSets = [['int'], ['int', 'float', 'special'], ['string'], ['string', 'int', 'undefined'], ['int', 'string', 'null', 'bool', 'undefined', 'object'], ['object', 'undefined'], ['bigint', 'int']];
  // Consistent comparators only (§23.1.3.30.1): with an inconsistent one the order is implementation-defined.
  const parity = (x) => (typeof x === 'number' && Number.isFinite(x) ? abs(trunc(x)) % 2 : 2);
  const comparators = {
    none: undefined,
    byParity: (a, b) => parity(a) - parity(b),
    constant: () => 0,
    nan: () => NaN,
    reversedStrings: (a, b) => (String(a) < String(b) ? 1 : String(a) > String(b) ? -1 : 0),
    numeric: (a, b) => a - b,
    stringResult: (a, b) => (a < b ? '-1' : a > b ? '1' : '0'),
  };
  const onlyFor = { numeric: ['int'], stringResult: ['int', 'string'] };
  const results = [];
  for (const size of sizes) {
    for (const kinds of kindSets) {
      const holes = random() < 0.4;
      const base = [];
      for (let k = 0; k < size; k++) base.push(pick(kinds));
      if (holes) for (let k = 0; k < size; k += 1 + int(5)) delete base[k];
      for (const [name, cmp] of Object.entries(comparators)) {
        if (onlyFor[name] && !(kinds.length === 1 && onlyFor[name].includes(kinds[0]))) continue;
        const a = base.slice();
        const r = attempt(() => a.sort(cmp) === a);
        results.push([size, kinds.join('+'), holes, 'sort', name, r, snapshot(a)]);
        const t = attempt(() => snapshot(base.toSorted(cmp)));
        results.push([size, kinds.join('+'), holes, 'toSorted', name, t, snapshot(base)]);
        const like = { length: a.length + 2 };
        for (let k = 0; k < base.length; k++) if (hasOwn.call(base, k)) like[k] = base[k];
        const l = attempt(() => Array.prototype.sort.call(like, cmp) === like);
        results.push([size, kinds.join('+'), holes, 'array-like', name, l, digest(JSON.stringify(Object.keys(like))), snapshot(Object.assign([], like))]);
      }
      // A comparator that throws on its first call (any sort of two different values makes one; an
      // engine may skip identical pairs, QuickJS does): the error escapes, the array is left as it was.
      const a = base.slice();
      const defined = a.filter((v) => v !== undefined);
      if (defined.some((v) => !Object.is(v, defined[0]))) {
        results.push([size, 'throws', attempt(() => a.sort(() => { throw new RangeError('stop'); })), snapshot(a) === snapshot(base)]);
      }
    }
  }
  // Errors, with Node's messages.
  results.push(attempt(() => [1, 2].sort(1)));
  results.push(attempt(() => [1, 2].sort(null)));
  results.push(attempt(() => [1, 2].toSorted({})));
  results.push(attempt(() => Array.prototype.sort.call(null)));
  results.push(attempt(() => Array.prototype.toSorted.call(undefined)));
  results.push(attempt(() => Object.freeze([2, 1]).sort()));
  results.push(attempt(() => Object.freeze([1, 2]).sort()));
  results.push(attempt(() => Array.prototype.toSorted.call({ length: 2 ** 32 })));
  results.push(attempt(() => [Symbol('x'), 1].sort()));
  results.push(attempt(() => String([Symbol('x')].sort().length)));
  results.push(attempt(() => snapshot(Array.prototype.sort.call('ab'))));
  results.push(attempt(() => { const o = { length: 3, 0: 'c', 2: 'a' }; Object.defineProperty(o, 1, { value: 'b', configurable: false, writable: true }); Array.prototype.sort.call(o); return JSON.stringify(o); }));
  results.push(attempt(() => { const o = { length: 3, 0: 'c', 2: 'a' }; Object.defineProperty(o, 2, { value: 'b', configurable: false, writable: true }); Array.prototype.sort.call(o); return JSON.stringify(o); }));
  // Access order on a Proxy (HasProperty then Get, in index order; then Set and delete).
  const log = [];
  const target = [3, , 1, undefined, 2];
  const proxy = new Proxy(target, { has(t, k) { log.push('has ' + String(k)); return k in t; }, get(t, k) { log.push('get ' + String(k)); return t[k]; }, set(t, k, v) { log.push('set ' + String(k)); t[k] = v; return true; }, deleteProperty(t, k) { log.push('delete ' + String(k)); return delete t[k]; } });
  Array.prototype.sort.call(proxy);
  results.push(log.join(';'), snapshot(target));
  // Typed arrays.
  const typed = [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array, Float64Array, BigInt64Array, BigUint64Array];
  for (const Ctor of typed) {
    for (const size of [0, 1, 5, 512, 513, 2000]) {
      const big = Ctor.name.startsWith('Big');
      const t = new Ctor(size);
      for (let k = 0; k < size; k++) t[k] = big ? BigInt(int(200) - 100) : pick(['int', 'float', 'special']);
      const show = (x) => digest(Array.from(x, (v) => (Object.is(v, -0) ? '-0' : String(v))).join(','));
      // Descending, NaN last and equal to NaN: consistent.
      const descending = (a, b) => { const na = a !== a ? 1 : 0; const nb = b !== b ? 1 : 0; return na !== nb ? na - nb : na ? 0 : b < a ? -1 : b > a ? 1 : 0; };
      results.push([Ctor.name, size, show(t.toSorted()), show(t.toSorted(descending)), show(t.toSorted(() => 0)), show(t)]);
      const u = t.slice();
      results.push([Ctor.name, size, u.sort() === u, show(u)]);
    }
  }
  results.push(attempt(() => new Float64Array(2).sort(1)));
  results.push(attempt(() => Float64Array.prototype.sort.call([])));
  results.push(attempt(() => Float64Array.prototype.toSorted.call({})));
  results.push(attempt(() => { const b = new ArrayBuffer(16); const t = new Float64Array(b); structuredClone(b, { transfer: [b] }); return t.sort(); }));
  results.push(attempt(() => { const t = new Float64Array([3, 1, 2]); return String(t.sort((a, b) => { t.fill(9); return a - b; })); }));
  // What the functions look like.
  const looks = (f) => [String(f), f.name, f.length, hasOwn.call(f, 'prototype'), attempt(() => new f()).replace(/:.*/, '')];
  const TA = Object.getPrototypeOf(Int8Array.prototype);
  results.push(looks(Array.prototype.sort), looks(Array.prototype.toSorted), looks(TA.sort), looks(TA.toSorted), String(Function.prototype.toString), Function.prototype.toString.name);
  const descriptor = (o, k) => { const d = Object.getOwnPropertyDescriptor(o, k); return [d.writable, d.enumerable, d.configurable, typeof d.value]; };
  results.push(descriptor(Array.prototype, 'sort'), descriptor(Array.prototype, 'toSorted'), descriptor(TA, 'sort'), descriptor(TA, 'toSorted'), descriptor(Function.prototype, 'toString'));
  // Index setters on the prototypes do not see the sort's private work, only the Sets on the receiver.
  const seen = [];
  Object.defineProperty(Array.prototype, 5, { set(v) { seen.push(v); }, get() { return 'p'; }, configurable: true });
  try {
    const r = [3, 1, 2].toSorted();
    const s = [4, 3, 2, 1].sort();
    results.push(snapshot(r), snapshot(s), seen.length);
  } finally { delete Array.prototype[5]; }
  return results;
}
`;
