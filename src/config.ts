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
  TELEGRAM_BOT_TOKEN: optionalString,
  TELEGRAM_WEBHOOK_SECRET: optionalString,
  TELEGRAM_MODE: z.enum(['webhook', 'polling', 'off']).optional(),
  SMTP_LISTEN_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  SMTP_URL: optionalString,
  EMAIL_WEBHOOK_SECRET: optionalString,
  EMAIL_FROM: optionalString,
  OUTBOX_POLL_MS: z.coerce.number().int().positive().default(500),
  OUTBOX_MAX_ATTEMPTS: z.coerce.number().int().positive().default(8),
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
  TIMER_POLL_MS: z.coerce.number().int().positive().default(5000),
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
