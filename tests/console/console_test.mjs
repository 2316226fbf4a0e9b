// The web console in a real browser (Debian's chromium, driven by
// playwright-core), against real nodes that
// tests/e2e/console_browser_e2e_test.cc set up. Usage:
//   node console_test.mjs CONFIG.json
// CONFIG: {node_url, admin_key, outsider_key, green_id, green_name,
//          amber_id, amber_name, evil_id, screenshots}
// Prints one JSON line of results ({"created": id, …}) and exits 0, or
// prints what failed and exits 1.
import {chromium} from 'playwright-core';
import {readFileSync, mkdirSync} from 'node:fs';
import {createServer} from 'node:http';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
// Under the sanitizers the node is several times slower (test_support::kSanitizerSlowdown).
const slow = config.slowdown || 1;
mkdirSync(config.screenshots, {recursive: true});
const results = {};

// Where the run is, on stderr: the harness shows it when a step fails or hangs.
function step(name) {
  console.error(`[console_test] ${new Date().toISOString()} ${name}`);
}
// A hung browser fails the test with the step it hung in, not a timeout.
setTimeout(() => {
  console.error(`[console_test] gave up after ${150 * slow} s`);
  process.exit(2);
}, 150000 * slow).unref();

function check(condition, what) {
  if (!condition) throw new Error('check failed: ' + what);
}

async function ready(page) {
  await page.waitForSelector('.page[data-ready="true"]', {timeout: 20000 * slow});
}

async function go(page, hash, base) {
  await page.goto((base || config.node_url) + '/' + hash);
  await ready(page);
}

async function shot(page, name) {
  await page.screenshot({path: `${config.screenshots}/${name}.png`, fullPage: true});
}

async function signIn(page, key, base) {
  await page.goto((base || config.node_url) + '/');
  await page.waitForSelector('#api-key');
  await page.fill('#api-key', key);
  await page.click('form.signin button[type=submit]');
  await page.waitForSelector('.page[data-page="dashboard"][data-ready="true"]', {timeout: 20000 * slow});
}

// What the page shows and links to never holds this. (Not the page's
// source: a search box holds what was searched for.)
async function assertNothingOf(page, what, needles) {
  const html = await page.evaluate(() => document.body.innerText + ' ' +
    [...document.querySelectorAll('[href]')].map((a) => a.getAttribute('href')).join(' '));
  for (const needle of needles) check(!html.includes(needle), `${what}: shows ${needle}`);
}

