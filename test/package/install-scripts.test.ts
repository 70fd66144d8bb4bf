// Dependencies' install scripts against package.json's `allowScripts`, read from disk (no npm run):
// every package installed under node_modules (nested ones included) that has an install-time script
// (preinstall, install, postinstall, or a binding.gyp's implicit `node-gyp rebuild`) must be listed
// there, and isolated-vm (the v8 engine's addon, compiled where no prebuilt binary fits) approved.
// Why: npm 11.19.1, which Node 24 ships, ends an install with a list of the unlisted ones but still
// runs them; npm 12 skips them (README "Install", checked 2026-12-02 with a tarball whose
// postinstall writes a file). Listed, a clone's `npm install` ends without that list on npm 11 and
// still builds isolated-vm on npm 12.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

interface Manifest {
  readonly name?: string;
  readonly scripts?: Record<string, string>;
  readonly allowScripts?: Record<string, boolean>;
}

/** Every package folder under a node_modules folder, nested ones included. */
function packageDirs(nodeModules: string): string[] {
  if (!existsSync(nodeModules)) return [];
  const out: string[] = [];
  for (const entry of readdirSync(nodeModules, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
    const dir = join(nodeModules, entry.name);
    const dirs = entry.name.startsWith('@') ? readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => join(dir, e.name)) : [dir];
    for (const pkg of dirs) {
      if (existsSync(join(pkg, 'package.json'))) out.push(pkg);
      out.push(...packageDirs(join(pkg, 'node_modules')));
    }
  }
  return out;
}

/** The install-time scripts npm runs for a dependency (an implicit `node-gyp rebuild` for a binding.gyp). */
function installScripts(dir: string): string[] {
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;
  const scripts = ['preinstall', 'install', 'postinstall'].filter((name) => manifest.scripts?.[name] !== undefined);
  if (scripts.length === 0 && existsSync(join(dir, 'binding.gyp'))) scripts.push('install (node-gyp rebuild)');
  return scripts;
}

describe('install scripts (npm 11.19 lists, npm 12 skips, the ones allowScripts does not list)', () => {
  it('every installed package with an install script is listed in package.json allowScripts', () => {
    const own = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Manifest;
    const withScripts = new Map<string, string[]>();
    for (const dir of packageDirs(join(root, 'node_modules'))) {
      const scripts = installScripts(dir);
      if (scripts.length > 0) withScripts.set((JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest).name ?? dir, scripts);
    }
    // The one the v8 engine needs is among them (a scan that found nothing would prove nothing).
    expect([...withScripts.keys()]).toContain('isolated-vm');
    const unreviewed = [...withScripts].filter(([name]) => own.allowScripts?.[name] === undefined).map(([name, s]) => `${name} (${s.join(', ')})`);
    expect(unreviewed, 'run `npm install-scripts approve <name> --no-allow-scripts-pin` (or deny) and say why in README.md').toEqual([]);
    expect(own.allowScripts?.['isolated-vm']).toBe(true);
  });
});
