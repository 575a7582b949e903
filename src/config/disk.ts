/**
 * `disk` entries. Two spellings are accepted:
 * - xm's positional `TYPE:PATH,VDEV[:cdrom],MODE`, e.g. `file:/x.img,hda,w`,
 *   `phy:/dev/loop0,ioemu:hdc:cdrom,r`; TYPE is file:, phy:, tap:aio: or tap:qcow: (none: file);
 * - xl's keyword form, e.g. `format=raw, vdev=hdc, access=ro, devtype=cdrom, target=/x.iso`
 *   (xl-disk-configuration(5)); `target=` comes last because the path may hold commas.
 * An empty string keeps a slot; a CD-ROM with an empty path is a drive with no disc.
 */
import type { DiskEntry, DiskType, IdeVdev } from './domain-config.ts';
import type { SourcePosition } from './diagnostics.ts';

/** Reports a problem at `offset` characters into the entry (or at the entry when unknown). */
export type EntryReporter = (severity: 'error' | 'warning' | 'note', message: string, offset?: number) => void;

const TYPES: Array<[string, DiskType]> = [
  ['tap:aio:', 'tap:aio'],
  ['tap:qcow:', 'tap:qcow'],
  ['tap2:aio:', 'tap:aio'],
  ['file:', 'file'],
  ['phy:', 'phy'],
];

const VDEV_POSITION: Record<IdeVdev, [0 | 1, 0 | 1]> = { hda: [0, 0], hdb: [0, 1], hdc: [1, 0], hdd: [1, 1] };

interface Part {
  text: string;
  offset: number;
}

function splitParts(spec: string, from = 0, to = spec.length): Part[] {
  const parts: Part[] = [];
  let start = from;
  for (let i = from; i <= to; i++) {
    if (i === to || spec[i] === ',') {
      const raw = spec.slice(start, i);
      const lead = raw.length - raw.trimStart().length;
      parts.push({ text: raw.trim(), offset: start + lead });
      start = i + 1;
    }
  }
  return parts;
}

