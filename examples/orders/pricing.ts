// Plain TypeScript module imported by handler.ts: bundled into the function at deploy.
export interface OrderLine {
  readonly sku: string;
  readonly quantity: number;
  readonly unitPriceCents: number;
}

export interface Order {
  readonly orderId: string;
  readonly lines: readonly OrderLine[];
}

/** Sum of the lines, in cents. */
export function totalCents(order: Order): number {
  return order.lines.reduce((sum, line) => sum + line.quantity * line.unitPriceCents, 0);
}
