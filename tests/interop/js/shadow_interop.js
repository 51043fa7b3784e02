#!/usr/bin/env node
// AWS's own JavaScript device SDK (aws-iot-device-sdk, the v1 API: `thingShadow`) against thingwell's emulator.
//
// The script plays a scenario with one or two SDK clients and the emulator's admin command line ("the cloud"),
// and prints one JSON object per line on stdout for everything that happens: what the SDK emitted (status,
// delta, foreignStateChange, timeout, error, ...), which operation was started with which clientToken, and what
// the admin command answered. It judges nothing but the order of the scenario (each step waits for the event it
// needs, with a deadline); tests/interop/js_shadow_interop.cpp reads the lines and checks them against AWS's
// behaviour. The last line is {"event":"done"} or {"event":"failed","reason":...}; the exit code is 0 or 1.
//
// Usage: node shadow_interop.js --scenario sdk|lamp --thing NAME --host H --port P --ca F --cert F --key F
//          [--servername NAME] --admin '<JSON array: emulator program and its broker options>'
//          [--desired '<JSON object>'] [--desired2 '<JSON object>'] [--deadline-ms N]
//   sdk   two SDK clients on one thing: get on a missing shadow, reported updates, deltas from the admin CLI,
//         foreign updates and deletes seen by the other client, a get compared with the admin's get.
//   lamp  one SDK client on the thing of a running thingwell device (examples/shadow_lamp): waits for the
//         device's reported state, sets desired state with the admin CLI, waits until the device reports it,
//         then gets the shadow with the SDK and with the admin CLI.
'use strict';

const { execFile } = require('child_process');
const path = require('path');

let awsIot;
try {
  awsIot = require('aws-iot-device-sdk');
} catch (e) {
  // NODE_PATH normally points at <build>/interop/js/node_modules; say so when it does not.
  console.log(JSON.stringify({ event: 'failed', reason: 'cannot load aws-iot-device-sdk: ' + e.message }));
  process.exit(1);
}

// --- command line -----------------------------------------------------------------------------------------
const args = {};
for (let i = 2; i < process.argv.length; i += 2) {
  const key = process.argv[i];
  if (!key.startsWith('--') || i + 1 >= process.argv.length) {
    console.error('shadow_interop.js: bad argument ' + key);
    process.exit(2);
  }
  args[key.slice(2)] = process.argv[i + 1];
}
for (const required of ['scenario', 'thing', 'host', 'port', 'ca', 'cert', 'key', 'admin']) {
  if (args[required] === undefined) {
    console.error('shadow_interop.js: --' + required + ' is required');
    process.exit(2);
  }
}
const thing = args.thing;
const admin = JSON.parse(args.admin);
const deadlineMs = Number(args['deadline-ms'] || 40000);
const started = Date.now();

// --- output -----------------------------------------------------------------------------------------------
// JSON with object keys sorted at every level: two documents with the same content print the same text, so the
// checking side can compare the SDK's view with the admin's by string.
function canonical(value) {
  if (Array.isArray(value)) return '[' + value.map(canonical).join(',') + ']';
  if (value !== null && typeof value === 'object') {
    return '{' + Object.keys(value).sort().map((k) => JSON.stringify(k) + ':' + canonical(value[k])).join(',') + '}';
  }
  return JSON.stringify(value === undefined ? null : value);
}

let currentStep = 'start';
function emit(record) {
  const line = Object.assign({ t: Date.now() - started, step: currentStep }, record);
  process.stdout.write(JSON.stringify(line) + '\n');
  return line;
}

// What the tests compare of a shadow document (any of get/accepted, update/accepted, delta, admin output).
function summary(doc) {
  const out = {};
  if (doc === null || typeof doc !== 'object') return out;
  if (doc.version !== undefined) out.version = doc.version;
  if (doc.code !== undefined) out.code = doc.code;
  if (doc.message !== undefined) out.message = doc.message;
  const state = doc.state;
  if (state !== undefined) out.state = canonical(state);  // a delta's state is the delta object itself
  if (state && typeof state === 'object') {
    if (state.desired !== undefined) out.desired = canonical(state.desired);
    if (state.reported !== undefined) out.reported = canonical(state.reported);
    if (state.delta !== undefined) out.delta = canonical(state.delta);
  }
  out.document = canonical(doc);
  return out;
}

// --- events and waiting -----------------------------------------------------------------------------------
const events = [];  // every record emitted for an SDK event
const waiters = [];
function record(r) {
  const line = emit(r);
  events.push(line);
  for (const w of waiters.slice()) {
    if (w.predicate(line)) {
      waiters.splice(waiters.indexOf(w), 1);
      clearTimeout(w.timer);
      w.resolve(line);
    }
  }
}

