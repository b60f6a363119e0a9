// The API clients: the generated service descriptors over connect-web's
// gRPC-Web transport, with the session's bearer token on every call.
import { createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { CatalogService } from "../../gen/orders/v1/catalog_pb";
import { OrderService } from "../../gen/orders/v1/orders_pb";
import type { WebConfig } from "./config";

export interface Api {
  catalog: Client<typeof CatalogService>;
  orders: Client<typeof OrderService>;
}

/** Clients of `config.grpcWebUrl` sending the token `token()` gives, if any. */
export function createApi(config: WebConfig, token: () => string | undefined): Api {
  const bearer: Interceptor = (next) => (request) => {
    const current = token();
    if (current) request.header.set("authorization", `Bearer ${current}`);
    return next(request);
  };
  const transport = createGrpcWebTransport({
    baseUrl: config.grpcWebUrl,
    interceptors: [bearer],
    defaultTimeoutMs: 15_000,
  });
  return {
    catalog: createClient(CatalogService, transport),
    orders: createClient(OrderService, transport),
  };
}

/** A v4 UUID for `request_id` (crypto.randomUUID needs a secure context). */
export function newRequestId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
