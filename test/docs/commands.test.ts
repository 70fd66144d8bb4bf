// The commands and links the docs give a reader must exist as written (issue #12 items 6 and 7: a
// first user followed them and stumbled). Cheap checks, no child process: every relative link
// resolves, every `npm run <script>` is a script, every file a `node …` or `npx vitest run …` line
// names exists, every `lambdalet <command> --flag` line uses a command and flags its --help lists,
// and every example directory is named in the README's Examples section. What the commands then
// print is checked by the tests that run them: test/examples/examples.test.ts (each example's
// README command), examples/cluster/cluster.test.ts, test/package/packed-install.test.ts (the
// Quick start and `lambdalet invoke` from the installed tarball), test/package/node-version.test.ts.
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Every Markdown file a reader is sent to: README.md, docs/, each example's and each src/ area's README, test/README.md. */
async function docFiles(): Promise<string[]> {
  const files = [join(root, 'README.md'), join(root, 'test', 'README.md')];
  for (const dir of ['docs']) {
    for (const name of await readdir(join(root, dir))) if (name.endsWith('.md')) files.push(join(root, dir, name));
  }
  for (const parent of ['examples', 'src']) {
    for (const entry of await readdir(join(root, parent), { withFileTypes: true })) {
      const readme = join(root, parent, entry.name, 'README.md');
      if (entry.isDirectory() && existsSync(readme)) files.push(readme);
    }
  }
  return files;
}

/** The text of the code spans and fenced blocks of a Markdown file: where commands are written. */
function codeText(markdown: string): string[] {
  const fenced = [...markdown.matchAll(/```[a-z]*\n([\s\S]*?)```/g)].map((m) => m[1]!);
  const outside = markdown.replace(/```[a-z]*\n[\s\S]*?```/g, '');
  const spans = [...outside.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]!);
  return [...fenced.flatMap((block) => block.split('\n')), ...spans];
}

async function help(command: string): Promise<string> {
  let out = '';
  const io = {
    stdout: { write: (t: string) => (out += t) },
    stderr: { write: (t: string) => (out += t) },
    stdin: Readable.from([]),
    stdoutIsTTY: false,
    stderrIsTTY: false,
  };
  expect(await main([command, '--help'], io)).toBe(0);
  return out;
}

describe("the docs' links and commands", () => {
  it('every relative link in the docs names a file or directory that exists', async () => {
    const broken: string[] = [];
    for (const file of await docFiles()) {
      const text = await readFile(file, 'utf8');
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/i.test(target!) || target!.startsWith('#')) continue;
        const path = decodeURIComponent(target!.replace(/#.*$/, ''));
        if (!existsSync(join(dirname(file), path))) broken.push(`${relative(root, file)} -> ${target}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('every `npm run <script>` and `npm <start|test>` the docs give is a script in package.json', async () => {
    const { scripts } = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    const named = new Set<string>();
    for (const file of await docFiles()) {
      for (const line of codeText(await readFile(file, 'utf8'))) {
        for (const [, script] of line.matchAll(/\bnpm run ([\w:-]+)/g)) named.add(script!);
        for (const [, script] of line.matchAll(/\bnpm (start|test)\b/g)) named.add(script!);
      }
    }
    expect([...named]).toEqual(expect.arrayContaining(['start', 'test', 'bench', 'bench:quick', 'lambdalet']));
    expect([...named].filter((s) => !Object.hasOwn(scripts, s))).toEqual([]);
  });

  it('every repository file a `node …` or `npx vitest run …` command names exists', async () => {
    const missing: string[] = [];
    let seen = 0;
    for (const file of await docFiles()) {
      for (const line of codeText(await readFile(file, 'utf8'))) {
        // Paths into this repository (bench/, examples/, scripts/, test/, bin/); flags and user files are skipped.
        for (const [, path] of line.matchAll(/\b(?:node(?: --[\w-]+(?:=\S+)?)*|npx vitest run) ((?:bench|examples|scripts|test|bin)\/[\w./-]+)/g)) {
          seen += 1;
          if (!existsSync(join(root, path!))) missing.push(`${relative(root, file)}: ${path}`);
        }
      }
    }
    expect(seen).toBeGreaterThan(10);
    expect(missing).toEqual([]);
  });

  it("every `lambdalet <command> …` line uses a command and flags that command's --help lists", async () => {
    const helps = new Map<string, string>();
    const unknown: string[] = [];
    let seen = 0;
    for (const file of await docFiles()) {
      for (const line of codeText(await readFile(file, 'utf8'))) {
        const at = /(?:^|[\s(`])(?:npx )?lambdalet (?:-- )?(invoke|bench|serve|[a-z]+)\b(.*)$/.exec(line.replace(/\s+#.*$/, ''));
        if (at === null) continue;
        const [, command, rest] = at;
        if (!['invoke', 'bench', 'serve'].includes(command!)) {
          unknown.push(`${relative(root, file)}: lambdalet ${command}`);
          continue;
        }
        seen += 1;
        if (!helps.has(command!)) helps.set(command!, await help(command!));
        for (const [, flag] of rest!.matchAll(/(?:^|\s)(--[a-z][\w-]*)/g)) {
          if (!helps.get(command!)!.includes(flag!)) unknown.push(`${relative(root, file)}: lambdalet ${command} ${flag}`);
        }
      }
    }
    expect(seen).toBeGreaterThan(5);
    expect(unknown).toEqual([]);
  });

  it("every example directory is named in the README's Examples section", async () => {
    const readme = await readFile(join(root, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('\n## Examples\n'), readme.indexOf('\n## ', readme.indexOf('\n## Examples\n') + 1));
    const dirs = (await readdir(join(root, 'examples'), { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
    expect(dirs.length).toBeGreaterThanOrEqual(8);
    expect(dirs.filter((d) => !section.includes(`\`${d}\``))).toEqual([]);
  });
});
