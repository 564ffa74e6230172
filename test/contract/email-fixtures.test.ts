import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type ParsedEmail, parseEmail, toInbound } from '../../channels/email/parse.js';

// Every real message in test/fixtures/email checked field by field against its .expect.json.
const DIR = join(import.meta.dirname, '../fixtures/email');

const Expect = z
  .object({
    from: z.string(),
    subject: z.string(),
    new_body_exact: z.string(),
    body_contains: z.array(z.string()),
    in_reply_to: z.string(),
    in_reply_to_first: z.string(),
    references: z.array(z.string()),
    is_auto_reply: z.boolean(),
    auto_submitted: z.string(),
    is_bounce: z.boolean(),
    is_dsn: z.boolean(),
    dsn_action: z.string(),
    dsn_status: z.string(),
    attachments_count: z.number(),
    attachment_filenames: z.array(z.string()),
    to: z.string(),
  })
  .partial()
  .strict();
const Fixture = z.object({ source: z.object({ repo: z.string() }).loose(), expect: Expect, basis: z.record(z.string(), z.string()) }).loose();
type Fixture = z.infer<typeof Fixture>;

/** Attachment counts follow the source library: mailparser and chatwoot's presenter count every part, chatwoot's mailboxes only regular ones. */
function countsInlineImages(fixture: Fixture): boolean {
  return fixture.source.repo === 'nodemailer/mailparser' || Object.values(fixture.basis).some((b) => b.includes('number_of_attachments'));
}

type Check = (email: ParsedEmail, fixture: Fixture) => void;
const checks: Record<keyof z.infer<typeof Expect>, Check> = {
  from: (e, f) => expect(e.from.address || '<>').toBe(f.expect.from === '<>' ? '<>' : f.expect.from?.toLowerCase()),
  subject: (e, f) => expect(e.subject).toBe(f.expect.subject),
  new_body_exact: (e, f) => expect(e.reply.trimEnd()).toBe(f.expect.new_body_exact?.trimEnd()),
  body_contains: (e, f) => {
    for (const s of f.expect.body_contains ?? []) expect(e.reply).toContain(s);
  },
  in_reply_to: (e, f) => expect(e.inReplyTo[0]).toBe(f.expect.in_reply_to),
  in_reply_to_first: (e, f) => expect(e.inReplyTo[0]).toBe(f.expect.in_reply_to_first),
  references: (e, f) => expect(e.references).toEqual(f.expect.references),
  is_auto_reply: (e, f) => expect(e.automated.autoReply).toBe(f.expect.is_auto_reply),
  auto_submitted: (e, f) => expect(e.automated.autoSubmitted).toBe(f.expect.auto_submitted?.toLowerCase()),
  is_bounce: (e, f) => expect(e.automated.bounce).toBe(f.expect.is_bounce),
  is_dsn: (e, f) => expect(e.automated.dsn).toBe(f.expect.is_dsn),
  dsn_action: (e, f) => expect(e.automated.dsnAction).toBe(f.expect.dsn_action),
  dsn_status: (e, f) => expect(e.automated.dsnStatus).toBe(f.expect.dsn_status),
  attachments_count: (e, f) =>
    expect(countsInlineImages(f) ? e.attachments.length : e.attachments.filter((a) => !a.inline).length).toBe(f.expect.attachments_count),
  attachment_filenames: (e, f) => expect(e.attachments.filter((a) => !a.inline).map((a) => a.filename)).toEqual(f.expect.attachment_filenames),
  to: (e, f) => expect(e.to.map((a) => a.toLowerCase())).toContain(f.expect.to?.toLowerCase()),
};

const families = readdirSync(DIR).filter((d) => !d.includes('.'));

describe.each(families)('email fixtures from %s', (family) => {
  const names = readdirSync(join(DIR, family))
    .filter((f) => f.endsWith('.eml'))
    .map((f) => f.slice(0, -'.eml'.length));
  const cases = names.flatMap((name) => {
    const fixture = Fixture.parse(JSON.parse(readFileSync(join(DIR, family, `${name}.expect.json`), 'utf8')));
    return Object.keys(fixture.expect).map((field) => ({ name, field: field as keyof typeof checks, fixture }));
  });

  it.each(cases)('$name: $field', async ({ name, field, fixture }) => {
    const email = await parseEmail(readFileSync(join(DIR, family, `${name}.eml`)));
    checks[field](email, fixture);
  });

  it.each(names)('%s: becomes a valid inbound message; machine mail is silent', async (name) => {
    const fixture = Fixture.parse(JSON.parse(readFileSync(join(DIR, family, `${name}.expect.json`), 'utf8')));
    const email = await parseEmail(readFileSync(join(DIR, family, `${name}.eml`)));
    const inbound = toInbound(email);
    expect(inbound.externalMessageId.length).toBeGreaterThan(0);
    expect(inbound.sender.externalId.length).toBeGreaterThan(0);
    if (fixture.expect.is_auto_reply || fixture.expect.is_bounce || fixture.expect.is_dsn) expect(inbound.silent).toBe(true);
    if (fixture.expect.is_auto_reply === false) expect(inbound.silent).toBe(false);
  });
});

describe('talon replies without their signature', () => {
  const names = readdirSync(join(DIR, 'talon')).filter((f) => f.endsWith('.eml'));
  it.each(names)('%s: the bot reads just "Hello", the agent keeps the quoted history', async (name) => {
    const email = await parseEmail(readFileSync(join(DIR, 'talon', name)));
    expect(email.text.trim()).toBe('Hello');
    expect(email.text).not.toMatch(/wrote:|Original Message|^>|написал|From:/m);
    expect(email.fullText.length).toBeGreaterThan(email.text.length);
  });
});
