import { readFileSync } from 'node:fs';
import { transpileComponent, compileCapped } from './src/engines/wasm/transpile.ts';
import { GuestWorker } from './src/engines/wasm/worker-host.ts';
for (const file of ['native/components/hello.wasm', '/tmp/wasm-cz/qjs-sync.wasm', '/tmp/wasm-cz/qjs-default.wasm']) {
  const t = await transpileComponent(readFileSync(file));
  const modules = await compileCapped(t, 128);
  const hooks = { onLog: () => {}, hostCall: () => 'o{}' };
  const ctx = { requestId: 'r', functionName: 'f', functionVersion: '$LATEST', invokedFunctionArn: 'a', memoryLimitMb: 128, deadlineMs: Date.now() + 1000 };
  const res = [];
  for (let i = 0; i < 4; i++) {
    const w = await GuestWorker.spawn({ glue: t.glue, modules, memoryCapBytes: 128 * 1024 * 1024 });
    await new Promise((r) => setTimeout(r, 300));
    let t0 = performance.now();
    await w.request({ t: 'init', env: {} }, 5000, hooks);
    const init = performance.now() - t0;
    t0 = performance.now();
    const o = await w.request({ t: 'invoke', event: '"x"', context: ctx }, 5000, hooks);
    const first = performance.now() - t0;
    res.push(`init ${init.toFixed(2)} first ${first.toFixed(2)} ${o.outcome.t}`);
    w.terminate();
  }
  console.log(file, res.join(' | '));
}
