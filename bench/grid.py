"""Benchmarks of grid management (issue 6), on PostgreSQL:

  * point-in-grid across 40,625 unit grids (Shanghai's count): the STRtree index of
    shequ.grid.locate built from GeoJSON, single look-ups in a loop and batched look-ups, and
    `locate()` through the DB-backed cache with the grids loaded as Places;
  * report intake through Open311: the production server (gunicorn) started against the bench
    database, POST /open311/v2/requests.json from many client threads for a fixed time, with a
    trivial view (/healthz, one SELECT 1) on the same server as the baseline.

    createdb -h 127.0.0.1 -U postgres shequ_bench_grid
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/shequ_bench_grid python bench/grid.py

It rewrites only its own section ("## Grid management") of docs/benchmarks.md; bench/run.py
calls `run_into` at its end so `make bench` keeps the section.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import os
import platform
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shequ.settings")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
import shapely  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402
from shapely.geometry import shape  # noqa: E402

from shequ.grid import locate  # noqa: E402
from shequ.grid.models import ApiKey, GridReport  # noqa: E402
from shequ.places.models import Place  # noqa: E402

GRIDS = 40_625  # unit grids of Shanghai (seed 004)
SHANGHAI = (120.86, 30.69, 121.97, 31.87)  # west, south, east, north (WGS 84)
BENCH_PREFIX = "3199"  # bench grid codes sort after every real code, so real grids win overlaps
BENCH_KEY = "bench-open311-key"
STREET = "310101020"
SECTION = "## Grid management"


def percentile(values: Sequence[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))]


# ---------------------------------------------------------------------------------- point-in-grid


def city_grids(count: int = GRIDS, seed: int = 40625) -> list[tuple[str, str, dict]]:
    """`count` grids tiling Shanghai's extent: a lattice whose inner vertices are jittered by up
    to a fifth of a cell (as shequ/core/demo/places.py draws the demo street), so neighbours
    share edges and the grids have no gaps or overlaps. Cells are about 500 m x 650 m."""
    cols = int((count * 1.2) ** 0.5)
    rows = -(-count // cols)
    west, south, east, north = SHANGHAI
    dx, dy = (east - west) / cols, (north - south) / rows
    rng = np.random.default_rng(seed)
    xs = west + np.arange(cols + 1)[:, None] * dx + rng.uniform(-dx / 5, dx / 5, (cols + 1, rows + 1))
    ys = north - np.arange(rows + 1)[None, :] * dy + rng.uniform(-dy / 5, dy / 5, (cols + 1, rows + 1))
    xs[0, :], xs[-1, :] = west, east
    ys[:, 0], ys[:, -1] = north, south
    result = []
    for n in range(count):
        i, j = n % cols, n // cols
        corners = [(i, j), (i + 1, j), (i + 1, j + 1), (i, j + 1)]
        ring = [[round(float(xs[a, b]), 6), round(float(ys[a, b]), 6)] for a, b in corners]
        geometry = {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}
        result.append((f"{BENCH_PREFIX}{n:011d}", f"基准网格{n + 1}", geometry))
    return result


def random_points(n: int, seed: int = 7, outside: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Points over the city, a share of them outside it (a miss costs a look-up too)."""
    rng = np.random.default_rng(seed)
    west, south, east, north = SHANGHAI
    lon, lat = rng.uniform(west, east, n), rng.uniform(south, north, n)
    away = rng.random(n) < outside
    lon[away] += 2.0
    return lon, lat


def point_in_grid(count: int, lookups: int) -> list[dict]:
    rows = city_grids(count)
    started = time.perf_counter()
    index = locate.build_index(rows)
    build = time.perf_counter() - started
    lon, lat = random_points(lookups)
    pairs = list(zip(lon.tolist(), lat.tolist(), strict=True))
    # correctness on a sample: the index agrees with testing every polygon that holds the point
    for x, y in pairs[:200]:
        found = index.locate(x, y)
        truth = np.flatnonzero(shapely.intersects(index.geometries, shapely.Point(x, y))).tolist()[:1]
        assert (found is None and not truth) or [found] == truth, (x, y, found, truth)
    for x, y in pairs[:1000]:  # warm-up
        index.locate(x, y)
    timings = []
    started = time.perf_counter()
    for x, y in pairs:
        t = time.perf_counter_ns()
        index.locate(x, y)
        timings.append(time.perf_counter_ns() - t)
    single = time.perf_counter() - started
    started = time.perf_counter()
    batched = index.locate_many(lon, lat)
    batch = time.perf_counter() - started
    hits = sum(1 for b in batched if b is not None)
    return [
        {"name": f"build the index from GeoJSON ({count:,} grids)", "seconds": build},
        {
            "name": f"GridIndex.locate, one point at a time ({lookups:,} points, {hits / lookups:.0%} inside)",
            "rate": lookups / single,
            "p50": statistics.median(timings) / 1e6,
            "p95": percentile(timings, 95) / 1e6,
            "p99": percentile(timings, 99) / 1e6,
        },
        {"name": f"GridIndex.locate_many, one batch of {lookups:,} points", "rate": lookups / batch},
    ]


