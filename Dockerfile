# feeds in a container: `feeds serve` as a non-root user, checked by `feeds health`.
# Build: docker build -t feeds .     (README.md, "In a container", has the run lines)

FROM python:3.12-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY feeds ./feeds
# A wheel of this checkout and of every dependency, so the final image needs no
# compiler, no pip cache and no source tree.
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.12-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN useradd --system --uid 10001 --user-group --home-dir /srv/feeds --shell /usr/sbin/nologin feeds \
    && mkdir -p /srv/feeds/data /srv/feeds/public \
    && chown feeds:feeds /srv/feeds/data /srv/feeds/public
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index /wheels/*.whl && rm -rf /wheels
WORKDIR /srv/feeds
USER feeds
# The store and the published files; config.yaml is mounted read-only beside them.
VOLUME ["/srv/feeds/data", "/srv/feeds/public"]
EXPOSE 8080
HEALTHCHECK --interval=60s --timeout=15s --start-period=10m --retries=3 \
    CMD ["feeds", "health", "-c", "/srv/feeds/config.yaml"]
STOPSIGNAL SIGTERM
CMD ["feeds", "serve", "-c", "/srv/feeds/config.yaml"]
