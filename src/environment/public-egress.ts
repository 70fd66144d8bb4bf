/**
 * Where a host name in `egress.allowHosts` may lead (issue #15: a tenant must not reach the host's
 * own network). The policy allows names; DNS decides addresses, and a tenant who controls an
 * allowed name's DNS could point it at the host's loopback services (lambdalet's own Lambda API,
 * a database on 127.0.0.1), the cloud's metadata service (169.254.169.254: the host's credentials)
 * or the private network — and point it there only after a first, public answer (DNS rebinding).
 *
 * So a request to a name is sent through an undici Agent whose connect-time lookup refuses any
 * address that is not public unicast (ipaddr.js `range()`: loopback, private, link-local, unique
 * local, carrier-grade NAT, unspecified, multicast, reserved...): the address checked is the
 * address connected to, each time a connection is made. A literal address or `localhost` in
 * `allowHosts` is the operator's own explicit choice and is not filtered; nor is any name when the
 * function sets `egress.allowPrivateAddresses` (a VPC's internal services).
 *
 * undici from npm, not Node's bundled copy (which exposes no Agent): its Agent is accepted as
 * `dispatcher` by Node's fetch on Node 24 (undici 7) and 26 (undici 8) alike (checked on both).
 */
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { Agent } from 'undici';

/** The refusal a connection to a non-public address fails with (fetch's `cause`). */
export class PrivateAddressRefused extends Error {
  readonly code = 'ELAMBDALETPRIVATEADDRESS';
  readonly hostname: string;
  readonly address: string;
  /** ipaddr.js's name of the address's range. */
  readonly range: string;
  constructor(hostname: string, address: string, range: string) {
    super(`${hostname} resolves to ${address}, ${describeRange(range)}`);
    this.name = 'PrivateAddressRefused';
    this.hostname = hostname;
    this.address = address;
    this.range = range;
  }
}

/** ipaddr.js's name of `address`'s range (IPv4-mapped IPv6 read as its IPv4 address); 'unicast' is public. */
export function addressRange(address: string): string {
  return ipaddr.process(address).range();
}

function describeRange(range: string): string {
  const words: Record<string, string> = {
    loopback: 'a loopback address',
    private: 'a private-network address',
    linkLocal: 'a link-local address (the cloud metadata service lives there)',
    uniqueLocal: 'a unique-local (private) IPv6 address',
    carrierGradeNat: 'a carrier-grade NAT address',
    unspecified: 'the unspecified address',
  };
  return words[range] ?? `an address that is not public (${range})`;
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;
type Lookup = (hostname: string, options: LookupOptions, callback: LookupCallback) => void;

/**
 * `lookup` (dns.lookup's shape, as net.connect calls it: one address, or all of them with
 * `options.all`) that fails with {@link PrivateAddressRefused} when any address it found is not
 * public unicast: a name with one private address among public ones is refused too.
 */
export function publicOnlyLookup(lookup: Lookup = dnsLookup): Lookup {
  return (hostname, options, callback) => {
    lookup(hostname, options, (error, address, family) => {
      if (error) return callback(error, address, family);
      const found = Array.isArray(address) ? address.map((entry) => entry.address) : [address];
      for (const each of found) {
        const range = isIP(each) === 0 ? 'invalid' : addressRange(each);
        if (range !== 'unicast') return callback(new PrivateAddressRefused(hostname, each, range), address, family);
      }
      callback(null, address, family);
    });
  };
}

let agent: Agent | undefined;

/** The process's one Agent for requests to names (made on first use; its sockets are pooled as fetch's are). */
export function publicEgressAgent(): Agent {
  agent ??= new Agent({ connect: { lookup: publicOnlyLookup() } });
  return agent;
}

/** Whether a request to `hostname` (lower case, IPv6 without brackets) is filtered: a name other than `localhost`. */
export function needsPublicAddress(hostname: string): boolean {
  return isIP(hostname) === 0 && hostname !== 'localhost';
}
