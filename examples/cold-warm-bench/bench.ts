/**
 * Cold and warm start of one handler, measured with tinybench.
 *
 *   node --no-node-snapshot examples/cold-warm-bench/bench.ts [--iterations N]
 *
 * Cold: each sample invokes a function redeployed just before it (a new environment: boot + INIT +
 * the invoke); the deploy itself (bundling, code cache) is not timed. Warm: each sample invokes an
 * environment that is already up. `lambdalet bench handler.ts` does the same from the command line.
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Bench } from 'tinybench';
import { createRuntime, silentSink, type FunctionConfigInput } from '../../src/index.ts';

const { values } = parseArgs({ options: { iterations: { type: 'string', default: '50' } } });
const iterations = Number(values.iterations);

const config: FunctionConfigInput = {
  name: 'priced',
  code: { entry: fileURLToPath(new URL('./handler.ts', import.meta.url)) },
  handler: 'handler.handler',
};
const event = { skus: ['sku-1', 'sku-20', 'sku-300'] };

const rt = await createRuntime({ logSink: silentSink });
await rt.deploy(config);
const check = await rt.invoke(config.name, event);
if (check.functionError) throw new Error(`the handler failed: ${JSON.stringify(check.payload)}`);
console.log('payload:', JSON.stringify(check.payload));

const bench = new Bench({ iterations, time: 0, warmupIterations: 3, warmupTime: 0, throws: true });
bench.add(
  'cold start',
  async () => {
    const res = await rt.invoke(config.name, event);
    if (!res.coldStart) throw new Error('expected a cold start');
  },
  { beforeEach: async () => void (await rt.deploy(config)) }, // replacing the function drops its warm environments
);
bench.add('warm start', async () => {
  await rt.invoke(config.name, event);
});
await bench.run();
await rt.close();

console.table(
  bench.tasks.map((task) => {
    if (task.result.state !== 'completed') throw new Error(`${task.name}: ${task.result.state}`);
    const l = task.result.latency;
    return { case: task.name, 'median ms': l.p50.toFixed(3), 'p99 ms': l.p99.toFixed(3), samples: l.samplesCount };
  }),
);
