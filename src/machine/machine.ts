/**
 * The PC: an i440FX/PIIX3 board like QEMU's and Xen HVM's "pc" machine, built from a
 * MachineSetup. This is the only place that knows which devices exist and how they are wired.
 * It owns guest time (the EventClock), the run loop slices, reset and power state.
 */
import { IoBus } from '../bus/io-bus.ts';
import { MmioMap } from '../bus/mmio-map.ts';
import { IrqLine } from '../bus/irq-line.ts';
import { PciBus } from '../bus/pci-bus.ts';
import type { Device } from '../bus/device.ts';
import type { BlockBackend } from '../storage/block-backend.ts';
import { EventClock } from './event-clock.ts';
import { GuestMemory } from './guest-memory.ts';
import { MediaGate, GatedBackend } from './deterministic-media.ts';
import { CpuCore, StopReason } from '../cpu/cpu-core.ts';
import { DualPic8259 } from '../devices/pic8259.ts';
import { Pit8254 } from '../devices/pit8254.ts';
import { SystemControlPort } from '../devices/system-control-port.ts';
import { RtcCmos } from '../devices/rtc-cmos.ts';
import { PostCodePort, DebugConsolePort } from '../devices/debug-ports.ts';
import { I8042 } from '../devices/i8042.ts';
import { Ps2Keyboard } from '../devices/ps2-keyboard.ts';
import { Ps2Mouse } from '../devices/ps2-mouse.ts';
import { Port92 } from '../devices/port92.ts';
import { Uart16550 } from '../devices/uart16550.ts';
import { IsaDma8237 } from '../devices/isa-dma8237.ts';
import { FloppyController, type FloppyMedia } from '../devices/floppy-controller.ts';
import { I440fxHostBridge } from '../devices/i440fx-host-bridge.ts';
import { Piix3IsaBridge } from '../devices/piix3-isa-bridge.ts';
import { Piix3Ide } from '../devices/piix3-ide.ts';
import { IdeChannel } from '../devices/ide-channel.ts';
import { AtaDisk } from '../devices/ata-disk.ts';
import { AtapiCdrom } from '../devices/atapi-cdrom.ts';
import { Piix4Pm } from '../devices/piix4-pm.ts';
import { StdVga } from '../devices/vga.ts';
import { FwCfg } from '../devices/fw-cfg.ts';
import { installFirmwareConfig, bootPaths, type BootDevice } from '../firmware/qemu-firmware-config.ts';
import { fillCmos } from '../firmware/cmos-config.ts';
import { describeMachineBoard } from '../firmware/board-description.ts';
import { firmwareTablesFor, installFirmwareTables } from '../firmware/firmware-tables.ts';
import { type LocalApic, DeliveryMode, deliverApicMessage } from '../devices/local-apic.ts';
import { LocalApics, type IpiEvent } from './local-apics.ts';
import { VcpuScheduler } from './vcpu-scheduler.ts';
import { IoApic } from '../devices/io-apic.ts';
import { Imcr } from '../devices/imcr.ts';
import { Uhci } from '../devices/uhci.ts';
import { UsbHidTablet } from '../devices/usb-hid-tablet.ts';
import { UsbHidMouse } from '../devices/usb-hid-mouse.ts';
import { Rtl8139 } from '../devices/rtl8139.ts';
import { SwitchRegistry } from '../net/virtual-switch.ts';
import { builtInGateway } from '../net/gateway.ts';
import { screenText } from '../display/screen-text.ts';
import { renderFrame } from '../display/vga-render.ts';
import type { BootTrace } from './boot-trace.ts';
import { BootTraceRecorder } from './boot-trace-recorder.ts';

export type IdeSlot = { kind: 'disk'; backend: BlockBackend } | { kind: 'cdrom'; backend?: BlockBackend };

