import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { maskEmails, maskForLlm, maskPersonalData, maskSecrets } from './mask.js';

describe('maskPersonalData', () => {
  it.each([
    ['我的手机号是13812345678', '我的手机号是[phone ****5678]'],
    ['call +86 138-1234-5678 please', 'call [phone ****5678] please'],
    ['my number is +852 9123 4567', 'my number is [phone ****4567]'],
    ['座机 010-62345678', '座机 [phone ****5678]'],
    ['卡号6222021234567890123', '卡号[card ****0123]'],
    ['card 4111 1111 1111 1111 ok', 'card [card ****1111] ok'],
    ['身份证110101195502143216', '身份证[ID ****3216]'],
    ['身份证号 11010119550214321X', '身份证号 [ID ****321X]'],
    ['身分證 A123456789', '身分證 [ID ****6789]'],
    ['香港身份證 A123456(7)', '香港身份證 [ID ****4567]'],
    ['password: hunter2', 'password: [password hidden]'],
    ['My password is hunter2!', 'My password is [password hidden]'],
    ['密码是abc123', '密码是[password hidden]'],
    ['密碼：abc123', '密碼：[password hidden]'],
    ['验证码 482913', '验证码 [code hidden]'],
    ['the verification code is 482913', 'the verification code is [code hidden]'],
  ])('masks %s', (input, expected) => {
    expect(maskPersonalData(input)).toBe(expected);
  });

  it.each([
    '订单KF12345678的券退款',
    '券码 AB3D-7KQ2-XY9Z 用不了',
    'I forgot my password and cannot log in',
    '密码忘了怎么办',
    '2026年11月22日 18:30 到店，3 个人，共 298 元',
    'spin: 3 rounds',
  ])('leaves %s alone', (text) => {
    expect(maskPersonalData(text)).toBe(text);
  });

  it('is idempotent', () => {
    const piece = fc.constantFrom('13812345678', ' ', '密码是abc', 'password: x1', '6222021234567890123', '110101195502143216', '验证码 1234', 'KF12345678', '退款', 'a@b.cn', '+852 9123 4567');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 8 }), (parts) => {
        const once = maskForLlm(parts.join(''));
        expect(maskForLlm(once)).toBe(once);
      }),
    );
  });
});

describe('maskForLlm', () => {
  it('also hides email addresses, keeping the first letter and the domain', () => {
    expect(maskEmails('write to wang.xiulan@qq.com or li@mail.example.cn')).toBe('write to [email w***@qq.com] or [email l***@mail.example.cn]');
    expect(maskForLlm('邮箱 13812345678@163.com 手机 13812345678')).toBe('邮箱 [email 1***@163.com] 手机 [phone ****5678]');
  });

  it('leaves no digit run of a phone, card or ID number in the text', () => {
    fc.assert(
      fc.property(fc.constantFrom('138', '159', '186'), fc.stringMatching(/^\d{8}$/), fc.string({ maxLength: 10 }), (prefix, rest, filler) => {
        const phone = `${prefix}${rest}`;
        const masked = maskForLlm(`${filler.replace(/\d/g, '')} 电话${phone}。`);
        expect(masked).not.toContain(phone);
      }),
    );
  });
});

describe('maskSecrets (intake)', () => {
  it('keeps phone numbers, so a callback number reaches the agent', () => {
    expect(maskSecrets('请打我电话 13812345678')).toBe('请打我电话 13812345678');
    expect(maskSecrets('call +86 138 1234 5678 please')).toBe('call +86 138 1234 5678 please');
  });

  it('still hides cards, ID numbers, passwords and SMS codes', () => {
    const masked = maskSecrets('卡号 6222 0212 3456 7890 123，身份证 110101199003071234，密码是 abc123，验证码 482913，电话 13812345678');
    expect(masked).not.toMatch(/6222 0212|11010119900307|abc123|482913/);
    expect(masked).toContain('13812345678');
    expect(masked).toContain('[card ****0123]');
  });

  it('masks the phone numbers too when the text goes to logs or an LLM', () => {
    expect(maskPersonalData('call +86 138 1234 5678 please')).toBe('call [phone ****5678] please');
  });
});
