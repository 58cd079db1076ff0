import { unsealMaterial, type ClusterHsmData, type HsmKeyRecord } from './cluster-hsm.model';
import type { HsmChangeListener } from './hsm-change';

/**
 * Offers a whole cluster's crypto users and keys to the listener, as a cluster restored from
 * a backup needs them (new tokens, same PINs and keys). All or nothing: if one change
 * fails, the users created so far are removed again and the error is rethrown.
 */
export function mirrorCluster(data: ClusterHsmData, clusterId: string, listener: HsmChangeListener): void {
  const created: string[] = [];
  try {
    for (const user of data.users) {
      if (user.role !== 'crypto-user' || !user.sealedPassword) continue;
      listener.apply({ kind: 'user-created', clusterId, username: user.username, password: unsealMaterial(data, user.sealedPassword).toString('utf8') });
      created.push(user.username);
    }
    for (const key of data.keys ?? []) {
      for (const username of holdersOf(data, key)) offerKey(data, clusterId, key, username, listener);
    }
  } catch (err) {
    for (const username of created) listener.apply({ kind: 'user-deleted', clusterId, username });
    throw err;
  }
}

/** Removes every crypto user's token of a cluster that is going away. */
export function unmirrorCluster(data: ClusterHsmData, clusterId: string, listener: HsmChangeListener): void {
  for (const user of data.users) {
    if (user.role === 'crypto-user' && user.sealedPassword) listener.apply({ kind: 'user-deleted', clusterId, username: user.username });
  }
}

function keyTypeOf(key: HsmKeyRecord): 'aes' | 'des3' | 'generic-secret' | 'ec-private' | 'ec-public' | 'rsa-private' | 'rsa-public' {
  if (key.attributes['key-type'] === 'ec') return key.attributes['class'] === 'public-key' ? 'ec-public' : 'ec-private';
  if (key.attributes['key-type'] === 'rsa') return key.attributes['class'] === 'public-key' ? 'rsa-public' : 'rsa-private';
  if (key.attributes['key-type'] === 'des3') return 'des3';
  return key.attributes['key-type'] === 'aes' ? 'aes' : 'generic-secret';
}

/** The users whose tokens hold a key: a public key is visible to every crypto user of the cluster. */
export function holdersOf(data: ClusterHsmData, key: HsmKeyRecord): string[] {
  if (key.attributes['class'] === 'public-key') return data.users.filter((u) => u.role === 'crypto-user').map((u) => u.username);
  return [key.owner, ...key.sharedWith];
}

/** Offers one key to one user's token (the owner's copy, or a sharee's restricted copy). */
export function offerKey(data: ClusterHsmData, clusterId: string, key: HsmKeyRecord, username: string, listener: HsmChangeListener): void {
  listener.apply({
    kind: 'key-available',
    clusterId,
    username,
    key: {
      ref: key.ref,
      label: String(key.attributes['label']),
      keyType: keyTypeOf(key),
      material: unsealMaterial(data, key.sealed),
      attributes: key.attributes,
      shared: username !== key.owner,
    },
  });
}
