import { createHash, randomBytes } from 'node:crypto';
import { verify } from '@node-rs/argon2';
import { eq } from 'drizzle-orm';
import type { Context, MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import { z } from 'zod';
import { AppError } from '../core/errors.js';
import type { Clock } from '../core/ports.js';
import type { Db } from '../db/client.js';
import { agents, agentSessions, auditLog } from '../db/schema.js';
import type { Actor } from './cases.js';
import { clearLoginAttempts, DEFAULT_LOGIN_THROTTLE, type LoginThrottlePolicy, reserveLoginAttempt } from './login-throttle.js';

export const SESSION_COOKIE = 'kefu_session';

/** `POST /api/auth/login` body. */
export const LoginRequest = z.object({ email: z.email().max(320), password: z.string().min(1).max(200) }).strict();
export type LoginRequest = z.infer<typeof LoginRequest>;

export interface AuthDeps {
  db: Db;
  clock: Clock;
  sessionTtlMs: number;
  /** Login attempt limits per account and per client address (default: DEFAULT_LOGIN_THROTTLE). */
  throttle?: LoginThrottlePolicy;
}

export type Role = Actor['role'];

export interface ConsoleEnv {
  Variables: { actor: Actor; sessionHash: string };
}

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

/**
 * Checks the password with argon2 and opens a session. Each attempt first reserves a slot in
 * login_throttle (one statement, so it holds across instances and under parallel guessing);
 * failed attempts are also audited.
 */
export async function login(deps: AuthDeps, input: LoginRequest, ip: string): Promise<{ token: string; actor: Actor; expiresAt: Date }> {
  const now = deps.clock.now();
  const email = input.email.trim().toLowerCase();
  const policy = deps.throttle ?? DEFAULT_LOGIN_THROTTLE;
  if (!(await reserveLoginAttempt(deps.db, { account: email, address: ip, now, policy }))) {
    throw new AppError('rate_limited', 'Too many failed logins; wait a few minutes and try again');
  }
  const [agent] = await deps.db.select().from(agents).where(eq(agents.email, email)).limit(1);
  const ok = agent !== undefined && agent.active && (await verify(agent.passwordHash, input.password));
  if (!agent || !ok) {
    await deps.db.insert(auditLog).values({
      actorType: 'anonymous',
      action: 'auth.login_failed',
      subjectType: 'agent_email',
      subjectId: email,
      data: { ip },
      createdAt: now,
    });
    throw new AppError('unauthorized', 'Email or password is wrong');
  }
  await clearLoginAttempts(deps.db, { account: email, address: ip });
  const token = `ks_${randomBytes(32).toString('base64url')}`;
  const expiresAt = new Date(now.getTime() + deps.sessionTtlMs);
  await deps.db.insert(agentSessions).values({ tokenHash: hashToken(token), agentId: agent.id, expiresAt, createdAt: now });
  await deps.db.insert(auditLog).values({
    actorType: 'agent',
    actorId: agent.id,
    action: 'auth.login',
    subjectType: 'agent',
    subjectId: agent.id,
    data: { ip },
    createdAt: now,
  });
  return { token, actor: { id: agent.id, name: agent.name, role: agent.role }, expiresAt };
}

/** Ends a session (idempotent). */
export async function logout(deps: AuthDeps, sessionHash: string, actor: Actor): Promise<void> {
  await deps.db.delete(agentSessions).where(eq(agentSessions.tokenHash, sessionHash));
  await deps.db.insert(auditLog).values({
    actorType: 'agent',
    actorId: actor.id,
    action: 'auth.logout',
    subjectType: 'agent',
    subjectId: actor.id,
    createdAt: deps.clock.now(),
  });
}

function tokenOf(c: Context): string | undefined {
  const header = c.req.header('authorization');
  if (header?.startsWith('Bearer ')) return header.slice(7).trim();
  return getCookie(c, SESSION_COOKIE);
}

/** Resolves the console user of a request, or null (no, unknown, expired or consumer token). */
export async function sessionActor(deps: AuthDeps, c: Context): Promise<{ actor: Actor; sessionHash: string } | null> {
  const token = tokenOf(c);
  // Console tokens start with ks_; a web chat consumer token (wc_…) never opens the console.
  if (!token || !token.startsWith('ks_')) return null;
  const sessionHash = hashToken(token);
  const [row] = await deps.db
    .select({ id: agents.id, name: agents.name, role: agents.role, active: agents.active, expiresAt: agentSessions.expiresAt })
    .from(agentSessions)
    .innerJoin(agents, eq(agents.id, agentSessions.agentId))
    .where(eq(agentSessions.tokenHash, sessionHash))
    .limit(1);
  if (!row || !row.active || row.expiresAt <= deps.clock.now()) return null;
  return { actor: { id: row.id, name: row.name, role: row.role }, sessionHash };
}

/** Middleware: refuses requests without a live console session, or whose role is not allowed. */
export function requireRole(deps: AuthDeps, roles: readonly Role[]): MiddlewareHandler<ConsoleEnv> {
  return async (c, next) => {
    const session = await sessionActor(deps, c);
    if (!session) throw new AppError('unauthorized', 'Log in to the console first (session missing, expired or not a console session)');
    if (!roles.includes(session.actor.role)) throw new AppError('forbidden', `This needs the role ${roles.join(' or ')}`);
    c.set('actor', session.actor);
    c.set('sessionHash', session.sessionHash);
    await next();
  };
}

export const STAFF: readonly Role[] = ['agent', 'manager', 'admin'];
export const MANAGERS: readonly Role[] = ['manager', 'admin'];
export const ADMINS: readonly Role[] = ['admin'];
