import { createHmac, randomBytes } from 'node:crypto';
import type { LookupAddress } from 'node:dns';
import { lookup } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { BlockList, isIP } from 'node:net';
import { RegistryError } from '../errors.js';

/**
 * Outbound webhook requests: URL rules, the private-address check (SSRF) and Standard Webhooks
 * signing (https://www.standardwebhooks.com/).
 */

const WHERE = 'webhooks';

/**
 * Addresses a webhook may not reach unless private targets are allowed. Two lists: a BlockList that
 * holds both families matches IPv4 addresses against IPv4-mapped IPv6 rules and the other way round.
 */
const refused4 = new BlockList();
const refused6 = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  refused4.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['::ffff:0:0', 96],
  ['64:ff9b::', 96],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
] as const) {
  refused6.addSubnet(net, prefix, 'ipv6');
}

/** Whether an address is private, loopback, link-local or otherwise not a public unicast address. */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true;
  return family === 4 ? refused4.check(address, 'ipv4') : refused6.check(address, 'ipv6');
}

/** Parses and checks a webhook URL: http(s), no credentials, no fragment. `INVALID_ARGUMENT` otherwise. */
export function parseWebhookUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new RegistryError('INVALID_ARGUMENT', `webhook url ${JSON.stringify(value)} is not a URL`, {
      where: WHERE,
      details: { field: 'url' },
    });
  }
  const bad = (why: string): RegistryError =>
    new RegistryError('INVALID_ARGUMENT', `webhook url ${JSON.stringify(value)} ${why}`, {
      where: WHERE,
      details: { field: 'url' },
    });
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw bad('must use http or https');
  if (url.username || url.password)
    throw bad('must not carry credentials (use the signature to authenticate)');
  if (url.hash) throw bad('must not have a fragment');
  return url;
}

/** The host of a URL as DNS and `isIP` read it (IPv6 without brackets). */
const hostOf = (url: URL): string => url.hostname.replace(/^\[(.*)\]$/, '$1');

/**
 * Resolves the URL's host and refuses it (`INVALID_ARGUMENT`) when any of its addresses is private,
 * unless `allowPrivate`. A host that does not resolve is refused too.
 */
export async function checkWebhookTarget(url: URL, allowPrivate: boolean): Promise<void> {
  if (allowPrivate) return;
  const host = hostOf(url);
  let addresses: LookupAddress[];
  try {
    addresses = isIP(host) ? [{ address: host, family: isIP(host) }] : await lookupAll(host);
  } catch (e) {
    throw new RegistryError(
      'INVALID_ARGUMENT',
      `webhook host "${host}" does not resolve: ${(e as Error).message}`,
      {
        where: WHERE,
        details: { field: 'url' },
        cause: e,
      },
    );
  }
  const blocked = addresses.find((a) => isPrivateAddress(a.address));
  if (blocked) throw privateTarget(host, blocked.address);
}

const privateTarget = (host: string, address: string): RegistryError =>
  new RegistryError(
    'INVALID_ARGUMENT',
    `webhook host "${host}" resolves to ${address}, a private, loopback or link-local address; set MODELREG_WEBHOOK_ALLOW_PRIVATE=true to allow it`,
    { where: WHERE, details: { field: 'url', address } },
  );

const lookupAll = (host: string): Promise<LookupAddress[]> =>
  new Promise((resolve, reject) =>
    lookup(host, { all: true }, (error, addresses) => (error ? reject(error) : resolve(addresses))),
  );

/**
 * A `lookup` for http.request that refuses private addresses: the connection goes to the address
 * that was checked, so a DNS answer that changes between the check and the connect (rebinding)
 * cannot slip through.
 */
