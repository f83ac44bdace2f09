import { expect, it } from 'vitest';
import type { NewApiToken } from '../../stores/metadata-store.js';
import type { SuiteContext } from './context.js';
import { at, expectCode, sha } from './fixtures.js';

const token = (n: number, over: Partial<NewApiToken> = {}): NewApiToken => ({
  id: `tok_${String(n).padStart(24, '0')}`,
  name: `user-${n}@example.com`,
  role: 'editor',
  models: null,
  createdAt: at(n),
  secretHash: sha(1000 + n),
  ...over,
});

export function identityTests(ctx: SuiteContext): void {
  it('createToken stores the public fields, never returns the hash, and writes token.created', async () => {
    const store = ctx.store();
    const created = await store.createToken(token(1, { models: ['iris', 'wine'] }));
    expect(created).toEqual({
      id: token(1).id,
      name: 'user-1@example.com',
      role: 'editor',
      models: ['iris', 'wine'],
      createdAt: at(1),
      lastUsedAt: null,
      revokedAt: null,
    });
    expect(created).not.toHaveProperty('secretHash');
    expect(await store.getToken(token(1).id)).toEqual(created);
    const events = await store.readEvents(0, 10);
    expect(events.map((e) => [e.type, e.payload])).toEqual([
      ['token.created', { id: token(1).id, name: 'user-1@example.com', role: 'editor' }],
    ]);
  });

  it('findTokenByHash finds a token by its secret hash, with the hash; an unknown hash is null', async () => {
    const store = ctx.store();
    await store.createToken(token(1, { role: 'reader' }));
    expect(await store.findTokenByHash(sha(1001))).toMatchObject({
      id: token(1).id,
      role: 'reader',
      models: null,
      secretHash: sha(1001),
    });
    expect(await store.findTokenByHash(sha(9999))).toBeNull();
    expect(await store.getToken('tok_missing')).toBeNull();
  });

  it('a taken id or a taken secret hash is ALREADY_EXISTS and stores nothing', async () => {
    const store = ctx.store();
    await store.createToken(token(1));
    const seq = await store.lastEventSeq();
    await expectCode(store.createToken(token(2, { id: token(1).id })), 'ALREADY_EXISTS');
    await expectCode(store.createToken(token(3, { secretHash: sha(1001) })), 'ALREADY_EXISTS');
    expect((await store.listTokens()).map((t) => t.id)).toEqual([token(1).id]);
    expect(await store.lastEventSeq()).toBe(seq);
  });

  it('listTokens lists every token, revoked ones too, oldest first then by id', async () => {
    const store = ctx.store();
    await store.createToken(token(3));
    await store.createToken(token(1));
    await store.createToken(token(2, { createdAt: at(1) }));
    await store.revokeToken(token(3).id, at(10));
    expect((await store.listTokens()).map((t) => [t.id, t.revokedAt])).toEqual([
      [token(1).id, null],
      [token(2).id, null],
      [token(3).id, at(10)],
    ]);
  });

  it('revokeToken marks the token once (token.revoked), again changes nothing, unknown is NOT_FOUND', async () => {
    const store = ctx.store();
    await store.createToken(token(1));
    const seq = await store.lastEventSeq();
    expect(await store.revokeToken(token(1).id, at(5))).toMatchObject({ revokedAt: at(5) });
    expect(await store.revokeToken(token(1).id, at(6))).toMatchObject({ revokedAt: at(5) });
    const events = await store.readEvents(seq, 10);
    expect(events.map((e) => [e.type, e.payload])).toEqual([
      ['token.revoked', { id: token(1).id, name: 'user-1@example.com' }],
    ]);
    expect(await store.findTokenByHash(sha(1001))).toMatchObject({ revokedAt: at(5) });
    await expectCode(store.revokeToken('tok_missing', at(7)), 'NOT_FOUND');
  });

  it('touchToken sets lastUsedAt of a live token only, without an event', async () => {
    const store = ctx.store();
    await store.createToken(token(1));
    await store.createToken(token(2));
    await store.revokeToken(token(2).id, at(3));
    const seq = await store.lastEventSeq();
    await store.touchToken(token(1).id, at(4));
    await store.touchToken(token(2).id, at(4));
    await store.touchToken('tok_missing', at(4));
    expect(await store.getToken(token(1).id)).toMatchObject({ lastUsedAt: at(4) });
    expect(await store.getToken(token(2).id)).toMatchObject({ lastUsedAt: null });
    expect(await store.lastEventSeq()).toBe(seq);
  });
}
