import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import postgres from 'postgres';
import { migrateDatabase, openDatabase } from '../../src/db/client.js';

const TEMPLATE_DIR = join(import.meta.dirname, '../../.tmp');
// One file per run: several vitest runs may share the checkout.
const PGLITE_TEMPLATE = join(TEMPLATE_DIR, `pglite-template-${process.pid}.tar.gz`);
const PG_TEMPLATE_DB = `kefu_test_template_${process.pid}`;

/**
 * Migrates one PGlite database and dumps it, so each test file loads a copy (~1 s) instead of
 * running initdb and migrations (~4 s). With TEST_DATABASE_URL, also migrates a PostgreSQL
 * template database that test files clone with CREATE DATABASE … TEMPLATE.
 */
export default async function setup(project: TestProject) {
  mkdirSync(TEMPLATE_DIR, { recursive: true });
  const database = await openDatabase({ kind: 'pglite', dataDir: null });
  await migrateDatabase(database);
  const pg = (database as unknown as { db: { $client: { dumpDataDir(c: string): Promise<Blob> } } }).db.$client;
  const dump = await pg.dumpDataDir('gzip');
  writeFileSync(PGLITE_TEMPLATE, Buffer.from(await dump.arrayBuffer()));
  await database.close();
  project.provide('pgliteTemplate', PGLITE_TEMPLATE);
  process.once('exit', () => rmSync(PGLITE_TEMPLATE, { force: true }));

  const url = process.env.TEST_DATABASE_URL;
  if (!url && process.env.KEFU_REQUIRE_POSTGRES === '1') {
    throw new Error('KEFU_REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not set: refusing to skip the PostgreSQL suites');
  }
  const summary: string[] = ['PGlite: all database suites run'];
  if (url) {
    const admin = postgres(url, { onnotice: () => {}, max: 1 });
    try {
      await admin.unsafe(`select pg_terminate_backend(pid) from pg_stat_activity where datname = '${PG_TEMPLATE_DB}' and pid <> pg_backend_pid()`);
      await admin.unsafe(`drop database if exists ${PG_TEMPLATE_DB}`);
      await admin.unsafe(`create database ${PG_TEMPLATE_DB}`);
    } finally {
      await admin.end();
    }
    const templateUrl = withDatabase(url, PG_TEMPLATE_DB);
    const pgDatabase = await openDatabase({ kind: 'postgres', url: templateUrl });
    await migrateDatabase(pgDatabase);
    await pgDatabase.close();
    project.provide('postgresTemplate', PG_TEMPLATE_DB);
    summary.push(`PostgreSQL: suites also run against ${redact(url)}`);
  } else {
    project.provide('postgresTemplate', '');
    summary.push('PostgreSQL: NOT run (set TEST_DATABASE_URL=postgres://… to run every database suite against it too)');
  }
  process.stdout.write(`\n[kefu tests] ${summary.join('\n[kefu tests] ')}\n`);
  return async () => {
    if (!url) return;
    const admin = postgres(url, { onnotice: () => {}, max: 1 });
    try {
      await admin.unsafe(`drop database if exists ${PG_TEMPLATE_DB} with (force)`);
    } finally {
      await admin.end();
    }
  };
}

export function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

function redact(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}

declare module 'vitest' {
  export interface ProvidedContext {
    pgliteTemplate: string;
    postgresTemplate: string;
  }
}
