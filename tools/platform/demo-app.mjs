#!/usr/bin/env node
// The demo application of `npm run up`: an internal app that calls the crypto gateway over
// mTLS as `app-demo` (development certificate from .cache/pki) and encrypts, decrypts, signs
// and verifies through it, printing what it does. Usage: demo-app.mjs <pki dir> <host:port>
import { createRequire } from 'node:module';
import { createHash, createPublicKey, verify } from 'node:crypto';

const require = createRequire(import.meta.url);
const { createGatewayClient, devIdentity } = require('../../dist/libs/crypto-client/src/index.js');

const [pki, address] = process.argv.slice(2);
const say = (line) => console.log(`  demo-app: ${line}`);
const app = createGatewayClient('Crypto', { address, ...devIdentity(pki, 'app-demo') });
try {
  const context = { purpose: 'demo', tenant: '42' };
  const secret = Buffer.from('card 4111 1111 1111 1111');
  const sealed = await app.call.Encrypt({ keyAlias: 'demo-aes', plaintext: secret, encryptionContext: context });
  say(`encrypted ${secret.length} bytes under demo-aes v${sealed.keyVersion}: ${sealed.ciphertext.length}-byte self-describing ciphertext`);
  const opened = await app.call.Decrypt({ ciphertext: sealed.ciphertext, encryptionContext: context });
  say(`decrypted it again: ${opened.plaintext.equals(secret) ? 'plaintext matches' : 'MISMATCH'}`);
  const wrong = await app.call.Decrypt({ ciphertext: sealed.ciphertext, encryptionContext: { ...context, tenant: '43' } }).then(
    () => 'accepted (WRONG)',
    (err) => `refused (${err.details})`,
  );
  say(`decrypting with another encryption context: ${wrong}`);
  const message = Buffer.from('invoice 2026-11-22 total 99.00 EUR');
  const signed = await app.call.Sign({ keyAlias: 'demo-signing', message, messageType: 'RAW', signingAlgorithm: 'ECDSA_SHA_256' });
  const { publicKeyPem } = await app.call.GetPublicKey({ keyAlias: 'demo-signing' });
  const locally = verify('sha256', message, createPublicKey(publicKeyPem), signed.signature);
  const viaGateway = await app.call.Verify({ keyAlias: 'demo-signing', message, messageType: 'RAW', signature: signed.signature, signingAlgorithm: 'ECDSA_SHA_256' });
  say(`signed with demo-signing (ECDSA P-256, ${signed.signature.length}-byte DER signature, sha256 of message ${createHash('sha256').update(message).digest('hex').slice(0, 16)}...)`);
  say(`verified: by the gateway ${viaGateway.signatureValid}, locally with the exported public key ${locally}`);
  if (!opened.plaintext.equals(secret) || !locally || !viaGateway.signatureValid || !wrong.startsWith('refused')) process.exitCode = 1;

  // The admin plane, as key-service calls it: a key made through cloudhsm-cli on the ring's
  // write cluster (or, when it exists from an earlier run, rotated to a new version), then used.
  const admin = createGatewayClient('HsmAdmin', { address, ...devIdentity(pki, 'key-service') });
  try {
    const exists = await admin.call.DescribeKey({ alias: 'demo-orders' }).then(() => true, (err) => (err.code === 5 ? false : Promise.reject(err)));
    const made = await admin.call.GenerateKey({ alias: 'demo-orders', ...(exists ? {} : { ring: 'demo' }), keySpec: 'AES_256', keyUsage: 'ENCRYPT_DECRYPT' });
    say(`key-service ${exists ? 'rotated' : 'created'} demo-orders through HsmAdmin: version ${made.version}, label ${made.label} on ${made.clusterId} (owner ${made.objects[0]?.owners.join(', ')})`);
    const order = Buffer.from('order 2026-0042');
    const sealedOrder = await app.call.Encrypt({ keyAlias: 'demo-orders', plaintext: order, encryptionContext: context });
    const openedOrder = await app.call.Decrypt({ ciphertext: sealedOrder.ciphertext, encryptionContext: context });
    say(`encrypted and decrypted with demo-orders v${sealedOrder.keyVersion}: ${openedOrder.plaintext.equals(order) ? 'plaintext matches' : 'MISMATCH'}`);
    if (!openedOrder.plaintext.equals(order)) process.exitCode = 1;
  } finally {
    admin.close();
  }
} catch (err) {
  console.error(`demo-app: ${err.details ?? err.message}`);
  process.exitCode = 1;
} finally {
  app.close();
}
