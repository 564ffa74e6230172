import { sql } from 'drizzle-orm';
import { type Db, rowsOf } from '../db/client.js';

export interface LoginThrottlePolicy {
  /** Attempts per account in the window (a success resets the count). */
  maxPerAccount: number;
  /** Distinct accounts an address may fail on in the window before it is refused for all of them. */
  maxAccountsPerAddress: number;
  windowMs: number;
}

export const DEFAULT_LOGIN_THROTTLE: LoginThrottlePolicy = { maxPerAccount: 5, maxAccountsPerAddress: 10, windowMs: 15 * 60_000 };

/**
 * Reserves one login attempt for `account` from `address` in a single statement, before the
 * password is checked: parallel guesses each take their own slot, so no more than the limit are
 * ever checked. The account row counts attempts; the address row remembers which accounts it
 * tried, so failures on one account (from a shared proxy, say) never lock another account out
 * unless that address went through many of them.
 */
export async function reserveLoginAttempt(
  db: Db,
  input: { account: string; address: string; now: Date; policy: LoginThrottlePolicy },
): Promise<boolean> {
  const { account, address, now, policy } = input;
  const accountKey = `account:${account}`;
  const addressKey = `address:${address}`;
  // ISO strings: postgres.js does not take Date parameters in raw SQL.
  const at = now.toISOString();
  const windowStart = new Date(now.getTime() - policy.windowMs).toISOString();
  const result = await db.execute<{ key: string; attempts: number; n_accounts: number }>(sql`
    insert into login_throttle as t (key, window_start, attempts, accounts)
    values (${accountKey}, ${at}::timestamptz, 1, '{}'::text[]), (${addressKey}, ${at}::timestamptz, 1, array[${account}]::text[])
    on conflict (key) do update set
      window_start = case when t.window_start <= ${windowStart}::timestamptz then excluded.window_start else t.window_start end,
      attempts = case when t.window_start <= ${windowStart}::timestamptz then 1 else t.attempts + 1 end,
      accounts = case
        when t.window_start <= ${windowStart}::timestamptz then excluded.accounts
        when cardinality(excluded.accounts) = 0 or excluded.accounts[1] = any(t.accounts)
          or cardinality(t.accounts) > ${policy.maxAccountsPerAddress}::int then t.accounts
        else t.accounts || excluded.accounts
      end
    returning key, attempts, cardinality(accounts)::int as n_accounts`);
  const rows = rowsOf<{ key: string; attempts: number; n_accounts: number }>(result);
  const accountRow = rows.find((r) => r.key === accountKey);
  const addressRow = rows.find((r) => r.key === addressKey);
  return Number(accountRow?.attempts ?? 0) <= policy.maxPerAccount && Number(addressRow?.n_accounts ?? 0) <= policy.maxAccountsPerAddress;
}

/** A successful login clears the account's count and takes the account off the address's list. */
export async function clearLoginAttempts(db: Db, input: { account: string; address: string }): Promise<void> {
  await db.execute(sql`
    update login_throttle
    set attempts = case when key = ${`account:${input.account}`} then 0 else attempts end,
        accounts = array_remove(accounts, ${input.account}::text)
    where key in (${`account:${input.account}`}, ${`address:${input.address}`})`);
}