export interface MachineSetup {
  name: string;
  ramMiB: number;
  cpuCount: number;
  acpi: boolean;
  apic: boolean;
  pae: boolean;
  /** Boot devices in BIOS order. */
  boot: BootDevice[];
  /** hda, hdb, hdc, hdd. */
  ide: (IdeSlot | undefined)[];
  /** fda, fdb. */
  floppies: (FloppyMedia | undefined)[];
  /** `nicRom`: the RTL8139 option ROM (iPXE) for network boot; the cards have none without it. */
  firmware: { bios: Uint8Array; vgaBios: Uint8Array; nicRom?: Uint8Array };
  /** USB pointer on a UHCI controller (`usbdevice`), if any. */
  usbPointer?: 'tablet' | 'mouse';
  /** Network cards: MAC and the bridge (virtual switch) each is plugged into. */
  nics?: { mac: Uint8Array; bridge: string }[];
  /** Switches by bridge name, shared by machines on one page or process (one per machine if absent). */
  network?: SwitchRegistry;
  /** Bytes the guest sends on COM1 and COM2. */
  serialOutput?: (port: 0 | 1, byte: number) => void;
  /** Bytes written to the QEMU/Bochs debug console ports (SeaBIOS's log). */
  debugConsole?: (byte: number) => void;
  /** Seconds since 1970 (UTC) shown by the RTC at guest time 0. */
  rtcStartSeconds: number;
  uuid?: Uint8Array;
  /** Guest nanoseconds per retired instruction: guest time follows the instruction count. */
  nsPerInstruction?: number;
  /**
   * Deterministic mode (docs/reproducible.md): disk requests complete at guest times fixed by
   * the request, stalling the CPU while data is late, so a boot is the same instruction for
   * instruction on any host. Needs virtual time (no hostClockMs).
   */
  deterministic?: boolean;
  /**
   * Real-time mode (the interactive page): guest time follows this host clock (milliseconds,
   * monotonic). Without it guest time is virtual: derived from retired instructions, and a
   * halted CPU skips ahead to the next timer event.
   */
  hostClockMs?: () => number;
}

export type MachineEvent = 'reboot' | 'poweroff' | 'triple-fault';

const VRAM_BYTES = 16 << 20;
const BIOS_TOP = 0x1_0000_0000;
/** The low BIOS window 0xE0000-0xFFFFF shows the last 128 KiB of the BIOS image (QEMU's isa-bios). */
const ISA_BIOS_BASE = 0xe0000;
const ISA_BIOS_SIZE = 0x20000;
const SLICE_INSTRUCTIONS = 200_000;

export class Machine {
  readonly setup: MachineSetup;
  readonly clock = new EventClock();
  readonly io = new IoBus();
  readonly mmio = new MmioMap();
  readonly cpu: CpuCore;
  readonly memory: GuestMemory;
  readonly isaIrqs: IrqLine[] = [];
  readonly devices: Device[] = [];
  readonly pic: DualPic8259;
  readonly rtc: RtcCmos;
  readonly keyboard = new Ps2Keyboard({});
  readonly mouse = new Ps2Mouse({});
  readonly serial: Uart16550[] = [];
  readonly vga: StdVga;
  readonly ideChannels: IdeChannel[] = [];
  readonly cdroms = new Map<number, AtapiCdrom>();
  readonly floppy: FloppyController;
  readonly postCodes: PostCodePort;
  readonly pci: PciBus;
  /** The boot processor's local APIC and the I/O APIC (apic=1). */
  readonly localApic: LocalApic | undefined;
  readonly ioApic: IoApic | undefined;
  readonly tablet: UsbHidTablet | undefined;
  readonly usbMouse: UsbHidMouse | undefined;
  readonly nics: Rtl8139[] = [];
  private readonly host: I440fxHostBridge;
  private readonly fwCfg: FwCfg;
  private readonly nsPerInstruction: number;
  private pendingEvent: MachineEvent | undefined;
  private lfbAddress: number | undefined;
  /** Instructions retired by the CPU since power-on, at the last clock update. */
  private clockInstructions = 0n;
  private readonly eventListeners: ((e: MachineEvent) => void)[] = [];
  /** Deterministic mode: holds each disk answer until its guest due time. */
  readonly mediaGate: MediaGate | undefined;

