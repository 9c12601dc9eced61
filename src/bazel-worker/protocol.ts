// Bazel's persistent worker protocol (worker_protocol.proto, package blaze.worker): WorkRequest
// in, WorkResponse out, either as varint-length-prefixed protobuf messages or as JSON objects
// (`requires-worker-protocol: json`; proto3 JSON names, lowerCamelCase, the original
// snake_case names accepted too). Both directions are here: the worker decodes requests and
// encodes responses; tests and the benchmark drive a worker the way Bazel does.
//
//   message Input        { string path = 1; bytes digest = 2; }
//   message WorkRequest  { repeated string arguments = 1; repeated Input inputs = 2;
//                          int32 request_id = 3; bool cancel = 4; int32 verbosity = 5;
//                          string sandbox_dir = 6; }
//   message WorkResponse { int32 exit_code = 1; string output = 2; int32 request_id = 3;
//                          bool was_cancelled = 4; }
// (Bazel 4.2.3 sends fields 1-4; verbosity and sandbox_dir came later.)
import { ProtoReader, ProtoWriter, delimited } from '../execlog/protobuf.js';

export interface WorkInput {
  readonly path: string;
  readonly digest: Uint8Array;
}

export interface WorkRequest {
  readonly arguments: readonly string[];
  readonly inputs: readonly WorkInput[];
  /** 0: a singleplex request; otherwise unique among the requests in flight. */
  readonly requestId: number;
  /** Cancel the earlier request with this requestId. */
  readonly cancel: boolean;
  readonly verbosity: number;
  /** Multiplex sandboxing (newer Bazels): paths are relative to this directory. */
  readonly sandboxDir: string;
}

export interface WorkResponse {
  readonly exitCode: number;
  readonly output: string;
  readonly requestId: number;
  readonly wasCancelled: boolean;
}

export type WireFormat = 'proto' | 'json';

export function decodeRequest(bytes: Uint8Array, base = 0): WorkRequest {
  const r = new ProtoReader(bytes, base);
  const args: string[] = [];
  const inputs: WorkInput[] = [];
  let requestId = 0;
  let cancel = false;
  let verbosity = 0;
  let sandboxDir = '';
  while (!r.done()) {
    const [f, w] = r.tag();
    if (f === 1) args.push(r.string(w));
    else if (f === 2) {
      const m = r.message(w);
      let path = '';
      let digest: Uint8Array = new Uint8Array(0);
      while (!m.done()) {
        const [g, v] = m.tag();
        if (g === 1) path = m.string(v);
        else if (g === 2) digest = m.bytesField(v);
        else m.skip(v);
      }
      inputs.push({ path, digest });
    } else if (f === 3) requestId = r.int32(w);
    else if (f === 4) cancel = r.bool(w);
    else if (f === 5) verbosity = r.int32(w);
    else if (f === 6) sandboxDir = r.string(w);
    else r.skip(w);
  }
  return { arguments: args, inputs, requestId, cancel, verbosity, sandboxDir };
}

export function encodeRequest(q: Partial<WorkRequest>): Uint8Array {
  const w = new ProtoWriter();
  for (const a of q.arguments ?? []) w.string(1, a);
  for (const i of q.inputs ?? []) w.message(2, (m) => m.string(1, i.path).bytes(2, i.digest));
  if (q.requestId) w.varint(3, q.requestId);
  if (q.cancel) w.bool(4, true);
  if (q.verbosity) w.varint(5, q.verbosity);
  if (q.sandboxDir) w.string(6, q.sandboxDir);
  return w.finish();
}

export function encodeResponse(p: WorkResponse): Uint8Array {
  const w = new ProtoWriter();
  if (p.exitCode) w.varint(1, p.exitCode);
  if (p.output) w.string(2, p.output);
  if (p.requestId) w.varint(3, p.requestId);
  if (p.wasCancelled) w.bool(4, true);
  return w.finish();
}

