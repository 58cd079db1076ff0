// An in-memory cluster admin interface for unit tests of the admin use cases: objects by
// label and class, owners and sharees, failures on demand.
import { GatewayException, GatewayExceptionCode } from '../lib/gateway.exception';
import type { ClusterAdmin, ClusterAdminSet, HsmKeyInfo, HsmKeySelector } from '../lib/admin/admin.ports';

export class FakeClusterAdmin implements ClusterAdmin {
  readonly objects: HsmKeyInfo[] = [];
  readonly users = new Map<string, string>([['app', 'crypto-user']]);
  readonly passwords = new Map<string, string>();
  /** Method name -> error to throw on its next call. */
  readonly failNext = new Map<string, Error>();
  private next = 1;

  constructor(
    readonly clusterId: string,
    private readonly fleet?: FakeClusterAdmins,
  ) {}

  readonly cryptoUser = () => Promise.resolve('app');

  generateKey(request: Parameters<ClusterAdmin['generateKey']>[0]) {
    this.maybeFail('generateKey');
    const pair = !request.spec.startsWith('AES') && !request.spec.startsWith('HMAC');
    const made = pair ? [this.add(request.label, 'public-key'), this.add(request.label, 'private-key', request.shareWith)] : [this.add(request.label, 'secret-key', request.shareWith)];
    return Promise.resolve(made);
  }

  findKeys(selector?: HsmKeySelector) {
    this.maybeFail('findKeys');
    return Promise.resolve(this.objects.filter((o) => !selector || (o.label === selector.label && (!selector.keyClass || o.keyClass === selector.keyClass))));
  }

  deleteKey(selector: HsmKeySelector) {
    this.maybeFail('deleteKey');
    const matching = this.single(selector);
    this.objects.splice(this.objects.indexOf(matching), 1);
    return Promise.resolve();
  }

  shareKey(selector: HsmKeySelector, username: string, share: boolean) {
    this.maybeFail('shareKey');
    const key = this.single(selector);
    const sharedWith = share ? [...key.sharedWith, username] : key.sharedWith.filter((u) => u !== username);
    this.objects[this.objects.indexOf(key)] = { ...key, sharedWith };
    return Promise.resolve();
  }

  wrapKey(request: Parameters<ClusterAdmin['wrapKey']>[0]) {
    this.maybeFail('wrapKey');
    const payload = this.single(request.payload);
    this.single(request.wrapping);
    return Promise.resolve({ wrapped: Buffer.from(`wrapped:${payload.reference}:${request.mechanism}:${request.hash}`) });
  }

  unwrapKey(request: Parameters<ClusterAdmin['unwrapKey']>[0]) {
    this.maybeFail('unwrapKey');
    this.single(request.unwrapping);
    return Promise.resolve(this.add(request.label, request.spec.startsWith('AES') || request.spec.startsWith('HMAC') ? 'secret-key' : 'private-key'));
  }

  importPublicKey(request: Parameters<ClusterAdmin['importPublicKey']>[0]) {
    this.maybeFail('importPublicKey');
    return Promise.resolve(this.add(request.label, 'public-key'));
  }

  replicateKey(selector: HsmKeySelector, destinationClusterId: string) {
    this.maybeFail('replicateKey');
    const key = this.single(selector);
    const destination = this.fleet?.get(destinationClusterId);
    if (!destination) throw new GatewayException(GatewayExceptionCode.NotFound, `no cluster ${destinationClusterId}`);
    destination.objects.push({ ...key });
    return Promise.resolve();
  }

  listUsers() {
    return Promise.resolve([...this.users].map(([username, role]) => ({ username, role })));
  }

  createCryptoUser(username: string, password: string) {
    this.maybeFail('createCryptoUser');
    if (this.users.has(username)) throw new GatewayException(GatewayExceptionCode.AlreadyExists, `user ${username} exists`);
    this.users.set(username, 'crypto-user');
    this.passwords.set(username, password);
    return Promise.resolve();
  }

  deleteCryptoUser(username: string) {
    this.users.delete(username);
    return Promise.resolve();
  }

  changePassword(username: string, password: string) {
    this.passwords.set(username, password);
    return Promise.resolve();
  }

  private add(label: string, keyClass: string, shareWith: readonly string[] = []): HsmKeyInfo {
    const info = { reference: `0x${(this.next++).toString(16).padStart(16, '0')}`, label, keyClass, keyType: 'aes', owners: ['app'], sharedWith: [...shareWith], extractable: true };
    this.objects.push(info);
    return info;
  }

  private single(selector: HsmKeySelector): HsmKeyInfo {
    const found = this.objects.filter((o) => o.label === selector.label && (!selector.keyClass || o.keyClass === selector.keyClass));
    if (found.length !== 1) throw new GatewayException(GatewayExceptionCode.NotFound, `selection matched ${found.length} keys`);
    return found[0] as HsmKeyInfo;
  }

  private maybeFail(method: string): void {
    const err = this.failNext.get(method);
    if (err) {
      this.failNext.delete(method);
      throw err;
    }
  }
}

export class FakeClusterAdmins implements ClusterAdminSet {
  private readonly byId = new Map<string, FakeClusterAdmin>();

  constructor(ids: readonly string[]) {
    for (const id of ids) this.byId.set(id, new FakeClusterAdmin(id, this));
  }

  get(clusterId: string): FakeClusterAdmin | undefined {
    return this.byId.get(clusterId);
  }

  cluster(clusterId: string): FakeClusterAdmin {
    const found = this.byId.get(clusterId);
    if (!found) throw new Error(`no fake cluster ${clusterId}`);
    return found;
  }
}
