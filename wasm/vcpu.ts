// Several vCPUs in one core: the state block at STATE is the running vCPU's; the machine keeps
// the others in VCPU_SAVE slots and swaps blocks between run() calls (switchVcpu). Start-up
// signals (INIT, STARTUP IPI) are posted into a vCPU's block by the machine and take effect when
// that vCPU next runs, at an instruction boundary, as on the APIC bus. PAUSE can end run() so a
// spin-wait loop gives its time to the vCPU it waits for.
import {
  STATE, STATE_SIZE, S_CR0, S_CR3, S_CR4, S_EFER, S_HALTED, S_WAIT_FOR_SIPI, S_INIT_PENDING,
  S_SIPI_PENDING, S_PAUSE_EXIT, S_STOP_REQUEST, CR0_PG, CR0_WP, CR4_PSE, CR4_PAE, CR4_PGE, EFER_NXE, CS,
} from './layout';
import { flushTlb, updateAccessMasks, endSystemAccess, invalidateFetch } from './memory';
import { setSegmentCache } from './segments';
import { repPrefix, markPrefixesDirty } from './decode';
import { initCpu, forgetInstructionRequests } from './cpu';
import { setEip } from './regs';
import { addRetired } from './retired';

/** True when two state blocks translate linear addresses alike, so TLB entries stay valid. */
function sameTranslation(other: u32): bool {
  if ((load<u32>(STATE + S_CR0) ^ load<u32>(other + S_CR0)) & (CR0_PG | CR0_WP)) return false;
  if (load<u32>(STATE + S_CR3) != load<u32>(other + S_CR3)) return false;
  if ((load<u32>(STATE + S_CR4) ^ load<u32>(other + S_CR4)) & (CR4_PSE | CR4_PAE | CR4_PGE)) return false;
  return ((load<u32>(STATE + S_EFER) ^ load<u32>(other + S_EFER)) & EFER_NXE) == 0;
}

/**
 * Save the running vCPU's block to `saveTo` and run the one at `loadFrom` from now on. The TLB
 * is kept when both use the same page tables in the same paging mode (an entry one vCPU filled is
 * then a translation the other could have fetched itself), and flushed otherwise.
 */
export function switchVcpu(saveTo: u32, loadFrom: u32): void {
  const keepTlb = sameTranslation(loadFrom);
  memory.copy(saveTo, STATE, STATE_SIZE);
  memory.copy(STATE, loadFrom, STATE_SIZE);
  forgetInstructionRequests();
  markPrefixesDirty();
  endSystemAccess();
  if (!keepTlb) flushTlb();
  updateAccessMasks();
}

/**
 * Apply a posted INIT and STARTUP IPI (Intel SDM vol. 3, "MP Initialization Protocol"): INIT
 * resets the vCPU, and an application processor then waits for SIPI; a SIPI to a waiting vCPU
 * starts it in real mode at vector * 0x1000 (CS = vector << 8, IP = 0). A SIPI to a vCPU that
 * does not wait is ignored. Returns true when the vCPU can run.
 */
export function applyStartupSignals(): bool {
  // INIT came first (a SIPI to a vCPU that does not wait is never posted), and clears the block.
  const sipi = load<u32>(STATE + S_SIPI_PENDING);
  store<u32>(STATE + S_SIPI_PENDING, 0);
  if (load<u32>(STATE + S_INIT_PENDING)) {
    store<u32>(STATE + S_INIT_PENDING, 0);
    initCpu();
  }
  if (sipi) {
    if (load<u32>(STATE + S_WAIT_FOR_SIPI)) {
      const vector = sipi & 0xff;
      store<u32>(STATE + S_WAIT_FOR_SIPI, 0);
      store<u32>(STATE + S_HALTED, 0);
      setSegmentCache(CS, vector << 8, vector << 12, 0xffff, 0x9b);
      setEip(0);
      invalidateFetch();
    }
  }
  return load<u32>(STATE + S_WAIT_FOR_SIPI) == 0;
}

/**
 * How many instruction-times PAUSE takes. Real CPUs take 10 to 140 cycles; here a spin-wait
 * loop gives up about a microsecond of guest time per PAUSE (10 ns per instruction-time in
 * virtual time), so a TSC-timed delay loop such as Linux's udelay spins about eight times fewer
 * rounds for the same delay. Like a hypervisor's pause-loop exit, it costs a waiting guest
 * nothing it could observe except the count of its own spins.
 */
const PAUSE_INSTRUCTION_TIMES: u32 = 100;

/** NOP, and with an F3 prefix PAUSE: a spin-wait hint that ends run() when the machine asks. */
export function pause(): void {
  if (repPrefix != 1) return;
  addRetired(PAUSE_INSTRUCTION_TIMES - 1);
  if (load<u32>(STATE + S_PAUSE_EXIT)) store<u32>(STATE + S_STOP_REQUEST, 1);
}
