"""The workspace registry: which workspaces, their accounts and settings.

One declarative YAML file (`config/workspaces.yml` by default, or the path in
`ADS_ELT_REGISTRY`). It is validated in full before a run writes anything; a
`RegistryError` lists every problem found, each naming the field
(`workspaces[1].accounts[0].platform`), what was wrong and, for a misspelled
name, the nearest valid one. Secrets never live here: an account names the
Airflow Connection that holds its credentials.

    python -m ads_elt.registry check [PATH]

checks a registry without a run: every problem in the file, and every named
Airflow Connection that does not exist (exit status 1 if anything is wrong).

Account ids are taken as users copy them from the platforms' UIs: a Google Ads
customer id `123-456-7890` is `1234567890`, a Meta ad account `act_123` is `123`.

Stores (``stores:`` per workspace) are synced like ad accounts: each names its
platform (shopify, woocommerce, salla, zid), ``store_id`` (the Shopify shop
handle, the WooCommerce site slug, the Salla or Zid store number), the
``connection`` holding its credentials (required: every store has its own),
and optionally ``currency``, ``timezone`` (default the workspace's; the store's
days are local to it) and ``lookback_days`` (orders re-pulled by update time,
default 14). They appear in ``Registry.accounts()`` with ``account_id`` = the
store id.

The package: `base` (platforms, patterns, the error and the reader), `core` (workspaces, accounts,
stores; `parse_registry`, `load_registry`, `sync_window`), `alerting` (a workspace's alerting settings)
and `check` (the command line).
"""

from __future__ import annotations

from ads_elt.registry.alerting import (  # noqa: F401 - the package's names, as the module had them
    ALERT_CHANNEL_KEYS,
    ALERTING_SECTIONS,
    ANOMALY_METRICS,
    DEFAULT_SETTLE_DAYS,
    PLANNED_CHANGE_KINDS,
    RULE_IDS,
    CampaignBudget,
    PlannedChange,
    WorkspaceAlerting,
    parse_alerting,
)
from ads_elt.registry.base import (  # noqa: F401 - the package's names, as the module had them
    ACCOUNT_ID_PATTERN,
    ACCOUNT_ID_PATTERNS,
    AD_PLATFORMS,
    CONN_ID_PATTERN,
    CURRENCY_PATTERN,
    DEFAULT_CONNECTIONS,
    DEFAULT_REGISTRY,
    ID_PATTERN,
    PLATFORM_LOOKBACK_DAYS,
    PLATFORMS,
    REPO_ROOT,
    STORE_ID_PATTERNS,
    STORE_LOOKBACK_DAYS,
    STORE_PLATFORMS,
    URL_FIELDS,
    Reader,
    RegistryError,
    nearest,
)
from ads_elt.registry.check import (  # noqa: F401 - the package's names, as the module had them
    ALERT_CONNECTIONS,
    ConnectionProblem,
    check,
    connection_exists,
    known_connection_ids,
    main,
    missing_connections,
    named_connections,
)
from ads_elt.registry.core import (  # noqa: F401 - the package's names, as the module had them
    Account,
    Registry,
    Workspace,
    load_registry,
    normalise_account_id,
    parse_file_drop,
    parse_registry,
    parse_stores,
    registry_path,
    sync_window,
)
