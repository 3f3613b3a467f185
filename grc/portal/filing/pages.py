"""One page of a draft: show it, take its answers (and files), move on."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from grc.demarches import answers
from grc.demarches.definition import has_answer
from grc.demarches.models import Dossier
from grc.demarches.pageform import SEP, PageForm, apply_block_action, item_name
from grc.demarches.selectors import located_errors
from grc.demarches.services import dossiers as dossier_services


def profile_prefill(request) -> dict:
    """What the citizen's account knows (profile, else their latest citizen record)."""
    from grc.portal.selectors import prefill_for

    return prefill_for(request.user)


def resume_page(dossier: Dossier) -> str | None:
    """Where a person picks a draft up again: the first page with an answer missing or to
    correct (the one they had reached, when they filled the pages in order); None when every
    answer is there (the summary)."""
    definition = dossier.version.definition
    outcome = answers.validate_answers(
        definition,
        dossier.answers,
        known_attachments=dossier_services.known_attachments(dossier),
    )
    if outcome.ok:
        return None
    wrong = {key.split(".", 1)[0] for key in outcome.errors}
    for page in answers.visible_pages(definition, dossier.answers):
        if answers.page_keys(page) & wrong:
            return page["key"]
    return None


class PageFlow:
    def __init__(self, request, dossier: Dossier, page_key: str):
        self.request = request
        self.dossier = dossier
        self.definition = dossier.version.definition
        self.pages = answers.visible_pages(self.definition, dossier.answers)
        self.page = next((p for p in self.pages if p["key"] == page_key), None)
        if self.page is None:
            raise Http404
        self.index = self.pages.index(self.page)

    def form(self, data=None, files=None) -> PageForm:
        attachments = {a.pk: a for a in self.dossier.attachments.all()}
        return PageForm(
            page=self.page,
            stored=self.dossier.answers,
            prefill=profile_prefill(self.request),
            known_attachments=dossier_services.known_attachments(self.dossier),
            attachments_by_id=attachments,
            data=data,
            files=files,
        )

    def respond(self):
        if self.request.method != "POST":
            return self.render(self.form())
        data = self.request.POST.copy()
        action = data.get("_action", "next")
        upload_errors = self.store_uploads(data)
        if action.startswith(("add:", "remove:")):
            return self.render(
                self.form(apply_block_action(data, self.page.get("fields", []), action)),
                rebound=True,
            )
        # Keep what is valid even when something is not: nothing typed is lost.
        form = self.keep(data)
        for name, problems in upload_errors.items():
            form._errors.setdefault(name, form.error_class()).extend(problems)
        # A question the person has not seen yet (no JavaScript) is asked, not reported as an
        # error: its answer is still missing because it was not on screen.
        newly_shown = form.newly_shown()
        for name in list(form.errors):
            if any(name == key or name.startswith(f"{key}{SEP}") for key in newly_shown):
                del form._errors[name]
        if action == "previous" and self.index > 0:
            return redirect(
                "portal:page",
                self.dossier.collectivite.slug,
                self.dossier.uuid,
                self.pages[self.index - 1]["key"],
            )
        if action == "save":
            messages.success(self.request, _("Votre brouillon est enregistré."))
            return self.render(form, status=200)
        if newly_shown:
            messages.info(
                self.request,
                _("Votre réponse fait apparaître de nouvelles questions sur cette page."),
            )
        if form.errors:
            return self.render(form, status=400)
        if newly_shown:
            return self.render(self.form(), status=200)
        pages = answers.visible_pages(self.definition, self.dossier.answers)
        position = [p["key"] for p in pages].index(self.page["key"])
        if position + 1 < len(pages):
            return redirect(
                "portal:page",
                self.dossier.collectivite.slug,
                self.dossier.uuid,
                pages[position + 1]["key"],
            )
        return redirect("portal:summary", self.dossier.collectivite.slug, self.dossier.uuid)

    def keep(self, data) -> PageForm:
        """Clean the page's answers and save the valid ones in the draft: the one save path of
        a page, whether sent, saved in the background or given back after a new login."""
        form = self.form(data)
        form.full_clean()
        self.dossier = dossier_services.save_draft(
            dossier=self.dossier, page_key=self.page["key"], page_answers=form.cleaned_data
        )
        return form

    def file_field_name(self, name: str) -> str | None:
        """The answer key of a file input of this page named `name` (a file field, or a file
        sub-field of an item of a block), or None when the page has no such input."""
        for spec in self.page.get("fields", []):
            if spec.get("type") == "file" and spec["key"] == name:
                return spec["key"]
            if spec.get("type") == "block" and name.startswith(f"{spec['key']}{SEP}"):
                index, _sep, sub_key = name[len(spec["key"]) + len(SEP) :].partition(SEP)
                if not index.isdecimal() or int(index) >= spec.get("max_items", 10):
                    return None
                for sub in spec.get("fields", []):
                    if sub.get("type") == "file" and sub["key"] == sub_key:
                        return sub_key
        return None

    def store_uploads(self, data) -> dict[str, list[str]]:
        """Check and store the files sent with the page before the answers are cleaned; their
        ids join the field's value. A refused file is reported on its field, never stored."""
        errors: dict[str, list[str]] = {}
        for name in self.file_field_names(data):
            for upload in self.request.FILES.getlist(f"{name}{SEP}upload"):
                key = name.rsplit(SEP, 1)[-1]
                try:
                    attachment = dossier_services.attach_file(
                        dossier=self.dossier, field_key=key, upload=upload, actor=self.request.user
                    )
                except ValidationError as refusal:
                    errors.setdefault(name, []).extend(refusal.messages)
                    continue
                data.appendlist(name, str(attachment.pk))
        return errors

    def file_field_names(self, data) -> list[str]:
        names = []
        for spec in self.page.get("fields", []):
            if spec.get("type") == "file":
                names.append(spec["key"])
            elif spec.get("type") == "block":
                try:
                    count = int(data.get(f"{spec['key']}{SEP}count", 0) or 0)
                except ValueError:
                    count = 0
                # The posted count is the browser's word: never beyond what the block allows.
                count = max(0, min(count, spec.get("max_items", 10)))
                names.extend(
                    item_name(spec["key"], i, sub["key"])
                    for i in range(count)
                    for sub in spec.get("fields", [])
                    if sub.get("type") == "file" and has_answer(sub)
                )
        return names

    def error_links(self, form: PageForm) -> list[dict[str, str]]:
        """The errors for the summary at the top of the page: each with its question's label
        ("Enfant 2 – Prénom" in a block) and the id of its field."""
        links = []
        for name, problems in form.errors.items():
            located = located_errors(self.definition, {name.replace(SEP, "."): list(problems)})
            links.append({"name": name, "label": located[0]["label"], "message": problems[0]})
        return links

    def render(self, form: PageForm, *, status: int = 200, rebound: bool = False):
        if rebound:
            form.full_clean()
            form._errors.clear()  # adding or removing an item is not a submission
        return render(
            self.request,
            "portal/filing/page.html",
            {
                "collectivite": self.dossier.collectivite,
                "dossier": self.dossier,
                "demarche": self.dossier.demarche,
                "page": self.page,
                "form": form,
                "pages": self.pages,
                "index": self.index,
                "context_json": form.condition_context(),
                "error_links": self.error_links(form),
            },
            status=status,
        )
