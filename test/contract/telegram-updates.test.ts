import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createTelegramAdapter, type ParsedUpdate } from '../../channels/telegram/index.js';
import { InboundMessage } from '../../src/core/message.js';
import { createTelegramIntake } from '../../channels/telegram/routes.js';
import { createLogger } from '../../src/logger.js';

const DIR = join(import.meta.dirname, '../fixtures/telegram');
const parseUpdate = createTelegramAdapter({ token: '123:TEST' }).parseUpdate;

/** Every recorded update, with message/callback objects wrapped into the update Telegram would send. */
function fixtures(): { name: string; update: unknown }[] {
  const all: { name: string; update: unknown }[] = [];
  for (const folder of ['updates', 'kefu']) {
    for (const file of readdirSync(join(DIR, folder)).sort()) {
      all.push({ name: `${folder}/${file}`, update: JSON.parse(readFileSync(join(DIR, folder, file), 'utf8')) });
    }
  }
  for (const [i, file] of readdirSync(join(DIR, 'message_objects')).sort().entries()) {
    const object: Record<string, unknown> = JSON.parse(readFileSync(join(DIR, 'message_objects', file), 'utf8'));
    const kind = 'chat_instance' in object ? 'callback_query' : 'message';
    all.push({ name: `message_objects/${file}`, update: { update_id: 90_000 + i, [kind]: object } });
  }
  return all;
}

function load(name: string): unknown {
  const found = fixtures().find((f) => f.name === name);
  if (!found) throw new Error(`no fixture ${name}`);
  return found.update;
}

function message(name: string): Extract<ParsedUpdate, { kind: 'message' }> {
  const parsed = parseUpdate(load(name));
  if (parsed.kind !== 'message') throw new Error(`${name}: expected a message, got ${JSON.stringify(parsed)}`);
  return parsed;
}

function ignored(name: string): Extract<ParsedUpdate, { kind: 'ignored' }> {
  const parsed = parseUpdate(load(name));
  if (parsed.kind !== 'ignored') throw new Error(`${name}: expected ignored, got ${parsed.kind}`);
  return parsed;
}

