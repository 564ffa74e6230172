import { eq } from 'drizzle-orm';
import { expect } from 'vitest';
import { signCustomerId } from '../../channels/webchat/index.js';
import { type HandoffInput, openHandoff } from '../../src/actions/handoff.js';
import { conversations, messages } from '../../src/db/schema.js';
import { DEMO_PASSWORD } from '../../src/db/seed.js';
import type { Service } from '../../src/service.js';
import { call } from './service.js';

export const IDENTITY_SECRET = 'console-test-secret';

/** Logs a demo console account in through the API; returns its bearer token and agent. */
export async function loginAs(service: Service, email: string): Promise<{ token: string; agent: { id: string; name: string; role: string } }> {
  const res = await call(service, 'POST', '/api/auth/login', { body: { email, password: DEMO_PASSWORD } });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return { token: res.body.token, agent: res.body.agent };
}

/** A consumer's web chat session (signed identity) for a demo customer. */
export async function webchatSession(service: Service, customerId: string): Promise<string> {
  const res = await call(service, 'POST', '/api/webchat/sessions', {
    body: { customerId, signature: signCustomerId(customerId, IDENTITY_SECRET) },
  });
  expect(res.status).toBe(201);
  return res.body.token;
}

/**
 * The consumer writes in the web chat and the conversation is handed to humans. Until the flow
 * engine turns "I want a person" into a handoff, the handoff is opened directly with openHandoff.
 */
export async function consumerAsksForPerson(
  service: Service,
  customerId: string,
  options: { now: Date; text?: string; reason?: HandoffInput['reason']; priority?: number },
): Promise<{ token: string; conversationId: string }> {
  const token = await webchatSession(service, customerId);
  const sent = await call(service, 'POST', '/api/webchat/messages', {
    token,
    body: { clientMessageId: `ask-${Math.random().toString(36).slice(2)}`, text: options.text ?? '我要找人工客服' },
  });
  expect(sent.status).toBe(202);
  await service.settle();
  const db = service.database.db;
  const [row] = await db
    .select({ conversationId: messages.conversationId, status: conversations.status })
    .from(messages)
    .innerJoin(conversations, eq(conversations.id, messages.conversationId))
    .where(eq(messages.id, sent.body.messageId));
  expect(row).toBeDefined();
  const conversationId = row!.conversationId;
  if (row!.status !== 'waiting' || options.reason !== undefined) {
    await db.transaction((tx) =>
      openHandoff(tx, { conversationId, reason: options.reason ?? 'customer_request', priority: options.priority ?? 0, slots: {} }, options.now),
    );
  }
  return { token, conversationId };
}
