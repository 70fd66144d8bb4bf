// A TypeScript entry deployed with `code: { entry: 'examples/orders/handler.ts' }`: lambdalet bundles
// it and what it imports with esbuild. Type-only imports (here from @types/aws-lambda) vanish.
import type { Context } from 'aws-lambda';
import { totalCents, type Order } from './pricing.ts';

export interface OrderSummary {
  readonly orderId: string;
  readonly items: number;
  readonly totalCents: number;
  readonly remainingMs: number;
}

export const handler = async (event: Order, context: Context): Promise<OrderSummary> => {
  const items = event.lines.reduce((n, line) => n + line.quantity, 0);
  return {
    orderId: event.orderId,
    items,
    totalCents: totalCents(event),
    remainingMs: context.getRemainingTimeInMillis(),
  };
};
