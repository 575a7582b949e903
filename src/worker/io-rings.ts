/**
 * The page <-> worker rings in one SharedArrayBuffer (shared-ring.ts): the input ring (page ->
 * worker: key, pointer and serial-input records) and one serial output ring per COM port
 * (worker -> page). The page allocates the buffer and hands it to the worker once
 * (MachineApi.connectRings); it outlives every machine the worker builds.
 *
 * Input records (payload of one ring record):
 *   KEY       kind, down (0/1), the KeyboardEvent.code in ASCII
 *   RELATIVE  kind, buttons, dx int32, dy int32, wheel int32 (DOM movementX/Y, deltaY sign)
 *   ABSOLUTE  kind, buttons, x float32, y float32 (0..1 over the picture), wheel int32 (up > 0)
 *   SERIAL    kind, port (0/1), bytes
 * Platform-neutral: the page imports it for writing, the worker for reading.
 */
import { SharedRing } from './shared-ring.ts';
import type { KeyEvent } from './machine-api.ts';

export const INPUT_RING_BYTES = 64 * 1024;
export const SERIAL_RING_BYTES = 512 * 1024;
/** Serial input is cut into records of at most this many bytes. */
const SERIAL_RECORD_BYTES = 4096;

const KIND_KEY = 1;
const KIND_RELATIVE = 2;
const KIND_ABSOLUTE = 3;
const KIND_SERIAL = 4;

/** What input goes to: the session (worker side) or the ring writer (page side). */
export interface InputSink {
  keys(events: KeyEvent[]): void;
  pointerAbsolute(x: number, y: number, buttons: number, wheel: number): void;
  pointerRelative(dx: number, dy: number, wheel: number, buttons: number): void;
  serialInput(bytes: Uint8Array, port?: 0 | 1): void;
}

export interface IoRings {
  buffer: SharedArrayBuffer;
  input: SharedRing;
  /** Guest serial output by port: COM1, COM2. */
  serial: [SharedRing, SharedRing];
}

export function ioRingsBytes(): number {
  return SharedRing.bytesFor(INPUT_RING_BYTES) + 2 * SharedRing.bytesFor(SERIAL_RING_BYTES);
}

/** Views of the rings in `buffer` (a new, zeroed buffer is an empty set of rings). */
export function ioRingsIn(buffer: SharedArrayBuffer): IoRings {
  if (buffer.byteLength < ioRingsBytes()) throw new RangeError(`the ring buffer has ${buffer.byteLength} bytes, the rings need ${ioRingsBytes()}`);
  let offset = 0;
  const ring = (capacity: number) => {
    const r = new SharedRing(buffer, offset, capacity);
    offset += SharedRing.bytesFor(capacity);
    return r;
  };
  const input = ring(INPUT_RING_BYTES);
  return { buffer, input, serial: [ring(SERIAL_RING_BYTES), ring(SERIAL_RING_BYTES)] };
}

export function createIoRings(): IoRings {
  return ioRingsIn(new SharedArrayBuffer(ioRingsBytes()));
}

/** The page side: input records into the ring; a full ring drops the record (ring.dropped counts it). */
export class InputRingWriter implements InputSink {
  constructor(private readonly ring: SharedRing) {}

  keys(events: KeyEvent[]): void {
    for (const e of events) {
      const code = e.code;
      if (code.length > 64 || !/^[\x20-\x7e]*$/.test(code)) continue;
      const record = new Uint8Array(2 + code.length);
      record[0] = KIND_KEY;
      record[1] = e.down ? 1 : 0;
      for (let i = 0; i < code.length; i++) record[2 + i] = code.charCodeAt(i);
      this.ring.writeRecord(record);
    }
  }

  pointerRelative(dx: number, dy: number, wheel: number, buttons: number): void {
    const record = new Uint8Array(14);
    const view = new DataView(record.buffer);
    record[0] = KIND_RELATIVE;
    record[1] = buttons & 0xff;
    view.setInt32(2, toInt32(dx), true);
    view.setInt32(6, toInt32(dy), true);
    view.setInt32(10, toInt32(wheel), true);
    this.ring.writeRecord(record);
  }

  pointerAbsolute(x: number, y: number, buttons: number, wheel: number): void {
    const record = new Uint8Array(14);
    const view = new DataView(record.buffer);
    record[0] = KIND_ABSOLUTE;
    record[1] = buttons & 0xff;
    view.setFloat32(2, x, true);
    view.setFloat32(6, y, true);
    view.setInt32(10, toInt32(wheel), true);
    this.ring.writeRecord(record);
  }

  serialInput(bytes: Uint8Array, port: 0 | 1 = 0): void {
    for (let at = 0; at < bytes.length; at += SERIAL_RECORD_BYTES) {
      const chunk = bytes.subarray(at, at + SERIAL_RECORD_BYTES);
      const record = new Uint8Array(2 + chunk.length);
      record[0] = KIND_SERIAL;
      record[1] = port === 1 ? 1 : 0;
      record.set(chunk, 2);
      this.ring.writeRecord(record);
    }
  }
}

function toInt32(v: number): number {
  if (!Number.isFinite(v)) return 0;
  return Math.max(-0x80000000, Math.min(0x7fffffff, Math.trunc(v)));
}

/**
 * The worker side: hand every waiting input record to `sink`, in order. Records it does not
 * understand (a short or unknown one) are skipped. Returns how many records were read.
 */
export function drainInputRing(ring: SharedRing, sink: InputSink): number {
  let count = 0;
  for (let record = ring.readRecord(); record; record = ring.readRecord()) {
    count++;
    const view = new DataView(record.buffer, record.byteOffset, record.byteLength);
    switch (record[0]) {
      case KIND_KEY:
        if (record.length >= 3) sink.keys([{ code: String.fromCharCode(...record.subarray(2)), down: record[1] !== 0 }]);
        break;
      case KIND_RELATIVE:
        if (record.length >= 14) sink.pointerRelative(view.getInt32(2, true), view.getInt32(6, true), view.getInt32(10, true), record[1]);
        break;
      case KIND_ABSOLUTE:
        if (record.length >= 14) sink.pointerAbsolute(view.getFloat32(2, true), view.getFloat32(6, true), record[1], view.getInt32(10, true));
        break;
      case KIND_SERIAL:
        if (record.length > 2) sink.serialInput(record.subarray(2), record[1] === 1 ? 1 : 0);
        break;
    }
  }
  return count;
}
