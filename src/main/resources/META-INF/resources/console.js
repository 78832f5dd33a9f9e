// The bridge's web console: clients, cluster members, routes and counters from the REST API; a live tail over the broker's
// WebSocket listener with the Eclipse Paho JavaScript client; a publish form. No framework, no build step.
(function () {
  'use strict';
  const $ = (id) => document.getElementById(id);
  const tokenInput = $('token');
  tokenInput.value = localStorage.getItem('bridge.api.token') || '';
  tokenInput.addEventListener('change', () => localStorage.setItem('bridge.api.token', tokenInput.value));

  async function api(path, options) {
    const headers = Object.assign({ 'Content-Type': 'application/json' }, (options && options.headers) || {});
    if (tokenInput.value) headers.Authorization = 'Bearer ' + tokenInput.value;
    const response = await fetch('api/v1/' + path, Object.assign({}, options, { headers }));
    const body = response.status === 204 ? null : await response.json();
    if (!response.ok) throw new Error((body && (body.detail || body.title)) || response.statusText);
    return body;
  }

  function cell(row, text, className) {
    const td = row.insertCell();
    td.textContent = text === null || text === undefined ? '' : String(text);
    if (className) td.className = className;
    return td;
  }

  async function refreshClients() {
    const clients = await api('clients');
    const body = $('clients').tBodies[0];
    body.replaceChildren();
    for (const c of clients) {
      const row = body.insertRow();
      row.dataset.client = c.id;
      cell(row, c.id); cell(row, c.node); cell(row, c.address); cell(row, c.username);
      cell(row, c.connectedSince ? new Date(c.connectedSince).toLocaleTimeString() : '');
      cell(row, (c.subscriptions || []).join(', '));
      const button = document.createElement('button');
      button.textContent = 'Disconnect';
      button.onclick = () => api('clients/' + encodeURIComponent(c.id), { method: 'DELETE' }).then(refreshClients, alert);
      row.insertCell().appendChild(button);
    }
    $('client-count').textContent = clients.length + ' connected';
  }

  async function refreshCluster() {
    const cluster = await api('cluster');
    const table = $('cluster');
    const body = table.tBodies[0];
    body.replaceChildren();
    table.hidden = !cluster.enabled;
    if (!cluster.enabled) {
      $('cluster-summary').textContent = 'cluster off: this replica (' + cluster.self + ') is a broker of its own';
      return;
    }
    for (const m of cluster.members) {
      const row = body.insertRow();
      row.dataset.node = m.node;
      if (m.self) row.className = 'self';
      cell(row, m.self ? m.node + ' (this replica)' : m.node);
      cell(row, (m.live ? 'live' : 'down') + (m.state && m.state !== 'up' ? ' (' + m.state + ')' : ''), m.live ? 'up' : 'error');
      cell(row, m.clients, 'num'); cell(row, m.subscriptions, 'num');
      cell(row, m.forwardedPerSecond, 'num'); cell(row, m.receivedPerSecond, 'num'); cell(row, m.lag, 'num');
    }
    $('cluster-summary').textContent = cluster.name + ' · ' + cluster.liveNodes + ' of ' + cluster.members.length + ' live';
  }

  async function refreshRoutes() {
    const routes = await api('routes');
    const body = $('routes').tBodies[0];
    body.replaceChildren();
    for (const r of [].concat(routes.uplink, routes.downlink)) {
      const row = body.insertRow();
      row.dataset.route = r.name;
      cell(row, r.name); cell(row, r.direction);
      cell(row, r.direction === 'uplink' ? 'MQTT ' + r.mqttFilter : 'Kafka ' + r.kafkaTopic);
      cell(row, r.direction === 'uplink' ? 'Kafka ' + r.kafkaTopic + ' (key ' + r.key + ')' : 'MQTT ' + r.mqttTopic + ' (QoS ' + r.qos + ')');
      cell(row, r.matched, 'num'); cell(row, r.sent, 'num'); cell(row, r.failed, 'num'); cell(row, r.dropped, 'num');
      cell(row, r.lastError ? r.lastError + ' (' + new Date(r.lastErrorAt).toLocaleTimeString() + ')' : '', 'error');
    }
  }

  async function refreshHealth() {
    const badge = $('health');
    try {
      const response = await fetch('q/health');
      const health = await response.json();
      badge.textContent = health.status === 'UP' ? 'ready' : 'not ready: ' + health.checks
        .filter((c) => c.status !== 'UP').map((c) => c.name + ' (' + (c.data && c.data.reason) + ')').join(', ');
      badge.className = 'badge ' + (health.status === 'UP' ? 'up' : 'down');
    } catch (e) {
      badge.textContent = 'unreachable';
      badge.className = 'badge down';
    }
  }

  async function refresh() {
    try {
      await Promise.all([refreshClients(), refreshCluster(), refreshRoutes(), refreshHealth()]);
    } catch (e) {
      $('client-count').textContent = e.message;
    }
  }

  // Live tail: the broker's own WebSocket listener, as any browser client would use it.
  let tail = null;
  let tailFilter = null;
  async function startTail(filter) {
    const broker = await api('broker');
    $('broker').textContent = 'MQTT :' + broker.mqttPort + (broker.websocketPort > 0 ? ' · WebSocket :' + broker.websocketPort + broker.websocketPath : '');
    if (broker.websocketPort <= 0) {
      $('tail-status').textContent = 'the WebSocket listener is off (bridge.broker.websocket-port)';
      return;
    }
    if (tail && tail.isConnected()) {
      if (tailFilter) tail.unsubscribe(tailFilter);
      subscribe(filter);
      return;
    }
    tail = new Paho.Client(location.hostname, broker.websocketPort, broker.websocketPath,
      'console-' + Math.random().toString(16).slice(2, 10));
    tail.onMessageArrived = (message) => {
      const item = document.createElement('li');
      item.textContent = new Date().toLocaleTimeString() + '  ' + message.destinationName + '  ' + message.payloadString;
      const list = $('tail');
      list.insertBefore(item, list.firstChild);
      while (list.children.length > 200) list.removeChild(list.lastChild);
    };
    tail.onConnectionLost = () => { $('tail-status').textContent = 'connection lost, reconnecting…'; };
    // reconnect: true also covers Moquette 0.17 dropping a connection that subscribes right after its CONNACK
    tail.onConnected = () => subscribe(tailFilter || filter);
    tail.connect({ reconnect: true, cleanSession: true, timeout: 10,
      onFailure: (e) => { $('tail-status').textContent = 'cannot connect: ' + e.errorMessage; } });
  }

  function subscribe(filter) {
    tailFilter = filter;
    tail.subscribe(filter, { qos: 0,
      onSuccess: () => { $('tail-status').textContent = 'subscribed to ' + filter; },
      onFailure: (e) => { $('tail-status').textContent = 'subscribe failed: ' + (e.errorMessage || e.errorCode); } });
  }

  $('tail-form').addEventListener('submit', (event) => {
    event.preventDefault();
    startTail($('tail-filter').value).catch((e) => { $('tail-status').textContent = e.message; });
  });

  $('publish-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const request = { topic: $('pub-topic').value, payload: $('pub-payload').value,
      qos: Number($('pub-qos').value), retain: $('pub-retain').checked };
    api('publish', { method: 'POST', body: JSON.stringify(request) })
      .then((r) => { $('pub-status').textContent = 'published ' + r.bytes + ' bytes to ' + r.topic; $('pub-status').className = 'muted'; })
      .catch((e) => { $('pub-status').textContent = e.message; $('pub-status').className = 'error'; });
  });

  refresh();
  setInterval(refresh, 2000);
})();