  constructor(setup: MachineSetup, module: WebAssembly.Module) {
    this.setup = setup;
    this.nsPerInstruction = setup.nsPerInstruction ?? 10;
    // In virtual time a disk answers at a guest time fixed by the request, and the CPU waits for
    // late data instead of spinning in the guest's status polling loop (SeaBIOS polls BSY).
    this.mediaGate = setup.deterministic || !setup.hostClockMs ? new MediaGate(this.clock) : undefined;
    const ramBytes = setup.ramMiB * 1024 * 1024;
    this.cpu = new CpuCore({
      module,
      ramBytes,
      extraBytes: VRAM_BYTES,
      vcpus: setup.cpuCount,
      platform: {
        portIn: (port, size) => this.io.read(port, size),
        portOut: (port, size, value) => this.io.write(port, size, value),
        mmioRead: (address, size) => this.mmio.read(address, size),
        mmioWrite: (address, size, value) => {
          this.mmio.write(address, size, value);
          this.traceRecorder?.mmioWrite(address);
        },
        interruptAcknowledge: () => this.acknowledgeInterrupt(),
        apicBaseWrite: (low) => this.localApics?.running.apicBaseWritten(low),
      },
    });
    this.vcpuScheduler = new VcpuScheduler(this.cpu);
    this.cpu.configure({ apic: setup.apic, pae: setup.pae, cpuCount: setup.cpuCount, cpuIndex: 0 });
    this.memory = new GuestMemory(this.cpu.ram());
    const { io, mmio, clock } = this;

    for (let i = 0; i < 16; i++) this.isaIrqs.push(new IrqLine(`isa-irq${i}`));
    // The 8259 pair's output: straight to the CPU's INTR without APICs; with APICs, into the
    // boot processor's LINT0 (virtual wire) and, in IMCR PIC mode, to INTR directly.
    const picOutput = new IrqLine('8259-int');
    this.pic = this.add(new DualPic8259({ io, intr: picOutput }));
    for (let i = 0; i < 16; i++) if (i !== 2) this.pic.connect(i, this.isaIrqs[i]);
    if (setup.apic) {
      picOutput.connect(() => this.updateIntr(0));
      const localApics = new LocalApics({
        clock, cpu: this.cpu,
        intrChanged: (vcpu) => this.updateIntr(vcpu),
        onLevelEoi: (v) => this.ioApic?.eoi(v),
        externalAcknowledge: () => this.pic.acknowledge(),
        onIpi: (e) => { for (const l of this.ipiListeners) l(e); },
      });
      this.localApics = localApics;
      const apics = localApics.apics.map((a) => this.add(a));
      this.localApic = apics[0];
      picOutput.connect((level) => apics[0].setLint(0, level));
      mmio.register(localApics.mmio);
      this.ioApic = this.add(new IoApic({ mmio, deliver: (m) => deliverApicMessage(m, apics) }));
      for (let i = 0; i < 16; i++) this.ioApic.connect(i === 0 ? 2 : i, this.isaIrqs[i]);
      this.add(new Imcr({ io, onModeChange: (symmetric) => { this.symmetricIo = symmetric; this.updateIntr(); this.traceRecorder?.imcrChanged(symmetric); } }));
    } else {
      picOutput.connect((level) => this.cpu.setIntr(level));
    }

    const pit = this.add(new Pit8254({ io, clock, irq0: this.isaIrqs[0] }));
    this.add(new SystemControlPort({ io, clock, setTimer2Gate: (l) => pit.setGate(2, l), timer2Output: () => pit.output(2) }));
    this.rtc = this.add(new RtcCmos({ io, clock, irq: this.isaIrqs[8], startTime: setup.rtcStartSeconds }));
    this.postCodes = this.add(new PostCodePort({ io }));
    this.add(new DebugConsolePort({ io, output: (b) => { setup.debugConsole?.(b); this.traceRecorder?.debugByte(b); } }));

    const setA20 = (on: boolean) => this.cpu.setA20(on);
    const requestReset = () => this.requestEvent('reboot');
    this.add(new I8042({
      io, irqKeyboard: this.isaIrqs[1], irqMouse: this.isaIrqs[12], setA20, requestReset,
      a20Enabled: () => this.cpu.a20, keyboard: this.keyboard, mouse: this.mouse,
    }));
    this.add(new Port92({ io, setA20, requestReset, a20Enabled: () => this.cpu.a20 }));
    const comPorts: [number, number][] = [[0x3f8, 4], [0x2f8, 3]];
    comPorts.forEach(([base, irq], n) => {
      this.serial.push(this.add(new Uart16550({
        io, clock, irq: this.isaIrqs[irq], base, name: `com${n + 1}`,
        onTransmit: (b) => setup.serialOutput?.(n as 0 | 1, b),
      })));
    });

    const dma = this.add(new IsaDma8237({ io, memory: this.memory }));
    this.floppy = this.add(new FloppyController({
      io, irq: this.isaIrqs[6], dma: dma.channel(2),
      drives: [{ media: setup.floppies[0] }, ...(setup.floppies[1] ? [{ media: setup.floppies[1] }] : [])],
    }));

    // PCI: 00.0 host bridge, 01.0 ISA bridge, 01.1 IDE, 01.3 power management, 02.0 VGA.
    let piix3: Piix3IsaBridge | undefined;
    this.pci = new PciBus({
      io, mmio,
      routeInterrupt: (dev, pin) => piix3!.routeInterrupt(dev, pin),
      onDirectMemoryMap: (address, backing) => this.mapLinearFramebuffer(address, backing),
    });
    this.add(this.pci);
    piix3 = this.add(new Piix3IsaBridge({ pci: this.pci, isaIrqs: this.isaIrqs, onReset: () => this.requestEvent('reboot') }));
    // PIRQA-D also reach I/O APIC pins 16-19, as the tables say.
    for (let n = 0; n < 4; n++) this.ioApic?.connect(16 + n, piix3.pirqLine(n));
    this.host = this.add(new I440fxHostBridge({
      io, pci: this.pci, resetControl: piix3.resetControl,
      onPamChange: (base, length, readRam, writeRam) => this.applyPam(base, length, readRam, writeRam),
    }));
    const ide = this.add(new Piix3Ide({ memory: this.memory }));
    this.pci.addFunction(1, 1, ide);
    const channelPorts: [number, number, number][] = [[0x1f0, 0x3f6, 14], [0x170, 0x376, 15]];
    channelPorts.forEach(([basePort, controlPort, irq], n) => {
      const channel = this.add(new IdeChannel({
        io, irq: this.isaIrqs[irq], basePort, controlPort, clock, busMaster: ide.busMaster(n as 0 | 1), name: `ide${n}`,
      }));
      this.ideChannels.push(channel);
      for (let unit = 0; unit < 2; unit++) {
        const slot = setup.ide[n * 2 + unit];
        if (!slot) continue;
        if (slot.kind === 'disk') channel.attach(unit as 0 | 1, new AtaDisk({ backend: this.gateMedia(slot.backend), serial: `QM0000${n * 2 + unit + 1}` }));
        else {
          const cd = new AtapiCdrom({ backend: slot.backend && this.gateMedia(slot.backend), serial: `QM0000${n * 2 + unit + 1}` });
          this.cdroms.set(n * 2 + unit, cd);
          channel.attach(unit as 0 | 1, cd);
        }
      }
    });
    const board = describeMachineBoard({ acpi: setup.acpi, apic: setup.apic, vcpus: setup.cpuCount, ramMiB: setup.ramMiB });
    const tables = firmwareTablesFor(board);
    // With acpi=0 the power-management function is absent, so SeaBIOS builds no ACPI tables of
    // its own (as with QEMU's -no-acpi).
    if (tables.powerManagementFunction) {
      const pm = board.pm;
      this.powerManagement = this.add(new Piix4Pm({
        pci: this.pci, io, clock, sci: this.isaIrqs[9], onSleep: (typ) => { if (typ === pm.sleepTypeSoftOff) this.requestEvent('poweroff'); },
        onSmiCommand: (v) => this.traceRecorder?.smiCommand(pm.smiCommand, v, pm.acpiEnable, pm.acpiDisable),
        onSciEnableChange: (on) => this.traceRecorder?.sciEnableChanged(on),
      }));
    }
    if (setup.usbPointer) {
      const uhci = this.add(new Uhci({ memory: this.memory, clock }));
      this.pci.addFunction(1, 2, uhci);
      const device = setup.usbPointer === 'tablet' ? (this.tablet = this.add(new UsbHidTablet({ clock }))) : (this.usbMouse = this.add(new UsbHidMouse({ clock })));
      uhci.attach(0, device);
    }
    const vram = new Uint8Array(this.cpu.memory.buffer, this.cpu.extraBase, VRAM_BYTES);
    this.vga = this.add(new StdVga({ io, mmio, clock, vram, rom: setup.firmware.vgaBios }));
    this.pci.addFunction(2, 0, this.vga.pci);
    const network = setup.network ?? new SwitchRegistry();
    (setup.nics ?? []).forEach((nic, i) => {
      const sw = network.bridge(nic.bridge);
      builtInGateway(sw); // one per switch, shared with the other machines on it
      const card = this.add(new Rtl8139({ mac: nic.mac, memory: this.memory, clock, port: sw.connect(`${setup.name}-vif${i}`), ramBytes, name: `rtl8139-${i}`, rom: setup.firmware.nicRom }));
      this.pci.addFunction(3 + i, 0, card);
      this.nics.push(card);
    });
    this.fwCfg = this.add(new FwCfg({ io, dma: this.memory }));

    // The VGA legacy window is inside the first megabyte: route it to the device.
    this.cpu.mapDevice(0xa0000, 0x20000);
    this.loadBios(setup.firmware.bios);
    installFirmwareConfig(this.fwCfg, {
      ramBytes,
      cpuCount: setup.cpuCount,
      bootOrder: this.bootOrderPaths(),
      uuid: setup.uuid,
    });
    installFirmwareTables(this.fwCfg, tables);
    this.reset();
  }

