/**
 * `webhvm` command line: `webhvm run guest.cfg [options]` boots a domain configuration headless
 * with COM1 on stdin/stdout. `webhvm help` lists the commands.
 */
import { runCommand } from './run-command.ts';
import { halCommand } from './hal-command.ts';
import { tablesCommand } from './tables-command.ts';

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
  hal <config> [--json]    the Windows HAL and Linux interrupt mode this configuration gets, and what
                           the firmware shows (tables, CPUs, APICs, interrupt routing)
  tables <config> --out DIR
                           write the ACPI tables (for iasl -d) and the MP table as binary files
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
