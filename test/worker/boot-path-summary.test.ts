import { describe, expect, it } from 'vitest';
import { BootTrace, type BootTraceDetails } from '../../src/machine/boot-trace.ts';
import { BootPathSummary } from '../../src/worker/boot-path-summary.ts';

function summarize(events: BootTraceDetails[]): BootPathSummary {
  const trace = new BootTrace({ timeNs: () => 0, instructions: () => 0 });
  const summary = new BootPathSummary();
  trace.onEvent((e) => summary.add(e));
  for (const e of events) trace.record(e);
  return summary;
}

describe('BootPathSummary', () => {
  it('keeps one line per step in first-seen order, updated in place', () => {
    const s = summarize([
      { type: 'boot-device', device: 'CD-Rom [ata1-0]' },
      { type: 'tables-located', tables: [{ name: 'RSDP', address: 0xf5cb0, length: 36 }, { name: 'XSDT', address: 0x7ffe000, length: 44 }] },
      { type: 'table-read', table: 'RSDP', address: 0xf5cb0, length: 36, at: 0xf5cb0, size: 1, cpuMode: 'real' },
      { type: 'interrupt-mode', mode: 'virtual-wire' },
      { type: 'table-read', table: 'RSDP', address: 0xf5cb0, length: 36, at: 0xf5cb0, size: 4, cpuMode: 'paging' },
      { type: 'table-read', table: 'XSDT', address: 0x7ffe000, length: 44, at: 0x7ffe000, size: 4, cpuMode: 'paging' },
      { type: 'table-read', table: 'RSDP', address: 0xf5cb0, length: 36, at: 0xf5cb4, size: 4, cpuMode: 'paging' },
      { type: 'interrupt-mode', mode: 'symmetric-io' },
    ]);
    expect(s.events).toBe(8);
    expect(s.summary).toEqual([
      'booting from: CD-Rom [ata1-0]',
      'tables found: RSDP XSDT',
      'tables read (real mode): RSDP',
      'interrupt mode: symmetric I/O',
      'tables read (paging on): RSDP XSDT',
    ]);
  });

  it('lists unmasked I/O APIC pins by vector, and says so when all are masked', () => {
    const pin = (n: number, vector: number, masked: boolean, trigger: 'edge' | 'level' = 'edge'): BootTraceDetails => ({
      type: 'ioapic-redirection', pin: n, vector, deliveryMode: 'fixed', destinationMode: 'physical', destination: 0, trigger, polarity: 'high', masked,
    });
    expect(summarize([pin(2, 0x30, true)]).summary).toEqual(['I/O APIC: 1 pin programmed, all masked']);
    expect(summarize([pin(9, 0x39, true), pin(2, 0x30, false), pin(9, 0x39, false, 'level')]).summary).toEqual(['I/O APIC pins: 2→30h, 9→39h level']);
  });

  it('describes the ACPI handshake, AP start-up and power events', () => {
    const s = summarize([
      { type: 'acpi-enable', port: 0xb2, value: 0xf1 },
      { type: 'ap-startup', ipi: 'INIT', apicId: 1 },
      { type: 'ap-startup', ipi: 'STARTUP', apicId: 1, vector: 0x9a },
      { type: 'sci-enable', enabled: true },
      { type: 'power', event: 'reset' },
    ]);
    expect(s.summary).toEqual(['ACPI mode: SCI_EN on', 'AP start-up: STARTUP to APIC 1 (vector 9ah); started: APIC 1', 'power: reset']);
  });
});
