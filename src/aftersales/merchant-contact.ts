/**
 * Where a merchant's complaint notices go. Merchants without a recorded contact (the demo data)
 * get a deterministic address derived from their id, so demo and tests need no seed changes;
 * outside demo mode such a merchant is not mailed (the agent sees "merchant not notified").
 */
export function merchantContactEmail(merchant: { id: string; contactEmail: string | null }, demoMode: boolean): string | null {
  if (merchant.contactEmail) return merchant.contactEmail;
  return demoMode ? `merchant-${merchant.id.slice(0, 8)}@merchants.kefu.demo` : null;
}
