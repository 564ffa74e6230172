import type { Hono } from 'hono';
import type { Clock } from '../core/ports.js';
import type { Db } from '../db/client.js';
import type { Studio } from '../studio/studio.js';
import { studioApiRoutes } from './studio-api.js';
import { studioPages } from './studio-pages.js';

/** The platform studio's routes: its JSON API and its pages. */
export function studioMounts(deps: { studio: Studio; db: Db; clock: Clock; sessionTtlMs: number }): { path: string; app: Hono<any> }[] {
  return [
    { path: '/api/admin/studio', app: studioApiRoutes(deps) },
    { path: '/admin/studio', app: studioPages(deps) },
  ];
}
