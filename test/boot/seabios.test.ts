import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Machine } from '../../src/machine/machine.ts';
import { loadCoreModule } from '../../src/cpu/load-core-node.ts';
import { loadFirmwareFiles } from '../../src/firmware/firmware-files-node.ts';
import { SYSTEM_BIOS, VGA_BIOS_STDVGA } from '../../src/firmware/firmware-files.ts';
import { encodePng } from '../../src/display/png.ts';
import { inflateSync } from 'node:zlib';

describe('SeaBIOS on the PC with no bootable device', () => {
  const firmware = loadFirmwareFiles([SYSTEM_BIOS, VGA_BIOS_STDVGA]);
  let debug = '';
  const machine = new Machine({
    name: 'bios', ramMiB: 32, cpuCount: 1, acpi: false, apic: false, pae: false, boot: ['disk'],
    ide: [], floppies: [], rtcStartSeconds: 1_700_000_000,
    firmware: { bios: firmware.get(SYSTEM_BIOS)!, vgaBios: firmware.get(VGA_BIOS_STDVGA)! },
    debugConsole: (b) => (debug += String.fromCharCode(b)),
  }, loadCoreModule());
  // POST, option ROM, boot attempt: a few million instructions.
  for (let i = 0; i < 400 && !debug.includes('No bootable device'); i++) machine.runSlice();

  it('logs its banner and the fw_cfg-provided setup on the debug console', () => {
    expect(debug).toMatch(/SeaBIOS \(version [^)]+\)/);
    // Host bridge, ISA bridge, IDE, VGA: with acpi=0 there is no power-management function.
    expect(debug).toContain('Found 4 PCI devices');
    // RAM size from etc/e820: 32 MiB, less the few pages the BIOS reserves at the top.
    expect(debug).toMatch(/qemu\/e820: addr 0x0+ len 0x0+2000000 \[RAM\]/);
    expect(debug).toMatch(/0000000000100000 - 0000000001ff[0-9a-f]000 = 1 RAM/);
    expect(debug).toContain('Running option rom at c000:0003');
  });

  it('shows an acpi=0 apic=0 guest no ACPI tables and no MP table', () => {
    expect(debug).not.toMatch(/ACPI DSDT|Copying ACPI RSDP/);
    expect(debug).not.toContain('Copying MPTABLE');
    // Nothing in the BIOS areas looks like an RSDP or an MP floating pointer.
    const ram = machine.cpu.ram();
    const text = Buffer.from(ram.buffer, ram.byteOffset + 0xe0000, 0x20000).toString('latin1');
    expect(text).not.toContain('RSD PTR ');
    expect(text).not.toContain('_MP_');
  });

  it('shows the banner on the VGA text screen set up by the VGA BIOS', () => {
    const screen = machine.screenText();
    expect(screen).not.toBeNull();
    expect(screen![0]).toMatch(/^SeaBIOS \(version/);
    expect(screen!.join('\n')).toContain('Booting from Hard Disk...');
  });

  it('renders a screenshot with the glyphs the VGA BIOS loaded (not blank)', () => {
    const frame = machine.screenshot();
    expect(frame.width).toBe(720);
    expect(frame.height).toBe(400);
    let lit = 0;
    for (let i = 0; i < frame.rgba.length; i += 4) if (frame.rgba[i] > 0x80) lit++;
    // Text pixels exist on the first row of characters, nothing far below the last line of text.
    expect(lit).toBeGreaterThan(500);
    const png = encodePng(frame.width, frame.height, frame.rgba);
    expect(Buffer.from(png.subarray(1, 4)).toString()).toBe('PNG');
    expect(inflateSync(Buffer.from(png.subarray(41))).length).toBeGreaterThan(0);
  });
});
