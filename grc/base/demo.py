"""The demo data set: two collectivités, their staff and ten citizens. Idempotent."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from stdnum import luhn

from grc.base.models import Channel, Collectivite, Membership, Role, Service, User
from grc.base.models.address import Address
from grc.base.services import accounts, collectivites, usagers

DEMO_PASSWORD = "demo-grc-2026"  # noqa: S105 - a documented demo password, refused in production


def _siren(prefix: str) -> str:
    return prefix + luhn.calc_check_digit(prefix)


def _declaration(*, rate: str, audited: datetime.date, contact: str) -> dict:
    """A partially conforming portal's accessibility declaration, as after a first audit."""
    return {
        "accessibility_status": "partielle",
        "accessibility_rate": Decimal(rate),
        "accessibility_audit_date": audited,
        "accessibility_auditor": "Agence de mutualisation, pôle accessibilité numérique",
        "accessibility_non_compliances": (
            "Certaines cartes de localisation n'ont pas d'alternative textuelle complète "
            "(critère 1.3).\n"
            "Des documents PDF anciens joints aux démarches ne sont pas balisés (critère 13.3)."
        ),
        "accessibility_derogations": "",
        "accessibility_contact": contact,
        "accessibility_multiyear_plan": (
            "Schéma pluriannuel 2026-2028 : audit de chaque nouveau service en ligne, formation "
            "des agents qui rédigent les contenus, clauses d'accessibilité dans les marchés."
        ),
        "accessibility_action_plan": (
            "Alternatives textuelles des cartes ; remplacement des PDF non balisés ; nouvel "
            "audit à l'automne."
        ),
    }


COLLECTIVITES = [
    {
        "data": {
            "name": "Commune de Saint-Aubin-sur-Loire",
            "slug": "saint-aubin",
            "reference_prefix": "MAIRIE-STAUBIN",
            "kind": "commune",
            "siren": _siren("21499901"),
            "address_line1": "1 place de la Mairie",
            "postal_code": "49170",
            "city": "Saint-Aubin-sur-Loire",
            "email": "mairie@saint-aubin.test",
            "phone": "02 41 00 10 20",
            "website": "https://www.saint-aubin.test",
            "primary_colour": "#1d4f91",
            "dpo_name": "Délégué mutualisé de l'agence",
            "dpo_email": "dpo@saint-aubin.test",
            "legal_mentions": (
                "Conception du portail : plateforme GRC, logiciel libre mutualisé par l'agence."
            ),
            "publication_director": "Hélène Martin, maire de Saint-Aubin-sur-Loire",
            **_declaration(
                rate="78.50",
                audited=datetime.date(2026, 3, 12),
                contact="accessibilite@saint-aubin.test ou 02 41 00 10 20",
            ),
        },
        "hosts": ["saint-aubin.localhost"],
        "services": [
            (
                "Accueil de la mairie",
                "accueil@saint-aubin.test",
                "02 41 00 10 20",
                "Lundi au vendredi 8h30–12h et 13h30–17h30, samedi 9h–12h",
            ),
            (
                "État civil",
                "etat-civil@saint-aubin.test",
                "02 41 00 10 21",
                "Lundi au vendredi 8h30–12h",
            ),
            (
                "Urbanisme",
                "urbanisme@saint-aubin.test",
                "02 41 00 10 22",
                "Mardi et jeudi 9h–12h, sur rendez-vous l'après-midi",
            ),
            (
                "Voirie et espaces publics",
                "voirie@saint-aubin.test",
                "02 41 00 10 23",
                "Lundi au vendredi 8h–12h",
            ),
            (
                "Affaires scolaires",
                "ecoles@saint-aubin.test",
                "02 41 00 10 24",
                "Lundi, mercredi et vendredi 8h30–12h",
            ),
        ],
        "admin": ("admin@saint-aubin.test", "Claire", "Moreau"),
        "agents": [
            ("agent1@saint-aubin.test", "Julien", "Lefèvre", "État civil"),
            ("agent2@saint-aubin.test", "Sophie", "Garnier", "Voirie et espaces publics"),
        ],
    },
    {
        "data": {
            "name": "Communauté de communes Loire et Coteaux",
            "slug": "loire-coteaux",
            "reference_prefix": "CCLC",
            "kind": "epci",
            "siren": _siren("20009901"),
            "address_line1": "12 avenue des Vignes",
            "postal_code": "49170",
            "city": "Saint-Aubin-sur-Loire",
            "email": "contact@loire-coteaux.test",
            "phone": "02 41 00 20 00",
            "website": "https://www.loire-coteaux.test",
            "primary_colour": "#6b3a12",
            "dpo_name": "Délégué mutualisé de l'agence",
            "dpo_email": "dpo@loire-coteaux.test",
            "publication_director": "Bernard Lemaire, président de la communauté de communes",
            **_declaration(
                rate="71.20",
                audited=datetime.date(2026, 2, 3),
                contact="accessibilite@loire-coteaux.test",
            ),
        },
        "hosts": ["loire-coteaux.localhost"],
        "services": [
            (
                "Gestion des déchets",
                "dechets@loire-coteaux.test",
                "02 41 00 20 10",
                "Lundi au vendredi 9h–12h30",
            ),
            (
                "Eau et assainissement",
                "eau@loire-coteaux.test",
                "02 41 00 20 20",
                "Lundi au vendredi 8h30–12h et 14h–17h",
            ),
            (
                "Développement économique",
                "eco@loire-coteaux.test",
                "02 41 00 20 30",
                "Sur rendez-vous",
            ),
        ],
        "admin": ("admin@loire-coteaux.test", "Nathalie", "Rousseau"),
        "agents": [
            ("agent1@loire-coteaux.test", "Karim", "Benali", "Gestion des déchets"),
            ("agent2@loire-coteaux.test", "Élodie", "Fournier", "Eau et assainissement"),
        ],
    },
]

