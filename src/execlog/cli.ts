export async function runExeclog(_args: string[]): Promise<number> {
  process.stderr.write('detnorm execlog: not yet\n');
  return 2;
}
