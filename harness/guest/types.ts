import type { ParsedRefs } from '../ostree/index.js';

/** What a scenario needs from the machine's update stack; one driver per target OS. */
export interface GuestDriver {
  readonly name: string;
  /** `ostree refs`, sorted into layers, images and the rest. */
  refs(): Promise<ParsedRefs>;
  /** The checksum of the commit the machine booted. */
  bootedCommit(): Promise<string>;
  /** A string metadata value of a commit in the guest's repo, or undefined if the key is absent. */
  commitMetadata(commit: string, key: string): Promise<string | undefined>;
}
