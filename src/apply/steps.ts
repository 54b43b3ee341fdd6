// Tasks as data: a Plan becomes a list of steps, each built by a small function. A step looks at the
// node (prepare) to decide whether there is anything to do and what its undo is; the runner journals
// the undo, then runs it. A step whose target is already as desired is skipped without touching it
// (a second apply changes nothing, not even mtimes).
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { InputError } from '../errors.js';
import { safeHostPath } from '../paths.js';
import { parseGroup, parsePasswd } from '../discover/accounts.js';
import type { Component } from '../model/components.js';
import { ROLLOUT_ORDER } from '../model/components.js';
import { sha256 } from '../plan/fingerprint.js';
import { manifestEdits } from '../plan/manifest-undo.js';
import { REVERT_PLAN_KIND, type AccountAction, type FileAction, type ManifestAction, type Plan } from '../plan/types.js';
import { addToGroup, groupadd, groupdel, useradd, userdel, type AccountTools } from './accounts.js';
import { snapshotAccountFiles } from './account-files.js';
import { publishFile, tempNameFor, writeDurable } from '../fs/atomic.js';
import { mkdirsUnder, setOwnerModeUnder, stateUnder } from '../fs/handles.js';
import { chownTree, hashSpecialFiles, ownerModeOf, sameOwnerMode, withTreeTop } from './fsops.js';
import { isUnsafeEntry, treeCensus, type TreeCensus } from '../discover/fs.js';
import type { TreeSummary } from '../model/node.js';
import type { Undo } from '../state/journal.js';
import { GROUP_PATH, PASSWD_PATH } from '../model/node-paths.js';

interface StepContext {
  root: string;
  backupDir: string;
  tools: AccountTools;
  /** A change left out for safety (a device node or hard link in a tree), reported to the operator. */
  warn?(message: string): void;
}

interface Prepared {
  undo: Undo | null;
  /** Runs the change. */
  run(): Promise<void>;
}

export interface Step {
  id: string;
  title: string;
  /** accounts, files, or the component whose manifest this is (gates run after those). */
  phase: 'accounts' | 'files' | Component;
  /** null: nothing to do (already as desired). */
  prepare(ctx: StepContext): Promise<Prepared | null>;
}

const host = (ctx: StepContext, nodePath: string) => safeHostPath(ctx.root, nodePath);

async function accountsNow(ctx: StepContext) {
  const [p, g] = await Promise.all([readFile(host(ctx, PASSWD_PATH), 'utf8'), readFile(host(ctx, GROUP_PATH), 'utf8')]);
  return { passwd: parsePasswd(p, PASSWD_PATH), group: parseGroup(g, GROUP_PATH) };
}

function snapshotStep(): Step {
  return {
    id: 'accounts/snapshot',
    title: 'save /etc/passwd, /etc/group, /etc/shadow, /etc/gshadow',
    phase: 'accounts',
    async prepare(ctx) {
      let subdir = 'accounts';
      for (let n = 2; await ownerModeOf(join(ctx.backupDir, subdir)); n++) subdir = `accounts.${n}`;
      await mkdir(join(ctx.backupDir, subdir), { recursive: true, mode: 0o700 });
      const files = await snapshotAccountFiles(ctx.root, ctx.backupDir, subdir);
      return { undo: { kind: 'restore-account-files', files }, run: async () => undefined };
    },
  };
}

function accountStep(a: AccountAction): Step | null {
  switch (a.action) {
    case 'reuse-group':
    case 'reuse-user':
      return null;
    case 'create-group':
      return {
        id: `group/${a.name}`,
        title: `create group ${a.name} (gid ${a.gid})`,
        phase: 'accounts',
        async prepare(ctx) {
          const existing = (await accountsNow(ctx)).group.find((g) => g.name === a.name);
          if (existing?.gid === a.gid) return null; // created by an earlier, interrupted run
          if (existing) throw new InputError(`group ${a.name} appeared with gid ${existing.gid} since the plan was made`, GROUP_PATH);
          return { undo: { kind: 'delete-group', name: a.name }, run: () => groupadd(ctx.tools, a.name, a.gid) };
        },
      };
    case 'create-user':
      return {
        id: `user/${a.name}`,
        title: `create user ${a.name} (uid ${a.uid}, gid ${a.gid})`,
        phase: 'accounts',
        async prepare(ctx) {
          const existing = (await accountsNow(ctx)).passwd.find((p) => p.name === a.name);
          if (existing?.uid === a.uid) return null;
          if (existing) throw new InputError(`user ${a.name} appeared with uid ${existing.uid} since the plan was made`, PASSWD_PATH);
          return { undo: { kind: 'delete-user', name: a.name }, run: () => useradd(ctx.tools, a) };
        },
      };
    case 'add-group-members':
      return {
        id: `group-members/${a.name}`,
        title: `add ${a.members.join(', ')} to group ${a.name}`,
        phase: 'accounts',
        async prepare(ctx) {
          const g = (await accountsNow(ctx)).group.find((x) => x.name === a.name);
          const missing = a.members.filter((m) => !g?.members.includes(m));
          if (missing.length === 0) return null;
          return {
            undo: { kind: 'remove-members', group: a.name, members: missing },
            run: async () => {
              for (const m of missing) await addToGroup(ctx.tools, m, a.name);
            },
          };
        },
      };
    case 'delete-user':
      return {
        id: `user-delete/${a.name}`,
        title: `delete user ${a.name} (uid ${a.uid})`,
        phase: 'accounts',
        async prepare(ctx) {
          if (!(await accountsNow(ctx)).passwd.some((p) => p.name === a.name)) return null;
          const { action: _a, ...rest } = a;
          return { undo: { kind: 'recreate-user', ...rest }, run: () => userdel(ctx.tools, a.name) };
        },
      };
    case 'delete-group':
      return {
        id: `group-delete/${a.name}`,
        title: `delete group ${a.name} (gid ${a.gid})`,
        phase: 'accounts',
        async prepare(ctx) {
          // userdel removes a user's same-named group itself when USERGROUPS_ENAB is yes.
          if (!(await accountsNow(ctx)).group.some((g) => g.name === a.name)) return null;
          return { undo: { kind: 'recreate-group', name: a.name, gid: a.gid }, run: () => groupdel(ctx.tools, a.name) };
        },
      };
  }
}