  private symmetricIo = false;

  /**
   * A vCPU's INTR: its local APIC's output; the bootstrap processor's also carries the 8259's in
   * IMCR PIC mode (without APICs: the 8259).
   */
  private updateIntr(vcpu = 0): void {
    const apic = this.localApics?.apics[vcpu];
    if (!apic) return;
    const picDirect = vcpu === 0 && !this.symmetricIo && this.pic.asserted && !apic.interruptPending;
    this.cpu.setIntr(apic.interruptPending || picDirect, vcpu);
  }

  /** The INTA cycle of the running vCPU: the vector comes from its local APIC, or the 8259 pair. */
  private acknowledgeInterrupt(): number {
    const apic = this.localApics?.running;
    if (apic) {
      if (apic.interruptPending) return apic.acknowledge();
      if (this.cpu.current === 0 && !this.symmetricIo && this.pic.asserted) return this.pic.acknowledge();
      return -1;
    }
    return this.pic.asserted ? this.pic.acknowledge() : -1;
  }

  // ---- Virtual CPUs ----

  /** The local APIC of every vCPU (apic=1). */
  private readonly localApics: LocalApics | undefined;
  private readonly vcpuScheduler: VcpuScheduler;
  private readonly ipiListeners: ((e: IpiEvent) => void)[] = [];

