# The Airflow image for docker-compose.yaml: the official image plus the
# product's dependencies, resolved exactly as in development and CI.
#
#   docker compose build        (or: docker build -f docker/airflow.Dockerfile .)
#
# The code itself (DAGs, plugins, adapters, dbt project, registry) is not baked
# in: compose mounts the repository at /opt/ads-elt.
ARG AIRFLOW_BASE_IMAGE=apache/airflow:3.3.2-python3.11

# The dashboard's chart library from the npm registry (api/package-lock.json), for the reporting service.
FROM node:22-bookworm-slim AS dashboard-assets
WORKDIR /build
COPY api/package.json api/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error

FROM ${AIRFLOW_BASE_IMAGE}
COPY --from=dashboard-assets /build/node_modules /opt/ads-elt-dashboard/node_modules
ENV ADS_API_VENDOR_DIR=/opt/ads-elt-dashboard/node_modules/echarts/dist

COPY --chown=airflow:0 requirements.txt constraints.txt /opt/ads-elt-build/

# Pinning apache-airflow to the image's own version keeps pip from replacing it.
RUN pip install --no-cache-dir \
        "apache-airflow==${AIRFLOW_VERSION}" \
        -r /opt/ads-elt-build/requirements.txt \
        -c /opt/ads-elt-build/constraints.txt
