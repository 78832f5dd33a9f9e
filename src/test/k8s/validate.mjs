#!/usr/bin/env node
// Offline check of rendered Kubernetes manifests (the output of `kubectl kustomize k8s/overlays/<name>`).
//
//   node validate.mjs [--documented k8s/README.md] rendered.yaml...
//
// Prints one line per object and per cross-reference check ("OK  ..." or "FAIL ..."), exits 1 on any error.
//
// 1. Schema: every object is validated with the JSON schema bundled in the npm models (kubernetes-models for the
//    built-in kinds, @kubernetes-models/prometheus-operator for ServiceMonitor, @kubernetes-models/strimzi-kafka-operator
//    for KafkaTopic/KafkaUser). A kind without a model is an error.
// 2. Strictness: those schemas allow unknown fields (a misspelled `readinesProbe` passes them). The validator is
//    run on a Proxy of the object that records which properties it reads: ajv's compiled code reads every property
//    the schema declares, and enumerates the keys of map-like objects (labels, data, additionalProperties). Any key
//    of an object that the schema declares properties for, but that the validator never read, is an unknown field.
//    Objects whose schema declares no properties at all (free-form, e.g. KafkaTopic spec.config) are not checked
//    and are listed as "free-form" in the output.
// 3. Cross-references in each file (one file = one rendered overlay): Secrets/ConfigMaps/PVCs that pods use exist in
//    the file, are optional, are written by Strimzi for a KafkaUser/Kafka cluster in the file, or are listed in the
//    "Secrets you create" section of the --documented file; keys exist; volume mounts name volumes; files named by
//    *_FILE/*_LOCATION(S) variables are mounted; probe and Service/NetworkPolicy ports name container ports;
//    selectors match pods; serviceName names a headless Service; terminationGracePeriodSeconds exceeds the drain
//    timeout by at least 5 s; the journal fits the data volume; routes.properties is well-formed and, with
//    Strimzi, every route topic has a KafkaTopic and the KafkaUser's ACLs allow what the routes do; with
//    BRIDGE_CLUSTER_ENABLED=true, the same for the cluster's internal topics and consumer group.
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';

const MODEL_PACKAGES = [
  'kubernetes-models',
  '@kubernetes-models/prometheus-operator',
  '@kubernetes-models/strimzi-kafka-operator',
];
const WORKLOAD_KINDS = new Set(['StatefulSet', 'Deployment', 'DaemonSet', 'ReplicaSet', 'Job']);
const DRAIN_MARGIN_SECONDS = 5;
const DEFAULT_DRAIN_SECONDS = 20; // bridge.shutdown.drain-timeout default
const DEFAULT_GRACE_SECONDS = 30; // Kubernetes default
// bridge.cluster internal topics: <name>.<what> and the cleanup.policy the bridge requires (cluster/ClusterTopics.java)
const CLUSTER_TOPICS = [['messages', 'delete'], ['subscriptions', 'compact'], ['sessions', 'compact'], ['retained', 'compact'], ['nodes', 'compact']];

// ----------------------------------------------------------------------------------------------------------------
// Models and schema validation
// ----------------------------------------------------------------------------------------------------------------
const modelCache = new Map();

async function modelFor(apiVersion, kind) {
  const id = `${apiVersion}/${kind}`;
  if (modelCache.has(id)) return modelCache.get(id);
  let found = null;
  if (/^[A-Za-z0-9.\/-]+$/.test(apiVersion) && /^[A-Za-z0-9]+$/.test(kind)) {
    for (const pkg of MODEL_PACKAGES) {
      try {
        const mod = await import(`${pkg}/${apiVersion}/${kind}`);
        const cls = mod[kind];
        if (cls && cls.apiVersion === apiVersion && cls.kind === kind) {
          found = cls;
          break;
        }
      } catch (e) {
        if (!['ERR_PACKAGE_PATH_NOT_EXPORTED', 'ERR_MODULE_NOT_FOUND'].includes(e.code)) throw e;
      }
    }
  }
  modelCache.set(id, found);
  return found;
}

/** A Proxy over `root` that records, per object, the properties read and whether its keys were enumerated. */
function recordingProxy(root) {
  const read = new Map();
  const enumerated = new WeakSet();
  const proxies = new WeakMap();
  const note = (target, key) => {
    if (typeof key !== 'string') return;
    let keys = read.get(target);
    if (!keys) read.set(target, (keys = new Set()));
    keys.add(key);
  };
  const wrap = (value) => {
    if (value === null || typeof value !== 'object') return value;
    let proxy = proxies.get(value);
    if (!proxy) {
      proxy = new Proxy(value, {
        get(target, key) {
          note(target, key);
          return wrap(Reflect.get(target, key));
        },
        has(target, key) {
          note(target, key);
          return Reflect.has(target, key);
        },
        getOwnPropertyDescriptor(target, key) {
          note(target, key);
          return Reflect.getOwnPropertyDescriptor(target, key);
        },
        ownKeys(target) {
          enumerated.add(target);
          return Reflect.ownKeys(target);
        },
      });
      proxies.set(value, proxy);
    }
    return proxy;
  };
  return { proxy: wrap(root), read, enumerated };
}

