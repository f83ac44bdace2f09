import { useEffect, useRef } from 'react';
import { NoticeProvider } from './components/notices.js';
import { Session } from './components/session.js';
import { WhoContext } from './components/who.js';
import { DatasetsPage } from './pages/datasets-page.js';
import { ExperimentsPage } from './pages/experiments-page.js';
import { ModelPage } from './pages/model-page.js';
import { ModelsPage } from './pages/models-page.js';
import { RunPage } from './pages/run-page.js';
import { RunsPage } from './pages/runs-page.js';
import { ComparePage } from './pages/compare-page.js';
import { TrainPage } from './pages/train-page.js';
import { VersionPage } from './pages/version-page.js';
import type { Route } from './router.js';
import { to, useRoute } from './router.js';

const sections = [
  { label: 'Models', href: to.models(), pages: ['models', 'model'] },
  { label: 'Experiments', href: to.experiments(), pages: ['experiments', 'runs', 'run', 'compare'] },
  { label: 'Datasets', href: to.datasets(), pages: ['datasets'] },
  { label: 'Train', href: to.train(), pages: ['train'] },
];

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case 'models':
      return <ModelsPage />;
    case 'model':
      return <ModelPage key={route.name} name={route.name} />;
    case 'version':
      return <VersionPage key={`${route.name}/${route.version}`} name={route.name} version={route.version} />;
    case 'compare':
      return <ComparePage key={route.ids.join(',')} ids={route.ids} />;
    case 'train':
      return <TrainPage />;
    case 'experiments':
      return <ExperimentsPage />;
    case 'runs':
      return <RunsPage key={route.experiment} experiment={route.experiment} />;
    case 'run':
      return <RunPage key={route.id} id={route.id} />;
    case 'datasets':
      return <DatasetsPage key={route.name ?? ''} name={route.name} />;
    default:
      return (
        <>
          <h1>Page not found</h1>
          <p>
            Nothing lives at <code>{route.path}</code>. Go to the <a href={to.models()}>models</a>.
          </p>
        </>
      );
  }
}

export function App() {
  const route = useRoute();
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);

  // After a navigation, move focus to the page so keyboard and screen-reader users start there.
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    main.current?.focus();
    window.scrollTo(0, 0);
  }, [route]);

  return (
    <Session>
      {(who, signOut) => (
        <WhoContext.Provider value={who}>
          <NoticeProvider>
            <a
              className="skip-link"
              href="#main"
              onClick={(e) => (e.preventDefault(), main.current?.focus())}
            >
              Skip to content
            </a>
            <header className="topbar">
              <a className="brand" href={to.models()}>
                modelreg
              </a>
              <nav aria-label="Main">
                <ul>
                  {sections.map((s) => (
                    <li key={s.label}>
                      <a href={s.href} aria-current={s.pages.includes(route.page) ? 'page' : undefined}>
                        {s.label}
                      </a>
                    </li>
                  ))}
                  <li>
                    <a href="docs">API docs</a>
                  </li>
                </ul>
              </nav>
              <p className="whoami">
                {who.auth === 'open' ? (
                  <span title="The server runs without tokens (loopback only)">Open server: full rights</span>
                ) : (
                  <>
                    Signed in as <strong>{who.name}</strong> ({who.role}
                    {who.models ? `: ${who.models.join(', ')}` : ''}){' '}
                    <button type="button" className="link-button" onClick={signOut}>
                      Sign out
                    </button>
                  </>
                )}
              </p>
            </header>
            <main id="main" ref={main} tabIndex={-1}>
              <Page route={route} />
            </main>
          </NoticeProvider>
        </WhoContext.Provider>
      )}
    </Session>
  );
}
