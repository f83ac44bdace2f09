import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Application } from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorAnswer, TestBackend } from './helpers.js';
import { embeddedBackend, testApp } from './helpers.js';

describe('the web UI as static files', () => {
  let backend: TestBackend;
  let dir: string;
  let app: Application;

  beforeAll(async () => {
    backend = await embeddedBackend();
    dir = await mkdtemp(join(tmpdir(), 'modelreg-ui-'));
    await mkdir(join(dir, 'assets'));
    await writeFile(join(dir, 'index.html'), '<!doctype html><title>modelreg</title><div id="root"></div>');
    await writeFile(join(dir, 'assets', 'app-abc123.js'), 'console.log(1)');
    app = testApp(backend.registry, { ui: dir });
  });
  afterAll(async () => {
    await backend?.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves index.html at / with a strict content security policy', async () => {
    const res = await request(app).get('/').set('Accept', 'text/html').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.text).toContain('<div id="root">');
    expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    expect(res.headers['cache-control']).toBe('no-cache');
  });

  it('serves hashed assets with a long cache', async () => {
    const res = await request(app).get('/assets/app-abc123.js').expect(200);
    expect(res.headers['content-type']).toMatch(/javascript/);
    expect(res.headers['cache-control']).toMatch(/max-age=31536000, immutable/);
    const missing = await request(app).get('/assets/nope.js').expect(404);
    expect((missing.body as ErrorAnswer).error.code).toBe('ROUTE_NOT_FOUND');
  });

  it('leaves the API as it is: JSON routes answer JSON, unknown routes 404 unless a browser asks', async () => {
    await request(app).get('/models').set('Accept', 'text/html').expect(200).expect('content-type', /json/);
    const api = await request(app).get('/no/such/route').expect(404);
    expect((api.body as ErrorAnswer).error.code).toBe('ROUTE_NOT_FOUND');
    const browser = await request(app)
      .get('/no/such/route')
      .set('Accept', 'text/html,application/xhtml+xml,*/*;q=0.8')
      .expect(302);
    expect(browser.headers['location']).toBe('/#/no/such/route');
    await request(app).post('/').set('Accept', 'text/html').expect(404);
  });

  it('can be turned off, and refuses a folder that has no index.html', async () => {
    const off = testApp(backend.registry, { ui: false });
    const res = await request(off).get('/').set('Accept', 'text/html').expect(404);
    expect((res.body as ErrorAnswer).error.code).toBe('ROUTE_NOT_FOUND');
    expect(() => testApp(backend.registry, { ui: join(dir, 'assets') })).toThrow(/no index\.html/);
  });
});
