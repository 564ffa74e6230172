import { describe, expect, it } from 'vitest';
import { money } from '../actions/money.js';
import { render } from './template.js';

describe('dates and amounts in bot messages, per locale', () => {
  // 2026-12-07 is a Monday. A calendar date is a day in UTC+8; a timestamp is read in UTC+8 too.
  const values = { eta: '2026-12-07', at: '2026-12-06T17:30:00Z', until: '2027-01-13', amount: money(12800) };

  it.each([
    ['zh-Hans', '12月7日（周一）', '2027年1月13日（周三）'],
    ['zh-Hant', '12月7日（週一）', '2027年1月13日（週三）'],
    ['en', 'Mon, Dec 7', 'Wed, Jan 13, 2027'],
  ] as const)('%s: `date` words the day, `fulldate` adds the year, amounts read ¥128.00', (locale, day, full) => {
    expect(render('{{eta | date}}', values, locale)).toBe(day);
    // 17:30 UTC on the 6th is already the 7th in China.
    expect(render('{{at | date}}', values, locale)).toBe(day);
    expect(render('{{until | fulldate}}', values, locale)).toBe(full);
    expect(render('{{amount.text}}', values, locale)).toBe('¥128.00');
  });

  it('leaves a value that is no date as it is', () => {
    expect(render('{{x | date}}', { x: '—' }, 'en')).toBe('—');
    expect(render('{{x | date}}', {}, 'en')).toBe('');
  });
});
