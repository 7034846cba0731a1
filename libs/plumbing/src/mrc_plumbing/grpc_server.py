"""gRPC server bootstrap: standard health service, reflection, and one interceptor that logs each
call and maps `DomainError`s to status codes (unexpected errors become INTERNAL without details).

A request message that cannot be decoded is INVALID_ARGUMENT (gRPC itself would answer INTERNAL), and
status details never carry what the caller sent: they go through `error_mapping.public_detail`
(no control characters, quoted values and long runs elided, at most 512 characters), so a 1 MiB id
cannot come back in the trailers.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from concurrent import futures
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from mrc_kernel.errors import DomainError, InvalidArgument
from mrc_plumbing.error_mapping import grpc_status, public_detail, retry_after
from mrc_plumbing.outages import as_unavailable
from mrc_plumbing.request_ids import request_id_from
from mrc_plumbing.structured_logging import request_id_var

log = logging.getLogger("mrc.grpc")


class _Undecodable:
    """What a request deserializer returns for bytes that are not the request message."""


UNDECODABLE = _Undecodable()


def tolerant_deserializer(deserializer: Callable[[bytes], Any] | None) -> Callable[[bytes], Any] | None:
    """`deserializer`, answering UNDECODABLE instead of raising (gRPC would turn the error into INTERNAL)."""
    if deserializer is None:
        return None

    def deserialize(data: bytes) -> Any:
        try:
            return deserializer(data)
        except Exception:
            return UNDECODABLE

    return deserialize


class CallInterceptor(grpc.ServerInterceptor):  # type: ignore[type-arg]
    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler[Any, Any] | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        handler = continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler
        inner = handler.unary_unary
        method = handler_call_details.method
        metadata = dict(handler_call_details.invocation_metadata or ())

        def call(request: Any, context: grpc.ServicerContext) -> Any:
            request_id = request_id_from(metadata.get("x-request-id"))
            token = request_id_var.set(request_id)
            started = time.perf_counter()
            code = grpc.StatusCode.OK
            try:
                if request is UNDECODABLE:
                    raise InvalidArgument.for_field("request", "cannot be decoded as the request message")
                return inner(request, context)
            except DomainError as error:
                code = grpc_status(error)
                if (seconds := retry_after(error)) is not None:
                    context.set_trailing_metadata((("retry-after", str(seconds)),))
                context.abort(code, public_detail(error.detail))
            except Exception as error:
                if (outage := as_unavailable(error)) is not None:
                    code = grpc.StatusCode.UNAVAILABLE
                    log.warning("dependency unavailable", extra={"method": method, "error": str(error)})
                    context.set_trailing_metadata((("retry-after", str(outage.retry_after_seconds)),))
                    context.abort(code, public_detail(outage.detail))
                code = grpc.StatusCode.INTERNAL
                log.exception("unhandled error in gRPC call", extra={"method": method})
                context.abort(grpc.StatusCode.INTERNAL, f"internal error (request id {request_id})")
            finally:
                log.info(
                    "grpc call",
                    extra={
                        "method": method,
                        "code": code.name,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    },
                )
                request_id_var.reset(token)

        return grpc.unary_unary_rpc_method_handler(
            call,
            request_deserializer=tolerant_deserializer(handler.request_deserializer),
            response_serializer=handler.response_serializer,
        )


class GrpcServer:
    """A threaded gRPC server; our application code is synchronous (pymongo, kafka-python)."""

    def __init__(self, bind_host: str, port: int, *, max_workers: int = 16) -> None:
        self.server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="grpc"),
            interceptors=[CallInterceptor()],
            options=[("grpc.max_receive_message_length", 4 * 1024 * 1024)],
        )
        self.health = health.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        self.address = f"{bind_host}:{port}"
        self._service_names: list[str] = []

    def add_service(self, full_name: str, register: Callable[[grpc.Server], None]) -> None:
        """Register a servicer, e.g. `add_service("mrc.registry.v1.RegistryService", lambda s: add_...(x, s))`."""
        register(self.server)
        self._service_names.append(full_name)

    def start(self) -> None:
        names: Iterable[str] = [
            *self._service_names,
            health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
            reflection.SERVICE_NAME,
        ]
        reflection.enable_server_reflection(tuple(names), self.server)
        self.server.add_insecure_port(self.address)
        self.server.start()
        for name in ["", *self._service_names]:
            self.health.set(name, health_pb2.HealthCheckResponse.SERVING)

    def stop(self, grace_seconds: float = 5.0) -> None:
        self.health.enter_graceful_shutdown()
        self.server.stop(grace_seconds).wait()
