/**
 * Heavy host calls of a guest and the host's event loop, in two source trees (before / after a
 * change to the host-call path), measured in one process, interleaved (issue #15, red team
 * 1-host-thread-brotli and 3-sync-host-call-flood). While a guest runs a heavy call the host keeps
 * a 1 ms interval: its longest gap between two ticks and its tick count tell whether the host's
 * thread stayed free. Cases:
 *   brotli   one `zlib.brotliCompressSync` of `X_BROTLI_MIB` MiB (default 8) at quality 11
 *   pbkdf2   `pbkdf2Sync` at lambdalet's bound (2,000,000 × sha512, 64 bytes) in a loop for `X_PBKDF2_MS` (default 8,000) ms
 *   stat     `fs.statSync('/tmp')` 2,000 times per invoke: the cost of an ordinary synchronous host call (µs per call)
 *   idle     the handler awaits a 2 s timer: the machine's own longest gap at this load, for scale
 * Rounds alternate which tree goes first. Prints per case and tree the medians, and the ratio.
 * `X_ENGINE` (default v8), `X_ISO` (default in-process), `X_CASES` (default idle,brotli,pbkdf2,stat).
 *
 *   git worktree add --detach /tmp/before <commit> && ln -s "$PWD/node_modules" /tmp/before/
 *   node --no-node-snapshot bench/compare-heavy-calls.ts /tmp/before "$PWD" [rounds=3]
 */
const [aRoot, bRoot, rounds = '3'] = process.argv.slice(2);
if (!aRoot || !bRoot) throw new Error('usage: bench/compare-heavy-calls.ts <before tree> <after tree> [rounds]');
type Lib = typeof import('../src/index.ts');
const A = (await import(`${aRoot}/src/index.ts`)) as Lib;
const B = (await import(`${bRoot}/src/index.ts`)) as Lib;

const HANDLER = `
import fs from 'node:fs';
import zlib from 'node:zlib';
import crypto from 'node:crypto';
export const handler = async (event) => {
  if (event.op === 'brotli') {
    // Text-like, poorly repetitive input: quality 11 does its full work on it.
    const input = Buffer.alloc(event.mib * 1024 * 1024);
    let x = 12345;
    for (let i = 0; i < input.length; i++) { x = (Math.imul(x, 1103515245) + 12345) >>> 0; input[i] = 97 + ((x >>> 16) % 26); }
    const out = zlib.brotliCompressSync(input, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } });
    return { calls: 1, bytes: out.length };
  }
  if (event.op === 'pbkdf2') {
    let calls = 0;
    const end = Date.now() + event.ms;
    while (Date.now() < end) { crypto.pbkdf2Sync('pw', 'salt', 2000000, 64, 'sha512'); calls++; }
    return { calls };
  }
  if (event.op === 'idle') { await new Promise((resolve) => setTimeout(resolve, 2000)); return { calls: 0 }; }
  for (let i = 0; i < event.n; i++) fs.statSync('/tmp');
  return { calls: event.n };
};`;

const engine = (process.env.X_ENGINE ?? 'v8') as 'v8' | 'quickjs';
const isolation = (process.env.X_ISO ?? 'in-process') as 'in-process' | 'process';
const cases = (process.env.X_CASES ?? 'idle,brotli,pbkdf2,stat').split(',');
const STAT_CALLS = 2000;
const median = (xs: number[]): number => { const s = [...xs].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]!; };

const rigs = await Promise.all([A, B].map(async (lib) => {
  const rt = await lib.createRuntime({ logSink: lib.silentSink, isolation });
  await rt.deploy({ name: 'f', engine, memoryMb: 1024, timeoutMs: 600_000, code: { files: { 'index.mjs': HANDLER } } });
  await rt.invoke('f', { op: 'stat', n: 1 });
  return { rt };
}));

/** One invocation with a 1 ms host interval running: the host's longest gap and tick count, the invoke's wall time. */
async function measure(rt: (typeof rigs)[number]['rt'], event: object): Promise<{ gapMs: number; ticks: number; wallMs: number; calls: number }> {
  let last = performance.now();
  let gapMs = 0;
  let ticks = 0;
  const interval = setInterval(() => {
    const now = performance.now();
    gapMs = Math.max(gapMs, now - last);
    last = now;
    ticks++;
  }, 1);
  const t0 = performance.now();
  const res = await rt.invoke('f', event);
  const wallMs = performance.now() - t0;
  clearInterval(interval);
  gapMs = Math.max(gapMs, performance.now() - last);
  if (res.functionError) throw new Error(`the case failed: ${JSON.stringify(res.payload)}`);
  return { gapMs, ticks, wallMs, calls: (res.payload as { calls: number }).calls };
}

for (const name of cases) {
  const event =
    name === 'brotli' ? { op: 'brotli', mib: Number(process.env.X_BROTLI_MIB ?? 8) }
    : name === 'pbkdf2' ? { op: 'pbkdf2', ms: Number(process.env.X_PBKDF2_MS ?? 8000) }
    : name === 'idle' ? { op: 'idle' }
    : { op: 'stat', n: STAT_CALLS };
  const samples = rigs.map(() => [] as Awaited<ReturnType<typeof measure>>[]);
  const repeat = name === 'stat' ? 10 : 1;
  for (let r = 0; r < Number(rounds); r++) {
    for (const i of r % 2 ? [0, 1] : [1, 0]) {
      for (let k = 0; k < repeat; k++) samples[i]!.push(await measure(rigs[i]!.rt, event));
    }
  }
  const summary = samples.map((xs) => ({
    gapMs: +median(xs.map((x) => x.gapMs)).toFixed(1),
    ticks: median(xs.map((x) => x.ticks)),
    wallMs: +median(xs.map((x) => x.wallMs)).toFixed(1),
    calls: median(xs.map((x) => x.calls)),
    ...(name === 'stat' ? { usPerCall: +(median(xs.map((x) => x.wallMs)) * 1000 / STAT_CALLS).toFixed(2) } : {}),
  }));
  const [before, after] = summary;
  console.log(JSON.stringify({ case: name, engine, isolation, before, after, gapRatio: +(after!.gapMs / before!.gapMs).toFixed(3), wallRatio: +(after!.wallMs / before!.wallMs).toFixed(3), samples: samples[0]!.length }));
}
for (const { rt } of rigs) await rt.close();
process.exit(0);
