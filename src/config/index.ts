/**
 * The domain-configuration parser (browser-safe part). Node code imports
 * `./resolve-node.ts` directly for files on disk.
 */
export { parseDomainConfig, type ParseOptions } from './parse-domain-config.ts';
export { type ParseResult, XL_DEFAULTS } from './validate.ts';
export { ConfigError, formatDiagnostic, type ConfigProblem, type ConfigWarning, type SourcePosition } from './diagnostics.ts';
export * from './domain-config.ts';
export { generateMac } from './vif.ts';
export {
  resolveMedia,
  baseName,
  type ImageSource,
  type MediaRequest,
  type MediaResolver,
  type MediaRole,
  type ResolvedDisk,
  type ResolvedMedia,
} from './media.ts';
export { browserMediaResolver, type BrowserResolverOptions } from './resolve-browser.ts';
