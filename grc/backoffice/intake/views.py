"""Intake on the citizen's behalf: choose the démarche and the channel, the person (a record
found, or a new one), fill the démarche's form on one screen (the portal's page forms, every
visible page), and, for a letter, its receipt date and scan. Writes through
grc.backoffice.intake.services.file_on_behalf."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from grc.backoffice.files import file_response
from grc.backoffice.intake import selectors
from grc.backoffice.intake.forms import LetterForm, PersonForm, StartForm
from grc.backoffice.intake.services import Person, file_on_behalf
from grc.backoffice.usagers import selectors as usager_selectors
from grc.backoffice.usagers.selectors import open_duplicates
from grc.base.access import NotFound
from grc.base.models import Channel
from grc.base.models.address import Address
from grc.demarches import answers
from grc.demarches.models import Acknowledgement
from grc.demarches.pageform import SEP, PageForm, apply_block_action
from grc.demarches.selectors import located_errors
from grc.demarches.services.demarches import published_version


@login_required
def intake_start(request):
    demarches = selectors.intake_demarches(request.user)
    usager_id = request.GET.get("usager", "")
    form = StartForm(
        request.GET if "demarche" in request.GET else None,
        demarches=demarches,
        channels=[(c.value, c.label) for c in selectors.INTAKE_CHANNELS],
        initial={"canal": Channel.COUNTER},
    )
    if form.is_bound and form.is_valid():
        demarche = form.cleaned_data["demarche"]
        channel = form.cleaned_data["canal"]
        if channel in demarche.channels:
            params = {"canal": channel, **({"usager": usager_id} if usager_id.isdecimal() else {})}
            return redirect(
                f"{reverse('backoffice:intake_form', args=[demarche.pk])}?{urlencode(params)}"
            )
        form.add_error(
            "canal",
            _("La démarche « %(d)s » n'accepte pas ce canal ; elle accepte : %(list)s.")
            % {
                "d": demarche,
                "list": ", ".join(str(label) for _v, label in selectors.channels_for(demarche)),
            },
        )
    return render(
        request,
        "backoffice/intake/start.html",
        {
            "section": "intake",
            "form": form,
            "has_demarches": demarches.exists(),
            "usager_id": usager_id if usager_id.isdecimal() else "",
        },
    )


def _prefill(usager) -> dict:
    if usager is None:
        return {}
    prefill = {
        "first_name": usager.first_name,
        "last_name": usager.last_name,
        "email": usager.email,
        "phone": usager.phones[0] if usager.phones else "",
        "birth_date": usager.birth_date.isoformat() if usager.birth_date else "",
    }
    if not usager.address.is_empty():
        prefill["address"] = {k: getattr(usager, k) for k in usager.ADDRESS_FIELDS}
    return {k: v for k, v in prefill.items() if v}


class IntakeScreen:
    """Every visible page of the démarche's form on one screen. Page conditions read the
    answers of the pages before (cleaned in order); a page or a question that appears on
    sending is shown, not reported as missing."""

    def __init__(self, definition, *, data=None, files=None, prefill=None):
        self.definition = definition
        self.data = data
        self.forms: list[PageForm] = []
        self.answers: dict = {}
        self.new_questions = False
        shown_pages = set(data.getlist("_pages")) if data is not None else set()
        for page in definition.get("pages", []):
            if not answers.page_visible(page, self.answers):
                continue
            form = PageForm(
                page=page,
                stored=dict(self.answers),
                prefill=prefill,
                data=data,
                files=files,
            )
            if data is not None:
                form.full_clean()
                self.answers.update(form.cleaned_data)
                if page["key"] not in shown_pages or form.newly_shown():
                    self.new_questions = True
                    self._drop_unseen_errors(form, page["key"] in shown_pages)
            self.forms.append(form)

    @staticmethod
    def _drop_unseen_errors(form: PageForm, page_seen: bool) -> None:
        unseen = form.newly_shown() if page_seen else set(form.fields)
        for name in list(form.errors):
            if not page_seen or any(name == k or name.startswith(f"{k}{SEP}") for k in unseen):
                del form._errors[name]

    def uploads(self, files) -> dict[str, list]:
        """The files sent for the form's file fields (field key → files). Their fields' "this
        answer is required" errors are dropped: the files are checked when stored."""
        uploads = {
            key: files.getlist(f"{key}{SEP}upload")
            for key in self.file_keys()
            if files.getlist(f"{key}{SEP}upload")
        }
        for form in self.forms:
            for key in uploads:
                form._errors.pop(key, None)
        return uploads

    def file_keys(self) -> list[str]:
        """Top-level file fields of the visible pages (files inside repeated blocks are not
        taken at intake)."""
        return [
            spec["key"]
            for form in self.forms
            for spec in form.page.get("fields", [])
            if spec.get("type") == "file" and spec["key"] in form.outcome.visible
        ]

    def errors(self) -> dict[str, list[str]]:
        return {name: list(e) for form in self.forms for name, e in form.errors.items()}

    def add_errors(self, errors: dict[str, list[str]]) -> dict[str, list[str]]:
        """Put the service's errors on their questions; return those that name none."""
        left = {}
        for key, problems in errors.items():
            name = key.replace(".", SEP)
            form = next((f for f in self.forms if name in f.fields), None)
            if form is None:
                left[key] = problems
            else:
                form._errors.setdefault(name, form.error_class()).extend(problems)
        return left

    def error_links(self) -> list[dict[str, str]]:
        links = []
        for name, problems in self.errors().items():
            located = located_errors(self.definition, {name.replace(SEP, "."): problems})
            links.append({"id": f"id_{name}", "label": located[0]["label"], "message": problems[0]})
        return links


