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
 * How many bundle positions one phase (INIT or one invocation) may have looked at for remapping
 * (issue #15: the host source-maps guest text on its own thread; 10 MiB of positions in log lines
 * held it 3–8.5 s). A real stack has V8's 10 frames (Error.stackTraceLimit) or a few hundred; past
 * the budget, positions are left as the bundle's.
 */
export const REMAP_POSITIONS_PER_PHASE = 4096;

/** What is left of a phase's remapping budget; the remapper counts it down. */
export interface RemapBudget {
  positions: number;
}

/** A fresh phase budget. */
export function remapBudget(): RemapBudget {
  return { positions: REMAP_POSITIONS_PER_PHASE };
}

/**
 * Returns a function rewriting the `<filename>:<line>:<column>` positions of stack frames in
 * `lines` to the original file's position. Only a frame's position is rewritten, as V8 prints one:
 * `at <filename>:L:C` or `(<filename>:L:C)` — in a stack, in a logged error, in a JSON log line's
 * `stackTrace`; any other text naming the bundle stays as written. Each position looked at counts
 * one against `budget` (when given); once it is spent, nothing more is remapped. Positions that map
 * to nothing (the wrapper, esbuild's runtime helpers, lambdalet's virtual modules) are left as they
 * are. The source map is parsed on first use only.
 */
export function createStackRemapper(input: RemapInput): (lines: readonly string[], budget?: RemapBudget) => string[] {
  let traceMap: TraceMap | undefined;
  const pattern = new RegExp(`${escapeRegExp(input.filename)}:(\\d+):(\\d+)`, 'g');
  let budget: RemapBudget | undefined;
  const mapOne = (whole: string, lineText: string, columnText: string, at: number, text: string): string => {
    if (budget !== undefined && budget.positions-- <= 0) return whole;
    if (!isFramePosition(text, at, at + whole.length)) return whole;
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
  return (lines, phaseBudget) => {
    budget = phaseBudget;
    try {
      return lines.map((text) => (budget !== undefined && budget.positions <= 0 ? text : text.replace(pattern, mapOne)));
    } finally {
      budget = undefined;
    }
  };
}

/**
 * Whether the position at `text[start, end)` is a stack frame's: V8 writes `    at <position>` (or
 * `at async <position>`) for an anonymous frame and `    at <name> (<position>)` otherwise, so it
 * follows one of those or `(`, and
 * ends the frame (a `)`, the end of the text, or the `"` / `\r` that close it in a JSON or
 * Text-format log line).
 */
function isFramePosition(text: string, start: number, end: number): boolean {
  const before = (start >= 1 && text[start - 1] === '(') || wordAt(text, 'at ', start - 3) || wordAt(text, 'at async ', start - 9);
  if (!before) return false;
  const after = text[end];
  return after === undefined || after === ')' || after === '"' || after === '\r' || after === '\n';
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Whether `word` is at `text[at]` and starts a word (`at ` of a frame, not the end of `cat `). */
function wordAt(text: string, word: string, at: number): boolean {
  return at >= 0 && text.startsWith(word, at) && (at === 0 || !/[\w$]/.test(text[at - 1]!));
}
