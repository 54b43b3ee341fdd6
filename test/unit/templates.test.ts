// The fleet rollout templates, parsed and schema-checked: templates/rollout/job.yaml and
// templates/rollout/ansible/site.yml. Both also run for real: the Job, rendered by docs/fleet.md's
// rollout script on three real kubeadm control-plane nodes (test/node/cluster.test.ts), the playbook by ansible-playbook
// (test/integration/ansible-rollout.test.ts).
//
// The Job is checked against the Kubernetes API twice, because kubernetes-models' validate() checks
// types, enums and required fields but NOT unknown fields (peers-and-standards.md: a typo such as
// `runAsUsr` passes), and the API server would drop such a field silently (or, with
// --validate=strict, refuse the Job):
//   1. new Job(obj).validate() — types and enums;
//   2. every key the template sets must be a property of the matching kubernetes-models type. The
//      types are read from the package's .d.ts files with the TypeScript compiler (already a dev
//      dependency): those declarations are generated from the same OpenAPI schema as the validators,
//      whose compiled code keeps no list of properties. Walking them needs no hand-kept allowlist that
//      could carry the same typo as the template.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Job } from 'kubernetes-models/batch/v1/Job';
import ts from 'typescript';
import { parse } from 'yaml';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const JOB_TEMPLATE = path.join(REPO, 'templates/rollout/job.yaml');
const PLAYBOOK = path.join(REPO, 'templates/rollout/ansible/site.yml');
const EXE = '/usr/local/bin/kubeadm-nonroot';

// eslint-style any: the parsed YAML is explored by key, and every use below is asserted.
type Obj = Record<string, any>;

/** What `envsubst '${NODE_NAME} ${IMAGE} ${ARGS}'` does: replace exactly those three, nothing else. */
async function renderJob(vars: { NODE_NAME: string; IMAGE: string; ARGS: string }): Promise<Obj> {
  let text = await readFile(JOB_TEMPLATE, 'utf8');
  for (const [k, v] of Object.entries(vars)) text = text.split(`\${${k}}`).join(v);
  return parse(text) as Obj;
}

const VARS = { NODE_NAME: 'cp-1.example.internal', IMAGE: 'registry.example/kubeadm-nonroot:0.1.0', ARGS: '"verify", "--proc", "/host/proc"' };

/** Paths of keys in `value` that are no property of the kubernetes-models type IJob (see the header). */
const unknownJobFields = ((): ((value: unknown) => string[]) => {
  let check: ((value: unknown) => string[]) | null = null;
  return (value) => {
    check ??= makeFieldCheck();
    return check(value);
  };
})();

function makeFieldCheck(): (value: unknown) => string[] {
  const file = path.join(REPO, 'node_modules/kubernetes-models/batch/v1/Job.d.ts');
  // Bundler resolution: the package's .d.ts import their siblings without extensions.
  const program = ts.createProgram([file], { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler, noEmit: true, skipLibCheck: true, types: [] });
  const diagnostics = ts.getPreEmitDiagnostics(program);
  assert.equal(diagnostics.length, 0, `kubernetes-models types do not resolve: ${diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')).join('; ')}`);
  const checker = program.getTypeChecker();
  const mod = checker.getSymbolAtLocation(program.getSourceFile(file)!)!;
  const ijob = checker.getExportsOfModule(mod).find((s) => s.name === 'IJob');
  assert.ok(ijob, 'IJob not exported by kubernetes-models/batch/v1/Job');

  function walk(type: ts.Type, value: unknown, at: string): string[] {
    if (value === null || typeof value !== 'object') return [];
    const t = checker.getNonNullableType(type);
    // An unresolved type would accept anything and make this check vacuous.
    if (t.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) return [`${at}: schema type not resolved`];
    if (Array.isArray(value)) {
      const element = checker.getIndexInfoOfType(t, ts.IndexKind.Number)?.type;
      if (!element) return [`${at}: a list where the schema has ${checker.typeToString(t)}`];
      return value.flatMap((v, i) => walk(element, v, `${at}[${i}]`));
    }
    const out: string[] = [];
    for (const [key, v] of Object.entries(value)) {
      const prop = t.getProperty(key);
      const map = checker.getIndexInfoOfType(t, ts.IndexKind.String)?.type;
      if (prop) out.push(...walk(checker.getTypeOfSymbol(prop), v, `${at}.${key}`));
      else if (map) out.push(...walk(map, v, `${at}.${key}`));
      else out.push(`${at}.${key}`);
    }
    return out;
  }
  const jobType = checker.getDeclaredTypeOfSymbol(ijob);
  return (value) => walk(jobType, value, 'Job');
}

const podSpec = (job: Obj): Obj => job.spec.template.spec;

test('job.yaml has exactly the placeholders NODE_NAME, IMAGE and ARGS, each documented in its header', async () => {
  const text = await readFile(JOB_TEMPLATE, 'utf8');
  const body = text.split('\n').filter((l) => !l.trimStart().startsWith('#')).join('\n');
  const header = text.split('\n').filter((l) => l.startsWith('#')).join('\n');
  const used = new Set([...body.matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]));
  assert.deepEqual([...used].sort(), ['ARGS', 'IMAGE', 'NODE_NAME']);
  for (const p of used) assert.match(header, new RegExp(`^#\\s+\\$\\{${p}\\}\\s+\\S`, 'm'), `\${${p}} is not documented in the header`);
});

test('the rendered Job passes the kubernetes-models batch/v1 Job validation (types, enums, required fields)', async () => {
  const job = await renderJob(VARS);
  assert.doesNotThrow(() => new Job(job as ConstructorParameters<typeof Job>[0]).validate());
});

