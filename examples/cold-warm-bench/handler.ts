/** The handler being measured: a little JSON work, as a typical API handler does. */
const catalogue = new Map(Array.from({ length: 1000 }, (_, i) => [`sku-${i}`, { priceCents: 100 + i }]));

export const handler = async (event: { skus: string[] }) => {
  const prices = event.skus.map((sku) => catalogue.get(sku)?.priceCents ?? 0);
  return { count: prices.length, totalCents: prices.reduce((a, b) => a + b, 0) };
};
