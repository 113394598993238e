/**
 * A local SCF: runs the very zips the stack deploys, each instance in its own worker thread with
 * only the function's environment and the platform's variables, warm reuse, a per-function instance
 * limit with a FIFO queue, timeouts that kill the instance, and hot swap of code or configuration.
 *
 * WebSocket web functions (`type: 'HTTP'`, `protocolType: 'WS'`) run otherwise: one process per
 * connection, started by {@link LocalScf.connect} for the gateway (see web-function.ts).
 */
import { createHash, randomUUID } from 'node:crypto';
import { access, copyFile, mkdir, readdir, realpath, rename, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, totalmem } from 'node:os';
import path from 'node:path';
import type { FunctionRef, InvocationResult, Invoker } from '../invoker';
import { type PlatformFacts, type RoleCredentials, LATEST, instanceEnvironment, invocationContext, shadowedVariables } from './environment';
import { describeError } from '../coded-error';
import { ScfError } from './errors';
import { parseHandler } from './handler';
import { Instance, InstanceStartError, type RunOutcome } from './instance';
import type { Stream } from './output';
import { type Gauge, InstancePool } from './pool';
import {
  type ConfigurationChange,
  DEFAULT_INIT_TIMEOUT_SECONDS,
  DEFAULT_NAMESPACE,
  DEFAULT_WS_IDLE_TIMEOUT_SECONDS,
  type FunctionSpec,
  type NormalizedSpec,
  applyChange,
  isWebFunction,
  normalizeSpec,
  sameConfiguration,
} from './spec';
import { unpackZip } from './unpack';
import { type WebConnectResult, WebInstances, type WebVersionConfig, defaultMaxWebInstances } from './web-function';
import { WebInstanceStartError } from './web-instance';
import { readJsonFile, writePrivateJsonFile } from '../json-file';

export type { ConfigurationChange, FunctionSpec, FunctionType } from './spec';
export { isWebFunction } from './spec';
export { WebStatus, type WebConnectResult, type WebSession } from './web-function';
export type { RoleCredentials } from './environment';
export { ScfError, type ScfErrorCode } from './errors';

export interface LocalScfOptions {
  /**
   * Folder where zips are unpacked (one subfolder per code hash); created if missing. A package.json
   * marking it CommonJS is written there when it has none, so bundles load as on SCF even when the
   * folder sits in an ESM project.
   */
  workDir: string;
  /** Role credentials injected as TENCENTCLOUD_SECRETID / TENCENTCLOUD_SECRETKEY / TENCENTCLOUD_SESSIONTOKEN. */
  credentials: RoleCredentials;
  /** Region injected as TENCENTCLOUD_REGION (and the context's `tencentcloud_region`). */
  region?: string;
  /**
   * Variables added to every instance, over the function's own (e.g. the local COS store's
   * `LOCAL_COS_DOMAIN`, which the deployed stack does not carry); the injected credentials and
   * `SCF_*` variables still win over them.
   */
  platformEnvironment?: Record<string, string>;
  /** Most instances of one function running at once (default {@link DEFAULT_MAX_INSTANCES}: twice the cores, at least 4); further invocations wait for a free one. */
  maxInstancesPerFunction?: number;
  /**
   * Most web-function instances (processes, one per connection) running at once, over all
   * functions; a connection beyond it is refused. Default {@link DEFAULT_MAX_WEB_INSTANCES}.
   */
  maxWebInstances?: number;
  /** How long a web-function instance lives on after its connection ended, before SIGTERM. Default 1000 ms. */
  webLingerMs?: number;
  /** Web-function instances starting at once; further starts wait in arrival order. Default twice the cores. */
  maxWebStarts?: number;
  /** Where log lines go (default: process.stdout/stderr); each line prefixed `[<function> <request id>]`. */
  log?: (line: string, stream: Stream) => void;
  /**
   * A file that keeps the deployed functions across restarts, as SCF keeps them: their
   * configuration, and their code copied into `code/` beside it (the build folder holds only the
   * newest zips). Rewritten after every change; {@link LocalScf.restore} deploys what it holds.
   * Default: nothing kept.
   */
  stateFile?: string;
}

