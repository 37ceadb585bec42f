"""The pipelined SMTP client: a group of connections, one message each, held before
the final "." until the group's rows are handed over (``campaigns.sending`` docstring)."""

from __future__ import annotations

import contextlib
import functools
import logging
import smtplib
import socket
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.core.mail.message import sanitize_address

logger = logging.getLogger(__name__)


class Refused(Exception):
    """The server refused this message (``permanent``: do not retry it)."""

    def __init__(self, error: str, *, permanent: bool) -> None:
        super().__init__(error)
        self.permanent = permanent


def smtp_begin_all(
    pairs: list[tuple[SMTPBackend, EmailMultiAlternatives]], data: list[bytes]
) -> list[Exception | None]:
    """MAIL, RCPT, DATA and the content on each connection — everything but the final
    ".": nothing is accepted yet. Returns, per pair, None or the error that stopped it.

    Each command goes out on every connection of the group before any reply is read, so
    the group waits once per step, not once per message and step (no SMTP PIPELINING
    needed: each connection still sees one command at a time).
    """
    errors: list[Exception | None] = [None] * len(pairs)
    plans: list[list[tuple[str, str, tuple[int, ...]]]] = []
    for i, (backend, email) in enumerate(pairs):
        encoding = email.encoding or settings.DEFAULT_CHARSET
        try:
            if backend.connection is None:
                connection_open(backend)
            sender = _sender(email.from_email, encoding)
            recipients = [sanitize_address(a, encoding) for a in email.recipients()]
        except (smtplib.SMTPException, OSError) as error:
            errors[i] = error
            recipients, sender = [], ""
        plan: list[tuple[str, str, tuple[int, ...]]] = [
            ("mail", f"FROM:{smtplib.quoteaddr(sender)}", (250,))
        ]
        plan += [("rcpt", f"TO:{smtplib.quoteaddr(r)}", (250, 251)) for r in recipients]
        plan.append(("data", "", (354,)))
        plans.append(plan)
    # A connection that failed to open has its error set and is never used below.
    conns: list[Any] = [backend.connection for backend, _ in pairs]
    step = 0
    while True:
        active = [i for i in range(len(pairs)) if errors[i] is None and step < len(plans[i])]
        if not active:
            break
        for i in active:
            verb, argument, _ = plans[i][step]
            try:
                conns[i].putcmd(verb, argument)
            except (smtplib.SMTPException, OSError) as error:
                errors[i] = error
        for i in active:
            if errors[i] is not None:
                continue
            verb, _, expected = plans[i][step]
            try:
                code, reply = conns[i].getreply()
                if code not in expected:
                    conns[i].rset()
                    errors[i] = Refused(
                        f"{verb.upper()} {code} {reply!r}"[:300], permanent=code >= 500
                    )
            except (smtplib.SMTPException, OSError) as error:
                errors[i] = error
        step += 1
    for i, conn in enumerate(conns):
        if errors[i] is None:
            # The dot-stuffing SMTP.data() does (a private helper the stubs leave out).
            quoted = smtplib._quote_periods(data[i])  # type: ignore[attr-defined]
            if not quoted.endswith(b"\r\n"):
                quoted += b"\r\n"
            try:
                conn.send(quoted)
            except (smtplib.SMTPException, OSError) as error:
                errors[i] = error
    return errors


@functools.lru_cache(maxsize=8)
def _sender(from_email: str, encoding: str) -> str:
    return sanitize_address(from_email, encoding)


def smtp_dot(conn: smtplib.SMTP) -> None:
    """The final ".": from here the server has the message (its reply is read later)."""
    conn.send(b".\r\n")


def smtp_reply(conn: smtplib.SMTP) -> None:
    code, reply = conn.getreply()
    if code != 250:
        raise Refused(f"end of data {code} {reply!r}"[:300], permanent=code >= 500)


def cork(backends: list[Any], *, on: bool) -> None:
    """TCP_CORK on (hold small writes in the kernel) or off (send them now); Linux only,
    elsewhere the dots go out one by one."""
    if not hasattr(socket, "TCP_CORK"):
        return
    for backend in backends:
        sock = getattr(backend.connection, "sock", None)
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1 if on else 0)


def is_broken(error: Exception) -> bool:
    # The connection itself is gone (SMTPException is an OSError too: a refusal of one
    # message is not a reason to stop the batch).
    return isinstance(
        error, (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError)
    ) or not isinstance(error, smtplib.SMTPException)


def connection_open(backend: SMTPBackend) -> None:
    """Open the SMTP connection with Nagle's algorithm off.

    The final ".\r\n" is a small write right after the body, with no reply in between:
    with Nagle on, the kernel holds it until the server ACKs the body, and servers delay
    that ACK, so each message would wait on a delayed ACK.
    """
    backend.open()
    connection: Any = backend.connection  # open() raises when it cannot connect
    sock = getattr(connection, "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    connection.ehlo_or_helo_if_needed()


def close_quietly(backend: Any) -> None:
    try:
        backend.close()
    except (smtplib.SMTPException, OSError) as error:
        logger.info("closing a broken SMTP connection: %s", error)


def reset(backend: Any) -> None:
    """Drop the connection without QUIT: it may be in the middle of a DATA section, where
    QUIT would be read as message text. The server discards a message without its "."."""
    conn = getattr(backend, "connection", None) if isinstance(backend, SMTPBackend) else None
    if conn is None:
        close_quietly(backend)
        return
    sock = getattr(conn, "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        conn.close()
    backend.connection = None


def smtp_connections() -> int:
    """SMTP connections a worker keeps open: the messages of one group commit."""
    return max(1, int(getattr(settings, "CAMPAIGN_SMTP_CONNECTIONS", 10)))
