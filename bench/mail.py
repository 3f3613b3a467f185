"""Benchmark: the mail gateway ingesting 10,000 e-mails from a real IMAP server.

    .venv/bin/python bench/mail.py [--messages N] [--dossiers D] [--seed S] [--output PATH]

Starts Debian's Dovecot with a throwaway configuration (tests/channels/dovecot.py), works on a
throwaway database (`grc_bench_mail_<pid>`, created, migrated and dropped at the end) and a
throwaway media folder. It opens D dossiers first (the ones replies go to, each with one of
our Message-IDs in its thread), then APPENDs N generated messages to the mailbox: about 60 %
new requests (from 3,000 senders: none reaches the throttle), 35 % replies to those dossiers
(half by the reference in the subject, half by In-Reply-To), 5 % auto-replies. It then times
one `fetch_mailbox` (FETCH BODY.PEEK, parse, route, commit, flag \\Seen, per message: what the
worker does every minute), checks that every message was ingested once and nothing is left
unseen, and prints messages ingested per second with the machine; the figures go to
bench/results/mail.json.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from harness import create_database, drop_database, machine, start_django

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS = BENCH_DIR / "results" / "mail.json"
BENCH_DATABASE = f"grc_bench_mail_{os.getpid()}"
SEED = 2026

FIRST_NAMES = ["Marie", "Thomas", "Léa", "Nicolas", "Camille", "Antoine", "Inès", "Hugo"]
LAST_NAMES = ["Dubois", "Bernard", "Petit", "Robert", "Richard", "Durand", "Lefebvre", "Girard"]
SUBJECTS = [
    "Lampadaire en panne rue des Écoles",
    "Demande d'acte de naissance",
    "Nid-de-poule devant le 12 avenue de la Gare",
    "Inscription à la cantine",
    "Bruit de la salle des fêtes",
    "Dépôt sauvage chemin des Vignes",
]


def generate(count: int, dossiers: list[tuple[str, str]], rng: random.Random) -> list[bytes]:
    from tests.channels.mails import make_mail

    messages = []
    for i in range(count):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        sender = f"{first} {last} <usager{rng.randrange(3000)}@exemple.fr>"
        body = "Bonjour,\n\n" + " ".join(rng.choices(SUBJECTS, k=8)) + f"\n\n{first} {last}\n"
        roll = rng.random()
        if roll < 0.60 or not dossiers:
            messages.append(make_mail(subject=rng.choice(SUBJECTS), sender=sender, body=body))
        elif roll < 0.775:
            reference, _ = rng.choice(dossiers)
            subject = f"Re: [{reference}] Votre demande"
            messages.append(make_mail(subject=subject, sender=sender, body=body))
        elif roll < 0.95:
            _, our_id = rng.choice(dossiers)
            messages.append(
                make_mail(
                    subject="Re: Votre demande",
                    sender=sender,
                    body=body,
                    headers={"In-Reply-To": our_id, "References": our_id},
                )
            )
        else:
            messages.append(
                make_mail(
                    subject="Réponse automatique : absent du bureau",
                    sender=sender,
                    body="Je suis absent jusqu'au 3 novembre.",
                    headers={"Auto-Submitted": "auto-replied"},
                )
            )
        if i and i % 2000 == 0:
            print(f"  {i} messages générés", flush=True)
    return messages


def run(args) -> dict:
    from django.conf import settings
    from django.db import transaction

    from grc.channels import inbound
    from grc.channels.mail.imap import fetch_mailbox
    from grc.channels.models import InboundEmail, Mailbox, MailThreadId
    from tests.channels.dovecot import start_dovecot
    from tests.factories import CollectiviteFactory, ServiceFactory

    rng = random.Random(args.seed)  # noqa: S311 - test data, not secrets
    settings.GRC_MAIL_THROTTLE = 10**6  # generated senders, not a flood
    collectivite = CollectiviteFactory(name="Commune de Banc-d'Essai", slug="banc-essai")
    ServiceFactory(collectivite=collectivite)
    print(f"Ouverture de {args.dossiers} dossiers…", flush=True)
    dossiers = []
    for n in range(args.dossiers):
        with transaction.atomic():
            dossier, _ = inbound.open_dossier(
                collectivite=collectivite,
                demarche=None,
                channel="email",
                sender=inbound.Sender(email=f"existant{n}@exemple.fr", last_name=f"Existant{n}"),
                subject="Demande initiale",
                body="Première demande.",
            )
            our_id = f"<grc.{n}.{dossier.pk}@grc.localhost>"
            MailThreadId.objects.create(collectivite=collectivite, email_id=our_id, dossier=dossier)
        dossiers.append((dossier.reference, our_id))
    print(f"Génération de {args.messages} courriels…", flush=True)
    messages = generate(args.messages, dossiers, rng)
    size = sum(len(m) for m in messages)
    root = Path(tempfile.mkdtemp(prefix="grc-bench-dovecot-"))
    server = start_dovecot(root)
    try:
        user = "mairie"
        started = time.perf_counter()
        server.append_many(user, messages)
        append_seconds = time.perf_counter() - started
        print(f"{len(messages)} courriels déposés (APPEND) en {append_seconds:.1f} s", flush=True)
        mailbox = Mailbox.objects.create(
            collectivite=collectivite,
            name="Mairie",
            email="mairie@banc-essai.test",
            host=server.host,
            port=server.port,
            security=Mailbox.Security.PLAIN,
            username=user,
            password=server.password,
        )
        started = time.perf_counter()
        report = fetch_mailbox(mailbox)
        seconds = time.perf_counter() - started
        unseen = server.unseen(user)
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
    stored = InboundEmail.objects.filter(mailbox=mailbox).count()
    if report.error or report.failed or stored != len(messages) or unseen:
        raise SystemExit(
            f"Relève incomplète : {report} ; {stored} enregistrés, {len(unseen)} non lus"
        )
    outcomes = Counter(
        InboundEmail.objects.filter(mailbox=mailbox).values_list("outcome", flat=True)
    )
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "parameters": {"messages": args.messages, "dossiers": args.dossiers, "seed": args.seed},
        "results": {
            "messages": len(messages),
            "bytes": size,
            "seconds": round(seconds, 2),
            "messages_per_second": round(len(messages) / seconds, 1),
            "ms_per_message": round(seconds * 1000 / len(messages), 2),
            "append_seconds": round(append_seconds, 2),
            "outcomes": dict(sorted(outcomes.items())),
        },
    }


def report(result: dict) -> None:
    m, r = result["machine"], result["results"]
    print(f"\nMachine : {m['platform']} – {m['cpu']} ({m['cpu_count']} CPU)")
    print(f"Python {m['python']}, Django {m['django']}, PostgreSQL {m['postgresql']}")
    print(f"Date : {result['date']}")
    print(
        f"Ingestion : {r['messages']} courriels ({r['bytes'] / 1e6:.1f} Mo) en {r['seconds']} s"
        f" = {r['messages_per_second']} courriels/s ({r['ms_per_message']} ms par courriel)"
    )
    print("Suites : " + ", ".join(f"{k} {v}" for k, v in r["outcomes"].items()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000, help="default 10000")
    parser.add_argument("--dossiers", type=int, default=200, help="replied to (default 200)")
    parser.add_argument("--seed", type=int, default=SEED, help=f"data seed (default {SEED})")
    parser.add_argument(
        "--output",
        type=Path,
        default=RESULTS,
        help=f"where the figures go (default {RESULTS.relative_to(ROOT)})",
    )
    args = parser.parse_args(argv)
    if args.messages < 1 or args.dossiers < 0:
        parser.error("--messages must be at least 1 and --dossiers at least 0")

    settings = start_django(ROOT)
    media = Path(tempfile.mkdtemp(prefix="grc-bench-media-"))
    settings.MEDIA_ROOT = media

    old_name = create_database(BENCH_DATABASE)
    try:
        result = run(args)
    finally:
        drop_database(old_name)
        shutil.rmtree(media, ignore_errors=True)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    report(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
