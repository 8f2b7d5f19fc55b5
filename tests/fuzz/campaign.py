"""The long fuzz campaign: generated inputs through ``gradcli.evaluate`` and the CLI.

Run it from the repository root:

    python -m tests.fuzz.campaign --count 100000            # the long campaign
    python -m tests.fuzz.campaign --count 300 --cli-share 0.2   # the CI-quick profile

Every input is checked for the invariants in ``fuzz_checks`` (no exception escapes, every
failure has a type, message, line and column, exit codes 0/1/2, strict JSON Lines, one
record per statement). A share of them (``--cli-share``) also goes through the command
line in-process (click's CliRunner, with ``--json``). Inputs are drawn from the
hypothesis strategies in ``strategies`` (valid programs, near misses, raw junk, raw
bytes; generation only), then grammar-aware mutations of those (tokens dropped,
swapped, doubled or inserted, programs spliced, bytes flipped), so a run of 100,000
takes minutes, not hours. Each finding is
printed with the input that caused it, and the counts by kind and outcome at the end;
the exit status is 1 if anything was found.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import traceback
import warnings
from collections import Counter

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import tests.fuzz.fuzz_checks as checks
import tests.fuzz.strategies as gen

KINDS = {
    "program": lambda: gen.programs(),
    "near_miss": lambda: gen.near_misses(),
    "raw_text": lambda: gen.raw_texts(),
    "raw_bytes": lambda: gen.raw_bytes(),
}
WEIGHTS = {"program": 4, "near_miss": 3, "raw_text": 2, "raw_bytes": 1}
SLOW_SECONDS = 5.0


class Campaign:
    def __init__(self, cli_share: float, seed: int, verbose: bool) -> None:
        self.cli_share = cli_share
        self.rng = random.Random(seed)
        self.verbose = verbose
        self.count = 0
        self.cli_count = 0
        self.outcomes: Counter[str] = Counter()
        self.kinds: Counter[str] = Counter()
        self.error_types: Counter[str] = Counter()
        self.findings: list[tuple[str, str, str]] = []
        self.slow: list[tuple[float, str]] = []

    def run_one(self, kind: str, value: str | bytes) -> None:
        self.count += 1
        self.kinds[kind] += 1
        text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
        start = time.perf_counter()
        try:
            outcomes = checks.run_api(text)
            for o in outcomes:
                if hasattr(o, "error"):
                    self.error_types[o.error.type] += 1
                    self.outcomes["failure"] += 1
                else:
                    self.outcomes["result"] += 1
            if self.rng.random() < self.cli_share:
                self.cli_count += 1
                args = ["eval", "--json", "--max-elements", str(checks.QUICK_MAX_ELEMENTS)]
                stdin = value if isinstance(value, bytes) else value.encode("utf-8",
                                                                           "surrogatepass")
                code, out, err = checks.run_cli_inprocess(args, stdin)
                expected = len(outcomes) if isinstance(value, str) and "\r" not in value \
                    and "\ufeff" not in value and "\udcff" not in value else None
                checks.check_cli(code, out, err, json_mode=True, expected_records=expected)
                if expected is not None:
                    assert code == checks.exit_code_for(outcomes), (code, outcomes)
        except Exception as exc:  # noqa: BLE001 - a finding: record it and go on
            detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            self.findings.append((kind, repr(value)[:400], detail[:1500]))
            if self.verbose:
                print(f"FINDING ({kind}) {value!r:.300}\n  {detail[:800]}", flush=True)
        elapsed = time.perf_counter() - start
        if elapsed > SLOW_SECONDS:
            self.slow.append((elapsed, repr(value)[:200]))

    def report(self, seconds: float) -> str:
        lines = [
            f"inputs: {self.count:,} ({', '.join(f'{k} {v:,}' for k, v in self.kinds.items())})",
            f"through the CLI in-process: {self.cli_count:,}",
            f"statements: {sum(self.outcomes.values()):,} "
            f"({', '.join(f'{k} {v:,}' for k, v in self.outcomes.items())})",
            f"failures by type: {dict(self.error_types.most_common())}",
            f"slow inputs (> {SLOW_SECONDS} s): {len(self.slow)}",
            f"findings: {len(self.findings)}",
            f"time: {seconds:.0f} s",
        ]
        for elapsed, value in sorted(self.slow, reverse=True)[:10]:
            lines.append(f"  slow {elapsed:.1f} s: {value}")
        seen = set()
        for kind, value, detail in self.findings:
            key = detail.splitlines()[-1][:120]
            if key in seen:
                continue
            seen.add(key)
            lines.append(f"  [{kind}] {value}\n      {detail}")
        return "\n".join(lines)


def _draw_pool(kind: str, n: int) -> list:
    """``n`` inputs of ``kind`` drawn by hypothesis (generation only, no shrinking)."""
    pool: list = []
    strategy = KINDS[kind]()

    @settings(max_examples=n, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(st.data())
    def draw(data):
        pool.append(data.draw(strategy))

    draw()
    return pool


JUNK = gen.SPECIAL_TEXTS + list("()[],;:=+-*/^@<>!#\\'\"%&|{}.\n\r\t\x00\x1b") + [
    "**", "==", "+=", "2", "x", "sum(", "ones(1e9,", "\ufeff", "\udcff", "1e999", "\\\n",
]


def mutate(rng: random.Random, value, pool: list):
    """One to three grammar-aware mutations: drop, swap, double or insert a token,
    splice in another input's statements, or (for bytes) flip a byte."""
    if isinstance(value, bytes):
        data = bytearray(value)
        for _ in range(rng.randint(1, 3)):
            if data and rng.random() < 0.5:
                data[rng.randrange(len(data))] = rng.randrange(256)
            else:
                data[rng.randint(0, len(data)):rng.randint(0, len(data))] = bytes(
                    rng.randrange(256) for _ in range(rng.randint(0, 4)))
        return bytes(data)
    toks = gen.tokens(value)
    for _ in range(rng.randint(1, 3)):
        how = rng.random()
        i = rng.randrange(len(toks) + 1)
        if how < 0.25 and toks:
            del toks[min(i, len(toks) - 1)]
        elif how < 0.45 and len(toks) > 1:
            i = min(i, len(toks) - 2)
            toks[i], toks[i + 1] = toks[i + 1], toks[i]
        elif how < 0.6 and toks:
            i = min(i, len(toks) - 1)
            toks.insert(i, toks[i])
        elif how < 0.8:
            toks.insert(i, rng.choice(JUNK))
        else:
            other = rng.choice(pool)
            if isinstance(other, bytes):
                other = other.decode("utf-8", "replace")
            toks.insert(i, rng.choice(["\n", ";", ""]) + other + rng.choice(["\n", ";", ""]))
    return "".join(toks)


