/**
 * The one timeout for outgoing calls (DEVELOPERS: a timeout on every outgoing
 * call): `promise`, or a rejection with `message` after `ms`. The timer is
 * cleared either way so it never keeps an invocation alive.
 */
export async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
