import { useEffect, useState } from 'react';

// Hash routing (`/#/models/iris`): the page is always `/`, so the API paths stay free.

export type Route =
  | { page: 'models' }
  | { page: 'model'; name: string }
  | { page: 'version'; name: string; version: number }
  | { page: 'compare'; ids: string[] }
  | { page: 'train' }
  | { page: 'experiments' }
  | { page: 'runs'; experiment: string }
  | { page: 'run'; id: string }
  | { page: 'datasets'; name?: string }
  | { page: 'not-found'; path: string };

const patterns: [RegExp, (m: string[]) => Route][] = [
  [/^\/?$/, () => ({ page: 'models' })],
  [/^\/models\/?$/, () => ({ page: 'models' })],
  [/^\/models\/([^/]+)\/?$/, (m) => ({ page: 'model', name: m[0]! })],
  [
    /^\/models\/([^/]+)\/versions\/(\d+)\/?$/,
    (m) => ({ page: 'version', name: m[0]!, version: Number(m[1]) }),
  ],
  [/^\/train\/?$/, () => ({ page: 'train' })],
  [/^\/experiments\/?$/, () => ({ page: 'experiments' })],
  [/^\/experiments\/([^/]+)\/?$/, (m) => ({ page: 'runs', experiment: m[0]! })],
  [/^\/runs\/([^/]+)\/?$/, (m) => ({ page: 'run', id: m[0]! })],
  [/^\/datasets\/?$/, () => ({ page: 'datasets' })],
  [/^\/datasets\/([^/]+)\/?$/, (m) => ({ page: 'datasets', name: m[0]! })],
];

const decode = (s: string): string => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};

export function parseRoute(hash: string): Route {
  const [path = '', search = ''] = hash.replace(/^#/, '').split('?');
  if (/^\/compare\/?$/.test(path)) {
    const ids = new URLSearchParams(search).get('runs');
    return { page: 'compare', ids: ids ? ids.split(',').filter(Boolean) : [] };
  }
  for (const [re, make] of patterns) {
    const m = re.exec(path);
    if (m) return make(m.slice(1).map(decode));
  }
  return { page: 'not-found', path };
}

/** The current route; re-renders on `hashchange`. */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

const e = encodeURIComponent;

/** Links of the app, as `href`s. */
export const to = {
  models: (): string => '#/models',
  model: (name: string): string => `#/models/${e(name)}`,
  experiments: (): string => '#/experiments',
  runs: (experiment: string): string => `#/experiments/${e(experiment)}`,
  version: (name: string, version: number): string => `#/models/${e(name)}/versions/${version}`,
  run: (id: string): string => `#/runs/${e(id)}`,
  compare: (ids: string[]): string => `#/compare?runs=${ids.map(e).join(',')}`,
  train: (): string => '#/train',
  datasets: (): string => '#/datasets',
  dataset: (name: string): string => `#/datasets/${e(name)}`,
};
