/**
 * vitest setup file: this test process uses the guest runtime bundled once for the run
 * (global-setup.ts) instead of bundling its own with esbuild. The same hook a worker thread or child
 * process that hosts sandboxes uses (`useGuestRuntime`); what the guest runs is byte for byte what
 * this process would have bundled (same sources, same Node, see guest-cache.ts).
 */
import { readFileSync } from 'node:fs';
import { inject } from 'vitest';
import { useGuestRuntime, type GuestRuntime } from '../../src/engines/guest-bundle.ts';

useGuestRuntime(JSON.parse(readFileSync(inject('lambdaletGuestRuntime'), 'utf8')) as GuestRuntime);