/** Keys the schema validator never looked at, in objects whose schema declares properties. */
function unknownFields(value, path, rec, unknown, freeForm) {
  if (Array.isArray(value)) {
    value.forEach((item, i) => unknownFields(item, `${path}/${i}`, rec, unknown, freeForm));
    return;
  }
  if (value === null || typeof value !== 'object') return;
  if (rec.enumerated.has(value)) {
    // a map (labels, ConfigMap data, …) or additionalProperties: every key allowed, values were validated
    for (const [k, v] of Object.entries(value)) unknownFields(v, `${path}/${k}`, rec, unknown, freeForm);
    return;
  }
  const read = rec.read.get(value);
  if (!read || read.size === 0) {
    if (Object.keys(value).length > 0) freeForm.push(path || '/');
    return;
  }
  for (const [k, v] of Object.entries(value)) {
    if (read.has(k)) unknownFields(v, `${path}/${k}`, rec, unknown, freeForm);
    else unknown.push(`${path}/${k}`);
  }
}

async function validateSchema(obj) {
  const errors = [];
  const freeForm = [];
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) return { errors: ['not an object'], freeForm };
  if (typeof obj.apiVersion !== 'string' || typeof obj.kind !== 'string') {
    return { errors: ['apiVersion and kind are required'], freeForm };
  }
  const model = await modelFor(obj.apiVersion, obj.kind);
  if (!model) return { errors: [`no schema for ${obj.apiVersion} ${obj.kind} (unknown kind or apiVersion)`], freeForm };
  const rec = recordingProxy(obj);
  try {
    model.prototype.validate.call(rec.proxy);
  } catch (e) {
    if (!e.errors) throw e;
    for (const err of e.errors) errors.push(`schema: ${err.instancePath || '/'} ${err.message}`);
  }
  const unknown = [];
  unknownFields(obj, '', rec, unknown, freeForm);
  for (const path of unknown) errors.push(`unknown field ${path}`);
  if (!obj.metadata || typeof obj.metadata.name !== 'string' || obj.metadata.name === '') {
    errors.push('metadata.name is required');
  }
  return { errors, freeForm };
}

// ----------------------------------------------------------------------------------------------------------------
// Small parsers
// ----------------------------------------------------------------------------------------------------------------
/** Quarkus Duration: "20s", "500ms", "1m", "2h", "1d", a plain number (seconds) or ISO-8601 ("PT20S"). */
export function durationSeconds(text) {
  const s = String(text).trim();
  let m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/i.exec(s);
  if (m) {
    const n = Number(m[1]);
    return { ms: n / 1000, s: n, m: n * 60, h: n * 3600, d: n * 86400 }[(m[2] || 's').toLowerCase()];
  }
  m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/i.exec(s);
  if (m) return (Number(m[1] || 0) * 86400) + (Number(m[2] || 0) * 3600) + (Number(m[3] || 0) * 60) + Number(m[4] || 0);
  return NaN;
}

/** Quarkus MemorySize: digits with an optional binary suffix (K, M, G, T: powers of 1024). */
export function memorySizeBytes(text) {
  const m = /^(\d+)([bkmgtpe]?)$/i.exec(String(text).trim());
  if (!m) return NaN;
  return Number(m[1]) * 1024 ** 'bkmgtpe'.indexOf((m[2] || 'b').toLowerCase());
}

/** Kubernetes quantity in bytes: 10Gi, 500M, 1e9, … */
export function quantityBytes(text) {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E|e\d+)?$/.exec(String(text).trim());
  if (!m) return NaN;
  const n = Number(m[1]);
  const suffix = m[2] || '';
  if (suffix.startsWith('e')) return n * 10 ** Number(suffix.slice(1));
  const binary = { Ki: 1, Mi: 2, Gi: 3, Ti: 4, Pi: 5, Ei: 6 };
  const decimal = { k: 1, M: 2, G: 3, T: 4, P: 5, E: 6 };
  if (suffix in binary) return n * 1024 ** binary[suffix];
  if (suffix in decimal) return n * 1000 ** decimal[suffix];
  return n;
}

