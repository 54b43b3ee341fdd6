// Build a NodeState by hand for pure planning tests.
import type { GroupEntry, LoginDefs, NodeState, PasswdEntry } from '../../src/model/node.js';

export const DEFAULT_LOGIN_DEFS: LoginDefs = { sysUidMin: 100, sysUidMax: 999, sysGidMin: 100, sysGidMax: 999, uidMin: 1000 };

/** "name:x:uid:gid:gecos:home:shell" lines → entries (no tolerance needed: test input is clean). */
export function passwd(text: string): PasswdEntry[] {
  return text.trim().split('\n').filter(Boolean).map((l, line) => {
    const [name, , uid, gid, gecos, home, shell] = l.split(':');
    return { name: name!, uid: Number(uid), gid: Number(gid), gecos: gecos ?? '', home: home ?? '', shell: shell ?? '', line };
  });
}

export function group(text: string): GroupEntry[] {
  return text.trim().split('\n').filter(Boolean).map((l, line) => {
    const [name, , gid, members] = l.split(':');
    return { name: name!, gid: Number(gid), members: members ? members.split(',').filter(Boolean) : [], line };
  });
}

export function nodeState(partial: Partial<NodeState> = {}): NodeState {
  return {
    root: '/sandbox',
    manifestsDir: '/etc/kubernetes/manifests',
    loginDefs: DEFAULT_LOGIN_DEFS,
    passwd: passwd('root:x:0:0:root:/root:/bin/bash'),
    group: group('root:x:0:'),
    nss: null,
    manifests: [],
    paths: {},
    trees: {},
    configs: {},
    ...partial,
  };
}
