/** The subset of the OCI image spec (v1.1) the harness reads and writes. */
export const MediaType = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  layerTar: 'application/vnd.oci.image.layer.v1.tar',
} as const;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

export interface Manifest {
  schemaVersion: 2;
  mediaType: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
}

export interface HistoryEntry {
  created?: string;
  created_by?: string;
  comment?: string;
  empty_layer?: boolean;
}

export interface ImageConfig {
  created?: string;
  architecture: string;
  os: string;
  config?: { Labels?: Record<string, string>; Env?: string[]; Cmd?: string[] };
  rootfs: { type: 'layers'; diff_ids: string[] };
  history?: HistoryEntry[];
}

/** An image read from (or just written to) an OCI layout directory. */
export interface OciImage {
  /** The layout directory. */
  dir: string;
  tag: string;
  manifest: Manifest;
  /** The manifest exactly as stored: its sha256 is `manifestDigest`. */
  manifestBytes: Buffer;
  manifestDigest: string;
  config: ImageConfig;
  configDigest: string;
}
