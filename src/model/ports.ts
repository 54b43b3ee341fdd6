// TCP ports a component binds, from its flags. A process without CAP_NET_BIND_SERVICE cannot bind
// below 1024 (net.ipv4.ip_unprivileged_port_start, default 1024), so a component migrated to a
// non-root user with all capabilities dropped must listen at 1024 or above. kube-apiserver is the
// exception: like kubeadm's RootlessControlPlane it gets NET_BIND_SERVICE (KEP-2568;
// cmd/kubeadm/app/util/staticpod/utils_linux.go), for nodes that serve on `--secure-port=443`.
import type { Component } from './components.js';
import type { PodInfo } from './pod.types.js';
import { lastFlag } from './flags.js';

interface ListenPort {
  /** The flag that sets the port (also named when the port is the flag's default). */
  flag: string;
  port: number;
}

/** Compiled-in defaults when the flag is absent (the components' own flag defaults, unchanged since v1.16). */
const DEFAULT_SECURE_PORT: Record<Exclude<Component, 'etcd'>, number> = {
  'kube-apiserver': 6443,
  'kube-controller-manager': 10257,
  'kube-scheduler': 10259,
};

/** etcd's defaults (etcd embed.NewConfig: http://localhost:2379 and :2380; no metrics listener). */
const ETCD_URL_FLAGS: Array<{ flag: string; default: number | null }> = [
  { flag: '--listen-client-urls', default: 2379 },
  { flag: '--listen-peer-urls', default: 2380 },
  { flag: '--listen-metrics-urls', default: null },
];

/**
 * Port of "scheme://host:port[/…]" with an IPv6 host in brackets. WHATWG URL is not used on
 * purpose: it drops a port equal to the scheme's default (https://h:443 → port ""), which is
 * exactly the case that matters here. A URL without a port, or a unix socket URL, binds no TCP
 * port we can check (etcd refuses a listen URL without a port), so it gives null.
 */
export function urlPort(url: string): number | null {
  const m = /^([a-z][a-z0-9+.-]*):\/\/(\[[^\]]*\]|[^/:?#]*)(?::(\d+))?(?:[/?#]|$)/i.exec(url.trim());
  if (m === null || /^unixs?$/i.test(m[1]) || m[3] === undefined) return null;
  return Number(m[3]);
}

function intFlag(pod: PodInfo, flag: string): number | null {
  const v = lastFlag(pod.flags, flag);
  if (v === null || !/^\d+$/.test(v.trim())) return null;
  return Number(v.trim());
}

/**
 * Every TCP port the component listens on, deduplicated per flag, in flag order. Single-valued
 * flags use their last occurrence (pflag). Port 0 disables a listener and is left out.
 */
export function listenPorts(pod: PodInfo, component: Component): ListenPort[] {
  const out: ListenPort[] = [];
  const push = (flag: string, port: number | null): void => {
    if (port === null || port === 0) return;
    if (!out.some((p) => p.flag === flag && p.port === port)) out.push({ flag, port });
  };
  if (component === 'etcd') {
    for (const { flag, default: dflt } of ETCD_URL_FLAGS) {
      const value = lastFlag(pod.flags, flag);
      if (value === null) {
        push(flag, dflt);
        continue;
      }
      for (const url of value.split(',')) push(flag, urlPort(url));
    }
    return out;
  }
  const secure = lastFlag(pod.flags, '--secure-port');
  push('--secure-port', secure === null ? DEFAULT_SECURE_PORT[component] : intFlag(pod, '--secure-port'));
  // Insecure HTTP ports, only when set: `--insecure-port` (apiserver; `=0` in kubeadm manifests
  // until 1.22, #102121) and `--port` (kcm/scheduler; `=0` until 1.23, kubeadm#2207).
  const insecure = component === 'kube-apiserver' ? '--insecure-port' : '--port';
  push(insecure, intFlag(pod, insecure));
  return out;
}
