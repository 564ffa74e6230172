import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { escapeMarkdownV2, inlineKeyboard, splitText } from './render.js';

describe('splitText', () => {
  it('keeps short texts whole', () => {
    expect(splitText('你好')).toEqual(['你好']);
  });

  it('splits at paragraph or line boundaries within the limit', () => {
    const para = `${'a'.repeat(3000)}\n\n${'b'.repeat(3000)}\n${'c'.repeat(3000)}`;
    const parts = splitText(para, 4096);
    expect(parts).toEqual(['a'.repeat(3000), 'b'.repeat(3000), 'c'.repeat(3000)]);
  });

  it('never exceeds the limit, never splits a surrogate pair, and loses nothing but boundary whitespace', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('字', '😀', 'a', ' ', '\n', '。'), { minLength: 1, maxLength: 400 }), fc.integer({ min: 8, max: 64 }), (chars, max) => {
        const text = chars.join('');
        const parts = splitText(text, max);
        for (const part of parts) {
          expect(part.length).toBeLessThanOrEqual(max);
          expect(part).not.toMatch(/^[\uDC00-\uDFFF]|[\uD800-\uDBFF]$/);
        }
        expect(parts.join('').replace(/\s/g, '')).toBe(text.replace(/\s/g, ''));
      }),
    );
  });
});

describe('inlineKeyboard', () => {
  it('puts each quick reply on its own row with its id as callback_data', () => {
    expect(inlineKeyboard([{ id: 'refund', label: '申请退款' }, { id: 'human', label: '找人工客服' }]).keyboard).toEqual({
      inline_keyboard: [[{ text: '申请退款', callback_data: 'refund' }], [{ text: '找人工客服', callback_data: 'human' }]],
    });
  });

  it('leaves out ids over 64 bytes, which Telegram would refuse', () => {
    const long = '退'.repeat(22); // 66 bytes in UTF-8
    const { keyboard, dropped } = inlineKeyboard([{ id: long, label: 'x' }, { id: 'ok', label: 'y' }]);
    expect(dropped).toEqual([long]);
    expect(keyboard?.inline_keyboard).toEqual([[{ text: 'y', callback_data: 'ok' }]]);
  });
});

describe('escapeMarkdownV2', () => {
  it('escapes every reserved character so it shows literally', () => {
    expect(escapeMarkdownV2('_*[]()~`>#+-=|{}.!\\')).toBe('\\_\\*\\[\\]\\(\\)\\~\\`\\>\\#\\+\\-\\=\\|\\{\\}\\.\\!\\\\');
    expect(escapeMarkdownV2('订单 No. 12-3 (已付)!')).toBe('订单 No\\. 12\\-3 \\(已付\\)\\!');
  });
});
