"""The store's batched reads when DynamoDB is throttled: the keys it leaves unprocessed are asked
again until every one is answered (a BatchGetItem may answer only part of its keys)."""

from __future__ import annotations

from typing import Any

from chalicelib.adapters.dynamodb import DynamoStore
from chalicelib.adapters.dynamodb.codec import dump, identity_key, load
from chalicelib.domain.model import EmailDetails, Identity, InboundMessage

SOFIE = Identity("email", "sofie@example.com")


class Throttled:
    """A client answering one key per BatchGetItem (the rest unprocessed), from `items`."""

    def __init__(self, items: list[dict[str, Any]]) -> None:
        self.items = {(i["pk"], i["sk"]): i for i in items}
        self.requests: list[dict[str, Any]] = []

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        self.requests.append(RequestItems)
        (table, wanted), *_ = RequestItems.items()
        first, *rest = [load(key) for key in wanted["Keys"]]
        found = self.items.get((first["pk"], first["sk"]))
        answer: dict[str, Any] = {"Responses": {table: [dump(found)] if found else []}}
        if rest:
            answer["UnprocessedKeys"] = {table: {**wanted, "Keys": [dump(k) for k in rest]}}
        return answer


def test_every_key_a_throttled_batch_leaves_unprocessed_is_read_again():
    identity = {**identity_key(SOFIE), "contact_id": "c1", "open_case_id": "k1"}
    token = {"pk": "MAILTOKEN#t1", "sk": "MAILTOKEN", "case_id": "k1", "contact_id": "c1"}
    client = Throttled([identity, token])
    email = EmailDetails("Question", "<q@x>", reply_token="t1")
    message = InboundMessage("email", "ses", "M1", SOFIE, "helpline@x", "Hi", email=email)
    reads = DynamoStore(client, "table").mail_reads(message, ("<a@x>", "<b@x>"))
    assert reads.identity is not None and reads.identity.open_case_id == "k1"
    assert reads.by_token is not None and reads.by_token.id == "k1"
    assert (reads.delivery, reads.by_message_id) == (None, {})
    assert len(client.requests) == 5  # dedupe, identity, token, two Message-IDs: one at a time
    assert all(r["table"]["ConsistentRead"] for r in client.requests)
