import { eq } from 'drizzle-orm';
import { Hono } from 'hono';
import { z } from 'zod';
import type { RefundGateway } from '../actions/ports.js';
import { compensationLedger, CompensationDecision, CompensationRequest, decideCompensation, proposeCompensation } from '../aftersales/compensation.js';
import { ComplaintDecisionRequest, decideComplaint } from '../aftersales/decisions.js';
import { MerchantAction, merchantHistory, merchantMonthly, merchantRecords, setMerchantStatus } from '../aftersales/merchant-record.js';
import type { ProgressMessages } from '../aftersales/progress.js';
import { AppError } from '../core/errors.js';
import type { Clock } from '../core/ports.js';
import type { Db } from '../db/client.js';
import { merchantResponsePhotos } from '../db/schema.js';
import { parseJson, validationError } from '../http/errors.js';
import type { LiveHub } from '../inbox/live-hub.js';
import { type AuthDeps, type ConsoleEnv, MANAGERS, requireRole, STAFF } from './auth.js';
import { caseAfterSales } from './case-aftersales.js';

export interface AfterSalesConsoleDeps {
  db: Db;
  clock: Clock;
  hub: LiveHub;
  sessionTtlMs: number;
  gateway: RefundGateway;
  wording: ProgressMessages;
  compensationCapCents: number;
  kickOutbox(): void;
}

const id = (raw: string | undefined, what: string) => {
  const parsed = z.uuid().safeParse(raw);
  if (!parsed.success) throw new AppError('not_found', `No such ${what}`);
  return parsed.data;
};

/** `/api/console/...` routes of the after-sales loop (complaint decisions, merchant photos and records, compensation). Mount at `/api`. */
export function afterSalesApiRoutes(deps: AfterSalesConsoleDeps): Hono<ConsoleEnv> {
  const app = new Hono<ConsoleEnv>();
  const auth: AuthDeps = { db: deps.db, clock: deps.clock, sessionTtlMs: deps.sessionTtlMs };
  const staffOnly = requireRole(auth, STAFF);
  const managersOnly = requireRole(auth, MANAGERS);
  const now = () => deps.clock.now();
  const changed = async (conversationId: string | null) => {
    deps.kickOutbox();
    if (conversationId) await deps.hub.publish({ type: 'conversation', conversationId });
  };
  const compDeps = { db: deps.db, gateway: deps.gateway, wording: deps.wording, capCents: deps.compensationCapCents };

  app.get('/console/conversations/:id/aftersales', staffOnly, async (c) => c.json(await caseAfterSales(deps.db, id(c.req.param('id'), 'conversation'))));

  app.post('/console/complaints/:id/decision', staffOnly, async (c) => {
    const body = await parseJson(c, ComplaintDecisionRequest);
    const result = await decideComplaint({ db: deps.db, gateway: deps.gateway, wording: deps.wording }, c.get('actor'), id(c.req.param('id'), 'complaint'), body, now());
    await changed(result.conversationId);
    return c.json(result);
  });

  app.post('/console/complaints/:id/compensation', staffOnly, async (c) => {
    const body = await parseJson(c, CompensationRequest);
    const result = await proposeCompensation(compDeps, c.get('actor'), id(c.req.param('id'), 'complaint'), body, now());
    await changed(result.conversationId);
    return c.json(result, 201);
  });

  app.post('/console/compensations/:id/decision', managersOnly, async (c) => {
    const body = await parseJson(c, CompensationDecision);
    const result = await decideCompensation(compDeps, c.get('actor'), id(c.req.param('id'), 'compensation'), body.decision, now());
    await changed(result.conversationId);
    return c.json(result);
  });

  app.get('/console/compensations', managersOnly, async (c) => {
    const q = z.object({ merchantId: z.uuid().optional(), customerId: z.uuid().optional() }).safeParse(c.req.query());
    if (!q.success) throw validationError(q.error, 'query');
    return c.json(await compensationLedger(deps.db, q.data));
  });

  // Merchant photos are served to staff only, with the sniffed type and no sniffing by the browser.
  app.get('/console/merchant-photos/:id', staffOnly, async (c) => {
    const [photo] = await deps.db.select().from(merchantResponsePhotos).where(eq(merchantResponsePhotos.id, id(c.req.param('id'), 'photo')));
    if (!photo) throw new AppError('not_found', 'No such photo');
    return c.body(new Uint8Array(photo.bytes), 200, {
      'content-type': photo.contentType,
      'x-content-type-options': 'nosniff',
      'content-security-policy': "default-src 'none'",
      'cache-control': 'private, max-age=3600',
    });
  });

  app.get('/console/merchants', managersOnly, async (c) => c.json({ merchants: await merchantRecords(deps.db) }));

  app.get('/console/merchants/:id', managersOnly, async (c) => {
    const merchantId = id(c.req.param('id'), 'merchant');
    const [record] = await merchantRecords(deps.db, merchantId);
    if (!record) throw new AppError('not_found', 'No such merchant');
    return c.json({
      merchant: record,
      months: await merchantMonthly(deps.db, merchantId, now()),
      history: await merchantHistory(deps.db, merchantId),
      ledger: await compensationLedger(deps.db, { merchantId }),
    });
  });

  app.post('/console/merchants/:id/status', managersOnly, async (c) => {
    const body = await parseJson(c, MerchantAction);
    return c.json(await setMerchantStatus(deps.db, c.get('actor'), id(c.req.param('id'), 'merchant'), body, now()));
  });

  return app;
}
