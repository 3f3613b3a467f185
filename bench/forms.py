"""Benchmark: validate and submit a 100-field form with 30 conditions.

    .venv/bin/python bench/forms.py [--runs N] [--warmup W] [--seed S]

Runs against a throwaway database (`grc_bench`) created on the configured PostgreSQL server
(the embedded one when DATABASE_URL is unset), migrated, and dropped at the end: the development
database is never read or written. Prints the timings of

  (a) validate_answers(definition, answers), pure Python;
  (b) submit_dossier(...) inside transaction.atomic(), commit included (so the acknowledgement
      deliveries deferred after commit insert their procrastinate jobs),

and writes them, with the machine, the parameters and the form and answers used, to
bench/results/forms.json.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import random
import sys
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

from harness import create_database, drop_database, machine, start_django, summary, timings

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS = BENCH_DIR / "results" / "forms.json"
BENCH_DATABASE = "grc_bench"

SEED = 2026
PAGES = 5
FIELDS_PER_PAGE = 20  # answer-bearing fields per page: 100 in all
# Positions (0-based, among a page's answer-bearing fields) of the fields with a condition:
# 6 per page, 30 in all. Page 1 starts with six identity fields, which have none.
CONDITIONAL_SLOTS = [
    (7, 9, 12, 14, 17, 19),
    (1, 4, 8, 11, 15, 18),
    (2, 5, 9, 12, 16, 19),
    (0, 4, 7, 11, 14, 18),
    (2, 6, 9, 13, 16, 19),
]
# The operators at the top of the 30 conditions (and/or/not wrap simpler ones).
OPERATOR_BUDGET = {"equals": 5, "in": 4, "gt": 5, "is_empty": 4, "and": 4, "or": 4, "not": 4}
SIMPLE_OPERATORS = ("equals", "in", "gt", "is_empty")

# Types of the 94 fields after the identity fields (100 with them).
TYPE_COUNTS = {
    "text": 16,
    "textarea": 6,
    "email": 4,
    "phone": 4,
    "integer": 8,
    "decimal": 6,
    "date": 7,
    "yesno": 12,
    "choice": 12,
    "multiple": 6,
    "address": 3,
    "siret": 3,
    "iban": 3,
    "checkbox": 4,
}
IDENTITY_FIELDS = [
    {"key": "nom", "type": "text", "label": "Nom", "required": True, "prefill": "last_name"},
    {"key": "prenom", "type": "text", "label": "Prénom", "required": True, "prefill": "first_name"},
    {
        "key": "date_naissance",
        "type": "date",
        "label": "Date de naissance",
        "required": True,
        "validation": {"min": "1900-01-01", "max": "2026-12-31"},
    },
    {"key": "courriel", "type": "email", "label": "Adresse e-mail", "prefill": "email"},
    {"key": "telephone", "type": "phone", "label": "Téléphone", "required": True},
    {"key": "adresse", "type": "address", "label": "Adresse du domicile", "required": True},
]
IDENTITY_ANSWERS = {
    "nom": "Durand",
    "prenom": "Camille",
    "date_naissance": "1984-03-17",
    "courriel": "camille.durand@exemple.fr",
    "telephone": "+33612345678",
    "adresse": {
        "address_line1": "12 rue des Lilas",
        "address_line2": "",
        "postal_code": "49000",
        "city": "Angers",
        "country": "FR",
    },
}

LABELS = {
    "text": [
        "Profession",
        "Lieu de naissance",
        "Nom de l'établissement",
        "Nom du représentant légal",
        "Objet de la demande",
        "Nationalité",
        "Nom d'usage",
        "Immatriculation du véhicule",
    ],
    "textarea": ["Précisions sur votre demande", "Motif", "Observations", "Description du projet"],
    "email": ["E-mail du représentant", "E-mail professionnel", "E-mail de l'employeur"],
    "phone": ["Téléphone du représentant", "Téléphone professionnel", "Téléphone d'urgence"],
    "integer": ["Nombre d'enfants à charge", "Nombre de personnes au foyer", "Âge de l'enfant"],
    "decimal": ["Revenu fiscal de référence", "Surface habitable (m²)", "Montant demandé (€)"],
    "date": ["Date d'arrivée dans la commune", "Date de l'événement", "Date souhaitée"],
    "yesno": [
        "Êtes-vous propriétaire ?",
        "Avez-vous déjà fait cette demande ?",
        "Êtes-vous allocataire de la CAF ?",
        "Demandez-vous un rendez-vous ?",
    ],
    "checkbox": [
        "J'atteste sur l'honneur l'exactitude des renseignements",
        "J'accepte d'être recontacté",
    ],
    "choice": ["Situation familiale", "Type de logement", "Motif de la demande", "Retrait"],
    "multiple": ["Jours de présence", "Services souhaités", "Moyens de contact acceptés"],
    "address": ["Adresse du projet", "Adresse de l'employeur", "Adresse de correspondance"],
    "siret": ["SIRET de l'entreprise", "SIRET de l'employeur"],
    "iban": ["IBAN pour le versement", "IBAN du compte à prélever"],
}
OPTIONS = {
    "choice": [
        ["celibataire", "marie", "pacse", "divorce", "veuf"],
        ["maison", "appartement", "foyer", "autre"],
        ["premiere_demande", "renouvellement", "perte", "vol"],
        ["guichet", "courrier", "mairie_annexe"],
    ],
    "multiple": [
        ["lundi", "mardi", "mercredi", "jeudi", "vendredi"],
        ["transport", "restauration", "garderie", "etude"],
        ["courriel", "telephone", "courrier", "sms"],
    ],
}
WORDS = [
    "demande",
    "dossier",
    "logement",
    "travaux",
    "école",
    "inscription",
    "famille",
    "quartier",
    "voirie",
    "stationnement",
    "jardin",
    "association",
    "salle",
    "manifestation",
    "urgent",
]
STREETS = ["rue des Lilas", "avenue de la Gare", "place du Marché", "chemin des Vignes"]
TOWNS = [("49000", "Angers"), ("49100", "Angers"), ("49300", "Cholet"), ("44000", "Nantes")]


# --- The form and its answers ------------------------------------------------------------------


class FormBuilder:
    """Builds the definition and the answers together, in document order, so that each
    condition is built to be true or false for the answers given before it (and checked)."""

    def __init__(self, seed: int):
        from grc.demarches import conditions

        self.conditions = conditions
        # Deterministic test data, not secrets.
        self.rng = random.Random(seed)  # noqa: S311
        self.answers: dict[str, Any] = {}  # what a citizen sends: visible fields only
        self.earlier: list[dict[str, Any]] = []  # answer-bearing fields so far, hidden included
        self.budget = dict(OPERATOR_BUDGET)
        self.top_operators: Counter[str] = Counter()
        self.all_operators: Counter[str] = Counter()
        self.conditional: list[tuple[str, bool]] = []  # (key, visible)
        self.counters: Counter[str] = Counter()

    # Fields

    def definition(self) -> dict[str, Any]:
        rng = self.rng
        kinds = [kind for kind, count in TYPE_COUNTS.items() for _ in range(count)]
        rng.shuffle(kinds)
        targets = [True] * 15 + [False] * 15
        rng.shuffle(targets)
        pages = []
        number = 0
        for page_index in range(PAGES):
            fields: list[dict[str, Any]] = [
                {
                    "key": f"titre_{page_index + 1}",
                    "type": "title",
                    "label": PAGE_TITLES[page_index],
                }
            ]
            if page_index in (0, 2, 4):
                fields.append(
                    {
                        "key": f"explication_{page_index + 1}",
                        "type": "explanation",
                        "text": "Les champs marqués d'un astérisque sont obligatoires.\n"
                        "Vos réponses sont enregistrées à chaque page.",
                    }
                )
            for slot in range(FIELDS_PER_PAGE):
                if page_index in (1, 3) and slot == 10:
                    fields.append(
                        {
                            "key": f"titre_{page_index + 1}_b",
                            "type": "title",
                            "label": "Informations complémentaires",
                        }
                    )
                number += 1
                if page_index == 0 and slot < len(IDENTITY_FIELDS):
                    spec = dict(IDENTITY_FIELDS[slot])
                    answer = IDENTITY_ANSWERS[spec["key"]]
                else:
                    spec = self.field(number, kinds.pop())
                    answer = self.answer(spec)
                if slot in CONDITIONAL_SLOTS[page_index]:
                    visible = targets.pop()
                    spec["condition"] = self.top_condition(visible)
                    self.conditional.append((spec["key"], visible))
                else:
                    visible = True
                fields.append(spec)
                self.earlier.append(spec)
                if visible:
                    self.answers[spec["key"]] = answer
            pages.append(
                {
                    "key": f"page_{page_index + 1}",
                    "title": PAGE_TITLES[page_index],
                    "condition": None,
                    "fields": fields,
                }
            )
        assert not kinds and not targets and not any(self.budget.values()), "budget left over"
        return {"schema": 1, "pages": pages}

    def field(self, number: int, kind: str) -> dict[str, Any]:
        rng = self.rng
        index = self.counters[kind]
        self.counters[kind] += 1
        labels = LABELS[kind]
        spec: dict[str, Any] = {
            "key": f"q{number:03d}_{kind}",
            "type": kind,
            "label": labels[index % len(labels)],
            "required": kind != "checkbox" and rng.random() < 0.7,
        }
        if index % 5 == 0 and kind in ("text", "integer", "decimal", "yesno", "date"):
            spec["help"] = "Indiquez-le tel qu'il figure sur vos justificatifs."
        if kind == "text":
            if index % 4 == 3:
                spec["label"] = "Code postal de naissance"
                spec["validation"] = {
                    "pattern": "[0-9]{5}",
                    "pattern_message": "Cinq chiffres (ex. 49000).",
                }
            else:
                spec["validation"] = {"max_length": 100}
        elif kind == "textarea":
            spec["validation"] = {"max_length": 2000}
        elif kind == "integer":
            spec["validation"] = {"min": 0, "max": 20} if index % 2 else {"min": 0, "max": 99999}
        elif kind == "decimal":
            spec["validation"] = {"min": 0, "max": 1000000}
        elif kind == "date":
            spec["validation"] = {"min": "1950-01-01", "max": "2030-12-31"}
        elif kind == "checkbox":
            spec["required"] = index % 2 == 0  # an agreement to tick
        elif kind in ("choice", "multiple"):
            values = OPTIONS[kind][index % len(OPTIONS[kind])]
            spec["label"] = LABELS[kind][index % len(OPTIONS[kind])]
            spec["options"] = [
                {"value": v, "label": v.replace("_", " ").capitalize()} for v in values
            ]
            if kind == "choice" and len(values) > 4:
                spec["widget"] = "select"
        return spec

    def answer(self, spec: dict[str, Any]) -> Any:
        """A valid answer, as stored in dossier.answers (what validation gives back)."""
        rng = self.rng
        kind = spec["type"]
        rules = spec.get("validation") or {}
        if kind == "text":
            if "pattern" in rules:
                return f"{rng.randint(10000, 99999)}"
            return " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 4))).capitalize()
        if kind == "textarea":
            lines = [
                " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 14))).capitalize() + "."
                for _ in range(rng.randint(1, 4))
            ]
            return "\n".join(lines)
        if kind == "email":
            return f"contact.{rng.randint(1, 9999)}@exemple.fr"
        if kind == "phone":
            return f"+3361{rng.randint(0, 9999999):07d}"
        if kind == "integer":
            return rng.randint(rules["min"], rules["max"])
        if kind == "decimal":
            return f"{rng.randint(1, 99999)}.{rng.randint(1, 9)}{rng.randint(1, 9)}"
        if kind == "date":
            day = datetime.date(1960, 1, 1) + datetime.timedelta(days=rng.randint(0, 24000))
            return day.isoformat()
        if kind == "yesno":
            return rng.random() < 0.5
        if kind == "checkbox":
            return True if spec["required"] else rng.random() < 0.5
        if kind == "choice":
            return rng.choice([o["value"] for o in spec["options"]])
        if kind == "multiple":
            values = [o["value"] for o in spec["options"]]
            picked = set(rng.sample(values, rng.randint(1, 3)))
            return [v for v in values if v in picked]
        if kind == "address":
            postal_code, city = rng.choice(TOWNS)
            return {
                "address_line1": f"{rng.randint(1, 120)} {rng.choice(STREETS)}",
                "address_line2": rng.choice(["", "Bâtiment B", "Appartement 12"]),
                "postal_code": postal_code,
                "city": city,
                "country": "FR",
            }
        if kind == "siret":
            return siret(rng)
        if kind == "iban":
            return french_iban(rng)
        raise ValueError(kind)

    # Conditions

    def top_condition(self, target: bool) -> dict[str, Any]:
        """A condition whose value with the answers so far is `target`, with the operator that
        has the most budget left among those possible here."""
        order = sorted(self.budget, key=lambda op: (-self.budget[op], self.rng.random()))
        for op in order:
            if not self.budget[op]:
                continue
            condition = self.condition(op, target)
            if condition is not None:
                self.budget[op] -= 1
                self.top_operators[op] += 1
                assert self.conditions.evaluate(condition, self.answers) is target
                return condition
        raise RuntimeError("no condition possible here")

    def condition(self, op: str, target: bool) -> dict[str, Any] | None:
        rng = self.rng
        if op in SIMPLE_OPERATORS:
            condition = self.simple(op, target)
        elif op == "not":
            inner = self.any_simple(not target)
            condition = {"op": "not", "condition": inner}
        else:
            if op == "and":
                truths = [True, True] if target else rng.choice([[True, False], [False, True]])
            else:
                truths = rng.choice([[True, False], [False, True]]) if target else [False, False]
            condition = {"op": op, "conditions": [self.any_simple(t) for t in truths]}
        if condition is not None:
            self.all_operators[op] += 1
        return condition

    def any_simple(self, target: bool) -> dict[str, Any]:
        for op in self.rng.sample(SIMPLE_OPERATORS, len(SIMPLE_OPERATORS)):
            condition = self.simple(op, target)
            if condition is not None:
                self.all_operators[op] += 1
                return condition
        raise RuntimeError("no simple condition possible here")

    def simple(self, op: str, target: bool) -> dict[str, Any] | None:
        condition = self._simple(op, target)
        assert condition is None or self.conditions.evaluate(condition, self.answers) is target
        return condition

    def _simple(self, op: str, target: bool) -> dict[str, Any] | None:
        rng = self.rng
        answered = [f for f in self.earlier if f["key"] in self.answers]
        if op == "equals":
            pool = [f for f in answered if f["type"] in ("choice", "yesno", "integer")]
            if not pool:
                return None
            spec = rng.choice(pool)
            value = self.answers[spec["key"]]
            if not target:
                if spec["type"] == "choice":
                    value = rng.choice([o["value"] for o in spec["options"] if o["value"] != value])
                elif spec["type"] == "yesno":
                    value = not value
                else:
                    value += 1
            return {"op": "equals", "field": spec["key"], "value": value}
        if op == "in":
            pool = [f for f in answered if f["type"] == "choice"]
            if not pool:
                return None
            spec = rng.choice(pool)
            value = self.answers[spec["key"]]
            others = [o["value"] for o in spec["options"] if o["value"] != value]
            values = rng.sample(others, min(2, len(others)))
            if target:
                values = sorted([value, values[0]])
            return {"op": "in", "field": spec["key"], "values": values}
        if op == "gt":
            pool = [f for f in answered if f["type"] in ("integer", "decimal", "date")]
            if not pool:
                return None
            spec = rng.choice(pool)
            answer = self.answers[spec["key"]]
            if spec["type"] == "date":
                shift = datetime.timedelta(days=rng.randint(1, 365))
                day = datetime.date.fromisoformat(answer)
                value: Any = (day - shift if target else day + shift).isoformat()
            elif spec["type"] == "decimal":  # a decimal string against a number
                whole = int(Decimal(answer))
                value = whole - rng.randint(0, 100) if target else whole + rng.randint(1, 100)
            else:
                value = answer - rng.randint(1, 5) if target else answer + rng.randint(0, 5)
            return {"op": "gt", "field": spec["key"], "value": value}
        if op == "is_empty":
            if target:  # a "no", an unticked box, or a field hidden by its own condition
                pool = [
                    f
                    for f in self.earlier
                    if f["key"] not in self.answers
                    or (f["type"] in ("yesno", "checkbox") and self.answers[f["key"]] is False)
                ]
            else:
                pool = [f for f in answered if self.answers[f["key"]] is not False]
            if not pool:
                return None
            return {"op": "is_empty", "field": rng.choice(pool)["key"]}
        raise ValueError(op)


PAGE_TITLES = [
    "Vous concernant",
    "Votre foyer",
    "Votre demande",
    "Justificatifs et paiement",
    "Engagements",
]


def siret(rng: random.Random) -> str:
    from stdnum import luhn

    siren = f"{rng.randint(1, 99999999):08d}"
    siren += luhn.calc_check_digit(siren)
    number = siren + f"{rng.randint(1, 9999):04d}"
    return number + luhn.calc_check_digit(number)


def french_iban(rng: random.Random) -> str:
    from stdnum import iban

    bank, branch, account = (
        f"{rng.randint(10000, 99999)}",
        f"{rng.randint(0, 99999):05d}",
        f"{rng.randint(0, 10**11 - 1):011d}",
    )
    key = 97 - (89 * int(bank) + 15 * int(branch) + 3 * int(account)) % 97  # the RIB key
    bban = f"{bank}{branch}{account}{key:02d}"
    return "FR" + iban.calc_check_digits("FR??" + bban) + bban


# --- Database and fixtures -----------------------------------------------------------------------


def published_demarche(definition: dict[str, Any]):
    from stdnum import luhn

    from grc.base.models import Channel, Collectivite, Service
    from grc.demarches.models import Demarche
    from grc.demarches.services.demarches import create_demarche, publish_demarche

    siren = "21490007"
    collectivite = Collectivite.objects.create(
        name="Commune du Banc d'Essai",
        slug="banc-essai",
        reference_prefix="BANC",
        kind=Collectivite.Kind.COMMUNE,
        siren=siren + luhn.calc_check_digit(siren),
        city="Angers",
        postal_code="49000",
    )
    service = Service.objects.create(
        collectivite=collectivite,
        name="Accueil",
        email="accueil@banc-essai.test",
        phone="+33241000000",
    )
    demarche = create_demarche(
        actor=None,
        collectivite=collectivite,
        service=service,
        definition=definition,
        data={
            "title": "Demande de test de charge",
            "slug": "formulaire-100-champs",
            "summary": "100 champs, 30 conditions",
            "who_may_file": Demarche.WhoMayFile.ANONYMOUS,
            "channels": [Channel.WEB, Channel.COUNTER],
        },
    )
    publish_demarche(actor=None, demarche=demarche)
    demarche.refresh_from_db()
    return demarche


# --- Measuring -----------------------------------------------------------------------------------


def digest(data: Any) -> str:
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def run(args: argparse.Namespace) -> dict[str, Any]:
    from django.db import transaction
    from procrastinate.contrib.django.models import ProcrastinateJob

    from grc.base.models import Channel
    from grc.demarches.answers import validate_answers
    from grc.demarches.definition import check_definition, has_answer, placed_fields
    from grc.demarches.models import Dossier
    from grc.demarches.services.dossiers import submit_dossier

    builder = FormBuilder(args.seed)
    definition = builder.definition()
    answers = builder.answers
    problems = check_definition(definition)
    assert problems == [], problems
    answer_fields = [p.field for p in placed_fields(definition) if has_answer(p.field)]
    with_condition = [f for f in answer_fields if f.get("condition")]
    assert len(answer_fields) == 100 and len(with_condition) == 30
    visible_conditional = sum(visible for _, visible in builder.conditional)

    # The generated answers are valid, and exactly what validation keeps.
    outcome = validate_answers(definition, answers)
    assert outcome.ok, outcome.errors
    assert outcome.answers == answers
    assert len(outcome.visible) == 70 + visible_conditional == len(answers)

    demarche = published_demarche(definition)

    def validate(_i: int) -> None:
        validate_answers(definition, answers)

    def submit(i: int) -> None:
        with transaction.atomic():
            submit_dossier(
                demarche=demarche,
                answers_given=answers,
                channel=Channel.WEB,
                actor=None,
                contact_email=f"usager.{i:05d}@exemple.fr",
            )

    validation = timings(validate, runs=args.runs, warmup=args.warmup)
    submission = timings(submit, runs=args.runs, warmup=args.warmup)

    # Every submission went through, with its answers and its two deferred deliveries.
    calls = args.runs + args.warmup
    filed = Dossier.objects.filed().filter(demarche=demarche)
    assert filed.count() == calls
    assert filed.first().answers == answers
    jobs = ProcrastinateJob.objects.filter(task_name="demarches.deliver_acknowledgement").count()
    assert jobs == 2 * calls, jobs

    return {
        "benchmark": "forms",
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "parameters": {
            "runs": args.runs,
            "warmup": args.warmup,
            "seed": args.seed,
            "pages": PAGES,
            "fields": len(answer_fields),
            "fields_by_type": dict(sorted(Counter(f["type"] for f in answer_fields).items())),
            "display_only": sum(1 for p in placed_fields(definition) if not has_answer(p.field)),
            "conditional_fields": len(with_condition),
            "conditional_visible": visible_conditional,
            "visible_fields": len(outcome.visible),
            "top_operators": dict(sorted(builder.top_operators.items())),
            "operators_used": dict(sorted(builder.all_operators.items())),
            "submission": "web, anonymous, a new contact e-mail each run (a new citizen record)",
            "acknowledgement_jobs": jobs,
        },
        "results": {"validate_answers": summary(validation), "submit_dossier": summary(submission)},
        "data": {
            "definition_sha256": digest(definition),
            "answers_sha256": digest(answers),
            "definition": definition,
            "answers": answers,
        },
    }


def report(result: dict[str, Any]) -> None:
    m, p = result["machine"], result["parameters"]
    print(
        f"forms: {p['fields']} fields on {p['pages']} pages, {p['conditional_fields']} with a "
        f"condition ({p['conditional_visible']} shown), {p['visible_fields']} answers"
    )
    print(
        f"machine: {m['platform']}, {m['cpu']}, {m['cpu_count']} CPUs, {m['python']}, "
        f"PostgreSQL {m['postgresql']}"
    )
    print(f"date: {result['date']}   warm-up runs: {p['warmup']}")
    print()
    header = f"{'':34}{'runs':>6}{'median':>10}{'p95':>10}{'min':>10}{'max':>10}"
    print(header + "  (ms)")
    labels = {
        "validate_answers": "(a) validate_answers",
        "submit_dossier": "(b) submit_dossier + commit",
    }
    for name, label in labels.items():
        s = result["results"][name]
        print(
            f"{label:34}{s['runs']:>6}{s['median_ms']:>10.3f}{s['p95_ms']:>10.3f}"
            f"{s['min_ms']:>10.3f}{s['max_ms']:>10.3f}"
        )
    print()
    print(f"written to {RESULTS.relative_to(ROOT)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200, help="measured runs (default 200)")
    parser.add_argument("--warmup", type=int, default=5, help="runs not measured (default 5)")
    parser.add_argument("--seed", type=int, default=SEED, help=f"data seed (default {SEED})")
    parser.add_argument(
        "--output",
        type=Path,
        default=RESULTS,
        help=f"where the figures go (default {RESULTS.relative_to(ROOT)})",
    )
    args = parser.parse_args(argv)
    if args.runs < 1 or args.warmup < 0:
        parser.error("--runs must be at least 1 and --warmup at least 0")

    start_django(ROOT)

    old_name = create_database(BENCH_DATABASE)
    try:
        result = run(args)
    finally:
        drop_database(old_name)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    report(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
