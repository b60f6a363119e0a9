// Errors as sentences for people: the gRPC status code and the ErrorInfo
// reason decide the sentence, the other details fill it in (which field,
// which product). Raw codes are never shown.
import { Code, ConnectError } from "@connectrpc/connect";
import { errorDetails, type ErrorDetails } from "./rpc-details";

export interface ErrorContext {
  /** Product names by id, to name the product a stock error is about. */
  productNames?: Map<string, string>;
  /** Labels of the request's fields by path (`shipping_address.city`: "City"). */
  fieldLabels?: Record<string, string>;
}

/** The call was cancelled by the page itself (a newer search replaced it). */
export function isCancelled(error: unknown): boolean {
  return error instanceof ConnectError && error.code === Code.Canceled;
}

/** The reason of `error`'s ErrorInfo, or "". */
export function reasonOf(error: unknown): string {
  return error instanceof ConnectError ? errorDetails(error).reason : "";
}

/** What went wrong, as a sentence (or two) for the person using the page. */
export function describeError(error: unknown, context: ErrorContext = {}): string {
  if (!(error instanceof ConnectError)) {
    return error instanceof Error ? error.message : "Something went wrong.";
  }
  const details = errorDetails(error);
  switch (error.code) {
    case Code.Unauthenticated:
      return `You are not signed in: ${unauthenticated(details.reason)} Sign in and try again.`;
    case Code.PermissionDenied:
      return details.reason === "CUSTOMER_MISMATCH"
        ? "You are signed in as another customer than the one this is for: sign out and sign in again."
        : "You may not do this with the sign-in you have (a customer cannot use the warehouse page, for instance).";
    case Code.InvalidArgument:
      return invalid(details, context);
    case Code.NotFound:
      return notFound(details);
    case Code.FailedPrecondition:
      return precondition(error, details, context);
    case Code.ResourceExhausted:
      return details.retryDelaySeconds
        ? `Too many requests for now: try again in ${Math.max(1, Math.ceil(details.retryDelaySeconds))} seconds.`
        : "The server is busy: try again in a moment.";
    case Code.Aborted:
      return "Something else changed at the same moment: try again.";
    case Code.DeadlineExceeded:
      return "The server took too long to answer: try again.";
    case Code.Unavailable:
      return "The shop is not available right now: try again in a moment.";
    case Code.Internal:
      return "Something went wrong on our side. Try again later.";
    case Code.Unknown:
      if (error.cause instanceof TypeError) {
        return "The shop's server cannot be reached: check your connection and try again.";
      }
      return `Something went wrong: ${error.rawMessage}`;
    default:
      return `Something went wrong: ${error.rawMessage}`;
  }
}

function unauthenticated(reason: string): string {
  switch (reason) {
    case "TOKEN_MISSING":
      return "this page sent no sign-in token.";
    case "TOKEN_EXPIRED":
      return "your sign-in has expired.";
    case "TOKEN_NOT_YET_VALID":
      return "your sign-in is not valid yet (is this device's clock right?).";
    default:
      return "the server did not accept your sign-in token.";
  }
}

function invalid(details: ErrorDetails, context: ErrorContext): string {
  switch (details.reason) {
    case "CARD_NUMBER_REFUSED":
      return "That looks like a card number: never type one here. Choose one of the payment methods.";
    case "CURRENCY_MISMATCH":
      return "Your cart holds products priced in different currencies: order them separately.";
  }
  if (details.fieldViolations.length === 0) return "The server could not accept the request as sent.";
  const problems = details.fieldViolations.map((v) => `${fieldLabel(v.field, context)}: ${v.description}`);
  return `Please check: ${problems.join("; ")}.`;
}

function fieldLabel(path: string, context: ErrorContext): string {
  return context.fieldLabels?.[path] ?? path.replace(/_/g, " ");
}

function notFound(details: ErrorDetails): string {
  switch (details.reason) {
    case "ORDER_NOT_FOUND":
      return "That order does not exist, or is not yours.";
    case "PRODUCT_NOT_FOUND":
      return "A product in your cart no longer exists: remove it and try again.";
    default:
      return "What you asked for does not exist.";
  }
}

function precondition(error: ConnectError, details: ErrorDetails, context: ErrorContext): string {
  const products = details.preconditionViolations.map((v) => {
    const id = v.subject.replace(/^products\//, "");
    return context.productNames?.get(id) ?? v.description;
  });
  switch (details.reason) {
    case "INSUFFICIENT_STOCK":
      return `Not enough in stock: ${products.join(", ")}. Lower the quantity or remove it from your cart.`;
    case "PRODUCT_ARCHIVED":
      return `No longer sold: ${products.join(", ")}. Remove it from your cart.`;
    case "ORDER_NOT_CANCELLABLE":
      return "This order can no longer be cancelled: it has shipped.";
    case "ORDER_NOT_SHIPPABLE":
      return "This order cannot ship: it was cancelled.";
    case "ORDER_NOT_PAID":
      return "This order is not paid yet: wait for its card payment before shipping it.";
    case "REQUEST_ID_REUSED":
      return "The order changed while it was being sent: press the button again.";
    default:
      return error.rawMessage;
  }
}