  /** Be told of every interrupt message a vCPU sends through its ICR (INIT, STARTUP, fixed, NMI). */
  onIpi(listener: (e: IpiEvent) => void): void {
    this.ipiListeners.push(listener);
  }

  /** Every vCPU's CPU state block, in vCPU order (vCPU 0 is the bootstrap processor): the CPU side of a snapshot. */
  vcpuStates(): Uint8Array[] {
    return this.cpu.saveVcpuStates();
  }

  /** Load blocks from vcpuStates(); the local APICs are devices and restore with the others. */
  loadVcpuStates(blocks: readonly Uint8Array[]): void {
    this.cpu.loadVcpuStates(blocks);
  }

  /** Where the vCPU scheduler stands: the vCPU whose state the core holds, and the one the next round starts with. */
  vcpuSchedule(): { running: number; next: number } {
    return { running: this.cpu.current, next: this.vcpuScheduler.nextVcpu };
  }

  /** Restore vcpuSchedule(); before loadVcpuStates (selecting a vCPU moves state blocks). */
  loadVcpuSchedule(schedule: { running: number; next: number }): void {
    this.cpu.select(schedule.running);
    this.vcpuScheduler.nextVcpu = schedule.next;
  }

  private add<T extends Device>(device: T): T {
    this.devices.push(device);
    return device;
  }

  // ---- Boot-path trace ----

  private traceRecorder: BootTraceRecorder | undefined;

  /** The boot-path trace, recorded from now on (see boot-trace.ts); the same one on every call. */
  enableBootTrace(): BootTrace {
    if (!this.traceRecorder) {
      const ramBase = this.cpu.offset('RAM_BASE');
      const recorder = new BootTraceRecorder({
        mmio: this.mmio, ram: this.cpu.ram(),
        timeNs: () => this.clock.now(), instructions: () => Number(this.cpu.instructions),
        pamSegments: () => this.host.pamSegments(),
        mapDevicePage: (page) => this.cpu.mapDevice(page, 4096),
        mapRamPage: (page) => this.cpu.mapRam(page, 4096, ramBase + page),
        applyPam: (seg) => this.applyPam(seg.base, seg.length, seg.readRam, seg.writeRam),
        ioApic: this.ioApic, localApic: this.localApic, imcrSymmetric: () => this.symmetricIo,
        cr0: () => this.cpu.controlRegister(0),
      });
      this.traceRecorder = recorder;
      this.onEvent((e) => recorder.powerEvent(e));
      // AP start-up: INIT (assert) and STARTUP IPIs to other vCPUs (vCPU index = APIC ID here).
      this.onIpi((e) => {
        const { mode, level, vector } = e.message;
        if (mode !== DeliveryMode.Init && mode !== DeliveryMode.Startup) return;
        if (mode === DeliveryMode.Init && !level) return;
        for (const t of e.targets) if (t !== e.source) recorder.apStartup(mode === DeliveryMode.Init ? 'INIT' : 'STARTUP', t, mode === DeliveryMode.Startup ? vector : undefined);
      });
    }
    return this.traceRecorder.trace;
  }

  /** The boot-path trace if one was requested. */
  get bootTrace(): BootTrace | undefined {
    return this.traceRecorder?.trace;
  }

  /** The boot-path trace recorder, for code that reports events to it (e.g. AP startup IPIs). */
  get bootTraceRecorder(): BootTraceRecorder | undefined {
    return this.traceRecorder;
  }

