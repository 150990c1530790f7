// `ws` ships no types and @types/ws is not installed; these are the few members the loopback
// gateways use (ws 8 API).
declare module 'ws' {
  import type { EventEmitter } from 'node:events';
  import type { IncomingMessage, Server } from 'node:http';
  import type { Duplex } from 'node:stream';

  class WebSocket extends EventEmitter {
    static readonly OPEN: 1;
    readyState: number;
    send(data: string | Buffer, cb?: (err?: Error) => void): void;
    close(code?: number): void;
    terminate(): void;
  }
  class WebSocketServer extends EventEmitter {
    constructor(opts: { noServer?: boolean; server?: Server; port?: number });
    clients: Set<WebSocket>;
    handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, cb: (ws: WebSocket, req: IncomingMessage) => void): void;
    close(cb?: () => void): void;
  }
  export { WebSocket, WebSocketServer };
  export default WebSocket;
}
