import { describe, expect, it } from "vitest";
import { mergeEpisodes, overlap } from "../../bench/stats.ts";

describe("overlap of slow samples with episodes", () => {
  const episodes: [number, number][] = [
    [100, 110],
    [500, 520],
  ];

  it.each([
    // [started at, latency, in flight during an episode]
    [90, 5, false], // ends before the first episode
    [90, 10, false], // ends exactly as it starts: touching is not overlapping
    [90, 11, true], // runs into it
    [105, 1, true], // inside it
    [110, 50, false], // starts exactly as it ends
    [95, 500, true], // spans both
    [200, 100, false], // between them
    [519, 100, true], // starts in the last one
    [600, 10, false], // after the last one
  ])("a sample from %d ms lasting %d ms overlaps: %s", (startedAt, latency, expected) => {
    const result = overlap([startedAt], [latency], episodes, 0);
    expect(result.all_overlapping_pct).toBe(expected ? 100 : 0);
  });

  it("counts the slow samples apart from all of them", () => {
    const started = [0, 95, 200, 300, 505];
    const latencies = [5, 30, 40, 5, 2];
    const result = overlap(started, latencies, episodes, 20);
    expect(result).toEqual({ slow: 2, slow_overlapping_pct: 50, all_overlapping_pct: 40 });
  });

  it("gives zeros when there is nothing to compare", () => {
    expect(overlap([], [], episodes, 20)).toEqual({
      slow: 0,
      slow_overlapping_pct: 0,
      all_overlapping_pct: 0,
    });
    expect(overlap([1], [30], [], 20)).toEqual({ slow: 1, slow_overlapping_pct: 0, all_overlapping_pct: 0 });
  });
});

describe("merging intervals into episodes", () => {
  it.each([
    [[], []],
    [[[1, 2]], [[1, 2]]],
    [
      [
        [5, 8],
        [1, 3],
        [2, 4],
      ],
      [
        [1, 4],
        [5, 8],
      ],
    ],
    [
      [
        [1, 3],
        [3, 5],
      ],
      [[1, 5]],
    ],
    [
      [
        [1, 10],
        [2, 3],
      ],
      [[1, 10]],
    ],
  ] as [number, number][][][])("%j becomes %j", (intervals, episodes) => {
    expect(mergeEpisodes(intervals as [number, number][])).toEqual(episodes);
  });

  it("leaves its input as it was", () => {
    const intervals: [number, number][] = [
      [5, 8],
      [1, 6],
    ];
    mergeEpisodes(intervals);
    expect(intervals).toEqual([
      [5, 8],
      [1, 6],
    ]);
  });
});
