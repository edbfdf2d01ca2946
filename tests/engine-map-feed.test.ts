/**
 * The hand-off between a process task and the next global stage's map (pipeline/engine/map-feed.ts):
 * batches arrive in order, one in flight at a time, and a consumer's end or failure reaches the producer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startFeed } from '../pipeline/engine/map-feed.ts';

test('every item reaches the consumer in order, and end waits for the consumer to return', async () => {
  const seen: number[] = [];
  let returned = false;
  const feed = startFeed<number>(async (items) => {
    for await (const x of items) seen.push(x);
    await new Promise((r) => setTimeout(r, 5));
    returned = true;
  });
  await feed.push([1, 2, 3]);
  await feed.push([]);
  await feed.push([4]);
  await feed.end();
  assert.deepEqual(seen, [1, 2, 3, 4]);
  assert.equal(returned, true);
});

test('push resolves only once the consumer has taken the whole batch', async () => {
  const log: string[] = [];
  const feed = startFeed<string>(async (items) => {
    for await (const x of items) {
      await new Promise((r) => setTimeout(r, 2));
      log.push(`took ${x}`);
    }
  });
  await feed.push(['a', 'b']);
  log.push('pushed a,b');
  await feed.push(['c']);
  log.push('pushed c');
  await feed.end();
  assert.deepEqual(log, ['took a', 'took b', 'pushed a,b', 'took c', 'pushed c']);
});

test('a consumer that returns early does not hold the producer up', async () => {
  const seen: number[] = [];
  const feed = startFeed<number>(async (items) => {
    for await (const x of items) {
      seen.push(x);
      if (x === 2) return;
    }
  });
  await feed.push([1, 2, 3]);
  await feed.push([4, 5]);
  await feed.end();
  assert.deepEqual(seen, [1, 2]);
});

test("the consumer's error is thrown by the next push or by end", async () => {
  const feed = startFeed<number>(async (items) => {
    for await (const x of items) if (x === 2) throw new Error('map failed on 2');
  });
  await assert.rejects(feed.push([1, 2]), /map failed on 2/);
  await assert.rejects(feed.end(), /map failed on 2/);
});

test('abort ends the stream the consumer reads', async () => {
  let ended = false;
  const feed = startFeed<number>(async (items) => {
    for await (const _ of items);
    ended = true;
  });
  await feed.push([1]);
  feed.abort(new Error('task failed'));
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(ended, true);
  await assert.rejects(feed.end(), /task failed/);
});
