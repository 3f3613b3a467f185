from grc.demarches.models.acknowledgements import Acknowledgement
from grc.demarches.models.demarches import Demarche, DemarcheVersion
from grc.demarches.models.dossiers import Attachment, Dossier, ReferenceCounter

__all__ = [
    "Acknowledgement",
    "Attachment",
    "Demarche",
    "DemarcheVersion",
    "Dossier",
    "ReferenceCounter",
]