# Filled in on a demo loaded before these fields existed.
DECLARATION_FIELDS = (
    "publication_director",
    *(name for name in COLLECTIVITES[0]["data"] if name.startswith("accessibility_")),
)

CITIZENS = [
    # email, first, last, birth date, street, phone; records in the commune, the first three
    # also known to the intercommunalité.
    (
        "marie.dubois@exemple.test",
        "Marie",
        "Dubois",
        "1984-03-12",
        "4 rue des Tilleuls",
        "06 12 34 56 01",
    ),
    (
        "thomas.bernard@exemple.test",
        "Thomas",
        "Bernard",
        "1979-11-02",
        "17 chemin du Moulin",
        "06 12 34 56 02",
    ),
    (
        "lea.petit@exemple.test",
        "Léa",
        "Petit",
        "1995-07-25",
        "2 impasse des Vignes",
        "07 61 23 45 03",
    ),
    (
        "nicolas.robert@exemple.test",
        "Nicolas",
        "Robert",
        "1968-01-30",
        "9 rue de la Loire",
        "06 12 34 56 04",
    ),
    (
        "camille.richard@exemple.test",
        "Camille",
        "Richard",
        "1990-05-14",
        "21 rue Pasteur",
        "06 12 34 56 05",
    ),
    (
        "antoine.durand@exemple.test",
        "Antoine",
        "Durand",
        "1957-09-08",
        "3 place de l'Église",
        "02 41 55 66 06",
    ),
    (
        "ines.lefebvre@exemple.test",
        "Inès",
        "Lefebvre",
        "2001-12-19",
        "14 allée des Peupliers",
        "06 12 34 56 07",
    ),
    (
        "hugo.mercier@exemple.test",
        "Hugo",
        "Mercier",
        "1988-04-03",
        "6 rue Victor-Hugo",
        "06 12 34 56 08",
    ),
    (
        "chloe.girard@exemple.test",
        "Chloé",
        "Girard",
        "1973-06-21",
        "11 route de Saumur",
        "06 12 34 56 09",
    ),
    (
        "francois.bonnet@exemple.test",
        "François",
        "Bonnet",
        "1962-10-27",
        "8 rue du Port",
        "06 12 34 56 10",
    ),
]


@dataclass
class Login:
    email: str
    role: str


def _user(email: str, first: str, last: str, *, platform_admin: bool = False) -> User:
    existing = User.objects.filter(email=email).first()
    if existing is not None:
        return existing
    return accounts.create_user(
        actor=None,
        email=email,
        password=DEMO_PASSWORD,
        first_name=first,
        last_name=last,
        is_platform_admin=platform_admin,
        channel=Channel.SYSTEM,
    )


def _role(
    actor: User, user: User, collectivite: Collectivite, role: str, service: Service | None = None
) -> None:
    if not Membership.objects.filter(
        user=user, collectivite=collectivite, role=role, service=service
    ).exists():
        accounts.grant_role(
            actor=actor,
            user=user,
            collectivite=collectivite,
            role=role,
            service=service,
            channel=Channel.SYSTEM,
        )


