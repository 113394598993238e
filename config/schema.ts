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
