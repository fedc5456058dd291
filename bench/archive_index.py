"""How the archive's index scales: open and look up at 100,000 capture records.

    python bench/archive_index.py [--records 100000]

Prints the time to write the records (each one durable), to open the archive (which reads every log
into the index), and per lookup, against a baseline: merely reading and JSON-parsing the same logs.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import orjson

from pelodump.archive import open_archive


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "archive"
        start = time.perf_counter()
        with open_archive(root, create=True).begin_run({"command": "bench"}) as run:
            for n in range(args.records):
                run.save_capture(
                    kind="workout", key=f"{n:032x}", method="GET", path=f"/api/workout/{n:032x}",
                    query="", status=200, elapsed_ms=1.0, body=orjson.dumps({"n": n % 1000}),
                    labels={"status": "COMPLETE", "start_time": 1_600_000_000 + n},
                )  # fmt: skip
        write = time.perf_counter() - start

        start = time.perf_counter()
        for log in sorted((root / "runs").glob("*.jsonl")):
            for line in log.open("rb"):
                orjson.loads(line)
        parse_floor = time.perf_counter() - start

        start = time.perf_counter()
        archive = open_archive(root)
        opened = time.perf_counter() - start

        keys = [f"{n:032x}" for n in range(0, args.records, 7)]
        start = time.perf_counter()
        for key in keys:
            assert archive.latest("workout", key) is not None
        lookup = (time.perf_counter() - start) / len(keys)

    print(f"records: {args.records}")
    print(f"write: {write:.1f} s ({write / args.records * 1e6:.0f} us per durable record)")
    print(f"floor (read + parse every log line): {parse_floor:.2f} s")
    print(f"open (build the index): {opened:.2f} s = {opened / parse_floor:.2f}x the floor")
    print(f"lookup: {lookup * 1e9:.0f} ns per latest(kind, key)")


if __name__ == "__main__":
    main()
