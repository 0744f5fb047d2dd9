import { startTestServer } from '../helpers/postgres.ts';
import { throughputRig } from './throughput-rig.ts';

const server = await startTestServer();
const rig = await throughputRig(server.adminUrl, { flyTimeScale: '0.001' });
const fleet = await rig.seedFleet(1000);
const t0 = Date.now();
const res = await rig.callApi('POST', '/scheduled-actions', {
  actionType: 'restart',
  instances: { ids: fleet },
  runAt: 'now',
  reason: 'x',
  maxInFlight: 1000,
});
console.error('scheduled', res.status, Date.now() - t0);
for (let i = 0; i < 300; i++) {
  const r = await rig.watch.query(
    `select status, count(*)::int n from scheduled_action_targets group by status`,
  );
  const o = await rig.watch.query(
    `select status, step, (lease_until is not null) held, count(*)::int n from instance_operations group by 1,2,3`,
  );
  console.error(
    Date.now() - t0,
    JSON.stringify(r.rows.map((x: any) => x.status + ':' + x.n)),
    JSON.stringify(o.rows.map((x: any) => `${x.status}/${x.step}/${x.held}:${x.n}`)),
  );
  if (r.rows.every((x: any) => x.status !== 'pending' && x.status !== 'running')) break;
  await new Promise((r) => setTimeout(r, 1000));
}
await rig.close();
await server.stop();
