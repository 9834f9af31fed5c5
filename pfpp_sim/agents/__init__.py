"""Decision-makers as Mesa agents: departments and councils."""

from pfpp_sim.agents.council import Council
from pfpp_sim.agents.department import Department

__all__ = ["Council", "Department"]
