import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { AppError } from '../core/errors.js';
import { builtInActionCatalogue } from '../engine/action-catalogue.js';
import { checkFlows, formatProblems } from '../engine/check-flows.js';
import { flowJsonSchema } from '../engine/flow-schema.js';
import { FLOWS_DIR } from '../paths.js';
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
    .action((opts: { dir: string }) => {
      const { problems, flows: count } = checkFlows(opts.dir, builtInActionCatalogue());
      if (problems.length > 0) {
        process.stderr.write(`${formatProblems(problems)}\n`);
        throw new AppError('validation_failed', `${problems.length} problem(s) in ${opts.dir}`);
      }
      process.stdout.write(`${count} flows OK\n`);
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
