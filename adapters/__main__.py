"""``python -m adapters``: see ``adapters.cli``."""

from adapters.cli import main

raise SystemExit(main())
