/**
 * The page: wires the machine worker (Comlink), the canvas display, keyboard and pointer, the
 * serial terminal, media input, the configuration editor and the controls.
 */
import { proxy, wrap } from 'comlink';
import type { MachineApi, MachineStatus } from '../src/worker/machine-api.ts';
import { Display } from './display.ts';
import { attachKeyboard } from './keyboard.ts';
import { attachPointer } from './pointer.ts';
import { SerialTerminal } from './terminal.ts';
import { attachDropZone, attachFilePicker, urlMedia } from './media-input.ts';
import { ConfigEditor } from './config-editor.ts';
import { PRESETS, classifyFile, presetConfig, type PresetId, type PresetMedia } from './config-presets.ts';
import { StatusBar } from './status-bar.ts';
import { installAutomation } from './automation.ts';
import { DisksPanel } from './disks-panel.ts';
import { SnapshotPanel, isSnapshotFile } from './snapshot-panel.ts';
import { installStorageAutomation } from './storage-automation.ts';
import { comboKeyEvents } from './text-keys.ts';
import { loadDefaultGuest } from './default-guest.ts';
import { DeterministicSwitch } from './deterministic-switch.ts';
import { connectPageRings } from './page-rings.ts';
import './style.css';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

function main(): void {
  if (!crossOriginIsolated) {
    const banner = $('isolation');
    banner.hidden = false;
    banner.textContent =
      'This page is not cross-origin isolated, so the browser withholds SharedArrayBuffer and the emulator cannot run. ' +
      'The server must send "Cross-Origin-Opener-Policy: same-origin" and "Cross-Origin-Embedder-Policy: require-corp" with the page.';
    $('drop-hint').textContent = 'WebHVM cannot start here: see the message above.';
    return;
  }

  const worker = new Worker(new URL('../src/worker/machine-worker.ts', import.meta.url), { type: 'module', name: 'webhvm-machine' });
  const api = wrap<MachineApi>(worker);
  const terminal = new SerialTerminal($('terminal'));
  // Keys, pointer and terminal bytes go through the shared rings, not a message each.
  const rings = connectPageRings(api, (port, bytes) => { if (port === 0) terminal.write(bytes); });
  terminal.onInput = (bytes) => rings.input.serialInput(bytes);
  const display = new Display($<HTMLCanvasElement>('screen'), api);
  const statusBar = new StatusBar($('status'));
  const deterministic = new DeterministicSwitch($<HTMLInputElement>('deterministic'), $('status'));
  const editor = new ConfigEditor($<HTMLTextAreaElement>('config-text'), $('config-messages'), () => configFileName);
  let status: MachineStatus | undefined;
  let configFileName = 'domain.cfg';
  let files: File[] = [];
  let baseUrl: string | undefined;
  // ?relay=ws://HOST:PORT/: the VM's bridges go out through that WebSocket relay (docs/relay.md).
  const relay = new URLSearchParams(location.search).get('relay') || undefined;

  void api.listen(proxy({
    serial: (port: 0 | 1, bytes: Uint8Array) => { if (port === 0) terminal.write(bytes); },
    note: (message: string) => terminal.note(message),
  }));
  display.onStatus = (s, mode) => {
    status = s;
    statusBar.update(s, mode);
    deterministic.showStatus(s);
    $('stage').classList.toggle('empty', s.power === 'off' && s.machineId === 0);
    $<HTMLButtonElement>('power').textContent = s.power === 'running' || s.power === 'paused' ? 'Power off' : 'Power on';
    $<HTMLButtonElement>('pause').textContent = s.power === 'paused' ? 'Resume' : 'Pause';
  };
  attachKeyboard(display.canvas, rings.input);
  attachPointer(display, rings.input, () => status?.pointer ?? 'ps2-mouse');

  const presetSelect = $<HTMLSelectElement>('preset');
  for (const p of PRESETS) presetSelect.add(new Option(p.label, p.id));
  let presetMedia: PresetMedia = {};
  presetSelect.addEventListener('change', () => (editor.text = presetConfig(presetSelect.value as PresetId, presetMedia)));
  editor.text = presetConfig('linux-cd', presetMedia);

  const setMessage = (text: string) => ($('page-message').textContent = text);

  // Boots run one after another: a drop while the default guest is still being created must not
  // start the machine the other boot is replacing.
  let lastBoot: Promise<unknown> = Promise.resolve();
  function boot(): Promise<boolean> {
    const next = lastBoot.then(bootNow, bootNow);
    lastBoot = next;
    return next;
  }

  async function bootNow(): Promise<boolean> {
    try {
      return await createAndStart();
    } catch (e) {
      setMessage((e as Error).message);
      return false;
    }
  }

  async function createAndStart(): Promise<boolean> {
    setMessage('');
    const r = await api.create({ config: editor.text, fileName: configFileName, files, baseUrl, relay, deterministic: deterministic.enabled });
    if (!r.ok) {
      editor.show(r.problems, r.warnings);
      setMessage(r.message);
      $<HTMLDetailsElement>('config').open = true;
      return false;
    }
    editor.show([], r.warnings);
    terminal.note(`booting ${r.name}`);
    void disksPanel.refresh(); // its overlays are open now
    await api.start();
    display.canvas.focus();
    return true;
  }

  async function bootFiles(dropped: File[]): Promise<boolean> {
    const config = dropped.find((f) => classifyFile(f.name, f.size) === 'config');
    files = dropped.filter((f) => f !== config);
    baseUrl = undefined;
    if (config) {
      configFileName = config.name;
      editor.text = await config.text();
    } else {
      configFileName = 'domain.cfg';
      presetMedia = {};
      for (const f of files) {
        const role = classifyFile(f.name, f.size);
        if (role === 'cdrom') presetMedia.cdrom ??= f.name;
        else if (role === 'floppy') presetMedia.floppy ??= f.name;
        else if (role === 'disk') presetMedia.disk ??= f.name;
      }
      editor.text = presetConfig(presetSelect.value as PresetId, presetMedia);
    }
    return boot();
  }

  // A dropped snapshot file is restored into the machine; anything else boots.
  attachDropZone(document.body, (dropped) => void (dropped.length === 1 && isSnapshotFile(dropped[0]) ? snapshotPanel.restoreFile(dropped[0]) : bootFiles(dropped)));
  attachFilePicker($<HTMLInputElement>('open-file'), (picked) => void bootFiles(picked));
  attachFilePicker($<HTMLInputElement>('insert-cd'), (picked) => {
    api.insertCd(picked[0]).catch((e: Error) => setMessage(e.message));
  });
  attachFilePicker($<HTMLInputElement>('attach-disk'), (picked) => {
    api.attachDisk('hdb', picked[0]).catch((e: Error) => setMessage(e.message));
  });
  $('boot-config').addEventListener('click', () => void boot());
  $('power').addEventListener('click', () => {
    if (status?.power === 'running' || status?.power === 'paused') void api.powerOff();
    else if (status && status.machineId > 0) void api.start();
    else void boot();
  });
  $('pause').addEventListener('click', () => void (status?.power === 'paused' ? api.resume() : api.pause()));
  $('reset').addEventListener('click', () => void api.reset());
  $('cad').addEventListener('click', () => { void api.sendCtrlAltDel(); display.canvas.focus(); });
  $('alt-tab').addEventListener('click', () => { rings.input.keys(comboKeyEvents(['AltLeft', 'Tab'])); display.canvas.focus(); });
  const vt = $<HTMLSelectElement>('ctrl-alt-f');
  for (let n = 1; n <= 12; n++) vt.add(new Option(`Ctrl-Alt-F${n}`, `F${n}`));
  vt.addEventListener('change', () => {
    if (vt.value) rings.input.keys(comboKeyEvents(['ControlLeft', 'AltLeft', vt.value]));
    vt.value = '';
    display.canvas.focus();
  });
  $('eject').addEventListener('click', () => void api.ejectCd().catch((e: Error) => setMessage(e.message)));
  $('fullscreen').addEventListener('click', () => void display.toggleFullscreen());
  // Disk overlays kept in this browser, and snapshots (disks-panel.ts, snapshot-panel.ts).
  const disksPanel = new DisksPanel($<HTMLDetailsElement>('disks'), api, setMessage);
  const snapshotPanel = new SnapshotPanel($<HTMLDetailsElement>('snapshots'), api, setMessage, () => status?.name ?? '');

  const automation = installAutomation(api, display, terminal, bootFiles);
  // Painting totals (frames looked at, paints, pixels), for tests that measure repainting.
  automation.paintStats = () => ({ ...display.paintStats });
  installStorageAutomation(automation, api);

  // URL parameters: ?config=URL (its images relative to it), or ?cdrom= ?hda= ?fda= with a preset.
  const fromUrl = urlMedia(location);
  if (fromUrl.config) {
    configFileName = new URL(fromUrl.config).pathname.split('/').pop() || 'domain.cfg';
    baseUrl = fromUrl.config;
    fetch(fromUrl.config)
      .then((r) => (r.ok ? r.text() : Promise.reject(new Error(`HTTP ${r.status}`))))
      .then((text) => { editor.text = text; return boot(); })
      .catch((e: Error) => setMessage(`cannot load the configuration ${fromUrl.config}: ${e.message}`));
  } else if (fromUrl.cdrom || fromUrl.hda || fromUrl.fda) {
    presetMedia = { cdrom: fromUrl.cdrom, disk: fromUrl.hda, floppy: fromUrl.fda };
    editor.text = presetConfig('linux-cd', presetMedia);
    void boot();
  } else if (new URLSearchParams(location.search).get('autoboot') !== '0') {
    // ?autoboot=0 (automation, `webhvm test --browser`): no default guest; window.webhvm creates the machine.
    void loadDefaultGuest().then((guest) => {
      if (!guest || files.length > 0) return;
      configFileName = 'default-guest.cfg';
      files = guest.files;
      editor.text = guest.config;
      return boot();
    });
  }
}

main();
