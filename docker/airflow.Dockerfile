# The Airflow image for docker-compose.yaml: the official image plus the
# product's dependencies, resolved exactly as in development and CI.
#
#   docker compose build        (or: docker build -f docker/airflow.Dockerfile .)
#
# The code itself (DAGs, plugins, adapters, dbt project, registry) is not baked
# in: compose mounts the repository at /opt/ads-elt.
ARG AIRFLOW_BASE_IMAGE=apache/airflow:3.3.2-python3.11
FROM ${AIRFLOW_BASE_IMAGE}

COPY --chown=airflow:0 requirements.txt constraints.txt /opt/ads-elt-build/

# Pinning apache-airflow to the image's own version keeps pip from replacing it.
RUN pip install --no-cache-dir \
        "apache-airflow==${AIRFLOW_VERSION}" \
        -r /opt/ads-elt-build/requirements.txt \
        -c /opt/ads-elt-build/constraints.txt
