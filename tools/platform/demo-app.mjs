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
} catch (err) {
  console.error(`demo-app: ${err.details ?? err.message}`);
  process.exitCode = 1;
} finally {
  app.close();
}
