import { describe, expect, it } from 'vitest';
import { stripQuotes } from './strip-quotes.js';

describe('stripQuotes', () => {
  const cases: [string, string, string][] = [
    ['Gmail English, attribution wrapped over two lines', 'Yes please refund it.\n\nOn Thu, Aug 19, 2021 at 2:07 PM Support Team <\nsupport@kefu.example> wrote:\n\n> Which order?\n>\n', 'Yes please refund it.'],
    ['Outlook Original Message', 'Thanks\n\n-----Original Message-----\nFrom: Support <support@kefu.example>\nSent: Monday\nSubject: Re: refund\n\nOld text', 'Thanks'],
    ['Outlook header block', 'OK\n\nFrom: Support <support@kefu.example>\nSent: Monday, 1 Jan 2026 10:00\nTo: me@example.com\nSubject: Re: refund\n\nOld', 'OK'],
    ['Chinese Outlook header block', '好的，谢谢\n\n发件人: 客服 <support@kefu.example>\n发送时间: 2026年11月20日 10:00\n收件人: wang@example.com\n主题: 回复: 退款\n\n旧内容', '好的，谢谢'],
    ['Traditional Chinese header block', '收到了\n\n寄件者: 客服 <support@kefu.example>\n寄件日期: 2026年11月20日 10:00\n收件者: chen@example.com\n主旨: 回覆: 退款\n\n舊內容', '收到了'],
    ['QQ mail separator', '我要退款\n\n------------------ 原始邮件 ------------------\n发件人: "客服"<support@kefu.example>;\n发送时间: 2026年11月20日\n\n旧内容', '我要退款'],
    ['在 … 写道 with quote', '订单号是 KF12345678\n\n在 2026年11月20日 上午10:00，客服 <support@kefu.example> 写道：\n> 请告诉我们订单号\n', '订单号是 KF12345678'],
    ['於 … 寫道 with quote', '謝謝\n\n於 2026年11月20日 上午10:00，客服 <support@kefu.example> 寫道：\n> 請問還需要幫忙嗎\n', '謝謝'],
    ['Gmail Chinese 于…写道 without ">" markers', '可以\n\n客服 <support@kefu.example> 于2026年11月20日周五 10:00写道：\n\n请回复 1 或 2', '可以'],
    ['Apple Mail quoted attribution', 'Fine\n> On 22 Aug 2015, at 19:21, Support <support@kefu.example> wrote:\n>\n> Hi there!\n', 'Fine'],
    ['reply below the quote (Thunderbird bottom-posting)', 'On 04/02/2012 06:26 PM, Support wrote:\n> Which order?\nKF12345678', 'KF12345678'],
    ['a forwarded message is content, not history', 'See below\n\n---------- Forwarded message ---------\nFrom: Shop <shop@example.com>\nDate: Mon, 1 Jan 2026\nSubject: Your booking\nTo: me@example.com\n\nBooking cancelled', 'See below\n\n---------- Forwarded message ---------\nFrom: Shop <shop@example.com>\nDate: Mon, 1 Jan 2026\nSubject: Your booking\nTo: me@example.com\n\nBooking cancelled'],
  ];
  it.each(cases)('%s', (_name, body, expected) => {
    expect(stripQuotes(body).text).toBe(expected);
  });

  it.each([
    ['Hello\n\nSent from my iPhone', 'Hello'],
    ['你好\n\n发自我的iPhone', '你好'],
    ['你好\n\n從我的 iPhone 傳送', '你好'],
    ['Hello\n\n-- \nWang Xiulan\n138 0000 0000', 'Hello'],
  ])('drops the signature of %j for the bot but keeps it in the reply', (body, expected) => {
    const stripped = stripQuotes(body);
    expect(stripped.text).toBe(expected);
    expect(stripped.reply).toBe(body);
  });

  it('keeps a message that is only a quote readable instead of empty', () => {
    expect(stripQuotes('> only quoted\n> text').text).toBe('');
    expect(stripQuotes('-----Original Message-----\nFrom: a@b.c\nSent: x\nTo: y\n\nbody').text).not.toBe('');
  });
});
