/** Spelling suggestions for unknown names: "did you mean ...?". */

/** `; did you mean "x"?` when one candidate is an obvious misspelling of `name`. */
export function suggest(name: string, candidates: Iterable<string>): string | undefined {
  const closest = closestName(name, candidates);
  return closest ? `; did you mean "${closest}"?` : undefined;
}

/** The one candidate close enough to be an obvious misspelling of `name`, if any. */
export function closestName(name: string, candidates: Iterable<string>): string | undefined {
  const normal = (s: string) => s.toLowerCase().replace(/[-_]/g, '');
  const list = [...candidates];
  // Case and separators only (`memSize`, `mem-size` for `mem_size`).
  const same = list.find((c) => normal(c) === normal(name));
  if (same) return same;
  const limit = name.length <= 4 ? 1 : name.length <= 10 ? 2 : 3;
  let best: string | undefined;
  let bestDistance = Infinity;
  let tie = false;
  for (const candidate of list) {
    const d = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) [best, bestDistance, tie] = [candidate, d, false];
    else if (d === bestDistance) tie = true;
  }
  return best !== undefined && bestDistance <= limit && !tie ? best : undefined;
}

/** Edits from `a` to `b`, a swap of neighbours counting as one (`nmae` → `name`). */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}
