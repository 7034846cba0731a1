# syntax=docker/dockerfile:1
# One image per service, from the uv workspace:
#   docker build --build-arg SERVICE=registry -t mrc/registry:dev .
# SERVICE is registry, entitlements, grievance, employer or access. The entitlements, grievance and
# access images also run their workers: override the command with `python -m mrc_<service>.worker`.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# uv installed on the same Python as the runtime stage, so the venv's interpreter paths stay valid.
FROM ${PYTHON_IMAGE} AS uv
ARG UV_VERSION=0.13.8
RUN pip install --no-cache-dir --disable-pip-version-check "uv==${UV_VERSION}"
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON_PREFERENCE=only-system \
    UV_PROJECT_ENVIRONMENT=/app/.venv

# Just uv.lock and every workspace member's pyproject.toml: the dependency layer below stays cached
# until one of them changes, and members added later are picked up without editing this file.
FROM ${PYTHON_IMAGE} AS manifests
WORKDIR /src
COPY . .
RUN mkdir /manifests \
    && find . -name pyproject.toml -not -path '*/node_modules/*' -exec cp --parents {} /manifests/ \; \
    && cp uv.lock /manifests/

FROM uv AS build
ARG SERVICE
RUN case "${SERVICE}" in \
      registry|entitlements|grievance|employer|access) ;; \
      *) echo "build arg SERVICE must be registry, entitlements, grievance, employer or access, got '${SERVICE}'" >&2; exit 1 ;; \
    esac
WORKDIR /src
COPY --from=manifests /manifests/ ./
# Third-party dependencies only, exactly as locked.
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-workspace --package "mrc-${SERVICE}"
COPY . .
# Then the workspace packages themselves, as wheels (--no-editable) so the runtime needs no source tree.
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --package "mrc-${SERVICE}"

FROM ${PYTHON_IMAGE} AS runtime
ARG SERVICE
LABEL org.opencontainers.image.title="mrc-${SERVICE}" \
      org.opencontainers.image.description="MRC platform ${SERVICE} service"
# Fixed ids so Kubernetes runAsUser/runAsGroup/fsGroup (10001) match the image.
RUN groupadd --system --gid 10001 mrc \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin mrc
COPY --from=build /app/.venv /app/.venv
ENV PATH=/app/.venv/bin:${PATH} \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    MRC_LOG_FORMAT=json \
    SERVICE_MODULE=mrc_${SERVICE}
WORKDIR /app
USER 10001:10001
# exec so python is PID 1 and receives SIGTERM directly (graceful Kafka/gRPC shutdown).
CMD ["/bin/sh", "-c", "exec python -m \"${SERVICE_MODULE}\""]
