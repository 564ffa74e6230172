import { z } from 'zod';
import { Intent } from '../core/intent.js';
import { Locale } from '../core/message.js';

/** Bot wording in every supported locale; a missing locale is reported by `kefu flows check`. */
export const Text = z.strictObject({
  'zh-Hans': z.string().min(1).optional(),
  'zh-Hant': z.string().min(1).optional(),
  en: z.string().min(1).optional(),
});
export type Text = z.infer<typeof Text>;

const Name = z.string().regex(/^[a-z][a-z0-9_]*$/, 'use lower_snake_case');
/** A slot name: `orderRef`, `callback_phone`. */
const SlotName = z.string().regex(/^[a-zA-Z][a-zA-Z0-9_]*$/, 'a slot name like orderRef');
/** A slot path: a slot name, optionally followed by fields (`check.amount`). */
const SlotPath = z.string().regex(/^[a-zA-Z][a-zA-Z0-9_]*(\.[a-zA-Z0-9_]+)*$/, 'a slot name like orderNumber or check.amount');

/** How free text becomes a slot value; a closed set, each with one implementation in advance.ts. */
export const Extractor = z.enum(['text', 'order_ref', 'order_number', 'phone', 'photos']);
export type Extractor = z.infer<typeof Extractor>;

/** Why a conversation goes to humans; the same closed set as the handoffs table. */
export const HandoffReason = z.enum([
  'customer_request',
  'not_understood',
  'anger',
  'complaint',
  'refund_exception',
  'refund_review',
  'callback_requested',
  'flow',
]);
export type HandoffReason = z.infer<typeof HandoffReason>;

/** A quick reply of a `choose` or `ask` step. */
export const Option = z.strictObject({
  id: z.string().regex(/^[a-z0-9_:.-]{1,64}$/),
  label: Text,
  next: Name,
  /** Free text the classifier maps to this intent picks this option. */
  intent: Intent.optional(),
  /** A yes/no answer in free text picks this option. */
  affirmation: z.enum(['yes', 'no']).optional(),
  /** Slot values set when this option is picked. */
  set: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
});
export type Option = z.infer<typeof Option>;

/** Options built at run time from a list slot (recent orders, coupons of an order). */
export const DynamicOptions = z.strictObject({
  /** A slot path holding an array of objects. */
  list: SlotPath,
  /** The field of each item that becomes the slot value (and the quick-reply id). */
  value: z.string().min(1),
  /** Label template; variables are the item's fields. */
  label: Text,
  /** The slot that receives the picked item's value. */
  slot: SlotName,
  next: Name,
  /** Only items whose field `when.field` equals `when.equals` are offered. */
  when: z.strictObject({ field: z.string().min(1), equals: z.union([z.string(), z.number(), z.boolean()]) }).optional(),
  max: z.number().int().min(1).max(8).default(6),
});
export type DynamicOptions = z.infer<typeof DynamicOptions>;

/** Free text that is not an option but fits an extractor is captured into a slot. */
export const Capture = z.strictObject({ slot: SlotName, extract: Extractor, next: Name });
export type Capture = z.infer<typeof Capture>;

const Say = z.strictObject({ kind: z.literal('say'), text: Text, next: Name });
const Ask = z.strictObject({
  kind: z.literal('ask'),
  text: Text,
  slot: SlotName,
  extract: Extractor,
  /** Said when the answer does not fit; then the question is asked again. */
  invalid: Text,
  /** Re-asks before giving up. */
  retries: z.number().int().min(0).max(5).default(2),
  next: Name,
  /** Where to go when the answer still does not fit after the re-asks. */
  onFail: Name,
  options: z.array(Option).default([]),
});
const Choose = z.strictObject({
  kind: z.literal('choose'),
  text: Text,
  options: z.array(Option).default([]),
  /** Options from list slots; several lists (or one list filtered by `when`) are shown in order. */
  from: z.array(DynamicOptions).default([]),
  capture: Capture.optional(),
});
const Action = z.strictObject({
  kind: z.literal('action'),
  action: z.string().regex(/^[a-z]+(\.[a-z_]+)+$/, 'an action name like refund.check'),
  /**
   * Input fields: templates over slots; a template that is exactly one `{{var}}` passes the raw
   * value, and `{{var?}}` marks a slot that may be unset (the field is then left out).
   */
  input: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
  /** The slot that receives the action's data. */
  save: SlotName.optional(),
  /** Next step per outcome; every outcome the action has must be handled or `otherwise` given. */
  on: z.record(z.string(), Name),
  otherwise: Name.optional(),
});
const Condition = z.strictObject({
  slot: SlotPath,
  equals: z.union([z.string(), z.number(), z.boolean()]).optional(),
  in: z.array(z.union([z.string(), z.number()])).optional(),
  present: z.boolean().optional(),
});
const Branch = z.strictObject({
  kind: z.literal('branch'),
  cases: z.array(z.strictObject({ if: Condition, next: Name })).min(1),
  else: Name,
});
const Handoff = z.strictObject({
  kind: z.literal('handoff'),
  reason: HandoffReason,
  /** Told after the ticket is opened; `{{ticketNumber}}` is available. */
  text: Text,
  priority: z.number().int().min(0).max(9).default(0),
  /** The slot with the number to call back, if any. */
  callbackSlot: SlotName.optional(),
});
const Goto = z.strictObject({ kind: z.literal('goto'), flow: Name, step: Name.optional() });
const End = z.strictObject({ kind: z.literal('end'), text: Text.optional() });

