import { createRuntime } from './src/index.ts';
const lines: string[] = [];
const rt = await createRuntime({ logSink: { write: (l: string) => lines.push(l) } });
for (const f of ['qjs-default', 'qjs-sync', 'qjs-sync-optSize']) {
  try {
    let t = performance.now();
    await rt.deploy({ name: f, engine: 'wasm', code: { component: `/tmp/wasm-cz/${f}.wasm` } });
    console.log(f, 'deploy ms', (performance.now() - t).toFixed(0));
    for (const ev of ['x', 'y', 'error']) {
      t = performance.now();
      const r = await rt.invoke(f, ev);
      console.log(' ', ev, (performance.now() - t).toFixed(2), r.coldStart, r.initDurationMs?.toFixed(2), r.functionError ?? '', JSON.stringify(r.payload));
    }
  } catch (e) { console.log(f, 'failed', (e as Error).message); }
}
console.log(lines.filter(l => !l.startsWith('START') && !l.startsWith('END')).slice(0, 12).join('\n'));
await rt.close();
