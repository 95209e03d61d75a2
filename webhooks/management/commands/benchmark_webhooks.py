"""manage.py benchmark_webhooks: how fast real delivery workers send events to a healthy
receiver on this machine (webhooks.benchmark), against the issue's targets: at least 200
deliveries/s per worker, p99 under 2 s from commit to receipt.

    DATABASE_URL=postgres://… manage.py benchmark_webhooks --workers 2 --rounds 3

Run it on a database nobody else is using: the workers it starts deliver whatever is due.
It makes a throwaway premium store with one endpoint, and deletes both, and every event
and delivery of the store, when it ends (even when it fails).
"""

import json
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from webhooks.benchmark import (
    Fixture,
    Latency,
    Receiver,
    Throughput,
    database_label,
    delivery_workers,
    measure_latency,
    measure_throughput,
    median,
    private_urls_allowed,
)

TARGET_PER_WORKER = 200.0  # deliveries per second
TARGET_P99_SECONDS = 2.0


class Command(BaseCommand):
    help = (
        "Benchmark webhook delivery: a burst of --events events through --workers delivery "
        "workers (deliveries/s per worker), then --latency-events events at --rate per "
        "second (p50/p99 delay from commit to receipt), --rounds times; medians against the "
        "targets (200/s per worker, p99 < 2 s)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--events", type=int, default=10_000, help="Burst size (10,000).")
        parser.add_argument("--workers", type=int, default=1, help="Delivery workers (1).")
        parser.add_argument(
            "--rate", type=float, default=100.0, help="Events per second in the latency run."
        )
        parser.add_argument(
            "--latency-events",
            type=int,
            default=1_000,
            help="Events committed one by one in the latency run (1,000).",
        )
        parser.add_argument("--rounds", type=int, default=3, help="Rounds, interleaved (3).")
        parser.add_argument(
            "--idle-sleep",
            type=float,
            default=None,
            help="The workers' --idle-sleep (default: the worker's own default).",
        )
        parser.add_argument(
            "--json", dest="as_json", action="store_true", help="Print one JSON document."
        )

    def handle(self, *args, as_json: bool, **options) -> None:
        events, workers, rate = options["events"], options["workers"], options["rate"]
        latency_events, rounds = options["latency_events"], options["rounds"]
        for name, value in (
            ("--events", events), ("--workers", workers),
            ("--latency-events", latency_events), ("--rounds", rounds),
        ):  # fmt: skip
            if value < 1:
                raise CommandError(f"{name} must be at least 1 (got {value}).")
        if rate <= 0:
            raise CommandError(f"--rate must be a positive number of events per second ({rate}).")
        worker_args = []
        if options["idle_sleep"] is not None:
            worker_args = ["--idle-sleep", str(options["idle_sleep"])]

        results: list[tuple[Throughput, Latency]] = []
        receiver = Receiver()
        with private_urls_allowed():
            fixture = Fixture.create(url=receiver.url)
        receiver.secret = fixture.secret
        if not as_json:
            self.stdout.write(
                f"Benchmarking webhooks on {database_label()}: {workers} worker(s), bursts of "
                f"{events:,} events, {latency_events:,} events at {rate:g}/s, "
                f"{rounds} round(s). Receiver {receiver.url}"
            )
            self.stdout.write(self._row("round", "deliveries/s/worker", "p50 ms", "p99 ms"))
        try:
            with (
                tempfile.TemporaryDirectory(prefix="ordo-benchmark-") as logs,
                delivery_workers(workers, log_dir=Path(logs), extra_args=worker_args),
            ):
                for index in range(1, rounds + 1):
                    throughput = measure_throughput(
                        fixture, receiver, events=events, workers=workers
                    )
                    latency = measure_latency(fixture, receiver, events=latency_events, rate=rate)
                    results.append((throughput, latency))
                    if not as_json:
                        self.stdout.write(self._figures(str(index), [(throughput, latency)]))
        except TimeoutError as error:
            raise CommandError(str(error)) from None
        finally:
            receiver.stop()
            fixture.delete()

        summary = self._summary(results, receiver)
        if as_json:
            self.stdout.write(json.dumps(summary, indent=2))
            return
        self.stdout.write(self._figures("median", results))
        self.stdout.write(
            f"Deliveries: {summary['deliveries']:,} received, {receiver.repeats} repeated, "
            f"{receiver.bad_signatures} with a signature that did not verify."
        )
        met = summary["targets_met"]
        style = self.style.SUCCESS if all(met.values()) else self.style.ERROR
        self.stdout.write(
            style(
                f"Targets: >= {TARGET_PER_WORKER:g} deliveries/s per worker "
                f"{'met' if met['throughput'] else 'MISSED'}; p99 < {TARGET_P99_SECONDS:g} s "
                f"{'met' if met['latency'] else 'MISSED'}."
            )
        )

    @staticmethod
    def _row(*cells: str) -> str:
        return f"{cells[0]:<8}{cells[1]:>20}{cells[2]:>10}{cells[3]:>10}"

    def _figures(self, label: str, results: list[tuple[Throughput, Latency]]) -> str:
        return self._row(
            label,
            f"{median([t.per_worker for t, _ in results]):.1f}",
            f"{median([lat.percentile(0.5) for _, lat in results]) * 1000:.0f}",
            f"{median([lat.percentile(0.99) for _, lat in results]) * 1000:.0f}",
        )

    @staticmethod
    def _summary(results: list[tuple[Throughput, Latency]], receiver: Receiver) -> dict:
        per_worker = median([t.per_worker for t, _ in results])
        p99 = median([lat.percentile(0.99) for _, lat in results])
        return {
            "database": database_label(),
            "workers": results[0][0].workers,
            "rounds": [
                {
                    "events": throughput.events,
                    "seconds": round(throughput.seconds, 3),
                    "deliveries_per_second_per_worker": round(throughput.per_worker, 1),
                    "latency_events": latency.events,
                    "latency_rate": round(latency.rate, 1),
                    "p50_ms": round(latency.percentile(0.5) * 1000),
                    "p99_ms": round(latency.percentile(0.99) * 1000),
                }
                for throughput, latency in results
            ],
            "median": {
                "deliveries_per_second_per_worker": round(per_worker, 1),
                "p50_ms": round(median([lat.percentile(0.5) for _, lat in results]) * 1000),
                "p99_ms": round(p99 * 1000),
            },
            "deliveries": len(receiver.received),
            "repeats": receiver.repeats,
            "bad_signatures": receiver.bad_signatures,
            "targets_met": {
                "throughput": per_worker >= TARGET_PER_WORKER,
                "latency": p99 < TARGET_P99_SECONDS,
            },
        }
