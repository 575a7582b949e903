/**
 * Image paths named by exact URL: `webhvm test --browser` serves the files a configuration names
 * and tells the page where, so the configuration text stays as written (its line numbers too).
 */
import type { ImageSource, MediaResolver } from '../config/media.ts';

export function withImageUrls(resolver: MediaResolver<ImageSource>, urls: Readonly<Record<string, string>> | undefined): MediaResolver<ImageSource> {
  if (!urls) return resolver;
  return {
    resolve: (request) => (Object.hasOwn(urls, request.path) ? { kind: 'url', url: urls[request.path] } : resolver.resolve(request)),
  };
}