/** Parses one entry; returns undefined after reporting an error. */
export function parseDiskEntry(spec: string, index: number, source: SourcePosition, report: EntryReporter): DiskEntry | undefined {
  if (spec.trim() === '') return { empty: true, index, source };
  const keyword = /(^|,)\s*(target|vdev|access|devtype|format|backendtype)\s*=/.test(spec);
  let typePart: Part;
  let vdevPart: Part | undefined;
  let modePart: Part | undefined;
  let devtype: Part | undefined;
  if (keyword) {
    const targetAt = /(^|,)\s*target\s*=/.exec(spec);
    const head = targetAt ? targetAt.index : spec.length;
    const parts = splitParts(spec, 0, head).filter((p) => p.text !== '');
    typePart = { text: '', offset: spec.length };
    if (targetAt) {
      const valueStart = spec.indexOf('=', targetAt.index) + 1;
      const lead = spec.slice(valueStart).length - spec.slice(valueStart).trimStart().length;
      typePart = { text: spec.slice(valueStart).trim(), offset: valueStart + lead };
    }
    for (const p of parts) {
      const eq = p.text.indexOf('=');
      if (eq < 0) {
        report('error', `'${p.text}' in an xl-style disk entry: expected KEY=VALUE (target=, vdev=, access=, devtype=, format=)`, p.offset);
        return undefined;
      }
      const k = p.text.slice(0, eq).trim();
      const v: Part = { text: p.text.slice(eq + 1).trim(), offset: p.offset + eq + 1 + (p.text.slice(eq + 1).length - p.text.slice(eq + 1).trimStart().length) };
      if (k === 'vdev') vdevPart = v;
      else if (k === 'access' || k === 'mode') modePart = v;
      else if (k === 'devtype') devtype = v;
      else if (k === 'format') {
        if (!/^(raw|qcow|qcow2|vhd|qed)$/.test(v.text)) {
          report('error', `unknown format '${v.text}': expected raw`, v.offset);
          return undefined;
        }
        if (v.text !== 'raw') report('warning', `format=${v.text}: the image is read as a raw disk image`, v.offset);
      } else if (k === 'backendtype' || k === 'backend' || k === 'script') {
        report('note', `${k}= is a Xen backend setting and is ignored`, p.offset);
      } else report('warning', `unknown disk setting '${k}': ignored`, p.offset);
    }
    if (!vdevPart) {
      report('error', "missing vdev=: expected hda, hdb, hdc or hdd", 0);
      return undefined;
    }
  } else {
    const parts = splitParts(spec);
    if (parts.length !== 3) {
      report('error', `'${spec}' has ${parts.length} field${parts.length === 1 ? '' : 's'}: expected TYPE:PATH,VDEV[:cdrom],MODE such as 'file:/images/disk.img,hda,w'`, 0);
      return undefined;
    }
    [typePart, vdevPart, modePart] = parts as [Part, Part, Part];
  }

  // TYPE:PATH
  let type: DiskType = 'file';
  let path = typePart.text;
  const prefix = TYPES.find(([p]) => path.startsWith(p));
  if (prefix) {
    type = prefix[1];
    path = path.slice(prefix[0].length);
    if (type === 'tap:qcow') report('warning', 'tap:qcow: the image is read as a raw disk image; convert it with qemu-img convert -O raw', typePart.offset);
  } else {
    const other = /^([A-Za-z][A-Za-z0-9]*(?::[A-Za-z0-9]+)*):/.exec(path);
    if (other && !/^(https?|blob|data):/i.test(path) && !/^[A-Za-z]:[\\/]/.test(path)) {
      report('error', `unknown disk type '${other[1]}:': expected file:, phy:, tap:aio: or tap:qcow:`, typePart.offset);
      return undefined;
    }
  }

  // VDEV[:cdrom]
  let vdevText = vdevPart.text.toLowerCase();
  let media: 'disk' | 'cdrom' = 'disk';
  if (vdevText.startsWith('ioemu:')) vdevText = vdevText.slice('ioemu:'.length);
  const suffix = /:(cdrom|disk)$/.exec(vdevText);
  if (suffix) {
    media = suffix[1] as 'disk' | 'cdrom';
    vdevText = vdevText.slice(0, suffix.index);
  }
  if (devtype) {
    if (devtype.text === 'cdrom') media = 'cdrom';
    else if (devtype.text !== 'disk') {
      report('error', `devtype=${devtype.text}: expected cdrom or disk`, devtype.offset);
      return undefined;
    }
  }
  if (!(vdevText in VDEV_POSITION)) {
    const hint = /^(xvd|sd)/.test(vdevText)
      ? ` (WebHVM emulates IDE only: use hda-hdd)`
      : /^hd[e-z]$/.test(vdevText)
        ? ' (there are two IDE channels, four positions)'
        : '';
    report('error', `unknown vdev '${vdevPart.text}': expected hda, hdb, hdc or hdd, optionally written ioemu:hdX and followed by :cdrom${hint}`, vdevPart.offset);
    return undefined;
  }
  const vdev = vdevText as IdeVdev;

  // MODE
  let mode: 'r' | 'w' = 'r';
  // xl's keyword form defaults to read-write, read-only for a CD-ROM.
  const modeText = modePart?.text ?? (media === 'cdrom' ? 'r' : 'w');
  if (/^(r|ro)$/.test(modeText)) mode = 'r';
  else if (/^(w|rw|w!)$/.test(modeText)) mode = 'w';
  else {
    report('error', `mode '${modeText}': expected r (read-only) or w (read-write)`, modePart?.offset);
    return undefined;
  }
  if (media === 'cdrom' && mode === 'w') {
    report('warning', `${vdev} is a CD-ROM: mode w ignored, the disc is read-only`, modePart?.offset);
    mode = 'r';
  }
  if (path === '' && media === 'disk') {
    report('error', `${vdev} is a hard disk with no image: expected a path (only a CD-ROM may be empty)`, typePart.offset);
    return undefined;
  }
  const [channel, unit] = VDEV_POSITION[vdev];
  return {
    empty: false,
    index,
    type,
    path: path === '' ? null : path,
    vdev,
    channel,
    unit,
    media,
    mode,
    spec,
    source,
  };
}
