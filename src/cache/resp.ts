/**
 * A minimal Redis (RESP2) client over a raw TCP socket from
 * `cloudflare:sockets`: enough to send a few commands and read their replies.
 */
import { connect } from 'cloudflare:sockets';

export type RespValue = string | number | null | RespValue[];

export class RedisError extends Error {}

/** Encodes one command as a RESP array of bulk strings. */
export function encodeCommand(args: string[]): Uint8Array {
  const enc = new TextEncoder();
  let out = `*${args.length}\r\n`;
  for (const a of args) out += `$${enc.encode(a).length}\r\n${a}\r\n`;
  return enc.encode(out);
}

/** Incremental RESP reply parser: feed bytes, take complete replies. */
export class RespParser {
  #buf = new Uint8Array(0);
  #dec = new TextDecoder();

  push(chunk: Uint8Array): void {
    const merged = new Uint8Array(this.#buf.length + chunk.length);
    merged.set(this.#buf);
    merged.set(chunk, this.#buf.length);
    this.#buf = merged;
  }

  /** The next complete reply, or undefined when more bytes are needed. */
  next(): RespValue | RedisError | undefined {
    const result = this.#parse(0);
    if (!result) return undefined;
    this.#buf = this.#buf.slice(result.end);
    return result.value;
  }

  #line(start: number): { text: string; end: number } | undefined {
    for (let i = start; i + 1 < this.#buf.length; i++) {
      if (this.#buf[i] === 13 && this.#buf[i + 1] === 10) {
        return { text: this.#dec.decode(this.#buf.subarray(start, i)), end: i + 2 };
      }
    }
    return undefined;
  }

  #parse(start: number): { value: RespValue | RedisError; end: number } | undefined {
    const line = this.#line(start + 1);
    if (!line || start >= this.#buf.length) return undefined;
    const kind = String.fromCharCode(this.#buf[start]!);
    switch (kind) {
      case '+':
        return { value: line.text, end: line.end };
      case '-':
        return { value: new RedisError(line.text), end: line.end };
      case ':':
        return { value: Number(line.text), end: line.end };
      case '$': {
        const len = Number(line.text);
        if (len < 0) return { value: null, end: line.end };
        if (this.#buf.length < line.end + len + 2) return undefined;
        return { value: this.#dec.decode(this.#buf.subarray(line.end, line.end + len)), end: line.end + len + 2 };
      }
      case '*': {
        const count = Number(line.text);
        if (count < 0) return { value: null, end: line.end };
        const items: RespValue[] = [];
        let pos = line.end;
        for (let i = 0; i < count; i++) {
          const item = this.#parse(pos);
          if (!item) return undefined;
          if (item.value instanceof RedisError) return item;
          items.push(item.value);
          pos = item.end;
        }
        return { value: items, end: pos };
      }
      default:
        throw new RedisError(`unexpected reply type ${JSON.stringify(kind)}`);
    }
  }
}

/**
 * Opens a connection, sends `commands` in order (pipelined) and returns
 * their replies; a Redis error reply rejects. The socket is always closed.
 */
export async function redisCommands(
  address: { hostname: string; port: number },
  commands: string[][],
  timeoutMs = 5000,
): Promise<RespValue[]> {
  const socket = connect(address);
  const timer = setTimeout(() => void socket.close().catch(() => undefined), timeoutMs);
  try {
    const writer = socket.writable.getWriter();
    for (const c of commands) await writer.write(encodeCommand(c));
    writer.releaseLock();
    const reader = socket.readable.getReader();
    const parser = new RespParser();
    const replies: RespValue[] = [];
    while (replies.length < commands.length) {
      let reply = parser.next();
      while (reply === undefined) {
        const { value, done } = await reader.read();
        if (done) throw new RedisError('connection closed before all replies arrived');
        parser.push(value);
        reply = parser.next();
      }
      if (reply instanceof RedisError) throw reply;
      replies.push(reply);
    }
    reader.releaseLock();
    return replies;
  } finally {
    clearTimeout(timer);
    await socket.close().catch(() => undefined);
  }
}