/** java.util.Properties, enough for routes files: comments, key=value / key: value / key value, continuations. */
export function parseProperties(text) {
  const props = new Map();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i].replace(/^\s+/, '');
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    while (/(^|[^\\])(\\\\)*\\$/.test(line) && i + 1 < lines.length) {
      line = line.slice(0, -1) + lines[++i].replace(/^\s+/, '');
    }
    const m = /^((?:\\.|[^=:\s\\])+)\s*[=:\s]\s*(.*)$/.exec(line) || [null, line, ''];
    const unescape = (s) => s.replace(/\\(.)/g, '$1');
    props.set(unescape(m[1]), unescape(m[2]).replace(/\s+$/, ''));
  }
  return props;
}

/** Secret/ConfigMap names listed in the "Secrets you create" section of the README (first table column). */
function documentedNames(file) {
  const names = new Set();
  const lines = readFileSync(file, 'utf8').split(/\r?\n/);
  let level = 0;
  for (const line of lines) {
    const heading = /^(#+)\s+(.*)$/.exec(line);
    if (heading) {
      if (/secrets you create/i.test(heading[2])) level = heading[1].length;
      else if (level && heading[1].length <= level) level = 0;
      continue;
    }
    if (!level || !line.startsWith('|')) continue;
    const firstCell = line.split('|')[1] || '';
    for (const m of firstCell.matchAll(/`([a-z0-9][a-z0-9.-]*)`/g)) names.add(m[1]);
  }
  return names;
}

// ----------------------------------------------------------------------------------------------------------------
// Cross-references
// ----------------------------------------------------------------------------------------------------------------
const labelsMatch = (selector, labels) =>
  !!selector && Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => (labels || {})[k] === v);

/** matchLabels only (matchExpressions: not used here, reported as unsupported). */
function selectorLabels(selector, where, errors) {
  if (!selector) return {};
  if (selector.matchExpressions && selector.matchExpressions.length) {
    errors.push(`${where}: matchExpressions are not checked by this validator`);
  }
  return selector.matchLabels || {};
}

