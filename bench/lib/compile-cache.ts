/**
 * Imported first by bench/run.ts: Node's module compile cache for every process and thread the
 * bench starts (engine workers, process-isolation children, density children inherit it).
 *
 * The bench runs lambdalet from src/, as TypeScript: without the cache each engine worker and child
 * loads Node's type stripper and strips every module again, which users of the package (dist/,
 * JavaScript) never do. Measured (Node 24, 8 workers importing src/engines/quickjs/in-thread.ts,
 * load ~17): 11.7 MiB of RSS per worker without the cache, 3.4-3.6 with it, 3.1 from dist/; CPU per
 * worker start 185 ms without, 52-74 ms with, 49-56 ms from dist/. An outer NODE_COMPILE_CACHE
 * (or NODE_DISABLE_COMPILE_CACHE=1) wins. The same cache as the tests' (vitest.config.ts).
 */
import { fileURLToPath } from 'node:url';

process.env.NODE_COMPILE_CACHE ??= fileURLToPath(new URL('../../node_modules/.cache/node-compile-cache', import.meta.url));
