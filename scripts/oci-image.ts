// Local OCI images for a test node that reaches no registry: one uncompressed layer holding the given
// files, written as an OCI image layout tar that `ctr -n k8s.io images import` accepts.
// The index entry carries `io.containerd.image.name` with the full name (registry.k8s.io/etcd:3.6.8-0):
// without it containerd 1.6 imports only the tag, and the kubelet looks the image up by its full name.
// The layer is a deterministic tar (sorted names, mtime 0, owner 0:0), so the same binaries give the
// same image digest.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export interface ImageSpec {
  /** Full name as kubeadm's manifests use it, e.g. registry.k8s.io/kube-apiserver:v1.36.3. */
  name: string;
  /** Path in the image → file on the host (copied, mode kept). */
  files: Record<string, string>;
  entrypoint?: string[];
  /** Extra empty directories (mode 1777 for /tmp). */
  dirs?: string[];
  /** Path in the image → file capabilities (setcap syntax), stored as the security.capability xattr. */
  fileCaps?: Record<string, string>;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Writes the image as an OCI layout tar at `out`; returns its manifest digest. */
export function writeOciImage(spec: ImageSpec, out: string): string {
  const work = mkdtempSync(join(tmpdir(), 'kn-oci-'));
  try {
    const rootfs = join(work, 'rootfs');
    mkdirSync(rootfs);
    for (const d of ['tmp', ...(spec.dirs ?? [])]) mkdirSync(join(rootfs, d), { recursive: true });
    chmodSync(join(rootfs, 'tmp'), 0o1777);
    for (const [inImage, host] of Object.entries(spec.files)) {
      const dest = join(rootfs, inImage);
      mkdirSync(dirname(dest), { recursive: true });
      copyFileSync(host, dest);
      chmodSync(dest, statSync(host).mode & 0o7777);
    }
    for (const [inImage, caps] of Object.entries(spec.fileCaps ?? {})) execFileSync('setcap', [caps, join(rootfs, inImage)]);
    const layerPath = join(work, 'layer.tar');
    execFileSync('tar', ['--xattrs', '--xattrs-include=security.capability', '--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '--format=posix',
      '--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime', '-C', rootfs, '-cf', layerPath, '.']);
    const layer = readFileSync(layerPath);
    const layerDigest = `sha256:${sha(layer)}`;
    const config = Buffer.from(JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Env: ['PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin'], ...(spec.entrypoint ? { Entrypoint: spec.entrypoint } : {}) },
      rootfs: { type: 'layers', diff_ids: [layerDigest] },
    }));
    const manifest = Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${sha(config)}`, size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layerDigest, size: layer.length }],
    }));
    const layout = join(work, 'layout');
    const blobs = join(layout, 'blobs', 'sha256');
    mkdirSync(blobs, { recursive: true });
    for (const b of [layer, config, manifest]) writeFileSync(join(blobs, sha(b)), b);
    const tag = spec.name.slice(spec.name.lastIndexOf(':') + 1);
    writeFileSync(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    writeFileSync(join(layout, 'index.json'), JSON.stringify({
      schemaVersion: 2,
      manifests: [{
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: `sha256:${sha(manifest)}`,
        size: manifest.length,
        platform: { architecture: 'amd64', os: 'linux' },
        annotations: { 'io.containerd.image.name': spec.name, 'org.opencontainers.image.ref.name': tag },
      }],
    }));
    execFileSync('tar', ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '-C', layout, '-cf', out, '.']);
    return `sha256:${sha(manifest)}`;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Host executables for an image, with what the dynamic loader needs to run them there: each binary at
 * its own path, plus every shared library `ldd` resolves for it (and the loader) at the path ldd names.
 * For small tool images built from this machine's own Debian binaries (glibc, libstdc++, shadow-utils):
 * the same files the host runs, no registry needed.
 */
export function hostBinariesWithLibraries(binaries: Record<string, string>): Record<string, string> {
  const files: Record<string, string> = {};
  for (const [inImage, host] of Object.entries(binaries)) {
    files[inImage] = host;
    // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x…)" or "/lib64/ld-linux-x86-64.so.2 (0x…)";
    // linux-vdso has no file. A static binary: ldd exits 1 ("not a dynamic executable").
    let out = '';
    try { out = execFileSync('ldd', [host], { encoding: 'utf8' }); } catch { continue; }
    for (const line of out.split('\n')) {
      const lib = /(?:=>\s*)?(\/\S+)\s+\(0x[0-9a-f]+\)/.exec(line)?.[1];
      if (lib) files[lib.slice(1)] = lib;
    }
  }
  return files;
}
