"""The local senders' folder: nothing is replaced or written outside it, whatever a reference
holds, and the listing survives a line cut short."""

from __future__ import annotations

import json
from pathlib import Path

from chalicelib.adapters import senders
from chalicelib.adapters.senders import LocalDialer, LocalMailOutbox, LocalOutbox
from chalicelib.config import load_settings
from scripts import outbox as outbox_tool

RAW = b"From: a@example.org\r\nTo: b@example.org\r\nSubject: Hi\r\n\r\nHello\r\n"


def test_two_emails_in_the_same_instant_are_two_files(tmp_path, monkeypatch):
    class Frozen(senders.datetime):  # type: ignore[misc, name-defined]
        @classmethod
        def now(cls, tz=None):
            return senders.datetime(2026, 11, 24, 9, 0, tzinfo=tz)

    monkeypatch.setattr(senders, "datetime", Frozen)
    mail = LocalMailOutbox(tmp_path)
    mail.send_email(RAW, "b@example.org", "c1.m1")
    mail.send_email(RAW + b"again\r\n", "b@example.org", "c1.m2")
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["20261124T090000000000Z-c1-1.eml", "20261124T090000000000Z-c1-2.eml"]
    assert (tmp_path / names[0]).read_bytes() == RAW  # exactly the bytes SES would get
    # a minor's messages: readable by the developer's own account only
    assert all((tmp_path / name).stat().st_mode & 0o077 == 0 for name in names)


def test_a_hostile_reference_cannot_name_a_file_outside_the_outbox(tmp_path):
    where = tmp_path / "outbox"
    LocalMailOutbox(where).send_email(RAW, "b@example.org", "../../escaped/x.y")
    LocalOutbox(directory=where).send_sms(
        "+4520000001", "Hi", "https://h.example.org/webhooks/twilio/sms/status?ref=../../x.y"
    )
    assert [p.name for p in tmp_path.iterdir()] == ["outbox"]
    [eml] = where.glob("*.eml")
    assert "/" not in eml.name and eml.name.count("..") == 0


def test_without_a_folder_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = load_settings({"TWILIO_AUTH_TOKEN": "x"})
    assert settings.outbox_dir is None
    senders.mail_sender(settings).send_email(RAW, "b@example.org", "c1.m1")
    senders.sms_sender(settings).send_sms("+4520000001", "Hi", None)
    assert list(tmp_path.iterdir()) == []


def test_calls_and_texts_are_lines_with_their_case_and_a_cut_line_is_skipped(tmp_path, capsys):
    status = "https://h.example.org/webhooks/twilio/voice/status?ref=case9.msg1"
    LocalDialer(directory=tmp_path).connect("+4520009999", "+4520000001", status)
    LocalOutbox(directory=tmp_path).send_sms("+4520000001", "First line\nsecond", None)
    with (tmp_path / "sms.jsonl").open("a") as file:
        file.write('{"at": "2026-11-2')  # a crash mid-write
    [call] = [json.loads(line) for line in (tmp_path / "calls.jsonl").read_text().splitlines()]
    assert (call["to"], call["practitioner"], call["case_id"]) == (
        "+4520000001",
        "+4520009999",
        "case9",
    )
    assert outbox_tool.main(["--dir", str(tmp_path), "--last", "5"]) == 0
    rows = capsys.readouterr().out.splitlines()[1:]
    assert len(rows) == 2 and "case9" in rows[0] and "call" in rows[0]
    assert rows[1].split()[3:5] == ["sms", "+4520000001"] and rows[1].endswith("First line")


def test_an_empty_outbox_says_so(tmp_path: Path, capsys):
    assert outbox_tool.main(["--dir", str(tmp_path / "none")]) == 0
    assert "empty" in capsys.readouterr().out
