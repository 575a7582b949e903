/**
 * `webhvm` command line: `webhvm run guest.cfg [options]` boots a domain configuration headless
 * with COM1 on stdin/stdout. `webhvm help` lists the commands.
 */
import { runCommand } from './run-command.ts';
import { halCommand } from './hal-command.ts';
import { tablesCommand } from './tables-command.ts';
import { overlayCommand } from './overlay-command.ts';
import { testCommand } from './test-command.ts';
import { relayCommand, RELAY_USAGE } from './relay-command.ts';

const usage = `usage: webhvm <command> [arguments]

commands:
  run <config>... [options]
                           boot one or more domain configurations headless; COM1 is stdin/stdout
                           (several VMs: each line prefixed with "NAME| ", stdin to the first VM,
                           cards on the same bridge share a switch)
      --until REGEX        stop with success when the serial output matches REGEX
      --until NAME=REGEX   the same for the VM named NAME (repeatable)
      --timeout SECONDS    stop with failure after this many seconds (default: none)
      --screenshot FILE    write the screen as PNG when the run ends
      --debugcon FILE      write the BIOS debug console (port 0x402) to FILE
      --quiet              do not copy the guest's serial output to stdout
      --tftp DIR|NAME=FILE the built-in TFTP server serves DIR, or FILE as NAME (repeatable)
      --boot-file NAME     the boot file the built-in DHCP server names (network boot, boot='n')
      --trace-boot FILE    write the boot-path trace (POST, tables read, interrupt mode) as JSON lines
    reproducible runs (see docs/reproducible.md for which options combine):
      --deterministic      guest time, disks and the RTC independent of the host, several VMs in a
                           fixed interleaving; prints "fingerprint: insns=N serial=H screen=H ram=H"
                           (one per VM, prefixed "NAME| ") before the ended lines; not with --relay
      --save-at N|REGEX FILE
                           save a snapshot at instruction N (all vCPUs) or after COM1 matches REGEX,
                           go on (one configuration)
      --restore FILE       start from a snapshot (same configuration and build; one configuration)
      --input-log FILE     write the input the first VM took (with its virtual moments) to FILE
      --replay FILE        feed such a log to the first VM at the same moments (stdin unused)
      --persist            keep writable disks' changes in <name>.<vdev>.overlay beside the config
  overlay list|export|discard <config> [vdev] [out.img]
                           the persistent disk overlays of a configuration: list them, write the
                           disk as the guest sees it to a new image, or throw the changes away
  test <script> [--config FILE] [--junit FILE] [--artifacts DIR] [--persist] [--verbose] [--browser [--dist DIR]]
                           run a boot-test script (wait serial/screen, send, type, key, tablet,
                           screenshot, fingerprint, eject/insert, snapshot) in deterministic mode;
                           exit 0 when every step passed; --browser runs it in the production page
                           in headless Chromium (needs playwright-core, Chromium and npm run build)
  hal <config> [--json]    the Windows HAL and Linux interrupt mode this configuration gets, and what
                           the firmware shows (tables, CPUs, APICs, interrupt routing)
  tables <config> --out DIR
                           write the ACPI tables (for iasl -d) and the MP table as binary files
${RELAY_USAGE}
  help                     this text

The run ends with one line "webhvm: <name> ended: <event>" per VM (matched, poweroff, reboot,
crash, timeout, stopped). Exit status: 0 matched (or poweroff without --until), 1 timeout or
other ends, 2 bad configuration or image, 3 crash; with several VMs the worst of theirs.`;

export async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  switch (command) {
    case 'run':
      return runCommand(rest);
    case 'hal':
      return halCommand(rest);
    case 'tables':
      return tablesCommand(rest);
    case 'overlay':
      return overlayCommand(rest);
    case 'test':
      return testCommand(rest);
    case 'relay':
      return relayCommand(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(usage);
      return command === undefined ? 2 : 0;
    default:
      console.error(`webhvm: unknown command '${command}'\n\n${usage}`);
      return 2;
  }
}
