"""E-mail messages (.eml, RFC 5322) through the standard library's `email` package.

The subject is the title and the Date header the date; the text starts with From/To lines (who wrote
to whom is often what a question asks) followed by the plain-text body, or the HTML body's text
when there is no plain one. Attachments are not read."""

from __future__ import annotations

from email import policy
from email.errors import MessageError
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from assistant.ingest.extract import (
    ExtractedPage,
    FileUnreadable,
    iso_date,
    markup_text,
    one_line,
    read_bytes,
)

_ADDRESS_HEADERS = ("From", "To", "Cc")


# A malformed header is kept as raw text by policy.default; only its parsed views can fail, and the
# address parser fails on some inputs through its own bugs: AttributeError for 'a:b:c;d' and 'a@['
# (Python 3.11), which are still this message's fault, not a reason to stop.
_HEADER_FAILURES = (MessageError, ValueError, IndexError, AttributeError, TypeError)


def _header(message: EmailMessage, name: str) -> str | None:
    try:
        value = message.get(name)
    except _HEADER_FAILURES as exc:
        raise FileUnreadable(f"has a {name} header that cannot be read ({type(exc).__name__}: {one_line(exc)}); "
                             "correct the header or re-save the message") from exc
    text = " ".join(str(value).split()) if value is not None else ""
    return text or None


def _date(message: EmailMessage) -> str | None:
    try:
        header = message.get("Date")
        return iso_date(header.datetime) if header is not None and getattr(header, "datetime", None) else None
    except _HEADER_FAILURES:
        return None  # an unreadable date is no date, not an unreadable message


def _body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, ValueError, MessageError) as exc:  # an unknown charset or a broken encoding
        raise FileUnreadable(f"has a body that cannot be decoded ({type(exc).__name__}: {one_line(exc)})") from exc
    if not isinstance(content, str):
        return ""
    return markup_text(content) if part.get_content_subtype() == "html" else content


def read_eml(path: Path) -> ExtractedPage:
    message = BytesParser(policy=policy.default).parsebytes(read_bytes(path))
    if not isinstance(message, EmailMessage) or not message.keys():
        raise FileUnreadable("is not an e-mail message (no headers); save the message as .eml")
    lines = [f"{name}: {value}" for name in _ADDRESS_HEADERS if (value := _header(message, name))]
    body = _body(message)
    return ExtractedPage(text="\n".join(lines) + "\n\n" + body, title=_header(message, "Subject"), date=_date(message))
