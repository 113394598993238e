/**
 * The shape of `config/app.json`, validated with zod. Stages override any of the defaults.
 */
import { z } from 'zod';
import { REGION_SHORT_NAMES } from './regions';

const int = (min: number, max: number) => z.number().int().min(min).max(max);

/** An environment variable name: a reference to a secret, never the secret itself. */
const envVarName = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_]{1,63}$/, 'must be an environment variable name (a letter, then letters, digits or _)')
  .refine((n) => !/^(TENCENTCLOUD_|SCF_|QCLOUD_|TF_)/i.test(n), 'must not use a reserved prefix (TENCENTCLOUD_, SCF_, QCLOUD_, TF_)');

/**
 * SCF memory in MB. The provider refuses anything but a multiple of 128 ("should be with 128M as the
 * ladder", its `mem_size` validation; PLATFORM.md section 3); its range check is commented out, so
 * the bounds are checked here: 128 (the smallest multiple, and the provider's default) to SCF's 3072.
 */
export const MEMORY_MB = { min: 128, max: 3072, step: 128 } as const;

const memoryMb = z
  .number()
  .int({ error: 'must be a whole number of MB', abort: true })
  .refine((m) => m >= MEMORY_MB.min && m <= MEMORY_MB.max && m % MEMORY_MB.step === 0, {
    error: (issue) => `must be a multiple of ${MEMORY_MB.step} from ${MEMORY_MB.min} to ${MEMORY_MB.max} (SCF memory sizes), got ${String(issue.input)}`,
  });

const region = z.string().refine((r) => r in REGION_SHORT_NAMES, {
  error: (issue) => `unknown region "${String(issue.input)}"; known: ${Object.keys(REGION_SHORT_NAMES).join(', ')}`,
});

/** How the app meets its clients: `event` (three functions behind the gateway's events) or `web` (one web function per connection). */
export const MODES = ['event', 'web'] as const;
export type Mode = (typeof MODES)[number];

/**
 * TencentDB for Redis instance types the web mode takes: the standard architecture only, whose one
 * node serves PUBLISH and SUBSCRIBE for every channel (ids from the provider's `type_id` and the
 * SDK's `CreateInstancesRequest.TypeId`: 6 = 4.0, 8 = 5.0, 15 = 6.2, 17 = 7.0; 2 = 2.8 and the CKV
 * types are left out, as is every cluster type).
 */
export const REDIS_STANDARD_TYPES = { 6: 'Redis 4.0', 8: 'Redis 5.0', 15: 'Redis 6.2', 17: 'Redis 7.0' } as const;

/**
 * Redis memory in MB: the SDK's `CreateInstancesRequest.MemSize` "must be a multiple of 1024", so
 * 1024 (1 GB) is the smallest standard-architecture instance.
 */
export const REDIS_MEMORY_MB = { min: 1024, max: 65_536, step: 1024 } as const;

const redisMemoryMb = z
  .number()
  .int({ error: 'must be a whole number of MB', abort: true })
  .refine((m) => m >= REDIS_MEMORY_MB.min && m <= REDIS_MEMORY_MB.max && m % REDIS_MEMORY_MB.step === 0, {
    error: (issue) =>
      `must be a multiple of ${REDIS_MEMORY_MB.step} from ${REDIS_MEMORY_MB.min} to ${REDIS_MEMORY_MB.max} (TencentDB for Redis sizes), got ${String(issue.input)}`,
  });

/** An availability zone, `<region>-<number>`, e.g. `ap-guangzhou-3`. */
const zone = z.string().regex(/^[a-z]+-[a-z]+-\d{1,2}$/, 'must be an availability zone such as ap-guangzhou-3');

/** An IPv4 CIDR block, e.g. `10.0.0.0/16`. */
const cidr = z.string().regex(/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/, 'must be an IPv4 CIDR block such as 10.0.0.0/16');

/** The Redis a web-mode stack declares (TencentDB for Redis in the stack's VPC). */
const redisSchema = z
  .object({
    /** A standard-architecture type id (see {@link REDIS_STANDARD_TYPES}). */
    typeId: z.union(Object.keys(REDIS_STANDARD_TYPES).map((id) => z.literal(Number(id))) as [z.ZodLiteral<number>, ...z.ZodLiteral<number>[]], {
      error: (issue) =>
        `must be a standard-architecture type: ${Object.entries(REDIS_STANDARD_TYPES)
          .map(([id, name]) => `${id} (${name})`)
          .join(', ')}; got ${JSON.stringify(issue.input)} (cluster types shard pub/sub channels)`,
    }),
    /** Total memory in MB: a multiple of 1024. */
    memSizeMb: redisMemoryMb,
    /** Replicas besides the master (the provider takes 1-5). */
    replicas: int(1, 5),
    /** The environment variable holding the password, never the password (a sensitive Terraform variable of that name). */
    passwordEnv: envVarName,
    /** The availability zone per region, for the subnet and the instance; over the built-in ones (config/regions.ts). */
    zones: z
      .record(region, zone)
      .superRefine((zones, ctx) => {
        for (const [r, z] of Object.entries(zones)) {
          if (!z.startsWith(`${r}-`)) ctx.addIssue({ code: 'custom', path: [r], message: `${z} is not a zone of ${r}` });
        }
      })
      .default({}),
  })
  .strict();

export type RedisSettings = z.infer<typeof redisSchema>;

