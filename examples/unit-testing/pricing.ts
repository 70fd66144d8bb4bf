export interface OrderLine {
  readonly sku: string;
  readonly quantity: number;
  readonly unitPriceCents: number;
}

/** Total in cents; orders of 10 items or more get 10% off. */
export function totalCents(lines: readonly OrderLine[]): number {
  const items = lines.reduce((n, line) => n + line.quantity, 0);
  const gross = lines.reduce((sum, line) => sum + line.quantity * line.unitPriceCents, 0);
  return items >= 10 ? Math.round(gross * 0.9) : gross;
}
