/**
 * The `code` field: exactly one of the five CodeSource shapes. Checked by hand rather than with a
 * zod union, because a union's failure lists every branch's complaint; here the caller learns
 * either which shapes exist or what is wrong inside the one shape they chose.
 */

import { z } from 'zod';
import type { CodeSource } from '../code/types.ts';
import { isPlainObject } from './fields.ts';
import { reportExpected } from './format.ts';

/** The keys that select a CodeSource shape. */
const SHAPES: ReadonlySet<string> = new Set(['files', 'dir', 'zip', 'entry', 'component']);
const SHAPE_PHRASE = 'be exactly one of {files}, {dir}, {zip}, {entry} or {component}';

/** Validates a CodeSource and returns a frozen copy, so later edits by the caller change nothing. */
export const codeSourceSchema = z
  .custom<CodeSource>()
  .superRefine(checkCodeSource)
  .transform((code): CodeSource => {
    if ('files' in code) return Object.freeze({ files: Object.freeze({ ...code.files }) });
    return Object.freeze({ ...code });
  });

function checkCodeSource(value: unknown, ctx: z.core.$RefinementCtx): void {
  if (!isPlainObject(value)) return reportExpected(ctx, SHAPE_PHRASE, value);
  const keys = Object.keys(value);
  const shape = keys[0];
  if (keys.length !== 1 || shape === undefined || !SHAPES.has(shape)) {
    return reportExpected(ctx, SHAPE_PHRASE, value);
  }
  const inner = value[shape];
  switch (shape) {
    case 'files':
      return checkFiles(inner, ctx);
    case 'zip':
      if (inner instanceof Uint8Array || isNonEmptyString(inner)) return;
      return reportExpected(ctx, 'be a path to a .zip file or its bytes (Uint8Array)', inner, ['zip']);
    case 'dir':
      if (isNonEmptyString(inner)) return;
      return reportExpected(ctx, 'be a directory path (a non-empty string)', inner, ['dir']);
    case 'entry':
      if (isNonEmptyString(inner)) return;
      return reportExpected(ctx, 'be a source file path (a non-empty string)', inner, ['entry']);
    case 'component':
      if (inner instanceof Uint8Array || isNonEmptyString(inner)) return;
      return reportExpected(ctx, 'be a path to a WebAssembly component (.wasm) or its bytes (Uint8Array)', inner, ['component']);
  }
}

function checkFiles(files: unknown, ctx: z.core.$RefinementCtx): void {
  if (!isPlainObject(files)) {
    return reportExpected(ctx, 'be an object of file path → contents (string or Uint8Array)', files, ['files']);
  }
  for (const [path, contents] of Object.entries(files)) {
    if (typeof contents === 'string' || contents instanceof Uint8Array) continue;
    return reportExpected(ctx, 'be the file contents (string or Uint8Array)', contents, ['files', path]);
  }
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}