def _chosen_usager(request, demarche):
    raw = request.GET.get("usager", "")
    if not raw:
        return None
    try:
        usager = usager_selectors.access_staff_usager(request.user, raw)
    except NotFound:
        usager = None
    if usager is not None and usager.merged_into_id is not None:
        usager = usager.merged_into
    if usager is None or usager.collectivite_id != demarche.collectivite_id:
        messages.error(request, _("Cette fiche usager est introuvable dans cette collectivité."))
        return None
    return usager


@login_required
def intake_form(request, demarche_id):
    demarche = selectors.access_intake_demarche(request.user, demarche_id)
    channels = dict(selectors.channels_for(demarche))
    channel = request.GET.get("canal", "")
    if channel not in channels:
        messages.error(request, _("Choisissez un canal accepté par cette démarche."))
        return redirect(
            f"{reverse('backoffice:intake_start')}?{urlencode({'demarche': demarche.pk})}"
        )
    version = published_version(demarche)
    definition = version.definition
    usager = _chosen_usager(request, demarche)
    query = usager_selectors.clean_query(request.GET.get("q", ""))
    results = []
    if usager is None and query:
        results = [
            u
            for u in usager_selectors.search_usagers(request.user, query)
            if u.collectivite_id == demarche.collectivite_id
        ]
    is_letter = channel == Channel.COURRIER
    post = request.method == "POST"
    data = request.POST.copy() if post else None
    action = data.get("_action", "") if post else ""
    if action.startswith(("add:", "remove:")):
        data = apply_block_action(
            data,
            [f for page in definition.get("pages", []) for f in page.get("fields", [])],
            action,
        )
    person_form = PersonForm(data) if usager is None else None
    letter_form = LetterForm(data, request.FILES or None) if is_letter else None
    screen = IntakeScreen(
        definition, data=data, files=request.FILES if post else None, prefill=_prefill(usager)
    )
    other_errors: list[str] = []
    status = None
    if post and action.startswith(("add:", "remove:")):
        # Adding or removing an item is not a submission: no error is shown yet.
        for form in [*screen.forms, *(f for f in (person_form, letter_form) if f is not None)]:
            form.full_clean()
            form._errors.clear()
    elif post:
        uploads = screen.uploads(request.FILES)
        extra_valid = all(f.is_valid() for f in (person_form, letter_form) if f is not None)
        if screen.new_questions:
            messages.info(request, _("Les réponses font apparaître de nouvelles questions."))
            status = 200
        elif not screen.errors() and extra_valid:
            try:
                outcome = file_on_behalf(
                    actor=request.user,
                    demarche=demarche,
                    channel=channel,
                    answers_given=screen.answers,
                    usager=usager,
                    person=_person(person_form) if person_form else None,
                    uploads=uploads,
                    received_at=letter_form.received_at() if letter_form else None,
                    scan=letter_form.cleaned_data["scan"] if letter_form else None,
                )
            except ValidationError as error:
                other_errors = _spread(error, screen, person_form, letter_form)
            else:
                messages.success(
                    request,
                    _("La demande %(ref)s est enregistrée.") % {"ref": outcome.dossier.reference},
                )
                return redirect("backoffice:intake_done", outcome.dossier.pk)
        status = status or 400
        if request.FILES:
            messages.warning(
                request, _("Les fichiers choisis ne sont pas gardés : joignez-les de nouveau.")
            )
    base_query = {"canal": channel}
    return render(
        request,
        "backoffice/intake/form.html",
        {
            "section": "intake",
            "demarche": demarche,
            "channel": channel,
            "channel_label": channels[channel],
            "usager": usager,
            "query": query,
            "results": results,
            "searched": bool(query),
            "person_form": person_form,
            "letter_form": letter_form,
            "screen": screen,
            "error_links": screen.error_links() if post else [],
            "other_errors": other_errors,
            "base_url": f"{reverse('backoffice:intake_form', args=[demarche.pk])}",
            "base_query": urlencode(base_query),
            "action_query": urlencode({**base_query, **({"usager": usager.pk} if usager else {})}),
        },
        status=status or 200,
    )


