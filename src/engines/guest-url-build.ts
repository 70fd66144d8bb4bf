/**
 * Build-time changes to core-js's URL (the guest's `URL` and `URLSearchParams`, stdlib/url.ts), for
 * speed in the QuickJS interpreter and for Node's errors (issues #12 and #21). core-js parses a URL
 * one code point at a time through a state machine, each step a few calls (its `codeAt`,
 * `uncurryThis` wrappers, a percent-encode per character), after turning the input into an array of
 * code points with its own iterator-driven `Array.from`; and it builds the URL's URLSearchParams
 * eagerly, percent-decoding every query pair. In the interpreter that made a `new URL()` of an API
 * URL cost ~0.4 ms (V8 guests ~36 µs, Node ~1 µs), paid by every router, fetch and SDK request.
 *
 * Every change keeps core-js's answers: each replaces a computation by one that gives the same
 * value for every input (the reasoning is beside each), and test/compat/url-differential.test.ts
 * compares every property of the WPT URL test data and our own cases with the host's Node on every
 * engine. Each patch must find its text exactly once, so a core-js upgrade that moves it fails the
 * build instead of silently dropping the patch.
 */
import { readFile } from 'node:fs/promises';
import type { Plugin } from 'esbuild';

/** [from, to] pairs for core-js-pure/modules/web.url.constructor.js. */
const URL_CONSTRUCTOR: ReadonlyArray<readonly [string, string]> = [
  // core-js-pure's own Array.from walks the string's iterator through its getIterator/callWithSafeIterationClosing
  // helpers (~1.5 µs a character in the interpreter); the engine's gives the same array of code points.
  ["var arrayFrom = require('../internals/array-from');", 'var arrayFrom = Array.from;'],
  [
    "var utf8PercentEncode = function (chr, set) {\n  var code = codeAt(chr, 0);",
    // `chr` is one code point: for the range test below (0x20..0x7E) its first UTF-16 unit decides as
    // its code point would (an astral code point's high surrogate is outside the range too).
    "var charCodeAt = uncurryThis(''.charCodeAt);\n" +
    // Runs of characters that the state they are read in would append unchanged one at a time (none
    // is percent-encoded there, none ends or changes the state): appended at once, in an all-ASCII
    // input only (where a character is a code point and a string index is the parser's pointer; in
    // any other the pointer counts code points, one or two string indexes each, and moves as before).
    // SCHEME: ALPHANUMERIC_PLUS_MINUS_DOT. AUTHORITY and HOST: anything but their delimiters, '\\'
    // (a delimiter in a special URL) and HOST's brackets (seenBracket). PATH, QUERY, FRAGMENT,
    // CANNOT_BE_A_BASE_URL_PATH: 0x21..0x7E less their percent-encode set (QUERY also less "'", which
    // a special URL encodes) and less the characters that end the state ('/', '\\', '?', '#').
    'var SCHEME_RUN = /[\\d+\\-.a-z]+/iy;\n' +
    'var AUTHORITY_RUN = /[^@/?#\\\\]+/y;\n' +
    'var HOST_RUN = /[^:/?#\\\\[\\]]+/y;\n' +
    'var PATH_RUN = /[!$-.0-;=@-[\\]_a-z|~]+/y;\n' +
    'var QUERY_RUN = /[!$-&(-;=?-~]+/y;\n' +
    'var FRAGMENT_RUN = /[!#-;=?-_a-~]+/y;\n' +
    'var OPAQUE_PATH_RUN = /[!"$->@-~]+/y;\n' +
    'var runAt = function (re, string, pointer) {\n  re.lastIndex = pointer;\n  var match = exec(re, string);\n  return match ? match[0] : null;\n};\n' +
    // Node's error for a string that is not a URL (lib/internal/errors.js ERR_INVALID_URL): a
    // TypeError 'Invalid URL' with code, input and, when one was given, base (own, enumerable).
    'var invalidURL = function (input, base) {\n  var error = new TypeError(\'Invalid URL\');\n  error.code = \'ERR_INVALID_URL\';\n  error.input = input;\n' +
    '  if (base !== undefined) error.base = base;\n  return error;\n};\n' +
    'var utf8PercentEncode = function (chr, set) {\n  var code = charCodeAt(chr, 0);',
  ],
  // toASCII of a domain without a code point above U+007E (its own test for punycoding a label) is its
  // lower case: the separators it maps are not ASCII, so splitting at '.' and joining back changes nothing.
  ["  if (!exec(NON_ASCII, domain)) return domain === '' ? null : toASCII(domain);",
    "  if (!exec(NON_ASCII, domain)) return domain === '' ? null : exec(PUNYCODE_NON_ASCII, domain) ? toASCII(domain) : toLowerCase(domain);"],
  ['var EOF;\n', 'var EOF;\nvar PUNYCODE_NON_ASCII = /[^\\0-\\u007E]/;\n'],
  // Errors as Node's, the base's failure reported with the input (Node checks the base first too).
  [
    '  if (isBase) {\n    failure = this.parse(urlString);\n    if (failure) throw new TypeError(failure);\n    this.searchParams = null;\n  } else {\n' +
    '    if (base !== undefined) baseState = new URLState(base, true);\n    failure = this.parse(urlString, null, baseState);\n    if (failure) throw new TypeError(failure);\n' +
    '    searchParams = getInternalSearchParamsState(new URLSearchParams());\n    searchParams.bindURL(this);\n    this.searchParams = searchParams;\n  }',
    '  if (isBase) {\n    this.failure = this.parse(urlString);\n    this.searchParams = null;\n  } else {\n' +
    '    if (base !== undefined) {\n      base = $toString(base);\n      baseState = new URLState(base, true);\n      if (baseState.failure) throw invalidURL(urlString, base);\n    }\n' +
    '    failure = this.parse(urlString, null, baseState);\n    if (failure) throw invalidURL(urlString, base);\n' +
    // The URLSearchParams is made on first read of url.searchParams (getSearchParams): parsing the
    // query then gives the same entries, as the href and search setters re-parse it in place anyway.
    '    this.searchParams = null;\n  }',
  ],
  // The common URL without the state machine: an absolute URL of a special scheme but file: with a
  // host of ASCII letters, digits and hyphens in dot-separated labels, the last starting with a letter
  // (so neither an IPv4 address nor a percent-decode, IDNA or forbidden code point applies, and
  // lowering its case is all domainToASCII does), an optional port, and a path, query and fragment
  // whose characters the parser's PATH, QUERY and FRAGMENT states would append unchanged (the runs
  // above); or, against such a base, a path-absolute input ('/a?b#c', not '//'). The fields are those
  // the state machine gives: the path split at '/', an empty one [''] (PATH_START's push). Also
  // 'file:///' and such a path whose first segment is neither empty (the state machine drops leading
  // empty segments of a file: path) nor a Windows drive letter ('C:', 'c|': normalised): the host is
  // empty, the rest as above, whatever the base. A dot
  // segment ('.', '..', '%2e'...), a port above 65535, a userinfo or anything else goes to the state
  // machine, as does every setter (stateOverride). The differential test generates both sides of each
  // condition.
  [
    'var URLState = function (url, isBase, base) {',
    'var FAST_ABSOLUTE = /^(https?|wss?|ftp):\\/\\/((?:[\\dA-Za-z-]+\\.)*[A-Za-z][\\dA-Za-z-]*)(?::(\\d*))?((?:\\/[!$-.0-;=@-[\\]_a-z|~]*)*)(?:\\?([!$-&(-;=?-~]*))?(?:#([!#-;=?-_a-~]*))?$/;\n' +
    'var FAST_PATH_ABSOLUTE = /^(\\/(?!\\/)[!$-.0-;=@-[\\]_a-z|~]*(?:\\/[!$-.0-;=@-[\\]_a-z|~]*)*)(?:\\?([!$-&(-;=?-~]*))?(?:#([!#-;=?-_a-~]*))?$/;\n' +
    'var FAST_FILE = /^file:\\/\\/\\/(?![A-Za-z][:|](?:[/?#]|$))([!$-.0-;=@-[\\]_a-z|~]+(?:\\/[!$-.0-;=@-[\\]_a-z|~]*)*)(?:\\?([!$-&(-;=?-~]*))?(?:#([!#-;=?-_a-~]*))?$/;\n' +
    'var DOT_SEGMENT = /\\/(?:\\.|%2e)(?:\\.|%2e)?(?=\\/|$)/i;\n' +
    'var parseFast = function (url, input, base) {\n' +
    '  var match = exec(FAST_ABSOLUTE, input);\n' +
    '  var path, port, query, fragment;\n' +
    '  if (match) {\n' +
    '    path = match[4];\n' +
    '    port = match[3] ? parseInt(match[3], 10) : null;\n' +
    '    if (port > 0xFFFF || exec(DOT_SEGMENT, path)) return false;\n' +
    '    url.scheme = match[1];\n' +
    '    url.host = toLowerCase(match[2]);\n' +
    '    url.port = port === specialSchemes[match[1]] ? null : port;\n' +
    '    query = match[5];\n' +
    '    fragment = match[6];\n' +
    '  } else if ((match = exec(FAST_FILE, input))) {\n' +
    '    path = \'/\' + match[1];\n' +
    '    if (exec(DOT_SEGMENT, path)) return false;\n' +
    "    url.scheme = 'file';\n" +
    "    url.host = '';\n" +
    '    query = match[2];\n' +
    '    fragment = match[3];\n' +
    '  } else {\n' +
    "    if (!base || base.cannotBeABaseURL || base.scheme === 'file' || !base.isSpecial()) return false;\n" +
    '    match = exec(FAST_PATH_ABSOLUTE, input);\n' +
    '    if (!match || exec(DOT_SEGMENT, match[1])) return false;\n' +
    '    path = match[1];\n' +
    '    url.scheme = base.scheme;\n' +
    '    url.username = base.username;\n' +
    '    url.password = base.password;\n' +
    '    url.host = base.host;\n' +
    '    url.port = base.port;\n' +
    '    query = match[2];\n' +
    '    fragment = match[3];\n' +
    '  }\n' +
    "  url.path = path === '' ? [''] : split(stringSlice(path, 1), '/');\n" +
    '  if (query !== undefined) url.query = query;\n' +
    '  if (fragment !== undefined) url.fragment = fragment;\n' +
    '  return true;\n' +
    '};\n\n' +
    'var URLState = function (url, isBase, base) {',
  ],
  ["    input = replace(input, TAB_AND_NEW_LINE, '');\n", "    input = replace(input, TAB_AND_NEW_LINE, '');\n    if (!stateOverride && parseFast(url, input, base)) return;\n"],
  // The leading and trailing C0-control-or-space strips match only when that end is one (the trailing
  // expression scans the whole input otherwise: ~11 µs for an API URL in the interpreter).
  ["      input = replace(input, LEADING_C0_CONTROL_OR_SPACE, '');\n      input = replace(input, TRAILING_C0_CONTROL_OR_SPACE, '$1');",
    "      if (charCodeAt(input, 0) <= 0x20) input = replace(input, LEADING_C0_CONTROL_OR_SPACE, '');\n" +
    "      if (charCodeAt(input, input.length - 1) <= 0x20) input = replace(input, TRAILING_C0_CONTROL_OR_SPACE, '$1');"],
  ['    var codePoints, chr, bufferCodePoints, failure;', '    var codePoints, chr, bufferCodePoints, failure, run;'],
  // An all-ASCII input is its own array of code points (indexing, length and slicing read the same).
  ['    codePoints = arrayFrom(input);\n\n    while', '    codePoints = exec(NON_ASCII, input) ? arrayFrom(input) : input;\n    var ascii = codePoints === input;\n\n    while'],
  ['          if (chr && exec(ALPHANUMERIC_PLUS_MINUS_DOT, chr)) {\n            buffer += toLowerCase(chr);',
    '          if (chr && exec(ALPHANUMERIC_PLUS_MINUS_DOT, chr)) {\n            if (ascii && (run = runAt(SCHEME_RUN, input, pointer))) {\n              buffer += toLowerCase(run);\n              pointer += run.length - 1;\n            } else buffer += toLowerCase(chr);'],
  ['            state = HOST;\n          } else buffer += chr;\n          break;',
    '            state = HOST;\n          } else if (ascii && (run = runAt(AUTHORITY_RUN, input, pointer))) {\n            buffer += run;\n            pointer += run.length - 1;\n          } else buffer += chr;\n          break;'],
  ["            else if (chr === ']') seenBracket = false;\n            buffer += chr;",
    "            else if (chr === ']') seenBracket = false;\n            if (ascii && (run = runAt(HOST_RUN, input, pointer))) {\n              buffer += run;\n              pointer += run.length - 1;\n            } else buffer += chr;"],
  ['            buffer += utf8PercentEncode(chr, pathPercentEncodeSet);',
    '            run = ascii && runAt(PATH_RUN, input, pointer);\n            if (run) {\n              buffer += run;\n              pointer += run.length - 1;\n' +
    '            } else buffer += utf8PercentEncode(chr, pathPercentEncodeSet);'],
  ['              url.path[0] += utf8PercentEncode(chr, C0ControlPercentEncodeSet);',
    '              run = ascii && runAt(OPAQUE_PATH_RUN, input, pointer);\n              if (run) {\n                url.path[0] += run;\n                pointer += run.length - 1;\n' +
    '              } else url.path[0] += utf8PercentEncode(chr, C0ControlPercentEncodeSet);'],
  ['            url.query += utf8PercentEncode(chr, url.isSpecial() ? specialQueryPercentEncodeSet : queryPercentEncodeSet);',
    '            run = ascii && runAt(QUERY_RUN, input, pointer);\n            if (run) {\n              url.query += run;\n              pointer += run.length - 1;\n' +
    '            } else url.query += utf8PercentEncode(chr, url.isSpecial() ? specialQueryPercentEncodeSet : queryPercentEncodeSet);'],
  ['          if (chr !== EOF) url.fragment += utf8PercentEncode(chr, fragmentPercentEncodeSet);',
    '          if (chr !== EOF) {\n            run = ascii && runAt(FRAGMENT_RUN, input, pointer);\n            if (run) {\n              url.fragment += run;\n              pointer += run.length - 1;\n' +
    '            } else url.fragment += utf8PercentEncode(chr, fragmentPercentEncodeSet);\n          }'],
  ['    var failure = this.parse(href);\n    if (failure) throw new TypeError(failure);\n    this.searchParams.update();',
    '    var failure = this.parse(href);\n    if (failure) throw invalidURL($toString(href));\n    if (this.searchParams) this.searchParams.update();'],
  ['      this.parse(search, QUERY);\n    }\n    this.searchParams.update();', '      this.parse(search, QUERY);\n    }\n    if (this.searchParams) this.searchParams.update();'],
  ['  getSearchParams: function () {\n    return this.searchParams.facade;',
    '  getSearchParams: function () {\n    var searchParams = this.searchParams;\n    if (!searchParams) {\n' +
    '      searchParams = getInternalSearchParamsState(new URLSearchParams());\n      searchParams.bindURL(this);\n      this.searchParams = searchParams;\n    }\n' +
    '    return searchParams.facade;'],
];

