import { describe, expect, it } from 'vitest';
import { listAreas, loadCatalog } from './catalog.js';
import { formatDay, formatFullDay } from './format.js';

describe('wording catalogs', () => {
  it.each(listAreas())('%s has every key in zh-Hans, zh-Hant and en', (area) => {
    expect(loadCatalog(area).missing()).toEqual([]);
  });

  it('interpolates variables and falls back to zh-Hans wording', () => {
    const common = loadCatalog('common');
    expect(common.t('en', 'locale.zh-Hant')).toBe('繁體中文');
    expect(() => common.t('en', 'no.such.key')).toThrow(/unknown wording key/);
  });
});

describe('formatDay', () => {
  const monday = new Date('2026-12-07T04:00:00Z');
  it('writes dates the way each locale reads them', () => {
    expect(formatDay('zh-Hans', monday)).toBe('12月7日（周一）');
    expect(formatDay('zh-Hant', monday)).toBe('12月7日（週一）');
    expect(formatDay('en', monday)).toBe('Mon, Dec 7');
  });

  it('keeps each time zone and language apart when formats are reused', () => {
    // 04:00 UTC is noon in Shanghai and still Sunday evening in New York.
    expect(formatDay('en', monday, 'America/New_York')).toBe('Sun, Dec 6');
    expect(formatDay('zh-Hans', monday, 'America/New_York')).toBe('12月6日（周日）');
    expect(formatDay('en', monday)).toBe('Mon, Dec 7');
    expect(formatFullDay('zh-Hant', monday)).toBe('2026年12月7日（週一）');
    expect(formatDay('zh-Hant', monday)).toBe('12月7日（週一）');
  });
});