def _person(form: PersonForm) -> Person:
    data = form.cleaned_data
    address = Address(
        address_line1=data["address_line1"],
        address_line2=data["address_line2"],
        postal_code=data["postal_code"],
        city=data["city"],
    )
    return Person(
        last_name=data["last_name"],
        first_name=data["first_name"],
        email=data["email"],
        phone=data["phone"],
        address=None if address.is_empty() else address,
    )


def _spread(error: ValidationError, screen, person_form, letter_form) -> list[str]:
    """The service's refusal on the fields it names; what names no field, for the summary."""
    if not hasattr(error, "error_dict"):
        return error.messages
    left = screen.add_errors(error.message_dict)
    other = []
    for key, problems in left.items():
        if key == "received_at" and letter_form is not None:
            letter_form.add_error("received_on", problems)
        elif person_form is not None and key in person_form.fields:
            person_form.add_error(key, problems)
        else:
            other.extend(problems)
    return other


@login_required
def intake_done(request, dossier_id):
    dossier = selectors.access_intake_dossier(request.user, dossier_id)
    acknowledgements = list(dossier.acknowledgements.order_by("kind"))
    duplicates = open_duplicates(dossier.usager)
    return render(
        request,
        "backoffice/intake/done.html",
        {
            "section": "intake",
            "dossier": dossier,
            "acknowledgements": acknowledgements,
            "to_print": any(a.status == Acknowledgement.Status.TO_PRINT for a in acknowledgements),
            "duplicates": duplicates,
        },
    )


@login_required
def acknowledgement_pdf(request, dossier_id, kind):
    dossier = selectors.access_intake_dossier(request.user, dossier_id)
    ack = dossier.acknowledgements.filter(kind=kind).exclude(pdf="").first()
    if ack is None:
        if kind in Acknowledgement.Kind.values and dossier.acknowledgements.filter(kind=kind):
            messages.info(
                request, _("Le document est en préparation : réessayez dans quelques instants.")
            )
            return redirect("backoffice:intake_done", dossier.pk)
        raise NotFound
    return file_response(
        ack.pdf.open("rb"),
        name=f"{ack.get_kind_display()} {dossier.reference}.pdf",
        content_type="application/pdf",
    )
