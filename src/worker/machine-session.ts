/**
 * One interactive machine, as the page drives it: built from configuration text and dropped
 * files or URLs, run in real time (guest time follows the host clock), with power controls,
 * input, removable media and status. Runs in the browser worker (machine-worker.ts exposes it
 * with Comlink) and under Node in tests; it uses only web-platform globals.
 */
import { parseDomainConfig } from '../config/parse-domain-config.ts';
import { ConfigError } from '../config/diagnostics.ts';
import { resolveMedia, type ImageSource } from '../config/media.ts';
import { browserMediaResolver } from '../config/resolve-browser.ts';
import type { DomainConfig, IdeVdev } from '../config/domain-config.ts';
import { Machine, type MachineEvent } from '../machine/machine.ts';
import { machineSetupFromConfig, type OpenedMedia } from '../machine/setup-from-config.ts';
import { SwitchRegistry } from '../net/virtual-switch.ts';
import { checkRelayUrl } from '../net/relay-attach.ts';
import { ImageError } from '../storage/image-checks.ts';
import { renderFrame } from '../display/vga-render.ts';
import { encodePng } from '../display/png.ts';
import type { BlockCounters } from './counting-backend.ts';
import { openCdImage, openDiskImage, openImagesBrowser } from './open-media.ts';
import { TabNetwork } from './tab-network.ts';
import { BootPathSummary } from './boot-path-summary.ts';
import { DiskOverlays } from './disk-overlays.ts';
import { checkSnapshotFits, snapshotOf, SnapshotShelf } from './page-snapshots.ts';
import type { DiskOverlayInfo, ExportInfo, ExportKind, SnapshotSource, StoredSnapshot } from './storage-api.ts';
import { restoreSnapshot } from '../snapshot/machine-snapshot.ts';
import type { BrowserOverlays } from '../storage/overlay-browser.ts';
import { DETERMINISTIC_TIME } from '../harness/deterministic-clock.ts';
import type { InputAction } from '../harness/input-log.ts';
import type { RunOutcome, Session } from '../harness/session.ts';
import { DeterministicRunner, goalFromRequest, runResult } from './deterministic-runner.ts';
import type { RunRequest, RunResult } from './deterministic-api.ts';
import { withImageUrls } from './image-url-resolver.ts';
import { RingLink } from './ring-link.ts';
import { IdleWake } from '../machine/idle-wake.ts';
import type {
  CreateRequest, CreateResult, FrameInfo, KeyEvent, MachineApi, MachineListener, MachineStatus,
  MediaInput, PowerState, SharedVideoMemory,
} from './machine-api.ts';

export interface SessionOptions {
  /** The compiled CPU core (build/cpu.wasm). */
  module: WebAssembly.Module;
  firmware: { bios: Uint8Array; vgaBios: Uint8Array };
  /** Monotonic host milliseconds (performance.now). */
  hostClockMs?: () => number;
  /** Wall-clock seconds since 1970 for the RTC at power-on. */
  wallClockSeconds?: () => number;
  /** The host's offset from UTC in seconds, for `localtime=1`. */
  localOffsetSeconds?: number;
  /** Where writable disks' overlays are kept (default: OPFS, else IndexedDB, else memory only). */
  overlayStorage?: () => Promise<BrowserOverlays | undefined>;
}

const VDEVS: IdeVdev[] = ['hda', 'hdb', 'hdc', 'hdd'];
/** Host milliseconds the CPU runs before the worker looks at its messages again. */
const BATCH_MS = 12;
/** The longest a halted CPU sleeps before the loop looks again (input may have arrived). */
const IDLE_SLEEP_MS = 10;
/** Key events waiting for the guest; beyond this a guest that does not read loses keys. */
const KEY_QUEUE_LIMIT = 4096;
const SERIAL_CHUNK = 64 * 1024;