function guardedLookup(allowPrivate: boolean): typeof lookup {
  return ((hostname: string, options: object, callback: (...args: unknown[]) => void) => {
    lookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error);
      const list = addresses;
      const blocked = allowPrivate ? undefined : list.find((a) => isPrivateAddress(a.address));
      if (blocked) return callback(privateTarget(hostname, blocked.address));
      if ((options as { all?: boolean }).all) return callback(null, list);
      const first = list[0];
      if (!first) return callback(new Error(`no address for ${hostname}`));
      callback(null, first.address, first.family);
    });
  }) as typeof lookup;
}

// ---- Standard Webhooks signing ----

const SECRET_PREFIX = 'whsec_';

/** A new signing secret: `whsec_` and the base64 of 32 random bytes. */
export const newWebhookSecret = (): string => `${SECRET_PREFIX}${randomBytes(32).toString('base64')}`;

/** Checks a given secret: `whsec_<base64>` of 24 to 64 bytes, as the specification says. */
export function parseWebhookSecret(value: string): string {
  const body = value.startsWith(SECRET_PREFIX) ? value.slice(SECRET_PREFIX.length) : null;
  const bytes = body !== null && /^[A-Za-z0-9+/]+={0,2}$/.test(body) ? Buffer.from(body, 'base64') : null;
  if (!bytes || bytes.length < 24 || bytes.length > 64) {
    throw new RegistryError(
      'INVALID_ARGUMENT',
      'webhook secret must be "whsec_" followed by the base64 of 24 to 64 random bytes (omit it to have one made)',
      { where: WHERE, details: { field: 'secret' } },
    );
  }
  return value;
}

/** The `webhook-signature` value: `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`. */
export function signWebhook(secret: string, id: string, timestamp: number, body: string): string {
  const key = Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

/** What one attempt got. */
export interface AttemptResult {
  ok: boolean;
  status: number | null;
  error: string | null;
  latencyMs: number;
}

/** How a delivery is sent; tests and hosts may replace it (`webhooks.transport`). */
export type WebhookTransport = (request: {
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  allowPrivate: boolean;
}) => Promise<{ status: number }>;

/**
 * POSTs with node:http(s) rather than `fetch`: its `lookup` hook lets the connection use the very
 * address that passed the private-address check. The answer's body is read and dropped (at most
 * 64 KiB are kept off the heap by not buffering); redirects are not followed.
 */
export const httpTransport: WebhookTransport = ({ url, headers, body, timeoutMs, allowPrivate }) =>
  new Promise((resolve, reject) => {
    const target = new URL(url);
    const client = target.protocol === 'https:' ? https : http;
    const req = client.request(
      target,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': Buffer.byteLength(body).toString() },
        lookup: guardedLookup(allowPrivate),
        signal: AbortSignal.timeout(timeoutMs),
        agent: false,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });

/** Sends one signed attempt and says how it went (never throws). */
export async function attemptDelivery(
  transport: WebhookTransport,
  target: { url: string; secret: string },
  message: { id: string; body: string },
  options: { timeoutMs: number; allowPrivate: boolean; now: () => number },
): Promise<AttemptResult> {
  const timestamp = Math.floor(options.now() / 1000);
  const headers = {
    'content-type': 'application/json',
    'user-agent': 'modelreg-webhooks/1',
    'webhook-id': message.id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signWebhook(target.secret, message.id, timestamp, message.body),
  };
  const started = performance.now();
  const latency = (): number => Math.round((performance.now() - started) * 100) / 100;
  try {
    if (!options.allowPrivate) await checkWebhookTarget(new URL(target.url), false);
    const { status } = await transport({
      url: target.url,
      headers,
      body: message.body,
      timeoutMs: options.timeoutMs,
      allowPrivate: options.allowPrivate,
    });
    const ok = status >= 200 && status < 300;
    return { ok, status, error: ok ? null : `HTTP ${status}`, latencyMs: latency() };
  } catch (e) {
    const error =
      e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError')
        ? `timed out after ${options.timeoutMs} ms`
        : e instanceof Error
          ? e.message
          : String(e);
    return { ok: false, status: null, error, latencyMs: latency() };
  }
}