/** Settings every stack has; the defaults, then each stage's overrides. */
export const settingsSchema = z
  .object({
    /** API Gateway environment the service is released to. */
    environment: z.enum(['release', 'prepub', 'test']),
    /** The WebSocket API's path. */
    path: z.string().regex(/^\/[A-Za-z0-9/_.-]*$/, 'must start with / and hold only letters, digits, / _ . -'),
    functions: z
      .object({
        /** SCF memory in MB: a multiple of 128 from 128 to 3072. */
        memoryMb: memoryMb,
        timeoutSeconds: int(1, 900),
      })
      .strict(),
    push: z
      .object({
        concurrency: int(1, 1024),
        timeoutMs: int(100, 60_000),
      })
      .strict(),
    /** No frame either way for this long closes a connection (gateway limit 10-7200 s). */
    idleTimeoutSeconds: int(10, 7200),
    /** Registry objects older than this are expired by COS, since a cleanup may never come. */
    registryExpiryDays: int(1, 3650),
    /** Rooms: how much history each keeps, for how long, and up to what size presence is announced. */
    rooms: z
      .object({
        /** Messages each room keeps (0 keeps none). */
        historySize: int(0, 1000),
        /** Days after which COS expires a kept message, however few the room has. */
        historyExpiryDays: int(1, 3650),
        /** Rooms with more connections than this get `online` counts but no presence events (Pusher's presence channels stop at 100). */
        presenceLimit: int(0, 100_000),
      })
      .strict()
      .default({ historySize: 100, historyExpiryDays: 7, presenceLimit: 100 }),
    /** Admission by shared-secret token; the secret is read from the named environment variable at deploy. */
    admission: z.object({ secretEnv: envVarName }).strict().nullable().optional(),
    /** `event` (the default) or `web`. */
    mode: z.enum(MODES, { error: (issue) => `must be ${MODES.join(' or ')}, got ${JSON.stringify(issue.input)}` }).default('event'),
    /** Web mode's Redis; event mode ignores it. */
    redis: redisSchema.default({ typeId: 15, memSizeMb: 1024, replicas: 1, passwordEnv: 'CHAT_REDIS_PASSWORD', zones: {} }),
    /** Web mode's function. */
    web: z
      .object({
        /**
         * The web function's execution timeout: a connection lasts at most this long (status 433).
         * Seed 002: it must be at least the idle timeout.
         */
        timeoutSeconds: int(1, 7200),
      })
      .strict()
      .default({ timeoutSeconds: 900 }),
    /** Web mode's private network: the VPC and the one subnet the function and Redis share. */
    vpc: z.object({ cidr, subnetCidr: cidr }).strict().default({ cidr: '10.0.0.0/16', subnetCidr: '10.0.1.0/24' }),
  })
  .strict();

export type Settings = z.infer<typeof settingsSchema>;

/** What an app or a stage may set over the defaults. */
const overrides = {
  environment: settingsSchema.shape.environment.optional(),
  path: settingsSchema.shape.path.optional(),
  functions: settingsSchema.shape.functions.partial().optional(),
  push: settingsSchema.shape.push.partial().optional(),
  idleTimeoutSeconds: settingsSchema.shape.idleTimeoutSeconds.optional(),
  registryExpiryDays: settingsSchema.shape.registryExpiryDays.optional(),
  rooms: settingsSchema.shape.rooms.unwrap().partial().optional(),
  admission: settingsSchema.shape.admission,
  mode: settingsSchema.shape.mode.unwrap().optional(),
  redis: redisSchema.partial().optional(),
  web: settingsSchema.shape.web.unwrap().partial().optional(),
  vpc: settingsSchema.shape.vpc.unwrap().partial().optional(),
};

const stageSchema = z
  .object({
    regions: z
      .array(region)
      .min(1, 'needs at least one region')
      .refine((rs) => new Set(rs).size === rs.length, 'lists a region twice'),
    ...overrides,
  })
  .strict();

export type StageConfig = z.infer<typeof stageSchema>;

/** An app: the module that defines it, and settings of its own over the defaults (a stage's win over both). */
const appSchema = z
  .object({
    /** The module whose default export is `defineApp(...)`, relative to the project root. */
    entry: z.string().regex(/^[A-Za-z0-9_./-]+\.ts$/, 'must be a .ts file relative to the project root, e.g. functions/chat/app.ts'),
    /** Extra environment variables for the app's functions (never secrets: they are in the stack). */
    variables: z
      .record(
        z
          .string()
          .regex(/^[A-Za-z][A-Za-z0-9_]{1,63}$/, 'must be an environment variable name')
          .refine((n) => !/^(TENCENTCLOUD_|SCF_|QCLOUD_)/.test(n), 'uses a prefix SCF reserves'),
        z.string(),
      )
      .optional(),
    ...overrides,
  })
  .strict();

export type AppEntryConfig = z.infer<typeof appSchema>;

export const configSchema = z
  .object({
    $schema: z.string().optional(),
    /**
     * The apps, by name; the first is the default. A name prefixes every resource name of its
     * stacks (`<app>-<stage>-<region short>`).
     */
    apps: z
      .record(z.string().regex(/^[a-z][a-z0-9]{1,11}$/, 'app names are 2-12 lowercase letters or digits, starting with a letter'), appSchema)
      .refine((a) => Object.keys(a).length > 0, 'needs at least one app'),
    defaults: settingsSchema,
    stages: z
      .record(z.string().regex(/^[a-z][a-z0-9]{0,9}$/, 'stage names are 1-10 lowercase letters or digits, starting with a letter'), stageSchema)
      .refine((s) => Object.keys(s).length > 0, 'needs at least one stage'),
  })
  .strict();

export type AppConfig = z.infer<typeof configSchema>;