/** Resolve on the next turn of the event loop, without setTimeout's clamping. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}

export class MachineSession implements MachineApi {
  private machine: Machine | undefined;
  private config: DomainConfig | undefined;
  private power: PowerState = 'off';
  private message = 'no machine';
  private listener: MachineListener | undefined;
  private readonly counters: BlockCounters = { reads: 0, writes: 0 };
  private network = new SwitchRegistry();
  /** Links the bridges to other tabs; one tab's gateway answers per bridge (tab-network.ts). */
  /** The run loop's sleep while the guest is halted; a frame from another tab or a relay ends it. */
  private readonly idleWake = new IdleWake();
  private readonly tabNetwork = new TabNetwork({ note: (message) => this.listener?.note(message), onActivity: () => this.idleWake.wake() });
  /** Writable disks' overlays, kept in this browser (OPFS or IndexedDB). */
  private readonly disks: DiskOverlays;
  private readonly snapshots = new SnapshotShelf();
  private readonly keyQueue: KeyEvent[] = [];
  private serialBuffers: [number[], number[]] = [[], []];
  /** Bumped to end a run loop (pause, power off, a new machine). */
  private runToken = 0;
  private mips = 0;
  private mipsSince = { ms: 0, instructions: 0n };
  private readonly hostClockMs: () => number;
  /** The page's shared rings (input in, serial out), once it has connected them. */
  private rings: RingLink | undefined;

  constructor(private readonly options: SessionOptions) {
    this.hostClockMs = options.hostClockMs ?? (() => performance.now());
    this.disks = new DiskOverlays(options.overlayStorage);
  }

  // ---- Building ----

  async create(request: CreateRequest): Promise<CreateResult> {
    this.stopLoop();
    this.machine = undefined;
    this.power = 'off';
    const fileName = request.fileName ?? 'domain.cfg';
    let warnings: CreateResult['warnings'] = [];
    try {
      const relayProblem = request.relay === undefined ? undefined : checkRelayUrl(request.relay);
      if (relayProblem) throw new Error(relayProblem);
      if (request.deterministic && request.relay !== undefined) throw new Error('a relay cannot be used in deterministic mode: frames from outside would arrive at moments the host decides');
      const parsed = parseDomainConfig(request.config, { fileName });
      warnings = [...parsed.warnings];
      const media = await resolveMedia(parsed.config, withImageUrls(browserMediaResolver({ files: request.files ?? [], baseUrl: request.baseUrl }), request.imageUrls), { fileName });
      this.counters.reads = this.counters.writes = 0;
      await this.disks.closeAll(); // the previous machine's overlays: written, and unlocked for this one
      const vm = parsed.config.name;
      const opened = await openImagesBrowser(media, this.counters, (vdev, base, source) => this.disks.overlayFor(vm, vdev, base, source));
      this.config = parsed.config;
      this.deterministic = request.deterministic === true;
      this.tabNetwork.relayUrl = request.relay;
      this.build(opened);
      this.message = `${parsed.config.name}: ready`;
      return { ok: true, name: parsed.config.name, warnings };
    } catch (e) {
      if (e instanceof ConfigError) {
        return { ok: false, fileName, problems: [...e.problems], warnings: [...e.warnings, ...warnings], message: e.message };
      }
      const message = e instanceof ImageError || e instanceof Error ? e.message : String(e);
      return { ok: false, fileName, problems: [{ line: 0, column: 0, message }], warnings, message };
    } finally {
      if (!this.machine) this.message = 'no machine';
    }
  }

  /** Build the Machine from the current configuration and opened media (powered off). */
  private build(opened: OpenedMedia): void {
    const config = this.config!;
    // Deterministic mode: no host clock, time zone or other tab reaches the guest (docs/reproducible.md).
    const det = this.deterministic ? this.newDeterministicRunner(config) : undefined;
    const setup = machineSetupFromConfig(config, opened, {
      firmware: this.options.firmware,
      serialOutput: (port, byte) => {
        det?.session.serialOutput(port, byte);
        const buffer = this.serialBuffers[port];
        if (buffer.length < SERIAL_CHUNK * 16) buffer.push(byte);
      },
      ...(det ? DETERMINISTIC_TIME : {
        nowSeconds: Math.floor(this.options.wallClockSeconds?.() ?? Date.now() / 1000),
        localOffsetSeconds: this.options.localOffsetSeconds ?? -new Date().getTimezoneOffset() * 60,
      }),
    });
    this.network = det ? new SwitchRegistry() : this.tabNetwork.newRegistry();
    setup.network = this.network;
    if (det) setup.deterministic = true;
    else setup.hostClockMs = this.hostClockMs;
    this.opened = opened;
    this.machine = new Machine(setup, this.options.module);
    det?.attach(this.machine);
    this.det = det;
    // The status bar shows the boot path as it happens (the trace costs little: it watches a few table pages).
    const summary = new BootPathSummary();
    this.machine.enableBootTrace().onEvent((e) => summary.add(e));
    this.bootPath = summary;
    this.machineId++;
    this.keyQueue.length = 0;
  }

  private opened: OpenedMedia | undefined;
  /** Whether create() asked for deterministic mode; the runner of the current machine if so. */
  private deterministic = false;
  private det: DeterministicRunner | undefined;
  private bootPath = new BootPathSummary();
  /** Counts machines built: each has its own shared memory. */
  private machineId = 0;

  listen(listener: MachineListener): void {
    this.listener = listener;
  }

  connectRings(buffer: SharedArrayBuffer): void {
    this.rings?.stop();
    this.rings = new RingLink(buffer, this);
  }

  // ---- Power ----

  async start(): Promise<void> {
    const m = this.requireMachine();
    if (this.power === 'running') return;
    if (this.power === 'paused') return this.resume();
    // Booting again after a power-off or a stop: a fresh machine with the same media.
    if (m.cpu.instructions !== 0n) this.build(this.opened!);
    this.setPower('running', `${this.config!.name}: running`);
    this.startLoop();
  }

  pause(): void {
    if (this.power !== 'running') return;
    this.stopLoop();
    this.setPower('paused', `${this.config!.name}: paused`);
  }

  resume(): void {
    if (this.power !== 'paused') return;
    this.setPower('running', `${this.config!.name}: running`);
    this.startLoop();
  }

  reset(): void {
    const m = this.requireMachine();
    m.reset();
    this.keyQueue.length = 0;
    this.note(`${this.config!.name}: reset`);
  }

  powerOff(): void {
    if (!this.machine || this.power === 'off') return;
    this.stopLoop();
    this.setPower('off', `${this.config!.name}: powered off`);
  }

  sendCtrlAltDel(): void {
    this.keys([
      { code: 'ControlLeft', down: true }, { code: 'AltLeft', down: true }, { code: 'Delete', down: true },
      { code: 'Delete', down: false }, { code: 'AltLeft', down: false }, { code: 'ControlLeft', down: false },
    ]);
  }

  private setPower(power: PowerState, message: string): void {
    this.power = power;
    this.note(message);
  }

  private note(message: string): void {
    this.message = message;
    this.listener?.note(message);
  }

  private requireMachine(): Machine {
    if (!this.machine) throw new Error('no machine: create one first');
    return this.machine;
  }

  // ---- Running ----

  private stopLoop(): void {
    this.runToken++;
    this.machine?.holdGuestTime();
    void this.det?.halt();
  }

  private startLoop(): void {
    const token = ++this.runToken;
    this.mipsSince = { ms: this.hostClockMs(), instructions: this.machine!.cpu.totalInstructions };
    if (this.det) void this.det.run({ interactive: true }).then((outcome) => this.afterDeterministicRun(outcome));
    else void this.runLoop(token);
  }

  private async runLoop(token: number): Promise<void> {
    const m = this.machine!;
    while (token === this.runToken) {
      let event: MachineEvent | undefined;
      try {
        const batchEnd = this.hostClockMs() + BATCH_MS;
        do {
          this.rings?.drainInput();
          this.feedKeyboard(m);
          event = m.runSlice();
          if (event || m.allVcpusHalted) break;
        } while (this.hostClockMs() < batchEnd);
      } catch (e) {
        this.flushSerial();
        this.stopLoop();
        this.setPower('crashed', `emulator error: ${(e as Error).stack ?? e}`);
        return;
      }
      this.flushSerial();
      this.measure(m);
      if (event) this.handleEvent(event);
      if (token !== this.runToken) return;
      if (m.allVcpusHalted) {
        const delay = Math.min(m.nextEventDelayMs(), IDLE_SLEEP_MS);
        await (delay >= 1 ? this.idleWake.sleep(delay) : yieldToEventLoop());
      } else {
        await yieldToEventLoop();
      }
    }
  }

  /** on_poweroff / on_reboot: restart, destroy (off) or preserve (stopped, screen kept). */
  private handleEvent(event: MachineEvent): void {
    const config = this.config!;
    const poweroff = event === 'poweroff';
    const policy = poweroff ? config.onPoweroff : config.onReboot;
    const what = event === 'triple-fault' ? 'triple-faulted (a reboot)' : poweroff ? 'powered off' : 'rebooted';
    const key = poweroff ? 'on_poweroff' : 'on_reboot';
    if (policy === 'restart') {
      this.machine!.reset();
      this.keyQueue.length = 0;
      this.note(`guest ${what}: restarting (${key}='restart')`);
      return;
    }
    this.stopLoop();
    if (policy === 'preserve') this.setPower('stopped', `guest ${what}: stopped, screen kept (${key}='preserve')`);
    else this.setPower('off', `guest ${what}: machine off (${key}='destroy')`);
  }

  private measure(m: Machine): void {
    const now = this.hostClockMs();
    const elapsed = now - this.mipsSince.ms;
    if (elapsed < 1000) return;
    const instructions = m.cpu.totalInstructions;
    this.mips = Number(instructions - this.mipsSince.instructions) / elapsed / 1000;
    this.mipsSince = { ms: now, instructions };
  }

  private flushSerial(): void {
    for (const port of [0, 1] as const) {
      const buffer = this.serialBuffers[port];
      if (buffer.length === 0 && !this.rings?.pendingSerial(port)) continue;
      this.serialBuffers[port] = [];
      if (this.rings) this.rings.sendSerial(port, Uint8Array.from(buffer));
      else this.listener?.serial(port, Uint8Array.from(buffer));
    }
  }

  // ---- Deterministic mode (deterministic-runner.ts) ----

  private newDeterministicRunner(config: DomainConfig): DeterministicRunner {
    return new DeterministicRunner(config, {
      hostTurn: () => {
        this.flushSerial();
        if (this.machine) this.measure(this.machine);
      },
      boundary: () => this.feedKeyboardDeterministic(),
      note: (message) => this.note(message),
    });
  }

  private requireDeterministic(): DeterministicRunner {
    this.requireMachine();
    if (!this.det) throw new Error('this machine is not deterministic: create it with deterministic: true (the page: ?deterministic=1)');
    return this.det;
  }

  async runUntil(request: RunRequest): Promise<RunResult> {
    let m = this.requireMachine();
    this.requireDeterministic();
    if (this.power === 'crashed') throw new Error(`the machine crashed (${this.message}): create it again`);
    if ((this.power === 'off' || this.power === 'stopped') && m.cpu.instructions !== 0n) {
      this.build(this.opened!);
      m = this.machine!;
    }
    const det = this.det!;
    const goal = goalFromRequest(request, m, det.session.serialLength);
    if (this.power !== 'running') this.mipsSince = { ms: this.hostClockMs(), instructions: m.cpu.totalInstructions };
    this.power = 'running';
    const outcome = await det.run(goal);
    if (det === this.det) this.afterDeterministicRun(outcome);
    return runResult(outcome, m);
  }

  /** After a deterministic run: the goal reached pauses the machine; power events follow on_poweroff/on_reboot. */
  private afterDeterministicRun(outcome: RunOutcome): void {
    this.flushSerial();
    const config = this.config!;
    switch (outcome.end) {
      case 'stopped':
        return; // paused, powered off or replaced: whoever stopped it set the state
      case 'crash':
        this.stopLoop();
        this.setPower('crashed', `emulator error: ${(outcome.error as Error)?.stack ?? outcome.error}`);
        return;
      case 'poweroff':
      case 'reboot': {
        const policy = outcome.end === 'poweroff' ? config.onPoweroff : config.onReboot;
        const key = outcome.end === 'poweroff' ? 'on_poweroff' : 'on_reboot';
        if (policy === 'preserve') this.setPower('stopped', `guest ${outcome.end === 'poweroff' ? 'powered off' : 'rebooted'}: stopped, screen kept (${key}='preserve')`);
        else this.setPower('off', `guest ${outcome.end === 'poweroff' ? 'powered off' : 'rebooted'}: machine off (${key}='destroy')`);
        return;
      }
      default:
        this.power = 'paused';
        this.message = `${config.name}: paused at insns=${this.machine!.cpu.totalInstructions} (${outcome.end})`;
    }
  }

  fingerprint(): string | null {
    return this.machine ? this.det?.fingerprintLine() ?? null : null;
  }

  input(action: InputAction): void {
    this.requireDeterministic().input(action);
  }

  async prepareCd(media: MediaInput): Promise<string> {
    const det = this.requireDeterministic();
    const backend = await openCdImage(toSource(media), 'cdrom', this.counters);
    return det.prepare(sourceName(media), backend);
  }

  serialLog(): string | null {
    return this.det?.session.serialText ?? null;
  }

  inputLog(): string | null {
    return this.det?.inputLogText() ?? null;
  }

  /** One queued key per boundary, when the keyboard's buffer is empty; logged with its moment. */
  private feedKeyboardDeterministic(): void {
    const m = this.machine;
    if (!m || !this.det || this.keyQueue.length === 0 || m.keyboard.hasOutput()) return;
    const e = this.keyQueue.shift()!;
    this.det.session.input({ kind: 'key', code: e.code, down: e.down });
  }

  // ---- Input ----

  keys(events: KeyEvent[]): void {
    for (const e of events) {
      if (this.keyQueue.length >= KEY_QUEUE_LIMIT) break;
      if (typeof e?.code === 'string') this.keyQueue.push({ code: e.code, down: !!e.down });
    }
  }

  /** One key event whenever the keyboard's own buffer is empty, so nothing overflows it. */
  private feedKeyboard(m: Machine): void {
    while (this.keyQueue.length > 0 && !m.keyboard.hasOutput()) {
      const e = this.keyQueue.shift()!;
      // A code a PC keyboard lacks sends nothing; go on with the next one.
      if (e.down ? m.keyboard.keyDown(e.code) : m.keyboard.keyUp(e.code)) break;
    }
  }

  pointerAbsolute(x: number, y: number, buttons: number, wheel: number): void {
    if (this.det) return this.det.input({ kind: 'tablet', x, y, buttons, ...(wheel ? { wheel } : {}) });
    this.machine?.tablet?.pointer(x, y, buttons, wheel);
  }

  pointerRelative(dx: number, dy: number, wheel: number, buttons: number): void {
    if (this.det) return this.det.input({ kind: 'mouse', dx, dy, wheel, buttons });
    const m = this.machine;
    if (!m) return;
    if (m.usbMouse) m.usbMouse.move(dx, dy, -wheel, buttons);
    else m.mouse.move(dx, dy, wheel, buttons);
  }

  serialInput(bytes: Uint8Array, port: 0 | 1 = 0): void {
    if (this.det) return this.det.input({ kind: 'serial', port: port === 1 ? 1 : 0, bytes: Array.from(bytes) });
    this.machine?.serial[port === 1 ? 1 : 0]?.receive(bytes);
  }

  // ---- Media ----

  private cdIndex(vdev?: string): number {
    const m = this.requireMachine();
    const indices = [...m.cdroms.keys()].sort();
    if (indices.length === 0) throw new Error('this machine has no CD-ROM drive (add one: disk = [ ",hdc:cdrom,r" ])');
    if (vdev === undefined) return indices[0];
    const index = VDEVS.indexOf(vdev as IdeVdev);
    if (!m.cdroms.has(index)) throw new Error(`${vdev} is not a CD-ROM drive of this machine (CD-ROM drives: ${indices.map((i) => VDEVS[i]).join(', ')})`);
    return index;
  }

  async ejectCd(vdev?: string): Promise<void> {
    const index = this.cdIndex(vdev);
    if (this.det) this.det.input({ kind: 'media', drive: VDEVS[index], path: null }); // taken at the next boundary
    else this.machine!.cdroms.get(index)!.eject();
    this.opened!.ide[index] = { kind: 'cdrom' };
    this.note(`${VDEVS[index]}: disc ejected`);
  }

  async insertCd(media: MediaInput, vdev?: string): Promise<void> {
    const index = this.cdIndex(vdev);
    const backend = await openCdImage(toSource(media), VDEVS[index], this.counters);
    if (this.det) this.det.input({ kind: 'media', drive: VDEVS[index], path: this.det.prepare(sourceName(media), backend) });
    else this.machine!.cdroms.get(index)!.insert(backend);
    this.opened!.ide[index] = { kind: 'cdrom', backend };
    this.note(`${VDEVS[index]}: disc inserted (${sourceName(media)})`);
  }

  async attachDisk(vdev: string, media: MediaInput): Promise<void> {
    this.requireMachine();
    if (this.power !== 'off') throw new Error('IDE disks cannot be attached to a running machine: power it off first');
    const index = VDEVS.indexOf(vdev as IdeVdev);
    if (index < 0) throw new Error(`${vdev} is not an IDE slot (hda, hdb, hdc or hdd)`);
    if (this.opened!.ide[index]) throw new Error(`${vdev} is already in use`);
    const vm = this.config!.name;
    const backend = await openDiskImage(toSource(media), vdev, true, this.counters, (_, base, source) => this.disks.overlayFor(vm, vdev, base, source));
    this.opened!.ide[index] = { kind: 'disk', backend };
    this.build(this.opened!);
    this.note(`${vdev}: disk attached (${sourceName(media)}; writes go to an overlay)`);
  }

  // ---- Disk overlays and snapshots (disk-overlays.ts, page-snapshots.ts) ----

  overlayStorage(): Promise<'opfs' | 'indexeddb' | 'memory'> {
    return this.disks.kind();
  }

  listOverlays(): Promise<DiskOverlayInfo[]> {
    return this.disks.list();
  }

  async discardOverlay(key: string): Promise<void> {
    await this.disks.discard(key, !this.machine || this.power === 'off' || this.power === 'stopped' || this.power === 'crashed');
    this.note(`${key}: overlay discarded (the disk reads as its image again)`);
  }

  openExport(key: string, kind: ExportKind): Promise<ExportInfo> {
    return this.disks.openExport(key, kind, this.power === 'running');
  }

  readExport(id: number, offset: number, length: number): Promise<Uint8Array> {
    return this.disks.readExport(id, offset, length);
  }

  closeExport(id: number): void {
    this.disks.closeExport(id);
  }

  /** Save between run slices with the disks idle; a running machine goes on afterwards. */
  async saveSnapshot(): Promise<Uint8Array> {
    const m = this.requireMachine();
    const running = this.power === 'running';
    if (running) this.stopLoop();
    await this.det?.halt(); // between slices, as the Node runner saves
    try {
      // The serial record goes along, so a deterministic run's fingerprints continue after a restore.
      return await snapshotOf(m, this.det ? { serial: this.det.session.saveSerial() } : {});
    } finally {
      if (running && this.machine === m && this.power === 'running') this.startLoop();
    }
  }

  async storeSnapshot(name: string): Promise<StoredSnapshot> {
    return this.snapshots.save(name, await this.saveSnapshot());
  }

  listSnapshots(): Promise<StoredSnapshot[]> {
    return this.snapshots.list();
  }

  deleteSnapshot(name: string): Promise<void> {
    return this.snapshots.remove(name);
  }

  /** Into a fresh machine of the same configuration, left paused. The file is checked first. */
  async restoreSnapshot(source: SnapshotSource): Promise<void> {
    const current = this.requireMachine();
    const bytes = source instanceof Blob ? new Uint8Array(await source.arrayBuffer()) : await this.snapshots.load(source.stored);
    await checkSnapshotFits(current, bytes); // refused here, the running machine is untouched
    this.stopLoop();
    await this.det?.halt();
    this.build(this.opened!);
    try {
      const { extras } = await restoreSnapshot(this.machine!, bytes);
      if (extras.serial) this.det?.session.restoreSerial(extras.serial as Parameters<Session['restoreSerial']>[0]);
    } catch (e) {
      // A load that failed half-way leaves a machine that must not run: start from a clean one.
      this.build(this.opened!);
      this.setPower('off', `snapshot not restored (${(e as Error).message}): the machine is off`);
      throw e;
    }
    this.setPower('paused', `${this.config!.name}: snapshot restored (paused)`);
  }

  // ---- Status and screen ----

  status(): MachineStatus {
    const m = this.machine;
    let netFrames = 0;
    for (const name of this.network.names()) {
      const s = this.network.bridge(name).stats;
      netFrames += s.forwarded + s.flooded;
    }
    return {
      power: m ? this.power : 'off',
      name: this.config?.name ?? '',
      machineId: this.machineId,
      mips: this.power === 'running' ? Math.round(this.mips * 10) / 10 : 0,
      diskReads: this.counters.reads,
      diskWrites: this.counters.writes,
      netFrames,
      pointer: m?.tablet ? 'tablet' : m?.usbMouse ? 'usb-mouse' : 'ps2-mouse',
      cdroms: m ? [...m.cdroms].sort((a, b) => a[0] - b[0]).map(([i, cd]) => ({ vdev: VDEVS[i], present: cd.mediaPresent })) : [],
      message: this.message,
      bootPath: this.bootPath.summary,
      bootEvents: this.bootPath.events,
      deterministic: this.det !== undefined,
      keymap: this.config?.display.keymap ?? 'en-us',
    };
  }

  frame(since = 0): FrameInfo | null {
    const m = this.machine;
    return m ? { display: m.vga.displayState(), changes: m.vga.changesSince(since), status: this.status() } : null;
  }

  videoMemory(): SharedVideoMemory | null {
    const m = this.machine;
    if (!m) return null;
    const vram = m.vram;
    return { buffer: vram.buffer as SharedArrayBuffer, vramOffset: vram.byteOffset, vramBytes: vram.length };
  }

  screenText(): string[] | null {
    return this.machine?.screenText() ?? null;
  }

  screenshotPng(): Uint8Array | null {
    const m = this.machine;
    if (!m) return null;
    const frame = renderFrame(m.vga.displayState(), m.vram);
    return encodePng(frame.width, frame.height, frame.rgba);
  }
}

function toSource(media: MediaInput): ImageSource {
  if (media instanceof Blob) return { kind: 'blob', blob: media, name: sourceName(media) };
  if (media && typeof (media as { url?: unknown }).url === 'string') return { kind: 'url', url: (media as { url: string }).url };
  throw new Error('expected a File, a Blob or { url }');
}

function sourceName(media: MediaInput): string {
  if (media instanceof Blob) return (media as File).name ?? 'blob';
  return media.url;
}

