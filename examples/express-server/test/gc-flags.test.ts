// The server's choice of V8's young-generation collector (`scavengeInOneThread`), and that the flag it
// sets can be set in a running process.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { scavengeInOneThread } from '../src/server.js';

describe('scavengeInOneThread', () => {
  it('is on for machines of at most 2 cores unless MODELREG_PARALLEL_SCAVENGE says otherwise', () => {
    expect(scavengeInOneThread({}, 1)).toBe(true);
    expect(scavengeInOneThread({}, 2)).toBe(true);
    expect(scavengeInOneThread({}, 3)).toBe(false);
    expect(scavengeInOneThread({ MODELREG_PARALLEL_SCAVENGE: 'true' }, 2)).toBe(false);
    expect(scavengeInOneThread({ MODELREG_PARALLEL_SCAVENGE: 'false' }, 16)).toBe(true);
    expect(() => scavengeInOneThread({ MODELREG_PARALLEL_SCAVENGE: 'sometimes' }, 2)).toThrow(
      'MODELREG_PARALLEL_SCAVENGE must be true or false',
    );
  });

  it('--no-parallel-scavenge set at run time keeps a process that collects garbage working', () => {
    // Other collector flags (--single-threaded-gc) abort V8 when set after it started; this one must not.
    const script = `
      require('node:v8').setFlagsFromString('--no-parallel-scavenge');
      const keep = [];
      for (let round = 0; round < 200; round++) {
        keep.push(Array.from({ length: 2000 }, (_, i) => ({ i, s: 'x' + i })));
        if (keep.length > 50) keep.splice(0, 25);
      }
      process.stdout.write('ok ' + keep.length);
    `;
    expect(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })).toMatch(/^ok \d+$/);
  });
});
