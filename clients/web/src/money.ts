// Money as the API has it ({currency_code, units, nanos}), added up exactly
// (bigint nano units, never floats) and shown in the reader's terms.
import { create } from "@bufbuild/protobuf";
import { type Money, MoneySchema } from "../../gen/orders/v1/money_pb";

const NANOS_PER_UNIT = 1_000_000_000n;

/** The amount in nano units. */
export function toNanos(money: Money): bigint {
  return money.units * NANOS_PER_UNIT + BigInt(money.nanos);
}

/** `nanos` nano units of `currencyCode` as Money (units and nanos of one sign). */
export function fromNanos(currencyCode: string, nanos: bigint): Money {
  return create(MoneySchema, {
    currencyCode,
    units: nanos / NANOS_PER_UNIT,
    nanos: Number(nanos % NANOS_PER_UNIT),
  });
}

/** `price` times `quantity`. */
export function times(price: Money, quantity: number): Money {
  return fromNanos(price.currencyCode, toNanos(price) * BigInt(quantity));
}

/** The sum of `amounts`, or undefined when they are not all in one currency. */
export function sum(amounts: Money[]): Money | undefined {
  const currencies = new Set(amounts.map((a) => a.currencyCode));
  if (currencies.size !== 1) return undefined;
  const total = amounts.reduce((acc, a) => acc + toNanos(a), 0n);
  return fromNanos(amounts[0].currencyCode, total);
}

/** "€29.00"; the exact decimal, however many digits it has. */
export function formatMoney(money: Money | undefined): string {
  if (!money) return "";
  const nanos = toNanos(money);
  const sign = nanos < 0n ? "-" : "";
  const abs = nanos < 0n ? -nanos : nanos;
  const fraction = (abs % NANOS_PER_UNIT).toString().padStart(9, "0").replace(/0+$/, "");
  const decimal = `${sign}${abs / NANOS_PER_UNIT}${fraction ? "." + fraction : ""}`;
  try {
    const format = new Intl.NumberFormat("en", {
      style: "currency",
      currency: money.currencyCode,
      maximumFractionDigits: 9,
    });
    // Intl formats a decimal string exactly (no rounding through a double).
    return format.format(decimal as unknown as number);
  } catch {
    return `${money.currencyCode} ${decimal}`;
  }
}
