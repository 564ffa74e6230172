import { Hono } from 'hono';
import type { ChannelModule } from '../../src/core/channel-module.js';
import { createWebchatAdapter } from './index.js';
import { webchatPage, widgetScript } from './page.js';
import { ATTACHMENTS_PATH, type WebchatDeps, webchatRoutes } from './routes.js';

/** The web chat channel: the JSON API under /api/webchat and the consumer page at `/`. */
export function createWebchatChannel(deps: WebchatDeps): ChannelModule {
  const page = new Hono()
    .get('/', (c) => c.html(webchatPage({ demoMode: deps.demoMode })))
    // Loaded by other sites' pages: readable cross-origin, whatever headers pages get elsewhere.
    .get('/widget.js', (c) => {
      c.header('content-type', 'text/javascript; charset=utf-8');
      c.header('access-control-allow-origin', '*');
      c.header('cross-origin-resource-policy', 'cross-origin');
      c.header('cache-control', 'public, max-age=300');
      return c.body(widgetScript());
    });
  return {
    name: 'webchat',
    adapter: createWebchatAdapter(),
    routes: [
      { path: '/api/webchat', app: webchatRoutes(deps) },
      { path: '/', app: page },
    ],
    rawBodyPaths: [ATTACHMENTS_PATH],
  };
}
