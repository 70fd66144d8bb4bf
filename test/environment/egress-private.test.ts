/**
 * Issue #15: an allowed host NAME cannot lead a tenant into the host's own network. `allowHosts`
 * allows names; DNS decides addresses, and whoever controls an allowed name's DNS could point it at
 * loopback (lambdalet's own Lambda API, a local database), 169.254.169.254 (the cloud's metadata
 * service: the host's credentials) or the private network — after a first public answer, too (DNS
 * rebinding). src/environment/public-egress.ts checks the address at each connection; a literal
 * address or `localhost` in allowHosts, or `egress.allowPrivateAddresses`, is the operator's
 * explicit choice. Ranges are ipaddr.js's (IANA special-purpose registries, RFC 6890).
 */
import { lookup } from 'node:dns/promises';
import { createServer, type Server } from 'node:http';
import { hostname } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addressRange, PrivateAddressRefused, publicOnlyLookup } from '../../src/environment/public-egress.ts';
import { InvalidParameterValueException } from '../../src/index.ts';
import { deployAndInvoke, errorOf, withRuntime } from '../helpers/runtime.ts';

type Answer = string | { address: string; family: number }[];

/** publicOnlyLookup over a fake resolver that answers `answer`: the refusal, or undefined when passed. */
function check(answer: Answer): Promise<PrivateAddressRefused | undefined> {
  const fake = (_host: string, _options: object, callback: (error: NodeJS.ErrnoException | null, address: Answer, family?: number) => void): void =>
    callback(null, answer, typeof answer === 'string' ? (answer.includes(':') ? 6 : 4) : undefined);
  return new Promise((resolve) => {
    publicOnlyLookup(fake)('tenant.example', typeof answer === 'string' ? {} : { all: true }, (error) => {
      resolve(error === null ? undefined : (error as PrivateAddressRefused));
    });
  });
}

describe('the connect-time address check', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.0.0.1', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'linkLocal'],
    ['100.64.0.1', 'carrierGradeNat'],
    ['0.0.0.0', 'unspecified'],
    ['::1', 'loopback'],
    ['fd00::1', 'uniqueLocal'],
    ['fe80::1', 'linkLocal'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:169.254.169.254', 'linkLocal'],
  ])('%s (%s) is refused, naming the name, the address and its range', async (address, range) => {
    const refused = await check(address);
    expect(refused).toBeInstanceOf(PrivateAddressRefused);
    expect({ hostname: refused?.hostname, address: refused?.address, range: refused?.range }).toEqual({ hostname: 'tenant.example', address, range });
    expect(refused?.message.startsWith(`tenant.example resolves to ${address}, `)).toBe(true);
  });

  it('172.16.0.0/12 at its edges: just under and just over are public, both ends inside are private', async () => {
    expect(await check('172.15.255.255')).toBeUndefined();
    expect((await check('172.16.0.0'))?.range).toBe('private');
    expect((await check('172.31.255.255'))?.range).toBe('private');
    expect(await check('172.32.0.0')).toBeUndefined();
  });

  it('public unicast passes, IPv4 and IPv6; one private address among public ones is refused', async () => {
    expect(await check('93.184.215.14')).toBeUndefined();
    expect(await check('2606:4700::1111')).toBeUndefined();
    expect(await check([{ address: '93.184.215.14', family: 4 }, { address: '2606:4700::1111', family: 6 }])).toBeUndefined();
    const mixed = await check([{ address: '93.184.215.14', family: 4 }, { address: '10.9.8.7', family: 4 }]);
    expect(mixed?.address).toBe('10.9.8.7');
    expect(addressRange('93.184.215.14')).toBe('unicast');
  });
});

describe('a function whose allowed name leads to this machine', () => {
  let server: Server;
  let port: number;
  let requests = 0;
  /** This machine's name, when it resolves to an address that is not public (Debian's /etc/hosts: 127.0.x.1). */
  let localName: string | undefined;

  beforeAll(async () => {
    server = createServer((_req, res) => {
      requests++;
      res.end('reached');
    });
    await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
    port = (server.address() as { port: number }).port;
    const name = hostname().toLowerCase();
    const found = await lookup(name, { all: true }).catch(() => []);
    if (/^[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?$/.test(name) && found.length > 0 && found.every((entry) => addressRange(entry.address) !== 'unicast')) localName = name;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const FETCH = 'export const handler = async (event) => { const res = await fetch(event.url); return { status: res.status, body: await res.text() }; };';

  it('is refused at connect time with the reason in the message; the server sees nothing', async (context) => {
    if (localName === undefined) return context.skip(`this machine's name ${hostname()} does not resolve to a non-public address here`);
    await withRuntime(async ({ rt }) => {
      const before = requests;
      const result = await deployAndInvoke(rt, FETCH, { url: `http://${localName}:${port}/` }, { egress: { allowHosts: [`${localName}:${port}`] } });
      const error = errorOf(result);
      expect(error.errorType).toBe('TypeError');
      expect(error.errorMessage).toMatch(
        new RegExp(
          `^fetch failed: lambdalet egress policy denied http://${localName}:${port}: ${localName} resolves to (\\S+), a [a-z -]+address; set egress\\.allowPrivateAddresses: true to let allowed names reach it(, or request http://\\1:${port} by address with "\\1:${port}" in egress\\.allowHosts)?$`,
        ),
      );
      expect(requests).toBe(before);
    });
  });

  it('is served with egress.allowPrivateAddresses', async (context) => {
    if (localName === undefined) return context.skip(`this machine's name ${hostname()} does not resolve to a non-public address here`);
    await withRuntime(async ({ rt }) => {
      const named = await deployAndInvoke(rt, FETCH, { url: `http://${localName}:${port}/` }, { egress: { allowHosts: [`${localName}:${port}`], allowPrivateAddresses: true } });
      expect(named.payload).toEqual({ status: 200, body: 'reached' });
    });
  });

  it('a literal address or localhost in allowHosts is the operator\'s explicit choice: served without the option', () =>
    withRuntime(async ({ rt }) => {
      const literal = await deployAndInvoke(rt, FETCH, { url: `http://127.0.0.1:${port}/` }, { egress: { allowHosts: [`127.0.0.1:${port}`] } });
      expect(literal.payload).toEqual({ status: 200, body: 'reached' });
      const local = await deployAndInvoke(rt, FETCH, { url: `http://localhost:${port}/` }, { egress: { allowHosts: [`localhost:${port}`] } });
      expect(local.payload).toEqual({ status: 200, body: 'reached' });
    }));

  it('egress.allowPrivateAddresses must be a boolean', () =>
    withRuntime(async ({ rt }) => {
      const refused = await rt
        .deploy({ name: 'bad-egress', code: { files: { 'index.mjs': FETCH } }, egress: { allowHosts: [], allowPrivateAddresses: 'yes' as unknown as boolean } })
        .catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(InvalidParameterValueException);
      expect((refused as InvalidParameterValueException).field).toBe('egress.allowPrivateAddresses');
    }));
});
