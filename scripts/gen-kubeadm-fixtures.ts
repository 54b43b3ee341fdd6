// npm run fixtures:kubeadm -- [v1.37.2 …] [--cached-only] [--check]
//
// Regenerates test/fixtures/kubeadm/<release>/<case>/ with the real kubeadm of each release (see
// kubeadm-fixtures.ts for what is recorded and how kubeadm is contained). kubeadm comes from the
// Kubernetes build cache of scripts/k8s-build.ts (built there if missing, one release at a time, newest
// first; --cached-only uses only what is cached). --check writes nothing and exits 1 if any regenerated
// file differs from the committed one.
//
// The machine's own /etc is checksummed (path, type, owner, mode, content) before and after: a run that
// changed it fails loudly, naming the paths.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { buildKubernetes, K8S_CACHE, kubernetesCacheDir, SUBSTITUTED } from './k8s-build.js';
import { cachedKubeadm, caseFiles, casesFor, generateCase, kubeadmFixturesDir, kubeadmVersion, readCaseFiles, RELEASES, writeCase } from './kubeadm-fixtures.js';

async function etcChecksums(): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  async function visit(p: string): Promise<void> {
    let st;
    try {
      st = await lstat(p);
    } catch {
      return; // removed while walking (another process): shows up as a difference
    }
    const meta = `${st.mode.toString(8)} ${st.uid}:${st.gid}`;
    if (st.isDirectory()) {
      out.set(p, meta);
      for (const n of (await readdir(p)).sort()) await visit(path.join(p, n));
    } else if (st.isFile()) {
      let sha = '?';
      try {
        sha = createHash('sha256').update(await readFile(p)).digest('hex');
      } catch {
        /* unreadable: metadata only */
      }
      out.set(p, `${meta} ${sha}`);
    } else out.set(p, meta);
  }
  await visit('/etc');
  return out;
}

function changed(a: Map<string, string>, b: Map<string, string>): string[] {
  const keys = new Set([...a.keys(), ...b.keys()]);
  return [...keys].filter((k) => a.get(k) !== b.get(k)).sort();
}

async function main(argv: string[]): Promise<number> {
  const args = argv.filter((a) => a !== '--');
  const check = args.includes('--check');
  const cachedOnly = args.includes('--cached-only');
  const unknown = args.filter((a) => a.startsWith('--') && a !== '--check' && a !== '--cached-only');
  const asked = args.filter((a) => !a.startsWith('--'));
  const bad = asked.filter((r) => !RELEASES.includes(r));
  if (unknown.length || bad.length) {
    process.stderr.write(`fixtures:kubeadm: ${unknown.length ? `unknown option ${unknown.join(' ')}` : `unknown release ${bad.join(' ')} (known: ${RELEASES.join(' ')})`}\n`);
    return 2;
  }
  if (process.getuid?.() !== 0) {
    process.stderr.write('fixtures:kubeadm: needs root (chroot, and the files kubeadm writes keep their owners)\n');
    return 2;
  }
  const releases = asked.length ? RELEASES.filter((r) => asked.includes(r)) : RELEASES;
  const top = kubeadmFixturesDir();
  const etcBefore = await etcChecksums();
  const differences: string[] = [];
  const done: string[] = [];
  for (const release of releases) {
    let kubeadm = cachedKubeadm(release);
    if (!kubeadm) {
      if (cachedOnly) {
        process.stderr.write(`${release}: kubeadm not in ${K8S_CACHE}, skipped (--cached-only)\n`);
        continue;
      }
      kubeadm = path.join(await buildKubernetes({ version: release, binaries: ['kubeadm'] }), 'kubeadm');
    }
    const version = await kubeadmVersion(kubeadm);
    if (version !== release) throw new Error(`${kubeadm} says it is ${version}, expected ${release}`);
    const relDir = path.join(top, release);
    for (const name of casesFor(release)) {
      const out = await generateCase(kubeadm, release, name);
      const dir = path.join(relDir, name);
      if (check) {
        const want = existsSync(dir) ? await readCaseFiles(dir) : {};
        const got = caseFiles(out);
        for (const f of new Set([...Object.keys(want), ...Object.keys(got)])) if (want[f] !== got[f]) differences.push(`${release}/${name}/${f}`);
      } else {
        await writeCase(dir, out);
      }
      process.stderr.write(`${release} ${name}: ${Object.keys(out.manifests).length} manifests, ${out.listing.split('\n').length - 1} paths\n`);
    }
    if (!check) {
      await mkdir(relDir, { recursive: true });
      await writeFile(path.join(relDir, 'kubeadm-version.txt'), `${version}\n`);
      // Staging modules the module proxy did not serve at this release's own patch version, and the
      // patch version built instead (scripts/k8s-build.ts substituteUnserved); absent when none.
      const substituted = path.join(kubernetesCacheDir(release), SUBSTITUTED);
      if (existsSync(substituted)) await writeFile(path.join(relDir, SUBSTITUTED), await readFile(substituted, 'utf8'));
      else await rm(path.join(relDir, SUBSTITUTED), { force: true });
    }
    done.push(release);
  }
  const etcAfter = await etcChecksums();
  const touched = changed(etcBefore, etcAfter);
  if (touched.length) {
    process.stderr.write(`fixtures:kubeadm: the machine's /etc CHANGED during the run (kubeadm must only write inside its throwaway root): ${touched.join(', ')}\n`);
    return 1;
  }
  process.stderr.write(`fixtures:kubeadm: ${done.length ? done.join(' ') : 'no release'} ${check ? 'checked' : 'written'}; /etc unchanged (${etcAfter.size} paths checksummed)\n`);
  if (differences.length) {
    process.stderr.write(`fixtures:kubeadm --check: regenerated files differ from the committed ones:\n  ${differences.join('\n  ')}\n`);
    return 1;
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: Error) => {
    process.stderr.write(`fixtures:kubeadm: ${e.message}\n`);
    process.exit(1);
  },
);
