import { isAlias, isCollection, isPair, type Alias, type Node } from 'yaml';

interface AnchorCount {
  count: number;
  weight: number;
}

/**
 * The alias at which the `yaml` package's `maxAliasCount` check fails while converting a document
 * (its error names no position), found by redoing its count: each anchored node counts 1, and
 * every alias to it 1 more; the first time an anchor is aliased its weight is fixed as the largest
 * count × weight among the aliases inside it (1 when there are none, 0 when it is empty); the check
 * fails when count × weight exceeds `maxAliasCount`. A merge key (`<<: *name`) makes the package
 * count the aliases inside the merged mapping once more per merge; those repeats are not redone
 * here, so for such a document the answer may be a later alias (the last one when no earlier fails).
 */
export function excessiveAlias(
  aliases: readonly Alias[],
  aliasTargets: ReadonlyMap<Alias, Node>,
  maxAliasCount: number,
): Alias | undefined {
  const counts = new Map<Node, AnchorCount>();
  const weightOf = (node: unknown): number => {
    if (isAlias(node)) {
      const target = aliasTargets.get(node);
      const anchor = target && counts.get(target);
      return anchor ? anchor.count * anchor.weight : 0;
    }
    if (isCollection(node)) return node.items.reduce<number>((largest, item) => Math.max(largest, weightOf(item)), 0);
    if (isPair(node)) return Math.max(weightOf(node.key), weightOf(node.value));
    return 1;
  };
  for (const alias of aliases) {
    const target = aliasTargets.get(alias);
    if (!target) continue;
    let anchor = counts.get(target);
    if (!anchor) counts.set(target, (anchor = { count: 1, weight: 0 }));
    anchor.count += 1;
    if (anchor.weight === 0) anchor.weight = weightOf(target);
    if (anchor.count * anchor.weight > maxAliasCount) return alias;
  }
  return aliases.at(-1);
}
