import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { AppError } from '../core/errors.js';
import { builtInActionCatalogue } from '../actions/catalogue.js';
import { createDbOrderSource } from '../actions/db-order-source.js';
import { createDbRefundGateway } from '../actions/db-refund-gateway.js';
import { checkFlows, formatProblems } from '../engine/check-flows.js';
import { flowJsonSchema } from '../engine/flow-schema.js';
import { loadLexicon } from '../intent/lexicon.js';
import { checkPromptVariables } from '../llm/prompts.js';
import { FLOWS_DIR, PROMPTS_DIR } from '../paths.js';
import type { RegisterCommands } from './index.js';

/** The JSON Schema file editors use for flows/*.yaml. */
export const FLOW_SCHEMA_FILE = 'flow.schema.json';

/** The JSON Schema as committed: stable formatting so a test can compare it. */
export function flowSchemaText(): string {
  return `${JSON.stringify(flowJsonSchema(), null, 2)}\n`;
}

/** `kefu flows check` and `kefu flows schema`. */
export const registerFlowsCommands: RegisterCommands = (program: Command) => {
  const flows = program.command('flows').description('check and describe the guided flows in flows/');
  flows
    .command('check')
    .description('validate every flow: schema, actions and outcomes, dangling or unreachable steps, translations, template variables')
    .option('--dir <dir>', 'flows directory', FLOWS_DIR)
    .option('--prompts <dir>', 'prompts directory', PROMPTS_DIR)
    .action((opts: { dir: string; prompts: string }) => {
      const { problems, flows: count } = checkFlows(opts.dir, builtInActionCatalogue({ orders: createDbOrderSource(), refunds: createDbRefundGateway() }));
      // The intent lexicon and the LLM prompts are platform-team data too: check them in the same pass.
      const other: string[] = [...checkPromptVariables(opts.prompts)];
      try {
        loadLexicon(join(opts.dir, 'intents.yaml'));
      } catch (err) {
        other.push(err instanceof Error ? err.message : String(err));
      }
      if (problems.length > 0 || other.length > 0) {
        if (problems.length > 0) process.stderr.write(`${formatProblems(problems)}\n`);
        for (const line of other) process.stderr.write(`${line}\n`);
        throw new AppError('validation_failed', `${problems.length + other.length} problem(s) in ${opts.dir} and ${opts.prompts}`);
      }
      process.stdout.write(`${count} flows OK, intent lexicon OK, prompts OK\n`);
    });
  flows
    .command('schema')
    .description(`write the JSON Schema of a flow file to flows/${FLOW_SCHEMA_FILE} (for editors)`)
    .option('--stdout', 'print it instead')
    .action((opts: { stdout?: boolean }) => {
      if (opts.stdout) process.stdout.write(flowSchemaText());
      else writeFileSync(join(FLOWS_DIR, FLOW_SCHEMA_FILE), flowSchemaText());
    });
};
