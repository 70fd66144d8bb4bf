/**
 * A small multi-tenant host: each tenant uploads a handler as a string; the host deploys it with
 * that tenant's limits (memory, timeout) and invokes it. One tenant is hostile — an infinite loop
 * and a memory bomb — and is contained (Sandbox.Timedout, Runtime.OutOfMemory) while the others
 * keep answering. Usage in GB-seconds per tenant is printed at the end.
 *
 * Tenants' code is untrusted, so the sandboxes run in child processes (`isolation: 'process'`, the
 * mode the README recommends for hostile code): a v8 heap blow-up that escapes isolated-vm's limit
 * ends one child, which is replaced, instead of every v8 function of this process.
 *
 *   node --no-node-snapshot examples/saas-embedding/host.ts
 */
import { createRuntime, type InvokeResult, type LogSink } from '../../src/index.ts';

interface Tenant {
  readonly id: string;
  /** The tenant's plan: what its functions may use. */
  readonly memoryMb: number;
  readonly timeoutMs: number;
  /** The code the tenant uploaded (one ESM module). */
  readonly source: string;
  /** What round `n` sends. */
  readonly event: (round: number) => unknown;
}

const tenants: Tenant[] = [
  {
    id: 'acme',
    memoryMb: 128,
    timeoutMs: 1000,
    source: `let calls = 0;
      export const handler = async (event) => ({ tenant: 'acme', hello: event.name, calls: ++calls });`,
    event: () => ({ name: 'Ada' }),
  },
  {
    id: 'globex',
    memoryMb: 256,
    timeoutMs: 1000,
    source: `export const handler = async ({ n }) => {
        let a = 0, b = 1;
        for (let i = 0; i < n; i++) [a, b] = [b, (a + b) % 1000000007];
        return { tenant: 'globex', fib: a };
      };`,
    event: () => ({ n: 10_000 }),
  },
  {
    id: 'mallory',
    memoryMb: 128,
    timeoutMs: 1000,
    // Spins forever, or allocates until the isolate's heap limit, as the event says.
    source: `export const handler = async ({ attack }) => {
        if (attack === 'spin') for (;;) {}
        const hoard = [];
        for (let i = 0; ; i++) hoard.push(new Array(1e6).fill(i));
      };`,
    event: (round) => ({ attack: round % 2 === 1 ? 'spin' : 'memory-bomb' }),
  },
];

const ROUNDS = 4;
/** Tenants' own log lines are not this demo's point; errors are shown from the results. */
const quiet: LogSink = { write() {} };

interface Usage {
  invokes: number;
  errors: Record<string, number>;
  gbSeconds: number;
  slowestMs: number;
}

const usage = new Map<string, Usage>(tenants.map((t) => [t.id, { invokes: 0, errors: {}, gbSeconds: 0, slowestMs: 0 }]));
const isolation = 'process';
const rt = await createRuntime({ logSink: quiet, isolation });
console.log(`isolation: ${isolation}`);
try {
  for (const t of tenants) {
    await rt.deploy({ name: `tenant-${t.id}`, code: { files: { 'index.mjs': t.source } }, memoryMb: t.memoryMb, timeoutMs: t.timeoutMs });
  }
  for (let round = 1; round <= ROUNDS; round++) {
    // Every tenant is invoked at once; a hostile one must not hold the others up.
    const results = await Promise.all(
      tenants.map(async (t) => {
        const started = performance.now();
        const result = await rt.invoke(`tenant-${t.id}`, t.event(round));
        return { t, result, wallMs: performance.now() - started };
      }),
    );
    const line = results.map(({ t, result, wallMs }) => `${t.id}: ${describe(result)} (${wallMs.toFixed(0)} ms)`);
    console.log(`round ${round}  ${line.join('  |  ')}`);
    for (const { t, result, wallMs } of results) record(t, result, wallMs);
  }
} finally {
  await rt.close();
}

console.log('\nusage per tenant (billed duration × memory):');
console.log(`${'tenant'.padEnd(8)}  ${'invokes'.padStart(7)}  ${'GB-seconds'.padStart(12)}  ${'slowest ms'.padStart(10)}  errors`);
for (const [id, u] of usage) {
  const errors = Object.entries(u.errors).map(([type, n]) => `${type} ×${n}`).join(', ') || '-';
  console.log(`${id.padEnd(8)}  ${String(u.invokes).padStart(7)}  ${u.gbSeconds.toFixed(9).padStart(12)}  ${u.slowestMs.toFixed(0).padStart(10)}  ${errors}`);
}

function describe(result: InvokeResult): string {
  if (!result.functionError) return `ok ${JSON.stringify(result.payload)}`;
  return `contained ${(result.payload as { errorType: string }).errorType}`;
}

function record(t: Tenant, result: InvokeResult, wallMs: number): void {
  const u = usage.get(t.id)!;
  u.invokes++;
  u.gbSeconds += (result.billedDurationMs / 1000) * (t.memoryMb / 1024);
  u.slowestMs = Math.max(u.slowestMs, wallMs);
  if (result.functionError) {
    const type = (result.payload as { errorType: string }).errorType;
    u.errors[type] = (u.errors[type] ?? 0) + 1;
  }
}
