"""Staff-editable texts: defaults, checks in French, and the sandbox."""

import pytest

from grc.demarches.texts import (
    DEFAULT_TEXTS,
    TEXT_LABELS,
    VARIABLES,
    TemplateRenderError,
    check_template,
    render_text,
    sample_context,
)


@pytest.mark.parametrize("key", sorted(DEFAULT_TEXTS))
def test_defaults_are_sound_and_render(key):
    assert check_template(DEFAULT_TEXTS[key]) == []
    rendered = render_text(DEFAULT_TEXTS[key], sample_context())
    assert "{{" not in rendered
    assert "{%" not in rendered
    assert key in TEXT_LABELS


def test_aee_body_gives_the_registration_facts():
    body = render_text(DEFAULT_TEXTS["aee_body"], sample_context())
    assert "15 mai 2023 à 14 h 05" in body
    assert "OCC-2023-000042" in body
    assert "Demande d'autorisation d'occupation du domaine public" in body
    assert "https://demarches.saint-exemple.fr/suivi/OCC-2023-000042/" in body
    assert "accusé de réception" in body
    assert "Votre code de suivi : BCDFGHJK" in body


def test_aee_body_without_tracking_code():
    context = sample_context()
    context["dossier"]["tracking_code"] = ""
    body = render_text(DEFAULT_TEXTS["aee_body"], context)
    assert "code de suivi" not in body
    assert "\n\n\n" not in body


@pytest.mark.parametrize("kind", ["none", "sva", "svr"])
def test_defaults_render_for_every_decision_kind(kind):
    context = sample_context()
    context["decision"]["kind"] = kind
    if kind == "none":
        context["decision"]["date"] = None
    for source in DEFAULT_TEXTS.values():
        render_text(source, context)


def test_variables_are_documented_in_french():
    assert "dossier.reference" in VARIABLES
    assert all(description for description in VARIABLES.values())


def test_unknown_variable_is_reported_in_french():
    errors = check_template("Bonjour {{ citoyen.nom }}")
    assert len(errors) == 1
    assert "La variable « citoyen » n'existe pas" in errors[0]


def test_undocumented_attribute_is_reported():
    errors = check_template("{{ dossier.reference }} {{ dossier.numero }}")
    assert errors == [
        "« dossier.numero » n'est pas une variable connue. "
        "Consultez la liste des variables disponibles."
    ]


def test_loop_variables_are_not_mistaken_for_context_names():
    assert check_template("{% for dossier in [1] %}{{ dossier.real }}{% endfor %}") == []


def test_syntax_error_is_reported_with_its_line_in_french():
    errors = check_template("Bonjour,\n\nVotre dossier {{ dossier.reference }")
    assert len(errors) == 1
    assert errors[0].startswith("Erreur de syntaxe à la ligne 3")


def test_unclosed_block_and_unknown_filter_are_reported():
    assert "se termine avant la fin" in check_template("{% if dossier.url %}oui")[0]
    assert (
        "le filtre « majuscule » n'existe pas"
        in check_template("{{ dossier.reference|majuscule }}")[0]
    )


def test_date_filters():
    context = sample_context()
    assert render_text("{{ decision.date|date_fr }}", context) == "16 juillet 2023"
    assert render_text("{{ dossier.received_at|date_fr }}", context) == "15 mai 2023"
    assert render_text("{{ dossier.received_at|datetime_fr }}", context) == (
        "15 mai 2023 à 14 h 05"
    )
    context["decision"]["date"] = None
    assert render_text("[{{ decision.date|date_fr }}]", context) == "[]"


def test_render_keeps_trailing_newline():
    assert render_text("{{ dossier.reference }}\n", sample_context()) == "OCC-2023-000042\n"


def test_undefined_variable_raises_in_french():
    with pytest.raises(TemplateRenderError, match="La variable « citoyen » n'existe pas"):
        render_text("{{ citoyen }}", sample_context())
    with pytest.raises(TemplateRenderError, match="« numero » n'existe pas"):
        render_text("{{ dossier.numero }}", sample_context())


def test_syntax_error_at_render_raises_in_french():
    with pytest.raises(TemplateRenderError, match="Erreur de syntaxe à la ligne 1"):
        render_text("{% if %}", sample_context())


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ dossier.__class__ }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ 'x' * 1000000000 }}",
    ],
)
def test_sandbox_refuses_unsafe_access(source):
    with pytest.raises(TemplateRenderError) as excinfo:
        render_text(source, sample_context())
    assert "Le texte" in str(excinfo.value)


def test_wrong_value_for_a_filter_raises_in_french():
    with pytest.raises(TemplateRenderError, match="date_fr s'applique à une date"):
        render_text("{{ dossier.reference|date_fr }}", sample_context())
