"""The web UI's pages on a registry with 10,000 models, against the JSON reads of the same data.

    python -m bench.web_ui [--models 10000] [--versions 50] [--moves 40] [--requests 40] [--json]

Starts `modelog serve` (embedded PostgreSQL, no auth: the local admin) on a free loopback port,
fills it through the native API (16 clients): `--models` models in `unity.default`, every tenth
with a `team` tag, and one model, `unity.default.hot`, with `--versions` versions whose `champion`
and `challenger` aliases and stages move `--moves` times. Then, for each page, `--requests` GETs
one after the other (after a warm-up), taken in turn with the JSON read of the same data (the
baseline, measured in the same minutes): p50 and p99 latency of each, and the ratio. The page does
more than its baseline (renders HTML, the timeline's SVG, several reads), so the figure to watch is
the page's own latency; the ratio says what the UI adds to what the API costs.
"""

import argparse
import asyncio
import json
import statistics
import time

import aiohttp

from bench.vs_mlflow import ENV, free_port, modelog_command, server, workdir
from registry.reads.queries import encode_token

N = "/api/modelog/v1"
HOT = "unity.default.hot"
# (page, its baseline): the JSON read(s) a client would make for the same data.
PAGES: list[tuple[str, str, list[str]]] = [
    ("catalogs", "/", [f"{N}/catalogs"]),
    ("schemas", "/ui/catalogs/unity", [f"{N}/schemas?catalog_name=unity"]),
    ("models, first page", "/ui/models?catalog=unity&schema=default",
     [f"{N}/models?catalog_name=unity&schema_name=default&max_results=50"]),
    ("models, last page", "/ui/models?catalog=unity&schema=default&after=unity.default.m09950",
     [f"{N}/models?catalog_name=unity&schema_name=default&max_results=50"
      "&page_token={token}"]),
    ("search by name", "/ui/models?q=m0423", [f"{N}/models?catalog_name=unity&name_pattern=*m0423*"]),
    ("search by tag", "/ui/models?tag=team%3Dfraud",
     ["/api/2.0/mlflow/registered-models/search?filter=tags.team%3D%27fraud%27&max_results=50"]),
    ("model page", f"/ui/models/{HOT}",
     [f"{N}/models/{HOT}", f"{N}/models/{HOT}/versions?max_results=50",
      f"{N}/models/{HOT}/timeline?max_results=1000"]),
    ("model page as of", f"/ui/models/{HOT}?as_of={{mid}}",
     [f"{N}/models/{HOT}?as_of={{mid}}", f"{N}/models/{HOT}/versions?as_of={{mid}}&max_results=50",
      f"{N}/models/{HOT}/timeline?as_of={{mid}}&max_results=1000"]),
    ("version page", f"/ui/models/{HOT}/versions/7", [f"{N}/models/{HOT}/versions/7"]),
    ("audit", "/ui/audit", [f"{N}/audit/events?max_results=50"]),
]


async def fill(url: str, models: int, versions: int, moves: int) -> int:
    """The registry; returns a log position from the middle of the hot model's history."""
    async with aiohttp.ClientSession() as http:
        async def send(method: str, path: str, body: dict) -> None:
            async with http.request(method, url + path, json=body) as r:
                if r.status >= 300:
                    raise SystemExit(f"{method} {path}: {r.status} {await r.text()}")

        queue: asyncio.Queue[int] = asyncio.Queue()
        for i in range(models):
            queue.put_nowait(i)

        async def creator() -> None:
            while not queue.empty():
                i = queue.get_nowait()
                name = f"unity.default.m{i:05d}"
                await send("POST", f"{N}/models", {"name": name, "description": f"model {i}"})
                if i % 10 == 0:
                    await send("PUT", f"{N}/models/{name}/tags/team",
                               {"value": "fraud" if i % 20 == 0 else "risk"})

        await asyncio.gather(*(creator() for _ in range(16)))
        await send("POST", f"{N}/models", {"name": HOT, "description": "the busy one"})
        for v in range(1, versions + 1):
            await send("POST", f"{N}/models/{HOT}/versions",
                       {"source": f"s3://models/hot/{v}", "run_id": f"run{v}"})
        mid = 0
        for m in range(moves):
            v = 1 + m % versions
            await send("PUT", f"{N}/models/{HOT}/aliases/champion", {"version": v})
            await send("PUT", f"{N}/models/{HOT}/aliases/challenger", {"version": 1 + (v % versions)})
            await send("POST", f"{N}/models/{HOT}/versions/{v}/stage",
                       {"stage": ("Staging", "Production")[m % 2]})
            if m == moves // 2:
                async with http.get(f"{url}{N}/audit/verify") as r:
                    mid = (await r.json())["head_position"]
        return mid


async def timed(http: aiohttp.ClientSession, url: str) -> float:
    started = time.perf_counter()
    async with http.get(url) as r:
        await r.read()
        if r.status != 200:
            raise SystemExit(f"GET {url}: {r.status}")
    return (time.perf_counter() - started) * 1000


async def measure(url: str, requests: int, mid: int) -> list[dict]:
    out = []
    token = encode_token("unity.default.m09950")  # the API's page that starts where the UI's does
    async with aiohttp.ClientSession() as http:
        for name, page, baseline in PAGES:
            page_url = url + page.format(mid=mid)
            reads = [url + b.format(mid=mid, token=token) for b in baseline]
            for _ in range(3):  # warm-up: caches, prepared statements
                await timed(http, page_url)
                for r in reads:
                    await timed(http, r)
            page_ms, base_ms = [], []
            for _ in range(requests):  # in turn, so the machine's other work hits both alike
                page_ms.append(await timed(http, page_url))
                base_ms.append(sum([await timed(http, r) for r in reads]))
            out.append({"page": name, "path": page.format(mid=mid),
                        "p50_ms": round(statistics.median(page_ms), 2),
                        "p99_ms": round(percentile(page_ms, 0.99), 2),
                        "api_p50_ms": round(statistics.median(base_ms), 2),
                        "api_reads": len(reads),
                        "ratio": round(statistics.median(page_ms) / statistics.median(base_ms), 2)})
    return out


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", type=int, default=10_000)
    ap.add_argument("--versions", type=int, default=50)
    ap.add_argument("--moves", type=int, default=40)
    ap.add_argument("--requests", type=int, default=40)
    ap.add_argument("--json", action="store_true", help="print one JSON line")
    args = ap.parse_args()
    with workdir() as work:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        with server(modelog_command(work / "modelog", port), f"{url}/readyz", work / "modelog.log",
                    ENV):
            started = time.perf_counter()
            mid = asyncio.run(fill(url, args.models, args.versions, args.moves))
            filled = time.perf_counter() - started
            results = asyncio.run(measure(url, args.requests, mid))
    if args.json:
        print(json.dumps({"models": args.models, "fill_s": round(filled, 1), "pages": results}))
        return 0
    print(f"{args.models} models filled in {filled:.0f} s; {args.requests} requests a page, each "
          "in turn with its JSON baseline (the API reads of the same data)")
    print(f"  {'page':<22}{'p50 ms':>9}{'p99 ms':>9}{'API p50 ms':>12}{'reads':>6}{'ratio':>7}")
    for r in results:
        print(f"  {r['page']:<22}{r['p50_ms']:>9}{r['p99_ms']:>9}{r['api_p50_ms']:>12}"
              f"{r['api_reads']:>6}{r['ratio']:>7}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
