"""Run the command line as ``python -m pfpp_sim``."""

from pfpp_sim.cli import main

main()
