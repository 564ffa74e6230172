import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { parseEmail, toInbound } from './parse.js';

function mail(charset: string, body: string, headers: string[] = []): Buffer {
  const head = [
    'From: =?UTF-8?B?546L56eA5YWw?= <wang@example.com>',
    'To: support+tok123456@kefu.example',
    `Subject: =?${charset}?B?${iconv.encode('退款 KF12345678', charset).toString('base64')}?=`,
    'Message-ID: <m1@example.com>',
    'MIME-Version: 1.0',
    `Content-Type: text/plain; charset=${charset}`,
    'Content-Transfer-Encoding: 8bit',
    ...headers,
  ].join('\r\n');
  return Buffer.concat([Buffer.from(`${head}\r\n\r\n`, 'latin1'), iconv.encode(body, charset)]);
}

describe('parseEmail', () => {
  it.each([
    ['GB2312', '我想退款，订单号 KF12345678'],
    ['GBK', '我想退款，谢谢'],
    ['GB18030', '我想退款 𠀀'],
    ['Big5', '我想退款，謝謝'],
  ])('decodes %s bodies and RFC 2047 subjects', async (charset, body) => {
    const email = await parseEmail(mail(charset, body));
    expect(email.text).toBe(body);
    expect(email.subject).toBe('退款 KF12345678');
    expect(email.from).toEqual({ address: 'wang@example.com', name: '王秀兰' });
  });

  it('decodes windows-1252', async () => {
    const raw = Buffer.concat([
      Buffer.from('From: a@example.com\r\nSubject: caf\xe9\r\nContent-Type: text/plain; charset=windows-1252\r\n\r\n', 'latin1'),
      iconv.encode('Café “quotes” – €5', 'windows-1252'),
    ]);
    expect((await parseEmail(raw)).text).toBe('Café “quotes” – €5');
  });

  it('finds the reply token, threading ids and a normalised subject for the core', async () => {
    const raw = mail('UTF-8', '好的', ['In-Reply-To: <kefu.abc@kefu.example>', 'References: <x@y> <kefu.abc@kefu.example>']);
    const inbound = toInbound(await parseEmail(raw), { ourAddress: 'Support <support@kefu.example>' });
    expect(inbound.thread).toEqual({ conversationToken: 'tok123456', inReplyTo: ['kefu.abc@kefu.example', 'x@y'], subject: '退款 KF12345678', messageSubject: '退款 KF12345678' });
    expect(inbound.externalMessageId).toBe('m1@example.com');
    expect(inbound.silent).toBe(false);
  });

  it('ignores plus-addresses of other domains when our address is known', async () => {
    const raw = mail('UTF-8', 'hi').toString('latin1').replace('support+tok123456@kefu.example', 'someone+tok123456@other.example');
    const inbound = toInbound(await parseEmail(Buffer.from(raw, 'latin1')), { ourAddress: 'support@kefu.example' });
    expect(inbound.thread?.conversationToken).toBeNull();
  });

  it('never answers mail from our own address (a loop)', async () => {
    const raw = Buffer.from('From: support+abc123@kefu.example\r\nSubject: Re: hi\r\nMessage-ID: <loop@kefu.example>\r\n\r\nhello', 'latin1');
    expect(toInbound(await parseEmail(raw), { ourAddress: 'support@kefu.example' }).silent).toBe(true);
  });

  it('uses a hash of the raw message when there is no Message-ID', async () => {
    const raw = Buffer.from('From: a@example.com\r\nSubject: hi\r\n\r\nhello', 'latin1');
    const email = await parseEmail(raw);
    expect(email.messageId).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect((await parseEmail(raw)).messageId).toBe(email.messageId);
  });

  it.each([
    ['Auto-Submitted: auto-replied', true],
    ['Auto-Submitted: no', false],
    ['X-Autorespond: yes', true],
    ['Precedence: bulk', true],
    ['Precedence: list', true],
  ])('treats %s as auto-reply=%s', async (header, auto) => {
    const email = await parseEmail(mail('UTF-8', 'x', [header]));
    expect(email.automated.autoReply).toBe(auto);
  });

  it('recognises out-of-office subjects in Chinese and English', async () => {
    for (const subject of ['Out of Office: refund', '自动回复: 退款', 'Automatic reply: hello']) {
      const raw = Buffer.from(`From: a@example.com\r\nSubject: ${subject}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nAway`, 'utf8');
      expect((await parseEmail(raw)).automated.autoReply).toBe(true);
    }
  });
});

describe('parseEmail: Outlook 2000 UTF-7 words and addresses without a domain', () => {
  const raw = (from: string, subject: string) =>
    Buffer.from([`From: ${from}`, 'To: support@kefu.example', `Subject: ${subject}`, 'Message-ID: <u7@example.com>', '', 'hallo'].join('\r\n'));

  it('decodes RFC 2047 words whose charset is UTF-7, Q and B, in the subject and the sender name', async () => {
    const email = await parseEmail(raw('=?utf-7?Q?J+APw-rgen?= <juergen@example.de>', '=?utf-7?Q?Fr+APY-sche?= =?UTF-7?B?K0FQWS0=?= und Kr+APY-ten'));
    expect(email.subject).toBe('Fröscheö und Kr+APY-ten');
    expect(email.from).toEqual({ address: 'juergen@example.de', name: 'Jürgen' });
    expect(toInbound(email).thread?.messageSubject).toBe('Fröscheö und Kr+APY-ten');
  });

  it('keeps an address without a domain as written', async () => {
    const email = await parseEmail(raw('no_host', 'hi'), { envelopeFrom: 'bounce@relay.example' });
    expect(email.from.address).toBe('no_host');
    const inbound = toInbound(email);
    expect(inbound.sender.externalId).toBe('no_host');
    expect(inbound.sender.email).toBeNull();
    expect(inbound.identity?.level).toBe('anonymous');
  });
});