/** The plan's census as a full record, when it lists no exceptions at all (see the tree step). */
function trustedCensus(tree: TreeSummary | undefined, top: { uid: number; gid: number }): TreeCensus | null {
  if (!tree || tree.owners.length > 1 || tree.setid || tree.hardLinks || tree.devices) return null;
  const only = tree.owners[0];
  if (only && (only.uid !== top.uid || only.gid !== top.gid)) return null;
  return { ...tree, common: [top.uid, top.gid], exceptions: [] };
}

function fileStep(f: FileAction): Step {
  const want = { uid: f.desired.uid, gid: f.desired.gid, mode: f.desired.mode };
  switch (f.action) {
    case 'set-owner-mode':
      // In place, on the same inode, through its descriptor (src/fs/handles.ts): a file being written
      // (a single-file audit log kube-apiserver appends to) keeps every write, and nothing is read or
      // copied, whatever the file's size.
      return {
        id: `file/${f.path}`,
        title: `${f.path}: owner ${f.desired.user ?? f.desired.uid}:${f.desired.group ?? f.desired.gid}, mode ${want.mode.toString(8).padStart(4, '0')}`,
        phase: 'files',
        async prepare(ctx) {
          const now = stateUnder(ctx.root, f.path);
          if (!now) throw new InputError('disappeared since the plan was made', f.path);
          if (now.type === 'other') throw new InputError('is no longer a regular file or a directory; run plan again', f.path);
          if (sameOwnerMode(now, want)) return null;
          return {
            undo: { kind: 'restore-owner-mode', path: f.path, uid: now.uid, gid: now.gid, mode: now.mode },
            run: async () => {
              if (!setOwnerModeUnder(ctx.root, f.path, want)) throw new InputError('disappeared since the plan was made', f.path);
            },
          };
        },
      };
    case 'set-owner-recursive':
      return {
        id: `tree/${f.path}`,
        title: `${f.path}: owner ${f.desired.user ?? f.desired.uid}:${f.desired.group ?? f.desired.gid} recursively, mode ${want.mode.toString(8).padStart(4, '0')}`,
        phase: 'files',
        async prepare(ctx) {
          const p = host(ctx, f.path);
          const now = stateUnder(ctx.root, f.path);
          if (!now || now.type !== 'dir') throw new InputError('is no longer a directory', f.path);
          // The top's owner is recorded once, and only the entries that differ from it or are special
          // (setuid/setgid, devices, hard links). When the plan's census (taken moments ago by this
          // process's discovery, or checked against the node by the fingerprint) found one owner, the
          // top's, and nothing special, that is the whole record: a second walk of a large data dir
          // would cost as much again as the chown (bench/results.md). Otherwise the tree is censused
          // afresh, so that the record is exact at the moment of the change.
          const census = trustedCensus(f.tree, now) ?? (await treeCensus(p));
          const unsafe = census.exceptions.filter(isUnsafeEntry);
          const changes = census.exceptions.some((e) => !isUnsafeEntry(e) && (e.uid !== want.uid || e.gid !== want.gid));
          if (!changes && census.common[0] === want.uid && census.common[1] === want.gid && sameOwnerMode(now, want)) return null;
          for (const e of unsafe) ctx.warn?.(`${f.path}/${typeof e.path === 'string' ? e.path : '(non-UTF-8 name)'}: ${e.type === 'b' || e.type === 'c' ? 'a device node' : `has ${e.links} hard links`}; left as it is (owner ${e.uid}:${e.gid}), never handed over`);
          let ownersFile: string | null = null;
          if (census.exceptions.length > 0) {
            // One file per intent: a resumed run records its own, and must never overwrite the
            // first run's record of the original owners.
            ownersFile = `trees/${sha256(f.path).slice(0, 16)}.${randomBytes(6).toString('hex')}.json`;
            await mkdir(join(ctx.backupDir, 'trees'), { recursive: true, mode: 0o700 });
            await writeDurable(join(ctx.backupDir, ownersFile), JSON.stringify({ path: f.path, default: census.common, exceptions: await withTreeTop(ctx.root, f.path, (fd) => hashSpecialFiles(fd, census.exceptions)) }));
          }
          return {
            undo: { kind: 'restore-tree', path: f.path, uid: now.uid, gid: now.gid, mode: now.mode, defaultOwner: census.common, ownersFile, appliedOwner: [want.uid, want.gid] },
            run: () => chownTree(ctx.root, f.path, want, [want.uid, want.gid], { skipUnsafe: unsafe.length > 0 }),
          };
        },
      };
    case 'create-directory':
      return {
        id: `mkdir/${f.path}`,
        title: `create ${f.path}/ owned by ${f.desired.user ?? f.desired.uid}, mode ${want.mode.toString(8).padStart(4, '0')}`,
        phase: 'files',
        async prepare(ctx) {
          const now = stateUnder(ctx.root, f.path);
          if (now) {
            if (now.type === 'dir' && sameOwnerMode(now, want)) return null;
            throw new InputError('appeared since the plan was made; run plan again', f.path);
          }
          const missing: string[] = [];
          for (let d = dirname(f.path); d !== '/' && !stateUnder(ctx.root, d); d = dirname(d)) missing.unshift(d);
          return {
            undo: { kind: 'remove-directory', path: f.path, createdParents: missing },
            // mkdir under the walked parent's descriptor, refused when the name exists as anything by
            // then; owner and mode set through the new directory's own descriptor.
            run: async () => mkdirsUnder(ctx.root, [...missing, f.path], 0o755, want),
          };
        },
      };
  }
}

