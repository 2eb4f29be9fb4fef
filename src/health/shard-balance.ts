import type { Logger } from '../log/logger';
import { BALANCE_WARN_RATIO } from '../store/redis/balance';
import type { StoreDetails } from './store-health';

/**
 * The store health loop's shard-balance warning (ADR 185): a warn line when the busiest master
 * starts holding more than BALANCE_WARN_RATIO × the mean of shards, and an info line when that
 * ends, not one per check (the loop looks every few seconds). A plain function of the details,
 * kept apart from the other health figures.
 */
export class ShardBalanceAlarm {
  private uneven = false;

  constructor(private readonly logger: Pick<Logger, 'warn' | 'info'>) {}

  observe(details: StoreDetails | undefined): void {
    const ratio = details?.shardRatio;
    if (ratio === undefined) return;
    const uneven = ratio > BALANCE_WARN_RATIO;
    if (uneven === this.uneven) return;
    this.uneven = uneven;
    const fields = { ratio: Number(ratio.toFixed(2)), busiest: details?.busiestMaster };
    if (uneven)
      this.logger.warn(
        fields,
        `store shards uneven: the busiest master holds more than ${BALANCE_WARN_RATIO}× the mean; see holdfast store balance --plan`,
      );
    else this.logger.info(fields, 'store shards even again');
  }
}
