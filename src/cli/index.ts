import type { Command } from 'commander';
import { registerClassifyCommands } from './classify.js';
import { registerTelegramCommands } from './telegram.js';
import { registerSlaCommands } from './sla.js';
import { registerFlowsCommands } from './flows.js';
import { registerStudioCommands } from './studio.js';
import { registerAfterSalesCommands } from './aftersales.js';
import { registerCustomerCommands } from './customer.js';
import { registerIntentsCommands, registerIntentsTrainCommand } from './intents.js';

/** Adds one feature's subcommands to the `kefu` program. */
export type RegisterCommands = (program: Command) => void;

/** Every feature's command registrar; add yours here (one import, one entry). */
export const commandRegistrars: RegisterCommands[] = [registerTelegramCommands, registerSlaCommands, registerClassifyCommands, registerFlowsCommands, registerStudioCommands, registerAfterSalesCommands, registerCustomerCommands, registerIntentsCommands, registerIntentsTrainCommand];
