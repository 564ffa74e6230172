import { z } from 'zod';

// The parts of Telegram Bot API objects kefu reads. Loose objects: Telegram adds fields often,
// and an unknown field must never make us drop an update.

export const TelegramUser = z.looseObject({
  id: z.number().int(),
  is_bot: z.boolean().optional(),
  first_name: z.string().optional(),
  last_name: z.string().optional(),
  username: z.string().optional(),
  language_code: z.string().optional(),
});
export type TelegramUser = z.infer<typeof TelegramUser>;

export const TelegramChat = z.looseObject({
  id: z.number().int(),
  type: z.string(),
  title: z.string().optional(),
});
export type TelegramChat = z.infer<typeof TelegramChat>;

const FileRef = z.looseObject({
  file_id: z.string(),
  file_unique_id: z.string().optional(),
  file_size: z.number().int().nonnegative().optional(),
  mime_type: z.string().optional(),
  file_name: z.string().optional(),
});

export const TelegramPhotoSize = FileRef.extend({ width: z.number().int(), height: z.number().int() });

const InlineButton = z.looseObject({ text: z.string(), callback_data: z.string().optional() });

export const TelegramInlineKeyboard = z.looseObject({
  inline_keyboard: z.array(z.array(InlineButton)),
});

export const TelegramContact = z.looseObject({
  phone_number: z.string(),
  first_name: z.string().optional(),
  last_name: z.string().optional(),
  user_id: z.number().int().optional(),
});

export const TelegramMessage = z.looseObject({
  message_id: z.number().int(),
  date: z.number().int(),
  chat: TelegramChat,
  from: TelegramUser.optional(),
  text: z.string().optional(),
  caption: z.string().optional(),
  photo: z.array(TelegramPhotoSize).optional(),
  document: FileRef.optional(),
  voice: FileRef.extend({ duration: z.number().optional() }).optional(),
  audio: FileRef.extend({ duration: z.number().optional() }).optional(),
  video: FileRef.optional(),
  video_note: FileRef.optional(),
  sticker: FileRef.extend({ emoji: z.string().optional() }).optional(),
  contact: TelegramContact.optional(),
  edit_date: z.number().int().optional(),
  reply_markup: TelegramInlineKeyboard.optional(),
});
export type TelegramMessage = z.infer<typeof TelegramMessage>;

export const TelegramCallbackQuery = z.looseObject({
  id: z.string(),
  from: TelegramUser,
  data: z.string().optional(),
  /** Absent when the button was on an inline-mode message or the message is too old. */
  message: z.looseObject({ message_id: z.number().int(), chat: TelegramChat, reply_markup: TelegramInlineKeyboard.optional() }).optional(),
});
export type TelegramCallbackQuery = z.infer<typeof TelegramCallbackQuery>;

export const TelegramChatMemberUpdated = z.looseObject({
  chat: TelegramChat,
  from: TelegramUser,
  new_chat_member: z.looseObject({ status: z.string() }),
});

/** An update as Telegram posts it: `update_id` plus exactly one kind field. */
export const TelegramUpdate = z.looseObject({
  update_id: z.number().int().nonnegative(),
});
export type TelegramUpdate = z.infer<typeof TelegramUpdate>;

/** The update kinds kefu asks Telegram for (setWebhook / getUpdates `allowed_updates`). */
export const ALLOWED_UPDATES = ['message', 'edited_message', 'callback_query', 'my_chat_member'] as const;