  // ---- Power button ----

  private powerManagement: Piix4Pm | undefined;

  /**
   * Press the ACPI power button (acpi=1): PWRBTN_STS and an SCI, so an ACPI OS shuts down and
   * powers off through S5. Returns false when the board has no ACPI power management (acpi=0).
   */
  pressPowerButton(): boolean {
    if (!this.powerManagement) return false;
    this.traceRecorder?.powerEvent('power-button');
    this.powerManagement.pressPowerButton();
    return true;
  }

  onEvent(listener: (e: MachineEvent) => void): void {
    this.eventListeners.push(listener);
  }

  private requestEvent(e: MachineEvent): void {
    this.pendingEvent ??= e;
    this.cpu.requestStop();
  }

  // ---- Firmware and memory map ----

  private loadBios(image: Uint8Array): void {
    if (image.length < ISA_BIOS_SIZE || image.length % 0x10000 !== 0 || image.length > 0x100000) {
      throw new Error(`BIOS image has an unexpected size (${image.length} bytes)`);
    }
    this.cpu.mapRom(BIOS_TOP - image.length, image, 0);
  }

  /** Host offset in shared memory of the low BIOS window's ROM contents. */
  private isaBiosHost(address: number): number {
    const image = this.setup.firmware.bios;
    return this.cpu.offset('ROM_AREA') + image.length - ISA_BIOS_SIZE + (address - ISA_BIOS_BASE);
  }

  /** i440FX PAM: each block of 0xC0000-0xFFFFF reads RAM or the ROM/PCI side, writes RAM or not. */
  private applyPam(base: number, length: number, readRam: boolean, writeRam: boolean): void {
    const ramHost = this.cpu.offset('RAM_BASE') + base;
    if (readRam) {
      this.cpu.mapRam(base, length, ramHost, !writeRam);
    } else if (writeRam) {
      // Write-only shadowing (reads from ROM, writes to RAM) cannot be expressed per page;
      // SeaBIOS only passes through it while copying itself, so RAM read/write is used.
      this.cpu.mapRam(base, length, ramHost, false);
    } else if (base >= ISA_BIOS_BASE) {
      this.cpu.mapRam(base, length, this.isaBiosHost(base), true);
    } else {
      this.cpu.mapDevice(base, length);
    }
    this.traceRecorder?.pamRemapped(base, length);
  }

  private mapLinearFramebuffer(address: number, backing: Uint8Array | null): void {
    if (this.lfbAddress !== undefined) this.cpu.mapDevice(this.lfbAddress, VRAM_BYTES);
    this.lfbAddress = undefined;
    if (!backing) return;
    this.cpu.mapRam(address, backing.length, backing.byteOffset);
    this.lfbAddress = address;
  }

  private bootOrderPaths(): string[] {
    const paths: string[] = [];
    for (const dev of this.setup.boot) {
      if (dev === 'floppy') paths.push(bootPaths.floppy(0));
      if (dev === 'network') paths.push(bootPaths.network(3));
      if (dev === 'disk' || dev === 'cdrom') {
        this.setup.ide.forEach((slot, i) => {
          if (slot && (slot.kind === 'cdrom') === (dev === 'cdrom')) paths.push(bootPaths.ide(i >> 1, i & 1, dev === 'cdrom'));
        });
      }
    }
    return paths;
  }

  // ---- Power ----

  /** RESET#: every device and the CPU return to their power-on state. */
  reset(): void {
    for (const d of this.devices) d.reset();
    this.cpu.setA20(true);
    for (const seg of this.host.pamSegments()) this.applyPam(seg.base, seg.length, seg.readRam, seg.writeRam);
    this.cpu.reset();
    fillCmos(this.rtc, {
      ramBytes: this.setup.ramMiB * 1024 * 1024,
      boot: this.setup.boot,
      floppyTypes: [this.floppy.driveType(0), this.floppy.driveType(1)],
      hasDisks: this.setup.ide.map((s) => s?.kind === 'disk'),
    });
    this.traceRecorder?.machineReset();
  }

  // ---- Running ----

  /**
   * Run one slice: instructions up to the next timer event (or the slice size), then guest time
   * catches up and due device events run. In virtual time a halted CPU skips guest time to the
   * next event; in real time it stays halted until the host clock reaches it (see
   * `nextEventDelayMs`). Returns the machine event that ended the slice, if any.
   */
  runSlice(maxInstructions = SLICE_INSTRUCTIONS): MachineEvent | undefined {
    if (this.setup.hostClockMs) this.runRealTimeSlice(maxInstructions);
    else this.runVirtualTimeSlice(maxInstructions);
    const event = this.pendingEvent;
    this.pendingEvent = undefined;
    if (event) for (const l of this.eventListeners) l(event);
    return event;
  }

