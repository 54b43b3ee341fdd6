// Node paths of the account databases: always resolved under --root (src/paths.ts), never the host's.
export const LOGIN_DEFS_PATH = '/etc/login.defs'; // node path, under --root
export const PASSWD_PATH = '/etc/passwd'; // node path, under --root
export const GROUP_PATH = '/etc/group'; // node path, under --root
export const SHADOW_PATH = '/etc/shadow'; // node path, under --root
export const GSHADOW_PATH = '/etc/gshadow'; // node path, under --root
/** The tool's own state (journal, backups holding copies of the account files); src/state/locations.ts keeps it there. */
export const TOOL_STATE_DIR = '/var/lib/kubeadm-nonroot'; // node path, under --root
