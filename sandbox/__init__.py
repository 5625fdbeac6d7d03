"""A simulated ad world for the demo, tests and benchmarks.

``sandbox.world.World`` is the deterministic data generator (``World.demo``);
``sandbox.server.SandboxServer`` serves it over each platform's real wire format
(the fakes in ``sandbox/platforms/``), with a clock, fault injection and counters
under ``/_sandbox/``.
``python -m sandbox serve|truth`` runs them by hand.
"""

from sandbox.server import SandboxServer
from sandbox.world import Account, Anomaly, Campaign, World

__all__ = ["Account", "Anomaly", "Campaign", "SandboxServer", "World"]
