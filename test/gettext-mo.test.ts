// gettext .mo: catalogs compiled by the real msgfmt at different dates converge, and equal what
// msgfmt itself writes for a .po carrying T; msgunfmt reads every output; bad offsets are
// rejected cleanly.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { gettextMoHandler, rewriteHeaderEntry } from '../formats/gettext-mo.js';
import { defaultOptions } from '../src/options.js';
import { haveTool, norm, run, tempDir } from './helpers.js';
import { direct, expectCleanOutcome } from './misc-formats-helpers.js';

const T = 1423159771; // 2015-02-05 18:09+0000

function po(revision: string | undefined, potDate?: string, sysdep = false): string {
  return [
    'msgid ""',
    'msgstr ""',
    '"Project-Id-Version: hello 1.0\\n"',
    ...(potDate ? [`"POT-Creation-Date: ${potDate}\\n"`] : []),
    ...(revision ? [`"PO-Revision-Date: ${revision}\\n"`] : []),
    '"Last-Translator: A <a@example.org>\\n"',
    '"Language: de\\n"',
    '"MIME-Version: 1.0\\n"',
    '"Content-Type: text/plain; charset=UTF-8\\n"',
    '"Content-Transfer-Encoding: 8bit\\n"',
    '"Plural-Forms: nplurals=2; plural=(n != 1);\\n"',
    '',
    ...Array.from({ length: 40 }, (_, i) => [`msgid "message ${i}"`, `msgstr "Nachricht ${i} – äöü"`, '']).flat(),
    'msgctxt "menu"',
    'msgid "File"',
    'msgstr "Datei"',
    '',
    'msgid "one file"',
    'msgid_plural "%d files"',
    'msgstr[0] "eine Datei"',
    'msgstr[1] "%d Dateien"',
    '',
    ...(sysdep ? ['#, c-format', 'msgid "%<PRIu64> bytes"', 'msgstr "%<PRIu64> Bytes"', ''] : []),
  ].join('\n');
}

const hasMsgfmt = haveTool('msgfmt') && haveTool('msgunfmt');

function msgfmt(text: string, extra: string[] = []): Buffer {
  const { dir, cleanup } = tempDir();
  try {
    writeFileSync(join(dir, 'x.po'), text);
    run('msgfmt', [...extra, '-o', join(dir, 'x.mo'), join(dir, 'x.po')]);
    return readFileSync(join(dir, 'x.mo'));
  } finally {
    cleanup();
  }
}
function msgunfmt(mo: Uint8Array): string {
  const { dir, cleanup } = tempDir();
  try {
    writeFileSync(join(dir, 'x.mo'), mo);
    return run('msgunfmt', [join(dir, 'x.mo')]).toString();
  } finally {
    cleanup();
  }
}

