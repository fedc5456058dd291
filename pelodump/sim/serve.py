"""Not built yet."""

import argparse

from pelodump.errors import PelodumpError


def run_sim_command(args: argparse.Namespace) -> int:
    raise PelodumpError("'pelodump sim' is not built yet")
