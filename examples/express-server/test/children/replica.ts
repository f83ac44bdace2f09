// Child: one replica of the server, started from the environment as `npm start` does (PORT=0).
// Prints `{ "url": ... }` once listening; closes cleanly on SIGTERM.
import { startServer } from '../../src/server.js';

const running = await startServer(process.env);
process.stdout.write(`${JSON.stringify({ url: running.url })}\n`);
process.once('SIGTERM', () => {
  running.close().then(
    () => process.exit(0),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
});
