/**
 * Finds the new text of an email reply: drops quoted history (">" blocks and their attribution
 * lines, "On … wrote:", Outlook/QQ/Chinese header blocks, "Original Message" separators) and,
 * separately, a recognisable signature. Written for kefu rather than taken from a library: the
 * maintained JS options (email-reply-parser 2.x) need Node 22, and none handles the Chinese forms.
 */

export interface StrippedReply {
  /** The new text with quoted history removed (signature kept). */
  reply: string;
  /** `reply` without a recognisable signature: what the bot reads. */
  text: string;
  /** Whether anything was removed as quoted history. */
  quoted: boolean;
}

const QUOTE_LINE = /^[ \t]*>/;

/** Attribution lines that introduce quoted history in every client we know. */
const EXPLICIT_ATTRIBUTION = [
  /\bwrote\s*:\s*$/i,
  /写道\s*[:：]\s*$/u,
  /寫道\s*[:：]\s*$/u,
  /написал(?:а)?\s*:\s*$/iu,
  /\ba écrit\s*:\s*$/i,
  /\bschrieb\s*:\s*$/i,
];

/** Separators after which everything is history. */
const SEPARATORS = [
  /^\s*-{2,}\s*Original Message\s*-{2,}\s*$/i,
  /^\s*-{2,}\s*(?:原始邮件|原始郵件|原邮件|原郵件)\s*-{2,}\s*$/u,
  /^\s*-{2,}\s*(?:Reply message|回复的原邮件|回覆的原郵件)\s*-{2,}\s*$/iu,
];

const FORWARD_MARKER = /(?:forwarded message|begin forwarded message|转发的邮件|轉寄的郵件|转发邮件|轉發郵件)/iu;

const HEADER_FROM = /^\s*\*?(?:From|发件人|發件人|寄件者|寄件人|De|Von)\s*\*?\s*[:：]/iu;
const HEADER_OTHER = /^\s*\*?(?:Sent|Date|To|Cc|Subject|发送时间|發送時間|寄件日期|时间|時間|日期|收件人|收件者|抄送|副本|主题|主題|主旨)\s*\*?\s*[:：]/iu;

const SIGNATURE_LINES = [
  /^-- ?$/,
  /^Sent from my [\w -]{2,40}$/i,
  /^Sent from (?:Mail|Outlook|Yahoo Mail|my mobile)\b.*$/i,
  /^Get Outlook for (?:iOS|Android)\b.*$/i,
  /^发自我的\s*(?:iPhone|iPad|手机|華為|华为|小米|Android).*$/u,
  /^從我的\s*(?:iPhone|iPad)\s*傳送$/u,
  /^发自\s*(?:网易邮箱|QQ邮箱|手机QQ邮箱).*$/u,
];

const DATE_OR_ADDRESS = /@|\d{1,4}[./-]\d{1,2}[./-]\d{1,4}|\d{1,2}:\d{2}|\d{4}年/u;

/** Splits an email body into its new text and its quoted history. */
export function stripQuotes(body: string): StrippedReply {
  const lines = body.replace(/\r\n?/g, '\n').split('\n');
  const drop = new Array<boolean>(lines.length).fill(false);
  let cut = lines.length;

  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i] ?? '';
    if (QUOTE_LINE.test(line)) {
      drop[i] = true;
      continue;
    }
    if (SEPARATORS.some((re) => re.test(line)) || isHeaderBlock(lines, i)) {
      cut = i;
      break;
    }
    const attribution = attributionAt(lines, i);
    if (attribution !== null) {
      if (nextNonBlank(lines, i + 1, QUOTE_LINE)) {
        for (let j = attribution; j <= i; j += 1) drop[j] = true;
      } else if (EXPLICIT_ATTRIBUTION.some((re) => re.test(line))) {
        // Quoted history without ">" markers (converted HTML): everything below is history.
        cut = attribution;
        break;
      }
    }
  }

  const kept = lines.slice(0, cut).filter((_, i) => !drop[i]);
  const quoted = cut < lines.length || drop.some(Boolean);
  let reply = tidy(kept.join('\n'));
  // A message that is nothing but history (a bare forward) keeps its text.
  if (reply === '' && quoted) reply = tidy(lines.filter((l) => !QUOTE_LINE.test(l)).join('\n'));
  return { reply, text: stripSignature(reply), quoted };
}

/** Removes a recognisable signature block from the end of a reply. */
export function stripSignature(reply: string): string {
  const lines = reply.split('\n');
  for (let i = 0; i < lines.length; i += 1) {
    const line = (lines[i] ?? '').trimEnd();
    const isDelimiter = /^-- ?$/.test(lines[i] ?? '');
    if (isDelimiter || SIGNATURE_LINES.some((re) => re.test(line))) {
      const before = tidy(lines.slice(0, i).join('\n'));
      // A signature is what follows text; a message that is only a signature keeps it.
      if (before !== '') return before;
    }
  }
  return reply;
}

/** Index of the first line of an attribution ending at line i, or null. */
function attributionAt(lines: string[], i: number): number | null {
  const line = (lines[i] ?? '').trim();
  if (line === '') return null;
  const explicit = EXPLICIT_ATTRIBUTION.some((re) => re.test(line));
  const endsWithColon = /[:：]$/.test(line);
  if (!explicit && !endsWithColon) return null;
  const prev = (lines[i - 1] ?? '').trim();
  // Clients wrap long attributions ("On Thu, … Name <\nname@x> wrote:").
  const wrapped =
    i > 0 &&
    prev !== '' &&
    !QUOTE_LINE.test(lines[i - 1] ?? '') &&
    (/<$/.test(prev) || /^(?:On|在|於|Am|Le)\s/u.test(prev) || /^<?[^\s@]+@[^\s>]+>/.test(line));
  const start = wrapped ? i - 1 : i;
  const whole = wrapped ? `${prev} ${line}` : line;
  if (explicit) return start;
  return DATE_OR_ADDRESS.test(whole) && whole.length <= 300 ? start : null;
}

/** An Outlook-style header block: a From line followed closely by at least one more header line. */
function isHeaderBlock(lines: string[], i: number): boolean {
  if (!HEADER_FROM.test(lines[i] ?? '')) return false;
  let headers = 0;
  for (let j = i + 1; j < Math.min(lines.length, i + 6); j += 1) {
    const l = lines[j] ?? '';
    if (HEADER_OTHER.test(l)) headers += 1;
    else if (l.trim() === '') break;
  }
  if (headers < 2) return false;
  // A forwarded message's header block is content the customer means to show us.
  for (let j = i - 1; j >= 0 && j >= i - 3; j -= 1) {
    if (FORWARD_MARKER.test(lines[j] ?? '')) return false;
  }
  return true;
}

function nextNonBlank(lines: string[], from: number, test: RegExp): boolean {
  for (let j = from; j < lines.length; j += 1) {
    const l = lines[j] ?? '';
    if (l.trim() === '') continue;
    return test.test(l);
  }
  return false;
}

function tidy(text: string): string {
  return text.replace(/\n{3,}/g, '\n\n').replace(/^(?:[ \t]*\n)+/, '').trimEnd();
}
