"""Transactional e-mail through pyramid_mailer.

Messages join the request's transaction (repoze.sendmail's data manager):
they leave only when the transaction commits.  In development the transport
writes to the dev outbox instead of an SMTP server; everything else is the
same code path.
"""

from email import message_from_bytes
from email.header import decode_header, make_header

from pyramid_mailer.interfaces import IMailer
from pyramid_mailer.mailer import Mailer
from pyramid_mailer.message import Message


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


def send_mail(request, to, subject, body, html=None):
    """Queue an e-mail on the current transaction."""
    sender = request.registry.settings['mail.default_sender']
    message = Message(subject=subject, sender=sender, recipients=[to], body=body, html=html)
    request.mailer.send(message)


def includeme(config):
    settings = config.registry.settings
    settings.setdefault('mail.default_sender', 'OCCI <noreply@chamberoman.com>')
    if settings.get('occi.mail', 'outbox') == 'outbox':
        transport = OutboxTransport(config.registry.occi_outbox)
        mailer = Mailer(smtp_mailer=transport, default_sender=settings['mail.default_sender'])
        config.registry.registerUtility(mailer, IMailer)
    else:
        config.include('pyramid_mailer')
