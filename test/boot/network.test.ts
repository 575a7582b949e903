import { describe, expect, it } from 'vitest';
import { readDomainConfigFile, nodeMediaResolver } from '../../src/config/resolve-node.ts';
import { resolveMedia } from '../../src/config/media.ts';
import { openImagesNode } from '../../src/cli/open-images-node.ts';
import { runMachines } from '../../src/cli/multi-run.ts';
import { VmRunLoop, type RunnableVm } from '../../src/cli/run-loop.ts';
import { loadCoreModule } from '../../src/cpu/load-core-node.ts';
import { loadFirmwareFiles } from '../../src/firmware/firmware-files-node.ts';
import { SYSTEM_BIOS, VGA_BIOS_STDVGA } from '../../src/firmware/firmware-files.ts';
import { Machine } from '../../src/machine/machine.ts';
import { machineSetupFromConfig } from '../../src/machine/setup-from-config.ts';
import { builtInGateway } from '../../src/net/gateway.ts';
import { formatIpv4Address } from '../../src/net/ipv4.ts';
import { SwitchRegistry } from '../../src/net/virtual-switch.ts';
import { imagesAvailable, image, writeConfig } from './boot-helpers.ts';

/**
 * Two Linux guests in one process on one bridge, taking turns in the runner's scheduler: each
 * leases an address from the built-in gateway's DHCP server with busybox udhcpc (through its
 * RTL8139 and 8139too), pings the gateway, then pings the other guest across the switch.
 */

const MACS = { alpha: '00:16:3e:00:00:0a', beta: '00:16:3e:00:00:0b' };
// udhcpc only prints the lease; this script applies it. Typed at the prompt, so `\n` is for printf.
const DHCP_SCRIPT = `printf '#!/bin/sh\\n[ "$1" = bound ] && ifconfig $interface $ip netmask $subnet && echo "lease=$ip"\\n' >/tmp/dhcp.sh; chmod +x /tmp/dhcp.sh\n`;

interface Guest {
  name: keyof typeof MACS;
  machine: Machine;
  serial: string;
  lease?: string;
  step: number;
}

async function boot(name: keyof typeof MACS, network: SwitchRegistry, firmware: Map<string, Uint8Array>): Promise<Guest> {
  const path = writeConfig(
    `name = '${name}'\nbuilder = 'hvm'\nmemory = 128\nacpi = 0\napic = 0\nboot = 'd'\n` +
      `disk = [ 'file:${image('linux.iso')},hdc:cdrom,r' ]\n` +
      `vif = [ 'mac=${MACS[name]}, bridge=xenbr0, model=rtl8139' ]\n`,
    `${name}.cfg`,
  );
  const { config } = await readDomainConfigFile(path);
  const media = await resolveMedia(config, nodeMediaResolver(path), { fileName: path });
  const images = await openImagesNode(media);
  const guest = { name, serial: '', step: 0 } as Guest;
  const setup = machineSetupFromConfig(config, images.opened, {
    firmware: { bios: firmware.get(SYSTEM_BIOS)!, vgaBios: firmware.get(VGA_BIOS_STDVGA)! },
    serialOutput: (port, byte) => {
      if (port === 0) guest.serial += String.fromCharCode(byte);
    },
    nowSeconds: 1_700_000_000,
  });
  guest.machine = new Machine({ ...setup, network }, loadCoreModule());
  return guest;
}

/**
 * What each guest types, each line once its condition holds. Each command ends by printing its
 * exit status (`$?` expands only in the output, not in the echo of the typed line), so a failure
 * ends the run at once instead of at the timeout.
 */
function script(guest: Guest, other: Guest): { when: () => boolean; send: () => string }[] {
  const prompts = () => guest.serial.split('/ # ').length - 1;
  return [
    { when: () => prompts() >= 1, send: () => DHCP_SCRIPT },
    { when: () => prompts() >= 2, send: () => 'ifconfig eth0 up; udhcpc -i eth0 -s /tmp/dhcp.sh -q -n -t 5 -T 2; echo dhcp-exit-$?\n' },
    { when: () => /dhcp-exit-0/.test(guest.serial) && prompts() >= 3, send: () => 'ping -c 2 10.0.2.2; echo gateway-exit-$?\n' },
    // The other guest must have its address before it can answer.
    { when: () => /gateway-exit-\d/.test(guest.serial) && other.lease !== undefined && prompts() >= 4, send: () => `ping -c 2 ${other.lease}; echo peer-exit-$?\n` },
  ];
}

