import { createServer, type Server, type Socket, connect } from 'node:net';

/**
 * A loopback TCP proxy in front of the shared PostgreSQL, so a test can take "its" database away
 * without stopping the server other suites use: `stop()` closes every connection and refuses new
 * ones (like a stopped server), `blackhole()` accepts connections and never answers (like a host
 * that vanished from the network), `resume()` forwards again.
 */
export async function tcpProxy(target: { host: string; port: number }) {
  let mode: 'forward' | 'blackhole' | 'stopped' = 'forward';
  const sockets = new Set<Socket>();
  const track = (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
  };
  const onConnection = (client: Socket) => {
    track(client);
    if (mode === 'blackhole') return;
    const upstream = connect(target.port, target.host);
    track(upstream);
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  };
  let server: Server = createServer(onConnection);
  const listen = (port: number) =>
    new Promise<number>((resolve) => {
      server.listen(port, '127.0.0.1', () => {
        const address = server.address();
        resolve(typeof address === 'object' && address ? address.port : 0);
      });
    });
  const port = await listen(0);
  const dropAll = () => {
    for (const s of sockets) s.destroy();
  };
  return {
    port,
    async stop() {
      mode = 'stopped';
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      dropAll();
      await closed;
    },
    blackhole() {
      mode = 'blackhole';
      dropAll();
    },
    async resume() {
      if (mode === 'stopped') {
        server = createServer(onConnection);
        await listen(port);
      }
      mode = 'forward';
    },
    async close() {
      mode = 'stopped';
      dropAll();
      await new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
    },
  };
}
