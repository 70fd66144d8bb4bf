/**
 * node:dns and node:dns/promises. A sandbox has no resolver: HTTP clients reach the network through
 * the guest's fetch, which the host checks against the egress policy by name, so no code needs an
 * address first. What real code asks of dns still answers as Node does: an IP literal is itself,
 * `localhost` is 127.0.0.1 (Lambda's /etc/hosts), and every other name fails as Node fails for a
 * name no resolver knows — `getaddrinfo ENOTFOUND <name>` (code ENOTFOUND, errno -3008, syscall
 * getaddrinfo) for lookup, `query<Type> ENOTFOUND <name>` for resolve*. That is what a name outside
 * the egress policy gives. https://nodejs.org/docs/latest-v24.x/api/dns.html
 */
import { nodeError } from '../bridge.ts';

interface LookupAddress { address: string; family: number }
interface LookupOptions { family?: number | 'IPv4' | 'IPv6'; all?: boolean; order?: string; verbatim?: boolean; hints?: number }
type LookupCallback = (error: Error | null, address?: string | LookupAddress[], family?: number) => void;

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

function ipFamily(name: string): 0 | 4 | 6 {
  if (IPV4.test(name)) return 4;
  if (name.includes(':')) {
    try {
      new URL(`http://[${name}]/`);
      return 6;
    } catch {
      return 0;
    }
  }
  return 0;
}

/** Node's error for a name the resolver does not know (lib/internal/errors.js DNSException). */
function notFound(syscall: string, hostname: string): Error {
  const error = new Error(`${syscall} ENOTFOUND ${hostname}`);
  // getaddrinfo's errno is libuv's UV_EAI_NONAME; c-ares errors (resolve*) carry none, as in Node.
  const fields: Record<string, unknown> = syscall === 'getaddrinfo' ? { errno: -3008 } : {};
  return Object.assign(error, fields, { code: 'ENOTFOUND', syscall, hostname });
}

function familyOf(options: LookupOptions): number {
  const family = options.family;
  return family === 'IPv4' ? 4 : family === 'IPv6' ? 6 : (family ?? 0);
}

function addresses(hostname: string, family: number): LookupAddress[] {
  const literal = ipFamily(hostname);
  if (literal !== 0) return family === 0 || family === literal ? [{ address: hostname, family: literal }] : [];
  if (hostname.toLowerCase() === 'localhost' && family !== 6) return [{ address: '127.0.0.1', family: 4 }];
  return [];
}

function lookupNow(hostname: unknown, options: LookupOptions): LookupAddress[] {
  if (typeof hostname !== 'string') {
    throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', `The "hostname" argument must be of type string. Received ${hostname === undefined || hostname === null ? String(hostname) : `type ${typeof hostname}`}`);
  }
  const found = addresses(hostname, familyOf(options));
  if (found.length === 0) throw notFound('getaddrinfo', hostname);
  return found;
}

function normalise(options: unknown): LookupOptions {
  return typeof options === 'number' ? { family: options } : ((options ?? {}));
}

function lookup(hostname: unknown, options: unknown, callback?: LookupCallback): void {
  const cb = (typeof options === 'function' ? options : callback) as LookupCallback;
  const o = typeof options === 'function' ? {} : normalise(options);
  let result: LookupAddress[] | Error;
  try {
    result = lookupNow(hostname, o);
  } catch (error) {
    if ((error as { code?: string }).code !== 'ENOTFOUND') throw error;
    result = error as Error;
  }
  queueMicrotask(() => {
    if (result instanceof Error) cb(result);
    else if (o.all) cb(null, result);
    else cb(null, result[0]!.address, result[0]!.family);
  });
}

async function lookupPromise(hostname: unknown, options?: unknown): Promise<LookupAddress | LookupAddress[]> {
  const o = normalise(options);
  const found = lookupNow(hostname, o);
  return o.all ? found : found[0]!;
}

const RECORD_TYPES = ['Any', 'Caa', 'Cname', 'Mx', 'Naptr', 'Ns', 'Ptr', 'Soa', 'Srv', 'Tlsa', 'Txt'] as const;
const QUERY: Record<string, string> = { A: 'queryA', AAAA: 'queryAaaa', ANY: 'queryAny', CAA: 'queryCaa', CNAME: 'queryCname', MX: 'queryMx', NAPTR: 'queryNaptr', NS: 'queryNs', PTR: 'queryPtr', SOA: 'querySoa', SRV: 'querySrv', TLSA: 'queryTlsa', TXT: 'queryTxt' };

