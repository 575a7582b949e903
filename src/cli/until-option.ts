/**
 * `--until` for one or several VMs: `--until NAME=REGEX` (repeatable) is the pattern of the VM
 * named NAME; a plain `--until REGEX` is the pattern of every VM without one of its own. A value
 * is read as NAME=REGEX only when the text before its first `=` is the name of a VM in the run,
 * so a pattern such as `answer=42` keeps working.
 */
export function parseUntilOptions(values: readonly string[], vmNames: readonly string[]): Map<string, RegExp> {
  const own = new Map<string, RegExp>();
  let common: RegExp | undefined;
  for (const value of values) {
    const eq = value.indexOf('=');
    const name = eq > 0 ? value.slice(0, eq) : undefined;
    if (name !== undefined && vmNames.includes(name)) {
      if (own.has(name)) throw new Error(`--until: VM '${name}' has two patterns`);
      own.set(name, compile(value.slice(eq + 1), value));
    } else {
      if (common) throw new Error(`--until: two patterns for every VM ('${common.source}' and '${value}'); name the VM with --until NAME=REGEX`);
      common = compile(value, value);
    }
  }
  const out = new Map<string, RegExp>();
  for (const name of vmNames) {
    const pattern = own.get(name) ?? common;
    if (pattern) out.set(name, pattern);
  }
  return out;
}

function compile(source: string, given: string): RegExp {
  if (source === '') throw new Error(`--until '${given}': empty pattern`);
  try {
    return new RegExp(source);
  } catch (e) {
    throw new Error(`--until '${given}': ${(e as Error).message}`);
  }
}
