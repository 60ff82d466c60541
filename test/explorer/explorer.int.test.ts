import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadExplorerBundle } from '../../src/http/explorer/bundle.js';
import { createChartPatient } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/testServer.js';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = fileURLToPath(new URL('../../docs/explorer.png', import.meta.url));
// CI installs Chromium (.ci/run) and must run this test; elsewhere it needs Debian's package.
const skip = process.env.CI !== 'true' && !existsSync(CHROMIUM);
const title = skip
  ? `the explorer in Chromium (skipped: ${CHROMIUM} is absent; apt-get install -y chromium)`
  : 'the explorer in Chromium';

// Short enough for the editor to show every line (Monaco renders only the lines in view).
const chartQuery = (patientId: string) => `query Chart {
  patient(id: "${patientId}") {
    name
    careTeam { name }
    records(first: 5) {
      recordedAt
      diagnosis
      author { name department { name } }
    }
    studies {
      modality
      reportStatus
      orderingDoctor { name }
    }
  }
}`;

// Scripts that run in the page, as source text: this project's TypeScript has no DOM types.
/** Pastes text into the focused element, as Ctrl+V would. */
const PASTE = `(text) => {
  const clipboardData = new DataTransfer();
  clipboardData.setData('text/plain', text);
  (document.activeElement ?? document.body).dispatchEvent(
    new ClipboardEvent('paste', { clipboardData, bubbles: true, cancelable: true }),
  );
}`;
/** Hands every CSP violation of the document to the test (reportCspViolation, exposed below). */
const REPORT_CSP_VIOLATIONS = `document.addEventListener('securitypolicyviolation', (event) => {
  window.reportCspViolation(event.violatedDirective + ' ' + event.blockedURI);
});`;

/**
 * Replaces the whole text of the Monaco editor inside `section` by pasting, as a developer
 * does (typed text would get Monaco's auto-closing brackets and auto-indent on top), and checks
 * that the editor then holds exactly that text: a click that lands before the editor takes
 * focus leaves the old text unselected, and the paste is then tried again.
 */
async function pasteIntoEditor(page: Page, section: string, text: string): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++) {
    await page.locator(`${section} .monaco-editor`).first().click();
    await page.keyboard.press('ControlOrMeta+A');
    await page.evaluate(`(${PASTE})(${JSON.stringify(text)})`);
    if (squash(await editorText(page, section)) === squash(text)) return;
  }
  throw new Error(`the editor in ${section} did not take the pasted text`);
}

function squash(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** The visible text of the Monaco editor inside `section` (Monaco renders spaces as U+00A0). */
async function editorText(page: Page, section: string): Promise<string> {
  const text = await page.locator(`${section} .view-lines`).first().innerText();
  return text.replace(/\u00a0/g, ' ');
}

/** Loaded machines render slowly; nothing here is timed. */
const POLL = { timeout: 60_000, interval: 200 };
const QUERY_EDITOR = '.graphiql-query-editor';
// Variables and headers share one section; the one not shown is hidden.
const HEADER_EDITOR = '.graphiql-editor-tool .graphiql-editor:not(.hidden)';
const RESPONSE = '.graphiql-response';

describe.skipIf(skip)(title, () => {
  let server: TestServer;
  let browser: Browser | undefined;
  beforeAll(async () => {
    const bundle = loadExplorerBundle();
    if (!bundle.ready) {
      throw new Error(
        `explorer bundle unavailable (${bundle.problem}): run npm run build:explorer`,
      );
    }
    server = await startTestServer();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      // Each launch gets a new, empty profile of its own. Without the background-networking
      // flags Chromium calls Google's hosts at start-up.
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await server.close();
  });

  it('runs a chart query with a pasted token, and every request stays on 127.0.0.1', async () => {
    const fixture = await createChartPatient(server.database.db, {
      recordCount: 3,
      studyCount: 2,
      mrn: 'ZEXPLORER1',
    });
    const token = await server.token({ role: 'clinician', doctorId: fixture.careTeamDoctorId });

    if (browser === undefined) throw new Error('Chromium did not start');
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const requests: string[] = [];
    context.on('request', (request) => requests.push(request.url()));
    const page = await context.newPage();
    page.setDefaultTimeout(60_000);
    const cspViolations: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
    });
    await page.exposeFunction('reportCspViolation', (violation: string) => {
      cspViolations.push(violation);
    });
    await page.addInitScript(REPORT_CSP_VIOLATIONS);

    const opened = await page.goto(`${server.url}/graphql`);
    expect(opened?.status()).toBe(200);
    // The editor renders, with the page's hint and the header template in place.
    await expect.poll(() => editorText(page, QUERY_EDITOR), POLL).toContain('caregraph explorer');
    await expect.poll(() => editorText(page, HEADER_EDITOR), POLL).toContain('Authorization');

    // A new token loads the schema with it: the docs and completion need one.
    const introspected = page.waitForResponse(
      (response) =>
        response.request().method() === 'POST' &&
        (response.request().postData() ?? '').includes('__schema') &&
        response.status() === 200,
    );
    await pasteIntoEditor(
      page,
      HEADER_EDITOR,
      JSON.stringify({ Authorization: `Bearer ${token}` }, null, 2),
    );
    await introspected;

    await pasteIntoEditor(page, QUERY_EDITOR, chartQuery(fixture.patientId));
    const answered = page.waitForResponse((response) =>
      (response.request().postData() ?? '').includes('query Chart'),
    );
    await page.locator('.graphiql-execute-button').click();
    const answer = await answered;
    expect(answer.status(), await answer.text()).toBe(200);
    const body = (await answer.json()) as {
      data: { patient: { name: string; records: unknown[]; studies: unknown[] } };
    };
    expect(body.data.patient.name).toBe('Chart Fixture');
    expect(body.data.patient.records).toHaveLength(3);
    expect(body.data.patient.studies).toHaveLength(2);
    await expect.poll(() => editorText(page, RESPONSE), POLL).toContain('Chart Fixture');

    // The README's picture of the explorer is this page, as the test leaves it.
    mkdirSync(dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT });

    // Monaco's workers came from this server, under the page's CSP, and nothing was refused.
    expect(page.workers().length).toBeGreaterThan(0);
    expect(cspViolations).toEqual([]);
    const origins = new Set(requests.map((url) => new URL(url).origin));
    expect(requests.length).toBeGreaterThan(3);
    // data: URIs (GraphiQL's inlined fonts) are read from the stylesheet, not fetched.
    origins.delete('null');
    expect([...origins]).toEqual([server.url]);
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await context.close();
  }, 240_000);
});
