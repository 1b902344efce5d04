/**
 * The MapReduce word count's pieces: the map function the executor runs
 * (one file in, its word counts out), the reduce step the driver runs, and a
 * reproducible corpus generator.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Map: the words of one file (lower case, letters only) and how often each occurs. */
export function countWords(path: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const word of readFileSync(path, "utf8").toLowerCase().split(/[^a-z]+/)) {
    if (word !== "") counts.set(word, (counts.get(word) ?? 0) + 1);
  }
  return counts;
}

/** Reduce: adds `part` into `total`. */
export function mergeCounts(total: Map<string, number>, part: Map<string, number>): void {
  for (const [word, n] of part) total.set(word, (total.get(word) ?? 0) + n);
}

/** The `n` most frequent words, ties broken alphabetically (so every run prints the same list). */
export function topWords(counts: Map<string, number>, n = 20): Array<[string, number]> {
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).slice(0, n);
}

// mulberry32: a small seeded generator, so a seed always gives the same corpus.
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Writes `files` text files of about `megabytes / files` MB each into `dir`:
 * words of a made-up vocabulary drawn with Zipf's law (a few very common
 * words, a long tail), lines of 12 words. The same options give the same
 * bytes. Returns the file paths.
 */
export function generateCorpus(dir: string, options: { megabytes: number; files?: number; seed?: number }): string[] {
  const files = options.files ?? Math.max(1, Math.round(options.megabytes / 4));
  const next = random(options.seed ?? 42);
  const syllables = ["ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "be", "do", "fa", "gu", "ji", "po", "que", "ze", "an", "el", "or", "us"];
  const vocabulary = new Set<string>();
  while (vocabulary.size < 5000) {
    let word = "";
    for (let i = 1 + Math.floor(next() * 4); i > 0; i--) word += syllables[Math.floor(next() * syllables.length)];
    vocabulary.add(word);
  }
  const words = [...vocabulary];
  const cumulative: number[] = [];
  let sum = 0;
  for (let rank = 1; rank <= words.length; rank++) cumulative.push((sum += 1 / rank ** 1.07));
  const pick = (): string => {
    const x = next() * sum;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return words[lo]!;
  };
  mkdirSync(dir, { recursive: true });
  const bytesPerFile = Math.ceil((options.megabytes * 1024 * 1024) / files);
  const paths: string[] = [];
  for (let f = 0; f < files; f++) {
    const lines: string[] = [];
    let size = 0;
    while (size < bytesPerFile) {
      const line = Array.from({ length: 12 }, pick).join(" ") + "\n";
      lines.push(line);
      size += line.length;
    }
    const path = join(dir, `part-${String(f).padStart(4, "0")}.txt`);
    writeFileSync(path, lines.join(""));
    paths.push(path);
  }
  return paths;
}
