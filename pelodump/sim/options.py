"""Command-line options of `pelodump sim` (checked in serve.py, which turns them into a server)."""

import argparse


def add_sim_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to bind")
    parser.add_argument("--port", type=int, default=8080, help="API port (0: any free port)")
    parser.add_argument(
        "--auth-port", type=int, default=None, help="login port; none: API port + 1 (any with 0)"
    )
    parser.add_argument("--workouts", type=int, default=150, help="size of the member's history")
    parser.add_argument("--seed", type=int, default=1, help="the member (same seed, same history)")
    parser.add_argument("--units", choices=["imperial", "metric"], default="imperial")
    faults = parser.add_argument_group("faults (all off by default)")
    faults.add_argument("--latency-ms", type=float, default=0.0, help="added to every request")
    faults.add_argument("--jitter-ms", type=float, default=0.0, help="plus up to this, at random")
    faults.add_argument(
        "--rate-limit", type=float, metavar="RPS", help="requests per second accepted; then 429"
    )
    faults.add_argument(
        "--rate-limit-html", action="store_true", help="answer 429 with Cloudflare's HTML page"
    )
    for status in ("500", "502", "503"):
        faults.add_argument(
            f"--p-{status}", type=float, default=0.0, metavar="P", help=f"probability of a {status}"
        )
    faults.add_argument(
        "--p-reset",
        type=float,
        default=0.0,
        metavar="P",
        help="probability of a connection reset in mid-body",
    )
    faults.add_argument(
        "--p-truncate",
        type=float,
        default=0.0,
        metavar="P",
        help="probability of a body shorter than its Content-Length",
    )
    faults.add_argument(
        "--p-invalid-json",
        type=float,
        default=0.0,
        metavar="P",
        help="probability of a 200 with a broken JSON body",
    )
    faults.add_argument(
        "--token-lifetime",
        type=float,
        default=172_800.0,
        metavar="S",
        help="seconds an access token lasts",
    )
    faults.add_argument(
        "--expire-tokens-after",
        type=int,
        metavar="N",
        help="every N API requests, every access token issued so far expires",
    )
    faults.add_argument(
        "--new-workout-every",
        type=int,
        metavar="N",
        help="every N API requests, a new workout appears on top (pages shift)",
    )
    faults.add_argument(
        "--down",
        action="append",
        default=[],
        metavar="PATH",
        help="an API path answered 503 every time (a glob such as '/api/workout/*'; repeatable)",
    )
    faults.add_argument("--fault-seed", type=int, default=0, help="seed of the fault dice")
