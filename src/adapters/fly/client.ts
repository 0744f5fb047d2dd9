import { FLY_APP_NAME, pathSegment, rejectingOnBadIds } from '../outside-ids.ts';
import type { FlyClient } from './api.ts';
import { createMachineReconciled, REQUEST_ID_KEY } from './create-machine.ts';
import { createVolumeReconciled, DELETED_VOLUME_STATES } from './create-volume.ts';
import { createTransport, type FlyClientOptions } from './http.ts';
import type { CreateAppRequest, CreateLeaseRequest, Volume } from './types.ts';

export type { FlyClient, LeaseOptions, ListMachinesOptions } from './api.ts';
export type { FlyClientOptions } from './http.ts';

// Every id is checked and encoded before it joins a path (../outside-ids.ts).
const app$ = (app: string) => pathSegment(app, 'Fly app name', FLY_APP_NAME);

/**
 * A {@link FlyClient} over HTTP. `baseUrl` is the origin (the client appends `/v1`); see
 * {@link FlyClientOptions} for retries and rate limiting.
 */
export function createFlyClient(options: FlyClientOptions): FlyClient {
  const t = createTransport(options);
  const machine = (app: string, id: string, rest = '') =>
    `/apps/${app$(app)}/machines/${pathSegment(id, 'Fly machine id')}${rest}`;
  const volume = (app: string, id: string, rest = '') =>
    `/apps/${app$(app)}/volumes/${pathSegment(id, 'Fly volume id')}${rest}`;

  const client: FlyClient = {
    getApp: (app) =>
      t.send({ method: 'GET', path: `/apps/${app$(app)}`, action: 'get_app', scope: app }),
    async createApp(app, opts = {}) {
      await t.send({
        method: 'POST',
        path: '/apps',
        body: { app_name: app, org_slug: opts.orgSlug ?? 'personal' } satisfies CreateAppRequest,
        action: 'create_app',
        scope: opts.orgSlug ?? 'personal',
      });
    },
    createMachine: (app, request) =>
      createMachineReconciled(
        t,
        (requestId) => client.listMachines(app, { metadata: { [REQUEST_ID_KEY]: requestId } }),
        app,
        request,
      ),
    getMachine: (app, id) =>
      t.send({ method: 'GET', path: machine(app, id), action: 'get_machine', scope: id }),
    listMachines(app, opts = {}) {
      const query = new URLSearchParams();
      if (opts.includeDeleted) query.set('include_deleted', 'true');
      if (opts.region) query.set('region', opts.region);
      if (opts.state?.length) query.set('state', opts.state.join(','));
      if (opts.summary) query.set('summary', 'true');
      for (const [k, v] of Object.entries(opts.metadata ?? {})) query.set(`metadata.${k}`, v);
      return t.send({
        method: 'GET',
        path: `/apps/${app$(app)}/machines`,
        query,
        action: 'list_machines',
        scope: app,
      });
    },
    updateMachine: (app, id, request, opts = {}) =>
      t.send({
        method: 'POST',
        path: machine(app, id),
        body: request,
        nonce: opts.nonce,
        action: 'update_machine',
        scope: id,
      }),
    startMachine: (app, id, opts = {}) =>
      t.send({
        method: 'POST',
        path: machine(app, id, '/start'),
        nonce: opts.nonce,
        action: 'start_machine',
        scope: id,
      }),
    async stopMachine(app, id, { nonce, signal, timeout } = {}) {
      const body = signal || timeout ? { signal, timeout } : undefined;
      await t.send({
        method: 'POST',
        path: machine(app, id, '/stop'),
        body,
        nonce,
        action: 'stop_machine',
        scope: id,
      });
    },
    async restartMachine(app, id, { nonce, signal, timeout, forceStop } = {}) {
      const query = new URLSearchParams();
      if (signal) query.set('signal', signal);
      if (timeout) query.set('timeout', timeout);
      if (forceStop !== undefined) query.set('force_stop', String(forceStop));
      await t.send({
        method: 'POST',
        path: machine(app, id, '/restart'),
        query,
        nonce,
        action: 'restart_machine',
        scope: id,
      });
    },
    async suspendMachine(app, id, opts = {}) {
      await t.send({
        method: 'POST',
        path: machine(app, id, '/suspend'),
        nonce: opts.nonce,
        action: 'suspend_machine',
        scope: id,
      });
    },
    async deleteMachine(app, id, { force, nonce } = {}) {
      const query = new URLSearchParams(force ? { force: 'true' } : {});
      await t.send({
        method: 'DELETE',
        path: machine(app, id),
        query,
        nonce,
        action: 'delete_machine',
        scope: id,
      });
    },
    waitMachine(app, id, { state, instanceId, timeoutSeconds = 60 }) {
      const query = new URLSearchParams({ state });
      if (instanceId) query.set('instance_id', instanceId);
      const seconds = Math.min(60, Math.max(1, Math.round(timeoutSeconds)));
      query.set('timeout', String(seconds));
      return t.send({
        method: 'GET',
        path: machine(app, id, '/wait'),
        query,
        action: 'wait',
        scope: id,
        extraTimeoutMs: seconds * 1000,
      });
    },
    acquireLease: (app, id, { ttlSeconds, description, nonce }) =>
      t.send({
        method: 'POST',
        path: machine(app, id, '/lease'),
        body: {
          ttl: ttlSeconds,
          ...(description === undefined ? {} : { description }),
        } satisfies CreateLeaseRequest,
        nonce,
        action: 'acquire_lease',
        scope: id,
      }),
    async releaseLease(app, id, nonce) {
      await t.send({
        method: 'DELETE',
        path: machine(app, id, '/lease'),
        nonce,
        action: 'release_lease',
        scope: id,
      });
    },
    listMachineEvents: (app, id) =>
      t.send({
        method: 'GET',
        path: machine(app, id, '/events'),
        action: 'list_events',
        scope: id,
      }),
    createVolume: (app, request, opts = {}) =>
      opts.nameIsUnique
        ? createVolumeReconciled(
            t,
            () => client.listVolumes(app, { includeDeleted: true }),
            app,
            request,
          )
        : t.send({
            method: 'POST',
            path: `/apps/${app$(app)}/volumes`,
            body: request,
            action: 'create_volume',
            scope: app,
          }),
    getVolume: (app, id) =>
      t.send({ method: 'GET', path: volume(app, id), action: 'get_volume', scope: id }),
    async listVolumes(app, opts = {}) {
      const all = await t.send<Volume[]>({
        method: 'GET',
        path: `/apps/${app$(app)}/volumes`,
        action: 'list_volumes',
        scope: app,
      });
      return opts.includeDeleted ? all : all.filter((v) => !DELETED_VOLUME_STATES.has(v.state));
    },
    deleteVolume: (app, id) =>
      t.send({ method: 'DELETE', path: volume(app, id), action: 'delete_volume', scope: id }),
    extendVolume: (app, id, sizeGb) =>
      t.send({
        method: 'PUT',
        path: volume(app, id, '/extend'),
        body: { size_gb: sizeGb },
        action: 'extend_volume',
        scope: id,
      }),
    listSnapshots: (app, id) =>
      t.send({
        method: 'GET',
        path: volume(app, id, '/snapshots'),
        action: 'list_snapshots',
        scope: id,
      }),
    async createSnapshot(app, id) {
      await t.send({
        method: 'POST',
        path: volume(app, id, '/snapshots'),
        action: 'create_snapshot',
        scope: id,
      });
    },
  };
  return rejectingOnBadIds(client);
}
