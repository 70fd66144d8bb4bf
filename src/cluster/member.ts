/**
 * One runtime's membership of a cluster: its Redis connections, its store, and the subscription
 * that brings other members' control-plane changes into the local registry.
 *
 * How a change travels: the member that makes it writes it with one Lua script that also
 * publishes `{ member, kind, name }` on `<prefix>changes`. Every other member reloads that
 * function (or the layers) from Redis and rebuilds its entry (registry/restore.ts
 * `restoreFunction`, inside the registry's `serialise(name)`, so it is ordered with local changes
 * to the same function); versions whose revisionId it already holds keep their warm environments.
 *
 * Messages are the trigger, Redis is the truth: a member re-reads the whole registry when it
 * starts listening and again after every reconnection (Pub/Sub drops what is published while a
 * subscriber is away), so a missed message costs a reload, never a stale function.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { ClusterOptions } from '../config/index.ts';
import type { DeployContext } from '../registry/deploy.ts';
import type { AsyncSettingKind, HttpSettingKind } from '../registry/store.ts';
import { reloadFunction } from '../registry/commit.ts';
import { restoreLayers } from '../registry/restore.ts';
import { joinCluster, keyPrefix, LAMBDALET_VERSION } from './connect.ts';
import { BullMQEventQueue } from './bullmq-queue.ts';
import { MetricsBoard } from './metrics.ts';
import { ClusterSemaphore } from './semaphore.ts';
import { ClusterStore } from './store.ts';

interface ChangeMessage {
  readonly member: string;
  readonly kind: 'function' | 'layer' | 'setting';
  readonly name: string;
  /** kind 'setting': the async or HTTP setting's kind, and its JSON ('' removed). */
  readonly setting?: AsyncSettingKind | HttpSettingKind;
  readonly json?: string;
}

export class ClusterMember {
  /** This member's id: a random UUID per runtime. */
  readonly id: string = randomUUID();
  readonly options: ClusterOptions;
  readonly prefix: string;
  readonly redis: Redis;
  readonly store: ClusterStore;
  /** Cluster-wide account and reserved concurrency (the Invoker's admission gate). */
  readonly concurrency: ClusterSemaphore;
  /** The cluster's event queue (BullMQ): asynchronous invocations, destinations, lambdalet queues. */
  readonly events: BullMQEventQueue;
  /** Every member's `rt.metrics()` in Redis (`rt.clusterMetrics()`). */
  readonly metrics: MetricsBoard;
  readonly #subscriber: Redis;
  #ctx: DeployContext | undefined;
  #closed = false;
  /** Applies of remote changes not settled yet (close() waits for them). */
  readonly #applying = new Set<Promise<void>>();

  private constructor(options: ClusterOptions, redis: Redis, concurrency: number) {
    this.options = options;
    this.prefix = keyPrefix(options.name);
    this.redis = redis;
    this.store = new ClusterStore(redis, this.prefix, this.id);
    this.concurrency = new ClusterSemaphore(redis, this.prefix, options.name, options.leaseTtlMs, concurrency);
    this.events = new BullMQEventQueue(redis, this.prefix, options.leaseTtlMs);
    this.metrics = new MetricsBoard(redis, this.prefix, this.id, options.leaseTtlMs);

    this.#subscriber = redis.duplicate();
    this.#subscriber.on('error', () => {}); // the reconnect loop retries; commands wait meanwhile
  }

  /**
   * Connects, checks the version and subscribes. `concurrency` is the member's account limit (the
   * runtime's `concurrency` option; give every member the same).
   * @throws ClusterError (`unreachable`, `version`).
   */
  static async join(options: ClusterOptions, concurrency: number, version = LAMBDALET_VERSION): Promise<ClusterMember> {
    const redis = await joinCluster(options, version);
    const member = new ClusterMember(options, redis, concurrency);
    try {
      await member.#subscriber.connect();
      await member.#subscriber.subscribe(`${member.prefix}changes`, member.events.channel);
      member.#subscriber.on('message', (channel: string, text: string) => {
        if (channel === member.events.channel) member.events.announced();
        else if (channel === `${member.prefix}changes`) member.#settingMessage(text);
      });
    } catch (error) {
      await member.close();
      throw error;
    }
    return member;
  }

  /**
   * Starts applying other members' changes to the runtime behind `ctx` (after its restore). Every
   * function is re-read once now: a change published between the subscription and the restore is
   * applied here.
   */
  attach(ctx: DeployContext): void {
    this.#ctx = ctx;
    this.concurrency.attach(ctx.registry);
    this.#subscriber.on('message', (channel: string, text: string) => {
      if (channel !== `${this.prefix}changes`) return;
      let message: ChangeMessage;
      try {
        message = JSON.parse(text) as ChangeMessage;
      } catch {
        return;
      }
      if (message.member === this.id || message.kind === 'setting') return;
      this.#track(message.kind === 'layer' ? this.#applyLayers() : this.#applyFunction(message.name));
    });
    let first = true;
    this.#subscriber.on('ready', () => {
      // ioredis re-subscribes on reconnection; what was published meanwhile was lost: re-read it all.
      if (!first) this.#track(this.resync());
      first = false;
    });
    this.#track(this.resync());
  }

  /** Re-reads every function (stored or held locally), the layers and the async settings. */
  async resync(): Promise<void> {
    const ctx = this.#ctx;
    if (!ctx) return;
    await this.store.resyncSettings();
    await this.#applyLayers();
    const names = new Set([...(await this.store.functionNames()), ...[...ctx.registry.values()].map((entry) => entry.name)]);
    await Promise.all([...names].map((name) => this.#applyFunction(name)));
  }

  /** Resolves when every remote change received so far has been applied. */
  async settled(): Promise<void> {
    while (this.#applying.size > 0) await Promise.allSettled([...this.#applying]);
  }

  /** Stops listening and closes both connections (queued writes first). Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#subscriber.disconnect();
    await this.settled();
    await this.store.close();
    await this.concurrency.close();
    await this.events.close();
    await this.metrics.close();
    this.redis.disconnect();
  }

  /** Another member's change to an async setting: applied as announced (its value is in the message). */
  #settingMessage(text: string): void {
    let message: ChangeMessage;
    try {
      message = JSON.parse(text) as ChangeMessage;
    } catch {
      return;
    }
    if (message.kind !== 'setting' || message.member === this.id || message.setting === undefined || this.#closed) return;
    this.store.settingChanged(message.setting, message.name, message.json);
  }

  #track(work: Promise<void>): void {
    const tracked = work.catch((error: unknown) => {
      if (this.#closed) return;
      process.emitWarning(`lambdalet cluster ${this.options.name}: applying a change from another member failed: ${(error as Error).message}`, {
        code: 'LAMBDALET_CLUSTER_SYNC',
      });
    });
    this.#applying.add(tracked);
    void tracked.finally(() => this.#applying.delete(tracked));
  }

  async #applyFunction(name: string): Promise<void> {
    const ctx = this.#ctx;
    if (!ctx || this.#closed || ctx.isClosing()) return;
    await ctx.registry.serialise(name, async () => {
      if (this.#closed || ctx.isClosing()) return;
      // This member's own writes to Redis first: reading before them would undo a local change.
      await this.store.flush().catch(() => {});
      await reloadFunction(ctx, name);
    });
  }

  async #applyLayers(): Promise<void> {
    const ctx = this.#ctx;
    if (!ctx || this.#closed || ctx.isClosing()) return;
    restoreLayers(ctx, await this.store.loadLayers());
  }
}
