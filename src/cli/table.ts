/** C0 and C1 controls: a stored user agent must not move an operator's cursor or recolour a terminal. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/** A cell as it may be printed: every control character shown as '?'. */
export const printable = (cell: string) => cell.replace(CONTROL, '?');

/**
 * A plain-text table: a header row, then one row per item, columns padded with two spaces between
 * them (the last column is not padded, so lines carry no trailing spaces).
 */
export function formatTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
): string[] {
  const body = rows.map((r) => r.map(printable));
  const widths = headers.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(headers), ...body.map(line)];
}
