import { componentize } from '@bytecodealliance/componentize-js';
import { readFileSync, writeFileSync } from 'node:fs';
const t0 = performance.now();
try {
  const r = await componentize(readFileSync('/tmp/wasm-cz/fn.js', 'utf8'), readFileSync('/work/wt/wasm/native/wit/function.wit', 'utf8'), { worldName: 'function', disableFeatures: ['http', 'fetch-event'] });
  console.log('sm ms', (performance.now() - t0).toFixed(0), 'bytes', r.component.length, JSON.stringify(r.imports).slice(0, 400));
  writeFileSync('/tmp/wasm-cz/sm.wasm', r.component);
} catch (e) { console.log('sm failed', (performance.now() - t0).toFixed(0), e.stack?.slice(0, 600)); }
