import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { startRelayServer, type RunningRelay } from '../../src/cli/relay-server-node.ts';
import { openImagesNode } from '../../src/cli/open-images-node.ts';
import { connectNodeWebSocket } from '../../src/cli/websocket-client-node.ts';
import { resolveMedia } from '../../src/config/media.ts';
import { nodeMediaResolver, readDomainConfigFile } from '../../src/config/resolve-node.ts';
import { loadCoreModule } from '../../src/cpu/load-core-node.ts';
import { loadFirmwareFiles } from '../../src/firmware/firmware-files-node.ts';
import { SYSTEM_BIOS, VGA_BIOS_STDVGA } from '../../src/firmware/firmware-files.ts';
import { Machine } from '../../src/machine/machine.ts';
import { machineSetupFromConfig } from '../../src/machine/setup-from-config.ts';
import { attachRelay } from '../../src/net/relay-attach.ts';
import { SwitchRegistry } from '../../src/net/virtual-switch.ts';
import type { WebSocketUplink } from '../../src/net/websocket-uplink.ts';
import { image, imagesAvailable, writeConfig } from './boot-helpers.ts';

/**
 * The real proof of the relay: the Linux test guest with an RTL8139 on a bridge whose switch goes
 * to a `webhvm relay` server in this process; udhcpc takes the relay's lease, and busybox wget
 * fetches a page from an HTTP server on this host's 127.0.0.1 (reached at the relay router's
 * address 10.0.3.2) through the user-space TCP NAT, printing its body on the serial console.
 *
 * Pacing: guest time follows the instruction count, and a halted guest normally skips straight
 * to its next timer. Answers from the relay take real milliseconds, by which time such a guest
 * would be past its DHCP and TCP timeouts; so while the guest is halted this loop waits, in
 * real time, for as long as the skip would advance guest time (busy, it runs flat out). Guest
 * time then never runs ahead of the host's while the guest waits for the network.
 */
const BODY = 'webhvm-relay-page: the guest fetched this through the relay';
// A udhcpc script that applies the lease (the test image has none of its own).
const SCRIPT = `printf '#!/bin/sh\\n[ "$1" = bound ] && ifconfig $interface $ip netmask $subnet && route add default gw $router\\n' >/tmp/u.sh; chmod +x /tmp/u.sh`;

/** Serial output so far, to a file named by WEBHVM_RELAY_LOG (for watching a slow run). */
const progress = (text: string) => process.env.WEBHVM_RELAY_LOG && writeFileSync(process.env.WEBHVM_RELAY_LOG, text);

/** Busybox ash's prompt, followed by its cursor-position query (ESC [6n) on a terminal. */
const PROMPT = /\/ # (?:\x1b\[6n)?$/;

let http: Server | undefined;
let relay: RunningRelay | undefined;
let uplink: WebSocketUplink | undefined;
afterAll(async () => {
  uplink?.close();
  await relay?.close();
  http?.close();
});

describe.runIf(imagesAvailable('linux.iso'))('Linux through the network relay', () => {
  it('gets a lease from the relay with udhcpc and fetches a page from the host with wget', async () => {
    http = createServer((_req, res) => res.end(`${BODY}\n`));
    await new Promise<void>((r) => http!.listen(0, '127.0.0.1', r));
    const httpPort = (http.address() as AddressInfo).port;
    relay = await startRelayServer({ host: '127.0.0.1', port: 0, hostLoopback: true });

    const configPath = writeConfig(
      `name = 'relay'\nbuilder = 'hvm'\nmemory = 128\nacpi = 0\napic = 0\nboot = 'd'\nserial = 'pty'\n` +
        `disk = [ 'file:${image('linux.iso')},hdc:cdrom,r' ]\nvif = [ 'mac=00:16:3e:00:86:01, bridge=xenbr0, model=rtl8139' ]\n`,
    );
    const { config } = await readDomainConfigFile(configPath);
    const images = await openImagesNode(await resolveMedia(config, nodeMediaResolver(configPath), { fileName: configPath }));
    const registry = new SwitchRegistry();
    uplink = attachRelay(registry, 'xenbr0', relay.url, (url) => connectNodeWebSocket(url));
    const firmware = loadFirmwareFiles([SYSTEM_BIOS, VGA_BIOS_STDVGA]);
    let serial = '';
    const setup = machineSetupFromConfig(config, images.opened, {
      firmware: { bios: firmware.get(SYSTEM_BIOS)!, vgaBios: firmware.get(VGA_BIOS_STDVGA)! },
      serialOutput: (port, byte) => {
        if (port === 0) serial += String.fromCharCode(byte);
      },
      nowSeconds: Math.floor(Date.now() / 1000),
    });
    const machine = new Machine({ ...setup, network: registry }, loadCoreModule());

    // Each line is typed once its `after` pattern matches the output since the previous line was typed.
    const script: { after: RegExp; send: string }[] = [
      { after: PROMPT, send: `${SCRIPT}\n` },
      { after: PROMPT, send: 'ip link set eth0 up; udhcpc -i eth0 -n -q -t 8 -T 2 -s /tmp/u.sh; echo DHCP-DONE=$?\n' },
      { after: new RegExp(`DHCP-DONE=\\d+[\\s\\S]*${PROMPT.source}`), send: `wget -q -O - http://10.0.3.2:${httpPort}/; echo WGET-DONE=$?\n` },
    ];
    const deadline = Date.now() + 800_000;
    let typedUpTo = 0;
    while (!/WGET-DONE=\d+/.test(serial) && Date.now() < deadline) {
      const batchEnd = Date.now() + 20;
      do {
        const event = machine.runSlice();
        if (event) throw new Error(`guest ended: ${event}\n${serial.slice(-2000)}`);
      } while (Date.now() < batchEnd && !machine.cpu.halted);
      progress(serial);
      const next = script[0];
      if (next && next.after.test(serial.slice(typedUpTo))) {
        script.shift();
        typedUpTo = serial.length;
        machine.serial[0].receive(new TextEncoder().encode(next.send));
      }
      // Let socket events in; while halted, let real time catch up with the guest's next skip.
      const skipMs = machine.cpu.halted ? (machine.clock.nextEventTime() - machine.clock.now()) / 1e6 : 0;
      await new Promise((r) => setTimeout(r, Math.min(20, Math.max(0, skipMs))));
    }
    await images.close();
    const tail = serial.slice(-3000);
    expect(serial, tail).toMatch(/lease of 10\.0\.3\.15 obtained from 10\.0\.3\.2/);
    expect(serial, tail).toContain('DHCP-DONE=0');
    expect(serial, tail).toContain(`${BODY}\r\nWGET-DONE=0`);
    expect(relay.network.tcp.stats.opened).toBeGreaterThanOrEqual(1);
    expect(uplink.stats.received).toBeGreaterThan(0);
  }, 900_000);
});
