/**
 * The default guest (bios/default-guest/, built into build/default-guest.img by
 * `node bios/default-guest/build.mjs`): what a first-time visitor sees boot when nothing is
 * dropped. The image is optional at build time: the glob finds nothing when it was not built,
 * and the page then asks for an image instead.
 */
import configText from '../examples/default-guest.cfg?raw';

const images = import.meta.glob('../build/default-guest.img', { query: '?url', import: 'default', eager: true }) as Record<string, string>;

/** The configuration and the floppy as a File named like the configuration's fda path, or undefined. */
export async function loadDefaultGuest(): Promise<{ config: string; files: File[] } | undefined> {
  const url = Object.values(images)[0];
  if (!url) return undefined;
  const response = await fetch(url);
  if (!response.ok) return undefined;
  // The configuration names '../build/default-guest.img': the browser resolver matches the base name.
  return { config: configText, files: [new File([await response.blob()], 'default-guest.img')] };
}
