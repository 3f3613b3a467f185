"""Letters in the agents' workspace: the list (in and out, with the reading of each scan),
registering a letter received (joining a dossier or filing a new one) and sending a letter
from a template. Writes through grc.channels.letters.services."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from grc.backoffice.files import file_response
from grc.backoffice.intake import selectors as intake_selectors
from grc.backoffice.intake.forms import PersonForm
from grc.backoffice.intake.views import IntakeScreen, _person, _prefill
from grc.backoffice.letters.forms import ChooseTemplateForm, IncomingLetterForm, LetterTextForm
from grc.backoffice.usagers import selectors as usager_selectors
from grc.base.access import NotFound
from grc.base.models import Channel
from grc.channels.letters import selectors, services
from grc.channels.models import Letter
from grc.demarches.access import access_staff_dossier, dossiers_visible_to_staff, works_on_service
from grc.demarches.services.demarches import published_version

PER_PAGE = 50


@login_required
def letter_list(request):
    letters = (
        selectors.letters_visible_to(request.user)
        .select_related("dossier", "usager", "collectivite")
        .order_by("-created_at", "-id")
    )
    direction = request.GET.get("sens", "")
    if direction in Letter.Direction.values:
        letters = letters.filter(direction=direction)
    page = Paginator(letters, PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "backoffice/letters/list.html",
        {
            "section": "letters",
            "page": page,
            "direction": direction,
            "directions": Letter.Direction.choices,
        },
    )


@login_required
def letter_detail(request, letter_id):
    letter = selectors.access_letter(request.user, letter_id)
    return render(
        request, "backoffice/letters/detail.html", {"section": "letters", "letter": letter}
    )


@login_required
def letter_file(request, letter_id):
    """The scan of a letter received, the PDF of a letter sent."""
    letter = selectors.access_letter(request.user, letter_id)
    if letter.scan is not None and letter.scan.file:
        stored, name, kind = letter.scan.file, letter.scan.original_name, letter.scan.content_type
    elif letter.document is not None and letter.document.file:
        stored, name, kind = letter.document.file, f"{letter.document.title}.pdf", "application/pdf"
    else:
        raise NotFound
    try:
        handle = stored.open("rb")
    except FileNotFoundError:
        raise NotFound from None
    return file_response(handle, name=name, content_type=kind, inline=True)


def _courrier_demarches(user):
    return intake_selectors.intake_demarches(user).filter(channels__contains=[Channel.COURRIER])


def _chosen_usager(request):
    raw = request.GET.get("usager", "")
    if not raw:
        return None
    try:
        usager = usager_selectors.access_staff_usager(request.user, raw)
    except NotFound:
        messages.error(request, _("Cette fiche usager est introuvable."))
        return None
    return usager.merged_into or usager


@login_required
def letter_register(request):
    demarches = _courrier_demarches(request.user)
    demarche = None
    if request.GET.get("demarche"):
        try:
            demarche = demarches.get(pk=request.GET["demarche"])
        except (ValueError, TypeError, demarches.model.DoesNotExist):
            raise NotFound from None
    usager = _chosen_usager(request)
    if (
        usager is not None
        and demarche is not None
        and usager.collectivite_id != demarche.collectivite_id
    ):
        messages.error(request, _("Cette fiche usager est introuvable dans cette collectivité."))
        usager = None
    query = usager_selectors.clean_query(request.GET.get("q", ""))
    results = (
        usager_selectors.search_usagers(request.user, query) if usager is None and query else []
    )
    post = request.method == "POST"
    data = request.POST.copy() if post else None
    letter_form = IncomingLetterForm(
        data,
        request.FILES or None,
        joins_dossier=demarche is None,
        initial={"reference": request.GET.get("reference", "")[:40]},
    )
    person_form = PersonForm(data) if usager is None else None
    screen = None
    if demarche is not None:
        screen = IntakeScreen(
            published_version(demarche).definition,
            data=data,
            files=request.FILES if post else None,
            prefill=_prefill(usager),
        )
    other_errors: list[str] = []
    status = 200
    if post:
        status = 400
        person_given = person_form is not None and any(
            (data.get(f"{person_form.prefix}-{name}") or "").strip() for name in person_form.fields
        )
        if demarche is None and not person_given:
            person_form = None  # joining a dossier: its citizen wrote, unless told otherwise
        uploads = screen.uploads(request.FILES) if screen is not None else {}
        forms_valid = all(f.is_valid() for f in (letter_form, person_form) if f is not None)
        if screen is not None and screen.new_questions:
            messages.info(request, _("Les réponses font apparaître de nouvelles questions."))
            status = 200
        elif forms_valid and not (screen and screen.errors()):
            dossier = None
            if demarche is None:
                dossier = (
                    dossiers_visible_to_staff(request.user)
                    .filter(reference=letter_form.cleaned_data["reference"])
                    .first()
                )
                if dossier is None:
                    letter_form.add_error(
                        "reference", _("Aucun dossier de vos services ne porte cette référence.")
                    )
            if demarche is not None or dossier is not None:
                try:
                    letter = services.register_letter(
                        actor=request.user,
                        scan=letter_form.cleaned_data["scan"],
                        received_at=letter_form.received_at(),
                        usager=usager,
                        person=_person(person_form) if person_form is not None else None,
                        dossier=dossier,
                        new_dossier=services.NewDossier(
                            demarche=demarche, answers_given=screen.answers, uploads=uploads
                        )
                        if demarche is not None
                        else None,
                        subject=letter_form.cleaned_data.get("subject") or "",
                    )
                except ValidationError as error:
                    other_errors = _spread(error, screen, person_form, letter_form)
                except NotFound:
                    letter_form.add_error(
                        "reference", _("Aucun dossier de vos services ne porte cette référence.")
                    )
                else:
                    messages.success(
                        request,
                        _(
                            "Le courrier est enregistré sur le dossier %(ref)s ; son texte sera lu "
                            "dans quelques instants."
                        )
                        % {"ref": letter.dossier.reference},
                    )
                    return redirect("backoffice:letter_detail", letter.pk)
        if request.FILES:
            messages.warning(
                request, _("Les fichiers choisis ne sont pas gardés : joignez-les de nouveau.")
            )
    keep = {
        k: v
        for k, v in (
            ("demarche", demarche.pk if demarche else None),
            ("usager", usager.pk if usager else None),
        )
        if v
    }
    return render(
        request,
        "backoffice/letters/register.html",
        {
            "section": "letters",
            "demarches": demarches,
            "demarche": demarche,
            "usager": usager,
            "query": query,
            "results": results,
            "searched": bool(query),
            "letter_form": letter_form,
            "person_form": person_form,
            "person_optional": demarche is None,
            "screen": screen,
            "error_links": screen.error_links() if (screen is not None and post) else [],
            "other_errors": other_errors,
            "base_url": reverse("backoffice:letter_register"),
            "demarche_query": urlencode({"demarche": demarche.pk} if demarche else {}),
            "action_query": urlencode(keep),
        },
        status=status,
    )


def _spread(error: ValidationError, screen, person_form, letter_form) -> list[str]:
    """The service's refusal on the fields it names; what names no field, for the summary."""
    if not hasattr(error, "error_dict"):
        return error.messages
    left = screen.add_errors(error.message_dict) if screen is not None else error.message_dict
    other = []
    for key, problems in left.items():
        if key == "received_at":
            letter_form.add_error("received_on", problems)
        elif key == "scan" or key.startswith("courrier:"):
            letter_form.add_error("scan", problems)
        elif person_form is not None and key in person_form.fields:
            person_form.add_error(key, problems)
        else:
            other.extend(problems)
    return other


