"""An OTLP/gRPC trace sink for the benchmarks: accepts every
`opentelemetry.proto.collector.trace.v1.TraceService/Export` and answers the
empty `ExportTraceServiceResponse` (zero bytes), counting spans' bytes only.
It stands in for a collector so that the traced server pays the whole cost
of exporting: recording, batching, encoding, sending.

    target/python-venv/bin/python bench/otlp_sink.py PORT

Runs until killed. Uses grpcio from the project's virtualenv
(scripts/python-env); needs no OpenTelemetry package.
"""

import sys
from concurrent import futures

import grpc

EXPORT = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"


def export(request: bytes, context) -> bytes:
    return b""


class Sink(grpc.GenericRpcHandler):
    def service(self, handler_call_details):
        if handler_call_details.method != EXPORT:
            return None
        return grpc.unary_unary_rpc_method_handler(
            export,
            request_deserializer=lambda raw: raw,
            response_serializer=lambda raw: raw,
        )


def main() -> None:
    port = int(sys.argv[1])
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    server.add_generic_rpc_handlers((Sink(),))
    server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    server.wait_for_termination()


if __name__ == "__main__":
    main()
