import {
  authCheck,
  dnsCheck,
  modeCheck,
  reachableCheck,
  sentinelMasterCheck,
  tlsCheck,
} from './checks/connection-checks';
import { balanceCheck } from './checks/balance-check';
import { capacityCheck } from './checks/capacity-check';
import { layoutCheck, scriptsCheck } from './checks/layout-checks';
import { mailCheck } from './checks/mail-checks';
import {
  clockCheck,
  cookiePasswordCheck,
  memoryEngineCheck,
  passwordCostCheck,
  portsCheck,
  settingsCheck,
} from './checks/process-checks';
import {
  clusterNodesCheck,
  clusterSlotsCheck,
  clusterStateCheck,
  coverageCheck,
  durabilityCheck,
  replicasCheck,
} from './checks/replication-checks';
import {
  configAccessCheck,
  evictionCheck,
  loadingCheck,
  memoryCheck,
  persistenceCheck,
  persistenceErrorsCheck,
  versionCheck,
} from './checks/server-checks';
import type { CheckDefinition } from './context';

/**
 * Every start-up check, in the order they run and print. Ids are stable: docs/errors.md explains
 * each (a unit test keeps the two equal), and dashboards and scripts may match on them.
 */
export const CATALOGUE: readonly CheckDefinition[] = [
  settingsCheck,
  cookiePasswordCheck,
  passwordCostCheck,
  portsCheck,
  memoryEngineCheck,
  mailCheck,
  dnsCheck,
  reachableCheck,
  tlsCheck,
  authCheck,
  modeCheck,
  sentinelMasterCheck,
  clusterStateCheck,
  clusterSlotsCheck,
  clusterNodesCheck,
  loadingCheck,
  versionCheck,
  configAccessCheck,
  persistenceCheck,
  persistenceErrorsCheck,
  evictionCheck,
  memoryCheck,
  capacityCheck,
  replicasCheck,
  durabilityCheck,
  coverageCheck,
  scriptsCheck,
  layoutCheck,
  balanceCheck,
  clockCheck,
];

export const CHECK_IDS: readonly string[] = CATALOGUE.map((c) => c.id);
