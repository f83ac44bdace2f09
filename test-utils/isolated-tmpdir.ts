// A vitest setup file (see testConfig in vitest.shared.ts): each test file gets its own TMPDIR.
// Upload spool files live in `$TMPDIR/modelreg-spool-<uid>`, and a test that runs gc with a grace
// period of 0 sweeps that folder; test files run in parallel (and packages too, under turbo), so a
// shared TMPDIR would let one test's gc delete another test's upload in flight.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'modelreg-test-tmp-'));
process.env.TMPDIR = dir;
afterAll(() => rmSync(dir, { recursive: true, force: true }));
