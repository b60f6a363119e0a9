// The orders API from Node, over gRPC: what a service written in TypeScript
// copies to call the shop. `client-test.ts` beside it uses it end to end.
//
//   const connection = connectToOrders("http://127.0.0.1:50051");
//   const shop = connection.clientsWithToken(token);
//   const { order } = await shop.orders.getOrder({ orderId });
//   connection.close();
//
// The types and service descriptors are generated from ../proto by buf and
// protoc-gen-es (`npm run gen`, into ../gen); the google.rpc error details
// by `npm run gen:node` (into ./gen).

import { Code, ConnectError, createClient, type Client, type Interceptor, type Transport } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import type { DescMessage, MessageShape } from "@bufbuild/protobuf";

import { CatalogService } from "../gen/orders/v1/catalog_pb";
import { OrderService } from "../gen/orders/v1/orders_pb";
import { PaymentService } from "../gen/payments/v1/payments_pb";
import { ErrorInfoSchema, type ErrorInfo } from "./gen/google/rpc/error_details_pb";

/** A bearer token, or a function that returns a fresh one for each call. */
export type TokenSource = string | (() => string | Promise<string>);

/**
 * Puts `authorization: Bearer <token>` in every call's metadata. A function
 * is asked again for each call, so a token refreshed by the identity
 * provider is picked up without building new clients.
 */
export function bearerToken(token: TokenSource): Interceptor {
  return (next) => async (request) => {
    const value = typeof token === "string" ? token : await token();
    request.header.set("authorization", `Bearer ${value}`);
    return next(request);
  };
}

/** The services of the orders backend, as one caller calls them. */
export interface OrdersClients {
  catalog: Client<typeof CatalogService>;
  orders: Client<typeof OrderService>;
  payments: Client<typeof PaymentService>;
}

/** One HTTP/2 connection to the server, shared by every caller's clients. */
export interface OrdersConnection {
  /** Clients whose calls carry `token` (see `bearerToken`). */
  clientsWithToken(token: TokenSource): OrdersClients;
  /** Clients whose calls carry no token (a server without authentication). */
  clientsWithoutToken(): OrdersClients;
  /** Closes the connection; calls still running fail. */
  close(): void;
}

export interface ConnectOptions {
  /**
   * The deadline of every call (sent as `grpc-timeout`; the server stops
   * working on a call past it). A call can set its own: `{ timeoutMs }`.
   */
  defaultTimeoutMs?: number;
  /**
   * For an `https://` URL: the CA that signed the server's certificate,
   * when it is not one Node trusts already (PEM), and a client certificate
   * for mutual TLS.
   */
  tls?: { ca?: string | Buffer; cert?: string | Buffer; key?: string | Buffer };
}

/**
 * Connects to the orders server at `baseUrl` (`http://host:port` for
 * plaintext HTTP/2, `https://host:port` for TLS) with connect-node's gRPC
 * transport: the gRPC protocol itself, as grpcurl and the other languages'
 * clients speak it, not the Connect protocol.
 */
export function connectToOrders(baseUrl: string, options: ConnectOptions = {}): OrdersConnection {
  // A PING every 30 s while calls run, and before a call on a connection
  // idle for longer, finds a dead connection (a restarted server, a proxy
  // that dropped it) instead of waiting on it.
  const session = new Http2SessionManager(baseUrl, { pingIntervalMs: 30_000 }, options.tls ?? {});
  const clients = (interceptors: Interceptor[]): OrdersClients => {
    const transport: Transport = createGrpcTransport({
      baseUrl,
      sessionManager: session,
      interceptors,
      defaultTimeoutMs: options.defaultTimeoutMs ?? 10_000,
    });
    return {
      catalog: createClient(CatalogService, transport),
      orders: createClient(OrderService, transport),
      payments: createClient(PaymentService, transport),
    };
  };
  return {
    clientsWithToken: (token) => clients([bearerToken(token)]),
    clientsWithoutToken: () => clients([]),
    close: () => session.abort(),
  };
}

/**
 * The `google.rpc.ErrorInfo` of an error from the server: its `reason` is
 * the stable, documented cause to branch on (`INSUFFICIENT_STOCK`,
 * `TOKEN_EXPIRED`, ...), its `domain` the service (`orders`, `payments`).
 * Undefined for an error that did not come from the server (a network
 * failure, a deadline passed in the client).
 */
export function errorInfo(error: unknown): ErrorInfo | undefined {
  return detail(error, ErrorInfoSchema);
}

/**
 * The first detail of type `desc` (such as `BadRequestSchema` or
 * `PreconditionFailureSchema` from ./gen/google/rpc/error_details_pb) that the
 * server put in the error's `grpc-status-details-bin`.
 */
export function detail<Desc extends DescMessage>(error: unknown, desc: Desc): MessageShape<Desc> | undefined {
  return ConnectError.from(error).findDetails(desc)[0];
}

export { Code, ConnectError };
