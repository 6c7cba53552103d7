import DataLoader from "dataloader";
import type { BerthContext } from "./context.js";

/**
 * A DataLoader per request for fields whose value may come prefetched with its parent (a pod
 * listed with its slots) or be loaded: keys asked for in the same tick are loaded in one batch,
 * and each key once per request. (Fields that are always loaded use Pothos `t.loadable`.)
 */
export function requestLoader<K, V>(batch: (keys: readonly K[], ctx: BerthContext) => Promise<V[]>, cacheKey: (key: K) => string = String): (ctx: BerthContext) => DataLoader<K, V, string> {
  const loaders = new WeakMap<object, DataLoader<K, V, string>>();
  return (ctx) => {
    let loader = loaders.get(ctx);
    if (!loader) loaders.set(ctx, (loader = new DataLoader<K, V, string>((keys) => batch(keys, ctx), { cacheKeyFn: cacheKey })));
    return loader;
  };
}
