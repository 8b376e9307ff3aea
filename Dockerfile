# Debrief in a container: one static-ish binary (templates, assets and
# migrations are compiled in) on a slim Debian, running as a non-root user.

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock rustfmt.toml ./
COPY src src
COPY migrations migrations
COPY templates templates
COPY static static
# The demo's evidence files are compiled in from the fixtures.
COPY tests/fixtures tests/fixtures
RUN cargo build --release --locked --bin debrief

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home /var/lib/debrief --create-home debrief \
 && mkdir -p /data && chown debrief /data
COPY --from=build /src/target/release/debrief /usr/local/bin/debrief
USER debrief
ENV DEBRIEF_BIND=0.0.0.0:3000 \
    DEBRIEF_DATA_DIR=/data \
    DEBRIEF_LOG_FORMAT=json
VOLUME /data
EXPOSE 3000
STOPSIGNAL SIGTERM
ENTRYPOINT ["debrief"]
CMD ["serve"]
