// Creates an uplink route in the web console's route editor, in headless Chromium, and watches it carry messages; a
// downlink route too (dry run, save, delete).
// Usage: node console-route-editor.mjs <console url> <screenshot.png> <route name> <kafka topic> <device id>
//        <downlink kafka topic>
// Prints ROUTE-READY once the routes are saved (the caller then has the device publish to editor/<device id>/data),
// then OK once the messages-in chart has moved, the screenshot is saved and the routes deleted again.
// On a failure, saves <screenshot>-failed.png of the page as it was.
import { chromium } from 'playwright-core';

const [url, screenshot, routeName, kafkaTopic, deviceId, commandsTopic] = process.argv.slice(2);
const form = '#uplink-form';
const field = (name) => `${form} [name="${name}"]`;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
page.on('pageerror', (e) => console.log('PAGE-ERROR ' + e.message));
page.on('dialog', (dialog) => dialog.accept()); // the editor asks before it deletes
const resultOf = (of = form) => page.textContent(`${of} .result`);
async function waitForResult(className, of = form) {
  await page.waitForFunction(([f, c]) => document.querySelector(`${f} .result`).classList.contains(c), [of, className],
    { timeout: 10000 });
  return resultOf(of);
}
try {
  await page.goto(url);
  await page.waitForSelector('#routes tr[data-route="telemetry"]', { timeout: 30000 });
  await page.waitForFunction(() => window.bridgeCharts && window.bridgeCharts.messages, null, { timeout: 30000 });

  // an invalid filter: the API's problem shows next to the form, naming the key, and that field is marked
  await page.fill(field('name'), routeName);
  await page.fill(field('mqtt-filter'), 'editor/#/data');
  await page.fill(field('kafka-topic'), kafkaTopic);
  await page.fill(field('key'), 'topic-level:1');
  await page.fill(field('timestamp'), 'broker');
  await page.click(field('save'));
  const problem = await waitForResult('error');
  if (!problem.includes('mqtt-filter') || !problem.includes('editor/#/data')) {
    throw new Error(`the problem "${problem}" does not name the key and its value`);
  }
  if (!(await page.$eval(field('mqtt-filter'), (input) => input.classList.contains('invalid')))) {
    throw new Error('the mqtt-filter field is not marked invalid');
  }
  if (await page.$eval(field('kafka-topic'), (input) => input.classList.contains('invalid'))) {
    throw new Error('the kafka-topic field is marked invalid; the problem was the filter');
  }

  // a dry run of the unsaved route: the record it would make
  await page.fill(field('mqtt-filter'), 'editor/+/data');
  await page.fill(field('dry-topic'), `editor/${deviceId}/data`);
  await page.click(field('dry-run'));
  const dryRun = await waitForResult('ok');
  if (!dryRun.includes(`→ Kafka ${kafkaTopic}, key ${deviceId}`)) throw new Error(`dry run of the unsaved route: "${dryRun}"`);
  if (await page.$(`#routes tr[data-route="${routeName}"]`)) throw new Error('the dry run saved the route');

  // save: created, listed as a runtime route with its filter and topic
  await page.click(field('save'));
  await page.waitForFunction(() => document.querySelector('#uplink-form .result').textContent.startsWith('created'),
    null, { timeout: 10000 }).catch(async () => { throw new Error(`save: "${await resultOf()}"`); });
  await page.waitForSelector(`#routes tr[data-route="${routeName}"]`, { timeout: 10000 });
  const row = await page.$eval(`#routes tr[data-route="${routeName}"]`, (tr) => [...tr.cells].map((td) => td.textContent));
  if (row[2] !== 'MQTT editor/+/data' || !row[3].startsWith(`Kafka ${kafkaTopic} (key topic-level:1`) || row[9] !== 'runtime') {
    throw new Error('route row ' + JSON.stringify(row));
  }

  // a downlink route: dry run of the unsaved route, then save
  const down = '#downlink-form';
  const downField = (name) => `${down} [name="${name}"]`;
  const downlinkName = routeName + '-commands';
  await page.fill(downField('name'), downlinkName);
  await page.fill(downField('kafka-topic'), commandsTopic);
  await page.fill(downField('mqtt-topic'), 'editor/{key}/commands');
  await page.selectOption(downField('qos'), '1');
  await page.fill(downField('dry-key'), deviceId);
  await page.click(downField('dry-run'));
  const downDryRun = await waitForResult('ok', down);
  if (downDryRun !== `→ MQTT editor/${deviceId}/commands (QoS 1)`) throw new Error(`downlink dry run: "${downDryRun}"`);
  await page.click(downField('save'));
  await page.waitForFunction(() => document.querySelector('#downlink-form .result').textContent.startsWith('created'),
    null, { timeout: 10000 }).catch(async () => { throw new Error(`downlink save: "${await resultOf(down)}"`); });
  await page.waitForSelector(`#routes tr[data-route="${downlinkName}"] .badge.runtime`, { timeout: 10000 });

  const since = await page.evaluate(() => Date.now() / 1000);
  console.log('ROUTE-READY');

  // the device's publishes: the route's Sent column counts them, the messages-in chart draws them
  await page.waitForFunction((name) => {
    const tr = document.querySelector(`#routes tr[data-route="${name}"]`);
    return tr && Number(tr.cells[5].textContent) >= 20;
  }, routeName, { timeout: 30000 });
  await page.waitForFunction((t0) => {
    const [t, messagesIn, messagesToKafka] = window.bridgeCharts.messages.data;
    return t.some((time, i) => time > t0 && messagesIn[i] > 0) && t.some((time, i) => time > t0 && messagesToKafka[i] > 0);
  }, since, { timeout: 20000 });
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: screenshot, fullPage: true });

  // delete: the downlink route from its row, the uplink route from the editor; gone from the table
  await page.click(`#routes tr[data-route="${downlinkName}"] button:has-text("Delete")`);
  await page.waitForSelector(`#routes tr[data-route="${downlinkName}"]`, { state: 'detached', timeout: 10000 });
  await page.click(`#routes tr[data-route="${routeName}"] button:has-text("Edit")`);
  await page.waitForFunction((name) => document.querySelector('#uplink-form [name="name"]').value === name, routeName,
    { timeout: 10000 });
  await page.click(field('delete'));
  await page.waitForSelector(`#routes tr[data-route="${routeName}"]`, { state: 'detached', timeout: 10000 });
  const deleted = await resultOf();
  if (!deleted.startsWith('deleted')) throw new Error(`delete: "${deleted}"`);
  console.log('OK');
} catch (e) {
  await page.screenshot({ path: screenshot.replace(/\.png$/, '-failed.png'), fullPage: true }).catch(() => {});
  throw e;
} finally {
  await browser.close();
}
