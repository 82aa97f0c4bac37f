/**
 * The registry document a finished load writes (loader.md §1.2, §2.10):
 * the descriptor as stored (author e-mail hidden, private), plus model,
 * origin URL and load flags. Pure. The author rule itself is the loader
 * core's (`obfuscateAuthor` in src/loader/descriptor.ts).
 */
import { obfuscateAuthor } from '../loader/descriptor.ts';
import type { RegistryDocument } from './registry.ts';

const OBFUSCATED = /<[^<>@]*@not\.shown>$/;

/** Inputs of {@link buildRegistryDocument}. */
export interface RegistryInput {
  id: string;
  name: string;
  owner: string;
  descriptor: Record<string, unknown>;
  model: Record<string, unknown>;
  originUrl: string;
  /** epoch milliseconds */
  now: number;
}

/**
 * The registry document of a freshly loaded package. Every upload makes the
 * package private again (issue #1350 semantics, api.md quirk 13) and the
 * owner is the token user (checked equal to the descriptor's).
 */
export function buildRegistryDocument(input: RegistryInput): RegistryDocument {
  const pkg: Record<string, unknown> & { owner: string; private: boolean } = {
    ...input.descriptor,
    owner: input.owner,
    private: true,
  };
  let fullname: string | null = null;
  const author = input.descriptor.author;
  if (typeof author === 'string') {
    // parseDescriptor has normally done this already; never store an address.
    const a = obfuscateAuthor(author);
    if (!OBFUSCATED.test(author)) pkg.author = a.author;
    fullname = a.fullName;
  }
  return {
    id: input.id,
    model: input.model,
    package: pkg,
    origin_url: input.originUrl,
    dataset: input.name,
    author: fullname,
    loading_status: 'done',
    loaded: true,
    last_update: input.now / 1000,
  };
}
