"""Every message of the corpus (tests/email_corpus) becomes exactly what expected.json says."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chalicelib.channels.email_mime import parse

CORPUS = Path(__file__).resolve().parents[1] / "email_corpus"
EXPECTED: dict[str, dict] = json.loads((CORPUS / "expected.json").read_text())
DOMAIN = "helpline.example.org"


def test_the_corpus_is_large_enough():
    assert len(EXPECTED) >= 40
    assert all((CORPUS / name).exists() for name in EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_message_becomes_what_is_expected(name):
    expect = EXPECTED[name]
    parsed = parse((CORPUS / name).read_bytes(), DOMAIN)
    message, email = parsed.message, parsed.message.email
    assert message.channel == "email" and message.provider_id
    if "sender" in expect:
        assert message.sender.value == expect["sender"]
    if "subject" in expect:
        assert email.subject == expect["subject"]
    if "body" in expect:
        assert expect["body"] in message.body
    if "body_lacks" in expect:
        assert expect["body_lacks"] not in message.body
    if "body_max" in expect:
        assert len(message.body) <= expect["body_max"]
    if "quoted" in expect:
        assert expect["quoted"] in email.quoted
    if "mailbox" in expect:
        assert email.mailbox == expect["mailbox"]
    if "token" in expect:
        assert email.reply_token == expect["token"]
    if "queue" in expect:
        assert message.queue == expect["queue"]
    if "attachments" in expect:
        got = [[a.filename, a.content_type, a.size] for a in email.attachments]
        assert got == expect["attachments"]
        assert [len(p) for p in parsed.attachments] == [a[2] for a in expect["attachments"]]
    if "inline" in expect:
        assert all(a.inline for a in email.attachments)
    assert email.auto_reply is expect.get("auto_reply", False) or "auto_reply" not in expect
    if "auto_reply" in expect:
        assert email.auto_reply is expect["auto_reply"]
    assert email.quarantine == expect.get("quarantine")
    assert (email.needs_review is not None) == expect.get("needs_review", False)
    if "message_id" in expect:
        assert email.message_id == expect["message_id"]
    if "in_reply_to" in expect:
        assert list(email.in_reply_to) == expect["in_reply_to"]
    if "references" in expect:
        assert list(email.references) == expect["references"]


def test_ordinary_mail_is_not_flagged():
    parsed = parse((CORPUS / "01-plain.eml").read_bytes(), DOMAIN)
    email = parsed.message.email
    assert not email.auto_reply and email.needs_review is None and email.quarantine is None
    assert email.message_id == "<m1@example.com>"
    # deduped on the bytes, never on the Message-ID a sender chooses
    assert parsed.message.provider_id.startswith("sha256:")


def test_without_message_id_the_provider_id_is_a_content_hash():
    raw = (CORPUS / "36-missing-message-id.eml").read_bytes()
    assert parse(raw, DOMAIN).message.provider_id == parse(raw, DOMAIN).message.provider_id
    assert parse(raw, DOMAIN).message.provider_id.startswith("sha256:")


def test_unparseable_bytes_are_kept_for_review_not_raised():
    parsed = parse(b"\x00\xff\xfe garbage \r\n\r\n\x00", DOMAIN)
    assert parsed.message.email.needs_review
