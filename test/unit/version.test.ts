// Image tag → version parsing, and the seccomp style per Kubernetes version
// (kubeadm-manifests.md §3; versions per case from INDEX.md's summary table).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { etcdVersionFromImage, imageTag, kubeVersionFromImage, seccompStyle } from '../../src/model/version.js';
import { parsePod } from '../../src/model/pod.js';

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/manifests/', import.meta.url));

describe('imageTag', () => {
  it('takes the tag after the last colon that follows the last slash', () => {
    assert.equal(imageTag('registry.k8s.io/kube-apiserver:v1.29.0'), 'v1.29.0');
    assert.equal(imageTag('kube-apiserver:v1.29.0'), 'v1.29.0');
  });

  it('does not mistake a registry port for a tag', () => {
    assert.equal(imageTag('localhost:5000/kube-apiserver:v1.29.0'), 'v1.29.0');
    assert.equal(imageTag('localhost:5000/kube-apiserver'), null);
    assert.equal(imageTag('localhost:5000/library/etcd:3.5.15-0'), '3.5.15-0');
  });

  it('a digest is not a tag', () => {
    const digest = 'sha256:' + 'a'.repeat(64);
    assert.equal(imageTag(`registry.k8s.io/etcd@${digest}`), null);
    assert.equal(imageTag(`localhost:5000/etcd@${digest}`), null);
    assert.equal(imageTag(`registry.k8s.io/kube-apiserver:v1.30.2@${digest}`), 'v1.30.2');
  });

  it('no tag at all gives null', () => {
    assert.equal(imageTag('kube-apiserver'), null);
    assert.equal(imageTag('registry.k8s.io/kube-apiserver:'), null);
  });
});

describe('kubeVersionFromImage / etcdVersionFromImage', () => {
  it('keeps the patch version', () => {
    assert.equal(kubeVersionFromImage('registry.k8s.io/kube-apiserver:v1.28.0'), '1.28.0');
    assert.equal(kubeVersionFromImage('registry.k8s.io/kube-apiserver:v1.32.11'), '1.32.11');
    assert.equal(kubeVersionFromImage('registry.k8s.io/kube-apiserver:v1.29.0-rc.1'), '1.29.0');
    assert.equal(kubeVersionFromImage('my.mirror:8443/k8s/kube-scheduler:v1.31'), '1.31.0');
  });

  it('works through mirrors and registry ports', () => {
    assert.equal(kubeVersionFromImage('registry.aliyuncs.com/google_containers/kube-apiserver:v1.16.2'), '1.16.2');
    assert.equal(kubeVersionFromImage('localhost:5000/kube-controller-manager:v1.22.8'), '1.22.8');
  });

  it('gives null for tags that are not versions and for digests', () => {
    assert.equal(kubeVersionFromImage('registry.k8s.io/kube-apiserver:latest'), null);
    assert.equal(kubeVersionFromImage('registry.k8s.io/kube-apiserver:20240101'), null);
    assert.equal(kubeVersionFromImage('localhost:5000/kube-apiserver'), null);
    assert.equal(kubeVersionFromImage(`registry.k8s.io/kube-apiserver@sha256:${'b'.repeat(64)}`), null);
  });

  it('drops the kubeadm etcd image revision', () => {
    assert.equal(etcdVersionFromImage('registry.k8s.io/etcd:3.5.15-0'), '3.5.15');
    assert.equal(etcdVersionFromImage('k8s.gcr.io/etcd:3.4.13-0'), '3.4.13');
    assert.equal(etcdVersionFromImage('quay.io/coreos/etcd:v3.5.24'), '3.5.24');
    assert.equal(etcdVersionFromImage('registry.k8s.io/etcd'), null);
  });

  // Kubernetes / etcd versions copied by hand from INDEX.md's summary table.
  const SUMMARY: Array<[string, string, string | null]> = [
    ['v1.16-centos-stacked', '1.16.2', '3.3.15'],
    ['v1.17-kms-encryption-apiserver-only', '1.17.0', null],
    ['v1.19-ubuntu-stacked', '1.19.0', '3.4.13'],
    ['v1.19-kind-oidc-apiserver-only', '1.19.1', null],
    ['v1.20-minikube-certsdir-port8443', '1.20.2', '3.4.13'],
    ['v1.22-ubuntu-stacked-seccomp-root', '1.22.8', '3.5.0'],
    ['v1.28.0-defaulted-fields', '1.28.0', '3.5.9'],
    ['v1.29-audit-encryption', '1.29.0', '3.5.10'],
    ['v1.30-port443-webhooks-haproxy-keepalived', '1.30.2', '3.5.12'],
    ['v1.31-ubuntu-stacked-kube-vip', '1.31.1', '3.5.15'],
    ['v1.31-rootless-control-plane', '1.31.1', '3.5.15'],
    ['v1.32-rhel-stacked', '1.32.11', '3.5.24'],
  ];
  for (const [caseName, kube, etcd] of SUMMARY) {
    it(`${caseName}: images give Kubernetes ${kube}${etcd ? ` and etcd ${etcd}` : ''}`, () => {
      const image = (file: string) => parsePod(readFileSync(`${FIXTURES}${caseName}/${file}`, 'utf8'), file).image;
      assert.equal(kubeVersionFromImage(image('kube-apiserver.yaml')), kube);
      if (etcd) assert.equal(etcdVersionFromImage(image('etcd.yaml')), etcd);
    });
  }
});

describe('seccompStyle', () => {
  it('uses the annotation before 1.19 and the field from 1.19', () => {
    assert.equal(seccompStyle('1.16.2'), 'annotation');
    assert.equal(seccompStyle('1.18.20'), 'annotation');
    assert.equal(seccompStyle('1.19.0'), 'field');
    assert.equal(seccompStyle('1.32.11'), 'field');
    assert.equal(seccompStyle('v1.17.0'), 'annotation');
  });

  it('defaults to the field when the version is unknown', () => {
    assert.equal(seccompStyle(null), 'field');
    assert.equal(seccompStyle('latest'), 'field');
  });
});
