import { HoldfastError } from './holdfast-error';

/** The write happened on the master but fewer replicas than asked acknowledged it in time. */
export class DurabilityError extends HoldfastError {
  constructor(
    readonly operation: string,
    readonly acknowledged: number,
    readonly required: number,
  ) {
    super(
      'HF_STORE_DURABILITY',
      `${operation}: ${acknowledged} of ${required} replicas acknowledged the write in time ` +
        `(store.redis.durability.replicas / store.redis.durability.timeout)`,
    );
  }
}
