"""Real threads against DynamoDB Local: the rules hold under contention, not just in sequence.

Each thread does what one Lambda invocation of the SMS webhook does after the edge: parse Twilio's
form and call intake (one Lambda container serves one request at a time, so concurrency lives here).
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from boto3.dynamodb.types import TypeDeserializer

from chalicelib.adapters.dynamodb import DynamoStore
from chalicelib.channels.twilio_sms import parse_inbound
from chalicelib.domain import intake
from chalicelib.domain.hours import demo_hours
from tests.conftest import deps_of
from tests.twilio_fakes import new_sid, sms_form

HOURS = demo_hours()


def items(store: DynamoStore) -> list[dict]:
    found, kwargs = [], {"TableName": store.table, "ConsistentRead": True}
    while True:
        page = store.client.scan(**kwargs)
        found += [
            {k: TypeDeserializer().deserialize(v) for k, v in i.items()} for i in page["Items"]
        ]
        if "LastEvaluatedKey" not in page:
            return found
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def run_concurrently(forms: list[dict[str, str]], store: DynamoStore, clock) -> list:
    start = threading.Barrier(min(len(forms), 50))
    lock = threading.Lock()

    def one(form: dict[str, str]):
        try:
            start.wait(timeout=10)
        except threading.BrokenBarrierError:
            pass
        with lock:
            now = clock()
        return intake.receive(deps_of(store, lambda: now, hours=HOURS), parse_inbound(form))

    with ThreadPoolExecutor(max_workers=50) as pool:
        return list(pool.map(one, forms))


def test_200_concurrent_sms_from_20_numbers_give_20_cases_and_200_interactions(store, clock):
    numbers = [f"+45200000{n:02d}" for n in range(20)]
    forms = [sms_form(number, f"message {i}") for i in range(10) for number in numbers]
    outcomes = run_concurrently(forms, store, clock)

    stored = items(store)
    cases = [i for i in stored if i["type"] == "case"]
    pointers = [i for i in stored if i["type"] == "open_case"]
    inbound = [i for i in stored if i["type"] == "interaction" and i["direction"] == "in"]
    acks = [i for i in stored if i["type"] == "interaction" and i["direction"] == "out"]
    assert len(cases) == 20 and all(c["status"] == "queued" for c in cases)
    assert len(pointers) == 20
    assert len(inbound) == 200
    assert Counter(i["case_id"] for i in inbound) == Counter({c["id"]: 10 for c in cases})
    assert len(acks) == 20 and sum(o.new_case for o in outcomes) == 20
    assert sum(c["inbound_count"] for c in cases) == 200
    # every citizen's ten messages are on one case
    by_number: dict[str, set[str]] = {}
    for form, outcome in zip(forms, outcomes, strict=True):
        by_number.setdefault(form["From"], set()).add(outcome.case_id)
    assert all(len(ids) == 1 for ids in by_number.values())


def test_one_message_delivered_5_times_concurrently_is_stored_once(store, clock):
    form = sms_form("+4520000099", "only once please", sid=new_sid())
    outcomes = run_concurrently([form] * 5, store, clock)

    stored = items(store)
    inbound = [i for i in stored if i["type"] == "interaction" and i["direction"] == "in"]
    assert len(inbound) == 1
    assert len({o.case_id for o in outcomes}) == 1
    assert sum(not o.duplicate for o in outcomes) == 1
    assert len({(o.reply, o.reply_ref) for o in outcomes}) == 1  # every retry answers the same
