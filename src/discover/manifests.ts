// Read the static-pod manifests directory the way the kubelet does (kubernetes/kubernetes
// pkg/kubelet/config/file.go, extractFromDir): glob "[^.]*" so dotfiles (editor swap files,
// ".kube-apiserver.yaml.swp") are ignored, sort names bytewise, os.Stat each entry (so a symlink to a
// regular file is a manifest too), skip directories and anything that is not a regular file.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { InputError } from '../errors.js';
import { readManifest } from '../model/manifest.js';
import type { ManifestFile } from '../model/node.js';
import { hostPath, resolveUnderRoot } from '../paths.js';
import { readNodeText, statNode, statNodeFollow } from './fs.js';

/**
 * Every manifest the kubelet would load from manifestsDir, sorted by file name, each read once (parsed). `stat` is the lstat of
 * the entry itself, so a symlinked manifest shows up as type 'symlink' (rewriting it needs care).
 * `onManifest` sees each one as soon as it is parsed, before the next is read.
 * A missing manifests dir is an InputError: this is probably not a control-plane node, or --root is wrong.
 */
export function readManifests(root: string, manifestsDir: string, onManifest?: (m: ManifestFile) => void): ManifestFile[] {
  const dir = resolveUnderRoot(root, manifestsDir);
  const dirStat = statNode(root, dir);
  if (dirStat?.type !== 'dir') {
    const what = dirStat === null ? 'no such directory' : 'not a directory';
    const under = path.resolve(root) === '/' ? '' : ` (looked under --root ${root})`;
    throw new InputError(
      `${manifestsDir}: ${what}; is this a kubeadm control-plane node? Use --root or set manifestsDir in the config${under}`,
      manifestsDir,
    );
  }

  const names = readdirSync(hostPath(root, dir)).filter((name) => !name.startsWith('.'));
  // Go's sort.Strings compares bytes; plain < on UTF-16 code units matches it for BMP names.
  names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

  const manifests: ManifestFile[] = [];
  for (const fileName of names) {
    const nodePath = path.posix.join(manifestsDir, fileName);
    const stat = statNode(root, nodePath);
    if (stat === null) continue; // removed while we read the directory
    const target = stat.type === 'symlink' ? statNodeFollow(root, nodePath) : stat;
    if (target?.type !== 'file') continue;
    const text = readNodeText(root, nodePath);
    if (text === null) continue;
    const manifest: ManifestFile = { fileName, path: nodePath, text, stat, parsed: readManifest(text, nodePath) };
    manifests.push(manifest);
    onManifest?.(manifest);
  }
  return manifests;
}
