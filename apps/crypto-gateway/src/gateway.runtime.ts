import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Logger } from 'pino';
import { MessageTypes, Topics, dlqTopic } from '@keyfleet/contracts';
import { GatewayCrypto, KeyAdministration, UserAdministration, type KeyDirectory, type RetryRunner } from '@keyfleet/gateway';
import { Pkcs11Offload, ProcessCloudHsmCli } from '@keyfleet/hsm';
import { MessagingMetrics, SpooledPublisher, WorkerPublisher, createKafkaClient, provisionTopics } from '@keyfleet/messaging';
import type { MetricsRegistry } from '@keyfleet/observability';
import { Bulkhead, ClusterBreaker, RetryBudget, retry } from '@keyfleet/resilience';
import { AdminAudit } from './admin/admin-audit';
import { CliClusterAdmins } from './admin/cli-cluster-admin';
import { KafkaOperationAudit } from './audit/kafka-operation-audit';
import { ControlEventHandler } from './consumers/control-event.handler';
import { CONTROL_TOPICS, ControlEventsConsumer } from './consumers/control-events.consumer';
import { ClusterFleet } from './clusters/cluster-fleet';
import { ClusterRuntime } from './clusters/cluster-runtime';
import { countsAgainstCluster, failureClassifier } from './clusters/failure-classifier';
import { SecretsCredentials } from './clusters/secrets-credentials';
import { readGatewayFile, type CryptoGatewayConfig } from './config/crypto-gateway.config';
import { DirectoryStore } from './keys/directory-store';
import { CallerPolicy } from './security/caller-policy';
import { PolicyAuthorizer } from './security/policy-authorizer';
import { processRuntime, type ProcessRuntime } from './process-runtime';
import type { Pkcs11WorkerStatus } from './gateway.tokens';

/**
 * Everything the gateway runs, built from its configuration: key directory, one cluster
 * runtime per pool (breaker, bulkhead, session pool), retries under a budget, the audit
 * trail (spooled when Kafka is away) and the caller policy. Closed in reverse order.
 */
export class GatewayRuntime {
  private constructor(
    readonly directory: KeyDirectory,
    readonly fleet: ClusterFleet,
    readonly crypto: GatewayCrypto,
    readonly authorizer: PolicyAuthorizer,
    readonly audit: KafkaOperationAudit,
    readonly keyAdmin: KeyAdministration,
    readonly userAdmin: UserAdministration,
    readonly adminAudit: AdminAudit,
    private readonly publisher: WorkerPublisher,
    private readonly spool: SpooledPublisher,
    private readonly control: ControlEventsConsumer,
    private readonly offload: Pkcs11Offload | undefined,
  ) {}

  /** The C allocator and node flags, read once (they cannot change while the process runs): for the start-up log and the status endpoint. */
  readonly host: ProcessRuntime = processRuntime();

  /** The PKCS#11 worker threads, for the status endpoint. */
  readonly pkcs11Workers: Pkcs11WorkerStatus = {
    read: () => this.offload?.stats() ?? null,
  };

  private controlStopped = false;

  /** Starts consuming control events in the background, retrying every 5 s while Kafka is away. */
  startControl(logger: Logger): void {
    const attempt = (): void => {
      if (this.controlStopped) return;
      this.control.start().catch((err: unknown) => {
        logger.warn({ err }, 'control events consumer could not start; retrying in 5 s');
        setTimeout(attempt, 5_000).unref();
      });
    };
    attempt();
  }

