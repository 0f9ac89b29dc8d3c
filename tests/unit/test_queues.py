"""An SMS keyword chooses the queue of the case it opens."""

from __future__ import annotations

import pytest

from chalicelib.channels.twilio_sms import parse_inbound
from chalicelib.domain.queues import queue_for_text
from tests.twilio_fakes import sms_form


@pytest.mark.parametrize(
    ("body", "queue"),
    [
        ("CAREERS what jobs suit me?", "careers"),
        ("job: I need a student job", "careers"),
        ("Uddannelse - hvad skal jeg vælge", "education"),
        ("study", "education"),
        ("I want to study medicine", "general"),  # only the first word counts
        ("", "general"),
        ("   ", "general"),
    ],
)
def test_first_word_chooses_the_queue(body, queue):
    assert queue_for_text(body) == queue


def test_the_sms_edge_sets_the_queue():
    assert parse_inbound(sms_form("+4520000001", "KARRIERE hjælp")).queue == "careers"
