import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';
import { detectLocale } from '../core/locale.js';
import { Locale } from '../core/message.js';
import type { Responder } from '../inbox/responder.js';

const Localized = z.object({ 'zh-Hans': z.string().min(1), 'zh-Hant': z.string().min(1), en: z.string().min(1) });

export const MainMenu = z.object({
  greeting: Localized,
  options: z.array(z.object({ id: z.string().min(1), label: Localized })).min(1),
});
export type MainMenu = z.infer<typeof MainMenu>;

/** Loads and validates flows/main-menu.yaml. */
export function loadMainMenu(path: string): MainMenu {
  return MainMenu.parse(parse(readFileSync(path, 'utf8')));
}

/** The bot before the flow engine: every message is answered with the main menu. */
export function createMenuResponder(menu: MainMenu): Responder {
  return {
    async respond({ conversation, message }) {
      const locale = Locale.catch(conversation.locale).parse(detectLocale(message.text) ?? conversation.locale);
      return {
        replies: [
          {
            text: menu.greeting[locale],
            quickReplies: menu.options.map((o) => ({ id: o.id, label: o.label[locale] })),
          },
        ],
        patch: { locale },
      };
    },
  };
}
