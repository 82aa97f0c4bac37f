import type { App } from '../http/types.ts';

export function registerDatastoreRoutes(_app: App): void {
  // Routes of this area are registered here.
}
