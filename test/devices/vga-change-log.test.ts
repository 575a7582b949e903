import { describe, expect, it } from 'vitest';
import { VgaChangeLog } from '../../src/devices/vga-change-log.ts';
import { MODE_03, MODE_12, MODE_13, newCard, setDac, setMode } from '../display/vga-modes.ts';

/** A card in `mode` whose change log a viewer has just read (nothing pending). */
function cardIn(mode = MODE_03) {
  const card = newCard();
  setMode(card.io, mode);
  let since = card.vga.changesSince(0).epoch;
  const look = () => {
    const c = card.vga.changesSince(since);
    since = c.epoch;
    return c;
  };
  return { ...card, look };
}

const none = { all: false, registers: false, cursor: false, planes: [[], [], [], []] };

describe('the VGA change log', () => {
  it('reports everything on a first look, and nothing when nothing changed', () => {
    const { vga, look } = cardIn();
    expect(vga.changesSince(0)).toMatchObject({ all: true, registers: true });
    expect(look()).toMatchObject(none);
    expect(look()).toMatchObject(none);
  });

  it('text-mode character and attribute writes mark planes 0 and 1 at the cell offset', () => {
    const { mmio, look } = cardIn();
    // Row 12, column 40 of 80x25: cell 1000, CPU address 0xB8000 + 2000, plane offset 2000.
    mmio.write(0xb8000 + 2000, 1, 0x41);
    expect(look()).toMatchObject({ registers: false, cursor: false, planes: [[2000, 2002], [], [], []] });
    mmio.write(0xb8000 + 2001, 1, 0x1f);
    expect(look()).toMatchObject({ planes: [[], [2000, 2002], [], []] });
    // A word write (character and attribute) marks both; writing the same again marks nothing.
    mmio.write(0xb8000 + 4, 2, 0x0742);
    expect(look()).toMatchObject({ planes: [[4, 6], [4, 6], [], []] });
    mmio.write(0xb8000 + 4, 2, 0x0742);
    expect(look()).toMatchObject(none);
  });

  it('font writes (plane 2 through the map mask) mark plane 2', () => {
    const { io, mmio, look } = cardIn();
    // The BIOS font load sequence: map mask plane 2, sequential addressing, window at A0000.
    io.write(0x3c4, 2, 0x0402);
    io.write(0x3c4, 2, 0x0704);
    io.write(0x3ce, 2, 0x0204);
    io.write(0x3ce, 2, 0x0005);
    io.write(0x3ce, 2, 0x0406);
    const c = look();
    expect(c.registers).toBe(true); // GR05/GR06 are what the scan-out reads
    mmio.write(0xa0000 + 0x41 * 32 + 3, 1, 0x7e);
    expect(look()).toMatchObject({ registers: false, planes: [[], [], [0x822, 0x824], []] });
  });

  it('planar write modes 0-3 mark exactly the planes whose bytes changed', () => {
    const { io, mmio, look } = cardIn(MODE_12);
    // Write mode 0 with map mask 0x05: planes 0 and 2.
    io.write(0x3c4, 2, 0x0502);
    mmio.write(0xa0000 + 8000, 1, 0xff);
    expect(look()).toMatchObject({ planes: [[8000, 8002], [], [8000, 8002], []] });
    // Write mode 2 (colour 0x0a on planes 1 and 3), all planes enabled.
    io.write(0x3c4, 2, 0x0f02);
    io.write(0x3ce, 2, 0x0205);
    mmio.write(0xa0000 + 100, 1, 0x0a);
    expect(look()).toMatchObject({ planes: [[], [100, 102], [], [100, 102]] });
    // Write mode 3 with set/reset 0x04 and a bit mask: plane 2 gets bits.
    io.write(0x3ce, 2, 0x0305);
    io.write(0x3ce, 2, 0x0400);
    mmio.write(0xa0000 + 200, 1, 0xff);
    expect(look()).toMatchObject({ planes: [[], [], [200, 202], []] });
    // Write mode 1 copies the latches: read offset 100 (planes 1 and 3 set) then write at 300.
    io.write(0x3ce, 2, 0x0105);
    mmio.read(0xa0000 + 100, 1);
    mmio.write(0xa0000 + 300, 1, 0);
    expect(look()).toMatchObject({ planes: [[], [300, 302], [], [300, 302]] });
  });

  it('mode 13h (chain-4) writes mark plane A&3 at offset A&~3', () => {
    const { mmio, look } = cardIn(MODE_13);
    mmio.write(0xa0000 + 321 * 4 + 2, 1, 9);
    expect(look()).toMatchObject({ planes: [[], [], [1284, 1286], []] });
  });

  it('palette, attribute, start address and mode changes are register changes; the cursor is its own', () => {
    const { io, look } = cardIn();
    setDac(io, 5, 10, 20, 30);
    expect(look()).toMatchObject({ registers: true, cursor: false });
    setDac(io, 5, 10, 20, 30); // the same colour again
    expect(look()).toMatchObject(none);
    io.read(0x3da, 1);
    io.write(0x3c0, 1, 0x21); // keep the palette source bit on while writing AR01
    io.write(0x3c0, 1, 0x3f);
    expect(look()).toMatchObject({ registers: true });
    io.write(0x3d4, 2, 0x500c); // start address high: scrolled
    expect(look()).toMatchObject({ registers: true, cursor: false });
    io.write(0x3d4, 2, 0x070e); // cursor location high
    io.write(0x3d4, 2, 0x0f0b); // cursor end
    expect(look()).toMatchObject({ registers: false, cursor: true });
    io.write(0x3d4, 2, 0x070e); // unchanged
    expect(look()).toMatchObject(none);
    io.write(0x3c4, 2, 0x0f02); // map mask: CPU side only
    io.write(0x3ce, 2, 0xff08); // bit mask: CPU side only
    expect(look()).toMatchObject(none);
    setMode(io, MODE_12);
    expect(look()).toMatchObject({ registers: true });
  });

  it('VBE mode changes are register changes; bank switches are not; bank-window and BAR0 writes mark bytes', () => {
    const { io, mmio, vga, look } = cardIn();
    const vbe = (index: number, value: number) => {
      io.write(0x1ce, 2, index);
      io.write(0x1cf, 2, value);
    };
    vbe(1, 640);
    vbe(2, 480);
    vbe(3, 32);
    vbe(4, 0x41);
    expect(look()).toMatchObject({ registers: true });
    vbe(5, 2); // bank 2
    expect(look()).toMatchObject(none);
    mmio.write(0xa0000 + 7, 1, 0x55); // byte 0x20007 of video memory: plane 3, offset 0x8001
    expect(look()).toMatchObject({ registers: false, planes: [[], [], [], [0x8000, 0x8002]] });
    const bar0 = vga.pci.info.bars?.[0];
    if (bar0?.kind !== 'memory' || !bar0.range?.write) throw new Error('BAR0 is memory with a range');
    bar0.range.write(0x1000, 4, 0x11223344);
    expect(look()).toMatchObject({ planes: [[0x400, 0x402], [0x400, 0x402], [0x400, 0x402], [0x400, 0x402]] });
  });

  it('reset and a restored state repaint everything', () => {
    const { vga, look } = cardIn();
    vga.reset();
    expect(look()).toMatchObject({ registers: true });
    vga.loadState(vga.saveState());
    expect(look()).toMatchObject({ registers: true });
  });

  it('serves several viewers, each with its own epoch', () => {
    const log = new VgaChangeLog(1 << 16);
    const a = log.changesSince(0).epoch;
    log.markPlanes(100, 1);
    const b = log.changesSince(0).epoch;
    log.markPlanes(5000, 2);
    const seenByA = log.changesSince(a);
    expect(seenByA.planes[0]).toEqual([100, 102]);
    expect(seenByA.planes[1]).toEqual([5000, 5002]);
    const seenByB = log.changesSince(b);
    expect(seenByB.planes[0]).toEqual([]);
    expect(seenByB.planes[1]).toEqual([5000, 5002]);
    // An epoch from the future (another log) is not trusted.
    expect(log.changesSince(1e9).all).toBe(true);
  });

  it('merges neighbouring blocks into one range; beyond the legacy 64 Ki offsets blocks are 64 offsets', () => {
    const log = new VgaChangeLog(1 << 22);
    const since = log.changesSince(0).epoch;
    log.markBytes(0, 1024);
    log.markBytes(4 * 3_000_000, 4 * 3_000_000 + 1);
    const c = log.changesSince(since);
    expect(c.planes[0]).toEqual([0, 256, 3_000_000, 3_000_064]);
    expect(c.planes[1]).toEqual([0, 256]);
  });
});
