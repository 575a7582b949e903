/**
 * Device states (plain data: numbers, booleans, strings, arrays, objects, typed arrays,
 * bigints) to bytes and back. JSON underneath, with tagged objects for what JSON cannot hold:
 * typed arrays (base64), bigints, and the numbers NaN, Infinity and -0.
 */

const TYPED = {
  Uint8Array, Uint8ClampedArray, Uint16Array, Uint32Array, Int8Array, Int16Array, Int32Array, Float32Array, Float64Array,
} as const;
type TypedName = keyof typeof TYPED;

export function encodeState(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value, replacer));
}

export function decodeState(bytes: Uint8Array): unknown {
  return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes), reviver);
}

function replacer(this: unknown, key: string, value: unknown): unknown {
  // JSON.stringify hands typed arrays through unchanged; numbers JSON cannot write are tagged.
  if (typeof value === 'number') {
    if (Number.isFinite(value) && !Object.is(value, -0)) return value;
    return { $number: Object.is(value, -0) ? '-0' : String(value) };
  }
  if (typeof value === 'bigint') return { $bigint: value.toString() };
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    const name = value.constructor.name as TypedName;
    if (!(name in TYPED)) throw new TypeError(`cannot save a ${name} in a snapshot`);
    return { $typed: name, base64: toBase64(new Uint8Array(value.buffer, value.byteOffset, value.byteLength)) };
  }
  if (value instanceof Map || value instanceof Set) throw new TypeError(`cannot save a ${value.constructor.name} (field ${key}) in a snapshot`);
  return value;
}

function reviver(_key: string, value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const o = value as Record<string, unknown>;
  if (typeof o.$number === 'string') return o.$number === '-0' ? -0 : Number(o.$number);
  if (typeof o.$bigint === 'string') return BigInt(o.$bigint);
  if (typeof o.$typed === 'string' && typeof o.base64 === 'string') {
    const Ctor = TYPED[o.$typed as TypedName];
    if (!Ctor) throw new Error(`unknown typed array ${o.$typed} in a snapshot`);
    const bytes = fromBase64(o.base64);
    if (bytes.length % Ctor.BYTES_PER_ELEMENT) throw new Error(`typed array ${o.$typed} has a partial element`);
    return new Ctor(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.length / Ctor.BYTES_PER_ELEMENT);
  }
  return value;
}

export function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export function fromBase64(text: string): Uint8Array {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}
