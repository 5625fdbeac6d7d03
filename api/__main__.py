"""python -m api serve | token create | token revoke | link (see api/__init__.py)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m api", description="The reporting service: API, dashboard, tokens, links.")
    sub = p.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the service (uvicorn)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8765)
    token = sub.add_parser("token", help="API tokens")
    tsub = token.add_subparsers(dest="action", required=True)
    create = tsub.add_parser("create", help="a new token, printed once (only its hash is kept)")
    who = create.add_mutually_exclusive_group(required=True)
    who.add_argument("--workspace", help="the one workspace the token may read")
    who.add_argument("--admin", action="store_true", help="every workspace")
    create.add_argument("--label", help="what the token is for (kept beside it)")
    revoke = tsub.add_parser("revoke", help="revoke a token by its id")
    revoke.add_argument("token_id")
    link = sub.add_parser("link", help="a signed, expiring dashboard link for a workspace")
    link.add_argument("--workspace", required=True)
    link.add_argument("--days", type=float, default=None, help="valid for this many days (default ADS_API_LINK_TTL_DAYS, 14)")
    link.add_argument("--path", default="", help="a page below the workspace's, e.g. /sync")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from api.settings import ConfigurationError, load

    try:
        settings = load()
    except ConfigurationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.command == "serve":
        import uvicorn

        from api.app import create_app

        try:
            app = create_app(settings)
        except ConfigurationError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        uvicorn.run(app, host=args.host, port=args.port, log_level="info", access_log=False)
        return 0
    if args.command == "link":
        from ads_elt.alerts.links import sign_url

        url = f"{settings.public_url}/dashboard/{args.workspace}{args.path}"
        print(sign_url(url, settings.signing_key, args.workspace, args.days or settings.link_ttl_days))
        return 0
    import psycopg2

    from api.security import create_token, revoke_token

    conn = psycopg2.connect(settings.dsn)
    try:
        if args.action == "create":
            try:
                token_id, token = create_token(conn, None if args.admin else args.workspace, args.label)
            except LookupError as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 1
            scope = "every workspace" if args.admin else f"workspace {args.workspace}"
            print(f"token {token_id} for {scope} (shown once, keep it in a secret store):", file=sys.stderr)
            print(token)
            return 0
        if revoke_token(conn, args.token_id):
            print(f"token {args.token_id} revoked")
            return 0
        print(f"error: no active token {args.token_id!r}", file=sys.stderr)
        return 1
    finally:
        conn.close()


if __name__ == "__main__":
    sys.exit(main())
