// The Eclipse Paho JavaScript client (npm paho-mqtt) in headless Chromium against the bridge's broker: for each
// WebSocket URL given, it connects, subscribes, publishes and must receive its own message back.
// Usage: node paho-check.mjs <page url> <user> <password> <ws or wss url>...
// The page (the bridge's own web console) gives the script a loopback origin: Chromium blocks WebSockets from
// other origins to 127.0.0.1 (local network access checks), and Paho needs an origin with localStorage.
// Prints "OK <url> <payload>" per URL; exits non-zero on the first failure. The test CA of wss:// URLs is not in
// Chromium's trust store, hence --ignore-certificate-errors (the certificate itself is checked by the Java tests).
import { chromium } from 'playwright-core';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const [pageUrl, user, password, ...urls] = process.argv.slice(2);
const paho = path.join(path.dirname(fileURLToPath(import.meta.url)), 'node_modules', 'paho-mqtt', 'paho-mqtt.js');
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync', '--ignore-certificate-errors'],
});
let failed = false;
try {
  for (const url of urls) {
    // a client certificate for wss:// when CLIENT_CERT/CLIENT_KEY name one (a TLS listener that asks for client
    // certificates otherwise sees headless Chromium cancel the handshake)
    const clientCertificates = url.startsWith('wss:') && process.env.CLIENT_CERT
      ? [{ origin: 'https://' + new URL(url).host, certPath: process.env.CLIENT_CERT, keyPath: process.env.CLIENT_KEY }] : [];
    const context = await browser.newContext({ ignoreHTTPSErrors: true, clientCertificates });
    const page = await context.newPage();
    page.on('pageerror', (e) => console.log('PAGE-ERROR ' + e.message));
    page.on('console', (m) => console.log('CONSOLE ' + m.text()));
    page.on('websocket', (ws) => ws.on('socketerror', (e) => console.log('WEBSOCKET-ERROR ' + ws.url() + ' ' + e)));
    await page.goto(pageUrl);
    await page.addScriptTag({ path: paho });
    const result = await page.evaluate(({ url, user, password }) => new Promise((resolve) => {
      const clientId = 'paho-js-' + Math.random().toString(16).slice(2, 10);
      const topic = 'browser/' + clientId;
      const payload = 'hello from Paho JS over ' + url.split(':')[0] + ' ' + Date.now();
      const client = new Paho.Client(url, clientId);
      const timer = setTimeout(() => resolve('FAIL timeout'), 20000);
      client.onConnectionLost = (r) => { if (r.errorCode !== 0) resolve('FAIL connection lost: ' + r.errorMessage); };
      client.onMessageArrived = (m) => {
        clearTimeout(timer);
        resolve(m.destinationName === topic && m.payloadString === payload ? 'OK ' + url + ' ' + payload
          : 'FAIL got ' + m.destinationName + ' ' + m.payloadString);
        client.disconnect();
      };
      client.connect({
        userName: user, password: password, mqttVersion: 4, timeout: 10,
        useSSL: url.startsWith('wss:'),
        onFailure: (e) => resolve('FAIL connect: ' + e.errorMessage),
        onSuccess: () => client.subscribe(topic, {
          qos: 1,
          onFailure: (e) => resolve('FAIL subscribe: ' + JSON.stringify(e)),
          onSuccess: () => {
            const message = new Paho.Message(payload);
            message.destinationName = topic;
            message.qos = 1;
            client.send(message);
          },
        }),
      });
    }), { url, user, password });
    console.log(result);
    if (!result.startsWith('OK')) {
      failed = true;
      break;
    }
    await context.close();
  }
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
