/**
 * The registry document a finished load writes (loader.md §1.2, §2.10):
 * the descriptor as stored (author e-mail hidden, private), plus model,
 * origin URL and load flags. Pure.
 */
import type { RegistryDocument } from '../registry/registry.ts';

/**
 * `Name <local@not.shown>`, as the original's `email.utils.parseaddr`
 * rewrite. A bare name without an address (what os-packager sends since
 * 2018) keeps the name and hides nothing: `Name <@not.shown>`; the original
 * mangled it into ` <Name@not.shown>`.
 */
export function obfuscateAuthor(author: string): { author: string; fullname: string } {
  const text = author.trim();
  const angle = /^(.*?)\s*<([^<>]*)>\s*$/.exec(text);
  let fullname: string;
  let address: string;
  if (angle) {
    fullname = (angle[1] ?? '').replace(/^"(.*)"$/, '$1').trim();
    address = (angle[2] ?? '').trim();
  } else if (/^\S+@\S+$/.test(text)) {
    fullname = '';
    address = text;
  } else {
    const comment = /^(\S+@\S+)\s*\((.*)\)$/.exec(text);
    if (comment) {
      fullname = (comment[2] ?? '').trim();
      address = comment[1] ?? '';
    } else {
      fullname = text;
      address = '';
    }
  }
  const local = address.includes('@') ? address.slice(0, address.indexOf('@')) : '';
  return { author: `${fullname} <${local}@not.shown>`, fullname };
}

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
  if (typeof input.descriptor.author === 'string') {
    const a = obfuscateAuthor(input.descriptor.author);
    pkg.author = a.author;
    fullname = a.fullname;
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
