/**
 * Mapping V8 stack positions inside the bundle back to the user's files, through esbuild's
 * source map.
 */

import { originalPositionFor, TraceMap } from '@jridgewell/trace-mapping';
import { resolve } from 'node:path';
import { taskPath, type Splice } from './plugins.ts';

/** What the remapper needs to know about the bundle. */
export interface RemapInput {
  /** esbuild's source map (JSON text); its `sources` are relative to `root`. */
  readonly map: string;
  /** The package root, to name sources as `/var/task/...`. */
  readonly root: string;
  /** The script's name in stack traces. */
  readonly filename: string;
  /** Lines of the script before the bundle's first line (the wrapper's opening). */
  readonly lineOffset: number;
  /** Declarations spliced into files, by source-map source path. */
  readonly splices: ReadonlyMap<string, Splice>;
}

/**
 * Returns a function rewriting `<filename>:<line>:<column>` positions in stack lines to the
 * original file's position. Positions that map to nothing (the wrapper, esbuild's runtime helpers,
 * lambdalet's virtual modules) are left as they are. The source map is parsed on first use only.
 */
export function createStackRemapper(input: RemapInput): (lines: readonly string[]) => string[] {
  let traceMap: TraceMap | undefined;
  const pattern = new RegExp(`${escapeRegExp(input.filename)}:(\\d+):(\\d+)`, 'g');
  const mapOne = (whole: string, lineText: string, columnText: string): string => {
    traceMap ??= new TraceMap(input.map);
    const line = Number(lineText) - input.lineOffset;
    if (line < 1) return whole;
    // V8 columns are 1-based, source-map columns 0-based.
    const original = originalPositionFor(traceMap, { line, column: Number(columnText) - 1 });
    if (original.source === null || original.line === null || original.column === null) return whole;
    if (original.source.includes(':')) return whole; // a virtual module (`lambdalet-builtin:fs`)
    let column = original.column;
    const splice = input.splices.get(original.source);
    if (splice !== undefined && splice.line === original.line && column >= splice.length) column -= splice.length;
    return `${taskPath(input.root, resolve(input.root, original.source))}:${original.line}:${column + 1}`;
  };
  return (lines) => lines.map((text) => text.replace(pattern, mapOne));
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
