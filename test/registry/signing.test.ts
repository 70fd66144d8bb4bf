/**
 * Code signing (Lambda's CodeSigningConfig, https://docs.aws.amazon.com/lambda/latest/dg/configuration-codesigning.html):
 * under Enforce an unsigned package, a tampered one, or one signed by a publisher not allowed is
 * refused (CodeVerificationFailedException); under Warn it deploys and the failure is logged.
 * Signatures here are ed25519 over the 32 bytes of the package's sha256, made with node:crypto.
 */
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { CodeVerificationFailedException, InvalidParameterValueException } from '../../src/index.ts';
import { withRt } from './helpers.ts';

function keys(): { publicPem: string; publicRaw: string; privateKey: KeyObject } {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const jwk = publicKey.export({ format: 'jwk' });
  return {
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    publicRaw: Buffer.from(jwk.x!, 'base64url').toString('base64'),
    privateKey,
  };
}

function zipOf(body: string): Uint8Array {
  return zipSync({ 'index.mjs': new TextEncoder().encode(`export const handler = async () => ${JSON.stringify(body)};`) });
}

function signatureOf(zip: Uint8Array, privateKey: KeyObject): string {
  return sign(null, createHash('sha256').update(zip).digest(), privateKey).toString('base64');
}

describe('code signing', () => {
  it('Signing: a package signed by an allowed publisher deploys (PEM or raw base64 key); updates must be signed again', async () => {
    const publisher = keys();
    await withRt(async (rt) => {
      const zip = zipOf('signed');
      const codeSigning = { allowedPublishers: [keys().publicPem, publisher.publicPem], untrustedArtifactOnDeployment: 'Enforce' as const };
      await rt.deploy({ name: 'f', code: { zip }, codeSigning, codeSignature: signatureOf(zip, publisher.privateKey) });
      expect((await rt.invoke('f')).payload).toBe('signed');
      const next = zipOf('next');
      await expect(rt.updateFunctionCode('f', { zip: next })).rejects.toThrow(CodeVerificationFailedException);
      await rt.updateFunctionCode('f', { zip: next }, { codeSignature: signatureOf(next, publisher.privateKey) });
      expect((await rt.invoke('f')).payload).toBe('next');
      // The raw 32-byte key in base64 is the same publisher.
      await rt.deploy({ name: 'g', code: { zip }, codeSigning: { allowedPublishers: [publisher.publicRaw], untrustedArtifactOnDeployment: 'Enforce' }, codeSignature: signatureOf(zip, publisher.privateKey) });
      expect((await rt.invoke('g')).payload).toBe('signed');
    });
  });

  it('Signing: under Enforce, unsigned, tampered, malformed and unknown-key packages are CodeVerificationFailedException and the old code stays', async () => {
    const publisher = keys();
    const stranger = keys();
    await withRt(async (rt) => {
      const zip = zipOf('v1');
      const codeSigning = { allowedPublishers: [publisher.publicPem], untrustedArtifactOnDeployment: 'Enforce' as const };
      await rt.deploy({ name: 'f', code: { zip }, codeSigning, codeSignature: signatureOf(zip, publisher.privateKey) });
      const tampered = zipOf('v2');
      const cases: [string, Uint8Array, string | undefined, string][] = [
        ['unsigned', tampered, undefined, 'unsigned'],
        ['tampered', tampered, signatureOf(zip, publisher.privateKey), 'signature does not match this package or any allowed publisher'],
        ['unknown key', tampered, signatureOf(tampered, stranger.privateKey), 'signature does not match this package or any allowed publisher'],
        ['malformed', tampered, 'not-a-signature', 'malformed signature'],
      ];
      const sha = createHash('sha256').update(tampered).digest('hex');
      for (const [label, code, codeSignature, problem] of cases) {
        const error = await rt.deploy({ name: 'f', code: { zip: code }, codeSigning, ...(codeSignature ? { codeSignature } : {}) }).catch((e: unknown) => e);
        expect(error, label).toBeInstanceOf(CodeVerificationFailedException);
        expect((error as Error).message).toBe(
          `The code signature failed one or more validation checks and the code signing policy is set to Enforce: code ${sha} of arn:aws:lambda:us-east-1:123456789012:function:f: ${problem}`,
        );
        expect((await rt.invoke('f')).payload, label).toBe('v1');
      }
    });
  });

  it('Signing: under Warn the package deploys and one WARN line says why', async () => {
    await withRt(async (rt, logs) => {
      const zip = zipOf('warned');
      await rt.deploy({ name: 'f', code: { zip }, codeSigning: { allowedPublishers: [keys().publicPem], untrustedArtifactOnDeployment: 'Warn' } });
      expect((await rt.invoke('f')).payload).toBe('warned');
      const warnings = logs.lines.filter((l) => l.includes('\tWARN\tCode signature check failed'));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/\tWARN\tCode signature check failed \(policy Warn, deployed anyway\): code [0-9a-f]{64} of arn:aws:lambda:us-east-1:123456789012:function:f: unsigned$/);
    });
  });

  it('Signing: a key that is not an ed25519 public key, or a bad policy, is InvalidParameterValueException', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    await withRt(async (rt) => {
      const code = { zip: zipOf('x') };
      const notKey = await rt.deploy({ name: 'f', code, codeSigning: { allowedPublishers: ['garbage'], untrustedArtifactOnDeployment: 'Enforce' } }).catch((e: unknown) => e);
      expect((notKey as InvalidParameterValueException).field).toBe('codeSigning.allowedPublishers.0');
      const rsaKey = await rt.deploy({ name: 'f', code, codeSigning: { allowedPublishers: [rsa], untrustedArtifactOnDeployment: 'Enforce' } }).catch((e: unknown) => e);
      expect((rsaKey as Error).message).toBe('Expected `codeSigning.allowedPublishers.0` to be an ed25519 public key, got a rsa key');
      const policy = await rt.deploy({ name: 'f', code, codeSigning: { allowedPublishers: [keys().publicPem], untrustedArtifactOnDeployment: 'Block' as never } }).catch((e: unknown) => e);
      expect((policy as InvalidParameterValueException).field).toBe('codeSigning.untrustedArtifactOnDeployment');
      const none = await rt.deploy({ name: 'f', code, codeSigning: { allowedPublishers: [], untrustedArtifactOnDeployment: 'Enforce' } }).catch((e: unknown) => e);
      expect((none as InvalidParameterValueException).field).toBe('codeSigning.allowedPublishers');
    });
  });

  // Lambda: "Lambda also checks the layers of a function with code signing enabled" — each layer
  // version must be signed by an allowed profile (configuration-codesigning.html, "Signature
  // validation" covers the function's deployment package and its layers).
  it('Signing: layers are checked too — an unsigned, stranger-signed or tampered layer is refused under Enforce, logged under Warn', async () => {
    const publisher = keys();
    const stranger = keys();
    await withRt(async (rt, logs) => {
      const zip = zipOf('with-layer');
      const layerZip = zipSync({ 'nodejs/node_modules/greet/index.js': new TextEncoder().encode('module.exports = "hi";') });
      const layerSha = createHash('sha256').update(layerZip).digest('hex');
      const signedLayer = await rt.publishLayerVersion({ layerName: 'lib', content: { zip: layerZip }, codeSignature: signatureOf(layerZip, publisher.privateKey) });
      const unsignedLayer = await rt.publishLayerVersion({ layerName: 'lib', content: { zip: layerZip } });
      const strangerLayer = await rt.publishLayerVersion({ layerName: 'lib', content: { zip: layerZip }, codeSignature: signatureOf(layerZip, stranger.privateKey) });
      const otherZip = zipSync({ 'nodejs/x.js': new TextEncoder().encode('1') });
      const tamperedLayer = await rt.publishLayerVersion({ layerName: 'lib', content: { zip: otherZip }, codeSignature: signatureOf(layerZip, publisher.privateKey) });
      const otherSha = createHash('sha256').update(otherZip).digest('hex');
      const enforce = { allowedPublishers: [publisher.publicPem], untrustedArtifactOnDeployment: 'Enforce' as const };
      const codeSignature = signatureOf(zip, publisher.privateKey);
      await rt.deploy({ name: 'f', code: { zip }, codeSigning: enforce, codeSignature, layers: [signedLayer.layerVersionArn] });
      expect((await rt.invoke('f')).payload).toBe('with-layer');
      const cases: [string, string, string, string][] = [
        ['unsigned', unsignedLayer.layerVersionArn, layerSha, 'unsigned'],
        ['stranger', strangerLayer.layerVersionArn, layerSha, 'signature does not match this package or any allowed publisher'],
        ['tampered', tamperedLayer.layerVersionArn, otherSha, 'signature does not match this package or any allowed publisher'],
      ];
      for (const [label, arn, sha, problem] of cases) {
        // A signed layer first and the bad one second: every layer is checked, not only the first.
        const error = await rt.deploy({ name: 'f', code: { zip }, codeSigning: enforce, codeSignature, layers: [signedLayer.layerVersionArn, arn] }).catch((e: unknown) => e);
        expect(error, label).toBeInstanceOf(CodeVerificationFailedException);
        expect((error as Error).message, label).toBe(
          `The code signature failed one or more validation checks and the code signing policy is set to Enforce: layer ${arn} (${sha}): ${problem}`,
        );
      }
      expect(rt.getFunction('f').codeSha256).toBe(createHash('sha256').update(zip).digest('hex'));
      // Warn: deploys, one WARN line naming the layer.
      await rt.deploy({ name: 'w', code: { zip }, codeSigning: { ...enforce, untrustedArtifactOnDeployment: 'Warn' }, codeSignature, layers: [unsignedLayer.layerVersionArn] });
      expect((await rt.invoke('w')).payload).toBe('with-layer');
      const warnings = logs.lines.filter((l) => l.includes('\tWARN\tCode signature check failed'));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain(`layer ${unsignedLayer.layerVersionArn} (${layerSha}): unsigned`);
      // Without codeSigning, layers are not checked.
      await rt.deploy({ name: 'free', code: { zip }, layers: [strangerLayer.layerVersionArn] });
      expect((await rt.invoke('free')).payload).toBe('with-layer');
      expect(rt.getLayerVersion(signedLayer.layerVersionArn).codeSignature).toBe(signatureOf(layerZip, publisher.privateKey));
      const bad = await rt.publishLayerVersion({ layerName: 'lib', content: { zip: layerZip }, codeSignature: 5 as never }).catch((e: unknown) => e);
      expect((bad as InvalidParameterValueException).field).toBe('codeSignature');
    });
  });
});