describe.runIf(hasMsgfmt)('catalogs compiled by msgfmt at different dates', () => {
  for (const endianness of ['little', 'big']) {
    it(`${endianness}-endian: converge, and equal msgfmt's own output for a .po dated T`, async () => {
      const e = [`--endianness=${endianness}`];
      const a = msgfmt(po('2021-03-05 07:08+0100'), e);
      const b = msgfmt(po('2024-11-30 23:59+0000'), e);
      expect(a.equals(b)).toBe(false);
      const ra = await norm(a, 'de.mo', { timestamp: T });
      const rb = await norm(b, 'de.mo', { timestamp: T });
      expect(ra.status).toBe('changed');
      expect(Buffer.from(ra.output).equals(rb.output)).toBe(true);
      expect(Buffer.from(ra.output).equals(msgfmt(po('2015-02-05 18:09+0000'), e))).toBe(true);
      expect(msgunfmt(ra.output)).toBe(msgunfmt(a).replace('2021-03-05 07:08+0100', '2015-02-05 18:09+0000'));
      expect((await norm(ra.output, 'de.mo', { timestamp: T })).status).toBe('unchanged');
    });
  }
  it('a date of another length (with seconds): offsets moved, still equal to msgfmt with T', async () => {
    const a = msgfmt(po('2021-03-05 07:08:09+0100'));
    const r = await norm(a, 'de.gmo', { timestamp: T });
    expect(r.changes.map((c) => c.what)).toEqual(['PO-Revision-Date -> 2015-02-05 18:09+0000', 'strings after the header entry moved by -3 bytes']);
    expect(Buffer.from(r.output).equals(msgfmt(po('2015-02-05 18:09+0000')))).toBe(true);
    expect(msgunfmt(r.output)).toBe(msgunfmt(a).replace('2021-03-05 07:08:09+0100', '2015-02-05 18:09+0000'));
  });
  it('POT-Creation-Date too, when the writer kept it (msgfmt 0.20+ drops it: strip-nondeterminism’s layout)', async () => {
    // Build the header by hand so that POT-Creation-Date survives: rewriteHeaderEntry is what
    // normalize applies to the header entry.
    const entry = 'Project-Id-Version: x\nPOT-Creation-Date: 2021-03-04 05:06+0100\nPO-Revision-Date: YEAR-MO-DA HO:MI+ZONE\n';
    const r = rewriteHeaderEntry(entry, defaultOptions({ timestamp: T }));
    expect(r.text).toBe('Project-Id-Version: x\nPOT-Creation-Date: 2015-02-05 18:09+0000\nPO-Revision-Date: YEAR-MO-DA HO:MI+ZONE\n');
  });
  it('without T the date lines are removed: equal to msgfmt of a .po without them', async () => {
    const r = await norm(msgfmt(po('2021-03-05 07:08:09+0100')), 'de.mo');
    expect(r.changes[0]!.what).toBe('PO-Revision-Date removed');
    expect(Buffer.from(r.output).equals(msgfmt(po(undefined)))).toBe(true);
  });
  it('clamp: an earlier date stays as written, a later one becomes T', async () => {
    const early = msgfmt(po('2011-03-05 07:08:09+0100'));
    expect((await norm(early, 'de.mo', { timestamp: T, clamp: true })).status).toBe('unchanged');
    const late = await norm(msgfmt(po('2021-03-05 07:08+0100')), 'de.mo', { timestamp: T, clamp: true });
    expect(msgunfmt(late.output)).toContain('PO-Revision-Date: 2015-02-05 18:09+0000');
  });
  it('a template placeholder date is not a date: left alone', async () => {
    expect((await norm(msgfmt(po('YEAR-MO-DA HO:MI+ZONE')), 'de.mo', { timestamp: T })).status).toBe('unchanged');
  });
  it('system-dependent strings (revision 1): same-length edits done, length changes refused', async () => {
    const same = await norm(msgfmt(po('2021-03-05 07:08+0100', undefined, true)), 'de.mo', { timestamp: T });
    expect(same.status).toBe('changed');
    expect(msgunfmt(same.output)).toContain('PO-Revision-Date: 2015-02-05 18:09+0000');
    const other = await norm(msgfmt(po('2021-03-05 07:08:09+0100', undefined, true)), 'de.mo', { timestamp: T });
    expect(other.status).toBe('untouched');
    expect(other.reason).toContain('system-dependent');
  });
});

describe.runIf(hasMsgfmt)('bad input: FormatError, never a crash', () => {
  const good = () => msgfmt(po('2021-03-05 07:08:09+0100'));
  const le32 = (b: Buffer, at: number, v: number) => b.writeUInt32LE(v, at);
  it('string offsets outside the file', async () => {
    const b = Buffer.from(good());
    le32(b, b.readUInt32LE(16) + 4, 0xfffffff0); // first translation's offset
    const r = await norm(b, 'x.mo', { timestamp: T });
    expect(r.status).toBe('error');
    expect(r.reason).toMatch(/translation string 0 .* lies outside the file/);
  });
  it('tables outside the file, huge counts, truncated header', async () => {
    const b = Buffer.from(good());
    le32(b, 8, 0x7fffffff);
    expect((await norm(b, 'x.mo', { timestamp: T })).reason).toContain('lie outside the file');
    expect((await norm(good().subarray(0, 20), 'x.mo', { timestamp: T })).reason).toContain('truncated .mo header');
    const c = Buffer.from(good());
    le32(c, 4, 0x20000);
    expect((await norm(c, 'x.mo', { timestamp: T })).reason).toContain('unsupported .mo revision 2.0');
  });
  it('random truncations and byte flips give a result or a FormatError', async () => {
    const g = good();
    await fc.assert(
      fc.asyncProperty(fc.nat(g.length), fc.array(fc.tuple(fc.nat(g.length - 1), fc.nat(255)), { maxLength: 4 }), async (cut, flips) => {
        const b = Buffer.from(g.subarray(0, Math.max(4, cut)));
        for (const [at, v] of flips) if (at >= 4 && at < b.length) b[at] = v;
        await expectCleanOutcome(gettextMoHandler, b, { timestamp: T });
      }),
      { numRuns: 300, seed: 7 },
    );
  });
  it('a .mo named file that is not a catalog is reported', async () => {
    const r = await direct(gettextMoHandler, Buffer.from('not a catalog at all, really not')).catch((e: Error) => e);
    expect((r as Error).message).toContain('bad magic');
  });
});