export function decodeResponse(bytes: Uint8Array, base = 0): WorkResponse {
  const r = new ProtoReader(bytes, base);
  let exitCode = 0;
  let output = '';
  let requestId = 0;
  let wasCancelled = false;
  while (!r.done()) {
    const [f, w] = r.tag();
    if (f === 1) exitCode = r.int32(w);
    else if (f === 2) output = r.string(w);
    else if (f === 3) requestId = r.int32(w);
    else if (f === 4) wasCancelled = r.bool(w);
    else r.skip(w);
  }
  return { exitCode, output, requestId, wasCancelled };
}

/** A field of a proto3 JSON object, by its JSON name or its proto name. */
function field(o: Record<string, unknown>, json: string, proto: string): unknown {
  return o[json] !== undefined ? o[json] : o[proto];
}

function int(v: unknown, what: string): number {
  // proto3 JSON writes int32 as a number but accepts a decimal string.
  const n = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v;
  if (n === undefined || n === null) return 0;
  if (typeof n !== 'number' || !Number.isInteger(n)) throw new TypeError(`${what}: expected an integer, got ${JSON.stringify(v)}`);
  return n;
}

/** A WorkRequest from its JSON object. Throws TypeError on a field of the wrong type. */
export function requestFromJson(o: Record<string, unknown>): WorkRequest {
  const args = field(o, 'arguments', 'arguments') ?? [];
  if (!Array.isArray(args) || !args.every((a) => typeof a === 'string')) throw new TypeError('arguments: expected an array of strings');
  const rawInputs = field(o, 'inputs', 'inputs') ?? [];
  if (!Array.isArray(rawInputs)) throw new TypeError('inputs: expected an array');
  const inputs = rawInputs.map((i: Record<string, unknown>) => ({
    path: String(i?.path ?? ''),
    digest: typeof i?.digest === 'string' ? Buffer.from(i.digest, 'base64') : new Uint8Array(0),
  }));
  const cancel = field(o, 'cancel', 'cancel');
  const sandboxDir = field(o, 'sandboxDir', 'sandbox_dir');
  return {
    arguments: args as string[],
    inputs,
    requestId: int(field(o, 'requestId', 'request_id'), 'requestId'),
    cancel: cancel === true,
    verbosity: int(field(o, 'verbosity', 'verbosity'), 'verbosity'),
    sandboxDir: typeof sandboxDir === 'string' ? sandboxDir : '',
  };
}

export function requestToJson(q: Partial<WorkRequest>): Record<string, unknown> {
  return {
    arguments: q.arguments ?? [],
    inputs: (q.inputs ?? []).map((i) => ({ path: i.path, digest: Buffer.from(i.digest).toString('base64') })),
    ...(q.requestId ? { requestId: q.requestId } : {}),
    ...(q.cancel ? { cancel: true } : {}),
    ...(q.verbosity ? { verbosity: q.verbosity } : {}),
    ...(q.sandboxDir ? { sandboxDir: q.sandboxDir } : {}),
  };
}

/** The JSON object of a response. Bazel 4 reads exitCode, output and requestId and skips the rest. */
export function responseToJson(p: WorkResponse): Record<string, unknown> {
  return { exitCode: p.exitCode, output: p.output, requestId: p.requestId, ...(p.wasCancelled ? { wasCancelled: true } : {}) };
}

export function responseFromJson(o: Record<string, unknown>): WorkResponse {
  return {
    exitCode: int(field(o, 'exitCode', 'exit_code'), 'exitCode'),
    output: String(field(o, 'output', 'output') ?? ''),
    requestId: int(field(o, 'requestId', 'request_id'), 'requestId'),
    wasCancelled: field(o, 'wasCancelled', 'was_cancelled') === true,
  };
}

/** One response framed for the wire: length-prefixed proto, or a JSON object and a newline. */
export function frameResponse(p: WorkResponse, format: WireFormat): Uint8Array {
  return format === 'proto' ? delimited(encodeResponse(p)) : Buffer.from(JSON.stringify(responseToJson(p)) + '\n', 'utf8');
}

export function frameRequest(q: Partial<WorkRequest>, format: WireFormat): Uint8Array {
  return format === 'proto' ? delimited(encodeRequest(q)) : Buffer.from(JSON.stringify(requestToJson(q)) + '\n', 'utf8');
}
