import { describe, expect, it } from 'vitest';
import type { Machine } from '../../src/adapters/fly/types.ts';
import { divergenceOf } from '../../src/recovery/divergence.ts';
import { stepBackoffMs } from '../../src/recovery/model.ts';

const instance = {
  id: 'i',
  name: 'n',
  status: 'running',
  machineId: 'm1',
  imageTag: 'img:1',
  busyWithOperation: false,
};
const machine = (over: Partial<Machine>): Machine =>
  ({
    id: 'm1',
    name: 'n',
    state: 'started',
    region: 'ams',
    instance_id: 'v1',
    created_at: '',
    updated_at: '',
    host_status: 'ok',
    config: { image: 'img:1' },
    ...over,
  }) as Machine;

describe('divergenceOf', () => {
  it('a running instance whose machine is stopped, failed, destroyed or missing is down', () => {
    expect(divergenceOf(instance, machine({ state: 'stopped' }))).toMatchObject({
      kind: 'down',
      cause: 'machine_stopped',
    });
    expect(divergenceOf(instance, machine({ state: 'failed' }))).toMatchObject({
      cause: 'machine_failed',
    });
    expect(divergenceOf(instance, machine({ state: 'destroyed' }))).toMatchObject({
      cause: 'machine_destroyed',
    });
    expect(divergenceOf(instance, undefined)).toMatchObject({ cause: 'machine_missing' });
    expect(
      divergenceOf(instance, machine({ state: 'stopped', host_status: 'unreachable' })),
    ).toMatchObject({ cause: 'host_unreachable', hostStatus: 'unreachable' });
  });

  it('a started machine on an unreachable host waits for the threshold', () => {
    expect(divergenceOf(instance, machine({ host_status: 'unreachable' }))).toMatchObject({
      kind: 'unreachable',
    });
  });

  it('an action in flight, a healthy machine or a stopped pair is left alone', () => {
    expect(divergenceOf({ ...instance, busyWithOperation: true }, undefined)).toBeNull();
    expect(divergenceOf(instance, machine({}))).toBeNull();
    expect(
      divergenceOf({ ...instance, status: 'stopped' }, machine({ state: 'stopped' })),
    ).toBeNull();
  });

  it('records another image, and a stopped instance whose machine runs', () => {
    expect(divergenceOf(instance, machine({ config: { image: 'img:2' } }))).toMatchObject({
      kind: 'image_mismatch',
    });
    expect(divergenceOf({ ...instance, status: 'stopped' }, machine({}))).toMatchObject({
      kind: 'running_while_stopped',
    });
  });
});

describe('stepBackoffMs', () => {
  it('doubles from 2 s and stops at 1 min', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 10].map(stepBackoffMs)).toEqual([
      2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000,
    ]);
  });
});
