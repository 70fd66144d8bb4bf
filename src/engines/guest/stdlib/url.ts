/**
 * URL / URLSearchParams: core-js's implementation (WHATWG URL Standard, maintained, imported from
 * core-js-pure so it patches no global), and node:url's helpers. The legacy API (url.parse,
 * url.format of a url object, url.resolve, Url) is the `url` package: Node's lib/url.js,
 * packaged by the browserify project (serverless-http builds request URLs with url.format).
 */
import URLImpl from 'core-js-pure/stable/url/index.js';
import URLSearchParamsImpl from 'core-js-pure/stable/url-search-params/index.js';
// eslint-disable-next-line @typescript-eslint/ban-ts-comment
// @ts-ignore -- the `url` package ships no types; its shape is Node's legacy url API.
import legacyUrl from 'url/url.js';
import { nodeError } from '../bridge.ts';

export const URL = URLImpl as typeof globalThis.URL;
export const URLSearchParams = URLSearchParamsImpl as typeof globalThis.URLSearchParams;

function fileURLToPath(url: string | URL): string {
  const parsed = typeof url === 'string' ? new URL(url) : url;
  if (parsed.protocol !== 'file:') throw nodeError(TypeError, 'ERR_INVALID_URL_SCHEME', 'The URL must be of scheme file');
  return decodeURIComponent(parsed.pathname);
}

function pathToFileURL(path: string): URL {
  const absolute = path.startsWith('/') ? path : `/var/task/${path}`;
  return new URL(`file://${encodeURI(absolute).replace(/[?#]/g, encodeURIComponent)}`);
}

export const urlModule = {
  URL,
  URLSearchParams,
  fileURLToPath,
  pathToFileURL,
  parse: (legacyUrl as typeof import('node:url')).parse,
  resolve: (legacyUrl as typeof import('node:url')).resolve,
  resolveObject: (legacyUrl as { resolveObject: unknown }).resolveObject,
  Url: (legacyUrl as { Url: unknown }).Url,
  /** A WHATWG URL prints its href (Node's url.format(URL, options) without the options); anything else is the legacy format. */
  format: (u: unknown, options?: unknown) => {
    void options;
    return u instanceof URL ? u.href : (legacyUrl as { format: (u: unknown) => string }).format(u);
  },
  domainToASCII: (domain: string) => new URL(`http://${domain}`).hostname,
  domainToUnicode: (domain: string) => domain,
  urlToHttpOptions: (u: URL) => ({
    protocol: u.protocol, hostname: u.hostname.replace(/^\[|\]$/g, ''), hash: u.hash, search: u.search, pathname: u.pathname,
    path: `${u.pathname}${u.search}`, href: u.href, ...(u.port === '' ? {} : { port: Number(u.port) }),
    ...(u.username || u.password ? { auth: `${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}` } : {}),
  }),
};
