import { describe, expect, it } from 'vitest';
import { MmioMap } from '../../src/bus/mmio-map.ts';
import { BootTrace } from '../../src/machine/boot-trace.ts';
import { BootTraceRecorder, classifyInterruptMode, type BootTraceBoard, type PamSegment } from '../../src/machine/boot-trace-recorder.ts';
import { FirmwareTableWatch, type ReaderMode } from '../../src/machine/firmware-table-watch.ts';
import { guestRamWithTables } from '../firmware/table-guest-memory.ts';

describe('BootTrace', () => {
  it('stamps events with time, instructions and order, tells listeners, and writes JSON lines', () => {
    let t = 5;
    const trace = new BootTrace({ timeNs: () => t, instructions: () => t * 10 });
    const seen: string[] = [];
    const stop = trace.onEvent((e) => seen.push(e.type));
    trace.record({ type: 'post', line: 'SeaBIOS (version 1)' });
    t = 7;
    trace.record({ type: 'interrupt-mode', mode: 'virtual-wire' });
    stop();
    trace.record({ type: 'interrupt-mode', mode: 'symmetric-io' });
    expect(seen).toEqual(['post', 'interrupt-mode']);
    expect(trace.events[1]).toEqual({ seq: 1, timeNs: 7, instructions: 70, type: 'interrupt-mode', mode: 'virtual-wire' });
    expect(trace.ofType('interrupt-mode').map((e) => e.mode)).toEqual(['virtual-wire', 'symmetric-io']);
    expect(trace.interruptMode).toBe('symmetric-io');
    const lines = trace.toJsonLines().trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.seq)).toEqual([0, 1, 2]);
    expect(lines[0]).toMatchObject({ type: 'post', line: 'SeaBIOS (version 1)', timeNs: 5 });
  });
});

describe('classifyInterruptMode', () => {
  const masked = 1 << 16;
  const idle = Array(24).fill(masked);
  it('no APICs: the 8259 pair', () => {
    expect(classifyInterruptMode({ apic: false, imcrSymmetric: false, redirectionLows: [] })).toBe('pic');
  });
  it('APICs present but out of the path: PIC; LINT0 ExtINT: virtual wire', () => {
    expect(classifyInterruptMode({ apic: true, imcrSymmetric: false, redirectionLows: idle, localApic: { enabled: false, lint0: 0x700 } })).toBe('pic');
    expect(classifyInterruptMode({ apic: true, imcrSymmetric: false, redirectionLows: idle, localApic: { enabled: true, lint0: 0x700 | masked } })).toBe('pic');
    expect(classifyInterruptMode({ apic: true, imcrSymmetric: false, redirectionLows: idle, localApic: { enabled: true, lint0: 0x700 } })).toBe('virtual-wire');
    const pin0ExtInt = [0x700, ...idle.slice(1)];
    expect(classifyInterruptMode({ apic: true, imcrSymmetric: false, redirectionLows: pin0ExtInt, localApic: { enabled: true, lint0: masked } })).toBe('virtual-wire');
  });
  it('an unmasked fixed entry or IMCR symmetric mode: symmetric I/O', () => {
    const pin2 = [...idle];
    pin2[2] = 0x30;
    expect(classifyInterruptMode({ apic: true, imcrSymmetric: false, redirectionLows: pin2, localApic: { enabled: true, lint0: 0x700 } })).toBe('symmetric-io');
    expect(classifyInterruptMode({ apic: true, imcrSymmetric: true, redirectionLows: idle })).toBe('symmetric-io');
  });
});

/** A watch over plain RAM with a fake physical map. */
function watchSetup(writablePages: (page: number) => boolean = () => true) {
  const ram = new Uint8Array(1 << 20);
  for (let i = 0; i < ram.length; i++) ram[i] = i & 0xff;
  const mmio = new MmioMap();
  const device = new Set<number>();
  const restored: number[] = [];
  let mode: ReaderMode = 'real';
  const reads: string[] = [];
  const watch = new FirmwareTableWatch(
    {
      mmio, ram,
      mapDevice: (p) => device.add(p),
      restorePage: (p) => { device.delete(p); restored.push(p); },
      pageWritable: writablePages,
      pageReadsRam: (p) => p < 0xa0000 || p >= 0xc0000,
      cpuMode: () => mode,
    },
    (t, at, size, m) => reads.push(`${t.name}@${at.toString(16)}/${size}/${m}`),
  );
  return { ram, mmio, device, restored, watch, reads, setMode: (m: ReaderMode) => (mode = m) };
}

