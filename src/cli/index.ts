import type { Command } from 'commander';

/** Adds one feature's subcommands to the `kefu` program. */
export type RegisterCommands = (program: Command) => void;

/** Every feature's command registrar; add yours here (one import, one entry). */
export const commandRegistrars: RegisterCommands[] = [];