def load_bench_places(rows: list[tuple[str, str, dict]]) -> None:
    """The city's grids as Places in the bench database (once), beside the demo street's."""
    if Place.objects.filter(code__startswith=BENCH_PREFIX).count() == len(rows):
        return
    Place.objects.filter(code__startswith=BENCH_PREFIX).delete()
    Place.objects.bulk_create(
        [Place(code=c, name=n, kind="grid", geometry=g, source="基准测试") for c, n, g in rows],
        batch_size=2000,
    )


def db_locate(lookups: int) -> list[dict]:
    """`locate()` as the services call it: the cached index, its freshness check every few
    seconds, and the code and name of the grid."""
    locate.clear_cache()
    started = time.perf_counter()
    locate.grid_index()
    first = time.perf_counter() - started
    lon, lat = random_points(lookups, seed=8)
    started = time.perf_counter()
    for x, y in zip(lon.tolist(), lat.tolist(), strict=True):
        locate.locate(x, y)
    elapsed = time.perf_counter() - started
    total = Place.objects.filter(kind="grid", geometry__isnull=False).count()
    return [
        {
            "name": f"locate(): first call loads {total:,} grids from the database and builds",
            "seconds": first,
        },
        {"name": "locate() through the cached index", "rate": lookups / elapsed},
    ]