const browser = await chromium.launch({
  executablePath: process.env.KIZUNA_CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
let failed = null;
const consoleErrors = [];
try {
  // ---- the home team's analyst
  const home = await browser.newContext({viewport: {width: 1280, height: 900}});
  const page = await home.newPage();
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  step('sign-in page');
  await page.goto(config.node_url + '/');
  await page.waitForSelector('#api-key');
  await shot(page, 'signin');
  await page.fill('#api-key', 'kz_0000000000000000_not-a-key');
  await page.click('form.signin button[type=submit]');
  await page.waitForSelector('.message.error');
  check(!(await home.cookies()).some((c) => c.name === 'kizuna_session'), 'a wrong key gives no cookie');

  step('sign in as the home team admin');
  await signIn(page, config.admin_key);
  const cookie = (await home.cookies()).find((c) => c.name === 'kizuna_session');
  check(cookie && cookie.httpOnly && cookie.sameSite === 'Strict', 'the session cookie is HttpOnly and Strict');
  check(!(await page.evaluate(() => document.cookie)).includes('kizuna_session'), 'script cannot read the cookie');
  check(Number(await page.textContent('#recent-total')) >= 3, 'the dashboard counts the objects');
  check((await page.textContent('main')).includes('cert-b'), 'the dashboard lists the partner');
  await shot(page, 'dashboard');

  step('objects');
  await go(page, '#/objects?q=' + encodeURIComponent(config.green_name));
  check((await page.textContent('#results')).includes(config.green_name), 'the search finds the GREEN indicator');
  await go(page, '#/objects?tlp=amber&type=indicator');
  check((await page.textContent('#results')).includes(config.amber_name), 'the home team sees AMBER');
  await shot(page, 'objects');

  step('object page');
  await go(page, '#/object/' + config.green_id);
  check((await page.textContent('main')).includes(config.green_name), 'the object page');
  check(await page.$('svg.graph line.edge') !== null, 'the relationship is drawn');
  check((await page.textContent('svg.graph')).includes('related-to'), 'the edge is labelled');
  await shot(page, 'object');

  step('the dashboard, live');
  await go(page, '#/');
  await page.waitForSelector('#live:not([hidden])', {timeout: 20000 * slow});
  const liveId = 'indicator--00000000-0000-4000-8000-0000000000aa';
  const posted = await page.evaluate(async ([id, token]) => {
    const now = new Date().toISOString();
    const response = await fetch('/taxii2/root/collections/default/objects/', {
      method: 'POST', credentials: 'same-origin',
      headers: {'Content-Type': 'application/taxii+json;version=2.1', 'Accept': 'application/taxii+json;version=2.1',
                'X-CSRF-Token': token, 'X-Kizuna-Console': '1'},
      body: JSON.stringify({objects: [{type: 'indicator', spec_version: '2.1', id, created: now, modified: now,
        name: 'arrived while watching', pattern: "[domain-name:value = 'live.example']", pattern_type: 'stix',
        valid_from: now, object_marking_refs: ['marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb']}]})});
    return response.status;
  }, [liveId, await page.evaluate(() => kz.session().csrf_token)]);
  check(posted === 202, 'posted while the dashboard is open: ' + posted);
  await page.waitForSelector('#newest tr.fresh >> text=arrived while watching', {timeout: 20000 * slow});
  // A match recorded as a sighting appears among the live activity.
  const matched = await page.evaluate(async (token) => (await fetch('/api/v1/match', {
    method: 'POST', credentials: 'same-origin',
    headers: {'Content-Type': 'application/json', 'X-CSRF-Token': token, 'X-Kizuna-Console': '1'},
    body: JSON.stringify({observables: ['203.0.113.21'], sighting: true})})).status,
  await page.evaluate(() => kz.session().csrf_token));
  check(matched === 200, 'matched with a sighting: ' + matched);
  await page.waitForSelector('#activity tr.fresh >> text=sighting', {timeout: 20000 * slow});
  check((await page.innerHTML('#activity')).includes(encodeURIComponent(config.green_id)), 'the sighting names its indicator');

  step('create form');
  await go(page, '#/new');
  await page.selectOption('#kind', 'indicator');
  await page.fill('#name', 'made in the console');
  await page.fill('#pattern', "[ipv4-addr:value = '198.51.100.200']");
  await page.selectOption('#tlp', 'green');
  await shot(page, 'create');
  await page.click('form.create button[type=submit]');
  await page.waitForSelector('#create-status .message.ok', {timeout: 20000 * slow});
  const created = await page.getAttribute('#create-status a', 'href');
  results.created = decodeURIComponent(created.replace('#/object/', ''));
  check(results.created.startsWith('indicator--'), 'the form made an indicator');

  step('import a file');
  {
    // Three envelopes' worth, and one object the node refuses: the progress
    // bar fills and the summary counts both.
    const stamp = '2026-11-24T00:00:00.000Z';
    const objects = [];
    for (let i = 0; i < 1200; ++i) {
      const id = 'indicator--00000000-0000-4000-8000-1' + String(i).padStart(11, '0');
      objects.push({type: 'indicator', spec_version: '2.1', id, created: stamp, modified: stamp,
        name: 'imported ' + i, pattern: `[ipv4-addr:value = '198.18.${i >> 8}.${i & 255}']`,
        pattern_type: 'stix', valid_from: stamp,
        object_marking_refs: ['marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da']});
    }
    objects.push({type: 'indicator', spec_version: '2.1', id: 'indicator--00000000-0000-4000-8000-2000000000bd',
      created: stamp, modified: stamp, pattern_type: 'stix', valid_from: stamp});  // no pattern
    results.imported = objects[1199].id;
    await page.setInputFiles('#import-file', {name: 'bundle.json', mimeType: 'application/json',
      buffer: Buffer.from(JSON.stringify({type: 'bundle', id: 'bundle--00000000-0000-4000-8000-0000000000bb', objects}))});
    await page.click('#import-file ~ button[type=submit]');
    await page.waitForSelector('#import-status .message:not(:has-text("sent"))', {timeout: 60000 * slow});
    check((await page.textContent('#import-status')).includes('Imported: 1200 stored, 1 refused'),
          'the import summary: ' + await page.textContent('#import-status'));
    check(await page.evaluate(() => document.getElementById('import-progress').value) === 1, 'the progress bar is full');
    await shot(page, 'import');
  }

  step('partners');
  await go(page, '#/partners');
  check((await page.textContent('main')).includes('cert-b'), 'the partners page');
  // The 1,200 indicators just imported went out to cert-b: what came in
  // is one click away.
  check((await page.textContent('#audit')).includes('sent'), 'the audit trail shows what went to cert-b');
  await page.click('#audit-received');
  await page.waitForURL(/direction=received/, {timeout: 20000 * slow});
  await ready(page);
  const directions = await page.$$eval('#audit tbody tr', (rows) => rows.map((r) => r.cells[2].textContent));
  check(directions.length > 0 && directions.every((d) => d === 'received'),
        'the audit trail shows what came from cert-b: ' + JSON.stringify(directions.slice(0, 5)));
  await shot(page, 'partners');

  step('matching');
  await go(page, '#/match');
  await page.fill('#observables', '203.0.113.21\n192.0.2.250');
  await page.click('main form button[type=submit]');
  await page.waitForSelector('#match-results table');
  check((await page.textContent('#match-results')).includes(config.green_name), 'a match is shown');
  await shot(page, 'match');

  step('telescope');
  await go(page, '#/telescope?since=24h');
  check(Number(await page.textContent('#tele-packets')) > 0, 'the telescope counts packets');
  const series = await page.evaluate(() => {
    const chart = Chart.getChart(document.getElementById('series-chart'));
    return chart ? chart.data.datasets.map((d) => d.data.filter((v) => v !== null).length) : null;
  });
  check(series && series[0] > 10 && series[1] > 10, 'the port series is drawn: ' + JSON.stringify(series));
  check(series[2] >= 1, 'the surge is marked on the chart');
  // One sensor of ours alone.
  await page.selectOption('#tele-sensor', 'home/tokyo-1');
  await page.click('main form.filters button[type=submit]');
  await page.waitForURL(/sensor=tokyo-1/, {timeout: 20000 * slow});
  await ready(page);
  check(Number(await page.textContent('#tele-packets')) > 0, 'one sensor\'s counts');
  await shot(page, 'telescope');

  step('a drill: started here, acknowledged on the partner');
  await go(page, '#/drills');
  await page.fill('#drill-to', 'cert-b');
  await page.fill('#drill-deadline', '60');
  await page.fill('#drill-message', 'console drill');
  await page.click('#drill-form button[type=submit]');
  await page.waitForURL(/#\/drills\/drill--/, {timeout: 20000 * slow});
  await ready(page);
  results.drill = decodeURIComponent(page.url().split('#/drills/')[1]);
  const partner = await browser.newContext({viewport: {width: 1280, height: 900}});
  const partnerPage = await partner.newPage();
  await signIn(partnerPage, config.partner_admin_key, config.partner_url);
  // The drill reaches the partner's node by federation: the page shows it live.
  await go(partnerPage, '#/drills', config.partner_url);
  await partnerPage.waitForSelector('#drills-received button.ack', {timeout: 30000 * slow});
  await shot(partnerPage, 'drill-received');
  await partnerPage.click('#drills-received button.ack');
  await partnerPage.waitForFunction(() => document.querySelector('.page[data-ready="true"] #drills-received') &&
                                          !document.querySelector('#drills-received button.ack'), null, {timeout: 20000 * slow});
  await partner.close();
  // Back on the origin, the acknowledgement arrives live and is charted.
  await page.waitForSelector('#drill-report >> text=on-time', {timeout: 30000 * slow});
  await ready(page);
  results.response_seconds = await page.evaluate(() =>
    Chart.getChart(document.getElementById('response-chart')).data.datasets[0].data[0]);
  check(typeof results.response_seconds === 'number', 'the response time is on the chart');
  await shot(page, 'drill-report');

  step('directory');
  await go(page, '#/directory');
  check((await page.textContent('main')).includes('Console Desk'), 'the directory shows our contact');
  await shot(page, 'directory');

  step('alerting');
  await go(page, '#/alerts');
  check((await page.textContent('#alert-recipients')).includes('isp-console'), 'the alerting page lists recipients');
  check((await page.textContent('#alert-reports')).includes('isp-console'), 'the report to isp-console');
  await shot(page, 'alerts');
  await page.click('#alert-reports a');
  await page.waitForSelector('#alert-preview', {timeout: 20000 * slow});
  check((await page.textContent('#alert-preview')).includes(config.infected_ip), 'the preview holds the infected host');
  await shot(page, 'alert-preview');

  step('emergencies');
  await go(page, '#/emergencies');
  await page.fill('#emergency-to', 'cert-b');
  await page.fill('#emergency-summary', 'console emergency');
  await page.click('#emergency-form button[type=submit]');
  await page.waitForSelector('#emergencies-raised >> text=console emergency', {timeout: 20000 * slow});
  check((await page.textContent('#emergencies-raised')).includes('cert-b'), 'the escalation per team');
  {
    // B's console acknowledges; A's page follows live.
    const other = await browser.newContext({viewport: {width: 1280, height: 900}});
    const otherPage = await other.newPage();
    await signIn(otherPage, config.partner_admin_key, config.partner_url);
    await go(otherPage, '#/emergencies', config.partner_url);
    await otherPage.waitForSelector('button.ack', {timeout: 30000 * slow});
    await otherPage.click('button.ack');
    await otherPage.waitForFunction(() => document.querySelector('.page[data-ready="true"]') &&
                                          !document.querySelector('button.ack'), null, {timeout: 20000 * slow});
    await other.close();
  }
  await page.waitForSelector('#emergencies-raised td >> text=/^acknowledged$/', {timeout: 30000 * slow});
  await shot(page, 'emergencies');

  step('incidents');
  await go(page, '#/incidents');
  await page.fill('#incident-title', 'console incident');
  await page.fill('#incident-participants-input', 'cert-b');
  await page.selectOption('#incident-severity', 'medium');
  await page.click('#incident-form button[type=submit]');
  await page.waitForURL(/#\/incidents\/incident--/, {timeout: 20000 * slow});
  await ready(page);
  check((await page.textContent('#incident-participants')).includes('cert-b'), 'the participants');
  await page.fill('#incident-note', 'first responders engaged');
  await page.click('#incident-note-form button[type=submit]');
  await page.waitForSelector('#incident-timeline >> text=first responders engaged', {timeout: 20000 * slow});
  await page.fill('#task-assignee', 'cert-b');
  await page.fill('#task-text', 'collect netflow for the C2 address');
  await page.click('#incident-task-form button[type=submit]');
  await page.waitForSelector('#incident-tasks >> text=collect netflow for the C2 address', {timeout: 20000 * slow});
  await shot(page, 'incident');

  // ---- a page of another origin (another port of the same host: the same
  // site, so SameSite alone would let the cookie go) tries a change.
  step('a change from another origin');
  const evil = createServer((request, response) => {
    response.setHeader('Content-Type', 'text/html');
    const envelope = JSON.stringify({objects: [{type: 'indicator', spec_version: '2.1', id: config.evil_id,
      created: '2026-11-23T00:00:00.000Z', modified: '2026-11-23T00:00:00.000Z', pattern_type: 'stix',
      pattern: "[ipv4-addr:value = '192.0.2.66']", valid_from: '2026-11-23T00:00:00Z'}]});
    response.end(`<!doctype html><form id="f" method="POST" enctype="text/plain"
      action="${config.node_url}/taxii2/root/collections/default/objects/">
      <input type="hidden" name='${envelope.slice(0, -1)}, "x": "' value='"}'></form>
      <script>
        fetch(${JSON.stringify(config.node_url + '/taxii2/root/collections/default/objects/')},
              {method: 'POST', mode: 'no-cors', credentials: 'include', body: ${JSON.stringify(envelope)},
               headers: {'Content-Type': 'text/plain'}}).finally(() => document.getElementById('f').submit());
      </script>`);
  });
  await new Promise((resolve) => evil.listen(0, '127.0.0.1', resolve));
  const evilUrl = `http://127.0.0.1:${evil.address().port}/`;
  const answer = page.waitForResponse((r) => r.url().includes('/collections/default/objects/') &&
                                             r.request().method() === 'POST' &&
                                             r.request().resourceType() === 'document');
  await page.goto(evilUrl);
  results.csrf_status = (await answer).status();
  check(results.csrf_status === 403, 'the cross-origin form post is refused: ' + results.csrf_status);
  // The form's navigation ends on the node's answer before the next goto.
  await page.waitForURL(/\/collections\/default\/objects\/$/);
  await page.waitForLoadState('load');
  evil.close();

  step('sign-out');
  // ---- sign-out
  await page.goto(config.node_url + '/');
  await ready(page);
  await page.click('#signout');
  await page.waitForSelector('#api-key');
  check(!(await home.cookies()).some((c) => c.name === 'kizuna_session' && c.value), 'sign-out removes the cookie');
  await page.reload();
  await page.waitForSelector('#api-key');
  await home.close();

  // ---- an outside organization's user: nothing AMBER, anywhere.
  step('the outsider');
  const outside = await browser.newContext({viewport: {width: 390, height: 844}});  // a phone
  const other = await outside.newPage();
  await signIn(other, config.outsider_key);
  const hidden = [config.amber_name, config.amber_id, 'amber while the outsider watches'];
  await assertNothingOf(other, 'dashboard', hidden);
  {
    // While its dashboard is live, the home team stores an AMBER indicator
    // and then a GREEN one: the GREEN one appears, the AMBER one never does.
    await other.waitForSelector('#live:not([hidden])', {timeout: 20000 * slow});
    for (const [n, name, marking] of [
        ['b1', 'amber while the outsider watches', 'marking-definition--f88d31f6-486f-44da-b317-01333bde0b82'],
        ['b2', 'green while the outsider watches', 'marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da']]) {
      const now = new Date().toISOString();
      const response = await fetch(config.node_url + '/taxii2/root/collections/default/objects/', {
        method: 'POST',
        headers: {'Authorization': 'Bearer ' + config.admin_key, 'Accept': 'application/taxii+json;version=2.1',
                  'Content-Type': 'application/taxii+json;version=2.1'},
        body: JSON.stringify({objects: [{type: 'indicator', spec_version: '2.1',
          id: 'indicator--00000000-0000-4000-8000-0000000000' + n, created: now, modified: now, name,
          pattern: `[domain-name:value = '${n}.example']`, pattern_type: 'stix', valid_from: now,
          object_marking_refs: [marking]}]})});
      check(response.status === 202, 'stored while the outsider watches: ' + response.status);
    }
    await other.waitForSelector('#newest tr.fresh >> text=green while the outsider watches', {timeout: 20000 * slow});
    await assertNothingOf(other, 'the live dashboard', hidden);
  }
  await shot(other, 'outsider-dashboard');
  for (const hash of ['#/objects', '#/objects?tlp=amber', '#/objects?q=' + encodeURIComponent(config.amber_name),
                      '#/objects?type=relationship', '#/object/' + config.green_id]) {
    await go(other, hash);
    await assertNothingOf(other, hash, hidden);
  }
  await go(other, '#/objects?q=' + encodeURIComponent(config.green_name));
  check((await other.textContent('#results')).includes(config.green_name), 'the outsider sees GREEN');
  await shot(other, 'outsider-objects');
  await go(other, '#/object/' + config.amber_id);
  check((await other.textContent('main')).includes('Not found'), 'the AMBER object page is not found');
  await assertNothingOf(other, 'the AMBER object page', [config.amber_name]);
  await shot(other, 'outsider-amber');
  await outside.close();

  check(consoleErrors.filter((e) => !e.includes('status of 40')).length === 0,
        'no script errors: ' + consoleErrors.join(' | '));
} catch (error) {
  failed = error;
} finally {
  await browser.close();
}
if (failed) {
  console.log(JSON.stringify(results));
  console.error(failed.stack || String(failed));
  process.exit(1);
}
console.log(JSON.stringify(results));
