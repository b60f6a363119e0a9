// The google.rpc error details the server sends in grpc-status-details-bin,
// decoded with the types generated from googleapis' error_details.proto
// (clients/proto), as the Node client decodes them.
import type { ConnectError } from "@connectrpc/connect";
import {
  BadRequestSchema,
  ErrorInfoSchema,
  PreconditionFailureSchema,
  ResourceInfoSchema,
  RetryInfoSchema,
} from "../../gen/google/rpc/error_details_pb";

export interface ErrorDetails {
  /** ErrorInfo.reason, such as `INSUFFICIENT_STOCK`; "" when absent. */
  reason: string;
  /** ErrorInfo.metadata. */
  metadata: Map<string, string>;
  /** BadRequest.field_violations: a field path and what is wrong with it. */
  fieldViolations: { field: string; description: string }[];
  /** PreconditionFailure.violations: a subject (`products/<id>`) and what is wrong. */
  preconditionViolations: { type: string; subject: string; description: string }[];
  /** ResourceInfo: what was not found. */
  resource?: { type: string; name: string };
  /** RetryInfo.retry_delay, in seconds. */
  retryDelaySeconds?: number;
}

/** The details of `error` that the pages understand; others are left out. */
export function errorDetails(error: ConnectError): ErrorDetails {
  const info = error.findDetails(ErrorInfoSchema)[0];
  const resource = error.findDetails(ResourceInfoSchema)[0];
  const delay = error.findDetails(RetryInfoSchema)[0]?.retryDelay;
  return {
    reason: info?.reason ?? "",
    metadata: new Map(Object.entries(info?.metadata ?? {})),
    fieldViolations: error.findDetails(BadRequestSchema).flatMap((bad) => bad.fieldViolations),
    preconditionViolations: error.findDetails(PreconditionFailureSchema).flatMap((failure) => failure.violations),
    resource: resource && { type: resource.resourceType, name: resource.resourceName },
    retryDelaySeconds: delay && Number(delay.seconds),
  };
}
