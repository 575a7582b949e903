/**
 * NODE-ONLY: `webhvm relay [--listen HOST:PORT] [--host-loopback yes|no]`: runs the network relay
 * until interrupted. Binds 127.0.0.1:8086 by default: a relay lets its clients open connections
 * from this host, so listening on another interface is a deliberate choice.
 */
import { parseArgs } from 'node:util';
import { startRelayServer, type RunningRelay } from './relay-server-node.ts';

export const RELAY_USAGE = `  relay [options]          run a network relay: VMs connect with --relay ws://HOST:PORT/
      --listen HOST:PORT   address to listen on (default 127.0.0.1:8086)
      --host-loopback yes|no
                           guests reach this host's 127.0.0.1 at the relay router's address
                           10.0.3.2 (default: yes when listening on loopback, no otherwise)`;

const EXIT_BAD_INPUT = 2;

export interface RelayListen {
  host: string;
  port: number;
}

/** Parses `HOST:PORT`, `[v6]:PORT` or `PORT`; undefined when malformed. */
export function parseListen(text: string): RelayListen | undefined {
  const t = text.trim();
  const m = /^\d+$/.test(t) ? [t, undefined, undefined, t] : /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(t);
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port > 65535) return undefined;
  return { host: m[1] ?? m[2] ?? '127.0.0.1', port };
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

/** Starts the relay from command-line arguments; resolves to the exit code when it stops. */
export async function relayCommand(args: string[], stopSignal: Promise<void> = interrupted()): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args, options: { listen: { type: 'string' }, 'host-loopback': { type: 'string' } } }));
  } catch (e) {
    console.error(`webhvm relay: ${(e as Error).message}`);
    return EXIT_BAD_INPUT;
  }
  const listen = parseListen(values.listen ?? '127.0.0.1:8086');
  if (!listen) {
    console.error(`webhvm relay: --listen: expected HOST:PORT, got '${values.listen}'`);
    return EXIT_BAD_INPUT;
  }
  const loopbackChoice = values['host-loopback'];
  if (loopbackChoice !== undefined && loopbackChoice !== 'yes' && loopbackChoice !== 'no') {
    console.error(`webhvm relay: --host-loopback: expected yes or no, got '${loopbackChoice}'`);
    return EXIT_BAD_INPUT;
  }
  const hostLoopback = loopbackChoice === undefined ? isLoopback(listen.host) : loopbackChoice === 'yes';
  let relay: RunningRelay;
  try {
    relay = await startRelayServer({ ...listen, hostLoopback, log: (line) => console.error(`webhvm relay: ${line}`) });
  } catch (e) {
    console.error(`webhvm relay: cannot listen on ${listen.host}:${listen.port}: ${(e as Error).message}`);
    return 1;
  }
  console.log(`webhvm relay: listening on ${relay.url} (guests get 10.0.3.x by DHCP; host loopback ${hostLoopback ? 'at 10.0.3.2' : 'not reachable'})`);
  if (!isLoopback(listen.host)) console.error('webhvm relay: warning: listening beyond loopback: anyone who reaches this port can make connections from this host');
  await stopSignal;
  await relay.close();
  console.log('webhvm relay: stopped');
  return 0;
}

function interrupted(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
