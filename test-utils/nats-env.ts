import { randomBytes } from 'node:crypto';
import type { NatsConnection } from 'nats';
import { connect } from 'nats';

/** The test NATS server (JetStream on); every test run uses its own subjects and streams and deletes them. */
export const natsUrl = process.env.MODELREG_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';

async function probe(): Promise<string | null> {
  try {
    const nc = await connect({ servers: natsUrl, timeout: 3000, maxReconnectAttempts: 0 });
    try {
      await (await nc.jetstreamManager()).getAccountInfo();
      return null;
    } finally {
      await nc.close();
    }
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

const failure = await probe();
if (failure !== null) {
  const message = `NATS with JetStream is unreachable at ${natsUrl} (${failure}); set MODELREG_TEST_NATS_URL or start nats-server -js`;
  // In CI a missing server is a broken pipeline, never a silent pass.
  if (process.env.CI) throw new Error(`[nats tests] ${message}`);
  console.warn(`\n!!!!!!!!!! [nats tests] SKIPPED: ${message} !!!!!!!!!!\n`);
}

/** False when NATS is unreachable outside CI: the suites skip, loudly. */
export const natsReachable = failure === null;

/** A name unique to this test run, usable as a subject token and in stream names. */
export const runTag = (prefix = 'mrtest'): string => `${prefix}_${randomBytes(5).toString('hex')}`;

/** Deletes every stream whose name starts with `prefix` (upper-cased, as the bridge names them). */
export async function deleteStreams(nc: NatsConnection, prefix: string): Promise<void> {
  const jsm = await nc.jetstreamManager();
  for (const info of await jsm.streams.list().next()) {
    if (info.config.name.toUpperCase().startsWith(prefix.toUpperCase())) {
      await jsm.streams.delete(info.config.name);
    }
  }
}
