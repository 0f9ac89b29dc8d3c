"""A cost note per 10,000 contacts, from the benchmark's DynamoDB request counts.

Prices are list prices in USD (us-east-1, on-demand, late 2025): change PRICES when they change.
Item sizes are under 1 KB (bodies are short); a transactional write costs 2 write units per item,
a strongly consistent read 1 read unit, an eventually consistent one half.
"""

from __future__ import annotations

PRICES = {
    "dynamodb_write_unit": 0.625 / 1e6,
    "dynamodb_read_unit": 0.125 / 1e6,
    "lambda_request": 0.20 / 1e6,
    "lambda_gb_second": 0.0000166667,
    "ses_email": 0.10 / 1000,
    "twilio_sms_segment": 0.0079,  # US; Denmark is about 0.06
    "twilio_voice_minute_inbound": 0.0085,
}
# One contact, as make bench counts it: reads, transactional items written, plain writes.
PER_CONTACT = {
    "reads": 1,  # the identity (strongly consistent)
    "transaction_items": 6,  # interaction, reply record, case, dedupe, (identity+contact first)
    "writes": 1,  # delivery status of the automatic reply
}
LAMBDA_MS, LAMBDA_GB = 120, 0.5


def per_10k() -> dict[str, float]:
    n = 10_000
    dynamodb = n * (
        PER_CONTACT["reads"] * PRICES["dynamodb_read_unit"]
        + PER_CONTACT["transaction_items"] * 2 * PRICES["dynamodb_write_unit"]
        + PER_CONTACT["writes"] * PRICES["dynamodb_write_unit"]
    )
    lambda_ = (
        n
        * 2
        * (PRICES["lambda_request"] + LAMBDA_MS / 1000 * LAMBDA_GB * PRICES["lambda_gb_second"])
    )
    return {
        "DynamoDB (on-demand)": dynamodb,
        "Lambda (2 invocations a contact, 120 ms at 512 MB)": lambda_,
        "SES (one acknowledgement a contact, if all were email)": n * PRICES["ses_email"],
        "Twilio SMS (one in, one acknowledgement, if all were SMS)": n
        * 2
        * PRICES["twilio_sms_segment"],
        "Twilio voice (3 minutes a call, if all were calls)": n
        * 3
        * PRICES["twilio_voice_minute_inbound"],
    }


if __name__ == "__main__":
    for item, usd in per_10k().items():
        print(f"{item:60s} ${usd:8.2f}")