# Which service of the demo collectivités takes which model démarche of the catalogue.
ADOPTIONS = {
    "saint-aubin": {
        "acte-etat-civil": "État civil",
        "signalement-voirie": "Voirie et espaces publics",
        "reservation-salle": "Accueil de la mairie",
        "inscription-scolaire": "Affaires scolaires",
        "question-contact": "Accueil de la mairie",
        "reclamation": "Accueil de la mairie",
    },
    "loire-coteaux": {
        "question-contact": "Gestion des déchets",
        "reclamation": "Gestion des déchets",
    },
}


def _demarches(platform: User, collectivites: list[Collectivite]) -> None:
    # Imported here: grc.base must not depend on grc.demarches at import time (layering); the
    # demo data is the one place that spans both.
    from grc.demarches.models import Demarche
    from grc.demarches.services.demarches import adopt_demarche, publish_demarche
    from grc.demarches.services.exchange import load_catalogue

    models = {m.slug: m for m in load_catalogue(actor=None)}
    for collectivite in collectivites:
        for slug, service_name in ADOPTIONS[collectivite.slug].items():
            if Demarche.objects.filter(collectivite=collectivite, slug=slug).exists():
                continue
            adopted = adopt_demarche(
                actor=platform,
                model=models[slug],
                collectivite=collectivite,
                service=collectivite.services.get(name=service_name),
            )
            publish_demarche(actor=platform, demarche=adopted)


@transaction.atomic
def load_demo() -> list[Login]:
    logins = [Login("admin@grc.test", "administrateur de la plateforme (agence)")]
    platform = _user("admin@grc.test", "Agence", "Mutualisation", platform_admin=True)
    loaded: list[Collectivite] = []
    for spec in COLLECTIVITES:
        collectivite = Collectivite.objects.filter(slug=spec["data"]["slug"]).first()
        if collectivite is None:
            collectivite = collectivites.create_collectivite(
                actor=platform, data=spec["data"], hosts=spec["hosts"], channel=Channel.SYSTEM
            )
        elif collectivite.accessibility_audit_date is None:  # loaded before the declaration
            collectivite = collectivites.update_collectivite(
                actor=platform,
                collectivite=collectivite,
                changes={name: spec["data"][name] for name in DECLARATION_FIELDS},
                channel=Channel.SYSTEM,
            )
        loaded.append(collectivite)
        services = {}
        for name, email, phone, hours in spec["services"]:
            service = collectivite.services.filter(name=name).first()
            if service is None:
                service = collectivites.create_service(
                    actor=platform,
                    collectivite=collectivite,
                    channel=Channel.SYSTEM,
                    data={
                        "name": name,
                        "email": email,
                        "phone": phone,
                        "opening_hours": hours,
                        "address_line1": spec["data"]["address_line1"],
                        "postal_code": spec["data"]["postal_code"],
                        "city": spec["data"]["city"],
                    },
                )
            services[name] = service
        email, first, last = spec["admin"]
        _role(platform, _user(email, first, last), collectivite, Role.ADMIN)
        logins.append(Login(email, f"administratrice – {collectivite.name}"))
        for email, first, last, service_name in spec["agents"]:
            _role(
                platform,
                _user(email, first, last),
                collectivite,
                Role.AGENT,
                services[service_name],
            )
            logins.append(Login(email, f"agent {service_name} – {collectivite.name}"))
    _demarches(platform, loaded)
    commune, epci = loaded
    for index, (email, first, last, born, street, phone) in enumerate(CITIZENS):
        account = _user(email, first, last)
        for collectivite in (commune, epci) if index < 3 else (commune,):
            usagers.find_or_create_usager(
                collectivite,
                email=email,
                phone=phone,
                first_name=first,
                last_name=last,
                birth_date=datetime.date.fromisoformat(born),
                address=Address(
                    address_line1=street, postal_code="49170", city="Saint-Aubin-sur-Loire"
                ),
                channel=Channel.WEB,
                account=account,
            )
        if index == 0:
            logins.append(Login(email, "usagère (compte citoyen, 9 autres : voir README)"))
            first_citizen = account
    _dossiers(commune, first_citizen)
    _channels(commune)
    return logins


def _dossiers(collectivite: Collectivite, citizen: User) -> None:
    from grc.demarches.demo import load_demo_dossiers

    load_demo_dossiers(collectivite=collectivite, citizen=citizen)


def _channels(collectivite: Collectivite) -> None:
    from grc.channels.demo import load_demo_channels

    load_demo_channels(collectivite=collectivite)