describe('FirmwareTableWatch', () => {
  it('routes the pages of a table to MMIO, serves RAM bytes, and reports the first read per CPU mode', () => {
    const s = watchSetup();
    s.watch.arm([{ name: 'DSDT', address: 0x12f80, length: 0x100 }]);
    expect([...s.device].sort()).toEqual([0x12000, 0x13000]);
    expect(s.mmio.read(0x12f00, 4)).toBe(0x03020100); // bytes before the table: RAM, not a table read
    expect(s.reads).toEqual([]);
    expect(s.mmio.read(0x12f7e, 4)).toBe(0x81807f7e); // overlaps the first two bytes
    expect(s.mmio.read(0x12f90, 1)).toBe(0x90);
    expect(s.reads).toEqual(['DSDT@12f7e/4/real']);
    s.setMode('protected');
    s.mmio.read(0x13010, 2);
    s.setMode('paging');
    s.mmio.read(0x12f80, 1);
    expect(s.reads).toEqual(['DSDT@12f7e/4/real', 'DSDT@13010/2/protected', 'DSDT@12f80/1/paging']);
    // Read with paging on: both pages are let go.
    expect(s.device.size).toBe(0);
    expect(s.restored.sort()).toEqual([0x12000, 0x13000]);
    expect(s.mmio.list()).toEqual([]);
  });

  it('keeps a page watched until every table on it was read, and writes reach RAM only where writable', () => {
    const s = watchSetup((p) => p !== 0xf5000);
    s.setMode('paging');
    s.watch.arm([{ name: 'RSDP', address: 0xf5000, length: 36 }, { name: 'MP', address: 0xf5030, length: 16 }]);
    expect(s.watch.watchedPages).toEqual([0xf5000]);
    s.mmio.write(0xf5010, 1, 0xaa); // read-only F segment: dropped
    expect(s.ram[0xf5010]).toBe(0x10);
    s.mmio.read(0xf5000, 4);
    expect(s.watch.watchedPages).toEqual([0xf5000]);
    s.mmio.read(0xf5030, 4);
    expect(s.watch.watchedPages).toEqual([]);
    expect(s.reads).toEqual(['RSDP@f5000/4/paging', 'MP@f5030/4/paging']);
    const w = watchSetup();
    w.watch.arm([{ name: 'FACS', address: 0x20000, length: 64 }]);
    w.mmio.write(0x20008, 2, 0xbeef);
    expect([w.ram[0x20008], w.ram[0x20009]]).toEqual([0xef, 0xbe]);
  });

  it('does not watch pages that do not read RAM, re-routes watched pages after a remap, and lets everything go on disarm', () => {
    const s = watchSetup();
    s.watch.arm([{ name: 'X', address: 0xa0000, length: 16 }]);
    expect(s.watch.watchedPages).toEqual([]);
    s.watch.arm([{ name: 'RSDP', address: 0xf5000, length: 36 }]);
    s.device.clear(); // the machine remapped the F segment (a PAM change)
    s.watch.reapply(0xf0000, 0x10000);
    expect([...s.device]).toEqual([0xf5000]);
    s.watch.disarm();
    expect(s.watch.watchedPages).toEqual([]);
    expect(s.restored).toEqual([0xf5000]);
  });
});

/** A recorder over a fake board whose RAM holds the tables of acpi=1 apic=1. */
function recorderSetup() {
  const { ram } = guestRamWithTables(true, true);
  const mmio = new MmioMap();
  const pam: PamSegment[] = [{ base: 0xf0000, length: 0x10000, readRam: true, writeRam: false }];
  const mapped: string[] = [];
  const low = Array(24).fill(1 << 16);
  const high = Array(24).fill(0);
  const cr0 = 0x80000011; // paging on: reads are the OS's
  let imcr = false;
  const lapic = { hardwareEnabled: true, svr: 0x1ff, lvt: [0x10000, 0x10000, 0x10000, 0x700, 0x400, 0x10000] };
  const board: BootTraceBoard = {
    mmio, ram, timeNs: () => 1000, instructions: () => 42,
    pamSegments: () => pam,
    mapDevicePage: (p) => mapped.push(`device ${p.toString(16)}`),
    mapRamPage: (p) => mapped.push(`ram ${p.toString(16)}`),
    applyPam: (seg) => mapped.push(`pam ${seg.base.toString(16)}`),
    ioApic: { redirectionEntry: (pin) => ({ low: low[pin], high: high[pin] }) },
    localApic: { saveState: () => ({ version: 1, ...lapic }) },
    imcrSymmetric: () => imcr,
    cr0: () => cr0,
  };
  const recorder = new BootTraceRecorder(board);
  const say = (text: string) => { for (const c of text) recorder.debugByte(c.charCodeAt(0)); };
  return { recorder, trace: recorder.trace, say, mmio, mapped, low, high, setImcr: (v: boolean) => (imcr = v) };
}