@login_required
def letter_send(request):
    dossier = access_staff_dossier(request.user, request.GET.get("dossier"))
    if not works_on_service(request.user, dossier):
        raise NotFound
    templates = selectors.templates_for(dossier)
    chooser = ChooseTemplateForm(
        request.POST
        if request.method == "POST"
        else (request.GET if "template" in request.GET else None),
        templates=templates,
    )
    text_form = None
    preview = None
    problems: list[str] = []
    status = 200
    if chooser.is_bound and chooser.is_valid():
        template = chooser.cleaned_data["template"]
        if request.method == "POST":
            text_form = LetterTextForm(request.POST)
            if text_form.is_valid():
                try:
                    letter = services.send_letter(
                        actor=request.user,
                        dossier=dossier,
                        template=template,
                        subject=text_form.cleaned_data["subject"],
                        body=text_form.cleaned_data["body"],
                    )
                except ValidationError as error:
                    problems = _letter_problems(error, text_form)
                else:
                    messages.success(
                        request,
                        _(
                            "Le courrier « %(subject)s » est prêt à imprimer ; "
                            "il est joint au dossier."
                        )
                        % {"subject": letter.subject},
                    )
                    return redirect("backoffice:letter_detail", letter.pk)
            status = 400
        else:
            try:
                preview = services.preview_letter(
                    actor=request.user, dossier=dossier, template=template
                )
            except ValidationError as error:
                problems = _letter_problems(error, None)
                status = 400
            else:
                text_form = LetterTextForm(
                    initial={"subject": preview.subject, "body": preview.body}
                )
    elif chooser.is_bound:
        status = 400
    return render(
        request,
        "backoffice/letters/send.html",
        {
            "section": "letters",
            "dossier": dossier,
            "has_templates": templates.exists(),
            "chooser": chooser,
            "text_form": text_form,
            "preview": preview,
            "problems": problems,
        },
        status=status,
    )


def _letter_problems(error: ValidationError, text_form) -> list[str]:
    if not hasattr(error, "error_dict"):
        return error.messages
    left = []
    for key, messages_ in error.message_dict.items():
        if text_form is not None and key in ("subject", "body"):
            text_form.add_error(key, messages_)
        else:
            left.extend(messages_)
    return left
