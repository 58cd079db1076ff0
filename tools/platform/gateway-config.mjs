#!/usr/bin/env node
// Writes the local crypto gateway's configuration for cloudhsm-local's demo estate:
//   <dir>/clusters.json  the demo cluster's pool (crypto user app_blue, its SoftHSM2 token and
//                        its password in cloudhsm-local's Secrets Manager) and the demo keys
// Usage: gateway-config.mjs <dir> <cloudhsm-local admin estate URL>
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [dir, estateUrl] = process.argv.slice(2);
if (!dir || !estateUrl) {
  console.error('usage: gateway-config.mjs <dir> <estate url>');
  process.exit(2);
}
const estate = await (await fetch(estateUrl)).json();
const cluster = estate.clusterId;
if (!cluster) {
  console.error(`no demo estate at ${estateUrl}`);
  process.exit(1);
}
mkdirSync(dir, { recursive: true, mode: 0o700 });
const clusters = {
  clusters: [
    {
      id: cluster,
      cloudhsmClusterId: cluster,
      tokenLabel: `${cluster}/app_blue`,
      secretId: `keyfleet/cloudhsm/${cluster}/app_blue`,
      // The admin plane (HsmAdmin crypto-user management) logs in as the estate's admin.
      adminSecretId: `keyfleet/cloudhsm/${cluster}/admin`,
      pinFormat: 'password',
      poolSize: 16,
      maxInFlight: 128,
    },
  ],
  rings: { demo: { writeCluster: cluster, weights: { [cluster]: 100 } } },
  keys: [
    { alias: 'demo-aes', ring: 'demo', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT', currentVersion: 1, versions: [{ version: 1, label: 'demo-aes', clusters: [cluster] }] },
    {
      alias: 'demo-signing',
      ring: 'demo',
      spec: 'ECC_NIST_P256',
      usage: 'SIGN_VERIFY',
      currentVersion: 1,
      versions: [{ version: 1, label: 'demo-signing', publicLabel: 'demo-signing-pub', clusters: [cluster] }],
    },
  ],
};
writeFileSync(join(dir, 'clusters.json'), `${JSON.stringify(clusters, null, 2)}\n`);
console.log(`gateway configuration for ${cluster} in ${dir}`);