/** What the state file holds. */
interface SavedFunctions {
  version: 1;
  functions: NormalizedSpec[];
}

/** A deployed function as {@link LocalScf.getFunction} shows it. */
export type FunctionInfo = NormalizedSpec & {
  status: 'Active';
  /** Hex SHA-256 of the zip's bytes. */
  codeSha256: string;
  /** ISO time of the last change of code or configuration. */
  updatedAt: string;
};

/** Instance counts, cold starts and invocations of one function. */
export interface FunctionStats {
  /** Live instances, including old versions' still finishing an invocation. */
  instances: number;
  busy: number;
  coldStarts: number;
  invocations: number;
}

/** Code and configuration: what one set of instances runs. */
interface Version {
  spec: NormalizedSpec;
  codeSha256: string;
  codeRoot: string;
  handlerFile: string;
  exportName: string;
}

interface Deployed {
  version: Version;
  updatedAt: string;
  /** The version's instances; none for a web function, whose instances are one per connection. */
  pool: InstancePool | undefined;
  gauge: Gauge;
  counters: { coldStarts: number; invocations: number };
}

/**
 * Each instance is a V8 isolate with its own compiled code and heap: past the machine's cores,
 * more of them only spread the same work thinner (on 2 cores, 10 instances took 10-45% more CPU
 * per connect than 4).
 */
export const DEFAULT_MAX_INSTANCES = Math.max(4, 2 * availableParallelism());
/** The default of {@link LocalScfOptions.maxWebInstances}: by the machine's memory, at least 256. */
export const DEFAULT_MAX_WEB_INSTANCES = defaultMaxWebInstances(totalmem());
/** What a web function runs: `node index.js` (its `scf_bootstrap` does the same on SCF). */
const WEB_ENTRY = 'index.js';
const WEB_BOOTSTRAP = 'scf_bootstrap';
/** Label of output written by the instance that checks a handler at deploy. */
const DEPLOY_LABEL = 'deploy';

export class LocalScf implements Invoker {
  readonly #workDir: string;
  readonly #credentials: RoleCredentials;
  readonly #region: string | undefined;
  readonly #platformEnvironment: Record<string, string>;
  readonly #maxInstances: number;
  readonly #log: (line: string, stream: Stream) => void;
  readonly #functions = new Map<string, Deployed>();
  /** Every pool with instances: current versions, old ones draining, and deploy checks. */
  readonly #pools = new Set<InstancePool>();
  /** Management calls per function, run one after another so the last deploy wins. */
  readonly #queues = new Map<string, Promise<unknown>>();
  #stopping: Promise<void> | undefined;
  readonly #stateFile: string | undefined;
  readonly #web: WebInstances;