  static async start(config: CryptoGatewayConfig, logger: Logger, metrics: MetricsRegistry): Promise<GatewayRuntime> {
    const file = readGatewayFile(config.clustersFile);
    // Run-time changes (keys made or destroyed, weights) survive restarts in the state folder.
    const directory = new DirectoryStore(join(config.hsm.stateDir, 'key-directory.json')).load({ rings: file.rings as never, keys: file.keys as never });
    const policy = CallerPolicy.fromFile(config.policyFile);
    const authorizer = new PolicyAuthorizer(policy);

    const kafkaSettings = { brokers: config.kafka.brokers, clientId: config.kafka.clientId };
    const kafka = createKafkaClient({ ...kafkaSettings, logger });
    const topics = [Topics.CryptoOps, Topics.GatewayEvents, ...CONTROL_TOPICS, ...CONTROL_TOPICS.map(dlqTopic)];
    // One audit record per operation: the gateway sends them uncompressed and the broker gzips
    // the topic's log (gzip: the codec kafkajs consumers read without add-ons), so compression
    // costs the gateway's CPU nothing (measured 15-20% of the audit pipeline's throughput in-process).
    const opsTopic = `${config.kafka.topicPrefix}${Topics.CryptoOps}`;
    const topicSettings = { partitions: 3, replicationFactor: 1, configs: { [opsTopic]: { 'compression.type': 'gzip' } } };
    await provisionTopics(kafka, topics.map((t) => `${config.kafka.topicPrefix}${t}`), topicSettings).catch((err: unknown) =>
      logger.warn({ err }, 'topics could not be provisioned at start (Kafka away?): audit records are spooled meanwhile'),
    );
    // The producer has a thread of its own: encoding every record batch would otherwise take
    // ~9% of the event loop that serves the requests (docs/crypto-gateway.md).
    const publisher = new WorkerPublisher({ kafka: kafkaSettings, publisher: { compression: 'none' }, metrics: new MessagingMetrics(metrics), logger });
    await publisher.connect().catch((err: unknown) => logger.warn({ err }, 'Kafka not reachable at start; audit records are spooled until it is'));
    const spool = new SpooledPublisher({
      publisher,
      spoolDir: join(config.hsm.stateDir, 'audit-spool'),
      failOpen: config.auditFailOpen,
      logger,
      metrics,
    });
    await spool.start();
    const audit = new KafkaOperationAudit(spool, config.kafka.topicPrefix, metrics);

    const credentials = new SecretsCredentials(
      new SecretsManagerClient({ region: config.secrets.region, ...(config.secrets.endpoint ? { endpoint: config.secrets.endpoint } : {}) }),
    );
    const offload =
      config.hsm.offload.workers > 0
        ? Pkcs11Offload.start({
            ...config.hsm.offload,
            onWorkerLost: (why, restarted) => logger.error({ why, restarted }, 'a PKCS#11 worker thread stopped; its operations failed with DEVICE_ERROR'),
          })
        : undefined;
    // A worker whose program cannot load fails the start here, not every operation later.
    await offload?.ready();
    logger.info({ workers: config.hsm.offload.workers, calls: config.hsm.offload.calls }, offload ? 'PKCS#11 operations run on worker threads' : 'PKCS#11 operations run on the main thread and libuv pool');
    const env = {
      libraryPath: config.hsm.module,
      stateDir: config.hsm.stateDir,
      credentials,
      ...(config.hsm.loginMarkerDir ? { loginMarkerDir: config.hsm.loginMarkerDir } : {}),
      ...(offload ? { offload } : {}),
    };
    const breakerState = metrics.gauge({ name: 'gateway_breaker_open', help: 'Breaker state per cluster: 0 closed, 0.5 half-open, 1 open', labelNames: ['cluster'] });
    const clusters = file.clusters.map((settings) => {
      const breaker = new ClusterBreaker(settings.id, { ...config.breaker, countsAsFailure: countsAgainstCluster });
      breaker.onStateChange((from, to) => {
        breakerState.set({ cluster: settings.id }, to === 'open' ? 1 : to === 'half-open' ? 0.5 : 0);
        logger.warn({ clusterId: settings.id, from, to }, 'circuit breaker changed state');
        audit.publishEvent(MessageTypes.GatewayBreakerStateChangedV1, settings.id, { clusterId: settings.id, from, to, errorPercentage: breaker.errorPercentage });
      });
      breakerState.set({ cluster: settings.id }, 0);
      return new ClusterRuntime(settings, env, breaker, new Bulkhead({ maxConcurrent: settings.maxInFlight, maxQueue: config.bulkheadQueue }));
    });
    const fleet = new ClusterFleet(clusters);
    if (clusters.length === 0) logger.warn({ clustersFile: config.clustersFile }, 'no clusters configured: every key operation will answer UNAVAILABLE');
    registerPkcs11Gauges(metrics, fleet, offload);
    registerEventLoopGauge(metrics);
    for (const cluster of clusters) {
      // A cluster that cannot log in at start stays out until its breaker lets a probe through.
      await cluster.warm().catch((err: unknown) => logger.error({ err, clusterId: cluster.id }, 'cluster pool could not log in at start'));
    }

    const budget = new RetryBudget({ ratio: 0.2, minRetriesPerSecond: 10 });
    const runner: RetryRunner = {
      run: (work, isRetryable, deadline, firstFailure) =>
        retry(({ index }) => work(index), { policy: config.retry, budget, isRetryable, ...(deadline !== undefined ? { deadline } : {}), ...(firstFailure ? { firstFailure } : {}) }),
    };
    const crypto = new GatewayCrypto({ directory, clusters: fleet, retry: runner, failures: failureClassifier, audit });

    // The admin plane: cloudhsm-cli as each cluster's pool user (keys) or admin (users).
    const cli = config.cli
      ? new ProcessCloudHsmCli({ executable: config.cli.executable, env: { PATH: process.env['PATH'], HOME: process.env['HOME'], CLOUDHSM_LOCAL_ENDPOINT: config.cli.localEndpoint } })
      : undefined;
    if (!cli) logger.warn('CLOUDHSM_CLI is not set: HsmAdmin key and crypto-user management will answer FAILED_PRECONDITION');
    const admins = new CliClusterAdmins(cli, fleet, credentials);
    const keyAdmin = new KeyAdministration({ directory, clusters: admins, handles: { invalidate: (clusterId, label) => fleet.get(clusterId)?.invalidateKey(label) } });
    const userAdmin = new UserAdministration(admins, credentials);
    const adminAudit = new AdminAudit(spool, config.kafka.topicPrefix);
    // Weights, crypto-user switches and key state from rotation-, migration- and key-service.
    const control = new ControlEventsConsumer({
      kafka,
      topicPrefix: config.kafka.topicPrefix,
      groupId: `${config.kafka.topicPrefix}crypto-gateway.control.${config.instanceId}`,
      handler: new ControlEventHandler(directory, fleet, adminAudit, logger),
      publisher,
      logger,
    });
    const runtime = new GatewayRuntime(directory, fleet, crypto, authorizer, audit, keyAdmin, userAdmin, adminAudit, publisher, spool, control, offload);
    logger.info({ allocator: runtime.host.allocator, nodeFlags: runtime.host.nodeFlags }, `C allocator: ${runtime.host.allocator}`);
    runtime.startControl(logger);
    return runtime;
  }