// The first event (already seen since `from`, or still to come) that satisfies `predicate`.
function waitFor(what, predicate, timeoutMs = 8000, from = 0) {
  const seen = events.slice(from).find(predicate);
  if (seen) return Promise.resolve(seen);
  return new Promise((resolve, reject) => {
    const w = { predicate, resolve };
    w.timer = setTimeout(() => {
      waiters.splice(waiters.indexOf(w), 1);
      reject(new Error('no ' + what + ' within ' + timeoutMs + ' ms'));
    }, timeoutMs);
    waiters.push(w);
  });
}

// --- SDK clients ------------------------------------------------------------------------------------------
function makeClient(label) {
  const shadow = awsIot.thingShadow(
    {
      protocol: 'mqtts',
      host: args.host,
      port: Number(args.port),
      // The SDK sends SNI and checks the certificate against `servername` (default: host). A device dials its
      // endpoint by name; here the name is the one in the test server certificate, the address is loopback.
      servername: args.servername || 'localhost',
      caPath: args.ca,
      certPath: args.cert,
      keyPath: args.key,
      clientId: thing + '-js-' + label,
      keepalive: 30,
      baseReconnectTimeMs: 500,
    },
    { operationTimeout: 6000 });
  shadow.label = label;
  shadow.on('connect', () => record({ event: 'connect', client: label }));
  shadow.on('close', () => record({ event: 'close', client: label }));
  shadow.on('offline', () => record({ event: 'offline', client: label }));
  shadow.on('reconnect', () => record({ event: 'reconnect', client: label }));
  shadow.on('error', (e) => record({ event: 'error', client: label, message: String(e && e.message) }));
  shadow.on('status', (name, stat, token, doc) =>
    record(Object.assign({ event: 'status', client: label, thing: name, status: stat, token }, summary(doc))));
  shadow.on('delta', (name, doc) => record(Object.assign({ event: 'delta', client: label, thing: name }, summary(doc))));
  shadow.on('foreignStateChange', (name, operation, doc) =>
    record(Object.assign({ event: 'foreignStateChange', client: label, thing: name, operation }, summary(doc))));
  shadow.on('timeout', (name, token) => record({ event: 'timeout', client: label, thing: name, token }));
  return shadow;
}

function register(client) {
  return new Promise((resolve, reject) => {
    client.register(thing, { ignoreDeltas: false, persistentSubscribe: true }, (err, failed) => {
      if (err || failed) {
        reject(new Error('register failed: ' + String(err) + ' ' + JSON.stringify(failed)));
        return;
      }
      record({ event: 'registered', client: client.label, thing });
      resolve();
    });
  });
}

// Starts an operation and waits for the status event carrying the token the SDK returned for it.
async function operation(client, op, document) {
  const from = events.length;
  let token;
  if (op === 'update') token = client.update(thing, document);
  else if (op === 'get') token = client.get(thing);
  else if (op === 'delete') token = client.delete(thing);
  emit({ event: 'operation', client: client.label, operation: op, token, request: document ? canonical(document) : undefined });
  if (token === null || token === undefined) throw new Error(op + ' was refused by the SDK (operation pending?)');
  return waitFor(op + ' status for ' + token,
    (e) => e.client === client.label && (e.event === 'status' || e.event === 'timeout') && e.token === token,
    8000, from);
}

// --- the emulator's admin command line ----------------------------------------------------------------------
function adminCommand(words) {
  const argv = admin.slice(1).concat(words).concat(['--timeout', '5']);
  // The admin program takes the broker options anywhere on the line; the shadow words go after them.
  return new Promise((resolve) => {
    execFile(admin[0], argv, { timeout: 10000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      let doc = null;
      try {
        doc = JSON.parse(stdout);
      } catch (e) {
        doc = null;
      }
      const line = emit(Object.assign({ event: 'admin', command: words.slice(0, 2).join(' '), exit: code },
        doc ? summary(doc) : {}, code !== 0 ? { stderr: stderr.trim() } : {}));
      resolve(line);
    });
  });
}

async function adminOk(words) {
  const line = await adminCommand(words);
  if (line.exit !== 0) throw new Error('admin ' + words.join(' ') + ' failed: ' + (line.stderr || ''));
  return line;
}

function step(name) {
  currentStep = name;
  emit({ event: 'step', name });
}

// True when every field of `want` (an object, possibly nested) has the same value in `have`.
function contains(have, want) {
  if (want === null || typeof want !== 'object') return canonical(have) === canonical(want);
  if (have === null || typeof have !== 'object') return false;
  return Object.keys(want).every((k) => contains(have[k], want[k]));
}

// --- scenarios --------------------------------------------------------------------------------------------
async function connectAndRegister(clients) {
  step('connect');
  await Promise.all(clients.map((c) => waitFor('connect of ' + c.label, (e) => e.event === 'connect' && e.client === c.label, 10000)));
  step('register');
  for (const c of clients) await register(c);
}