function crossReferences(objects, documented) {
  const results = []; // { ok, text }
  const check = (ok, text) => results.push({ ok, text });
  const byKind = (kind) => objects.filter((o) => o.kind === kind);
  const ref = (o) => `${o.kind}/${o.metadata.name}`;

  const configMaps = new Map(byKind('ConfigMap').map((o) => [o.metadata.name, new Set([...Object.keys(o.data || {}), ...Object.keys(o.binaryData || {})])]));
  const secrets = new Map(byKind('Secret').map((o) => [o.metadata.name, new Set([...Object.keys(o.data || {}), ...Object.keys(o.stringData || {})])]));
  const pvcs = new Set(byKind('PersistentVolumeClaim').map((o) => o.metadata.name));

  // Secrets written by Strimzi's operators for objects in this file
  const strimziObjects = objects.filter((o) => /^kafka\.strimzi\.io\//.test(o.apiVersion));
  const strimziClusters = new Set(strimziObjects.map((o) => (o.metadata.labels || {})['strimzi.io/cluster']).filter(Boolean));
  const strimziSecrets = new Map();
  for (const c of strimziClusters) {
    strimziSecrets.set(`${c}-cluster-ca-cert`, new Set(['ca.crt', 'ca.p12', 'ca.password']));
    strimziSecrets.set(`${c}-clients-ca-cert`, new Set(['ca.crt', 'ca.p12', 'ca.password']));
  }
  for (const u of byKind('KafkaUser')) {
    const type = u.spec?.authentication?.type;
    if (type === 'scram-sha-512') strimziSecrets.set(u.metadata.name, new Set(['password', 'sasl.jaas.config']));
    if (type === 'tls') strimziSecrets.set(u.metadata.name, new Set(['ca.crt', 'user.crt', 'user.key', 'user.p12', 'user.password']));
  }

  /** Where a referenced Secret/ConfigMap comes from; checks the keys when they are known. */
  const resolve = (what, name, keys, optional, where) => {
    const rendered = what === 'Secret' ? secrets : configMaps;
    if (rendered.has(name)) {
      const missing = keys.filter((k) => !rendered.get(name).has(k));
      check(missing.length === 0, `${where}: ${what} ${name} is in the manifests` + (missing.length ? `, but has no key ${missing.join(', ')}` : ''));
    } else if (what === 'Secret' && strimziSecrets.has(name)) {
      const missing = keys.filter((k) => !strimziSecrets.get(name).has(k));
      check(missing.length === 0, `${where}: Secret ${name} is written by Strimzi` + (missing.length ? `, but has no key ${missing.join(', ')}` : ''));
    } else if (documented.has(name)) {
      check(true, `${where}: ${what} ${name} is user-provided (listed in the README)`);
    } else if (optional) {
      check(true, `${where}: ${what} ${name} is optional and not in the manifests`);
    } else {
      check(false, `${where}: ${what} ${name} is required, but neither in the manifests nor listed as user-provided in the README`);
    }
  };

  const pods = [];
  for (const w of objects.filter((o) => WORKLOAD_KINDS.has(o.kind))) {
    const template = w.spec?.template;
    if (template) pods.push({ owner: w, labels: template.metadata?.labels || {}, spec: template.spec || {} });
  }
  for (const p of byKind('Pod')) pods.push({ owner: p, labels: p.metadata.labels || {}, spec: p.spec || {} });
  const containersOf = (spec) => [...(spec.initContainers || []), ...(spec.containers || [])];
  const containerPortNames = (spec) => new Set(containersOf(spec).flatMap((c) => (c.ports || []).map((p) => p.name).filter(Boolean)));
  const containerPortNumbers = (spec) => new Set(containersOf(spec).flatMap((c) => (c.ports || []).map((p) => p.containerPort)));

  const env = (c, name, pod) => {
    const e = (c.env || []).find((x) => x.name === name);
    if (!e) return undefined;
    if (e.value !== undefined) return e.value;
    const cm = e.valueFrom?.configMapKeyRef;
    if (cm && configMaps.has(cm.name)) {
      const o = byKind('ConfigMap').find((x) => x.metadata.name === cm.name);
      return (o.data || {})[cm.key];
    }
    return undefined;
  };

  for (const pod of pods) {
    const owner = ref(pod.owner);
    const spec = pod.spec;
    const volumes = new Map((spec.volumes || []).map((v) => [v.name, v]));
    const claimTemplates = new Map((pod.owner.kind === 'StatefulSet' ? pod.owner.spec.volumeClaimTemplates || [] : []).map((t) => [t.metadata?.name, t]));

    // selector of the workload matches its own pod template
    if (pod.owner.kind !== 'Pod' && pod.owner.spec?.selector) {
      const sel = selectorLabels(pod.owner.spec.selector, owner, []);
      check(labelsMatch(sel, pod.labels), `${owner}: selector ${JSON.stringify(sel)} matches its pod template labels`);
    }

    // volumes: where their Secrets, ConfigMaps and claims come from
    for (const v of volumes.values()) {
      const where = `${owner} volume ${v.name}`;
      if (v.secret) resolve('Secret', v.secret.secretName, (v.secret.items || []).map((i) => i.key), v.secret.optional === true, where);
      if (v.configMap) resolve('ConfigMap', v.configMap.name, (v.configMap.items || []).map((i) => i.key), v.configMap.optional === true, where);
      for (const src of v.projected?.sources || []) {
        if (src.secret) resolve('Secret', src.secret.name, (src.secret.items || []).map((i) => i.key), src.secret.optional === true, where);
        if (src.configMap) resolve('ConfigMap', src.configMap.name, (src.configMap.items || []).map((i) => i.key), src.configMap.optional === true, where);
      }
      if (v.persistentVolumeClaim) {
        const name = v.persistentVolumeClaim.claimName;
        check(pvcs.has(name) || documented.has(name), `${where}: PersistentVolumeClaim ${name} is in the manifests or listed as user-provided`);
      }
    }
    for (const [name, t] of claimTemplates) {
      check(!volumes.has(name), `${owner}: claim template ${name} does not clash with a volume of the same name`);
      check(!!t.spec?.resources?.requests?.storage, `${owner}: claim template ${name} requests storage`);
    }

    const mountedVolumes = new Set();
    for (const c of containersOf(spec)) {
      const where = `${owner} container ${c.name}`;
      const envNames = (c.env || []).map((e) => e.name);
      const dupes = envNames.filter((n, i) => envNames.indexOf(n) !== i);
      check(dupes.length === 0, `${where}: environment variable names are unique` + (dupes.length ? ` (duplicated: ${[...new Set(dupes)].join(', ')})` : ''));
      for (const e of c.env || []) {
        const cm = e.valueFrom?.configMapKeyRef;
        const sk = e.valueFrom?.secretKeyRef;
        if (cm) resolve('ConfigMap', cm.name, [cm.key], cm.optional === true, `${where} env ${e.name}`);
        if (sk) resolve('Secret', sk.name, [sk.key], sk.optional === true, `${where} env ${e.name}`);
      }
      for (const src of c.envFrom || []) {
        if (src.secretRef) resolve('Secret', src.secretRef.name, [], src.secretRef.optional === true, `${where} envFrom`);
        if (src.configMapRef) resolve('ConfigMap', src.configMapRef.name, [], src.configMapRef.optional === true, `${where} envFrom`);
      }

      // volume mounts
      for (const m of c.volumeMounts || []) {
        mountedVolumes.add(m.name);
        check(volumes.has(m.name) || claimTemplates.has(m.name), `${where}: mount ${m.mountPath} uses volume ${m.name}, which exists`);
        const v = volumes.get(m.name);
        if (v && (v.secret || v.configMap || v.projected) && m.readOnly !== true) {
          check(false, `${where}: mount ${m.mountPath} of Secret/ConfigMap volume ${m.name} is read-only`);
        }
        if (v && m.subPath) {
          const items = (v.configMap?.items || v.secret?.items || []).map((i) => i.path);
          if (items.length) check(items.includes(m.subPath), `${where}: subPath ${m.subPath} is an item of volume ${m.name}`);
        }
      }

      // files named by environment variables are mounted (and are items of their volume when items are listed)
      for (const e of c.env || []) {
        if (typeof e.value !== 'string' || !/(_FILE|_LOCATION|_LOCATIONS)$/.test(e.name)) continue;
        for (const file of e.value.split(',').map((s) => s.trim()).filter((s) => s.startsWith('/'))) {
          const mount = (c.volumeMounts || [])
            .filter((m) => file === m.mountPath || file.startsWith(m.mountPath.replace(/\/$/, '') + '/'))
            .sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
          if (!mount) {
            check(false, `${where}: ${e.name}=${file} is not on any volume mount`);
            continue;
          }
          const v = volumes.get(mount.name);
          const rel = file === mount.mountPath ? mount.subPath : file.slice(mount.mountPath.replace(/\/$/, '').length + 1);
          const items = v ? [
            ...(v.secret?.items || []), ...(v.configMap?.items || []),
            ...(v.projected?.sources || []).flatMap((s) => (s.secret?.items || s.configMap?.items || [])),
          ].map((i) => i.path) : [];
          const sources = v?.projected?.sources || [];
          const listsItems = !!v && (!!v.secret?.items || !!v.configMap?.items
            || (sources.length > 0 && sources.every((s) => !!(s.secret?.items || s.configMap?.items))));
          if (listsItems && rel) {
            check(items.includes(rel), `${where}: ${e.name}=${file} is item ${rel} of volume ${mount.name}`);
          } else {
            check(true, `${where}: ${e.name}=${file} is on mount ${mount.mountPath} (volume ${mount.name})`);
          }
        }
      }

      // probes name or number a port of this container
      const portNames = new Set((c.ports || []).map((p) => p.name).filter(Boolean));
      const portNumbers = new Set((c.ports || []).map((p) => p.containerPort));
      for (const probeName of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
        const probe = c[probeName];
        if (!probe) continue;
        const port = probe.httpGet?.port ?? probe.tcpSocket?.port ?? probe.grpc?.port;
        if (port === undefined) continue;
        const ok = typeof port === 'string' ? portNames.has(port) : portNumbers.has(port);
        check(ok, `${where}: ${probeName} port ${port} is a port of the container`);
      }
    }
    for (const name of [...volumes.keys(), ...claimTemplates.keys()]) {
      check(mountedVolumes.has(name), `${owner}: volume ${name} is mounted by a container`);
    }

    // grace period > drain timeout (+ margin for closing the listeners and stopping the channels)
    const bridge = (spec.containers || []).find((c) => (c.env || []).some((e) => e.name.startsWith('BRIDGE_')) || /mqtt-kafka-bridge/.test(c.image || ''));
    if (bridge) {
      const drainText = env(bridge, 'BRIDGE_SHUTDOWN_DRAIN_TIMEOUT', pod);
      const drain = drainText === undefined ? DEFAULT_DRAIN_SECONDS : durationSeconds(drainText);
      const grace = spec.terminationGracePeriodSeconds ?? DEFAULT_GRACE_SECONDS;
      check(Number.isFinite(drain) && grace >= drain + DRAIN_MARGIN_SECONDS,
        `${owner}: terminationGracePeriodSeconds ${grace} ≥ drain timeout ${drainText ?? DEFAULT_DRAIN_SECONDS + 's'} + ${DRAIN_MARGIN_SECONDS} s`);

      // the journal fits the data volume
      const dataPath = env(bridge, 'BRIDGE_BROKER_DATA_PATH', pod) ?? '/data';
      const dataMount = (bridge.volumeMounts || []).find((m) => m.mountPath === dataPath);
      const claim = dataMount && claimTemplates.get(dataMount.name);
      const journalText = env(bridge, 'BRIDGE_JOURNAL_MAX_BYTES', pod) ?? '1G';
      if (claim) {
        const journal = memorySizeBytes(journalText);
        const size = quantityBytes(claim.spec?.resources?.requests?.storage);
        check(journal < size, `${owner}: journal (BRIDGE_JOURNAL_MAX_BYTES ${journalText}) fits the ${dataMount.name} claim (${claim.spec?.resources?.requests?.storage})`);
      } else {
        check(!!dataMount, `${owner}: data path ${dataPath} is on a volume mount`);
      }
      routeChecks(pod, bridge, volumes, env);
    }
  }

  // routes.properties of the bridge, and with Strimzi its topics and ACLs
  function routeChecks(pod, c, volumes, envOf) {
    const owner = ref(pod.owner);
    const locations = (envOf(c, 'QUARKUS_CONFIG_LOCATIONS', pod) || '').split(',').map((s) => s.trim()).filter(Boolean);
    const uplink = new Map();
    const downlink = new Map();
    let deadLetter;
    let found = false;
    for (const file of locations) {
      const mount = (c.volumeMounts || []).find((m) => m.mountPath === file && m.subPath);
      const v = mount && volumes.get(mount.name);
      const cm = v?.configMap && byKind('ConfigMap').find((o) => o.metadata.name === v.configMap.name);
      const key = cm && ((v.configMap.items || []).find((i) => i.path === mount.subPath)?.key ?? mount.subPath);
      if (!cm || (cm.data || {})[key] === undefined) continue;
      found = true;
      for (const [k, val] of parseProperties(cm.data[key])) {
        const up = /^bridge\.uplink\.routes\.([^.]+)\.(.+)$/.exec(k);
        const down = /^bridge\.downlink\.routes\.([^.]+)\.(.+)$/.exec(k);
        if (up) {
          check(['mqtt-filter', 'kafka-topic', 'key'].includes(up[2]), `${owner} routes: ${k} is a known uplink route field`);
          uplink.set(up[1], { ...(uplink.get(up[1]) || {}), [up[2]]: val });
        } else if (down) {
          check(['kafka-topic', 'mqtt-topic', 'qos', 'retain'].includes(down[2]), `${owner} routes: ${k} is a known downlink route field`);
          downlink.set(down[1], { ...(downlink.get(down[1]) || {}), [down[2]]: val });
        } else if (k === 'bridge.uplink.dead-letter-topic') {
          deadLetter = val;
        }
      }
    }
    if (!found) return;
    for (const [name, r] of uplink) check(!!r['mqtt-filter'] && !!r['kafka-topic'], `${owner} routes: uplink route ${name} has mqtt-filter and kafka-topic`);
    for (const [name, r] of downlink) check(!!r['kafka-topic'] && !!r['mqtt-topic'], `${owner} routes: downlink route ${name} has kafka-topic and mqtt-topic`);
    const writes = [...new Set([...[...uplink.values()].map((r) => r['kafka-topic']), deadLetter].filter(Boolean))];
    const reads = [...new Set([...downlink.values()].map((r) => r['kafka-topic']).filter(Boolean))];
    check(true, `${owner} routes: writes ${writes.join(', ') || '-'}; reads ${reads.join(', ') || '-'}`);

    const topics = byKind('KafkaTopic');
    const users = byKind('KafkaUser');
    if (topics.length === 0 && users.length === 0) return;
    check(strimziClusters.size === 1 && strimziObjects.every((o) => (o.metadata.labels || {})['strimzi.io/cluster']),
      `Strimzi: every KafkaTopic/KafkaUser names one cluster with strimzi.io/cluster (${[...strimziClusters].join(', ') || 'none'})`);
    const cluster = [...strimziClusters][0];
    const bootstrap = envOf(c, 'KAFKA_BOOTSTRAP_SERVERS', pod) || '';
    check(bootstrap.split(',').every((h) => h.startsWith(`${cluster}-kafka-bootstrap`)), `${owner}: KAFKA_BOOTSTRAP_SERVERS ${bootstrap} is the bootstrap Service of ${cluster}`);
    const topicNames = new Set(topics.map((t) => t.spec?.topicName || t.metadata.name));
    for (const t of [...writes, ...reads]) check(topicNames.has(t), `Strimzi: topic ${t} of the routes has a KafkaTopic`);

    // the cluster's internal topics <bridge.cluster.name>.<what> (cluster/ClusterTopics.java): the bridge refuses to
    // start when one exists with another cleanup.policy
    const clusterOn = (envOf(c, 'BRIDGE_CLUSTER_ENABLED', pod) || '').trim().toLowerCase() === 'true';
    const clusterName = envOf(c, 'BRIDGE_CLUSTER_NAME', pod) || 'mqtt-kafka-bridge';
    const clusterTopics = clusterOn ? CLUSTER_TOPICS.map(([what, policy]) => [`${clusterName}.${what}`, policy]) : [];
    for (const [t, policy] of clusterTopics) {
      const kt = topics.find((x) => (x.spec?.topicName || x.metadata.name) === t);
      const actual = kt ? String(kt.spec?.config?.['cleanup.policy'] ?? 'delete') : undefined;
      check(actual === policy, `Strimzi: cluster topic ${t} has a KafkaTopic with cleanup.policy ${policy}` + (kt ? ` (${actual})` : ''));
    }

    // the KafkaUser whose Secret the bridge reads
    const userSecrets = new Set([
      ...(c.env || []).map((e) => e.valueFrom?.secretKeyRef?.name),
      ...(c.envFrom || []).map((e) => e.secretRef?.name),
    ].filter(Boolean));
    const user = users.find((u) => userSecrets.has(u.metadata.name));
    check(!!user, `${owner}: reads the credentials of a KafkaUser in the manifests (${users.map((u) => u.metadata.name).join(', ')})`);
    if (!user) return;
    const acls = user.spec?.authorization?.acls || [];
    const allows = (type, name, op) => acls.some((a) => (a.type ?? 'allow') === 'allow'
      && a.resource?.type === type
      && (type === 'cluster' || a.resource.name === '*' || ((a.resource.patternType ?? 'literal') === 'prefix' ? name.startsWith(a.resource.name) : a.resource.name === name))
      && [...(a.operations || []), a.operation].some((o) => o === op || o === 'All'));
    for (const t of writes) check(allows('topic', t, 'Write'), `KafkaUser/${user.metadata.name}: may Write topic ${t}`);
    for (const t of reads) check(allows('topic', t, 'Read'), `KafkaUser/${user.metadata.name}: may Read topic ${t}`);
    if (reads.length) {
      const configured = envOf(c, 'BRIDGE_DOWNLINK_GROUP_ID', pod);
      const group = configured || `mqtt-kafka-bridge-${pod.owner.metadata.name}-0`;
      check(allows('group', group, 'Read'), `KafkaUser/${user.metadata.name}: may Read consumer group ${group}`);
    }
    for (const [t] of clusterTopics) {
      // Create and DescribeConfigs: the start-up check creates a missing topic and reads its cleanup.policy
      const missing = ['Read', 'Write', 'Describe', 'Create', 'DescribeConfigs'].filter((op) => !allows('topic', t, op));
      check(missing.length === 0, `KafkaUser/${user.metadata.name}: may use cluster topic ${t}` + (missing.length ? ` (not ${missing.join(', ')})` : ''));
    }
    if (clusterOn) {
      const node = envOf(c, 'BRIDGE_CLUSTER_NODE_ID', pod) || `${pod.owner.metadata.name}-0`;
      const group = `${clusterName}.${node}`;
      check(allows('group', group, 'Read'), `KafkaUser/${user.metadata.name}: may Read consumer group ${group} (cluster messages)`);
    }
  }

  // Services: selectors match pods, target ports exist on them
  const services = byKind('Service');
  for (const s of services) {
    if (s.spec?.type === 'ExternalName') continue;
    const sel = s.spec?.selector;
    const matching = pods.filter((p) => labelsMatch(sel, p.labels));
    check(matching.length > 0, `${ref(s)}: selector ${JSON.stringify(sel || {})} matches pods of ${matching.map((p) => ref(p.owner)).join(', ') || 'nothing'}`);
    for (const port of s.spec?.ports || []) {
      const target = port.targetPort ?? port.port;
      const ok = matching.length > 0 && matching.every((p) => (typeof target === 'string' ? containerPortNames(p.spec).has(target) : containerPortNumbers(p.spec).has(target)));
      check(ok, `${ref(s)}: port ${port.name || port.port} targets container port ${target}`);
    }
  }
  for (const w of byKind('StatefulSet')) {
    const s = services.find((x) => x.metadata.name === w.spec?.serviceName);
    check(!!s && s.spec?.clusterIP === 'None' && labelsMatch(s.spec?.selector, w.spec?.template?.metadata?.labels),
      `${ref(w)}: serviceName ${w.spec?.serviceName} is a headless Service selecting its pods`);
  }
  for (const pdb of byKind('PodDisruptionBudget')) {
    const errs = [];
    const sel = selectorLabels(pdb.spec?.selector, ref(pdb), errs);
    errs.forEach((e) => check(false, e));
    const matching = pods.filter((p) => labelsMatch(sel, p.labels));
    check(matching.length > 0, `${ref(pdb)}: selector matches pods of ${matching.map((p) => ref(p.owner)).join(', ') || 'nothing'}`);
  }
  for (const np of byKind('NetworkPolicy')) {
    const errs = [];
    const sel = selectorLabels(np.spec?.podSelector, ref(np), errs);
    errs.forEach((e) => check(false, e));
    const matching = pods.filter((p) => labelsMatch(sel, p.labels));
    check(matching.length > 0, `${ref(np)}: podSelector matches pods of ${matching.map((p) => ref(p.owner)).join(', ') || 'nothing'}`);
    for (const rule of np.spec?.ingress || []) {
      for (const port of rule.ports || []) {
        if (typeof port.port !== 'string') continue;
        check(matching.length > 0 && matching.every((p) => containerPortNames(p.spec).has(port.port)), `${ref(np)}: ingress port ${port.port} names a container port`);
      }
    }
  }
  for (const sm of byKind('ServiceMonitor')) {
    const errs = [];
    const sel = selectorLabels(sm.spec?.selector, ref(sm), errs);
    errs.forEach((e) => check(false, e));
    const matching = services.filter((s) => labelsMatch(sel, s.metadata.labels));
    check(matching.length > 0, `${ref(sm)}: selector matches Services ${matching.map(ref).join(', ') || 'none'}`);
    for (const ep of sm.spec?.endpoints || []) {
      if (ep.port) check(matching.length > 0 && matching.every((s) => (s.spec?.ports || []).some((p) => p.name === ep.port)), `${ref(sm)}: endpoint port ${ep.port} is a port of those Services`);
    }
  }
  const ids = objects.map((o) => `${o.apiVersion.split('/')[0]}/${o.kind}/${o.metadata.namespace || ''}/${o.metadata.name}`);
  const dupes = ids.filter((id, i) => ids.indexOf(id) !== i);
  check(dupes.length === 0, `objects are unique${dupes.length ? ` (duplicates: ${dupes.join(', ')})` : ''}`);
  return results;
}

// ----------------------------------------------------------------------------------------------------------------
// Main
// ----------------------------------------------------------------------------------------------------------------
async function main(argv) {
  let documented = new Set();
  let verbose = false;
  const files = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--documented') documented = documentedNames(argv[++i]);
    else if (argv[i] === '--verbose') verbose = true;
    else files.push(argv[i]);
  }
  if (files.length === 0) {
    console.error('usage: node validate.mjs [--verbose] [--documented README.md] rendered.yaml...');
    return 2;
  }
  let total = 0;
  for (const file of files) {
    let failures = 0;
    console.log(`== ${file}`);
    const text = readFileSync(file, 'utf8');
    // YAML 1.1, as Kubernetes reads it (yes/no/on/off are booleans, 0440 is octal)
    const docs = parseAllDocuments(text, { version: '1.1', uniqueKeys: true });
    const objects = [];
    for (const doc of Array.isArray(docs) ? docs : [docs]) {
      if (doc.errors.length) {
        failures++;
        console.log(`FAIL yaml: ${doc.errors.map((e) => e.message).join('; ')}`);
        continue;
      }
      const obj = doc.toJS();
      if (obj === null || obj === undefined) continue;
      const name = `${obj.kind ?? '?'}/${obj.metadata?.name ?? '?'}`;
      const { errors, freeForm } = await validateSchema(obj);
      const extra = [];
      if (obj.spec && typeof obj.spec.replicas === 'number') extra.push(`replicas=${obj.spec.replicas}`);
      if (freeForm.length) extra.push(`free-form, not checked: ${freeForm.join(', ')}`);
      if (errors.length) {
        failures++;
        console.log(`FAIL ${name} (${obj.apiVersion})`);
        for (const e of errors) console.log(`       ${e}`);
      } else {
        console.log(`OK   ${name} (${obj.apiVersion})${extra.length ? ' ' + extra.join('; ') : ''}`);
      }
      if (obj.metadata?.name) objects.push(obj);
    }
    const refs = crossReferences(objects, documented);
    for (const r of refs) {
      if (!r.ok) failures++;
      if (verbose || !r.ok) console.log(`${r.ok ? 'OK  ' : 'FAIL'} ref: ${r.text}`);
    }
    const passed = refs.filter((r) => r.ok).length;
    console.log(`${passed === refs.length ? 'OK  ' : 'FAIL'} cross-references: ${passed} of ${refs.length} checks passed${verbose ? '' : ' (--verbose lists them)'}`);
    console.log(`== ${file}: ${objects.length} objects, ${failures} error(s)`);
    total += failures;
  }
  return total === 0 ? 0 : 1;
}

process.exitCode = await main(process.argv.slice(2));
