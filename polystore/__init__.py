"""polystore: a company's AWS data tier declared once, as a topology.

The public surface is small: load the topology, and the errors loading can raise.
Everything else (infra, emulation, seed, services, policy) reads the model this returns.
"""

from polystore.topology.errors import Problem, TopologyError
from polystore.topology.loader import default_stacks_dir, load_system, load_topology
from polystore.topology.model import System, Topology

__all__ = [
    "Problem",
    "System",
    "Topology",
    "TopologyError",
    "default_stacks_dir",
    "load_system",
    "load_topology",
]
__version__ = "0.1.0"