# ---------------------------------------------------------------------------------- Open311 intake


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_up(port: int, server: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit("gunicorn exited at start-up")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    sys.exit("gunicorn did not answer /healthz")


def load_test(port: int, make_request, seconds: float, concurrency: int) -> dict:
    """`concurrency` threads, each on its own keep-alive connection, send requests for `seconds`."""
    stop = threading.Event()
    results: list[tuple[float, int]] = []
    lock = threading.Lock()

    def client(number: int) -> None:
        rng = random.Random(number)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        while not stop.is_set():
            method, path, body, headers = make_request(rng)
            started = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                status = 0
            mine.append((time.perf_counter() - started, status))
        with lock:
            results.extend(mine)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(concurrency)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    ok = [d for d, status in results if 200 <= status < 300]
    statuses: dict[int, int] = {}
    for _, status in results:
        statuses[status] = statuses.get(status, 0) + 1
    return {
        "rate": len(ok) / wall,
        "p50": statistics.median(ok) * 1000 if ok else 0.0,
        "p95": percentile(ok, 95) * 1000 if ok else 0.0,
        "p99": percentile(ok, 99) * 1000 if ok else 0.0,
        "ok": len(ok),
        "statuses": statuses,
    }


def open311_intake(seconds: float, concurrency: int, workers: int, threads: int) -> list[dict]:
    key, _ = ApiKey.objects.get_or_create(
        digest=hashlib.sha256(BENCH_KEY.encode()).hexdigest(),
        defaults={"name": "bench", "prefix": BENCH_KEY[:8], "place": Place.objects.get(code=STREET)},
    )
    grids = [
        shape(g)
        for g in Place.objects.filter(code__startswith=STREET, kind="grid").values_list("geometry", flat=True)
    ]
    points = [g.representative_point() for g in grids]
    before = GridReport.objects.filter(api_key=key).count()
    codes = ["06010", "06042", "09006", "09009", "01037", "07001"]

    def post(rng: random.Random):
        p = rng.choice(points)
        body = urllib.parse.urlencode(
            {
                "api_key": BENCH_KEY,
                "service_code": rng.choice(codes),
                "lat": f"{p.y + rng.uniform(-0.0002, 0.0002):.6f}",
                "long": f"{p.x + rng.uniform(-0.0002, 0.0002):.6f}",
                "description": "路边有一堆暴露垃圾，请尽快处理",
            }
        )
        return (
            "POST",
            "/open311/v2/requests.json",
            body,
            {"Content-Type": "application/x-www-form-urlencoded"},
        )

    def health(rng: random.Random):
        return "GET", "/healthz", None, {}

    port = _free_port()
    var = Path(tempfile.mkdtemp(prefix="shequ-bench-grid-"))
    env = {**os.environ, "SHEQU_VAR_DIR": str(var), "DEBUG": "0"}
    env.pop("SHEQU_TESTING", None)  # the production settings
    gunicorn = [
        str(Path(sys.executable).parent / "gunicorn"),
        "shequ.wsgi",
        "--bind", f"127.0.0.1:{port}",
        "--workers", str(workers),
        "--threads", str(threads),
        "--log-level", "warning",
    ]  # fmt: skip
    server = subprocess.Popen(gunicorn, cwd=ROOT, env=env, start_new_session=True)
    try:
        _wait_until_up(port, server)
        load_test(port, post, 3, concurrency)  # warm-up: every worker builds its grid index
        baseline = load_test(port, health, seconds, concurrency)
        intake = load_test(port, post, seconds, concurrency)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        shutil.rmtree(var, ignore_errors=True)
    made = GridReport.objects.filter(api_key=key).count() - before
    assert made >= intake["ok"], (made, intake)  # every 2xx really made a report
    label = f"{workers} workers x {threads} threads, {concurrency} client threads, {seconds:.0f} s"
    baseline["name"] = f"baseline: GET /healthz (SELECT 1), {label}"
    intake["name"] = f"Open311 POST requests.json, {label}"
    return [intake, baseline]


# ---------------------------------------------------------------------------------- report


def section(results: list[dict], note: str) -> str:
    lines = [
        SECTION,
        "",
        f"Run {timezone.localtime():%Y-%m-%d %H:%M} on {platform.node()} ({os.cpu_count()} cores, Python "
        f"{platform.python_version()}, PostgreSQL {connection.pg_version // 10000}). {note}",  # type: ignore[attr-defined]
        "",
        "| operation | per second | p50 ms | p95 ms | p99 ms | one-off s |",
        "|---|---:|---:|---:|---:|---:|",
    ]

    def cell(r: dict, key: str, fmt: str) -> str:
        return format(r[key], fmt) if key in r else "—"

    for r in results:
        lines.append(
            f"| {r['name']} | {cell(r, 'rate', ',.0f')} | {cell(r, 'p50', '.3f')} | {cell(r, 'p95', '.3f')} | "
            f"{cell(r, 'p99', '.3f')} | {cell(r, 'seconds', '.2f')} |"
        )
        if "statuses" in r and set(r["statuses"]) - {200, 201}:
            lines.append(f"|   ↳ responses by status: {r['statuses']} | | | | | |")
    return "\n".join(lines) + "\n"


def write_section(path: Path, text: str) -> None:
    """Replace the section in `path` (or append it), keeping everything else."""
    old = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    pattern = re.compile(rf"^{re.escape(SECTION)}\n.*?(?=^## |\Z)", re.S | re.M)
    new = pattern.sub(lambda _: text + "\n", old) if pattern.search(old) else old.rstrip("\n") + "\n\n" + text
    path.write_text(new, encoding="utf-8")


def run(grids: int, lookups: int, seconds: float, concurrency: int, workers: int, threads: int) -> str:
    if connection.vendor != "postgresql":
        sys.exit("benchmarks run on PostgreSQL: set DATABASE_URL=postgres://…")
    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    call_command("load_demo", "--base", stdout=open(os.devnull, "w"))  # noqa: SIM115
    results = point_in_grid(grids, lookups)
    load_bench_places(city_grids(grids))
    results += db_locate(lookups)
    results += open311_intake(seconds, concurrency, workers, threads)
    note = (
        f"Point-in-grid: {grids:,} jittered-lattice grids over Shanghai's extent, in-process. Open311: "
        "the production server (gunicorn, DEBUG off) against the bench database holding the demo "
        f"street and the {grids:,} grids; the client threads run on the same machine."
    )
    return section(results, note)


def run_into(out: Path) -> None:
    """bench/run.py's hook: the defaults, written into `out`."""
    cores = os.cpu_count() or 2
    write_section(out, run(GRIDS, 100_000, 20, 8, 2 * cores, 1))


def main() -> None:
    cores = os.cpu_count() or 2
    parser = argparse.ArgumentParser()
    parser.add_argument("--grids", type=int, default=GRIDS)
    parser.add_argument("--lookups", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=20, help="duration of each HTTP load test")
    parser.add_argument("--concurrency", type=int, default=8, help="client threads")
    # Two single-threaded workers per core measured best for this CPU-bound POST (2 cores:
    # 4x1 gave 129/s where 2x4 gave 99/s and 2x8 78/s on the same loaded machine).
    parser.add_argument(
        "--workers", type=int, default=2 * cores, help="gunicorn workers (default: 2 per core)"
    )
    parser.add_argument("--threads", type=int, default=1, help="threads per gunicorn worker")
    parser.add_argument("--out", default=str(ROOT / "docs" / "benchmarks.md"))
    args = parser.parse_args()
    text = run(args.grids, args.lookups, args.seconds, args.concurrency, args.workers, args.threads)
    write_section(Path(args.out), text)
    print(text)


if __name__ == "__main__":
    main()
