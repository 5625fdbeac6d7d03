"""The reporting service: a JSON API (`/v1`) and the dashboard every alert links to.

Read-only on the marts through the `api` warehouse role (``ads_elt.warehouse.roles``), never
the administrator; what it may change is an alert's state and its own tokens.

    python -m api serve [--host H] [--port P]          the service (uvicorn)
    python -m api token create --workspace ID          a workspace token, printed once
    python -m api token create --admin                 a token for every workspace
    python -m api token revoke TOKEN_ID
    python -m api link --workspace ID [--days N]       a signed dashboard link

See docs/api.md.
"""
