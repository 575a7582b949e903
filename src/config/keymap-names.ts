/**
 * The `keymap` values WebHVM has a layout table for (web/keymaps.ts; test/web/keymaps.test.ts
 * checks the two agree). The keymap matters only where text becomes key presses (typing or
 * pasting text for the guest); physical keys are sent by position whatever the layout.
 */
export const KNOWN_KEYMAPS = ['en-us', 'en-gb', 'de', 'fr', 'es', 'it'] as const;

export type KeymapName = (typeof KNOWN_KEYMAPS)[number];

export function isKnownKeymap(name: string): name is KeymapName {
  return (KNOWN_KEYMAPS as readonly string[]).includes(name);
}
