import { randomUUID } from 'node:crypto';
import { type Context, Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { AppError } from '../core/errors.js';
import type { Logger } from '../logger.js';
import { isTransientError } from '../core/transient.js';
import { type CsrfOptions, csrfProtection } from './csrf.js';
import { securityHeaders } from './security-headers.js';
import { errorResponse } from './errors.js';
import { healthRoutes, type HealthDeps } from './health-routes.js';

export type AppDeps = HealthDeps &
  // Channels bring their own routes and pages: they arrive in `mounts` like every other feature.
  {
    logger: Logger;
    maxBodyBytes?: number;
    /** Feature routes (channels' webhooks, console, admin) mounted at their path. */
    mounts?: { path: string; app: Hono<any> }[];
    /** Exact paths under /api exempt from the JSON body limit because they enforce their own. */
    rawBodyPaths?: string[];
    /** Cross-site request refusal for cookie-authenticated state changes (see csrf.ts). */
    csrf?: CsrfOptions;
    /** CSP frame-ancestors of the web chat page (default 'self'); every other page: 'none'. */
    webchatFrameAncestors?: string;
  };

export interface AppEnv {
  Variables: { requestId: string; log: Logger };
}

/** What a 503 tells clients to wait before retrying. */
export const RETRY_AFTER_SECONDS = 5;

/** Builds the HTTP app from its dependencies; no module-level state. */
export function createApp(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.use('*', async (c, next) => {
    const requestId = c.req.header('x-request-id')?.slice(0, 100) || randomUUID();
    const log = deps.logger.child({ requestId });
    c.set('requestId', requestId);
    c.set('log', log);
    c.header('x-request-id', requestId);
    const started = performance.now();
    await next();
    log.info(
      { method: c.req.method, path: c.req.path, status: c.res.status, ms: Math.round(performance.now() - started) },
      'request.done',
    );
  });

  if (deps.csrf) app.use('*', csrfProtection(deps.csrf));
  app.use(
    '*',
    securityHeaders({
      frameAncestors: (path) => (path === '/' ? (deps.webchatFrameAncestors ?? "'self'") : "'none'"),
    }),
  );

  const maxBody = deps.maxBodyBytes ?? 64 * 1024;
  const tooLarge = (c: Context) => errorResponse(c, new AppError('payload_too_large', `Request body is larger than ${maxBody} bytes`));
  const jsonBodyLimit = bodyLimitByLength(maxBody, tooLarge, bodyLimit({ maxSize: maxBody, onError: tooLarge }));
  // Routes that take raw uploads (raw MIME email) set their own, larger limit.
  app.use('/api/*', (c, next) => (deps.rawBodyPaths?.includes(c.req.path) ? next() : jsonBodyLimit(c, next)));

  app.route('/', healthRoutes(deps));
  for (const mount of deps.mounts ?? []) app.route(mount.path, mount.app);

  app.notFound((c) => errorResponse(c, new AppError('not_found', `No route for ${c.req.method} ${c.req.path}`)));
  app.onError((err, c) => {
    if (err instanceof AppError) return errorResponse(c, err);
    if (err instanceof HTTPException) {
      const code = err.status === 401 ? 'unauthorized' : err.status === 413 ? 'payload_too_large' : 'bad_request';
      return errorResponse(c, new AppError(code, err.message || 'Bad request'));
    }
    if (isTransientError(err)) {
      // The database (or another dependency) is away: say so at once, and when to come back.
      c.get('log')?.warn({ err }, 'request.unavailable');
      c.header('Retry-After', String(RETRY_AFTER_SECONDS));
      return errorResponse(c, new AppError('unavailable', 'The service cannot reach its database right now; try again shortly'));
    }
    c.get('log')?.error({ err }, 'request.failed');
    return errorResponse(c, new AppError('internal', 'Internal error; it has been logged'));
  });
  return app;
}

/**
 * hono's bodyLimit, deciding by Content-Length without touching the body. hono's first asks
 * `raw.body` whether there is one, and on Node that builds a whole web Request with a stream of the
 * socket: 12 % of the CPU of a message flood, for a JSON body read directly afterwards. A request
 * with a Content-Length and no Transfer-Encoding is decided by that header, as hono decides it; a
 * chunked one goes through hono's, which counts the bytes as they come.
 */
function bodyLimitByLength(maxSize: number, onError: (c: Context) => Response, streaming: MiddlewareHandler): MiddlewareHandler {
  return async (c, next) => {
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    const length = c.req.header('content-length');
    if (length === undefined || c.req.header('transfer-encoding') !== undefined) return streaming(c, next);
    if (Number.parseInt(length, 10) > maxSize) return onError(c);
    return next();
  };
}
