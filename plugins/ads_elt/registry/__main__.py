"""python -m ads_elt.registry check [PATH] (see ads_elt.registry.check)."""

import sys

from ads_elt.registry.check import main

sys.exit(main())
