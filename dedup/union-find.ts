/**
 * Disjoint sets over dense integer ids 0..n-1 (path halving + union by size), in typed arrays
 * so a partition of tens of millions of nodes costs 8 bytes per node.
 */
export class UnionFind {
  private parent: Int32Array;
  private size: Int32Array;
  private n = 0;

  constructor(capacity = 1024) {
    this.parent = new Int32Array(capacity);
    this.size = new Int32Array(capacity);
  }

  get count(): number {
    return this.n;
  }

  /** Adds a singleton and returns its id. */
  add(): number {
    if (this.n === this.parent.length) {
      const grow = (a: Int32Array): Int32Array => {
        const b = new Int32Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.parent = grow(this.parent);
      this.size = grow(this.size);
    }
    const id = this.n++;
    this.parent[id] = id;
    this.size[id] = 1;
    return id;
  }

  find(x: number): number {
    const p = this.parent;
    while (p[x] !== x) {
      p[x] = p[p[x]!]!;
      x = p[x]!;
    }
    return x;
  }

  /** Returns false when a and b were already in one set. */
  union(a: number, b: number): boolean {
    let ra = this.find(a);
    let rb = this.find(b);
    if (ra === rb) return false;
    if (this.size[ra]! < this.size[rb]!) [ra, rb] = [rb, ra];
    this.parent[rb] = ra;
    this.size[ra]! += this.size[rb]!;
    return true;
  }
}

/** Union-find keyed by arbitrary numbers (e.g. packed document refs), ids assigned on first sight. */
export class KeyedUnionFind {
  readonly sets = new UnionFind();
  private readonly ids = new Map<number, number>();
  readonly keys: number[] = [];

  idOf(key: number): number {
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.sets.add();
      this.ids.set(key, id);
      this.keys.push(key);
    }
    return id;
  }

  connected(a: number, b: number): boolean {
    const ia = this.ids.get(a);
    const ib = this.ids.get(b);
    return ia !== undefined && ib !== undefined && this.sets.find(ia) === this.sets.find(ib);
  }

  union(a: number, b: number): boolean {
    return this.sets.union(this.idOf(a), this.idOf(b));
  }
}
