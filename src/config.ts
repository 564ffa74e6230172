import { z } from 'zod';

/** How the service reaches its database: embedded PGlite (a directory or memory) or PostgreSQL. */
export const DatabaseTarget = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('pglite'), dataDir: z.string().nullable() }),
  z.object({ kind: z.literal('postgres'), url: z.string() }),
]);
export type DatabaseTarget = z.infer<typeof DatabaseTarget>;

/** Parses DATABASE_URL: absent → ./data, `pglite://memory`, `pglite://<dir>`, `postgres://…`. */
export function parseDatabaseUrl(raw: string | undefined): DatabaseTarget {
  if (raw === undefined || raw.trim() === '') return { kind: 'pglite', dataDir: './data' };
  if (raw.startsWith('pglite://')) {
    const rest = raw.slice('pglite://'.length);
    if (rest === 'memory' || rest === '') return { kind: 'pglite', dataDir: null };
    return { kind: 'pglite', dataDir: rest };
  }
  if (raw.startsWith('postgres://') || raw.startsWith('postgresql://')) return { kind: 'postgres', url: raw };
  throw new Error('must start with postgres://, postgresql:// or pglite://');
}

const bool = z.enum(['true', 'false']).transform((v) => v === 'true');
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v));

const EnvSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('0.0.0.0'),
  DATABASE_URL: optionalString,
  PUBLIC_URL: z.url().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_MESSAGE_TEXT: bool.default(false),
  DEMO_MODE: bool.optional(),
  SEED_ON_EMPTY: bool.default(true),
  /** The local intent model's artefact (`kefu intents train` writes it); `off` = rules, then the LLM. Default: flows/intent-model.json. */
  INTENT_MODEL: optionalString,
  OPENAI_API_KEY: optionalString,
  OPENAI_BASE_URL: optionalString.pipe(z.url().optional()),
  OPENAI_MODEL: z.string().default('gpt-4o-mini'),
  OPENAI_TIMEOUT_MS: z.coerce.number().int().positive().default(4000),
  OPENAI_RESPONSE_FORMAT: z.enum(['json_schema', 'json_object']).default('json_schema'),
  WEBCHAT_IDENTITY_SECRET: optionalString,
  /** Origins (comma-separated, or *) of host pages that may embed the web chat widget and call its API. */
  WEBCHAT_ALLOWED_ORIGINS: z.string().default(''),
  /** Largest photo or PDF a consumer may send. */
  ATTACHMENT_MAX_BYTES: z.coerce.number().int().positive().default(10 * 1024 * 1024),
  /** Set: files consumers send go to this S3-compatible bucket instead of PostgreSQL. */
  ATTACHMENT_S3_BUCKET: optionalString,
  /** An S3-compatible server (MinIO, Ceph, R2, OSS, COS); unset = AWS S3. */
  ATTACHMENT_S3_ENDPOINT: optionalString.pipe(z.url().optional()),
  ATTACHMENT_S3_REGION: z.string().min(1).default('us-east-1'),
  ATTACHMENT_S3_PREFIX: z.string().regex(/^[\w./-]*$/, 'letters, digits, _ . / - only').default('attachments/'),
  /** Unset (both): the SDK's default chain (AWS_* variables, profile, instance role). */
  ATTACHMENT_S3_ACCESS_KEY_ID: optionalString,
  ATTACHMENT_S3_SECRET_ACCESS_KEY: optionalString,
  /** Path-style URLs (`endpoint/bucket/key`); most S3-compatible servers need them. Default: on with an endpoint. */
  ATTACHMENT_S3_FORCE_PATH_STYLE: bool.optional(),
  TELEGRAM_BOT_TOKEN: optionalString,
  TELEGRAM_WEBHOOK_SECRET: optionalString,
  TELEGRAM_MODE: z.enum(['webhook', 'polling', 'off']).optional(),
  SMTP_LISTEN_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  SMTP_URL: optionalString,
  EMAIL_WEBHOOK_SECRET: optionalString,
  EMAIL_FROM: optionalString,
  /** authserv-ids (comma-separated) of receiving servers whose Authentication-Results DMARC verdict proves an email sender. */
  EMAIL_TRUSTED_AUTHSERV_ID: optionalString.transform((v) => (v ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '')),
  /** Messages per hour that only claim to be from an address (an email From) which the bot still answers, per address. */
  CLAIMED_REPLIES_PER_HOUR: z.coerce.number().int().min(0).default(5),
  /** Bearer token for GET /metrics (Prometheus); unset = no metrics endpoint. */
  METRICS_TOKEN: optionalString,
  OUTBOX_POLL_MS: z.coerce.number().int().positive().default(500),
  OUTBOX_MAX_ATTEMPTS: z.coerce.number().int().positive().default(8),
  /** Bot turns one instance runs at once; unset: 24 on PostgreSQL, 8 on PGlite (one connection, in this process). */
  BOT_MAX_CONCURRENT_TURNS: z.coerce.number().int().positive().max(64).optional(),
  /** Bot turns at once while messages arrive faster than the CPU keeps up (intake comes first then). */
  BOT_TURNS_UNDER_PRESSURE: z.coerce.number().int().positive().max(64).default(2),
  /** Bot turns inside a transaction at once; below the pool's 10 connections, so intake keeps some when a payment API is slow. */
  BOT_TURNS_IN_TRANSACTION: z.coerce.number().int().positive().max(64).default(6),
  SESSION_TTL_HOURS: z.coerce.number().positive().default(12),
  /** This many refunds by one customer within REFUND_REVIEW_WINDOW_DAYS send the next refund to an agent. */
  REFUND_REVIEW_COUNT: z.coerce.number().int().positive().default(3),
  REFUND_REVIEW_WINDOW_DAYS: z.coerce.number().int().positive().default(30),
  /** A refund request of at least this many cents goes to an agent. */
  REFUND_REVIEW_AMOUNT_CENTS: z.coerce.number().int().positive().default(50_000),
  /** The platform's order and refund API (docs/order-api.md); unset = our own tables. */
  ORDER_API_URL: optionalString.pipe(z.url().optional()),
  ORDER_API_TOKEN: optionalString,
  ORDER_API_TIMEOUT_MS: z.coerce.number().int().positive().default(5000),
  SLA_FIRST_RESPONSE_MINUTES: z.coerce.number().positive().default(60),
  SLA_RESOLUTION_HOURS: z.coerce.number().positive().default(24),
  /** Share of a deadline after which the owner is warned. */
  SLA_WARNING_RATIO: z.coerce.number().gt(0).lt(1).default(0.8),
  FOLLOWUP_DAYS: z.coerce.number().int().min(0).default(3),
  /** Complaints per order above which the dashboard highlights a merchant. */
  COMPLAINT_RATE_THRESHOLD: z.coerce.number().min(0).max(1).default(0.05),
  /** Personal data in messages older than this many days is masked by a durable timer; unset = kept. */
  RETENTION_DAYS: z.coerce.number().int().positive().optional(),
  TIMER_POLL_MS: z.coerce.number().int().positive().default(5000),
  /** Timers fired at once on PostgreSQL, each in its own transaction (PGlite fires one at a time). */
  TIMER_CONCURRENCY: z.coerce.number().int().min(1).max(32).default(4),
  /** PGlite only: how often tables are checked for VACUUM and ANALYZE (PGlite has no autovacuum). */
  PGLITE_MAINTENANCE_MS: z.coerce.number().int().positive().default(10_000),
  /** The header a trusted reverse proxy puts the client address in (x-forwarded-for, x-real-ip, …); unset = the socket's peer. */
  TRUST_PROXY: optionalString.pipe(z.string().regex(/^[A-Za-z0-9-]+$/, 'must be a header name such as x-forwarded-for').optional()),
  /** Time zone of the dates the console shows (an IANA name). */
  CONSOLE_TIME_ZONE: z
    .string()
    .default('Asia/Shanghai')
    .refine((tz) => {
      try {
        new Intl.DateTimeFormat('en', { timeZone: tz });
        return true;
      } catch {
        return false;
      }
    }, 'an IANA time zone such as Asia/Shanghai'),
  /** Platform studio: a draft's author may not publish it (someone else must). */
  STUDIO_FOUR_EYES: bool.default(false),
  /** Signs merchant response links (HMAC); unset = demo secret in demo mode, else merchants are not mailed. */
  MERCHANT_LINK_SECRET: optionalString,
  /** How long a merchant has to answer a complaint; reminded at MERCHANT_REMINDER_RATIO of it. */
  MERCHANT_RESPONSE_HOURS: z.coerce.number().positive().default(24),
  MERCHANT_REMINDER_RATIO: z.coerce.number().gt(0).lt(1).default(0.8),
  /** Largest photo a merchant may attach (bytes); at most MERCHANT_PHOTO_MAX_COUNT of them. */
  MERCHANT_PHOTO_MAX_BYTES: z.coerce.number().int().positive().default(1_000_000),
  MERCHANT_PHOTO_MAX_COUNT: z.coerce.number().int().min(0).max(10).default(3),
  /** How often an approved refund's payment status is read until it is paid. */
  REFUND_STATUS_POLL_MINUTES: z.coerce.number().positive().default(30),
  /** Compensation above this many cents needs a manager's approval. */
  COMPENSATION_CAP_CENTS: z.coerce.number().int().min(0).default(20_000),
});