describe('BootTraceRecorder', () => {
  it('turns SeaBIOS lines into POST milestones and the boot device, then watches the tables it finds', () => {
    const s = recorderSetup();
    expect(s.trace.events.map((e) => e.type)).toEqual(['interrupt-mode']);
    expect(s.trace.interruptMode).toBe('virtual-wire');
    s.say('SeaBIOS (version 1.16.2)\r\nnot interesting\nFound 1 cpu(s) max supported 256 cpu(s)\n');
    expect(s.trace.ofType('post').map((e) => e.line)).toEqual(['SeaBIOS (version 1.16.2)', 'Found 1 cpu(s) max supported 256 cpu(s)']);
    s.say('Booting from Hard Disk...\n');
    expect(s.trace.ofType('boot-device')).toMatchObject([{ device: 'Hard Disk', timeNs: 1000, instructions: 42 }]);
    const located = s.trace.ofType('tables-located')[0].tables;
    expect(located.map((t) => t.name).sort()).toEqual(['APIC', 'DSDT', 'FACP', 'FACS', 'MP', 'PCMP', 'RSDP', 'RSDT', 'XSDT']);
    expect(s.mapped).toContain('device f5000');
    const dsdt = located.find((t) => t.name === 'DSDT')!;
    s.mmio.read(dsdt.address + 4, 4);
    expect(s.trace.ofType('table-read')).toMatchObject([{ table: 'DSDT', address: dsdt.address, at: dsdt.address + 4, size: 4, cpuMode: 'paging' }]);
    // A reset lets every watched page go back to its normal mapping (the F segment through PAM).
    s.recorder.machineReset();
    expect(s.recorder.watchedPages).toEqual([]);
    expect(s.mapped).toContain('pam f0000');
    expect(s.trace.ofType('power').map((e) => e.event)).toEqual(['reset']);
  });

  it('decodes I/O APIC entries as they are programmed and follows the interrupt mode', () => {
    const s = recorderSetup();
    s.high[2] = 0x01000000;
    s.low[2] = 0x30 | (1 << 11); // unmasked, fixed, logical, edge, high
    s.recorder.mmioWrite(0xfec00010);
    expect(s.trace.ofType('ioapic-redirection')).toMatchObject([
      { pin: 2, vector: 0x30, deliveryMode: 'fixed', destinationMode: 'logical', destination: 1, trigger: 'edge', polarity: 'high', masked: false },
    ]);
    expect(s.trace.interruptMode).toBe('symmetric-io');
    s.low[2] |= 1 << 14; // remote IRR is status, not programming
    s.recorder.mmioWrite(0xfec00010);
    expect(s.trace.ofType('ioapic-redirection')).toHaveLength(1);
    s.low[9] = 0x21 | (1 << 15) | (1 << 16);
    s.recorder.mmioWrite(0xfec00000);
    expect(s.trace.ofType('ioapic-redirection')[1]).toMatchObject({ pin: 9, trigger: 'level', masked: true });
  });

  it('records the ACPI enable handshake, SCI_EN, IMCR changes, AP startup and power events', () => {
    const s = recorderSetup();
    s.recorder.smiCommand(0xb2, 0x12, 0xf1, 0xf0);
    s.recorder.smiCommand(0xb2, 0xf1, 0xf1, 0xf0);
    s.recorder.sciEnableChanged(true);
    s.setImcr(true);
    s.recorder.imcrChanged(true);
    s.recorder.apStartup('STARTUP', 1, 0x9f);
    s.recorder.powerEvent('poweroff');
    const types = s.trace.events.map((e) => e.type);
    expect(types.slice(1)).toEqual(['acpi-enable', 'sci-enable', 'imcr', 'interrupt-mode', 'ap-startup', 'power']);
    expect(s.trace.ofType('acpi-enable')[0]).toMatchObject({ port: 0xb2, value: 0xf1 });
    expect(s.trace.ofType('ap-startup')[0]).toMatchObject({ ipi: 'STARTUP', apicId: 1, vector: 0x9f });
  });
});
