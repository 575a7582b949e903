/**
 * One local APIC per vCPU, wired to the CPU core the way a multiprocessor PC wires them: every
 * vCPU sees its own APIC at 0xFEE00000 (the window dispatches on the vCPU that is running), the
 * APICs talk over one APIC bus (ICR messages reach their destinations among them), and what an
 * APIC accepts reaches its own vCPU: INTR, NMI, INIT and STARTUP (posted into that vCPU's state,
 * applied when it next runs). Only the bootstrap processor's LINT0 is the 8259's virtual wire.
 */
import type { AccessRange } from '../bus/access-range.ts';
import type { Clock } from '../bus/clock.ts';
import { IrqLine } from '../bus/irq-line.ts';
import type { CpuCore } from '../cpu/cpu-core.ts';
import { LocalApic, apicDestinations, LOCAL_APIC_DEFAULT_BASE, LOCAL_APIC_WINDOW, type IpiMessage } from '../devices/local-apic.ts';

/** An interrupt message a vCPU sent through its ICR, with the vCPUs it reached. */
export interface IpiEvent {
  /** The sending vCPU. */
  source: number;
  message: IpiMessage;
  /** The vCPUs whose APICs the message reached (before they accept or ignore it). */
  targets: number[];
}

export interface LocalApicsOptions {
  clock: Clock;
  cpu: Pick<CpuCore, 'vcpuCount' | 'current' | 'raiseNmi' | 'postInit' | 'postStartup' | 'setPauseExit'>;
  /** A vCPU's APIC changed its interrupt request: the machine recomputes that vCPU's INTR. */
  intrChanged: (vcpu: number) => void;
  /** EOI of a level-triggered vector: the I/O APICs' business. */
  onLevelEoi: (vector: number) => void;
  /** The 8259 pair's INTA cycle, for ExtINT on the bootstrap processor. */
  externalAcknowledge: () => number;
  /** Every ICR message sent (INIT, STARTUP, fixed, NMI, ...), after it was routed. */
  onIpi: (event: IpiEvent) => void;
}

export class LocalApics {
  /** APIC i belongs to vCPU i and has APIC ID i, as the MADT, MP table and CPUID say. */
  readonly apics: LocalApic[] = [];
  /** The window at 0xFEE00000: each vCPU reaches its own APIC. */
  readonly mmio: AccessRange;
  private readonly cpu: LocalApicsOptions['cpu'];

  constructor(options: LocalApicsOptions) {
    const { clock, cpu } = options;
    this.cpu = cpu;
    for (let i = 0; i < cpu.vcpuCount; i++) {
      const intr = new IrqLine(`lapic${i}-int`);
      intr.connect((level) => {
        options.intrChanged(i);
        if (level) this.wake(i);
      });
      const apic = new LocalApic({
        clock, id: i, bsp: i === 0, intr,
        send: (message) => {
          const targets = apicDestinations(message, this.apics, this.apics[i]);
          options.onIpi({ source: i, message, targets: targets.map((t) => this.apics.indexOf(t)) });
          for (const t of targets) t.accept(message);
        },
        onInit: () => {
          cpu.postInit(i);
          this.wake(i);
        },
        onStartup: (vector) => {
          if (cpu.postStartup(i, vector)) this.wake(i);
        },
        onNmi: () => {
          cpu.raiseNmi(i);
          this.wake(i);
        },
        onLevelEoi: options.onLevelEoi,
        externalAcknowledge: i === 0 ? options.externalAcknowledge : undefined,
      });
      this.apics.push(apic);
    }
    this.mmio = {
      owner: 'local-apic',
      base: LOCAL_APIC_DEFAULT_BASE,
      length: LOCAL_APIC_WINDOW,
      sizes: this.apics[0].mmio.sizes,
      read: (offset, size) => this.apics[cpu.current].mmio.read!(offset, size),
      write: (offset, size, value) => this.apics[cpu.current].mmio.write!(offset, size, value),
    };
  }

  /** The APIC of the vCPU that is running (INTA cycles and APIC_BASE writes come from it). */
  get running(): LocalApic {
    return this.apics[this.cpu.current];
  }

  /**
   * Something for vCPU `vcpu` arrived while another runs: a spin-wait (PAUSE) on the running vCPU
   * now ends its turn, so the one it may be waiting for gets to run sooner.
   */
  private wake(vcpu: number): void {
    if (vcpu !== this.cpu.current) this.cpu.setPauseExit(true);
  }
}