  async close(): Promise<void> {
    this.controlStopped = true;
    await this.control.stop();
    await this.fleet.close();
    // After the pools: they wait for their running work, some of which is on the workers.
    await this.offload?.close();
    await this.spool.stop();
    await this.publisher.disconnect();
  }
}

function registerPkcs11Gauges(metrics: MetricsRegistry, fleet: ClusterFleet, offload: Pkcs11Offload | undefined): void {
  const gauge = (name: string, help: string, read: (c: ClusterRuntime) => number) =>
    metrics.gauge({
      name,
      help,
      labelNames: ['cluster'],
      collect() {
        for (const c of fleet.all()) this.set({ cluster: c.id }, read(c));
      },
    });
  gauge('gateway_pkcs11_logins', 'C_Login calls of the cluster pool (current library instance)', (c) => c.counters.logins);
  gauge('gateway_pkcs11_object_searches', 'C_FindObjects rounds of the cluster pool (current library instance)', (c) => c.counters.objectSearches);
  gauge('gateway_pkcs11_sessions_open', 'PKCS#11 sessions open in the cluster pool', (c) => c.counters.openSessions);
  gauge('gateway_pkcs11_sessions_max', 'Most PKCS#11 sessions open at once in the cluster pool (current library instance)', (c) => c.counters.maxOpenSessions);
  gauge('gateway_inflight', 'Operations in flight on the cluster (bulkhead)', (c) => c.bulkhead.inFlight);
  if (!offload) return;
  const offloadGauge = (name: string, help: string, read: (stats: ReturnType<Pkcs11Offload['stats']>) => number) =>
    metrics.gauge({
      name,
      help,
      collect() {
        this.set(read(offload.stats()));
      },
    });
  offloadGauge('gateway_pkcs11_workers', 'PKCS#11 worker threads running', (s) => s.workers);
  offloadGauge('gateway_pkcs11_worker_jobs_outstanding', 'PKCS#11 operations handed to worker threads and not answered yet', (s) => s.outstanding);
  offloadGauge('gateway_pkcs11_worker_jobs', 'PKCS#11 operations handed to worker threads since start', (s) => s.jobs);
  offloadGauge('gateway_pkcs11_worker_messages', 'Messages that carried them (jobs per message: how many one event-loop turn coalesced)', (s) => s.messages);
  offloadGauge('gateway_pkcs11_worker_busy_seconds', 'Time the worker threads were busy since start, all together (its rate per worker: how busy they are)', (s) => s.busyMs / 1000);
  offloadGauge('gateway_pkcs11_worker_replies', 'Messages of results from the worker threads (more than messages: workers answered part of a message early)', (s) => s.replies);
}

/** How busy the JavaScript main thread is, beside the workers' gauge of the same kind. */
function registerEventLoopGauge(metrics: MetricsRegistry): void {
  metrics.gauge({
    name: 'gateway_event_loop_busy_seconds',
    help: 'Time the JavaScript main thread was busy since start (its rate: the share of time the event loop was active)',
    collect() {
      this.set(performance.eventLoopUtilization().active / 1000);
    },
  });
}

/** Reads a PEM file of the TLS folder. */
export function tlsFile(dir: string, name: string): Buffer {
  return readFileSync(join(dir, name));
}
