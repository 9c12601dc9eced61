// Java .properties: the peers' historical fixtures, files written by the JDK's own
// Properties.store in two time zones, members of a jar reached through the zip handler, and
// what must never be touched.
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { javaPropertiesHandler, removeDateLines } from '../formats/javaproperties.js';
import { haveTool, norm, PEER, run, tempDir } from './helpers.js';
import { direct } from './misc-formats-helpers.js';

const HIST = join(PEER, 'strip-nondeterminism/_historical/javaproperties');

describe('strip-nondeterminism historical fixtures', () => {
  // Same rule as theirs (drop the Date.toString() comment line of the leading block), so each
  // output is byte-equal to the peer's .out.
  for (const f of readdirSync(HIST).filter((n) => n.endsWith('.in')).sort()) {
    it(`${f}: byte-equal, idempotent`, async () => {
      const name = f.replace(/\.in$/, '');
      const r = await norm(readFileSync(join(HIST, f)), `META-INF/maven/g/a/${name}`, { timestamp: 1423159771 });
      expect(r.format).toBe('javaproperties');
      expect(Buffer.from(r.output).equals(readFileSync(join(HIST, `${name}.out`)))).toBe(true);
      expect((await norm(r.output, name)).status).toMatch(/ignored|unchanged/);
    });
  }
});

describe('only the date line of the leading comment block goes', () => {
  it('CRLF and CR line endings, ! comments, blank lines, zones like GMT+05:30', () => {
    const t = '#My comment\r\n!other\r\n\r\n#Tue May 22 16:35:53 GMT+05:30 2012\r\nkey=value\r\n#Tue May 22 16:35:53 UTC 2012\r\n';
    expect(removeDateLines(t)).toEqual({ text: '#My comment\r\n!other\r\n\r\nkey=value\r\n#Tue May 22 16:35:53 UTC 2012\r\n', removed: 1 });
    expect(removeDateLines('#Tue May 22 16:35:53 CEST 2012\ra=b\r').text).toBe('a=b\r');
  });
  it('a date inside a value, or a comment that only looks like one, stays', () => {
    for (const t of ['a=#Tue May 22 16:35:53 UTC 2012\n', '# Tue May 22 16:35:53 UTC 2012\n', '#Built on Tue May 22 16:35:53 UTC 2012\n', '#Tue May 22 2012\n']) {
      expect(removeDateLines(t)).toEqual({ text: t, removed: 0 });
    }
  });
  it('two date-shaped lines in the header: both go, so a second run has nothing to do', () => {
    const t = '#Mon Jan 01 00:00:00 UTC 2001\n#Tue May 22 16:35:53 UTC 2012\na=b\n';
    expect(removeDateLines(t)).toEqual({ text: 'a=b\n', removed: 2 });
  });
  it('detection needs the .properties name and the date line', async () => {
    const t = Buffer.from('#Tue May 22 16:35:53 UTC 2012\na=b\n');
    expect((await norm(t, 'x.txt')).status).toBe('ignored');
    expect((await norm(Buffer.from('a=b\n'), 'x.properties')).status).toBe('ignored');
    expect((await norm(t, 'X.PROPERTIES')).status).toBe('changed');
  });
  it('bytes that are not Latin-1 text pass through untouched', async () => {
    const t = Buffer.concat([Buffer.from('#Tue May 22 16:35:53 UTC 2012\n'), Buffer.from([0xc3, 0xa4, 0x3d, 0xff, 0x0a])]);
    const r = await direct(javaPropertiesHandler, t);
    expect(r.output.equals(t.subarray(30))).toBe(true);
  });
});

const STORE = `
import java.io.*; import java.util.*;
public class Store {
  public static void main(String[] a) throws Exception {
    String[] zones = { "UTC", "America/New_York" };
    for (int i = 0; i < 2; i++) {
      TimeZone.setDefault(TimeZone.getTimeZone(zones[i]));
      Properties p = new Properties();
      p.setProperty("build.number", "125"); p.setProperty("name", "d\\u00e9mo = x"); p.setProperty("path", "C:\\\\tmp");
      try (OutputStream o = new FileOutputStream(a[0] + "/" + i + ".properties")) { p.store(o, "Build Number for ANT. Do not edit!"); }
      Thread.sleep(1100);
    }
  }
}`;

describe.runIf(haveTool('java'))('files written by Properties.store', () => {
  it('two runs in two zones and two seconds converge; the JDK loads the same properties back', async () => {
    const { dir, cleanup } = tempDir();
    try {
      writeFileSync(join(dir, 'Store.java'), STORE);
      run('java', [join(dir, 'Store.java'), dir], { env: { JAVA_TOOL_OPTIONS: '' } });
      const a = readFileSync(join(dir, '0.properties'));
      const b = readFileSync(join(dir, '1.properties'));
      expect(a.equals(b)).toBe(false);
      const ra = await norm(a, 'version.properties');
      const rb = await norm(b, 'version.properties');
      expect(ra.status).toBe('changed');
      expect(Buffer.from(ra.output).equals(rb.output)).toBe(true);
      expect(Buffer.from(ra.output).toString('latin1').split('\n')[0]).toBe('#Build Number for ANT. Do not edit!');
      writeFileSync(join(dir, 'n.properties'), ra.output);
      const load = `import java.io.*; import java.util.*; public class Load { public static void main(String[] a) throws Exception {
        for (String f : a) { Properties p = new Properties(); try (InputStream i = new FileInputStream(f)) { p.load(i); } System.out.println(new TreeMap<>(p)); } } }`;
      writeFileSync(join(dir, 'Load.java'), load);
      const out = run('java', [join(dir, 'Load.java'), join(dir, '0.properties'), join(dir, 'n.properties')]).toString().trim().split('\n');
      expect(out[0]).toBe(out[1]);
      expect(out[0]).toContain('build.number=125');
    } finally {
      cleanup();
    }
  }, 30_000);
});

describe.runIf(haveTool('zip') && haveTool('unzip'))('inside a jar, through the zip handler', () => {
  it('META-INF/maven/.../pom.properties loses its date line; other members stay', async () => {
    const { dir, cleanup } = tempDir();
    try {
      mkdirSync(join(dir, 'META-INF/maven/g/a'), { recursive: true });
      writeFileSync(join(dir, 'META-INF/maven/g/a/pom.properties'), '#Generated by Maven\n#Mon Oct 27 09:12:51 UTC 2014\nversion=2.4\n');
      writeFileSync(join(dir, 'app.properties'), '#Mon Oct 27 09:12:51 UTC 2014\nkey=v\n');
      run('zip', ['-q', '-X', '-r', join(dir, 'a.jar'), 'META-INF', 'app.properties'], { cwd: dir });
      const r = await norm(readFileSync(join(dir, 'a.jar')), 'a.jar', { timestamp: 1423159771 });
      expect(r.status).toBe('changed');
      writeFileSync(join(dir, 'b.jar'), r.output);
      expect(run('unzip', ['-p', join(dir, 'b.jar'), 'META-INF/maven/g/a/pom.properties']).toString()).toBe('#Generated by Maven\nversion=2.4\n');
      expect(run('unzip', ['-p', join(dir, 'b.jar'), 'app.properties']).toString()).toBe('key=v\n');
      // Both members went through this handler (nested), not the zip handler's own fallback rule.
      const ours = r.changes.filter((c) => c.what === 'Properties.store date comment removed').map((c) => c.member);
      expect(ours.sort()).toEqual(['META-INF/maven/g/a/pom.properties', 'app.properties']);
    } finally {
      cleanup();
    }
  });
});
