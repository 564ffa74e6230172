import { describe, expect, it } from 'vitest';
import { safeNextPath } from './safe-next.js';

describe('safeNextPath (login ?next=)', () => {
  it.each([
    ['/console/dashboard', '/console/dashboard'],
    ['/console?view=mine&c=1', '/console?view=mine&c=1'],
    ['/admin', '/admin'],
  ])('keeps the same-origin path %s', (raw, expected) => {
    expect(safeNextPath(raw)).toBe(expected);
  });

  it.each([
    'javascript:alert(1)',
    'JavaScript:alert(document.cookie)',
    ' javascript:alert(1)',
    'https://evil.example/',
    '//evil.example/',
    '/\\evil.example/',
    '\\\\evil.example',
    '/\t/evil.example',
    'data:text/html,<script>alert(1)</script>',
    'console',
    '',
    undefined,
  ])('sends %s to /console', (raw) => {
    expect(safeNextPath(raw)).toBe('/console');
  });
});
