import { defineConfig } from 'vite';

// A static single-page app: `vite build` writes dist/ (index.html + hashed assets/), which the
// Express server serves at `/`. Relative asset URLs let a host mount the server under a prefix.
export default defineConfig({
  base: './',
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    target: 'es2022',
    chunkSizeWarningLimit: 400,
  },
  server: {
    // `npm run dev` in this folder: the API is the Express server on :8000.
    proxy: Object.fromEntries(
      [
        '/models',
        '/datasets',
        '/experiments',
        '/runs',
        '/train',
        '/jobs',
        '/events',
        '/auth',
        '/docs',
        '/health',
        '/openapi.json',
      ].map((p) => [p, 'http://127.0.0.1:8000']),
    ),
  },
});