  constructor(options: LocalScfOptions) {
    if (!options.credentials?.secretId || !options.credentials.secretKey) {
      throw new ScfError('ERR_BAD_SPEC', 'LocalScf needs credentials with a secretId and a secretKey to inject into instances');
    }
    const max = options.maxInstancesPerFunction ?? DEFAULT_MAX_INSTANCES;
    if (!Number.isInteger(max) || max < 1) throw new ScfError('ERR_BAD_SPEC', `maxInstancesPerFunction must be a whole number from 1, not ${max}`);
    this.#workDir = path.resolve(options.workDir);
    this.#credentials = { ...options.credentials };
    this.#region = options.region;
    this.#platformEnvironment = { ...options.platformEnvironment };
    this.#maxInstances = max;
    this.#log = options.log ?? ((line, stream) => (stream === 'stderr' ? process.stderr : process.stdout).write(line + '\n'));
    this.#stateFile = options.stateFile;
    const maxWeb = options.maxWebInstances ?? DEFAULT_MAX_WEB_INSTANCES;
    if (!Number.isInteger(maxWeb) || maxWeb < 1) throw new ScfError('ERR_BAD_SPEC', `maxWebInstances must be a whole number from 1, not ${maxWeb}`);
    this.#web = new WebInstances({
      maxInstances: maxWeb,
      lingerMs: options.webLingerMs,
      maxConcurrentStarts: options.maxWebStarts,
      emit: (name, label, line, stream) => this.#emit(name, label, line, stream),
    });
  }

  /**
   * Deploys the functions the state file holds, as they were (code and configuration). Returns
   * their names. A function whose stored code is gone is left out, with a log line.
   */
  async restore(): Promise<string[]> {
    if (!this.#stateFile) return [];
    const saved = readJsonFile<SavedFunctions>(this.#stateFile);
    if (!saved) return [];
    if (saved.version !== 1 || !Array.isArray(saved.functions))
      throw new ScfError('ERR_BAD_SPEC', `${this.#stateFile} is not a function list this version knows`);
    // Code no saved function uses any more (replaced by later deploys) is dropped.
    const kept = new Set(saved.functions.map((spec) => path.resolve(spec.zipPath)));
    const store = codeStoreOf(this.#stateFile);
    for (const file of await readdir(store).catch(() => [] as string[])) {
      if (file.endsWith('.zip') && !kept.has(path.join(store, file))) await rm(path.join(store, file), { force: true });
    }
    const restored: string[] = [];
    for (const spec of saved.functions) {
      try {
        await this.deploy(spec);
        restored.push(spec.name);
      } catch (err) {
        if (!(err instanceof ScfError) || err.code !== 'ERR_BAD_ZIP') throw err;
        this.#emit(spec.name, DEPLOY_LABEL, `not restored: ${err.message}`, 'stderr');
      }
    }
    return restored;
  }

  /**
   * Creates or replaces a function (new code and/or configuration): new invocations use the new
   * version at once; idle old instances are stopped, busy ones finish their invocation and are
   * stopped. The handler is loaded once in a throwaway instance first, so a broken build fails here
   * and the previous version keeps serving. Deploying the same bytes and configuration again
   * changes nothing (warm instances stay).
   * @throws ScfError `ERR_BAD_SPEC`, `ERR_BAD_ZIP`, `ERR_BAD_HANDLER` (no such file or export),
   *   `ERR_INIT_FAILED` (the file threw while loading), `ERR_STOPPED`.
   */
  deploy(spec: FunctionSpec): Promise<void> {
    let normalized: NormalizedSpec;
    try {
      normalized = normalizeSpec(spec);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#serialized(keyOf(normalized.name, normalized.namespace), () => this.#deployNow(normalized));
  }

  /**
   * Cloud API CreateFunction: deploys a new function from a zip's bytes (kept in `uploads/` of the
   * work folder, and in the code store when there is a state file), as {@link deploy} does.
   * @throws ScfError `ERR_FUNCTION_EXISTS` when one of that name is in the namespace, and what {@link deploy} throws.
   */
  createFunction(spec: Omit<FunctionSpec, 'zipPath'>, zip: Uint8Array): Promise<void> {
    let normalized: NormalizedSpec;
    try {
      normalized = normalizeSpec({ ...spec, zipPath: '(upload)' });
    } catch (err) {
      return Promise.reject(err);
    }
    const key = keyOf(normalized.name, normalized.namespace);
    return this.#serialized(key, async () => {
      this.#assertRunning();
      if (this.#functions.has(key)) {
        throw new ScfError('ERR_FUNCTION_EXISTS', `function ${normalized.name} already exists in namespace ${normalized.namespace}`);
      }
      normalized.zipPath = await this.#saveUpload(zip);
      await this.#deployNow(normalized);
    });
  }

  /**
   * Cloud API UpdateFunctionCode: new code from a zip's bytes, the configuration kept.
   * @throws ScfError `ERR_FUNCTION_NOT_FOUND`, and what {@link deploy} throws.
   */
  updateCode(name: string, namespace: string, zip: Uint8Array): Promise<void> {
    const key = keyOf(name, namespace);
    return this.#serialized(key, async () => {
      this.#assertRunning();
      const current = this.#functions.get(key);
      if (!current) throw notFoundError(name, namespace);
      await this.#deployNow({ ...current.version.spec, environment: { ...current.version.spec.environment }, zipPath: await this.#saveUpload(zip) });
    });
  }

  async #saveUpload(zip: Uint8Array): Promise<string> {
    const dir = path.join(this.#workDir, 'uploads');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const file = path.join(dir, `${createHash('sha256').update(zip).digest('hex').slice(0, 32)}.zip`);
    await writeFile(file, zip, { mode: 0o600 });
    return file;
  }

  async #deployNow(normalized: NormalizedSpec): Promise<void> {
    this.#assertRunning();
    const code = await unpackZip(normalized.zipPath, this.#workDir, normalized.name);
    if (this.#stateFile) normalized.zipPath = await storeCode(normalized.zipPath, code.codeSha256, codeStoreOf(this.#stateFile));
    const shown = () => {
      const files = code.files.length > 10 ? [...code.files.slice(0, 10), '…'] : code.files;
      return files.length ? files.join(', ') : 'no files';
    };
    const web = isWebFunction(normalized);
    let entry: { file: string; exportName: string };
    if (web) {
      // SCF starts a web function from scf_bootstrap; locally it runs node index.js, which the bootstrap runs.
      const absent = [WEB_BOOTSTRAP, WEB_ENTRY].filter((file) => !code.files.includes(file));
      if (absent.length) {
        throw new ScfError(
          'ERR_BAD_HANDLER',
          `web function ${normalized.name} needs ${absent.join(' and ')} at the top of its zip ${normalized.zipPath} (it holds ${shown()})`,
        );
      }
      entry = { file: WEB_ENTRY, exportName: '' };
    } else {
      entry = parseHandler(normalized.handler);
      if (!code.files.includes(entry.file)) {
        throw new ScfError(
          'ERR_BAD_HANDLER',
          `function ${normalized.name}: handler ${normalized.handler} needs ${entry.file}, which is not in ${normalized.zipPath} (it holds ${shown()})`,
        );
      }
    }
    const key = keyOf(normalized.name, normalized.namespace);
    const current = this.#functions.get(key);
    if (current && current.version.codeSha256 === code.codeSha256 && sameConfiguration(current.version.spec, normalized)) {
      current.version.spec.zipPath = normalized.zipPath;
      this.#save();
      return;
    }
    if (current && isWebFunction(current.version.spec) !== web) {
      throw new ScfError('ERR_BAD_SPEC', `function ${normalized.name}: its type and protocol type are fixed at creation; delete it and create it anew`);
    }
    // Module paths are compared with the code root in the instance, and Node resolves symlinks.
    const codeRoot = await realpath(code.directory);
    const version: Version = {
      spec: normalized,
      codeSha256: code.codeSha256,
      codeRoot,
      handlerFile: path.join(codeRoot, ...entry.file.split('/')),
      exportName: entry.exportName,
    };
    await this.#check(version);
    this.#assertRunning();
    const shadowed = shadowedVariables(normalized.environment, this.#facts(version));
    if (shadowed.length) {
      this.#emit(normalized.name, DEPLOY_LABEL, `reserved environment variables ignored (the platform sets them): ${shadowed.join(', ')}`, 'stderr');
    }
    this.#install(key, version);
    this.#save();
  }

  /**
   * Changes the configuration as Cloud API UpdateFunctionConfiguration does: `environment` is the
   * whole new list. Instances are swapped as {@link deploy} does.
   * @throws ScfError `ERR_FUNCTION_NOT_FOUND`, `ERR_BAD_SPEC`, `ERR_STOPPED`.
   */
  updateConfiguration(name: string, namespace: string, change: ConfigurationChange): Promise<void> {
    const key = keyOf(name, namespace);
    return this.#serialized(key, async () => {
      this.#assertRunning();
      const current = this.#functions.get(key);
      if (!current) throw notFoundError(name, namespace);
      const spec = applyChange(current.version.spec, change);
      if (sameConfiguration(current.version.spec, spec)) return;
      this.#install(key, { ...current.version, spec });
      this.#save();
    });
  }

  /** The current spec and state, or undefined. A copy: changing it changes nothing. */
  getFunction(name: string, namespace = DEFAULT_NAMESPACE): FunctionInfo | undefined {
    const deployed = this.#functions.get(keyOf(name, namespace));
    return deployed && describe(deployed);
  }

  /** Every function, by namespace then name. */
  listFunctions(): FunctionInfo[] {
    return [...this.#functions.values()].map(describe).sort((a, b) => compare(a.namespace, b.namespace) || compare(a.name, b.name));
  }

  /**
   * Removes a function: it is not found from now on; invocations in flight finish first.
   * @throws ScfError `ERR_FUNCTION_NOT_FOUND`.
   */
  deleteFunction(name: string, namespace = DEFAULT_NAMESPACE): Promise<void> {
    const key = keyOf(name, namespace);
    return this.#serialized(key, async () => {
      const deployed = this.#functions.get(key);
      if (!deployed) throw notFoundError(name, namespace);
      this.#functions.delete(key);
      this.#save();
      // a web function's open connections keep their instances until they end
      await deployed.pool?.retire();
    });
  }

  /**
   * Runs one invocation on a warm instance, a new one, or the next one freed. Never throws: every
   * failure is a result (`not-found` also for a qualifier other than `$LATEST`).
   * @param options.requestId default: a random UUID, as SCF's request ids are.
   */
  async invoke(fn: FunctionRef, event: unknown, options: { requestId?: string } = {}): Promise<InvocationResult> {
    const started = performance.now();
    const durationMs = () => Math.round((performance.now() - started) * 100) / 100;
    const requestId = options.requestId ?? randomUUID();
    const fail = (kind: Exclude<InvocationResult, { ok: true }>['kind'], message: string): InvocationResult => ({
      ok: false,
      kind,
      message,
      durationMs: durationMs(),
    });
    try {
      const namespace = fn.namespace || DEFAULT_NAMESPACE;
      if (this.#stopping) return fail('not-found', `function ${fn.name}: the local SCF runtime is stopped`);
      if (fn.qualifier !== LATEST) {
        return fail('not-found', `function ${fn.name} has no version or alias ${fn.qualifier} (only ${LATEST} runs locally)`);
      }
      let eventJson: string;
      try {
        eventJson = JSON.stringify(event) ?? 'null';
      } catch (err) {
        return fail('error', `the event for ${fn.name} is not JSON: ${describeError(err)}`);
      }
      let counted = false;
      for (;;) {
        const deployed = this.#functions.get(keyOf(fn.name, namespace));
        if (!deployed) return fail('not-found', `function ${fn.name} not found in namespace ${namespace}`);
        if (!deployed.pool) {
          return fail('error', `function ${fn.name} is a WebSocket web function: it serves connections through API Gateway, not events`);
        }
        if (!counted) deployed.counters.invocations++;
        counted = true;
        // the version is read with the pool: a deploy may swap both while this one waits
        const { version } = deployed;
        const pool = deployed.pool;
        let lease;
        try {
          lease = await pool.acquire(requestId);
        } catch (err) {
          if (!(err instanceof InstanceStartError)) throw err;
          const message =
            err.reason === 'load-failed' || err.reason === 'missing-export' ? `function ${fn.name} failed to initialize: ${err.message}` : err.message;
          this.#emit(fn.name, requestId, err.detailStack ?? message, 'stderr');
          return fail(err.kind, message);
        }
        if (!lease) continue; // replaced or deleted while waiting: ask again
        if (lease.coldStartMs !== undefined) {
          deployed.counters.coldStarts++;
          this.#emit(fn.name, requestId, `cold start: ${Math.round(lease.coldStartMs)} ms`, 'stdout');
        }
        const context = invocationContext(requestId, this.#facts(version));
        const outcome: RunOutcome = await lease.instance.run(requestId, eventJson, context, version.spec.timeoutSeconds);
        pool.release(lease.instance);
        if (outcome.ok) return { ok: true, value: outcome.value, durationMs: durationMs() };
        this.#emit(fn.name, requestId, outcome.kind === 'error' ? (outcome.stack ?? outcome.message) : outcome.message, 'stderr');
        return fail(outcome.kind, outcome.message);
      }
    } catch (err) {
      return fail('error', `the local SCF runtime failed to invoke ${fn.name}: ${describeError(err)}`);
    }
  }

  /**
   * Starts an instance of a WebSocket web function for one connection: a new process on a free
   * port, ready once the port accepts connections (the cold start is logged). The session's
   * socket is connected to it; {@link WebSession.end} ends the invocation. Never throws.
   * @param options.requestId default: a random UUID
   */
  async connect(fn: FunctionRef, options: { requestId?: string } = {}): Promise<WebConnectResult> {
    const requestId = options.requestId ?? randomUUID();
    const namespace = fn.namespace || DEFAULT_NAMESPACE;
    if (this.#stopping) return { ok: false, kind: 'not-found', message: `function ${fn.name}: the local SCF runtime is stopped` };
    if (fn.qualifier !== LATEST) {
      return { ok: false, kind: 'not-found', message: `function ${fn.name} has no version or alias ${fn.qualifier} (only ${LATEST} runs locally)` };
    }
    const deployed = this.#functions.get(keyOf(fn.name, namespace));
    if (!deployed) return { ok: false, kind: 'not-found', message: `function ${fn.name} not found in namespace ${namespace}` };
    if (deployed.pool) {
      return { ok: false, kind: 'not-web', message: `function ${fn.name} is an event function, not a WebSocket web function (Type HTTP, ProtocolType WS)` };
    }
    deployed.counters.invocations++;
    const result = await this.#web.open(this.#webConfig(deployed.version), requestId, deployed.gauge);
    if (result.ok) deployed.counters.coldStarts++;
    return result;
  }

  #webConfig(version: Version): WebVersionConfig {
    const { name, memoryMb, timeoutSeconds, environment, wsIdleTimeoutSeconds, initTimeoutSeconds } = version.spec;
    return {
      functionName: name,
      codeRoot: version.codeRoot,
      entry: WEB_ENTRY,
      env: instanceEnvironment(environment, this.#facts(version)),
      memoryMb,
      timeoutSeconds,
      idleTimeoutSeconds: wsIdleTimeoutSeconds ?? DEFAULT_WS_IDLE_TIMEOUT_SECONDS,
      initTimeoutSeconds: initTimeoutSeconds ?? DEFAULT_INIT_TIMEOUT_SECONDS,
    };
  }

  /** Web-function instances running now, over all functions. */
  webInstances(): number {
    return this.#web.count;
  }

  /** Instance counts, cold starts and invocations, for logs and tests; zeros for an unknown function. */
  stats(name: string, namespace = DEFAULT_NAMESPACE): FunctionStats {
    const deployed = this.#functions.get(keyOf(name, namespace));
    if (!deployed) return { instances: 0, busy: 0, coldStarts: 0, invocations: 0 };
    return { ...deployed.gauge, ...deployed.counters };
  }

  /** Terminates every instance (invocations in flight end as crashes); later calls find nothing. Safe twice. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#functions.clear();
      await Promise.all([...[...this.#pools].map((pool) => pool.terminateAll('the local SCF runtime stopped')), this.#web.stop()]);
    })();
    return this.#stopping;
  }

  /** Loads the handler once in an instance of its own, so a deploy fails on a missing export. */
  async #check(version: Version): Promise<void> {
    if (isWebFunction(version.spec)) return this.#checkWeb(version);
    const pool = this.#newPool(version, { instances: 0, busy: 0 }, 1);
    try {
      const lease = await pool.acquire(DEPLOY_LABEL);
      if (!lease) throw new ScfError('ERR_STOPPED', 'the local SCF runtime stopped during the deploy');
    } catch (err) {
      if (!(err instanceof InstanceStartError)) throw err;
      if (this.#stopping) throw new ScfError('ERR_STOPPED', 'the local SCF runtime stopped during the deploy', { cause: err });
      const { name, handler } = version.spec;
      if (err.reason === 'missing-export') {
        throw new ScfError('ERR_BAD_HANDLER', `function ${name}: handler ${handler}: ${err.message}`, { cause: err });
      }
      throw new ScfError('ERR_INIT_FAILED', `function ${name}: loading ${handler} failed: ${err.message}`, { cause: err });
    } finally {
      await pool.terminateAll('checked');
    }
  }

  /** Starts a web function's instance once: a deploy of code that does not listen on PORT fails. */
  async #checkWeb(version: Version): Promise<void> {
    try {
      await this.#web.check(this.#webConfig(version), DEPLOY_LABEL);
    } catch (err) {
      if (!(err instanceof WebInstanceStartError)) throw err;
      if (this.#stopping) throw new ScfError('ERR_STOPPED', 'the local SCF runtime stopped during the deploy', { cause: err });
      throw new ScfError('ERR_INIT_FAILED', err.message, { cause: err });
    }
  }

  /** Makes `version` the one new invocations run, and retires the previous one. */
  #install(key: string, version: Version): void {
    const current = this.#functions.get(key);
    const gauge = current?.gauge ?? { instances: 0, busy: 0 };
    const pool = isWebFunction(version.spec) ? undefined : this.#newPool(version, gauge, this.#maxInstances);
    const updatedAt = new Date().toISOString();
    if (current) {
      const previous = current.pool;
      Object.assign(current, { version, pool, updatedAt });
      void previous?.retire();
    } else {
      this.#functions.set(key, { version, pool, gauge, updatedAt, counters: { coldStarts: 0, invocations: 0 } });
    }
  }

  #newPool(version: Version, gauge: Gauge, maxInstances: number): InstancePool {
    const { name, memoryMb, timeoutSeconds, environment } = version.spec;
    const env = instanceEnvironment(environment, this.#facts(version));
    const pool: InstancePool = new InstancePool({
      maxInstances,
      gauge,
      start: (label, signal) =>
        Instance.start(
          { functionName: name, codeRoot: version.codeRoot, handlerFile: version.handlerFile, exportName: version.exportName, env, memoryMb },
          (line, stream, current) => this.#emit(name, current, line, stream),
          // SCF limits initialization separately; here loading gets as long as an invocation
          { label, timeoutMs: timeoutSeconds * 1000, signal },
        ),
      onDrained: () => this.#pools.delete(pool),
    });
    this.#pools.add(pool);
    return pool;
  }

  #facts(version: Version): PlatformFacts {
    const { name, namespace, memoryMb, timeoutSeconds, runtime } = version.spec;
    return {
      name,
      namespace,
      memoryMb,
      timeoutSeconds,
      runtime,
      region: this.#region,
      credentials: this.#credentials,
      codeRoot: version.codeRoot,
      extra: this.#platformEnvironment,
    };
  }

  #emit(name: string, label: string, text: string, stream: Stream): void {
    for (const line of text.split('\n')) this.#log(`[${name} ${label}] ${line}`, stream);
  }

  #save(): void {
    if (!this.#stateFile) return;
    const saved: SavedFunctions = { version: 1, functions: [...this.#functions.values()].map((d) => d.version.spec) };
    writePrivateJsonFile(this.#stateFile, saved);
  }

  #assertRunning(): void {
    if (this.#stopping) throw new ScfError('ERR_STOPPED', 'the local SCF runtime is stopped');
  }

  #serialized<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#queues.get(key) ?? Promise.resolve();
    const next = previous.then(task, task);
    const settled = next.catch(() => undefined);
    this.#queues.set(key, settled);
    void settled.then(() => {
      if (this.#queues.get(key) === settled) this.#queues.delete(key);
    });
    return next;
  }
}

/** Copies a zip into the code store once per content, as SCF keeps uploaded code; returns the copy's path. */
async function storeCode(zipPath: string, sha256: string, store: string): Promise<string> {
  const stored = path.join(store, `${sha256.slice(0, 32)}.zip`);
  if (path.resolve(zipPath) === stored) return stored;
  try {
    await access(stored);
  } catch {
    await mkdir(path.dirname(stored), { recursive: true, mode: 0o700 });
    const tmp = `${stored}.${process.pid}.tmp`;
    await copyFile(zipPath, tmp);
    await rename(tmp, stored);
  }
  return stored;
}

/** Where the code of the functions a state file lists is kept: `code/` beside it. */
function codeStoreOf(stateFile: string): string {
  return path.join(path.dirname(path.resolve(stateFile)), 'code');
}

function keyOf(name: string, namespace: string): string {
  return `${namespace || DEFAULT_NAMESPACE}/${name}`;
}

function describe(deployed: Deployed): FunctionInfo {
  const { spec, codeSha256 } = deployed.version;
  return { ...spec, environment: { ...spec.environment }, status: 'Active', codeSha256, updatedAt: deployed.updatedAt };
}

function notFoundError(name: string, namespace: string): ScfError {
  return new ScfError('ERR_FUNCTION_NOT_FOUND', `function ${name} not found in namespace ${namespace || DEFAULT_NAMESPACE}`);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
