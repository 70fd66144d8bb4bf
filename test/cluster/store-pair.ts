/**
 * Two ClusterStores on one cluster, each with its own connection and no subscriber: the reader
 * hears none of the writer's announcements, as a member that was away (tests of resyncSettings).
 */
import { Redis } from 'ioredis';
import { keyPrefix } from '../../src/cluster/connect.ts';
import { ClusterStore } from '../../src/cluster/store.ts';

export function storePair(url: string, name: string): { writer: ClusterStore; reader: ClusterStore; close(): Promise<void> } {
  const prefix = keyPrefix(name);
  const writerClient = new Redis(url);
  const readerClient = new Redis(url);
  return {
    writer: new ClusterStore(writerClient, prefix, 'writer'),
    reader: new ClusterStore(readerClient, prefix, 'reader'),
    close: async () => {
      writerClient.disconnect();
      readerClient.disconnect();
    },
  };
}
