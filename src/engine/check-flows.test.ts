import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FLOW_SCHEMA_FILE, flowSchemaText } from '../cli/flows.js';
import { FLOWS_DIR } from '../paths.js';
import { builtInActionCatalogue } from '../actions/catalogue.js';
import { createDbOrderSource } from '../actions/db-order-source.js';
import { createDbRefundGateway } from '../actions/db-refund-gateway.js';
import { checkFlows, formatProblems } from './check-flows.js';

// The catalogue only lists names and outcomes; the ports are never called.
const catalogue = () => builtInActionCatalogue({ orders: createDbOrderSource(), refunds: createDbRefundGateway() });

const BROKEN = join(import.meta.dirname, '../../test/fixtures/flows/broken');

describe('kefu flows check', () => {
  it('finds no problems in the shipped flows', () => {
    const { problems, flows } = checkFlows(FLOWS_DIR, catalogue());
    expect(formatProblems(problems)).toBe('');
    expect(flows).toBe(6);
  });

  it('keeps flows/flow.schema.json in step with the zod schema (run `kefu flows schema` after changing it)', () => {
    expect(readFileSync(join(FLOWS_DIR, FLOW_SCHEMA_FILE), 'utf8')).toBe(flowSchemaText());
  });

  it('reports each problem of a broken flow with the file, the place and a readable reason', () => {
    const report = formatProblems(checkFlows(BROKEN, catalogue()).problems).split('\n');
    expect(report).toEqual(
      expect.arrayContaining([
        'bad-schema.yaml: steps.a.kind: Invalid discriminator value. Expected \'say\' | \'ask\' | \'choose\' | \'action\' | \'branch\' | \'handoff\' | \'goto\' | \'end\'',
        'main.yaml: steps.menu: goes to step "nowhere", which does not exist',
        'main.yaml: steps.menu.text: missing translation: zh-Hant',
        'main.yaml: steps.lookup.on.missing: "orders.find" has no outcome "missing" (it has: found, not_found)',
        'main.yaml: steps.lookup.on: outcomes of "orders.find" not handled and no "otherwise": not_found',
        expect.stringMatching(/^main\.yaml: steps\.teleport: calls the unknown action "orders\.teleport"/),
        'main.yaml: steps.orphan: is unreachable: no step leads to it',
        'main.yaml: steps.menu.text (en): uses {{customerName}} but "customerName" is not set on every path to this step',
        'main.yaml: steps.lookup.input.query: uses {{orderRef}} but "orderRef" is not set on every path to this step',
      ]),
    );
    expect(report).toHaveLength(11);
  });
});
