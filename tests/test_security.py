"""Security rules that can be checked without a run: bound parameters and quoted identifiers, no secret in errors."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from adapters.errors import CredentialsRejectedError, ReauthRequiredError, TransientError
from adapters.http import HttpClient, RetryPolicy

PLUGINS = Path(__file__).resolve().parents[1] / "plugins" / "ads_elt"
# every module of the Airflow side, wherever it sits
SQL_MODULES = sorted(str(p.relative_to(PLUGINS)) for p in PLUGINS.rglob("*.py"))


@pytest.mark.parametrize("module", SQL_MODULES)
def test_sql_is_never_built_by_string_formatting(module):
    """Every execute() gets a literal, a constant or a psycopg2.sql composition; values travel as parameters."""
    tree = ast.parse((PLUGINS / module).read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) in ("execute", "copy_expert"):
            statement = node.args[0]
            assert not isinstance(statement, ast.JoinedStr), f"{module}:{node.lineno}: f-string SQL"
            assert not (isinstance(statement, ast.BinOp) and isinstance(statement.op, ast.Mod | ast.Add)), (
                f"{module}:{node.lineno}: SQL built with % or +"
            )
            if isinstance(statement, ast.Call) and getattr(statement.func, "attr", None) == "format":
                # only psycopg2.sql.SQL(...).format(...) is allowed
                target = statement.func.value
                assert isinstance(target, ast.Call) and getattr(target.func, "attr", None) == "SQL", (
                    f"{module}:{node.lineno}: str.format SQL"
                )


def test_errors_from_the_http_layer_carry_no_token(monkeypatch):
    secret = "EAAB-very-secret-token-123456"
    client = HttpClient("meta", retry=RetryPolicy(max_attempts=1), secrets=[secret], sleep=lambda s: None)

    def boom(*a, **k):
        import requests

        raise requests.ConnectionError(f"failed for https://graph.example/x?access_token={secret}")

    monkeypatch.setattr(client.session, "request", boom)
    with pytest.raises(TransientError) as info:
        client.request("GET", f"https://graph.example/x?access_token={secret}")
    assert secret not in str(info.value) and secret not in repr(info.value.__dict__)


def test_a_refreshed_token_rejected_again_needs_reauthorisation():
    assert issubclass(CredentialsRejectedError, ReauthRequiredError)
