/**
 * The contract between the page and the machine worker, spoken over Comlink. Types only (plus
 * plain constants), so the page imports it without pulling the machine into its bundle.
 */
import type { ConfigProblem, ConfigWarning } from '../config/diagnostics.ts';
import type { VgaDisplayState } from '../devices/vga-display-state.ts';
import type { VgaChanges } from '../devices/vga-change-log.ts';
import type { DeterministicApi } from './deterministic-api.ts';
import type { StorageApi } from './storage-api.ts';

/** Where an image comes from: a dropped File/Blob (read lazily with Blob.slice) or a URL. */
export type MediaInput = Blob | { url: string };

export interface CreateRequest {
  /** The domain configuration text (xl/xm syntax). */
  config: string;
  /** Name used in messages (`guest.cfg:3:9: ...`). */
  fileName?: string;
  /** Dropped files: the configuration's image paths are matched to them by base name. */
  files?: File[];
  /** The URL the configuration came from, for relative image paths. */
  baseUrl?: string;
  /** The page's `?relay=ws://...`: the bridges go out through this WebSocket relay (docs/relay.md). */
  relay?: string;
  /**
   * Deterministic mode (docs/reproducible.md): guest time from retired instructions, disk answers
   * at request-fixed guest times, no host clock: the same run as `webhvm run --deterministic`.
   * The machine runs as fast as it can; see DeterministicApi.
   */
  deterministic?: boolean;
  /** Image paths as the configuration writes them, mapped to URLs (`webhvm test --browser` serves them). */
  imageUrls?: Record<string, string>;
}

export type CreateResult =
  | { ok: true; name: string; warnings: ConfigWarning[] }
  | { ok: false; fileName: string; problems: ConfigProblem[]; warnings: ConfigWarning[]; message: string };

/**
 * off: not started or powered off (on_poweroff/on_reboot='destroy', or the power button);
 * running; paused (by the user); stopped: ended with on_*='preserve', the last screen kept;
 * crashed: the emulator itself failed (a bug), `message` says how.
 */
export type PowerState = 'off' | 'running' | 'paused' | 'stopped' | 'crashed';

export interface MachineStatus {
  power: PowerState;
  name: string;
  /** Changes whenever a new machine (with new shared memory) is built: fetch videoMemory() again. */
  machineId: number;
  /** Guest instructions retired per second, in millions, over the last second of running. */
  mips: number;
  /** Block reads and writes since power-on, for the disk activity light. */
  diskReads: number;
  diskWrites: number;
  /** Frames through the machine's virtual switches, for the network light. */
  netFrames: number;
  /** What the pointer is: a USB tablet (absolute), a USB mouse or the PS/2 mouse (relative). */
  pointer: 'tablet' | 'usb-mouse' | 'ps2-mouse';
  /** CD-ROM drives by vdev (hdc...) and whether a disc is in. */
  cdroms: { vdev: string; present: boolean }[];
  /** The last power event or error, in words. */
  message: string;
  /** The boot path so far (boot-path-summary.ts): one short line per step, oldest first. */
  bootPath: string[];
  /** Boot-path trace events recorded since power-on (changes whenever bootPath may have). */
  bootEvents: number;
  /** The machine runs in deterministic mode (virtual time, as fast as it can). */
  deterministic: boolean;
  /** The configuration's `keymap` (the guest's keyboard layout), for typing text. */
  keymap: string;
}

/** What the page needs to paint a frame: the card's registers; pixels come from shared memory. */
export interface FrameInfo {
  display: VgaDisplayState;
  status: MachineStatus;
  /** What the card changed on screen since the `since` epoch the page passed (vga-change-log.ts). */
  changes: VgaChanges;
}

/** Shared memory the page reads video memory from (posted once per machine). */
export interface SharedVideoMemory {
  buffer: SharedArrayBuffer;
  vramOffset: number;
  vramBytes: number;
}

/** One key event: a `KeyboardEvent.code` and whether it went down. */
export interface KeyEvent {
  code: string;
  down: boolean;
}

/** Serial bytes and notes from the worker. */
export interface MachineListener {
  serial(port: 0 | 1, bytes: Uint8Array): void;
  /** Power events and notes ("guest rebooted: restarting"), for the status line and log. */
  note(message: string): void;
}

export interface MachineApi extends DeterministicApi, StorageApi {
  /** Build a machine from a configuration and media (powered off). */
  create(request: CreateRequest): Promise<CreateResult>;
  /** Where listeners get serial output and notes (a Comlink proxy). */
  listen(listener: MachineListener): void;
  /**
   * The page's shared rings (src/worker/io-rings.ts), once per worker: from then on the page's
   * keys, pointer and terminal input arrive through them and guest serial output leaves through
   * them instead of the listener. The input methods below keep working (for automation).
   */
  connectRings(buffer: SharedArrayBuffer): void;
  /** Power on (or resume): the machine runs in real time. */
  start(): Promise<void>;
  pause(): void;
  resume(): void;
  /** The reset button: every device and the CPU return to their power-on state. */
  reset(): void;
  /** Pull the plug: the machine stops; start() boots it again from reset. */
  powerOff(): void;
  /** Ctrl-Alt-Del as key presses. */
  sendCtrlAltDel(): void;
  /** Key events in order; they reach the guest paced by its keyboard controller. */
  keys(events: KeyEvent[]): void;
  /** USB tablet: `x`, `y` from 0 to 1 over the display, DOM `buttons`, wheel detents (up > 0). */
  pointerAbsolute(x: number, y: number, buttons: number, wheel: number): void;
  /** Relative mouse (PS/2 or USB): DOM movementX/Y, wheel deltaY sign, DOM `buttons`. */
  pointerRelative(dx: number, dy: number, wheel: number, buttons: number): void;
  /** Bytes typed into the serial terminal (COM1 unless `port` says otherwise). */
  serialInput(bytes: Uint8Array, port?: 0 | 1): void;
  /** Take the disc out of a CD-ROM drive (default: the first one). */
  ejectCd(vdev?: string): Promise<void>;
  /** Put a disc in a CD-ROM drive (default: the first one); the image is checked first. */
  insertCd(media: MediaInput, vdev?: string): Promise<void>;
  /** Attach a hard disk to a free IDE slot (hdb...) while the machine is off; writes go to an overlay. */
  attachDisk(vdev: string, media: MediaInput): Promise<void>;
  status(): MachineStatus;
  /**
   * Registers for painting, what changed since epoch `since` (0: everything; pass back
   * `changes.epoch` next time), plus status (null before a machine exists).
   */
  frame(since?: number): FrameInfo | null;
  /** The guest's video memory (once per created machine). */
  videoMemory(): SharedVideoMemory | null;
  /** The VGA text screen as lines (null in graphics modes or without a machine). */
  screenText(): string[] | null;
  /** The guest framebuffer as PNG bytes, rendered in the worker (what the guest shows). */
  screenshotPng(): Uint8Array | null;
}