/** One step of a flow: a closed set of kinds, each with one executor. */
export const Step = z.discriminatedUnion('kind', [Say, Ask, Choose, Action, Branch, Handoff, Goto, End]);
export type Step = z.infer<typeof Step>;
export type StepKind = Step['kind'];
export type StepOf<K extends StepKind> = Extract<Step, { kind: K }>;

/** A flow file (flows/<id>.yaml). */
export const Flow = z.strictObject({
  id: Name,
  description: z.string().optional(),
  start: Name,
  /** Free space for YAML anchors (shared labels); ignored by the engine. */
  shared: z.unknown().optional(),
  steps: z.record(Name, Step),
});
export type Flow = z.infer<typeof Flow>;

/** flows/global.yaml: behaviour shared by every step of every flow. */
export const Globals = z.strictObject({
  mainFlow: Name,
  /** Failed understandings in a row before handing off with reason not_understood. */
  maxMisses: z.number().int().min(1).max(5).default(2),
  /** Exact phrases (case-insensitive, trimmed) that trigger global commands, in any locale. */
  commands: z.strictObject({
    menu: z.array(z.string().min(1)).min(1),
    cancel: z.array(z.string().min(1)).min(1),
    locale: z.strictObject({ 'zh-Hans': z.array(z.string().min(1)), 'zh-Hant': z.array(z.string().min(1)), en: z.array(z.string().min(1)) }),
  }),
  /** The "talk to a person" quick reply added to every question. */
  humanOption: z.strictObject({ id: z.string().regex(/^[a-z0-9_]{1,64}$/), label: Text }),
  /**
   * "Anything else?": the quick reply (with the person button) on a flow's final message, so a
   * finished flow never leaves the consumer without a button. Pressing it shows the main menu.
   */
  menuOption: z.strictObject({ id: z.string().regex(/^[a-z0-9_]{1,64}$/), label: Text }).optional(),
  messages: z.strictObject({
    /** First failed understanding; the question follows again. */
    notUnderstood: Text,
    /** Handoff texts for the global triggers; `{{ticketNumber}}` is available. */
    handoffCustomerRequest: Text,
    handoffNotUnderstood: Text,
    handoffAnger: Text,
    /** Said once while the case waits for a person; `{{ticketNumber}}`, `{{waitMinutes}}`. */
    waitingAck: Text,
    /** "menu" while a person handles the case. */
    humanOwnedMenu: Text,
    /** "cancel" while waiting: back to the bot. */
    handoffCancelled: Text,
    /**
     * While the case waits for a person, the consumer asks for a person again (or a flow would hand
     * off): no second case; the place in the queue stays. `{{ticketNumber}}`, `{{waitMinutes}}`.
     */
    stillQueued: Text,
    /**
     * The first answer to a new email conversation (email has no greeting on opening, nor buttons)
     * starts with this, unless it is the main menu itself; `{{options}}` is the main menu's option
     * labels as a list in words.
     */
    emailGreeting: Text,
    /** A message that is only a voice note (or other audio): we keep it but cannot listen; the question's buttons follow. */
    voiceUnsupported: Text,
    /**
     * An account action (orders, coupon codes, refunds, complaints on an order) was asked for by a
     * sender whose identity is not proven: how to prove it on their channel. `reply`: answer the
     * email (through its reply address); `shareContact`: share one's own phone number (with the
     * `shareButton` quick reply); `signIn`: open the chat from the signed-in app.
     */
    proofRequired: z.strictObject({ reply: Text, shareContact: Text, signIn: Text, shareButton: Text }),
  }),
});
export type Globals = z.infer<typeof Globals>;

export const LOCALES = Locale.options;

/** JSON Schema of a flow file, for editors (written to flows/flow.schema.json). */
export function flowJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(Flow, { io: 'input', unrepresentable: 'any' });
}
