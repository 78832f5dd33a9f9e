// Loads the bridge's web console in headless Chromium and checks what a person would look at.
// Usage: node console-check.mjs <console url> <screenshot.png> <client id to see> <device message to see> <node id>
// Prints TAIL-READY once the live tail is subscribed (the caller then has the device publish), OK at the end.
import { chromium } from 'playwright-core';

const [url, screenshot, clientId, deviceMessage, nodeId] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('pageerror', (e) => console.log('PAGE-ERROR ' + e.message));
  await page.goto(url);

  // the device the test connected shows up in the clients table
  await page.waitForSelector(`#clients tr[data-client="${clientId}"]`, { timeout: 30000 });
  // ... in the Node column, with the replica it is connected to
  const nodeColumn = await page.evaluate(() => [...document.querySelectorAll('#clients thead th')]
    .findIndex((th) => th.textContent === 'Node'));
  if (nodeColumn < 0) throw new Error('the clients table has no Node column');
  const clientNode = await page.evaluate(([id, column]) =>
    document.querySelector(`#clients tr[data-client="${id}"]`).cells[column].textContent, [clientId, nodeColumn]);
  if (clientNode !== nodeId) throw new Error(`client ${clientId} shows node "${clientNode}", expected "${nodeId}"`);
  // the cluster is off in the tests: the Cluster section says so and shows no member table
  await page.waitForFunction(() => document.getElementById('cluster-summary').textContent.startsWith('cluster off'),
    null, { timeout: 30000 });
  const summary = await page.textContent('#cluster-summary');
  if (!summary.includes(nodeId)) throw new Error(`the cluster summary "${summary}" does not name node ${nodeId}`);
  if (!(await page.isHidden('#cluster'))) throw new Error('the cluster member table is shown while the cluster is off');
  // the routes table shows the configured routes with counters
  await page.waitForSelector('#routes tr[data-route="telemetry"]', { timeout: 30000 });

  // configured routes are static: a badge says so, and the editor shows them read-only
  const origin = await page.textContent('#routes tr[data-route="telemetry"] .badge');
  if (origin !== 'static') throw new Error(`the configured route telemetry shows origin "${origin}"`);
  await page.click('#routes tr[data-route="telemetry"] button:has-text("View")');
  await page.waitForFunction(() => document.querySelector('#uplink-form [name="mqtt-filter"]').value === 'devices/+/telemetry',
    null, { timeout: 10000 });
  if (!(await page.isDisabled('#uplink-form [name="save"]')) || !(await page.isDisabled('#uplink-form [name="mqtt-filter"]'))
    || await page.isHidden('#uplink-form .badge.static')) throw new Error('the static route telemetry is editable in the editor');

  // the charts: uPlot, served from its webjar in the bridge's jar, draws GET api/v1/metrics/history
  if (!(await page.evaluate(() => typeof window.uPlot === 'function'))) throw new Error('uPlot did not load from webjars/uplot');
  await page.waitForFunction(() => ['messages', 'latency', 'backlog', 'lag'].every((c) => window.bridgeCharts[c]
    && document.querySelector('#chart-' + c + ' canvas')), null, { timeout: 30000 });
  const since = await page.evaluate(() => Date.now() / 1000);

  await page.fill('#tail-filter', '#');
  await page.click('#tail-button');
  await page.waitForFunction(() => document.getElementById('tail-status').textContent.startsWith('subscribed'),
    null, { timeout: 30000 });
  console.log('TAIL-READY');

  // a message a device published appears in the live tail
  await page.waitForSelector(`#tail li:has-text("${deviceMessage}")`, { timeout: 30000 });
  // ... and in the messages-in series the chart draws (its uPlot instance's data), in a point after it was published
  await page.waitForFunction((t0) => {
    const [t, messagesIn] = window.bridgeCharts.messages.data;
    return t.some((time, i) => time > t0 && messagesIn[i] > 0);
  }, since, { timeout: 20000 });
  const latest = await page.textContent('#latest-messages');
  if (!/^in \(MQTT\) [\d.]+\/s · to Kafka [\d.]+\/s · to MQTT [\d.]+\/s$/.test(latest)) {
    throw new Error(`the messages chart's latest values read "${latest}"`);
  }

  // the publish form publishes into the broker, and the tail sees that too
  const formMessage = 'from-the-console-' + Date.now();
  await page.fill('#pub-topic', 'console/test');
  await page.fill('#pub-payload', formMessage);
  await page.click('#publish-form button[type=submit]');
  await page.waitForFunction(() => document.getElementById('pub-status').textContent.startsWith('published'),
    null, { timeout: 10000 });
  await page.waitForSelector(`#tail li:has-text("${formMessage}")`, { timeout: 30000 });

  await page.screenshot({ path: screenshot, fullPage: true });

  // a cluster's members (the answer of GET api/v1/cluster with the cluster on, served by the page's own route):
  // one row each, this replica marked, live/down, the figures
  const member = (node, self, live, clients, forwardedPerSecond, lag) => ({ node, self, live, state: live ? 'up' : 'stopped',
    instance: node + '-instance', startedAt: '2025-01-01T00:00:00Z', lastHeartbeat: '2025-01-01T00:01:00Z', clients,
    subscriptions: 2 * clients, forwarded: 100, received: 50, forwardedPerSecond, receivedPerSecond: 0.5, lag, mqttPort: 1883 });
  await page.route('**/api/v1/cluster', (route) => route.fulfill({ contentType: 'application/json', body: JSON.stringify({
    enabled: true, name: 'mqtt-kafka-bridge', self: 'bridge-0', liveNodes: 2,
    members: [member('bridge-0', true, true, 3, 12.5, 0), member('bridge-1', false, true, 4, 1.5, 7), member('bridge-2', false, false, 0, 0, 0)] }) }));
  await page.waitForSelector('#cluster tr[data-node="bridge-2"]', { timeout: 10000 });
  const members = await page.evaluate(() => [...document.querySelectorAll('#cluster tbody tr')]
    .map((row) => [row.className, ...[...row.cells].map((td) => td.textContent)].join('|')));
  const expected = ['self|bridge-0 (this replica)|live|3|6|12.5|0.5|0', '|bridge-1|live|4|8|1.5|0.5|7', '|bridge-2|down (stopped)|0|0|0|0.5|0'];
  if (JSON.stringify(members) !== JSON.stringify(expected)) throw new Error('cluster rows ' + JSON.stringify(members));
  if (await page.isHidden('#cluster')) throw new Error('the cluster member table is hidden while the cluster is on');
  const liveSummary = await page.textContent('#cluster-summary');
  if (liveSummary !== 'mqtt-kafka-bridge · 2 of 3 live') throw new Error(`cluster summary "${liveSummary}"`);
  console.log('OK');
} finally {
  await browser.close();
}
