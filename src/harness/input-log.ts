/**
 * Guest input with the virtual moment it arrived: serial bytes, keys and tablet moves, each at
 * the instruction count and guest time of the run-loop boundary where the machine took it.
 * A deterministic run fed the same log at the same moments is the same run. The log is
 * text, one JSON object per line, so it can be read and edited.
 */

export type InputAction =
  | { kind: 'serial'; port: 0 | 1; bytes: number[] }
  | { kind: 'key'; code: string; down: boolean }
  | { kind: 'tablet'; x: number; y: number; buttons: number; wheel?: number }
  /** Relative mouse (USB or PS/2): DOM movementX/Y, wheel detents, DOM buttons. */
  | { kind: 'mouse'; dx: number; dy: number; wheel: number; buttons: number }
  | { kind: 'media'; drive: string; path: string | null };

export interface InputEvent {
  /** Instructions retired when the input was taken. */
  insns: bigint;
  /** Guest time in nanoseconds when it was taken. */
  ns: number;
  action: InputAction;
}

export const INPUT_LOG_HEADER = '# webhvm input log v1';

export function formatInputEvent(e: InputEvent): string {
  return JSON.stringify({ insns: e.insns.toString(), ns: e.ns, ...e.action });
}

export function formatInputLog(events: readonly InputEvent[]): string {
  return [INPUT_LOG_HEADER, ...events.map(formatInputEvent)].join('\n') + '\n';
}

/** Read a log written by formatInputLog; a malformed line is an error naming the line. */
export function parseInputLog(text: string, fileName = 'input log'): InputEvent[] {
  const lines = text.split('\n');
  if (lines[0].trim() !== INPUT_LOG_HEADER) throw new Error(`${fileName}:1: not a WebHVM input log (expected '${INPUT_LOG_HEADER}')`);
  const out: InputEvent[] = [];
  lines.forEach((line, i) => {
    if (i === 0 || !line.trim()) return;
    const where = `${fileName}:${i + 1}`;
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(line) as Record<string, unknown>;
    } catch (e) {
      throw new Error(`${where}: ${(e as Error).message}`);
    }
    if (typeof o.insns !== 'string' || !/^\d+$/.test(o.insns) || typeof o.ns !== 'number') {
      throw new Error(`${where}: expected "insns" (a decimal string) and "ns" (a number)`);
    }
    const at = { insns: BigInt(o.insns), ns: o.ns };
    const prev = out[out.length - 1];
    if (prev && (at.insns < prev.insns || (at.insns === prev.insns && at.ns < prev.ns))) {
      throw new Error(`${where}: events must be in the order they happened`);
    }
    out.push({ ...at, action: parseAction(o, where) });
  });
  return out;
}

function parseAction(o: Record<string, unknown>, where: string): InputAction {
  switch (o.kind) {
    case 'serial':
      if ((o.port !== 0 && o.port !== 1) || !Array.isArray(o.bytes) || !o.bytes.every((b) => Number.isInteger(b) && b >= 0 && b < 256)) {
        throw new Error(`${where}: a serial event needs "port" (0 or 1) and "bytes" (numbers 0-255)`);
      }
      return { kind: 'serial', port: o.port, bytes: o.bytes as number[] };
    case 'key':
      if (typeof o.code !== 'string' || typeof o.down !== 'boolean') throw new Error(`${where}: a key event needs "code" and "down"`);
      return { kind: 'key', code: o.code, down: o.down };
    case 'tablet':
      if (typeof o.x !== 'number' || typeof o.y !== 'number' || typeof o.buttons !== 'number') {
        throw new Error(`${where}: a tablet event needs "x", "y" and "buttons"`);
      }
      if (o.wheel !== undefined && typeof o.wheel !== 'number') throw new Error(`${where}: a tablet event's "wheel" must be a number`);
      return { kind: 'tablet', x: o.x, y: o.y, buttons: o.buttons, ...(o.wheel ? { wheel: o.wheel } : {}) };
    case 'mouse':
      if (![o.dx, o.dy, o.wheel, o.buttons].every((v) => typeof v === 'number' && Number.isFinite(v))) {
        throw new Error(`${where}: a mouse event needs "dx", "dy", "wheel" and "buttons" (numbers)`);
      }
      return { kind: 'mouse', dx: o.dx as number, dy: o.dy as number, wheel: o.wheel as number, buttons: o.buttons as number };
    case 'media':
      if (typeof o.drive !== 'string' || !(typeof o.path === 'string' || o.path === null)) {
        throw new Error(`${where}: a media event needs "drive" and "path" (null to eject)`);
      }
      return { kind: 'media', drive: o.drive, path: o.path };
    default:
      throw new Error(`${where}: unknown input kind ${JSON.stringify(o.kind)}`);
  }
}
