import { FakeClusterAdmins } from '../../testing/fake-cluster-admin.test-kit';
import { GatewayExceptionCode } from '../gateway.exception';
import type { CredentialStore } from './admin.ports';
import { UserAdministration } from './user-administration';

describe(UserAdministration.name, () => {
  const secrets: Record<string, Record<string, { username: string; password: string }>> = {
    'keyfleet/blue/standby': { AWSCURRENT: { username: 'standby', password: 'Standby-pass-1' }, AWSPENDING: { username: 'standby', password: 'Standby-pass-2' } },
  };
  const store: CredentialStore = {
    read: (id, stage) => {
      const found = secrets[id]?.[stage];
      return found ? Promise.resolve(found) : Promise.reject(new Error(`no ${stage} of ${id}`));
    },
  };
  let clusters: FakeClusterAdmins;
  let sut: UserAdministration;

  beforeEach(() => {
    clusters = new FakeClusterAdmins(['blue']);
    sut = new UserAdministration(clusters, store);
  });

  it('creates the user named in the secret with its current password, and changes it to the pending one', async () => {
    expect(await sut.createCryptoUser('blue', 'keyfleet/blue/standby')).toEqual({ clusterId: 'blue', username: 'standby' });
    expect(clusters.cluster('blue').passwords.get('standby')).toBe('Standby-pass-1');

    expect(await sut.changePassword('blue', 'keyfleet/blue/standby')).toEqual({ clusterId: 'blue', username: 'standby', stage: 'AWSPENDING' });
    expect(clusters.cluster('blue').passwords.get('standby')).toBe('Standby-pass-2');
    expect((await sut.listUsers('blue')).users.map((u) => u.username)).toEqual(['app', 'standby']);
  });

  it('refuses a secret for another user than the one named, and deleting the pool\'s own user', async () => {
    await expect(sut.createCryptoUser('blue', 'keyfleet/blue/standby', 'other')).rejects.toMatchObject({ code: GatewayExceptionCode.InvalidArgument, message: 'the secret keyfleet/blue/standby is for standby, not other' });
    await expect(sut.deleteCryptoUser('blue', 'APP')).rejects.toMatchObject({ code: GatewayExceptionCode.FailedPrecondition });
    await expect(sut.listUsers('red')).rejects.toMatchObject({ code: GatewayExceptionCode.FailedPrecondition, message: 'cluster red has no admin interface configured' });
  });
});
