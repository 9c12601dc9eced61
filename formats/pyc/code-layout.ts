// Per-version layout of a marshalled code object (TYPE_CODE, 'c'), after CPython's
// Python/marshal.c w_object/r_object: a sequence of raw little-endian u32 fields ('u32')
// and nested objects ('obj'). Only the names matter to us: co_filename is rewritten by
// --map-path; everything else is copied field by field.
import type { PyVersion } from './magic.js';

export interface CodeField {
  readonly name: string;
  readonly kind: 'u32' | 'obj';
}

const u = (name: string): CodeField => ({ name, kind: 'u32' });
const o = (name: string): CodeField => ({ name, kind: 'obj' });

/** 3.6 and 3.7. */
const PY36: readonly CodeField[] = [
  u('argcount'), u('kwonlyargcount'), u('nlocals'), u('stacksize'), u('flags'),
  o('code'), o('consts'), o('names'), o('varnames'), o('freevars'), o('cellvars'),
  o('filename'), o('name'), u('firstlineno'), o('lnotab'),
];

/** 3.8 to 3.10: co_posonlyargcount (PEP 570); 3.10 renames lnotab to linetable (same slot). */
const PY38: readonly CodeField[] = [
  u('argcount'), u('posonlyargcount'), u('kwonlyargcount'), u('nlocals'), u('stacksize'), u('flags'),
  o('code'), o('consts'), o('names'), o('varnames'), o('freevars'), o('cellvars'),
  o('filename'), o('name'), u('firstlineno'), o('linetable'),
];

/** 3.11 to 3.14: no nlocals; localsplusnames/kinds, qualname, exceptiontable. */
const PY311: readonly CodeField[] = [
  u('argcount'), u('posonlyargcount'), u('kwonlyargcount'), u('stacksize'), u('flags'),
  o('code'), o('consts'), o('names'), o('localsplusnames'), o('localspluskinds'),
  o('filename'), o('name'), o('qualname'), u('firstlineno'), o('linetable'), o('exceptiontable'),
];

export interface CodeLayout {
  readonly fields: readonly CodeField[];
  /** Number of u32 fields and of object fields. */
  readonly u32Count: number;
  readonly objCount: number;
  /** Index of co_filename among the object fields. */
  readonly filenameObj: number;
}

function layout(fields: readonly CodeField[]): CodeLayout {
  const objs = fields.filter((f) => f.kind === 'obj');
  return {
    fields,
    u32Count: fields.length - objs.length,
    objCount: objs.length,
    filenameObj: objs.findIndex((f) => f.name === 'filename'),
  };
}

const L36 = layout(PY36);
const L38 = layout(PY38);
const L311 = layout(PY311);

export function codeLayout(v: PyVersion): CodeLayout {
  if (v.major !== 3 || v.minor < 6) throw new RangeError(`no code layout for Python ${v.major}.${v.minor}`);
  if (v.minor < 8) return L36;
  if (v.minor < 11) return L38;
  return L311;
}
