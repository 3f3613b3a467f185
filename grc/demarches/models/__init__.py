from grc.demarches.models.acknowledgements import Acknowledgement
from grc.demarches.models.demarches import Demarche, DemarcheVersion
from grc.demarches.models.dossiers import Attachment, Dossier, ReferenceCounter
from grc.demarches.models.workflow import (
    ActionRun,
    Document,
    Message,
    MessageAttachment,
    Notification,
    PieceRequest,
    StatusChange,
    Transfer,
)

__all__ = [
    "Acknowledgement",
    "ActionRun",
    "Attachment",
    "Demarche",
    "DemarcheVersion",
    "Document",
    "Dossier",
    "Message",
    "MessageAttachment",
    "Notification",
    "PieceRequest",
    "ReferenceCounter",
    "StatusChange",
    "Transfer",
]
