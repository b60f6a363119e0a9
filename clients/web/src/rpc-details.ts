// The google.rpc error details the server sends in grpc-status-details-bin
// (connect-web hands them over as type name + bytes). The protos of
// google.rpc are not among ours, so the few fields the pages read are
// decoded here with protobuf's wire reader.
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import type { ConnectError } from "@connectrpc/connect";

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

type Field = { no: number; bytes?: Uint8Array; varint?: bigint };

function readFields(bytes: Uint8Array): Field[] {
  const reader = new BinaryReader(bytes);
  const fields: Field[] = [];
  while (reader.pos < reader.len) {
    const [no, wireType] = reader.tag();
    if (wireType === WireType.LengthDelimited) fields.push({ no, bytes: reader.bytes() });
    else if (wireType === WireType.Varint) fields.push({ no, varint: BigInt(reader.uint64()) });
    else reader.skip(wireType, no);
  }
  return fields;
}

const utf8 = new TextDecoder();
const text = (fields: Field[], no: number) => utf8.decode(fields.find((f) => f.no === no)?.bytes ?? new Uint8Array());
const messages = (fields: Field[], no: number) => fields.filter((f) => f.no === no && f.bytes).map((f) => readFields(f.bytes!));

/** The details of `error` that the pages understand; unknown ones are skipped. */
export function errorDetails(error: ConnectError): ErrorDetails {
  const details: ErrorDetails = { reason: "", metadata: new Map(), fieldViolations: [], preconditionViolations: [] };
  for (const detail of error.details) {
    if (!("type" in detail)) continue;
    try {
      const fields = readFields(detail.value);
      switch (detail.type) {
        case "google.rpc.ErrorInfo":
          details.reason = text(fields, 1);
          for (const entry of messages(fields, 3)) details.metadata.set(text(entry, 1), text(entry, 2));
          break;
        case "google.rpc.BadRequest":
          for (const v of messages(fields, 1)) details.fieldViolations.push({ field: text(v, 1), description: text(v, 2) });
          break;
        case "google.rpc.PreconditionFailure":
          for (const v of messages(fields, 1)) {
            details.preconditionViolations.push({ type: text(v, 1), subject: text(v, 2), description: text(v, 3) });
          }
          break;
        case "google.rpc.ResourceInfo":
          details.resource = { type: text(fields, 1), name: text(fields, 2) };
          break;
        case "google.rpc.RetryInfo": {
          const delay = messages(fields, 1)[0];
          const seconds = delay?.find((f) => f.no === 1)?.varint;
          if (seconds !== undefined) details.retryDelaySeconds = Number(seconds);
          break;
        }
      }
    } catch {
      // A detail that does not decode is left out; the sentence still stands.
    }
  }
  return details;
}