describe('Telegram updates → InboundMessage (every recorded fixture)', () => {
  const all = fixtures();

  it('has the recorded fixtures to check', () => {
    expect(all.length).toBeGreaterThanOrEqual(40);
  });

  it.each(all.map((f) => [f.name, f.update] as const))('%s: a valid InboundMessage or a logged ignore, never a crash', async (_name, update) => {
    const lines: string[] = [];
    const logger = createLogger('info', new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) }));
    const received: unknown[] = [];
    const adapter = createTelegramAdapter({ token: '123:TEST' });
    // Side effects (the group note, callback answers) are not under test here: make them no-ops.
    const telegram = { ...adapter, sendGroupNotice: async () => {}, answerCallbackQuery: async () => {} };
    const intake = createTelegramIntake({
      telegram,
      logger,
      linkByPhone: async () => {},
      setReachable: async () => {},
      deadLetter: async () => {},
      receive: async (inbound) => {
        received.push(inbound);
        return { messageId: 'm', conversationId: 'c', customerId: 'u', channelIdentityId: 'i', duplicate: false };
      },
    });
    const result = await intake.handle(update);
    const parsed = parseUpdate(update);
    if (parsed.kind === 'message') {
      expect(result.status).toBe('stored');
      expect(received).toHaveLength(1);
      expect(InboundMessage.safeParse(received[0]).success).toBe(true);
      expect(parsed.inbound.externalMessageId).toMatch(/^update:\d+$/);
    } else {
      expect(parsed.kind).toBe('ignored');
      expect(result.status).toBe('ignored');
      expect(received).toHaveLength(0);
      const events = lines.map((l) => JSON.parse(l));
      expect(events).toContainEqual(expect.objectContaining({ msg: 'telegram.update_ignored' }));
    }
  });

  it('turns a private text message into a message keyed on the update id', () => {
    const { inbound, notice } = message('updates/nonebot_00_message_text.json');
    expect(inbound).toMatchObject({
      channel: 'telegram',
      externalMessageId: 'update:10000',
      channelMessageRef: '1111111:1365',
      // "/start" is no language: the flows get the menu command in the app's language (default zh-Hans).
      text: '菜单',
      original: '/start',
      silent: false,
      editOf: null,
      sender: { externalId: '1111111', displayName: 'Test Firstname Test Lastname' },
    });
    // /start also offers the "share my phone number" button: a notice stored with the message, as a
    // well-known quick reply the Telegram adapter shows as its request_contact button.
    expect(notice).toBe('share_phone');
    expect(inbound.notices).toEqual([
      { text: expect.stringMatching(/发送我的手机号/), quickReplies: [{ id: 'share_phone', label: '发送我的手机号' }] },
    ]);
  });

  it('keeps an edited message as a silent new version pointing at the original', () => {
    const { inbound } = message('updates/nonebot_04_edited_message.json');
    expect(inbound).toMatchObject({ text: 'Edited text', silent: true, editOf: '1111111:1365', channelMessageRef: '1111111:1365' });
    expect(inbound.receivedAt?.toISOString()).toBe(new Date(1441646600 * 1000).toISOString());
  });

  it('stores a voice note with its file_id and hands it to the flows (which say they cannot listen yet)', () => {
    const { inbound, notice } = message('updates/nonebot_07_message_voice.json');
    expect(inbound).toMatchObject({ text: '', silent: false, notices: [] });
    expect(inbound.attachments).toEqual([
      { kind: 'audio', filename: null, contentType: 'audio/ogg', size: 23000, ref: 'AwADBAADbXXXXXXXXXXXGBdhD2l6_XX', inline: false },
    ]);
    expect(notice).toBeNull();
  });

  it('stores documents and photos as attachments with the caption as text', () => {
    const doc = message('updates/nonebot_08_message_document.json').inbound;
    expect(doc.attachments).toEqual([
      // `fetch`: the processing step downloads it (getFile) and keeps it like a web chat upload.
      { kind: 'document', filename: 'Testfile.pdf', contentType: 'application/pdf', size: 536392, ref: 'AwADBAADbXXXXXXXXXXXGBdhD2l6_XX', inline: false, fetch: true },
    ]);
    const photo = message('message_objects/teloxide_message_parse_caption_entities.json').inbound;
    expect(photo.text).toBe('www.example.com');
    expect(photo.attachments).toHaveLength(1);
    // The largest size of the photo is kept.
    expect(photo.attachments[0]).toMatchObject({ kind: 'image', size: 162061, ref: expect.stringMatching(/eQADJAQ$/) });
    const ours = message('kefu/photo_caption.json').inbound;
    expect(ours).toMatchObject({ text: '店里说这张券不能用', silent: false, attachments: [{ kind: 'image', ref: 'AgAC-large' }] });
  });

  it('turns a pressed inline button into a choice with the button label, and answers the callback', () => {
    const pressed = message('kefu/callback_menu_refund.json');
    expect(pressed.inbound).toMatchObject({ choice: 'refund', text: '申请退款', locale: 'zh-Hans', externalMessageId: 'update:20003' });
    expect(pressed.callbackQueryId).toBe('4382bfdwdsb323b2d9');
    const inlineMode = message('updates/nonebot_11_callback_query.json');
    expect(inlineMode.inbound).toMatchObject({ choice: 'Data from button callback', text: 'Data from button callback' });
  });

  it('treats only the sender’s own shared contact as a verified phone number', () => {
    const own = message('kefu/contact_own.json');
    expect(own.verifiedPhone).toBe('13800000001');
    expect(own.inbound.sender.phone).toBe('13800000001');
    expect(own.notice).toBe('phone_received');
    expect(own.inbound.notices).toEqual([{ text: '谢谢，收到您的手机号了。', quickReplies: [] }]);
    // Stored for the agents, answered by the channel's thanks rather than by the flows.
    expect(own.inbound.silent).toBe(true);
    const other = message('kefu/contact_other.json');
    expect(other.verifiedPhone).toBeNull();
    expect(other.inbound.sender.phone).toBeNull();
    expect(other.notice).toBeNull();
    expect(other.inbound.notices).toEqual([]);
  });

  it('ignores group, supergroup and channel chats, with one short note only when addressed', () => {
    expect(ignored('updates/teloxide_issue_1107.json')).toMatchObject({ reason: 'not_private_chat', notice: null });
    expect(ignored('message_objects/teloxide_message_issue_427.json')).toMatchObject({ reason: 'not_private_chat', notice: null });
    expect(ignored('kefu/group_start.json')).toMatchObject({ reason: 'not_private_chat', notice: 'group_unsupported', chatId: -1001293752024 });
    expect(ignored('kefu/added_to_group.json')).toMatchObject({ notice: 'group_unsupported', locale: 'en' });
    expect(ignored('updates/teloxide_message_reaction_count_updated.json').notice).toBeNull();
  });

  it('ignores unknown update kinds and content it cannot store', () => {
    expect(ignored('updates/teloxide_new_update_kind_error.json')).toMatchObject({ reason: 'unknown_update_kind', updateKind: 'new_update_kind' });
    expect(ignored('updates/nonebot_09_inline_query.json').reason).toBe('unknown_update_kind');
    expect(ignored('message_objects/teloxide_message_empty_message.json').reason).toBe('no_sender');
    // A private my_chat_member update: the user blocked the bot.
    expect(ignored('updates/teloxide_issue_523.json')).toMatchObject({ reason: 'unsupported_content', reachability: { externalId: '0', reachable: false } });
    expect(parseUpdate({ message: { text: 'no update id' } }).kind).toBe('invalid');
  });
});