/** [from, to] pairs for core-js-pure/internals/url-percent-coding.js. */
const PERCENT_CODING: ReadonlyArray<readonly [string, string]> = [
  // Percent-decoding a string without '%' appends each of its characters unchanged: it is the string
  // (a host, every query name and value), without the per-character loop.
  ["var stringSlice = uncurryThis(''.slice);\n", "var stringSlice = uncurryThis(''.slice);\nvar stringIndexOf = uncurryThis(''.indexOf);\n"],
  ['var decode = function (input) {\n', "var decode = function (input) {\n  if (stringIndexOf(input, '%') === -1) return input;\n"],
];

function replaceEach(source: string, pairs: ReadonlyArray<readonly [string, string]>, file: string): string {
  let out = source;
  for (const [from, to] of pairs) {
    if (out.split(from).length !== 2) throw new Error(`${file} changed: re-check lambdalet's patch of ${JSON.stringify(from.slice(0, 60))}`);
    out = out.replace(from, () => to);
  }
  return out;
}

/** core-js's URL source as the guest gets it (exported for the scratch benchmarks that compare it with core-js's own). */
export function patchCoreJsUrl(source: string, path: string): string {
  return /url-percent-coding\.js$/.test(path) ? replaceEach(source, PERCENT_CODING, path) : replaceEach(source, URL_CONSTRUCTOR, path);
}

/** The esbuild plugin that applies the changes above. */
export const coreJsUrlPatches: Plugin = {
  name: 'lambdalet-core-js-url',
  setup(b) {
    b.onLoad({ filter: /core-js-pure[\\/](modules[\\/]web\.url\.constructor|internals[\\/]url-percent-coding)\.js$/ }, async (args) => ({
      contents: patchCoreJsUrl(await readFile(args.path, 'utf8'), args.path),
      loader: 'js',
    }));
  },
};
