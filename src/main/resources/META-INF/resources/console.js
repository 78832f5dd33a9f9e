// The bridge's web console: charts of the last 15 minutes (uPlot, from its webjar), clients, cluster members, routes and
// counters from the REST API, a route editor; a live tail over the broker's WebSocket listener with the Eclipse Paho
// JavaScript client; a publish form. No framework, no build step.
(function () {
  'use strict';
  const $ = (id) => document.getElementById(id);
  // Sign-in: a user of the password file and its password (HTTP basic), or, without a user, the API token (Bearer).
  // The user is remembered; the secret only for this tab's session.
  const userInput = $('api-user');
  const tokenInput = $('token');
  userInput.value = localStorage.getItem('bridge.api.user') || '';
  tokenInput.value = sessionStorage.getItem('bridge.api.secret') || '';
  userInput.addEventListener('change', () => localStorage.setItem('bridge.api.user', userInput.value));
  tokenInput.addEventListener('change', () => sessionStorage.setItem('bridge.api.secret', tokenInput.value));
  function authorization() {
    if (!tokenInput.value) return null;
    if (!userInput.value) return 'Bearer ' + tokenInput.value;
    const bytes = new TextEncoder().encode(userInput.value + ':' + tokenInput.value);
    return 'Basic ' + btoa(String.fromCharCode(...bytes));
  }

  // The status and the JSON body of an API call; an error's message is the problem's detail, error.status its status.
  async function apiResponse(path, options) {
    const headers = Object.assign({ 'Content-Type': 'application/json' }, (options && options.headers) || {});
    const auth = authorization();
    if (auth) headers.Authorization = auth;
    const response = await fetch('api/v1/' + path, Object.assign({}, options, { headers }));
    const text = response.status === 204 ? '' : await response.text();
    let body = null;
    try { body = text ? JSON.parse(text) : null; } catch (e) { body = null; }
    if (!response.ok) {
      const error = new Error((body && (body.detail || body.title)) || response.status + ' ' + response.statusText);
      error.status = response.status;
      throw error;
    }
    return { status: response.status, body };
  }

  async function api(path, options) {
    return (await apiResponse(path, options)).body;
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

  // A route without origin comes from an API that has no runtime routes: it is the configuration's.
  const originOf = (r) => r.origin || 'static';
  let routeList = { uplink: [], downlink: [] };

  function button(text, onclick) {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = text;
    b.onclick = onclick;
    return b;
  }

  async function refreshRoutes() {
    const routes = await api('routes');
    routeList = routes;
    const body = $('routes').tBodies[0];
    body.replaceChildren();
    for (const r of [].concat(routes.uplink, routes.downlink)) {
      const row = body.insertRow();
      row.dataset.route = r.name;
      row.dataset.direction = r.direction;
      cell(row, r.name); cell(row, r.direction);
      cell(row, r.direction === 'uplink' ? 'MQTT ' + r.mqttFilter : 'Kafka ' + r.kafkaTopic);
      cell(row, r.direction === 'uplink' ? 'Kafka ' + r.kafkaTopic + ' (key ' + r.key + (r.timestamp ? ', time ' + r.timestamp : '') + ')'
        : 'MQTT ' + r.mqttTopic + ' (QoS ' + r.qos + (r.retain ? ', retained' : '') + ')');
      cell(row, r.matched, 'num'); cell(row, r.sent, 'num'); cell(row, r.failed, 'num'); cell(row, r.dropped, 'num');
      cell(row, r.lastError ? r.lastError + ' (' + new Date(r.lastErrorAt).toLocaleTimeString() + ')' : '', 'error');
      const badge = document.createElement('span');
      badge.className = 'badge ' + originOf(r);
      badge.textContent = originOf(r);
      row.insertCell().appendChild(badge);
      const actions = row.insertCell();
      actions.appendChild(button(originOf(r) === 'static' ? 'View' : 'Edit', () => loadRoute(r)));
      if (originOf(r) !== 'static') actions.appendChild(button('Delete', () => deleteRoute(forms[r.direction], r.name)));
    }
    Object.values(forms).forEach(markStatic);
  }

  // Route editor: one form per direction, with the configuration's keys; PUT saves, DELETE removes, dry-run tries the
  // form's route (saved or not) on a sample message. A problem's detail shows next to the form, its key highlighted.
  const forms = { uplink: $('uplink-form'), downlink: $('downlink-form') };
  const routeKeys = { uplink: ['mqtt-filter', 'kafka-topic', 'key', 'timestamp'], downlink: ['kafka-topic', 'mqtt-topic', 'qos', 'retain'] };
  const viewProperty = { 'mqtt-filter': 'mqttFilter', 'kafka-topic': 'kafkaTopic', key: 'key', timestamp: 'timestamp',
    'mqtt-topic': 'mqttTopic', qos: 'qos', retain: 'retain' };

  function routeBody(form) {
    const body = {};
    for (const key of routeKeys[form.dataset.direction]) {
      const input = form.elements[key];
      if (input.type === 'checkbox') body[key] = input.checked;
      else if (key === 'qos') body[key] = Number(input.value);
      else if (input.value.trim() !== '') body[key] = input.value.trim();
    }
    return body;
  }

  function loadRoute(r) {
    const form = forms[r.direction];
    form.elements.name.value = r.name;
    for (const key of routeKeys[r.direction]) {
      const value = r[viewProperty[key]];
      const input = form.elements[key];
      if (input.type === 'checkbox') input.checked = !!value;
      else input.value = value === null || value === undefined ? '' : String(value);
    }
    markStatic(form);
    show(form, '');
  }

  // A static route (from the configuration) is read-only here: change it where it is configured.
  function markStatic(form) {
    const direction = form.dataset.direction;
    const name = form.elements.name.value.trim();
    const locked = (routeList[direction] || []).some((r) => r.name === name && originOf(r) === 'static');
    form.querySelector('.badge.static').hidden = !locked;
    routeKeys[direction].forEach((key) => { form.elements[key].disabled = locked; });
    form.elements.save.disabled = locked;
    form.elements.delete.disabled = locked;
  }

  // Does a problem's detail name this key (bridge.uplink.routes.x.mqtt-filter='a/#/b' ...)?
  function names(detail, key) {
    return new RegExp('(^|[\\s.\'"])' + key.replace(/[-.]/g, '\\$&') + '($|[\\s=\'":,])').test(detail);
  }

  function show(form, text, className, problem) {
    const result = form.querySelector('.result');
    result.textContent = text;
    result.className = 'result ' + (className || '');
    for (const input of form.querySelectorAll('[data-key]')) {
      const invalid = !!problem && names(problem, input.dataset.key);
      input.classList.toggle('invalid', invalid);
      input.setAttribute('aria-invalid', String(invalid));
    }
  }

  function routePath(form) {
    return 'routes/' + form.dataset.direction + '/' + encodeURIComponent(form.elements.name.value.trim());
  }

  async function saveRoute(form) {
    try {
      const { status, body } = await apiResponse(routePath(form), { method: 'PUT', body: JSON.stringify(routeBody(form)) });
      show(form, (status === 201 ? 'created ' : 'saved ') + form.dataset.direction + ' route ' + body.name, 'ok');
      await refreshRoutes();
    } catch (e) {
      show(form, e.message, 'error', e.message);
    }
  }

  async function deleteRoute(form, name) {
    form.elements.name.value = name;
    if (!confirm('Delete the ' + form.dataset.direction + ' route ' + name + '?')) return;
    try {
      await api(routePath(form), { method: 'DELETE' });
      form.reset();
      show(form, 'deleted ' + form.dataset.direction + ' route ' + name, 'ok');
      await refreshRoutes();
    } catch (e) {
      show(form, e.message, 'error', e.message);
    }
  }

  async function dryRun(form) {
    const direction = form.dataset.direction;
    const route = routeBody(form);
    try {
      if (direction === 'uplink') {
        const topic = form.elements['dry-topic'].value.trim();
        const matches = await api('routes/uplink/dry-run', { method: 'POST',
          body: JSON.stringify({ topic, payload: form.elements['dry-payload'].value, route }) });
        show(form, matches.length === 0 ? 'no match: ' + topic + ' is not in ' + route['mqtt-filter'] : matches.map((m) =>
          (m.invalidPayload ? 'invalid payload: ' + m.invalidPayload + '\n→ dead-letter topic ' + (m.kafkaTopic || 'none: dropped')
            : '→ Kafka ' + m.kafkaTopic + ', key ' + m.key + (m.timestamp ? ', time ' + new Date(m.timestamp).toISOString() : ''))
          + '\n  headers ' + JSON.stringify(m.headers)).join('\n'), 'ok');
      } else {
        const headers = {};
        form.elements['dry-headers'].value.split(',').map((h) => h.trim()).filter(Boolean).forEach((h) => {
          const eq = h.indexOf('=');
          headers[eq < 0 ? h : h.slice(0, eq).trim()] = eq < 0 ? '' : h.slice(eq + 1).trim();
        });
        const outcomes = await api('routes/downlink/dry-run', { method: 'POST', body: JSON.stringify({
          kafkaTopic: route['kafka-topic'], key: form.elements['dry-key'].value, headers, route }) });
        show(form, outcomes.length === 0 ? 'no match' : outcomes.map((o) => o.dropReason ? 'dropped: ' + o.dropReason
          : '→ MQTT ' + o.mqttTopic + ' (QoS ' + o.qos + (o.retain ? ', retained' : '') + ')').join('\n'), 'ok');
      }
    } catch (e) {
      show(form, e.message, 'error', e.message);
    }
  }

  for (const form of Object.values(forms)) {
    form.addEventListener('submit', (event) => { event.preventDefault(); saveRoute(form); });
    form.elements['dry-run'].addEventListener('click', () => dryRun(form));
    form.elements.delete.addEventListener('click', () => deleteRoute(form, form.elements.name.value.trim()));
    form.elements.name.addEventListener('input', () => markStatic(form));
    form.elements.clear.addEventListener('click', () => show(form, ''));
    form.addEventListener('reset', () => setTimeout(() => markStatic(form)));
  }

  // Charts: GET api/v1/metrics/history, the bridge's own meters every 2 s over 15 minutes, drawn by uPlot.
  // window.bridgeCharts holds the uPlot instances: chart.data is what each one draws.
  const charts = {};
  window.bridgeCharts = charts;
  const chartSeries = {
    messages: [['messagesIn', 'in (MQTT)', '#2f6fde', '/s'], ['messagesToKafka', 'to Kafka', '#1f883d', '/s'],
      ['messagesToMqtt', 'to MQTT', '#bf8700', '/s']],
    latency: [['kafkaSendMillis', 'mean', '#8250df', ' ms']],
    backlog: [['journalBacklog', 'entries', '#cf222e', '']],
    lag: [['downlinkLag', 'records', '#0a7ea4', '']],
  };
  const chartWidth = (name) => Math.max(240, $('chart-' + name).clientWidth - 8);

  async function refreshCharts() {
    if (!window.uPlot) throw new Error('uPlot did not load (webjars/uplot)');
    const history = await api('metrics/history');
    for (const [name, series] of Object.entries(chartSeries)) {
      const data = [history.t].concat(series.map(([column]) => history[column]));
      if (charts[name]) {
        charts[name].setData(data);
      } else {
        charts[name] = new uPlot({ width: chartWidth(name), height: 150,
          series: [{}].concat(series.map(([, label, stroke]) => ({ label, stroke, width: 1.5 }))),
          // at most the last 15 minutes the history holds, at least one (a young bridge's few points stay readable)
          scales: { x: { time: true, range: (u, min, max) => [Math.min(min, max - 60), max] },
            y: { range: (u, min, max) => [0, Math.max(1, (max || 0) * 1.1)] } },
          axes: [{}, { size: 60 }], legend: { live: false } }, data, $('chart-' + name));
      }
      $('latest-' + name).textContent = series.map(([, label, , unit], i) => {
        const value = data[i + 1].length ? data[i + 1][data[i + 1].length - 1] : null;
        return label + ' ' + (value === null ? '–' : +value.toFixed(2) + unit);
      }).join(' · ');
    }
  }
  window.addEventListener('resize', () => Object.entries(charts)
    .forEach(([name, chart]) => chart.setSize({ width: chartWidth(name), height: 150 })));

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
      await Promise.all([refreshCharts(), refreshClients(), refreshCluster(), refreshRoutes(), refreshHealth()]);
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
