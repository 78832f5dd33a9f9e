// Loads the bridge's web console in headless Chromium and checks what a person would look at.
// Usage: node console-check.mjs <console url> <screenshot.png> <client id to see> <device message to see>
// Prints TAIL-READY once the live tail is subscribed (the caller then has the device publish), OK at the end.
import { chromium } from 'playwright-core';

const [url, screenshot, clientId, deviceMessage] = process.argv.slice(2);
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
  // the routes table shows the configured routes with counters
  await page.waitForSelector('#routes tr[data-route="telemetry"]', { timeout: 30000 });

  await page.fill('#tail-filter', '#');
  await page.click('#tail-button');
  await page.waitForFunction(() => document.getElementById('tail-status').textContent.startsWith('subscribed'),
    null, { timeout: 30000 });
  console.log('TAIL-READY');

  // a message a device published appears in the live tail
  await page.waitForSelector(`#tail li:has-text("${deviceMessage}")`, { timeout: 30000 });

  // the publish form publishes into the broker, and the tail sees that too
  const formMessage = 'from-the-console-' + Date.now();
  await page.fill('#pub-topic', 'console/test');
  await page.fill('#pub-payload', formMessage);
  await page.click('#publish-form button[type=submit]');
  await page.waitForFunction(() => document.getElementById('pub-status').textContent.startsWith('published'),
    null, { timeout: 10000 });
  await page.waitForSelector(`#tail li:has-text("${formMessage}")`, { timeout: 30000 });

  await page.screenshot({ path: screenshot, fullPage: true });
  console.log('OK');
} finally {
  await browser.close();
}
