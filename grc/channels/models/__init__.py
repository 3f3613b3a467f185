from grc.channels.models.calls import Call, PhoneLine
from grc.channels.models.letters import Letter, LetterTemplate
from grc.channels.models.mail import BouncedAddress, InboundEmail, Mailbox, MailThreadId
from grc.channels.models.sms import SmsMessage, SmsProvider
from grc.channels.models.webhooks import HookChannel, HookDelivery, HookMessage

__all__ = [
    "BouncedAddress",
    "Call",
    "HookChannel",
    "HookDelivery",
    "HookMessage",
    "InboundEmail",
    "Letter",
    "LetterTemplate",
    "MailThreadId",
    "Mailbox",
    "PhoneLine",
    "SmsMessage",
    "SmsProvider",
]
