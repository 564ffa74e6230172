import { describe, expect, it } from 'vitest';
import { findReplyToken, normalizeSubject, outboundMessageId, parseMessageIds, replyAddress } from './threading.js';

describe('email threading helpers', () => {
  it.each([
    ['Re: 退款', '退款'],
    ['RE: RE: Refund', 'Refund'],
    ['Fwd: FW: Refund', 'Refund'],
    ['回复: 退款', '退款'],
    ['回复：回复：退款', '退款'],
    ['回覆: 退款', '退款'],
    ['答复: 退款', '退款'],
    ['转发: 退款', '退款'],
    ['Re[2]: coupon  question ', 'coupon question'],
    ['[kefu] Re: 退款', '退款'],
    ['Refund: KF12345678', 'Refund: KF12345678'],
  ])('normalises %j to %j', (subject, expected) => {
    expect(normalizeSubject(subject)).toBe(expected);
  });

  it('builds and finds our reply address and Message-ID', () => {
    const from = 'kefu 客服 <Support@Kefu.Example>';
    expect(replyAddress(from, 'AbC_-12345xY')).toBe('support+AbC_-12345xY@kefu.example');
    expect(outboundMessageId('m-1', from)).toBe('kefu.m-1@kefu.example');
    expect(findReplyToken(['Other <x@y.z>', 'support+AbC_-12345xY@KEFU.example'], from)).toBe('AbC_-12345xY');
    expect(findReplyToken(['billing+AbC_-12345xY@kefu.example'], from)).toBeNull();
    expect(findReplyToken(['support@kefu.example'], from)).toBeNull();
  });

  it('parses Message-ID lists with or without brackets', () => {
    expect(parseMessageIds('<a@b> <c@d>, <a@b>')).toEqual(['a@b', 'c@d']);
    expect(parseMessageIds(['<a@b>', '<e@f>'])).toEqual(['a@b', 'e@f']);
    expect(parseMessageIds('bare@id')).toEqual(['bare@id']);
    expect(parseMessageIds(undefined)).toEqual([]);
  });
});
