// Read a static-pod manifest once: one YAML 1.1 parse (src/yaml/go-yaml.ts) gives both the Pod fields
// the tool reasons about (src/model/pod.ts) and the schema check with line numbers
// (src/model/pod-schema.ts). Discovery stores the result in NodeState as plain data; planning uses it
// and never parses the text again.
import { LineCounter } from 'yaml';
import { errorMessage, InputError } from '../errors.js';
import { parseYamlDocuments } from '../yaml/go-yaml.js';
import type { ParsedManifest } from './node.js';
import { podSchemaIssues } from './pod-schema.js';
import { onlyDocument, podInfo } from './pod.js';

/** `path` is the manifest's node path, for messages. An error is the message of the InputError parsePod would throw. */
export function readManifest(text: string, path: string): ParsedManifest {
  try {
    const counter = new LineCounter();
    const { doc, value } = onlyDocument(parseYamlDocuments(text, counter), path);
    const pod = podInfo(value, path);
    return { ok: true, pod, schemaIssues: podSchemaIssues(doc, value, counter) };
  } catch (e) {
    return { ok: false, error: e instanceof InputError ? e.message : new InputError(`cannot parse: ${errorMessage(e)}; fix the YAML`, path).message };
  }
}
