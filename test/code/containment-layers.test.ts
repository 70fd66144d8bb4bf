/**
 * A code.dir inside a project whose parent node_modules holds a package that a layer also holds:
 * on Lambda the parent does not exist, so the import finds the layer's copy (NODE_PATH, after the
 * package's own node_modules). Before, containment found the parent's copy first, refused it, and
 * INIT failed with "Cannot find package" although the layer had it (issue #15).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { createRuntime, silentSink } from '../../src/index.ts';

it('a bare import a parent directory and a layer both hold resolves to the layer, ESM and CommonJS; without the layer it still fails INIT', async () => {
  const project = await mkdtemp(join(tmpdir(), 'lambdalet-parent-'));
  await using rt = await createRuntime({ logSink: silentSink });
  try {
    await mkdir(join(project, 'node_modules', 'shared'), { recursive: true });
    await writeFile(join(project, 'node_modules', 'shared', 'package.json'), JSON.stringify({ name: 'shared', main: 'index.js' }));
    await writeFile(join(project, 'node_modules', 'shared', 'index.js'), "module.exports = () => 'the host project';");
    await mkdir(join(project, 'fn'));
    await writeFile(join(project, 'fn', 'index.mjs'), "import who from 'shared';\nexport const handler = async () => who();\n");
    await writeFile(join(project, 'fn', 'cjs.js'), "const who = require('shared');\nexports.handler = async () => who();\n");
    const layer = await rt.publishLayerVersion({
      layerName: 'shared',
      content: {
        files: {
          'nodejs/node_modules/shared/package.json': JSON.stringify({ name: 'shared', main: 'index.js' }),
          'nodejs/node_modules/shared/index.js': "module.exports = () => 'the layer';",
        },
      },
    });
    for (const handler of ['index.handler', 'cjs.handler']) {
      await rt.deploy({ name: 'fn', handler, code: { dir: join(project, 'fn') }, layers: [layer.layerVersionArn] });
      const result = await rt.invoke('fn', {});
      expect(result.functionError, JSON.stringify(result.payload)).toBeUndefined();
      expect(result.payload).toBe('the layer');
    }
    await rt.deploy({ name: 'alone', code: { dir: join(project, 'fn') } });
    const alone = await rt.invoke('alone', {});
    expect(alone.payload).toMatchObject({ errorType: 'Error', errorMessage: "Cannot find package 'shared' imported from /var/task/index.mjs" });
  } finally {
    await rm(project, { recursive: true, force: true });
  }
});
