import { describe, expect, it } from 'vitest';
import { redactLogLine, redactSecrets } from './redact.js';

const TOKEN = '7412589630:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw8';

describe('redactSecrets', () => {
  it('removes Telegram bot tokens, also inside Bot API URLs', () => {
    const out = redactSecrets(`request to https://api.telegram.org/bot${TOKEN}/sendMessage failed, reason: connect ECONNREFUSED`);
    expect(out).not.toContain(TOKEN);
    expect(out).not.toContain('AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw8');
    expect(out).toContain('sendMessage failed');
  });

  it('drops SQL parameters drizzle appends, and masks ID and card numbers', () => {
    const out = redactSecrets('Failed query: insert into messages (text) values ($1)\nparams: 我的身份证 110101199003071234 卡 6222021234567890123');
    expect(out).toBe('Failed query: insert into messages (text) values ($1)\nparams: [redacted]');
    expect(redactSecrets('card 6222021234567890123 id 110101199003071234')).not.toMatch(/6222021234567890123|110101199003071234/);
  });

  it('removes bearer tokens, URL credentials and kefu session tokens', () => {
    expect(redactSecrets('Authorization: Bearer abcdefghijklmnop')).toBe('Authorization: Bearer [redacted]');
    expect(redactSecrets('smtp://kefu:s3cret@mail.example.com:587')).toBe('smtp://[redacted]@mail.example.com:587');
    expect(redactSecrets('token ks_0123456789abcdefghijkl')).not.toContain('0123456789abcdefghijkl');
  });
});

describe('redactLogLine', () => {
  it('cleans a JSON log line and keeps it valid JSON', () => {
    const line = JSON.stringify({ msg: 'request.failed', err: { message: `boom https://api.telegram.org/bot${TOKEN}/x\nparams: secret text,more` } });
    const out = redactLogLine(line);
    expect(out).not.toContain(TOKEN);
    expect(out).not.toContain('secret text');
    expect(() => JSON.parse(out)).not.toThrow();
  });
});
