/**
 * One member of the example cluster, in its own process:
 *   node --no-node-snapshot examples/cluster/member.ts <redisUrl> <cluster> <memberName> <leaseTtlMs> <concurrency>
 * Joins the cluster and runs whatever asynchronous events come its way. Its log sink is the
 * example's witness: every START and END line's request id is recorded in Redis (which member
 * started it, how many times it ended, when it first ended), so run.ts can check that every event
 * was done once or more and none lost. Prints `ready` when it serves the example's function; on
 * the IPC message `{ enqueue: n, workMs }` it queues n Event invokes and answers `{ ids }`;
 * SIGTERM closes it cleanly.
 */
import { Redis } from 'ioredis';
import { createRuntime, type LogSink } from '../../src/index.ts';

const [url, cluster, memberName, leaseTtlMs, concurrency] = process.argv.slice(2) as [string, string, string, string, string];
const prefix = `example:{${cluster}}:`;
const redis = new Redis(url, { maxRetriesPerRequest: null });

const witness: LogSink = {
  write(line) {
    const start = /^START RequestId: (\S+)/.exec(line);
    if (start) void redis.hset(`${prefix}started:${memberName}`, start[1]!, Date.now());
    const end = /^END RequestId: (\S+)/.exec(line);
    if (end) {
      const id = end[1]!;
      void redis
        .multi()
        .hincrby(`${prefix}runs`, id, 1)
        .hsetnx(`${prefix}ended`, id, Date.now())
        .hincrby(`${prefix}by`, memberName, 1)
        .hincrby(`${prefix}ended-by:${memberName}`, id, 1)
        .exec();
    }
  },
};

// The account concurrency is cluster-wide: the example gives the cluster 32 slots per member.
const rt = await createRuntime({ logSink: witness, concurrency: Number(concurrency), cluster: { redis: url, name: cluster, leaseTtlMs: Number(leaseTtlMs) } });
while (rt.listFunctions().length === 0) await new Promise((resolve) => setTimeout(resolve, 50));
process.stdout.write('ready\n');

process.on('message', (message: { enqueue: number; workMs: number }) => {
  void (async () => {
    // All at once: the queue fills faster than one producer's round trips would allow, so the
    // figure run.ts prints is the members' rate, not the enqueue loop's.
    const queued = await Promise.all(
      Array.from({ length: message.enqueue }, (_, n) => rt.invoke('work', { n, workMs: message.workMs }, { invocationType: 'Event' })),
    );
    process.send!({ ids: queued.map((q) => q.requestId) });
  })();
});

process.once('SIGTERM', () => {
  void rt.close().then(() => {
    redis.disconnect();
    process.exit(0);
  });
});
