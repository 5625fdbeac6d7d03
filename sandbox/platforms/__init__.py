"""The sandbox's platforms, one module each: the ad platforms, the stores and the file-drop generator.

A module that serves a platform names its fake as ``API``: a ``PlatformApi`` subclass
(``sandbox/platforms/base.py``) bound to the ``SandboxServer`` (its world, clock and
credentials) that contributes routes under its own path prefix (``/meta``,
``/shopify``, ...) and makes its own credentials. The server finds them here, in the
order of the module names; adding a platform means adding its module. A module that
is an ad platform of the world also names its ``TRAITS`` (``AdTraits``: its ids, how it
counts conversions, its own metrics, the UTM tags of its clicks). Tests reach a
platform's state through ``server.platform_api(name)``: scripted error answers
(``script(...)``), token expiry, its clock, and counters of what it served.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from types import ModuleType


@cache
def platform_modules() -> tuple[ModuleType, ...]:
    """Every module of this package, in the order of their names."""
    names = sorted(info.name for info in pkgutil.iter_modules(__path__))
    return tuple(importlib.import_module(f"{__name__}.{name}") for name in names)


def api_classes() -> list[type]:
    """The fakes the server serves: each module's ``API``."""
    return [module.API for module in platform_modules() if hasattr(module, "API")]


def platform_apis(server) -> dict:
    """One fake per platform, bound to ``server``."""
    return {api.platform: api for api in (cls(server) for cls in api_classes())}


def declared(attribute: str) -> dict:
    """What the modules that name ``attribute`` declare under it (module name -> value), in the order of their names."""
    return {module.__name__.rsplit(".", 1)[1]: getattr(module, attribute) for module in platform_modules() if hasattr(module, attribute)}


@cache
def ad_traits() -> dict:
    """The world's ad platforms (module name -> ``AdTraits``), in the order of their names."""
    return declared("TRAITS")


def new_credentials() -> dict:
    """Random credentials for every platform served here (the keys their Connections need)."""
    return {cls.platform: cls.new_credentials() for cls in api_classes()}


def connections(sandbox_url: str, credentials: dict, **options) -> dict[str, dict]:
    """Each ad platform's default Connection on the sandbox at `sandbox_url` (conn id -> its JSON)."""
    out = {}
    for cls in api_classes():
        conn = cls.connection(sandbox_url, credentials[cls.platform], **options)
        if conn is not None:
            out[f"{cls.platform}_default"] = conn
    return out
