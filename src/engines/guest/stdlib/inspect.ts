/**
 * util.inspect, util.format and util.formatWithOptions: node-inspect-extracted, Node's own
 * lib/internal/util/inspect.js with only its require()s replaced (kept in step with Node's
 * releases). Loaded on first use: console calls whose arguments are all primitives never need it
 * (format.ts prints those itself, with Node's results).
 */
import * as extracted from 'node-inspect-extracted';

export const inspect = extracted.inspect;
export const format = extracted.format;
export const formatWithOptions = extracted.formatWithOptions;
