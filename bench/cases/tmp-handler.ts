/**
 * The /tmp benchmarks' guest handler (bench area `tmp` and bench/compare-tmp.ts): one invoke writes
 * (`{ op: 'write' }`) or reads back one 8 MiB file in /tmp through the guest's node:fs. No imports,
 * so the A/B script can take it without loading a tree's src/.
 */
export const TMP_FILE_BYTES = 8 * 1024 * 1024;

export const TMP_HANDLER = `import fs from 'node:fs';
const data = Buffer.alloc(${TMP_FILE_BYTES}, 7);
export const handler = async (event) => {
  if (event.op === 'write') fs.writeFileSync('/tmp/bench.bin', data);
  else if (fs.readFileSync('/tmp/bench.bin').length !== ${TMP_FILE_BYTES}) throw new Error('short read');
  return 'ok';
};`;