  /**
   * Virtual time: guest time does not go past this (ns). A runner with several VMs keeps them
   * within a small step of each other with it, so what one VM sends another receives at about
   * the same guest time (see src/cli/multi-run.ts). Not machine state: the runner sets it.
   */
  timeLimitNs = Infinity;

  private runVirtualTimeSlice(maxInstructions: number): void {
    if (this.mediaGate?.stalled) return; // guest time waits for late disk data
    if (this.clock.now() >= this.timeLimitNs) return; // the other VMs catch up first
    if (this.cpu.vcpuCount > 1) {
      this.runVirtualTimeRounds(maxInstructions);
      return;
    }
    const budget = this.instructionsUntilEvent(maxInstructions);
    const reason = this.cpu.run(budget);
    this.syncVirtualClock();
    if (reason === StopReason.Reset) this.requestEvent('triple-fault');
    if (reason === StopReason.Halt && !this.pendingEvent) this.skipIdleTime();
  }

  /** Instructions until the next timer event or the time limit (at least 1, at most `max`). */
  private instructionsUntilEvent(max: number): number {
    const next = Math.min(this.clock.nextEventTime(), this.timeLimitNs);
    const n = Math.ceil((next - this.clock.now()) / this.nsPerInstruction);
    return Math.max(1, Math.min(max, Number.isFinite(n) ? n : max));
  }

  /**
   * Every vCPU is halted: jump guest time to the next event (an interrupt can only come from
   * one), or to the time limit if that comes first. The TSC keeps pace with the skipped time, as
   * it does on hardware while the CPU halts.
   */
  private skipIdleTime(): void {
    const t = Math.min(this.clock.nextEventTime(), this.timeLimitNs);
    if (!Number.isFinite(t)) return;
    this.clock.advanceTo(t);
    this.clockInstructions = this.cpu.totalInstructions;
    this.timeOffsetNs = t - Number(this.clockInstructions) * this.nsPerInstruction;
    this.syncTscToGuestTime();
  }

  /**
   * Several vCPUs: rounds of turns (see vcpu-scheduler.ts) until `maxInstructions` retired, each
   * turn capped by the next timer event; guest time follows the instructions of all vCPUs. With
   * every vCPU halted, guest time jumps to the next event.
   */
  private runVirtualTimeRounds(maxInstructions: number): void {
    const start = this.cpu.totalInstructions;
    const untilEvent = () => {
      const n = Math.ceil((Math.min(this.clock.nextEventTime(), this.timeLimitNs) - this.clock.now()) / this.nsPerInstruction);
      return Number.isFinite(n) ? n : maxInstructions;
    };
    const afterTurn = (_vcpu: number, reason: StopReason) => {
      this.syncVirtualClock();
      if (reason === StopReason.Reset) this.requestEvent('triple-fault');
      return !this.pendingEvent && !this.mediaGate?.stalled && this.clock.now() < this.timeLimitNs;
    };
    for (;;) {
      const turns = this.vcpuScheduler.runRound(untilEvent, afterTurn);
      if (this.pendingEvent || this.mediaGate?.stalled) return;
      if (turns === 0) {
        this.skipIdleTime();
        return;
      }
      // Guest time follows the sum of all vCPUs' instructions; each TSC only its own.
      this.syncTscToGuestTime();
      if (Number(this.cpu.totalInstructions - start) >= maxInstructions || this.clock.now() >= this.timeLimitNs) return;
    }
  }

  private runRealTimeSlice(maxInstructions: number): void {
    const host = this.setup.hostClockMs!;
    // Guest time goes on from where it stood when the machine last stopped running.
    this.hostStartMs ??= host() - this.clock.now() / 1e6;
    this.clock.advanceTo((host() - this.hostStartMs) * 1e6);
    this.syncTscToGuestTime();
    if (this.cpu.vcpuCount > 1) {
      // One round: every vCPU with work gets a share of the slice; guest time is the host's.
      const start = this.hostStartMs;
      this.vcpuScheduler.runRound(() => Math.ceil(maxInstructions / this.cpu.vcpuCount), (_vcpu, reason) => {
        this.clock.advanceTo((host() - start) * 1e6);
        if (reason === StopReason.Reset) this.requestEvent('triple-fault');
        return !this.pendingEvent;
      });
      return;
    }
    if (this.cpu.halted && !this.haltCanEnd()) return;
    const reason = this.cpu.run(maxInstructions);
    this.clock.advanceTo((host() - this.hostStartMs) * 1e6);
    if (reason === StopReason.Reset) this.requestEvent('triple-fault');
  }