def run(count: int, cli_share: float = 0.1, seed: int = 0, verbose: bool = False,
        pool_share: float = 0.03) -> Campaign:
    """``count`` inputs: a pool drawn from the strategies (by WEIGHTS), run as drawn, then
    mutations of the pool until ``count`` (hypothesis draws ~20 ms each; mutations are
    free, so the long campaign spends its time in gradcli, not in the generator)."""
    campaign = Campaign(cli_share, seed, verbose)
    total = sum(WEIGHTS.values())
    pool_size = max(min(count, 40), int(count * pool_share))
    pools: dict[str, list] = {}
    for kind, weight in WEIGHTS.items():
        pools[kind] = _draw_pool(kind, max(1, pool_size * weight // total))
        for value in pools[kind]:
            campaign.run_one(kind, value)
        if verbose:
            print(f"{kind}: {len(pools[kind])} drawn ({campaign.count:,} so far)", flush=True)
    everything = [v for vs in pools.values() for v in vs]
    kinds = list(WEIGHTS)
    weights = [WEIGHTS[k] for k in kinds]
    while campaign.count < count:
        kind = campaign.rng.choices(kinds, weights)[0]
        value = mutate(campaign.rng, campaign.rng.choice(pools[kind]), everything)
        campaign.run_one(f"{kind}+mutated", value)
        if verbose and campaign.count % 10_000 == 0:
            print(f"{campaign.count:,} inputs, {len(campaign.findings)} findings", flush=True)
    return campaign


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--cli-share", type=float, default=0.1,
                        help="fraction of inputs also run through the CLI in-process")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    warnings.simplefilter("error", RuntimeWarning)  # a NumPy warning leaking is a finding
    start = time.perf_counter()
    campaign = run(args.count, args.cli_share, args.seed, args.verbose)
    print(campaign.report(time.perf_counter() - start))
    return 1 if campaign.findings else 0


if __name__ == "__main__":
    sys.exit(main())
