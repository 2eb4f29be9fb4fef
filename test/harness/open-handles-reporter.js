// @ts-check
/**
 * Fails the run, naming the culprit, when tests leave something open. On 2 cores jest runs the
 * files in its own process (in band), so one socket, child process or timer left behind keeps it
 * from exiting and CI waits out its limit with nothing that says why (a closed store client that
 * went on reconnecting every 2 s did that once). When the run is over this reporter lists what
 * still keeps the event loop alive: each handle with the file during which it appeared, each
 * timer by its delay and code (timers carry no file). jest.config.js sets forceExit, so the
 * process ends either way. With parallel workers the files ran elsewhere, and jest kills those.
 */
const inspector = require('node:inspector');

/** Handles that keep the loop alive (unref'd ones do not). */
function liveHandles() {
  const all = /** @type {any} */ (process)._getActiveHandles();
  return new Set(
    all.filter((/** @type {any} */ h) => typeof h.hasRef !== 'function' || h.hasRef()),
  );
}

/** @param {any} handle */
function describeHandle(handle) {
  if (handle.constructor?.name === 'ChildProcess') {
    return `child process ${handle.pid} (${(handle.spawnargs ?? []).join(' ').slice(0, 120)})`;
  }
  if (typeof handle.remotePort === 'number') {
    return `socket to ${handle.remoteAddress}:${handle.remotePort}`;
  }
  if (typeof handle.address === 'function' && handle.listening) {
    return `server listening on ${JSON.stringify(handle.address())}`;
  }
  return handle.constructor?.name ?? typeof handle;
}

function anyTimer() {
  return process.getActiveResourcesInfo().includes('Timeout');
}

/**
 * The live timers found on the heap through the in-process inspector (Node keeps no public list
 * of them) that were not there at the start: `mark` notes those alive now, otherwise each one not
 * marked is described by its delay and the first lines of its callback.
 * @param {boolean} mark
 * @returns {Promise<string[]>}
 */
async function newTimers(mark) {
  const session = new inspector.Session();
  session.connect();
  /** @type {(method: string, params?: object) => Promise<any>} */
  const post = (method, params) =>
    new Promise((resolve, reject) =>
      session.post(method, params, (err, result) => (err ? reject(err) : resolve(result))),
    );
  try {
    const proto = await post('Runtime.evaluate', {
      expression: 'Object.getPrototypeOf(setTimeout(() => {}, 0).unref())',
    });
    const found = await post('Runtime.queryObjects', { prototypeObjectId: proto.result.objectId });
    const described = await post('Runtime.callFunctionOn', {
      objectId: found.objects.objectId,
      arguments: [{ value: mark }],
      returnByValue: true,
      functionDeclaration: `function (mark) {
        const seen = Symbol.for('holdfast.open-handles-reporter.seen');
        const live = this.filter((t) => !t._destroyed && t.hasRef() && !t[seen]);
        if (mark) return live.map((t) => (t[seen] = true) && '');
        return live.map((t) =>
          t._idleTimeout + ' ms timer' + (t._repeat ? ' (repeating)' : '') + ': ' +
          String(t._onTimeout).split('\\n').slice(0, 3).map((l) => l.trim()).join(' ').slice(0, 160));
      }`,
    });
    return described.result.value;
  } finally {
    session.disconnect();
  }
}

class OpenHandlesReporter {
  constructor() {
    /** @type {Map<unknown, string>} handle -> the file during which it appeared */
    this.origin = new Map();
    this.before = liveHandles();
    /** @type {Error | undefined} */
    this.error = undefined;
  }

  async onRunStart() {
    if (anyTimer()) await newTimers(true);
  }

  onTestFileStart() {
    this.before = liveHandles();
  }

  /** @param {{ path: string }} test */
  onTestFileResult(test) {
    if (process.env.JEST_WORKER_ID === undefined) return; // parallel: the file ran in a worker
    for (const handle of liveHandles()) {
      if (!this.before.has(handle) && !this.origin.has(handle)) this.origin.set(handle, test.path);
    }
  }

  async onRunComplete() {
    if (process.env.JEST_WORKER_ID === undefined) return;
    // Sockets and servers that were closing as the last file ended get a moment to finish.
    // A ref'd timer: with nothing else alive, an unref'd one would let the process end here,
    // before jest prints its summary and sets the exit code.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const lines = [];
    const now = liveHandles();
    for (const [handle, file] of this.origin) {
      if (now.has(handle)) lines.push(`${file}: left ${describeHandle(handle)} open`);
    }
    if (anyTimer()) lines.push(...(await newTimers(false)));
    if (lines.length === 0) return;
    this.error = new Error(
      `tests left these running after their files ended:\n  ${lines.join('\n  ')}`,
    );
    console.error(`\nholdfast tests: ${this.error.message}\n`);
  }

  getLastError() {
    return this.error;
  }
}

module.exports = OpenHandlesReporter;
