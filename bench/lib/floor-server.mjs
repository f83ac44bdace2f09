// The machine's floor for bench/serving-under-training.mjs: a bare Express app (the Express the
// example server runs, with its JSON body parser) answering the same two routes with fixed JSON:
// POST /models/:name/predict and GET /health. No registry, no model, no middleware of ours: what
// this machine gives any Express server under the same load and probe. It listens the way the
// example server does (createHttpServer: requests born with the app's prototypes, see
// examples/express-server/src/http-server.ts); FLOOR_STOCK=1 listens with app.listen, as a stock
// Express app does, which promotes every request's objects to the old generation.
//
//   PORT=8080 node bench/lib/floor-server.mjs <checkout>
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = process.argv[2] ?? new URL('../..', import.meta.url).pathname;
const express = createRequire(join(root, 'examples/express-server/package.json'))('express');

const app = express();
app.disable('x-powered-by');
app.set('etag', false);
app.use(express.json({ limit: '1mb' }));
app.post('/models/:name/predict', (req, res) => {
  const rows = Array.isArray(req.body?.rows) ? req.body.rows : [];
  res.json({ model: req.params.name, version: 1, via: 'stage', predictions: rows.map(() => 'versicolor') });
});
app.get('/health', (_req, res) => res.json({ status: 'ok' }));
const listenArgs = [Number(process.env.PORT), process.env.HOST ?? '127.0.0.1'];
const server =
  process.env.FLOOR_STOCK === '1'
    ? app.listen(...listenArgs)
    : (await import(pathToFileURL(join(root, 'examples/express-server/dist/app.js')).href))
        .createHttpServer(app)
        .listen(...listenArgs);
process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