const DONE = /peer-exit-\d+|dhcp-exit-[1-9]/;

/** The guest's run in the scheduler, typing its script between batches. */
function driven(guest: Guest, other: Guest): RunnableVm {
  const loop = new VmRunLoop(guest.machine, {
    until: DONE,
    onPoweroff: 'destroy',
    onReboot: 'destroy',
    onCrash: 'destroy',
    serialText: () => guest.serial,
  });
  const steps = script(guest, other);
  return {
    get idle() {
      return loop.idle;
    },
    whenMediaIdle: () => loop.whenMediaIdle(),
    runBatch(ms) {
      const result = loop.runBatch(ms);
      guest.lease ??= /lease=(10\.0\.2\.\d+)/.exec(guest.serial)?.[1];
      const next = steps[guest.step];
      if (!result && next?.when()) {
        guest.step++;
        guest.machine.serial[0].receive(new TextEncoder().encode(next.send()));
      }
      return result;
    },
  };
}

describe.runIf(imagesAvailable('linux.iso'))('two Linux guests on one bridge', () => {
  it('lease addresses from the built-in DHCP server, ping the gateway and each other', async () => {
    const firmware = loadFirmwareFiles([SYSTEM_BIOS, VGA_BIOS_STDVGA]);
    const network = new SwitchRegistry();
    const alpha = await boot('alpha', network, firmware);
    const beta = await boot('beta', network, firmware);
    const gateway = builtInGateway(network.bridge('xenbr0'));
    expect(network.bridge('xenbr0').portNames()).toEqual(['gateway', 'alpha-vif0', 'beta-vif0']);

    const results = await runMachines([
      { loop: driven(alpha, beta), hasPattern: true },
      { loop: driven(beta, alpha), hasPattern: true },
    ], { timeoutSeconds: 1500 });
    const tail = (g: Guest) => `--- ${g.name} ---\n${g.serial.slice(-3000)}`;
    expect(results.map((r) => r.event), `${tail(alpha)}\n${tail(beta)}`).toEqual(['matched', 'matched']);
    expect(`${alpha.serial}\n${beta.serial}`.match(/(dhcp|gateway|peer)-exit-\d+/g)!.sort()).toEqual(
      ['dhcp-exit-0', 'dhcp-exit-0', 'gateway-exit-0', 'gateway-exit-0', 'peer-exit-0', 'peer-exit-0'],
    );

    for (const [guest, other] of [[alpha, beta], [beta, alpha]] as const) {
      expect(guest.serial).toMatch(/eth0: RealTek RTL8139 at .*00:16:3e:00:00:0/);
      // The lease the guest applied is the one the gateway recorded for its MAC.
      const leased = gateway.dhcp!.leaseOf(new Uint8Array(MACS[guest.name].split(':').map((h) => parseInt(h, 16))));
      expect(formatIpv4Address(leased!)).toBe(guest.lease);
      const gatewayPing = guest.serial.slice(guest.serial.indexOf('ping -c 2 10.0.2.2'));
      expect(gatewayPing).toMatch(/2 packets transmitted, 2 packets received/);
      const peerPing = guest.serial.slice(guest.serial.indexOf(`ping -c 2 ${other.lease}`));
      expect(peerPing).toMatch(new RegExp(`bytes from ${other.lease!.replace(/\./g, '\\.')}`));
      expect(peerPing).toMatch(/2 packets transmitted, 2 packets received/);
    }
    expect(alpha.lease).not.toBe(beta.lease);
    expect(gateway.stats.echoReplies).toBeGreaterThanOrEqual(4);
    expect(gateway.dhcp!.stats.acks).toBeGreaterThanOrEqual(2);
    // Guest-to-guest pings went straight across the switch, not through the gateway.
    expect(network.bridge('xenbr0').stats.forwarded).toBeGreaterThan(0);
  }, 1_600_000);
});