function resolveNow(hostname: unknown, type: string): string[] {
  const name = String(hostname);
  // A literal address answers an A / AAAA query for itself only through lookup, as in Node: resolve asks DNS.
  throw notFound(QUERY[type] ?? 'queryA', name);
}

function callbackResolver(type: string) {
  return (hostname: unknown, ...rest: unknown[]): void => {
    const cb = rest[rest.length - 1] as (error: Error | null, records?: unknown) => void;
    let error: Error;
    try {
      resolveNow(hostname, type);
      return;
    } catch (e) {
      error = e as Error;
    }
    queueMicrotask(() => cb(error));
  };
}

const promiseResolver = (type: string) => (hostname: unknown): Promise<never> => Promise.reject(((): Error => {
  try {
    resolveNow(hostname, type);
  } catch (e) {
    return e as Error;
  }
  return new Error('unreachable');
})());

let resultOrder = 'verbatim';
const CODES = {
  NODATA: 'ENODATA', FORMERR: 'EFORMERR', SERVFAIL: 'ESERVFAIL', NOTFOUND: 'ENOTFOUND', NOTIMP: 'ENOTIMP', REFUSED: 'EREFUSED',
  BADQUERY: 'EBADQUERY', BADNAME: 'EBADNAME', BADFAMILY: 'EBADFAMILY', BADRESP: 'EBADRESP', CONNREFUSED: 'ECONNREFUSED',
  TIMEOUT: 'ETIMEOUT', EOF: 'EOF', FILE: 'EFILE', NOMEM: 'ENOMEM', DESTRUCTION: 'EDESTRUCTION', BADSTR: 'EBADSTR',
  BADFLAGS: 'EBADFLAGS', NONAME: 'ENONAME', BADHINTS: 'EBADHINTS', NOTINITIALIZED: 'ENOTINITIALIZED',
  LOADIPHLPAPI: 'ELOADIPHLPAPI', ADDRGETNETWORKPARAMS: 'EADDRGETNETWORKPARAMS', CANCELLED: 'ECANCELLED',
};
const shared = {
  getDefaultResultOrder: (): string => resultOrder,
  setDefaultResultOrder: (order: string): void => {
    resultOrder = order;
  },
  // Lambda's resolver, as its /etc/resolv.conf names it.
  getServers: (): string[] => ['169.254.78.1'],
  setServers: (_servers: string[]): void => {},
  ...CODES,
};

function resolverMethods(make: (type: string) => unknown): Record<string, unknown> {
  const methods: Record<string, unknown> = {
    resolve: (hostname: unknown, rrtype?: unknown, cb?: unknown) => (make(typeof rrtype === 'string' ? rrtype : 'A') as (...a: unknown[]) => unknown)(hostname, ...(cb === undefined ? [rrtype] : [cb])),
    resolve4: make('A'), resolve6: make('AAAA'), reverse: make('PTR'),
  };
  for (const type of RECORD_TYPES) methods[`resolve${type}`] = make(type.toUpperCase());
  return methods;
}

const promiseMethods = resolverMethods(promiseResolver);
promiseMethods.resolve = (hostname: unknown, rrtype?: unknown) => promiseResolver(typeof rrtype === 'string' ? rrtype : 'A')(hostname);

class PromisesResolver {
  constructor(_options?: object) {}
  cancel(): void {}
  setLocalAddress(): void {}
}
Object.assign(PromisesResolver.prototype, promiseMethods, { getServers: shared.getServers, setServers: shared.setServers });

class Resolver {
  constructor(_options?: object) {}
  cancel(): void {}
  setLocalAddress(): void {}
}
Object.assign(Resolver.prototype, resolverMethods(callbackResolver), { getServers: shared.getServers, setServers: shared.setServers });

export const dnsPromises = { lookup: lookupPromise, lookupService: promiseResolver('PTR'), Resolver: PromisesResolver, ...promiseMethods, ...shared };

export const dns = {
  lookup, lookupService: callbackResolver('PTR'), Resolver, ...resolverMethods(callbackResolver), ...shared,
  ADDRCONFIG: 32, V4MAPPED: 8, ALL: 16,
  promises: dnsPromises,
};
