// The network bench's table: rates from the measured intervals and the ratios against WebHVM.
import { describe, expect, it } from 'vitest';
import { networkTable, ratioTable, wallMsPerPing } from '../../bench/network-report.ts';
import type { NetworkRun } from '../../bench/network.ts';

function run(side: string, transferWallMs: number, pingWallMs: number): NetworkRun {
  return {
    side, setupSeconds: 100, senderAddress: '10.0.2.15', receiverAddress: '10.0.2.16',
    bytesSent: 4_000_000, bytesReceived: 4_000_000, transferWallMs, transferCpuMs: transferWallMs * 2,
    transferGuestSeconds: 0.5, pingWallMs, pingCpuMs: pingWallMs,
    ping: { transmitted: 20, received: 20, minMs: 0.1, avgMs: 0.25, maxMs: 1 },
  };
}

describe('networkTable', () => {
  it('gives MB/s by wall, CPU and guest time and wall time per ping; a failed side has no figures', () => {
    const table = networkTable([run('webhvm', 2000, 400), run('v86-interp', 8000, 1600), { side: 'v86-jit', error: 'timed out' }]);
    const col = (name: string) => table[0].indexOf(name);
    const [, own, peer, failed] = table;
    expect(own[col('MB/s wall')]).toBe('2.00');
    expect(own[col('MB/s cpu')]).toBe('1.00');
    expect(own[col('MB/s guest')]).toBe('8.00');
    expect(own[col('wall ms/ping')]).toBe('20.0');
    expect(peer[col('MB/s wall')]).toBe('0.50');
    expect(failed).toEqual(['v86-jit', ...Array(9).fill('-')]);
    expect(table.every((r) => r.length === table[0].length)).toBe(true);
  });
});

describe('ratioTable', () => {
  it('compares each WebHVM side with each peer that finished (above 1 = WebHVM faster)', () => {
    const table = ratioTable([
      run('webhvm', 2000, 400), run('webhvm-realtime', 4000, 100), run('v86-interp', 8000, 1600), { side: 'v86-jit', error: 'timed out' },
    ]);
    expect(table.slice(1)).toEqual([
      // 4x the bytes per second, a ping in a quarter of the time.
      ['webhvm', 'v86-interp', '4.00x', '4.00x'],
      ['webhvm-realtime', 'v86-interp', '2.00x', '16.00x'],
    ]);
  });

  it('has no rows without a WebHVM result', () => {
    expect(ratioTable([{ side: 'webhvm', error: 'x' }, run('v86-jit', 1000, 100)])).toHaveLength(1);
  });
});

describe('wallMsPerPing', () => {
  it('divides the ping phase by the requests sent', () => {
    expect(wallMsPerPing(run('webhvm', 1, 500))).toBe(25);
  });
});
