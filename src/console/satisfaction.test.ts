import { describe, expect, it } from 'vitest';
import { satisfactionScore } from './satisfaction.js';

describe('satisfactionScore', () => {
  it('reads a pressed rating button or a bare digit, and nothing else', () => {
    expect(satisfactionScore({ choice: 'csat_5', text: '5 非常满意' })).toBe(5);
    expect(satisfactionScore({ choice: null, text: ' 3 ' })).toBe(3);
    expect(satisfactionScore({ choice: null, text: '4分' })).toBe(4);
    expect(satisfactionScore({ choice: null, text: '2 stars' })).toBe(2);
    expect(satisfactionScore({ choice: null, text: '6' })).toBeNull();
    expect(satisfactionScore({ choice: null, text: '我的订单号是 5' })).toBeNull();
    expect(satisfactionScore({ choice: 'refund', text: '申请退款' })).toBeNull();
  });
});
