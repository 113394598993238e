/**
 * One SCF instance, run in its own worker thread by `instance.ts`. Plain CommonJS so a cold start
 * needs no TypeScript loader.
 *
 * Loads the handler's file once (later invocations find it warm), then answers messages:
 *   in:  {type: 'invoke', requestId, eventJson, context, deadline}
 *   out: {type: 'ready'} | {type: 'init-error', reason: 'missing-export' | 'load-failed', error}
 *        {type: 'result', requestId, ok: true, json} | {type: 'result', requestId, ok: false, error}
 * where error is {name, message, stack}.
 */
'use strict';
const Module = require('node:module');
const path = require('node:path');
const { parentPort, workerData } = require('node:worker_threads');

const { codeRoot, handlerFile, exportName } = workerData;

// Bare requires must resolve inside the code package, as on SCF, not from node_modules folders
// above the work folder (the host project's). _nodeModulePaths is internal, hence the guard.
const nodeModulePaths = Module._nodeModulePaths;
if (typeof nodeModulePaths === 'function') {
  const inside = (folder) => folder === codeRoot || folder.startsWith(codeRoot + path.sep);
  Module._nodeModulePaths = function (from) {
    return nodeModulePaths.call(this, from).filter(inside);
  };
}

/** Structured-clone-safe description of anything thrown. */
function describe(err) {
  if (err instanceof Error) {
    return { name: err.name, message: err.message, stack: typeof err.stack === 'string' ? err.stack : undefined };
  }
  let message;
  try {
    message = typeof err === 'string' ? err : (JSON.stringify(err) ?? String(err));
  } catch {
    message = String(err);
  }
  return { name: 'Error', message, stack: undefined };
}

// Streams written to since the last flush: flushing costs a round trip, so quiet invocations skip it.
const written = new Set();
const originalWrite = new Map();
for (const stream of [process.stdout, process.stderr]) {
  const write = stream.write.bind(stream);
  originalWrite.set(stream, write);
  stream.write = (...args) => {
    written.add(stream);
    return write(...args);
  };
}

/** Resolves once everything written so far has reached the runtime, so log lines keep their request id. */
function flush(stream) {
  if (!written.delete(stream)) return Promise.resolve();
  return new Promise((resolve) => originalWrite.get(stream)('', () => resolve()));
}

/**
 * Calls the handler as SCF's Node.js runtime does: an async (or promise-returning) handler answers
 * with its result; one declaring a third parameter may answer through `callback(err, value)`;
 * any other answers with what it returns.
 */
function callHandler(handler, event, context) {
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (fn, value) => {
      if (settled) return;
      settled = true;
      fn(value);
    };
    const callback = (err, value) => (err != null ? settle(reject, err) : settle(resolve, value));
    let returned;
    try {
      returned = handler(event, context, callback);
    } catch (err) {
      settle(reject, err);
      return;
    }
    if (returned && typeof returned.then === 'function') {
      returned.then(
        (value) => settle(resolve, value),
        (err) => settle(reject, err),
      );
    } else if (handler.length < 3) {
      settle(resolve, returned);
    }
  });
}

let handler;

async function invoke({ requestId, eventJson, context, deadline }) {
  let reply;
  try {
    Object.defineProperty(context, 'getRemainingTimeInMillis', {
      value: () => Math.max(0, deadline - Date.now()),
      enumerable: false,
    });
    const value = await callHandler(handler, JSON.parse(eventJson), context);
    let json;
    try {
      // SCF answers JSON: undefined (and functions) become null
      json = JSON.stringify(value) ?? 'null';
    } catch (err) {
      throw new TypeError(`the handler's result is not JSON: ${describe(err).message}`, { cause: err });
    }
    reply = { type: 'result', requestId, ok: true, json };
  } catch (err) {
    reply = { type: 'result', requestId, ok: false, error: describe(err) };
  }
  await Promise.all([flush(process.stdout), flush(process.stderr)]);
  parentPort.postMessage(reply);
}

// Listening first keeps the thread alive after an init error until the runtime terminates it.
parentPort.on('message', (message) => {
  if (message && message.type === 'invoke') void invoke(message);
});

async function init() {
  let answer;
  try {
    const exported = require(handlerFile);
    handler = exported == null ? undefined : exported[exportName];
    if (typeof handler !== 'function') {
      const names = exported && typeof exported === 'object' ? Object.keys(exported) : [];
      const file = path.relative(codeRoot, handlerFile).split(path.sep).join('/');
      const has = names.length ? `it exports ${names.join(', ')}` : 'it exports nothing';
      answer = {
        type: 'init-error',
        reason: 'missing-export',
        error: { name: 'Error', message: `${file} has no exported function ${exportName} (${has})`, stack: undefined },
      };
    } else {
      answer = { type: 'ready' };
    }
  } catch (err) {
    answer = { type: 'init-error', reason: 'load-failed', error: describe(err) };
  }
  await Promise.all([flush(process.stdout), flush(process.stderr)]);
  parentPort.postMessage(answer);
}

void init();
