import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseListen, relayCommand } from '../../src/cli/relay-command.ts';
import { connectNodeWebSocket } from '../../src/cli/websocket-client-node.ts';

afterEach(() => vi.restoreAllMocks());

describe('webhvm relay', () => {
  it('parses --listen forms', () => {
    expect(parseListen('127.0.0.1:8086')).toEqual({ host: '127.0.0.1', port: 8086 });
    expect(parseListen('[::1]:9000')).toEqual({ host: '::1', port: 9000 });
    expect(parseListen('9000')).toEqual({ host: '127.0.0.1', port: 9000 });
    expect(parseListen('0.0.0.0:70000')).toBeUndefined();
    expect(parseListen('host:port')).toBeUndefined();
  });

  it('refuses bad arguments with exit status 2 and a message', async () => {
    const errors: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((m) => void errors.push(String(m)));
    expect(await relayCommand(['--listen', 'nowhere'], Promise.resolve())).toBe(2);
    expect(await relayCommand(['--host-loopback', 'maybe'], Promise.resolve())).toBe(2);
    expect(await relayCommand(['--bogus'], Promise.resolve())).toBe(2);
    expect(errors.join('\n')).toMatch(/--listen: expected HOST:PORT, got 'nowhere'/);
    expect(errors.join('\n')).toMatch(/--host-loopback: expected yes or no/);
  });

  it('listens on loopback, accepts a WebSocket client, and stops when told', async () => {
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((m) => void lines.push(String(m)));
    vi.spyOn(console, 'error').mockImplementation(() => {});
    let stop!: () => void;
    const stopped = new Promise<void>((r) => (stop = r));
    const running = relayCommand(['--listen', '127.0.0.1:0'], stopped);
    await vi.waitFor(() => expect(lines.join('\n')).toMatch(/listening on ws:\/\/127\.0\.0\.1:\d+\//));
    const url = /ws:\/\/\S+\//.exec(lines[0])![0];
    expect(url).not.toMatch(/:0\/$/);
    expect(lines[0]).toContain('host loopback at 10.0.3.2');
    const client = connectNodeWebSocket(url);
    await new Promise((r) => (client.onopen = r));
    stop();
    expect(await running).toBe(0);
    expect(lines.at(-1)).toBe('webhvm relay: stopped');
  });
});
