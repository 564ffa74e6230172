/** What kind of machine-sent mail this is: recorded, never answered (no mail loops). */
export interface AutomatedMail {
  /** An auto-reply (out of office, vacation, list or bulk mail): never answered. */
  autoReply: boolean;
  /** The Auto-Submitted header value, lower-cased, when present. */
  autoSubmitted: string | null;
  /** A delivery status notification (multipart/report; report-type=delivery-status). */
  dsn: boolean;
  /** A DSN or mailer-daemon notice saying delivery failed for good. */
  bounce: boolean;
  /** DSN Action of the first recipient (failed, delayed, delivered, …). */
  dsnAction: string | null;
  /** DSN Status of the first recipient (e.g. 5.1.1). */
  dsnStatus: string | null;
  /** Recipients whose delivery failed for good (Final-Recipient of failed DSN entries). */
  failedRecipients: string[];
}

export interface AutomatedInput {
  headers(name: string): string[];
  /** The top-level Content-Type line, lower-cased. */
  contentType: string;
  fromAddress: string;
  subject: string;
  raw: Buffer;
}

const OUT_OF_OFFICE = /(?:out of (?:the )?office|auto(?:matic)?[- ]?reply|autoreply|vacation|abwesenheit|absence|自动回复|自動回覆|自動回復|休假|不在办公室|外出)/iu;
const DAEMON = /^(?:mailer-daemon|postmaster|mail-daemon|mailerdaemon)@/i;
const DAEMON_SUBJECT = /(?:undeliver(?:ed|able)|delivery (?:status notification|failure|has failed)|returned mail|failure notice|退信|无法投递|無法投遞|系统退信)/iu;

/** Classifies auto-replies and bounces from headers, structure and sender (RFC 3834, RFC 3464). */
export function detectAutomated(input: AutomatedInput): AutomatedMail {
  const header = (name: string) => input.headers(name)[0]?.trim().toLowerCase() ?? null;
  const autoSubmitted = header('auto-submitted');
  const precedence = header('precedence');
  const dsn = /multipart\/report/.test(input.contentType) && /report-type\s*=\s*"?delivery-status/.test(input.contentType);
  const daemon = DAEMON.test(input.fromAddress) || input.fromAddress === '' || input.fromAddress === 'mailer-daemon';
  const report = dsn ? readDeliveryStatus(input.raw.toString('latin1')) : { action: null, status: null, failed: [] };
  const bounce = dsn
    ? report.failed.length > 0 || (report.action === null && daemon)
    : daemon && DAEMON_SUBJECT.test(input.subject);
  const autoReply =
    (autoSubmitted !== null && autoSubmitted !== 'no') ||
    input.headers('x-autoreply').length > 0 ||
    input.headers('x-autorespond').length > 0 ||
    input.headers('x-auto-response-suppress').some((v) => /\ball\b/i.test(v) && precedence !== null) ||
    (precedence !== null && /^(?:bulk|junk|auto_reply|list)$/.test(precedence)) ||
    OUT_OF_OFFICE.test(input.subject) ||
    dsn ||
    daemon;
  return {
    autoReply,
    autoSubmitted,
    dsn,
    bounce,
    dsnAction: report.action,
    dsnStatus: report.status,
    failedRecipients: bounce && report.failed.length === 0 ? [] : report.failed,
  };
}

/** Reads the per-recipient fields of a message/delivery-status part. */
function readDeliveryStatus(raw: string): { action: string | null; status: string | null; failed: string[] } {
  const start = raw.search(/content-type:\s*message\/delivery-status/i);
  if (start < 0) return { action: null, status: null, failed: [] };
  const part = raw.slice(start, start + 20_000);
  const blocks = part.split(/\r?\n\r?\n/);
  let action: string | null = null;
  let status: string | null = null;
  const failed: string[] = [];
  for (const block of blocks) {
    const recipient = /^(?:Final|Original)-Recipient:\s*(?:rfc822;)?\s*<?([^\s<>;]+@[^\s<>;]+)>?/im.exec(block)?.[1];
    const blockAction = /^Action:\s*([\w-]+)/im.exec(block)?.[1]?.toLowerCase() ?? null;
    if (!recipient || !blockAction) continue;
    action ??= blockAction;
    status ??= /^Status:\s*([\d.]+)/im.exec(block)?.[1] ?? null;
    if (blockAction === 'failed') failed.push(recipient.toLowerCase());
  }
  return { action, status, failed: [...new Set(failed)] };
}
