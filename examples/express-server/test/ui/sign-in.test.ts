import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Harness } from './harness.js';
import { browserAvailability, startHarness } from './harness.js';

const availability = browserAvailability();
const ADMIN = 'ui-bootstrap-admin-secret-0123456789abcdef';

/** The UI on a server with tokens (issue 14): sign in with a token, see who, get only the allowed actions. */
describe.runIf(availability.run)('web UI sign-in in chromium', () => {
  let h: Harness;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    h = await startHarness({ auth: { mode: 'token', adminToken: ADMIN } });
    for (const [name, role] of [
      ['rita', 'reader'],
      ['eve', 'editor'],
    ] as const) {
      const res = await fetch(`${h.url}/auth/tokens`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ name, role }),
      });
      expect(res.status).toBe(201);
      tokens[name] = ((await res.json()) as { token: string }).token;
    }
  }, 60_000);
  afterAll(async () => {
    await h?.close();
  });

  it('asks for a token, refuses a wrong one, and keeps the session in an HttpOnly cookie', async () => {
    const page = await h.page('desktop');
    await page.goto(`${h.url}/#/models/iris`);
    await page.getByRole('heading', { name: 'Sign in to modelreg' }).waitFor();
    await page.getByLabel('API token').fill('mr_not_a_token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page
      .getByRole('alert')
      .getByText(/not valid/)
      .waitFor();
    await page.getByLabel('API token').fill(tokens['eve']!);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('Signed in as').waitFor();
    expect(await page.locator('.whoami').textContent()).toMatch(/Signed in as eve \(editor\)/);
    // An editor gets the stage moves and alias form; a promotion works and the history names the editor.
    await page.getByRole('button', { name: 'Move version 1' }).waitFor();
    expect(await page.getByRole('button', { name: 'Set alias…' }).count()).toBe(1);
    await page.getByLabel('Stage for version 3').selectOption('production');
    await page.getByRole('button', { name: 'Move version 3' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Move', exact: true }).click();
    const moved = page
      .getByTestId('history')
      .getByRole('listitem')
      .filter({ hasText: 'version 3: staging → production' });
    await moved.waitFor();
    expect(await moved.textContent()).toContain('by eve');
    await page.getByTestId('versions-table').getByRole('link', { name: 'v3' }).click();
    const versionMoves = page.getByTestId('version-history');
    await versionMoves.getByText('version 3: staging → production').waitFor();
    expect(await versionMoves.textContent()).toContain('by eve');
    await page.getByRole('button', { name: 'Edit description and tags' }).waitFor();
    const cookies = await page.context().cookies();
    const session = cookies.find((c) => c.name === 'modelreg_session');
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    expect(await page.evaluate('document.cookie')).not.toContain('modelreg_session');
  });

  it('offers a reader no actions it may not take, and signing out returns to the sign-in form', async () => {
    const page = await h.page('desktop');
    await page.goto(`${h.url}/#/models/iris`);
    await page.getByLabel('API token').fill(tokens['rita']!);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('Signed in as').waitFor();
    expect(await page.locator('.whoami').textContent()).toMatch(/rita \(reader\)/);
    await page.getByRole('heading', { name: 'iris' }).first().waitFor();
    await page.getByRole('table').first().waitFor();
    expect(await page.getByRole('button', { name: /^Move version/ }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Set alias…' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Edit description and tags' }).count()).toBe(0);
    await page.goto(`${h.url}/#/train`);
    await page.getByText('Your role does not allow training or uploads').waitFor();
    expect(await page.getByRole('button', { name: 'Train' }).count()).toBe(0);
    await page.goto(`${h.url}/#/datasets`);
    await page.getByText('Your role does not allow uploads').waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to modelreg' }).waitFor();
    expect((await page.context().cookies()).some((c) => c.name === 'modelreg_session')).toBe(false);
  });
});