test('every field the rendered Job sets is a field of the Kubernetes batch/v1 Job API', async () => {
  assert.deepEqual(unknownJobFields(await renderJob(VARS)), []);
});

test('the field check reports misspelled fields that kubernetes-models validate() lets through', async () => {
  const job = await renderJob(VARS);
  podSpec(job).hostPid = true;
  podSpec(job).tolerations[0].operater = 'Exists';
  podSpec(job).containers[0].securityContext.privilege = true;
  job.spec.ttlSecondsAfterFinish = 60;
  // The gap this check exists for: validate() accepts all four.
  assert.doesNotThrow(() => new Job(job as ConstructorParameters<typeof Job>[0]).validate());
  assert.deepEqual(unknownJobFields(job).sort(), [
    'Job.spec.template.spec.containers[0].securityContext.privilege',
    'Job.spec.template.spec.hostPid',
    'Job.spec.template.spec.tolerations[0].operater',
    'Job.spec.ttlSecondsAfterFinish',
  ]);
});

test('the Job runs the executable once, privileged, on the pinned control-plane node with its root at /host', async () => {
  const job = await renderJob(VARS);
  const pod = podSpec(job);
  assert.equal(job.apiVersion, 'batch/v1');
  assert.equal(job.kind, 'Job');
  assert.equal(job.metadata.namespace, 'kube-system');
  assert.equal(job.spec.backoffLimit, 0);
  assert.ok(Number.isInteger(job.spec.ttlSecondsAfterFinished) && job.spec.ttlSecondsAfterFinished > 0);
  assert.equal(pod.nodeName, VARS.NODE_NAME);
  assert.equal(pod.restartPolicy, 'Never');
  assert.equal(pod.hostPID, true);
  for (const key of ['node-role.kubernetes.io/control-plane', 'node-role.kubernetes.io/master']) {
    assert.ok(
      pod.tolerations.some((t: Obj) => t.key === key && t.operator === 'Exists' && t.effect === 'NoSchedule'),
      `no toleration for ${key}:NoSchedule`,
    );
  }
  // Not evicted while apply has the node's own API server down (job.yaml's header): tolerated for good.
  for (const key of ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']) {
    assert.ok(
      pod.tolerations.some((t: Obj) => t.key === key && t.operator === 'Exists' && t.effect === 'NoExecute' && t.tolerationSeconds === undefined),
      `no toleration for ${key}:NoExecute without tolerationSeconds`,
    );
  }
  assert.equal(pod.containers.length, 1);
  const [c] = pod.containers;
  assert.equal(c.image, VARS.IMAGE);
  assert.equal(c.securityContext.privileged, true);
  assert.deepEqual([...c.command, ...c.args], [EXE, '--root', '/host', 'verify', '--proc', '/host/proc']);
  const hostRoot = pod.volumes.find((v: Obj) => v.hostPath?.path === '/');
  assert.ok(hostRoot, 'no hostPath volume of /');
  assert.ok(c.volumeMounts.some((m: Obj) => m.name === hostRoot.name && m.mountPath === '/host' && !m.readOnly), 'the node root is not mounted read-write at /host');
});

test('a node name YAML would read as a number or a boolean stays a string in the rendered Job', async () => {
  for (const name of ['10', 'true', '1e3']) {
    const job = await renderJob({ ...VARS, NODE_NAME: name });
    assert.equal(podSpec(job).nodeName, name);
    assert.doesNotThrow(() => new Job(job as ConstructorParameters<typeof Job>[0]).validate());
  }
});

// ---- Ansible

interface Task {
  name?: string;
  block?: Task[];
  [module: string]: unknown;
}

/** The tool's subcommand a task runs: the quoted word after the argv list's options, or null. */
function toolStep(t: Task): string | null {
  const cmd = (t['ansible.builtin.command'] ?? t['command']) as { argv?: string } | undefined;
  const m = typeof cmd?.argv === 'string' ? /\+\s*\['(plan|apply|verify|rollback)'/.exec(cmd.argv) : null;
  return m ? m[1]! : null;
}

test('the playbook migrates the control_plane hosts one at a time and ends the whole play at the first failure', async () => {
  const plays = parse(await readFile(PLAYBOOK, 'utf8')) as Obj[];
  assert.equal(plays.length, 1);
  const [play] = plays;
  assert.equal(play!.hosts, 'control_plane');
  assert.equal(play!.serial, 1);
  assert.equal(play!.any_errors_fatal, true);
  assert.equal(play!.max_fail_percentage, 0);
  assert.equal(play!.become, true);
});

test('the playbook copies the executable, then runs plan, apply --yes and verify in that order', async () => {
  const [play] = parse(await readFile(PLAYBOOK, 'utf8')) as Obj[];
  const tasks = (play!.tasks as Task[]).flatMap((t) => (t.block ? t.block : [t]));
  const steps = tasks.map(toolStep);
  assert.deepEqual(steps.filter(Boolean), ['plan', 'apply', 'verify']);
  const copy = tasks.findIndex((t) => String((t['ansible.builtin.copy'] as Obj | undefined)?.src ?? '').includes('kubeadm-nonroot-linux-'));
  assert.ok(copy >= 0 && copy < steps.indexOf('plan'), 'the executable is not copied before plan');
  const plan = tasks[steps.indexOf('plan')]!;
  // plan exits 2 on a blocking problem: the play must fail there, before apply.
  assert.match(String(plan.failed_when), /\.rc != 0/);
  assert.equal(plan.changed_when, false);
  const apply = tasks[steps.indexOf('apply')]!;
  assert.match(String((apply['ansible.builtin.command'] as Obj).argv), /'apply', '--yes'/);
  assert.equal(apply.failed_when, undefined, 'apply must fail on its non-zero exits (1 rolled back, 3 rollback failed)');
});
