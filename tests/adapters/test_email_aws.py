"""Email through the AWS parts, under moto: SES stores a message in S3 and the S3 event records it;
SES v2 sends our raw MIME."""

from __future__ import annotations

import boto3
from chalice.test import Client
from moto import mock_aws

from chalicelib.adapters.blobs import S3Blobs
from chalicelib.adapters.senders import LocalDialer, LocalMailOutbox, LocalOutbox, SesMail
from chalicelib.config import load_settings
from chalicelib.domain.model import Identity
from chalicelib.wiring import Services, reset_services
from tests.conftest import MAIL_DOMAIN

BUCKET = "guidance-contact-centre-inbound-a1b2c3"  # CloudFormation names it

RAW = (
    b"From: Sofie <sofie@example.com>\r\nTo: careers@" + MAIL_DOMAIN.encode() + b"\r\n"
    b"Subject: Job advice\r\nMessage-ID: <s3-1@example.com>\r\n"
    b"X-SES-Spam-Verdict: PASS\r\nX-SES-Virus-Verdict: PASS\r\n\r\nWhat job suits me?\r\n"
)


def _received(key: str, spam: str = "PASS") -> dict:
    """SES's notification for a message its S3 action stored (the shape SES publishes)."""
    return {
        "notificationType": "Received",
        "mail": {"messageId": key.rsplit("/", 1)[-1], "source": "sofie@example.com"},
        "receipt": {
            "action": {
                "type": "S3",
                "bucketName": BUCKET,
                "objectKey": key,
                "topicArn": "arn:aws:sns:eu-west-1:1:inbound",
            },
            "spamVerdict": {"status": spam},
            "virusVerdict": {"status": "PASS"},
            "spfVerdict": {"status": "PASS"},
            "dkimVerdict": {"status": "PASS"},
            "dmarcVerdict": {"status": "PASS"},
        },
    }


def _deliver(moto_store, clock, raw: bytes, key: str, spam: str = "PASS") -> None:
    import json

    import app as application

    s3 = boto3.client("s3", region_name="eu-west-1")
    s3.create_bucket(
        Bucket=BUCKET,
        CreateBucketConfiguration={"LocationConstraint": "eu-west-1"},
    )
    s3.put_object(Bucket=BUCKET, Key=key, Body=raw)
    settings = load_settings({"MAIL_DOMAIN": MAIL_DOMAIN, "HOURS_CACHE_SECONDS": "0"})
    reset_services(
        Services(
            settings=settings,
            store=moto_store,
            sms=LocalOutbox(),
            calls=LocalDialer(),
            mail=LocalMailOutbox(),
            blobs=S3Blobs(s3, BUCKET),
            clock=clock,
        )
    )
    try:
        with Client(application.app) as client:
            event = client.events.generate_sns_event(message=json.dumps(_received(key, spam)))
            client.lambda_.invoke("email_from_ses", event)
            client.lambda_.invoke("email_from_ses", event)  # SNS delivers at least once
    finally:
        reset_services(None)


def test_a_message_ses_stored_in_s3_lands_on_a_case(moto_store, clock):
    key = "inbound/0a1b2c3d4e5f6g7h8i9j"
    _deliver(moto_store, clock, RAW, key)
    record = moto_store.find_identity(Identity("email", "sofie@example.com"))
    case = moto_store.get_case(record.open_case_id, with_timeline=True)
    assert case.queue == "careers"
    inbound = [i for i in case.timeline if i.direction == "in"]
    assert len(inbound) == 1 and inbound[0].body == "What job suits me?"
    assert inbound[0].email.raw_key == key and inbound[0].provider_id == "ses:" + key[8:]


def test_ses_spam_verdict_from_the_notification_quarantines(moto_store, clock):
    raw = RAW.replace(b"X-SES-Spam-Verdict: PASS\r\nX-SES-Virus-Verdict: PASS\r\n", b"")
    _deliver(moto_store, clock, raw, "inbound/spam0001", spam="FAIL")
    record = moto_store.find_identity(Identity("email", "sofie@example.com"))
    case = moto_store.get_case(record.open_case_id, with_timeline=True)
    assert case.queue == "quarantine"
    assert [i.direction for i in case.timeline] == ["in"]  # never acknowledged


def test_other_notifications_are_ignored():
    from chalicelib.channels.email_ses import stored_message

    assert stored_message({"notificationType": "Bounce"}) is None
    assert (
        stored_message(
            {
                "notificationType": "Received",
                "receipt": {"action": {"type": "Lambda"}},
                "mail": {"messageId": "x"},
            }
        )
        is None
    )


@mock_aws
def test_ses_v2_sends_the_raw_message_we_composed():
    ses = boto3.client("sesv2", region_name="eu-west-1")
    ses.create_email_identity(EmailIdentity=MAIL_DOMAIN)
    sender = SesMail(load_settings({"SES_SENDING": "on", "AWS_DEFAULT_REGION": "eu-west-1"}))
    raw = (
        b"From: helpline <studyhelp@" + MAIL_DOMAIN.encode() + b">\r\nTo: a@example.com\r\n"
        b"Subject: Re: hi\r\n\r\nHello\r\n"
    )
    sent = sender.send_email(raw, "a@example.com")
    assert sent.provider == "ses" and sent.provider_id and sent.status == "sent"
