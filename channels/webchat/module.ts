import { Hono } from 'hono';
import type { ChannelModule } from '../../src/core/channel-module.js';
import { createWebchatAdapter } from './index.js';
import { webchatPage } from './page.js';
import { type WebchatDeps, webchatRoutes } from './routes.js';

/** The web chat channel: the JSON API under /api/webchat and the consumer page at `/`. */
export function createWebchatChannel(deps: WebchatDeps): ChannelModule {
  const page = new Hono().get('/', (c) => c.html(webchatPage({ demoMode: deps.demoMode })));
  return {
    name: 'webchat',
    adapter: createWebchatAdapter(),
    routes: [
      { path: '/api/webchat', app: webchatRoutes(deps) },
      { path: '/', app: page },
    ],
  };
}
