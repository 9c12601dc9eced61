import { describe, expect, it } from 'vitest';
import { ComparingSink, Engine, MemorySpill, normalizeBytes, selectHandler } from '../src/engine.js';
import { BufferSink, BufferSource } from '../src/io.js';
import { defaultOptions } from '../src/options.js';
import { DEFAULT_LIMITS } from '../src/types.js';
import { fakeHandler } from './fake-handler.js';

const opts = defaultOptions({ formats: ['fake'] });
const fake = (counter: number, payload: Uint8Array | string = 'data') => Buffer.concat([Buffer.from('FAKE'), Buffer.of(counter), Buffer.from(payload)]);

describe('output is decided by bytes: an unchanged artifact is never written', () => {
  it('writes nothing when the handler reproduces the input', async () => {
    let opened = 0;
    const engine = new Engine({ options: opts, handlers: [fakeHandler], spill: () => new MemorySpill() });
    const r = await engine.normalize(new BufferSource(fake(0)), 'x', 'x', 0, async () => {
      opened++;
      return new BufferSink();
    });
    expect(r.status).toBe('unchanged');
    expect(opened).toBe(0);
  });
  it('writes the whole output when a byte differs, copying the identical prefix', async () => {
    const r = await normalizeBytes(fake(7), 'x', opts, [fakeHandler]);
    expect(r.status).toBe('changed');
    expect(Buffer.from(r.output)).toEqual(fake(0));
    expect(r.changes[0]!.what).toBe('counter 7 -> 0');
  });
  it('ComparingSink: output shorter than the input counts as a change', async () => {
    const out = new BufferSink();
    const s = new ComparingSink(new BufferSource(Buffer.from('abcdef')), async () => out);
    await s.write(Buffer.from('abc'));
    expect(await s.finish()).toBe(false);
    expect(Buffer.from(out.bytes()).toString()).toBe('abc');
  });
  it('ComparingSink: output longer than the input counts as a change', async () => {
    const out = new BufferSink();
    const s = new ComparingSink(new BufferSource(Buffer.from('abc')), async () => out);
    await s.write(Buffer.from('abc'));
    await s.write(Buffer.from('def'));
    expect(await s.finish()).toBe(false);
    expect(Buffer.from(out.bytes()).toString()).toBe('abcdef');
  });
});

describe('detection: content first, extension only as a claim', () => {
  const probe = (head: string, name: string) => ({ name, size: head.length, head: Buffer.from(head), tail: Buffer.from(head) });
  it('content match wins whatever the name', () => expect(selectHandler(probe('FAKE\0', 'a.txt'), [fakeHandler], ['fake'])?.name).toBe('fake'));
  it('an extension claims a file whose content does not match', () => expect(selectHandler(probe('nope', 'a.fake'), [fakeHandler], ['fake'])?.name).toBe('fake'));
  it('nothing matches: ignored', () => expect(selectHandler(probe('nope', 'a.txt'), [fakeHandler], ['fake'])).toBeUndefined());
  it('a disabled handler is not used', () => expect(selectHandler(probe('FAKE\0', 'a.fake'), [fakeHandler], [])).toBeUndefined());
  it('a claimed file with bad content is an error, left as it was', async () => {
    const r = await normalizeBytes(Buffer.from('nope'), 'a.fake', opts, [fakeHandler]);
    expect(r.status).toBe('error');
    expect(r.reason).toBe('bad magic');
    expect(Buffer.from(r.output).toString()).toBe('nope');
  });
});

describe('nesting: members go through the dispatcher', () => {
  it('normalizes inside out and names the member in changes', async () => {
    const r = await normalizeBytes(fake(3, fake(9)), 'outer.fake', opts, [fakeHandler]);
    expect(Buffer.from(r.output)).toEqual(fake(0, fake(0)));
    expect(r.changes.map((c) => c.member ?? '')).toEqual(['', 'inner.fake']);
  });
  it('a member that fails is kept as it was and reported as a notice', async () => {
    const r = await normalizeBytes(fake(3, fake(0xff)), 'outer.fake', opts, [fakeHandler]);
    expect(r.status).toBe('changed');
    expect(Buffer.from(r.output)).toEqual(fake(0, fake(0xff)));
    expect(r.notices.join('\n')).toContain('counter 255 is invalid');
  });
  it('nesting deeper than the limit stops with a notice, not a crash', async () => {
    let x: Buffer = fake(1);
    for (let i = 0; i < 20; i++) x = fake(1, x);
    const r = await normalizeBytes(x, 'deep.fake', defaultOptions({ formats: ['fake'], limits: { ...DEFAULT_LIMITS, maxDepth: 3 } }), [fakeHandler]);
    expect(r.status).toBe('changed');
    expect(r.notices.join('\n')).toMatch(/nesting deeper than 3/);
  });
});
