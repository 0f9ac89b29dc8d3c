"""Web chat figures: how long a practitioner's reply takes to reach a waiting long poll, and
what the poll costs in DynamoDB requests, against DynamoDB Local.

    .venv/bin/python bench/chat_latency.py
"""

from __future__ import annotations

import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import RequestCounter, bench_services  # noqa: E402
from chalicelib.domain import casework, chat  # noqa: E402
from chalicelib.domain.model import Actor, Identity  # noqa: E402
from scripts.localdb import DynamoDBLocal, use_local_credentials  # noqa: E402

SAMPLES = 20


def chat_figures(endpoint: str) -> list[tuple[str, str, str]]:
    client, store, services = bench_services(endpoint, "bench-chat", "60")
    started = chat.start(services, "198.51.100.1", "da", "hej")
    conversation = chat.find(services, started.token).id
    known = store.find_identity(Identity("chat", conversation))
    assert known is not None and known.open_case_id is not None
    case_id, boss = known.open_case_id, Actor("boss", "manager")
    after = chat.messages(services, started.token, None, 0)[0][-1].id
    delays: list[float] = []
    for n in range(SAMPLES):
        arrived: dict[str, object] = {}

        def wait(since: str, into: dict[str, object]) -> None:
            found, _ = chat.messages(services, started.token, since, 20)
            into["at"], into["id"] = time.monotonic(), found[-1].id

        waiter = threading.Thread(target=wait, args=(after, arrived))
        waiter.start()
        time.sleep(0.3 + (n % 5) * 0.13)  # the reply lands at various points of the back-off
        latest = store.get_case(case_id, with_timeline=True).timeline[-1].id
        sent = time.monotonic()
        casework.reply(services, case_id, boss, f"svar {n}", seen=latest)
        waiter.join()
        delays.append(float(arrived["at"]) - sent)  # type: ignore[arg-type]
        after = str(arrived["id"])
    counter = RequestCounter(client)
    counter.take()
    chat.messages(services, started.token, after, 5)
    polls = counter.take()
    ordered = sorted(delays)
    return [
        (
            "chat: reply -> waiting long poll (median)",
            f"{statistics.median(delays) * 1000:.0f} ms",
            "goal < 3 s",
        ),
        ("chat: reply -> waiting long poll (worst of 20)", f"{ordered[-1] * 1000:.0f} ms", ""),
        ("chat: DynamoDB requests of a 5 s long poll with nothing new", f"{len(polls)}", ""),
    ]


def main() -> None:
    use_local_credentials()
    with DynamoDBLocal() as database:
        for name, value, goal in chat_figures(database.endpoint):
            print(f"{name:62} {value:>10}  {goal}")


if __name__ == "__main__":
    main()
