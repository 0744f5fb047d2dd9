import { and, eq } from 'drizzle-orm';
import { agents } from '../../db/schema/index.ts';
import { DEPROVISION_REASON, type DeprovisionListener } from '../deprovision/listeners.ts';
import { setAgentEnabled } from './agents.ts';
import { endLiveSessions } from './machine-lost.ts';

/**
 * An instance is being deprovisioned (docs/seams.md): while its machine still exists, its
 * agents are disabled (paused, audited as the deprovision's; a `buffered` fire becomes
 * `skipped` `agent_disabled`), so no fire starts a session on it; once the machine is
 * destroyed, its live sessions end `failed` `machine_lost` with the reason. Idempotent.
 */
export const agentsOnDeprovision: DeprovisionListener = async (ctx, event) => {
  if (event.phase === 'ending_work') {
    const enabled = await ctx.db
      .select({ id: agents.id })
      .from(agents)
      .where(and(eq(agents.instanceId, event.instanceId), eq(agents.enabled, true)));
    for (const a of enabled)
      await setAgentEnabled({ ctx, id: a.id, instanceId: event.instanceId, enabled: false });
    return;
  }
  const ended = await endLiveSessions(
    ctx,
    event.instanceId,
    `the session ended with its machine: ${DEPROVISION_REASON} and its machine ${event.machineId ?? '-'} was destroyed`,
  );
  if (ended) ctx.log.info('agent_session.deprovisioned', { instanceId: event.instanceId, ended });
};
