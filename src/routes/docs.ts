import type { App } from '../http/types.ts';

export function registerDocsRoutes(_app: App): void {
  // Routes of this area are registered here.
}
