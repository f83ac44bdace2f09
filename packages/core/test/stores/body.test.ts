import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hashChunks, sliceBody } from '../../src/stores/body.js';

describe('sliceBody', () => {
  it('gives views of the bytes in order, and lets the event loop run between them', async () => {
    const bytes = Uint8Array.from({ length: 10 }, (_, i) => i);
    const seen: string[] = [];
    let immediates = 0;
    const count = (): void => {
      immediates++;
      if (immediates < 10) setImmediate(count);
    };
    setImmediate(count);
    const sizes: number[] = [];
    let before = 0;
    const hashed = hashChunks(sliceBody(bytes, 4));
    for await (const chunk of hashed.chunks) {
      // Each slice after the first arrives after a turn of the loop: an immediate ran meanwhile.
      if (sizes.length > 0) expect(immediates).toBeGreaterThan(before);
      before = immediates;
      sizes.push(chunk.byteLength);
      seen.push(Array.from(chunk).join(','));
      expect(chunk.buffer).toBe(bytes.buffer); // a view, not a copy
    }
    expect(sizes).toEqual([4, 4, 2]);
    expect(seen.join(',')).toBe('0,1,2,3,4,5,6,7,8,9');
    expect(hashed.result()).toEqual({
      size: 10,
      sha256: createHash('sha256').update(bytes).digest('hex'),
    });
  });

  it('gives nothing for no bytes', async () => {
    const chunks: Uint8Array[] = [];
    for await (const chunk of sliceBody(new Uint8Array(0))) chunks.push(chunk);
    expect(chunks).toEqual([]);
  });
});
