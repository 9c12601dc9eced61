// The optional header CheckSum (Microsoft "PE Format", "Optional Header Windows-Specific
// Fields"; the algorithm of imagehlp's CheckSumMappedFile, which GNU ld and link.exe use): the
// 16-bit one's complement sum of the file's little-endian words, the CheckSum field itself
// counted as zero and an odd last byte as a word of its own, folded to 16 bits, plus the file
// length. Streaming, so an image held as pieces is summed without assembling it.

/** Typed-array words are little-endian here (x86, ARM); on a big-endian host bytes are read one by one. */
const LITTLE = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

export class PeChecksum {
  private sum = 0;
  private pos = 0;
  /** A byte waiting for its high half (pieces of odd length). */
  private pending = -1;

  /** `checksumAt`: file offset of the CheckSum field, whose 4 bytes count as zero. */
  constructor(private readonly checksumAt: number) {}

  update(chunk: Uint8Array): void {
    let i = 0;
    const n = chunk.length;
    const byteAt = (k: number) => {
      const off = this.pos + k;
      return off >= this.checksumAt && off < this.checksumAt + 4 ? 0 : chunk[k]!;
    };
    if (this.pending >= 0 && n > 0) {
      this.sum += this.pending | (byteAt(0) << 8);
      this.pending = -1;
      i = 1;
    }
    // The sum of up to 2^37 words of 16 bits stays an exact double; it is folded at the end.
    const start = this.pos + i;
    const end = this.pos + n;
    const cs = this.checksumAt;
    const clean = cs + 4 <= start || cs >= end;
    if (clean) {
      let s = 0;
      const at = chunk.byteOffset + i;
      const words = (n - i) >>> 1;
      if (LITTLE && at % 2 === 0 && words > 0) {
        const w = new Uint16Array(chunk.buffer, at, words);
        for (let k = 0; k < words; k++) s += w[k]!;
        i += 2 * words;
      } else for (; i + 1 < n; i += 2) s += chunk[i]! | (chunk[i + 1]! << 8);
      this.sum += s;
    } else {
      for (; i + 1 < n; i += 2) this.sum += byteAt(i) | (byteAt(i + 1) << 8);
    }
    if (i < n) this.pending = byteAt(i);
    this.pos += n;
  }

  digest(): number {
    let s = this.sum + (this.pending >= 0 ? this.pending : 0);
    while (s > 0xffff) s = (s % 0x10000) + Math.floor(s / 0x10000);
    return (s + this.pos) >>> 0;
  }
}
