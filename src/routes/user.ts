import type { App } from '../http/types.ts';

export function registerUserRoutes(_app: App): void {
  // Routes of this area are registered here.
}