async function scenarioSdk() {
  const a = makeClient('a');
  const b = makeClient('b');
  await connectAndRegister([a, b]);

  step('get-missing');  // a new thing: 404 on /get/rejected, with a's token
  await operation(a, 'get');

  step('report-initial');  // creates the shadow: version 1
  await operation(a, 'update', { state: { reported: { power: 'off', color: 'white', brightness: 10 } } });
  await waitFor('foreign update on b', (e) => e.client === 'b' && e.event === 'foreignStateChange' && e.step === 'report-initial');

  step('desired-power');  // the cloud asks for power on: both clients get a delta
  let from = events.length;
  await adminOk(['shadow', 'set-desired', thing, '{"power":"on"}']);
  await waitFor('delta on a', (e) => e.client === 'a' && e.event === 'delta', 8000, from);
  await waitFor('delta on b', (e) => e.client === 'b' && e.event === 'delta', 8000, from);

  step('report-power');  // a applies it; b sees a's update as a foreign state change
  await operation(a, 'update', { state: { reported: { power: 'on' } } });
  await waitFor('foreign update on b', (e) => e.client === 'b' && e.event === 'foreignStateChange' && e.step === 'report-power');

  step('desired-color');
  from = events.length;
  await adminOk(['shadow', 'set-desired', thing, '{"color":"red","brightness":70}']);
  await waitFor('delta on a', (e) => e.client === 'a' && e.event === 'delta', 8000, from);

  step('report-color');
  await operation(a, 'update', { state: { reported: { color: 'red', brightness: 70 } } });

  step('get-a');
  await operation(a, 'get');
  step('get-b');
  await operation(b, 'get');
  step('get-admin');
  await adminOk(['shadow', 'get', thing]);

  step('delete');  // b sees a's delete as a foreign state change
  await operation(a, 'delete');
  await waitFor('foreign delete on b', (e) => e.client === 'b' && e.event === 'foreignStateChange' && e.step === 'delete');

  step('get-deleted');
  await operation(b, 'get');

  step('report-after-delete');  // re-created within 48 h: the version goes on from the deleted one
  await operation(a, 'update', { state: { reported: { power: 'off' } } });
  await waitFor('foreign update on b', (e) => e.client === 'b' && e.event === 'foreignStateChange' && e.step === 'report-after-delete');

  return [a, b];
}

async function scenarioLamp() {
  const desired = JSON.parse(args.desired || '{"power":"on","brightness":70}');
  const desired2 = args.desired2 ? JSON.parse(args.desired2) : null;
  const js = makeClient('js');
  await connectAndRegister([js]);

  // The device reports its state when it connects; it may have done so before this client subscribed, so
  // poll with gets until a reported section is there.
  step('wait-device-report');
  const until = Date.now() + 15000;
  for (;;) {
    const got = await operation(js, 'get');
    if (got.status === 'accepted' && got.reported !== undefined) break;
    if (Date.now() > until) throw new Error('the device never reported its state');
    await new Promise((r) => setTimeout(r, 300));
  }

  for (const [name, want] of [['desired-1', desired], ['desired-2', desired2]]) {
    if (!want) continue;
    step(name);
    const from = events.length;
    await adminOk(['shadow', 'set-desired', thing, JSON.stringify(want)]);
    await waitFor('delta on js', (e) => e.client === 'js' && e.event === 'delta', 8000, from);
    // The device applies the delta and reports; this client sees the device's update as foreign.
    await waitFor('the device reporting ' + JSON.stringify(want),
      (e) => e.client === 'js' && e.event === 'foreignStateChange' && e.operation === 'update' && e.reported !== undefined &&
        contains(JSON.parse(e.document).state.reported, want),
      10000, from);
  }

  // Let any trailing report settle before comparing the two views of the document.
  await new Promise((r) => setTimeout(r, 500));
  step('get-js');
  await operation(js, 'get');
  step('get-admin');
  await adminOk(['shadow', 'get', thing]);
  return [js];
}

// --- main -------------------------------------------------------------------------------------------------
let clients = [];
const overall = setTimeout(() => {
  emit({ event: 'failed', reason: 'scenario deadline of ' + deadlineMs + ' ms passed' });
  process.exit(1);
}, deadlineMs);

(async () => {
  emit({ event: 'sdk', version: require('aws-iot-device-sdk/package.json').version, node: process.version,
    script: path.basename(__filename) });
  if (args.scenario === 'sdk') clients = await scenarioSdk();
  else if (args.scenario === 'lamp') clients = await scenarioLamp();
  else throw new Error('unknown scenario ' + args.scenario);
})().then(
  () => {
    currentStep = 'end';
    for (const c of clients) c.end(false);
    emit({ event: 'done' });
    clearTimeout(overall);
    // end() closes the sockets; exit explicitly so a lingering reconnect timer cannot hold the process.
    setTimeout(() => process.exit(0), 200);
  },
  (e) => {
    emit({ event: 'failed', reason: e.message });
    process.exit(1);
  });
