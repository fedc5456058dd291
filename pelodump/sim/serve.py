"""`pelodump sim`: serve the simulated API and login until Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import math
import signal
import sys

from pelodump.errors import PelodumpError
from pelodump.sim.faults import BODY_FAULTS, ERROR_FAULTS, Faults
from pelodump.sim.member import Member
from pelodump.sim.server import run_sim


def faults_from_args(args: argparse.Namespace) -> Faults:
    """The fault knobs the flags ask for; a PelodumpError (one line) if a value makes no sense."""
    try:
        return Faults(
            latency_ms=args.latency_ms,
            jitter_ms=args.jitter_ms,
            rate_limit=args.rate_limit,
            rate_limit_html=args.rate_limit_html,
            p_500=args.p_500,
            p_502=args.p_502,
            p_503=args.p_503,
            p_reset=args.p_reset,
            p_truncate=args.p_truncate,
            p_invalid_json=args.p_invalid_json,
            expire_tokens_every=args.expire_tokens_after,
            new_workout_every=args.new_workout_every,
            down_paths=tuple(args.down),
            seed=args.fault_seed,
        )
    except ValueError as error:  # say it with the flag's name, not the field's
        message = str(error)
        for field_name, flag in _FLAGS.items():
            message = message.replace(field_name, flag)
        raise PelodumpError(f"sim: {message}") from None


_FLAGS = {
    "expire_tokens_every": "--expire-tokens-after",
    "new_workout_every": "--new-workout-every",
    "rate_limit": "--rate-limit",
    "latency_ms": "--latency-ms",
    "jitter_ms": "--jitter-ms",
    **{f"p_{name}": f"--p-{name.replace('_', '-')}" for name in ERROR_FAULTS + BODY_FAULTS},
}


def _check(args: argparse.Namespace) -> tuple[int, int]:
    """Validate the non-fault flags; return the API and login ports."""
    if args.rate_limit_html and args.rate_limit is None:
        raise PelodumpError("sim: --rate-limit-html needs --rate-limit")
    if not 0 <= args.workouts <= 1_000_000:
        raise PelodumpError("sim: --workouts must be between 0 and 1000000")
    if not (args.token_lifetime > 0 and math.isfinite(args.token_lifetime)):
        raise PelodumpError("sim: --token-lifetime must be a positive number of seconds")
    for flag, value in (
        ("--expire-tokens-after", args.expire_tokens_after),
        ("--new-workout-every", args.new_workout_every),
    ):
        if value is not None and value < 1:
            raise PelodumpError(f"sim: {flag} must be at least 1")
    auth_port = args.auth_port
    if auth_port is None:
        auth_port = args.port + 1 if args.port else 0
    for flag, port in (("--port", args.port), ("--auth-port", auth_port)):
        if not 0 <= port <= 65535:
            raise PelodumpError(f"sim: {flag} must be between 0 and 65535")
    if args.port and args.port == auth_port:
        raise PelodumpError("sim: the API and the login need two different ports")
    return args.port, auth_port


def run_sim_command(args: argparse.Namespace) -> int:
    api_port, auth_port = _check(args)
    faults = faults_from_args(args)
    member = Member(seed=args.seed, workouts=args.workouts, units=args.units)
    try:
        asyncio.run(_serve(args, member, faults, api_port, auth_port))
    except KeyboardInterrupt:
        pass
    except OSError as error:  # port taken, address not available
        raise PelodumpError(
            f"sim: cannot listen on {args.host}: {error.strerror or error}"
        ) from None
    print("pelodump sim: stopped", file=sys.stderr)
    return 0


async def _serve(
    args: argparse.Namespace, member: Member, faults: Faults, api_port: int, auth_port: int
) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not on every platform
            loop.add_signal_handler(signum, stop.set)
    async with run_sim(
        member=member,
        faults=faults,
        host=args.host,
        api_port=api_port,
        auth_port=auth_port,
        access_lifetime_s=args.token_lifetime,
    ) as sim:
        if not _is_loopback(args.host):
            print(
                f"pelodump sim: warning: listening on {args.host}, not only this machine",
                file=sys.stderr,
            )
        print(
            f"pelodump sim: a simulated member with {member.total} workouts ({member.units})\n"
            f"  API:      {sim.api_url}\n"
            f"  login:    {sim.auth_url}\n"
            f"  username: {member.username}\n"
            f"  password: {member.password}\n"
            f"Try: PELOTON_USERNAME={member.username} pelodump fetch "
            f"--api-url {sim.api_url} --auth-url {sim.auth_url}\n"
            "Press Ctrl-C to stop.",
            flush=True,
        )
        await stop.wait()


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"