/** Validated service configuration; the only place that reads process.env. */
export type Config = Omit<z.infer<typeof EnvSchema>, 'DATABASE_URL' | 'DEMO_MODE'> & {
  database: DatabaseTarget;
  demoMode: boolean;
  publicUrl: string;
};

/** A readable list of everything wrong with the environment. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses an environment (process.env by default) into a Config, or throws ConfigError. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  const problems: string[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      problems.push(`${issue.path.join('.') || '(root)'}: ${issue.message}`);
    }
  }
  let database: DatabaseTarget | undefined;
  try {
    database = parseDatabaseUrl(env.DATABASE_URL);
  } catch (err) {
    problems.push(`DATABASE_URL: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (parsed.success) {
    const e = parsed.data;
    if (e.TELEGRAM_MODE && e.TELEGRAM_MODE !== 'off' && !e.TELEGRAM_BOT_TOKEN) {
      problems.push('TELEGRAM_BOT_TOKEN: required when TELEGRAM_MODE is webhook or polling');
    }
    if (e.TELEGRAM_MODE === 'webhook' && !e.TELEGRAM_WEBHOOK_SECRET) {
      problems.push('TELEGRAM_WEBHOOK_SECRET: required when TELEGRAM_MODE is webhook');
    }
    if (!e.ATTACHMENT_S3_ACCESS_KEY_ID !== !e.ATTACHMENT_S3_SECRET_ACCESS_KEY) {
      problems.push('ATTACHMENT_S3_ACCESS_KEY_ID, ATTACHMENT_S3_SECRET_ACCESS_KEY: set both or neither');
    }
    if (!e.ATTACHMENT_S3_BUCKET && (e.ATTACHMENT_S3_ENDPOINT || e.ATTACHMENT_S3_ACCESS_KEY_ID)) {
      problems.push('ATTACHMENT_S3_BUCKET: required when another ATTACHMENT_S3_ variable is set');
    }
    if (e.ORDER_API_URL && !e.ORDER_API_TOKEN) {
      problems.push('ORDER_API_TOKEN: required when ORDER_API_URL is set');
    }
  }
  if (!parsed.success || database === undefined || problems.length > 0) throw new ConfigError(problems);
  const { DATABASE_URL: _url, DEMO_MODE, ...rest } = parsed.data;
  return {
    ...rest,
    database,
    // Demo mode (demo customer picker, printed demo accounts) is on for the embedded default.
    demoMode: DEMO_MODE ?? database.kind === 'pglite',
    publicUrl: rest.PUBLIC_URL ?? `http://localhost:${rest.PORT}`,
  };
}
