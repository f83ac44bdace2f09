import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Application } from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestBackend } from './helpers.js';
import { embeddedBackend, seedIrisModel, testApp } from './helpers.js';

/** Reads server-sent events from `res` until `done` says enough; returns them parsed. */
async function readEvents(
  res: Response,
  done: (events: { id: string; event: string; data: unknown }[]) => boolean,
): Promise<{ id: string; event: string; data: unknown }[]> {
  const events: { id: string; event: string; data: unknown }[] = [];
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  while (!done(events)) {
    const { value, done: ended } = await reader.read();
    if (ended) break;
    buffer += value;
    let cut: number;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const field = (name: string) =>
        block
          .split('\n')
          .find((l) => l.startsWith(`${name}: `))
          ?.slice(name.length + 2);
      if (field('event'))
        events.push({ id: field('id')!, event: field('event')!, data: JSON.parse(field('data')!) });
    }
  }
  await reader.cancel();
  return events;
}

describe('editing descriptions and tags, and the event stream the web UI follows', () => {
  let backend: TestBackend;
  let app: Application;
  let server: Server;
  let url: string;

  beforeAll(async () => {
    backend = await embeddedBackend();
    app = testApp(backend.registry);
    await seedIrisModel(app, 'iris_meta', { stage: 'staging' });
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    await backend?.cleanup();
  });

  it('PATCH sets a description and tags of a model and of a version; null removes a tag', async () => {
    const model = await request(app)
      .patch('/models/iris_meta')
      .send({ description: 'flowers', tags: { team: 'ml', tmp: 'x' } })
      .expect(200);
    expect(model.body).toMatchObject({
      name: 'iris_meta',
      description: 'flowers',
      tags: { team: 'ml', tmp: 'x' },
    });
    const again = await request(app)
      .patch('/models/iris_meta')
      .send({ tags: { tmp: null } })
      .expect(200);
    expect(again.body.tags).toEqual({ team: 'ml' });
    expect(again.body.description).toBe('flowers');
    const version = await request(app)
      .patch('/models/iris_meta/versions/1')
      .send({ description: 'first try', tags: { reviewed: 'yes' } })
      .expect(200);
    expect(version.body).toMatchObject({ version: 1, description: 'first try', tags: { reviewed: 'yes' } });
  });

  it('PATCH refuses bad input with a 4xx naming it, and changes nothing', async () => {
    const bad = await request(app)
      .patch('/models/iris_meta')
      .send({ tags: { 'bad tag!': 'x' } })
      .expect(400);
    expect(bad.body.error.message).toMatch(/tags/);
    const extra = await request(app).patch('/models/iris_meta').send({ stage: 'production' }).expect(400);
    expect(extra.body.error.message).toMatch(/stage/);
    await request(app).patch('/models/nope').send({ description: 'x' }).expect(404);
    await request(app).patch('/models/iris_meta/versions/9').send({ description: 'x' }).expect(404);
    await request(app).patch('/models/iris_meta').set('Content-Type', 'text/plain').send('x').expect(415);
    const model = await request(app).get('/models/iris_meta').expect(200);
    expect(model.body).toMatchObject({ description: 'flowers', tags: { team: 'ml' } });
  });

  it('GET /events streams the chosen types with id, event and data, and replays after Last-Event-ID', async () => {
    expect((await fetch(`${url}/events?types=version.nope`)).status).toBe(400);
    const controller = new AbortController();
    const res = await fetch(`${url}/events?types=version.stage_changed`, { signal: controller.signal });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reading = readEvents(res, (e) => e.length >= 1);
    await request(app).post('/models/iris_meta/versions/1/stage').send({ stage: 'production' }).expect(200);
    const [moved] = await reading;
    controller.abort();
    expect(moved).toMatchObject({
      event: 'version.stage_changed',
      data: {
        type: 'version.stage_changed',
        payload: { name: 'iris_meta', version: 1, toStage: 'production' },
      },
    });
    expect(moved!.id).toBe(String((moved!.data as { seq: number }).seq));

    // Missed while away: a reconnect with Last-Event-ID gets it first.
    await request(app).post('/models/iris_meta/versions/1/stage').send({ stage: 'archived' }).expect(200);
    const resumed = await fetch(`${url}/events?types=version.stage_changed`, {
      headers: { 'Last-Event-ID': moved!.id },
    });
    const [replayed] = await readEvents(resumed, (e) => e.length >= 1);
    expect(replayed).toMatchObject({
      data: { payload: { version: 1, fromStage: 'production', toStage: 'archived' } },
    });
    expect(Number(replayed!.id)).toBeGreaterThan(Number(moved!.id));
  });
});
