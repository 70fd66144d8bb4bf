/**
 * URL / URLSearchParams: core-js's implementation (WHATWG URL Standard, maintained, imported from
 * core-js-pure so it patches no global), and node:url's helpers.
 */
import URLImpl from 'core-js-pure/stable/url/index.js';
import URLSearchParamsImpl from 'core-js-pure/stable/url-search-params/index.js';
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
  parse: (text: string) => {
    const u = new URL(text);
    return {
      protocol: u.protocol, host: u.host, hostname: u.hostname, port: u.port || null, pathname: u.pathname,
      search: u.search || null, query: u.search.slice(1) || null, hash: u.hash || null, href: u.href,
      path: u.pathname + u.search, auth: u.username ? `${u.username}${u.password ? `:${u.password}` : ''}` : null,
    };
  },
  format: (u: URL | { href?: string }) => (u instanceof URL ? u.href : String(u.href ?? '')),
};
