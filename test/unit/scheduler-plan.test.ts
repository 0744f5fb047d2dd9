import { describe, expect, it } from 'vitest';
import { assignStages, planStages } from '../../src/scheduler/plan.ts';

const at = new Date('2026-12-01T03:00:00Z');

describe('stage planning', () => {
  it('splits cumulative percentages, rounding up, dropping empty stages', () => {
    expect(planStages(1000, [1, 10, 100], at, 3600).map((s) => s.size)).toEqual([10, 90, 900]);
    // 1% of 20 rounds up to 1; 10% of 20 is 2, so the second stage holds 1.
    expect(planStages(20, [1, 10, 100], at, 0).map((s) => s.size)).toEqual([1, 1, 18]);
    // With 1 target the first stage takes it; the others would be empty and are dropped.
    expect(planStages(1, [1, 10, 100], at, 60)).toEqual([{ index: 0, size: 1, scheduledAt: at }]);
  });

  it('spaces stages by the interval from runAt', () => {
    expect(planStages(100, [50, 100], at, 1800).map((s) => s.scheduledAt.toISOString())).toEqual([
      '2026-12-01T03:00:00.000Z',
      '2026-12-01T03:30:00.000Z',
    ]);
  });

  it('assigns instances in an order fixed by the action id', async () => {
    const instances = Array.from({ length: 50 }, (_, i) => ({ instanceId: `i-${i}` }));
    const first = await assignStages('action-a', instances);
    expect(await assignStages('action-a', [...instances].reverse())).toEqual(first);
    expect([...first].sort((a, b) => a.instanceId.localeCompare(b.instanceId))).toEqual(
      [...instances].sort((a, b) => a.instanceId.localeCompare(b.instanceId)),
    );
    expect(await assignStages('action-b', instances)).not.toEqual(first);
  });
});