/**
 * Save a manifest's bytes in the backup dir; the path relative to it. An interrupted run may have saved
 * this manifest already: the same bytes are kept as they are, other bytes (the manifest changed between
 * the runs, e.g. kubeadm upgraded it) go to a new name, so no undo ever names bytes it did not replace.
 */
async function saveOriginal(backupDir: string, name: string, bytes: Buffer): Promise<string> {
  await mkdir(join(backupDir, 'manifests'), { recursive: true, mode: 0o700 });
  for (let n = 1; ; n++) {
    const rel = `manifests/${name}${n === 1 ? '' : `.${n}`}`;
    const saved = join(backupDir, rel);
    await writeDurable(saved, bytes); // no-op when it exists
    if ((await readFile(saved)).equals(bytes)) return rel;
  }
}

function manifestStep(m: ManifestAction): Step {
  return {
    id: `manifest/${m.component}`,
    title: `write ${m.path}`,
    phase: m.component,
    async prepare(ctx) {
      const p = host(ctx, m.path);
      // Bytes, not text: a manifest with bytes that are not UTF-8 must come back byte for byte.
      const [bytes, now] = await Promise.all([readFile(p), ownerModeOf(p)]);
      const text = bytes.toString('utf8');
      if (text === m.after) return null;
      if (sha256(text) !== m.beforeSha256) throw new InputError('changed since the plan was made (kubeadm upgrade? hand edit?); run plan again', m.path);
      // The original goes to the backup directory, never next to the manifest (see state.ts).
      const backupFile = await saveOriginal(ctx.backupDir, basename(m.path), bytes);
      const orig = { uid: now!.uid, gid: now!.gid, mode: now!.mode };
      const temp = tempNameFor(p);
      // What is written and which fields that changes: rollback restores the saved bytes only over
      // exactly this text, and over anything kubeadm wrote since undoes just these fields.
      const edits = manifestEdits(text, m.after, m.component, m.path);
      return {
        undo: { kind: 'restore-manifest', path: m.path, backupFile, sha256: createHash('sha256').update(bytes).digest('hex'), ...orig, temp, writtenSha256: sha256(m.after), edits },
        run: () => publishFile(p, m.after, orig, temp),
      };
    },
  };
}

/**
 * The whole run, in an order that keeps every component working at every step. Migrating: accounts,
 * then files (root components still read everything), then one component at a time, etcd first.
 * Reverting: the reverse — components back to root first (root reads whatever the files' owners are),
 * then files back to root, then the accounts go.
 */
export function buildSteps(plan: Plan): Step[] {
  const accountSteps = plan.accounts.map(accountStep).filter((s): s is Step => s !== null);
  const accounts = accountSteps.length ? [snapshotStep(), ...accountSteps] : [];
  const files = plan.files.map(fileStep);
  const manifests = ROLLOUT_ORDER.flatMap((c) => plan.manifests.filter((x) => x.component === c).map(manifestStep));
  return plan.kind === REVERT_PLAN_KIND ? [...manifests, ...files, ...accounts] : [...accounts, ...files, ...manifests];
}

