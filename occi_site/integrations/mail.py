"""E-mail: queued as a notification with the change that caused it, sent
by the delivery worker through pyramid_mailer.

``send_mail`` writes a Notification in the current transaction (see
``occi_site.delivery``); nothing leaves during the request.  The worker
hands it to ``MailSender``, which sends it at once through pyramid_mailer
(SMTP, or in development the dev outbox: the same code path) and says
whether the server took it.  Each message carries a Message-ID made from
the notification's name, the same on every attempt, which the mail
provider's delivery reports quote back.
"""

import smtplib
from email import message_from_bytes
from email.header import decode_header, make_header
from email.utils import parseaddr

from pyramid_mailer.interfaces import IMailer
from pyramid_mailer.mailer import Mailer, SMTP_SSLMailer
from pyramid_mailer.message import Message
from repoze.sendmail.mailer import SMTPMailer

from ..delivery import Accepted, DeliveryFailed, queue
from .receipts import SignedReports


class OutboxTransport:
    """A repoze.sendmail mailer that delivers into the dev outbox."""

    def __init__(self, outbox):
        self.outbox = outbox

    def send(self, fromaddr, toaddrs, message):
        parsed = message_from_bytes(message.as_bytes())
        part = next(p for p in parsed.walk() if p.get_content_type() == 'text/plain')
        body = part.get_payload(decode=True).decode(part.get_content_charset() or 'utf-8')
        subject = str(make_header(decode_header(parsed['Subject'])))
        for to in toaddrs:
            self.outbox.append('email', to, subject, body)


class _QuitQuietly:
    """repoze.sendmail says QUIT after the server accepted the message; a
    connection that drops then must not look like a failed delivery, or the
    message would be sent again."""

    def quit(self):
        try:
            return super().quit()
        except (smtplib.SMTPException, OSError):
            self.close()
            return None


class _SMTP(_QuitQuietly, smtplib.SMTP):
    pass


class _SMTP_SSL(_QuitQuietly, smtplib.SMTP_SSL):
    pass


def _failure(error):
    """A DeliveryFailed for what smtplib raised: permanent for the server's
    5xx refusals of this message, transient for the rest (the server is
    down, busy, or not configured as we expect: an operator can fix it
    within the day of retries)."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        code, text = next(iter(error.recipients.values()))
        return DeliveryFailed('%d %s' % (code, _text(text)), permanent=code >= 500)
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return DeliveryFailed('%d %s' % (error.smtp_code, _text(error.smtp_error)))
    if isinstance(error, smtplib.SMTPResponseException):
        return DeliveryFailed(
            '%d %s' % (error.smtp_code, _text(error.smtp_error)),
            permanent=error.smtp_code >= 500,
        )
    return DeliveryFailed('%s: %s' % (type(error).__name__, error))


def _text(answer):
    return answer.decode('utf-8', 'replace') if isinstance(answer, bytes) else str(answer)


class MailSender:
    """Sends one notification's e-mail now, through the registry's mailer."""

    def __init__(self, mailer, sender):
        self.mailer = mailer
        self.sender = sender
        self.domain = parseaddr(sender)[1].rpartition('@')[2] or 'localhost'

    def message_id(self, name):
        return '<%s@%s>' % (name, self.domain)

    def deliver(self, letter):
        message_id = self.message_id(letter.name)
        message = Message(
            subject=letter.subject,
            sender=self.sender,
            recipients=[letter.recipient],
            body=letter.body,
            html=letter.html,
            extra_headers={'Message-ID': message_id},
        )
        try:
            self.mailer.send_immediately(message, fail_silently=False)
        except (smtplib.SMTPException, OSError, RuntimeError) as error:
            raise _failure(error) from error
        return Accepted(message_id, 'accepted')


def send_mail(request, to, subject, body, html=None, **fields):
    """Queue an e-mail on the current transaction; returns its Notification.

    ``fields`` (template, language, civil_id) describe it; see ``delivery.queue``.
    """
    return queue(request, 'email', to, subject, body, html=html, **fields)


def includeme(config):
    settings = config.registry.settings
    settings.setdefault('mail.default_sender', 'OCCI <noreply@chamberoman.com>')
    if settings.get('occi.mail', 'outbox') == 'outbox':
        transport = OutboxTransport(config.registry.occi_outbox)
        mailer = Mailer(smtp_mailer=transport, default_sender=settings['mail.default_sender'])
    else:
        mailer = Mailer.from_settings(settings, 'mail.')
        smtp = mailer.smtp_mailer
        if isinstance(smtp, SMTPMailer):
            smtp.smtp = _SMTP_SSL if isinstance(smtp, SMTP_SSLMailer) else _SMTP
    config.registry.registerUtility(mailer, IMailer)
    config.registry.occi_mail = MailSender(mailer, settings['mail.default_sender'])
    config.registry.occi_mail_reports = SignedReports.from_settings(settings, 'occi.mail')
