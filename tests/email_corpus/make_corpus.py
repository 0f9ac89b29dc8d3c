"""Writes the email corpus (*.eml) and what each must become (expected.json).

Real-world shapes, written as raw bytes so that the odd ones stay odd: run it to regenerate after
adding a case (`python tests/email_corpus/make_corpus.py`); the files are committed.
"""

from __future__ import annotations

import base64
import json
import quopri
from pathlib import Path

HERE = Path(__file__).resolve().parent
D = "helpline.example.org"
CASES: list[tuple[str, bytes, dict]] = []


def add(name: str, raw: str | bytes, **expect: object) -> None:
    data = raw.encode("utf-8") if isinstance(raw, str) else raw
    CASES.append((name, data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"), expect))


def head(
    frm: str = "Sofie Jensen <sofie@example.com>",
    to: str = f"studyhelp@{D}",
    subject: str = "Question",
    mid: str | None = "<m1@example.com>",
    extra: str = "",
) -> str:
    lines = [
        f"From: {frm}",
        f"To: {to}",
        f"Subject: {subject}",
        "Date: Tue, 24 Nov 2026 10:00:00 +0100",
    ]
    if mid:
        lines.append(f"Message-ID: {mid}")
    return "\n".join(lines) + ("\n" + extra.strip() if extra.strip() else "") + "\n"


def b64(data: bytes) -> str:
    return base64.encodebytes(data).decode()


# 1-6: plain text in various shapes
add(
    "01-plain.eml",
    head() + "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n"
    "Hi, I am choosing between nursing and teaching.\n",
    sender="sofie@example.com",
    subject="Question",
    body="choosing between nursing and teaching",
    mailbox="studyhelp",
    queue="education",
)
add(
    "02-no-mime-headers.eml",
    head(subject="Old client") + "\nJust plain ASCII, no MIME headers.\n",
    body="Just plain ASCII",
    subject="Old client",
)
add(
    "03-latin1.eml",
    (
        head(subject="Hj=?iso-8859-1?q?=E6lp?=")
        + "MIME-Version: 1.0\nContent-Type: text/plain; charset=iso-8859-1\n"
        "Content-Transfer-Encoding: 8bit\n\n"
    ).encode()
    + "Jeg vil gerne læse på universitetet.\n".encode("latin-1"),
    body="Jeg vil gerne læse på universitetet",
    subject="Hjælp",
)
add(
    "04-windows-1252.eml",
    (
        head(subject="Smart quotes") + "MIME-Version: 1.0\n"
        "Content-Type: text/plain; charset=windows-1252\nContent-Transfer-Encoding: 8bit\n\n"
    ).encode()
    + "It’s “urgent” – sort of…\n".encode("cp1252"),
    body="It’s “urgent” – sort of…",
)
add(
    "05-quoted-printable.eml",
    head() + "MIME-Version: 1.0\nContent-Type: text/plain; "
    "charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n"
    + quopri.encodestring(
        "Må jeg søge ind på både SU og optagelse? Det er en lang linje som skal "
        "brydes op af quoted-printable kodningen.".encode()
    ).decode()
    + "\n",
    body="Må jeg søge ind på både SU og optagelse?",
)
add(
    "06-base64-body.eml",
    head() + "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
    "Content-Transfer-Encoding: base64\n\n" + b64("Base64 body with ünïcödé.\n".encode()),
    body="Base64 body with ünïcödé.",
)
# 7-12: encoded-word subjects and names
add(
    "07-subject-utf8-b.eml",
    head(subject="=?UTF-8?B?U3DDuHJnc23DpWwgb20gZ3ltbmFzaXVt?=") + "\nHej\n",
    subject="Spørgsmål om gymnasium",
)
add(
    "08-subject-utf8-q-split.eml",
    head(subject="=?utf-8?q?Valg_af_?=\n =?utf-8?q?uddannelse_?==?utf-8?q?=E2=80=93_hj=C3=A6lp?=")
    + "\nHej\n",
    subject="Valg af uddannelse – hjælp",
)
add(
    "09-from-encoded-name.eml",
    head(frm="=?utf-8?q?S=C3=B8ren_M=C3=B8ller?= <soren@example.dk>") + "\nHej\n",
    sender="soren@example.dk",
)
add("10-sender-uppercase.eml", head(frm="ANNA@EXAMPLE.COM") + "\nCaps\n", sender="anna@example.com")
add("11-empty-subject.eml", head(subject="") + "\nNo subject here\n", subject="")
add(
    "12-emoji-subject.eml",
    head(subject="=?UTF-8?B?SGVscCDwn5mP?=") + "\nPlease\n",
    subject="Help 🙏",
)
# 13-18: multipart/alternative and HTML
ALT = (
    'MIME-Version: 1.0\nContent-Type: multipart/alternative; boundary="alt"\n\n--alt\n'
    "Content-Type: text/plain; charset=utf-8\n\n{plain}\n--alt\nContent-Type: text/html; "
    "charset=utf-8\n\n{html}\n--alt--\n"
)
add(
    "13-alternative.eml",
    head() + ALT.format(plain="Plain version wins.", html="<p>HTML version</p>"),
    body="Plain version wins.",
)
add(
    "14-html-only.eml",
    head() + "MIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\n\n"
    "<html><head><style>p{color:red}</style></head><body><p>Hello <b>there</b>,</p>"
    "<p>I want&nbsp;to study <i>law</i>.</p><script>alert(1)</script></body></html>\n",
    body="Hello there,\n\nI want to study law.",
    body_lacks="alert",
)
add(
    "15-html-lists.eml",
    head() + "MIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\n\n"
    "<div>My options:<ul><li>Biology</li><li>Chemistry</li></ul></div>\n",
    body="Biology\n\nChemistry",
)
add(
    "16-alternative-html-first.eml",
    head() + "MIME-Version: 1.0\nContent-Type: "
    'multipart/alternative; boundary="b"\n\n--b\nContent-Type: text/html\n\n<p>H</p>\n--b\n'
    "Content-Type: text/plain\n\nPlain still preferred\n--b--\n",
    body="Plain still preferred",
)
add(
    "17-html-entities.eml",
    head() + "MIME-Version: 1.0\nContent-Type: text/html; charset=utf-8"
    "\n\n<p>Fish &amp; chips &lt;3 &#8211; caf&eacute;</p>\n",
    body="Fish & chips <3 – café",
)
add(
    "18-html-latin1-qp.eml",
    head() + "MIME-Version: 1.0\nContent-Type: text/html; "
    "charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\n<p>S=F8ger r=E5d</p>\n",
    body="Søger råd",
)
# 19-24: attachments and inline images
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))
PDF = b"%PDF-1.4\n" + b"x" * 2000
MIXED = (
    'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="mix"\n\n--mix\n'
    "Content-Type: text/plain; charset=utf-8\n\nSee my CV attached.\n--mix\n"
    'Content-Type: application/pdf; name="cv.pdf"\nContent-Disposition: attachment; '
    'filename="cv.pdf"\nContent-Transfer-Encoding: base64\n\n' + b64(PDF) + "--mix--\n"
)
add(
    "19-pdf-attachment.eml",
    head() + MIXED,
    body="See my CV attached.",
    attachments=[["cv.pdf", "application/pdf", len(PDF)]],
)
add(
    "20-two-attachments.eml",
    head() + "MIME-Version: 1.0\nContent-Type: multipart/mixed; "
    'boundary="m"\n\n--m\nContent-Type: text/plain\n\nTwo files\n--m\nContent-Type: image/png\n'
    'Content-Disposition: attachment; filename="a.png"\nContent-Transfer-Encoding: base64\n\n'
    + b64(PNG)
    + '--m\nContent-Type: text/csv\nContent-Disposition: attachment; filename="b.csv"'
    "\n\na,b\n1,2\n--m--\n",
    attachments=[["a.png", "image/png", len(PNG)], ["b.csv", "text/csv", 8]],
)
add(
    "21-inline-image.eml",
    head() + "MIME-Version: 1.0\nContent-Type: multipart/related; "
    'boundary="r"\n\n--r\nContent-Type: text/html\n\n<p>Look: <img src="cid:img1"></p>\n--r\n'
    "Content-Type: image/png\nContent-ID: <img1>\nContent-Disposition: inline\n"
    "Content-Transfer-Encoding: base64\n\n" + b64(PNG) + "--r--\n",
    body="Look:",
    attachments=[["attachment", "image/png", len(PNG)]],
    inline=True,
)
add(
    "22-encoded-filename.eml",
    head() + "MIME-Version: 1.0\nContent-Type: multipart/mixed; "
    'boundary="m"\n\n--m\nContent-Type: text/plain\n\nKarakterblad\n--m\nContent-Type: '
    "application/pdf\nContent-Disposition: attachment; filename*=utf-8''karakterblad%20%C3%A6%C3"
    "%B8%C3%A5.pdf\nContent-Transfer-Encoding: base64\n\n" + b64(PDF) + "--m--\n",
    attachments=[["karakterblad æøå.pdf", "application/pdf", len(PDF)]],
)
add(
    "23-alternative-inside-mixed.eml",
    head() + "MIME-Version: 1.0\nContent-Type: multipart/mixed;"
    ' boundary="o"\n\n--o\n'
    + ALT.format(plain="Nested plain", html="<p>Nested html</p>").replace("MIME-Version: 1.0\n", "")
    + "--o\nContent-Type: application/octet-stream\n"
    'Content-Disposition: attachment; filename="data.bin"\nContent-Transfer-Encoding: base64\n\n'
    + b64(b"\x00\x01\x02")
    + "--o--\n",
    body="Nested plain",
    attachments=[["data.bin", "application/octet-stream", 3]],
)
add(
    "24-forwarded-message.eml",
    head() + "MIME-Version: 1.0\nContent-Type: multipart/mixed; "
    'boundary="f"\n\n--f\nContent-Type: text/plain\n\nForwarding my teacher\'s advice\n--f\n'
    'Content-Type: message/rfc822\nContent-Disposition: attachment; filename="advice.eml"\n\n'
    "From: teacher@school.dk\nSubject: Advice\n\nTake maths A.\n--f--\n",
    body="Forwarding my teacher's advice",
)
# 25-29: quoted replies
add(
    "25-reply-on-wrote.eml",
    head(subject="Re: Question", extra="In-Reply-To: <out1@helpline>")
    + "\nThanks, that helps!\n\nOn Tue, 24 Nov 2026 at 10:00, Helpline <studyhelp@x> wrote:\n"
    "> Have you looked at the admission rules?\n",
    body="Thanks, that helps!",
    quoted="Have you looked at the admission rules?",
    body_lacks="admission",
)
add(
    "26-reply-danish.eml",
    head(subject="SV: Spørgsmål") + "\nTak!\n\nDen 24. nov. 2026 kl. 10.00 "
    "skrev Rådgivningen <studyhelp@x>:\n> Hvad vil du gerne læse?\n",
    body="Tak!",
    quoted="Hvad vil du gerne læse?",
)
add(
    "27-reply-outlook.eml",
    head(subject="RE: Question") + "\nYes please call me.\n\n"
    "-----Original Message-----\nFrom: Helpline\nSent: Tuesday\n\nShall we call you?\n",
    body="Yes please call me.",
    quoted="Shall we call you?",
)
add(
    "28-reply-only-quotes-at-end.eml",
    head() + "\nMy answer is yes.\n> earlier line 1\n> earlier line 2\n",
    body="My answer is yes.",
    quoted="earlier line 1",
)
add(
    "29-interleaved-quotes-kept.eml",
    head() + "\n> Which city?\nAarhus.\n> Which field?\nEngineering.\n",
    body="Aarhus.",
)
# 30-35: auto-replies, bulk, bounces
add(
    "30-auto-submitted.eml",
    head(subject="Out of office", extra="Auto-Submitted: auto-replied")
    + "\nI am away until Monday.\n",
    auto_reply=True,
)
add(
    "31-precedence-bulk.eml",
    head(subject="Newsletter", extra="Precedence: bulk") + "\nNews\n",
    auto_reply=True,
)
add(
    "32-list-id.eml",
    head(subject="[list] hello", extra="List-Id: <students.lists.example>") + "\nList mail\n",
    auto_reply=True,
)
add(
    "33-bounce-dsn.eml",
    head(frm="MAILER-DAEMON@mx.example.com", subject="Undelivered Mail")
    + "MIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; "
    'boundary="r"\n\n--r\nContent-Type: text/plain\n\nDelivery failed.\n--r\nContent-Type: '
    "message/delivery-status\n\nReporting-MTA: dns; mx.example.com\n\nFinal-Recipient: rfc822; "
    "x@y.z\nAction: failed\nStatus: 5.1.1\n--r--\n",
    auto_reply=True,
    sender="mailer-daemon@mx.example.com",
)
add(
    "34-auto-submitted-no.eml",
    head(extra="Auto-Submitted: no") + "\nA human wrote this.\n",
    auto_reply=False,
    body="A human wrote this.",
)
add(
    "35-noreply-sender.eml",
    head(frm="no-reply@portal.example.com", subject="Your receipt") + "\nReceipt\n",
    auto_reply=True,
)
# 36-42: malformed, odd and huge
add(
    "36-missing-message-id.eml",
    head(mid=None) + "\nNo Message-ID at all\n",
    message_id=None,
    body="No Message-ID at all",
)
add(
    "37-no-from.eml",
    "To: studyhelp@" + D + "\nSubject: Who am I\n\nNo sender\n",
    needs_review=True,
    body="No sender",
)
add("38-garbage-from.eml", head(frm="not an address") + "\nBad from\n", needs_review=True)
add(
    "39-unknown-charset.eml",
    (head() + "MIME-Version: 1.0\nContent-Type: text/plain; charset=x-made-up\n\n").encode()
    + b"Readable ascii anyway \xff\n",
    body="Readable ascii anyway",
)
add(
    "40-broken-base64.eml",
    head() + "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
    "Content-Transfer-Encoding: base64\n\nSGVsbG8gd29ybGQ=!!!not-base64\n",
    body="Hello world",
)
add(
    "41-missing-boundary-end.eml",
    head() + "MIME-Version: 1.0\nContent-Type: multipart/mixed; "
    'boundary="x"\n\n--x\nContent-Type: text/plain\n\nTruncated multipart\n',
    body="Truncated multipart",
)
add(
    "42-huge-body.eml",
    head(subject="Long story") + "\n" + ("All about me. " * 20000) + "\n",
    body="All about me.",
    body_max=100_000,
)
add(
    "43-reply-address-token.eml",
    head(to=f"Careers <careers+tok123abc@{D}>") + "\nThread me\n",
    mailbox="careers",
    token="tok123abc",
    queue="careers",
)
add(
    "44-cc-to-service.eml",
    head(to="friend@example.com", extra=f"Cc: uddannelse@{D}") + "\nCc'd the service\n",
    mailbox="uddannelse",
    queue="education",
)
add(
    "45-ses-spam.eml",
    head(extra="X-SES-Spam-Verdict: FAIL\nX-SES-Virus-Verdict: PASS") + "\nWIN A PRIZE\n",
    quarantine="spam",
)
add(
    "46-ses-virus.eml",
    head(extra="X-SES-Spam-Verdict: PASS\nX-SES-Virus-Verdict: FAIL") + "\nOpen the attachment\n",
    quarantine="virus",
)
add(
    "47-references-chain.eml",
    head(subject="Re: Re: Q", extra="In-Reply-To: <b@x>\nReferences: <a@x> <b@x>")
    + "\nThird message\n",
    in_reply_to=["<b@x>"],
    references=["<a@x>", "<b@x>"],
)
add(
    "48-lf-only-line-endings.eml",
    b"From: lf@example.com\nTo: studyhelp@" + D.encode() + b"\nSubject: LF\n\nUnix line endings\n",
    sender="lf@example.com",
    body="Unix line endings",
)


def main() -> None:
    expected = {}
    for name, raw, expect in CASES:
        if name.startswith("48-"):
            raw = raw.replace(b"\r\n", b"\n")
        (HERE / name).write_bytes(raw)
        expected[name] = expect
    (HERE / "expected.json").write_text(json.dumps(expected, indent=1, ensure_ascii=False) + "\n")
    print(f"{len(CASES)} messages")


if __name__ == "__main__":
    main()
