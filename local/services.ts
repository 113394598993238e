/**
 * The local services as one unit: the COS store, the SCF runtime, the API gateway and the Cloud
 * API, started in the order they depend on each other and stopped in the reverse, each keeping
 * what it holds in its own folder of the data folder; and, for web-mode stacks, Redis, started
 * only when the stack asks for one. The local cloud applies a stack to them.
 */
import path from 'node:path';
import { LocalCloudApi } from './cloud-api/server';
import { CosServerThread } from './cos/thread';
import { randomCredential, type LocalCredential } from './credentials';
import { LocalGateway } from './gateway/gateway';
import type { GatewayLimits } from './gateway/limits';
import { LocalRedis } from './redis/server';
import { LocalScf } from './scf/runtime';

export interface LocalServicesOptions {
  /** The data folder: `cos/`, `scf/`, `gateway/` below it. */
  dataDir: string;
  /** The stack whose functions and APIs the SCF runtime and gateway keep (one stack per data set). */
  stack: string;
  region: string;
  /** 0 picks a free port. */
  ports: { gateway: number; cos: number; cloudApi: number };
  limits?: Partial<GatewayLimits>;
  maxInstancesPerFunction?: number;
  /** Web-function instances (one process per connection) running at once. */
  maxWebInstances?: number;
  /** The `redis-server` binary, a path or a name on the PATH. Default `redis-server`. */
  redisBinary?: string;
  /** Further keys the COS store accepts (a script's standing key). */
  cosCredentials?: LocalCredential[];
  /** Variables every function instance gets on top of its own (LOG_LEVEL, LOG_IDS). */
  platformEnvironment?: Record<string, string>;
  /** Whether the gateway logs whole connection ids. */
  logFullIds?: boolean;
  /** Further keys the Cloud API accepts, besides the {@link LocalServices.user} it makes. */
  cloudApiCredentials?: LocalCredential[];
  log: (line: string) => void;
}

/** Running services; {@link LocalServices.start} makes one. */
export class LocalServices {
  private constructor(
    readonly cos: CosServerThread,
    readonly scf: LocalScf,
    readonly gateway: LocalGateway,
    readonly cloudApi: LocalCloudApi,
    /** The deploying user's key for the Cloud API, new on every start. */
    readonly user: LocalCredential,
    /**
     * Redis for web-mode stacks, one server per stack with its data in `<dataDir>/redis/<stack>/`:
     * `redis.ensure(stack, { password })` starts it (or finds it running) and gives `{ host, port }`.
     * Nothing runs until a stack asks, so event mode never starts one.
     */
    readonly redis: LocalRedis,
  ) {}

  /** Starts all four (Redis waits to be asked); whatever started is stopped again when one fails. */
  static async start(options: LocalServicesOptions): Promise<LocalServices> {
    const started: Array<{ stop(): Promise<void> }> = [];
    try {
      const redis = new LocalRedis({ directory: path.join(options.dataDir, 'redis'), binary: options.redisBinary, log: (line) => options.log(line) });
      started.push(redis);
      // Temporary role credentials, new on every start, as STS would hand out.
      const role = randomCredential({ temporary: true });
      const cos = new CosServerThread({
        directory: path.join(options.dataDir, 'cos'),
        port: options.ports.cos,
        credentials: [role, ...(options.cosCredentials ?? [])],
      });
      await cos.start();
      started.push(cos);
      const scf = new LocalScf({
        workDir: path.join(options.dataDir, 'scf'),
        credentials: role,
        region: options.region,
        maxInstancesPerFunction: options.maxInstancesPerFunction,
        maxWebInstances: options.maxWebInstances,
        platformEnvironment: { LOCAL_COS_DOMAIN: cos.domain, ...options.platformEnvironment },
        log: (line) => options.log(line),
        // What was deployed stays deployed across restarts, as in the cloud. Kept per stack: one
        // local cloud runs one stack, on one gateway port.
        stateFile: path.join(options.dataDir, 'scf', 'stacks', options.stack, 'functions.json'),
      });
      started.unshift(scf);
      await scf.restore();
      const gateway = new LocalGateway({
        port: options.ports.gateway,
        invoker: scf,
        web: scf,
        limits: options.limits,
        log: (line) => options.log(line),
        logFullIds: options.logFullIds,
        stateFile: path.join(options.dataDir, 'gateway', `${options.stack}.json`),
      });
      await gateway.start();
      started.unshift(gateway);
      const user = randomCredential();
      const cloudApi = new LocalCloudApi({
        port: options.ports.cloudApi,
        credentials: [user, ...(options.cloudApiCredentials ?? [])],
        gateway,
        scf,
        log: (line) => options.log(line),
      });
      await cloudApi.start();
      return new LocalServices(cos, scf, gateway, cloudApi, user, redis);
    } catch (err) {
      for (const service of started) await service.stop().catch(() => undefined);
      throw err;
    }
  }

  /** Stops everything, in the reverse order of start. */
  async stop(): Promise<void> {
    await this.cloudApi.stop();
    // The gateway closes connections and runs their cleanups, which need the SCF and COS.
    await this.gateway.stop();
    await this.scf.stop();
    // after the instances, which use it until they are gone
    await this.redis.stop();
    await this.cos.stop();
  }
}
