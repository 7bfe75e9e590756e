"""Sending a report by e-mail through the organisation's SMTP server (smtplib; settings from the environment).

``MAIL_SERVER``, ``MAIL_PORT``, ``MAIL_USE_TLS`` (STARTTLS on a plain connection), ``MAIL_USE_SSL`` (TLS from
the first byte, usually port 465), ``MAIL_USERNAME``/``MAIL_PASSWORD`` and ``MAIL_FROM``. Without
``MAIL_SERVER`` nothing is sent: :class:`MailNotConfigured` says what to set, instead of a traceback about
port 25 on localhost.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping, Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid


class MailNotConfigured(RuntimeError):
    """No SMTP server is configured."""


class MailFailed(RuntimeError):
    """The SMTP server could not be reached or refused the message; the text says which and why."""


def build_message(*, sender: str, recipients: Sequence[str], subject: str, body: str,
                  attachments: Sequence[tuple[str, bytes, str]] = ()) -> EmailMessage:
    """A plain-text message with attachments given as (file name, content, MIME type)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies to a robot
    message.set_content(body)
    for name, content, mime in attachments:
        maintype, _slash, subtype = mime.partition("/")
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=name)
    return message


def send(message: EmailMessage, config: Mapping, *, timeout: float = 30) -> dict[str, tuple[int, bytes]]:
    """Deliver ``message`` with the SMTP settings in ``config`` (the Flask configuration).

    Returns the recipients the server refused while accepting the others (empty when all were accepted);
    raises :class:`MailFailed` when nobody got it, so a job fails visibly and can be retried.
    """
    server = config.get("MAIL_SERVER")
    if not server:
        raise MailNotConfigured("No mail server is configured: set MAIL_SERVER (and MAIL_PORT, MAIL_USE_TLS, "
                                "MAIL_USERNAME, MAIL_PASSWORD, MAIL_FROM) to send the report by e-mail.")
    port = int(config.get("MAIL_PORT") or 25)
    # MAIL_CA_FILE: the certificate authority of a company mail relay that is not in the system's store.
    context = ssl.create_default_context(cafile=config.get("MAIL_CA_FILE") or None)
    use_ssl = bool(config.get("MAIL_USE_SSL"))
    use_tls = bool(config.get("MAIL_USE_TLS")) and not use_ssl
    if config.get("MAIL_USERNAME") and not (use_ssl or use_tls):
        raise MailNotConfigured("MAIL_USERNAME is set but neither MAIL_USE_TLS nor MAIL_USE_SSL: dsr does not "
                                "send a password over an unencrypted connection.")
    try:
        smtp = (smtplib.SMTP_SSL(server, port, timeout=timeout, context=context) if use_ssl
                else smtplib.SMTP(server, port, timeout=timeout))
    except (OSError, smtplib.SMTPException) as exc:
        raise MailFailed(f"The report could not be sent through {server}:{port}: {exc}") from exc
    try:
        if use_tls:
            smtp.starttls(context=context)
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
        refused = smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        smtp.close()
        raise MailFailed(f"The report could not be sent through {server}:{port}: {exc}") from exc
    # Accepted: whatever the server says to QUIT, the message is on its way (a failure now must not make
    # the job fail and a retry send it twice).
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()
    return dict(refused)