  /**
   * What wakes a halted CPU: an interrupt it can take (INTR, from the local APIC or the 8259
   * pair as updateIntr wires them, with IF set) or a pending NMI.
   */
  private haltCanEnd(): boolean {
    const apic = this.localApic;
    const intr = apic ? apic.interruptPending || (!this.symmetricIo && this.pic.asserted) : this.pic.asserted;
    if (intr && this.cpu.eflags & 0x200) return true;
    return this.cpu.view.getUint32(this.cpu.offset('STATE') + this.cpu.offset('S_NMI_PENDING'), true) !== 0;
  }

  /**
   * The TSC (offset + retired instructions in the core) catches up with guest time, one tick per
   * nsPerInstruction, so a guest keeping time with the TSC (Linux's clocksource) sees time pass
   * while the CPU is halted, in real and in virtual time. It never goes backwards.
   */
  private syncTscToGuestTime(): void {
    // Every vCPU's: they share one TSC (see CpuCore.levelTimeStampCounters).
    this.cpu.raiseTimeStampCounters(BigInt(Math.floor(this.clock.now() / this.nsPerInstruction)));
  }

  /** Real-time mode: milliseconds until the next device event is due (Infinity if none). */
  nextEventDelayMs(): number {
    if (!this.setup.hostClockMs || this.hostStartMs === undefined) return 0;
    const dueNs = this.clock.nextEventTime();
    return Math.max(0, dueNs / 1e6 - (this.setup.hostClockMs() - this.hostStartMs));
  }

  /** Host time (ms) at which guest time was 0, while running in real time; unset while stopped. */
  private hostStartMs: number | undefined;

  /**
   * Real time: guest time stands still from now until the machine runs again (a pause, saving
   * or restoring a snapshot), instead of jumping ahead by the host time that passed meanwhile.
   */
  holdGuestTime(): void {
    this.hostStartMs = undefined;
  }
  /** Guest time that passed while the CPU was halted, beyond its instruction count. */
  private timeOffsetNs = 0;

  /** Media for a drive: held to deterministic due times in deterministic mode. */
  gateMedia(backend: BlockBackend): BlockBackend {
    return this.mediaGate ? new GatedBackend(backend, this.mediaGate) : backend;
  }

  /** Restoring a snapshot: guest time is `timeNs` at the CPU's current instruction count. */
  resumeAt(timeNs: number): void {
    this.holdGuestTime();
    this.clock.setTime(timeNs);
    this.clockInstructions = this.cpu.totalInstructions;
    this.timeOffsetNs = timeNs - Number(this.clockInstructions) * this.nsPerInstruction;
  }

  private syncVirtualClock(): void {
    const insns = this.cpu.totalInstructions;
    if (insns === this.clockInstructions) return;
    this.clockInstructions = insns;
    this.clock.advanceTo(Number(insns) * this.nsPerInstruction + this.timeOffsetNs);
  }

  /** True when the CPU is halted waiting for an interrupt that only asynchronous I/O can bring. */
  /** No vCPU has work: each is halted (or waits for start-up) with no interrupt it can take. */
  get allVcpusHalted(): boolean {
    return !this.vcpuScheduler.anyRunnable();
  }

  get idle(): boolean {
    if (this.mediaGate?.stalled) return true;
    const halted = this.cpu.vcpuCount > 1 ? !this.vcpuScheduler.anyRunnable() : this.cpu.halted;
    return halted && !Number.isFinite(this.clock.nextEventTime());
  }

  // ---- Screen ----

  /** Video memory as the VGA card sees it. */
  get vram(): Uint8Array {
    return new Uint8Array(this.cpu.memory.buffer, this.cpu.extraBase, VRAM_BYTES);
  }

  /** The VGA text screen as lines, or null in a graphics mode. */
  screenText(): string[] | null {
    return screenText(this.vga.displayState(), this.vram);
  }

  /** The current screen as RGBA pixels. */
  screenshot(): { width: number; height: number; rgba: Uint8ClampedArray } {
    return renderFrame(this.vga.displayState(), this.vram);
  }

  /** Wait until no disk request is in flight. */
  async whenMediaIdle(): Promise<void> {
    // Deterministic mode: requests not yet due complete only as guest time passes.
    if (this.mediaGate) return this.mediaGate.whenDueSettled();
    await Promise.all(this.ideChannels.map((c) => c.whenIdle()));
  }
}
