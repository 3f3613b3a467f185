"""What keeps a workflow from being published (check_workflow), each with its reason."""

import copy

import pytest

from grc.demarches.definition import empty_definition
from grc.demarches.workflow import definition as wf
from grc.demarches.workflow.defaults import default_workflow
from grc.demarches.workflow.definition import check_workflow
from tests.demarches.factories import definition, field

FORM = definition([field("montant", "integer")])


def broken(change):
    workflow = default_workflow("sva")
    change(workflow)
    return check_workflow(workflow, FORM)


def _unreachable(w):
    w["statuses"].append({**copy.deepcopy(wf.status(w, "classe")), "key": "oublie"})


def _dead_end(w):
    wf.status(w, "accepte")["terminal"] = False


def _guard(w):
    wf.transition(w, "accepter")["guard"] = {"op": "gt", "field": "revenu", "value": 1}


def _syntax(w):
    wf.status(w, "instruction")["actions"][0]["body"] = "Bonjour {{ usager.first_name "


def _variable(w):
    wf.status(w, "instruction")["actions"][0]["subject"] = "{{ dossier.numero }}"


def _items_field(w):
    wf.transition(w, "demander_pieces")["actions"][0]["items_field"] = "inconnu"


def _agents(w):
    wf.status(w, "accepte")["actions"].append(
        {"type": "email", "to": "agents", "subject": "Nouveau", "body": "Un dossier"}
    )


def _set_fields(w):
    wf.status(w, "accepte")["actions"].append(
        {"type": "set_fields", "values": {"suivi": "{% if %}"}}
    )


def _webhook(w):
    wf.status(w, "accepte")["actions"].append(
        {"type": "webhook", "url": "http://exemple.fr/hook", "secret": "s" * 20}
    )


def _timer(w):
    wf.status(w, "instruction")["timers"] = [{"after": 3, "unit": "days", "transition": "accepter"}]


def _implicit(w):
    w["implicit"] = {"accept": "accepter"}


CASES = [
    (_unreachable, "Statut « oublie » : aucune transition n'y mène depuis le statut initial."),
    (_dead_end, "Statut « accepte » : ce statut n'est pas final mais aucune transition n'en part."),
    (_guard, "la condition porte sur « revenu », qui n'existe pas dans le formulaire."),
    (_syntax, "Erreur de syntaxe"),
    (_variable, "« dossier.numero » n'est pas une variable connue."),
    (_items_field, "« inconnu » n'est pas un champ que cette transition fait remplir."),
    (_agents, "indiquez les adresses e-mail des agents."),
    (_set_fields, "suivi : Erreur de syntaxe"),
    (_webhook, "doit commencer par https://"),
    (_timer, "doit être déclenchée par le système"),
    (_implicit, "« accepter » doit être déclenchée par le système"),
]


@pytest.mark.parametrize(("change", "reason"), CASES, ids=[c[0].__name__ for c in CASES])
def test_each_problem_is_named(change, reason):
    problems = broken(change)
    assert any(reason in problem for problem in problems), problems


def test_a_local_http_webhook_is_allowed_for_a_receiver_beside_the_platform():
    workflow = default_workflow("none")
    wf.status(workflow, "accepte")["actions"].append(
        {"type": "webhook", "url": "http://127.0.0.1:9000/hook", "secret": "s" * 20}
    )
    assert check_workflow(workflow, empty_definition()) == []


@pytest.mark.parametrize(
    "shape",
    [
        None,
        [],
        {"statuses": "x"},
        {"schema": 1, "statuses": [1]},
        {"schema": 1, "statuses": [{"key": []}], "transitions": "x"},
    ],
)
def test_odd_shapes_are_reported_not_raised(shape):
    assert check_workflow(shape, FORM)


def test_random_corruptions_of_the_default_workflow_never_raise():
    import random

    from tests.demarches.test_definition_robustness import ODD_VALUES, _nodes, _replace

    original = default_workflow("sva")
    paths = list(_nodes(original))
    rng = random.Random(2026)
    for _ in range(250):
        corrupted = copy.deepcopy(original)
        for path in rng.sample(paths, 3):
            try:
                corrupted = _replace(corrupted, path, copy.deepcopy(rng.choice(ODD_VALUES)))
            except (KeyError, IndexError, TypeError):
                continue
        problems = check_workflow(corrupted, FORM)
        assert isinstance(problems, list) and all(isinstance(p, str) for p in problems)


def test_a_system_transition_cannot_need_a_comment():
    workflow = default_workflow("none")
    wf.transition(workflow, "relancer")["comment"] = "required"
    assert any("ne serait jamais prise" in p for p in check_workflow(workflow, FORM))


def test_an_implicit_decision_that_is_not_an_object_is_reported_not_raised():
    from grc.demarches.models import Demarche, DemarcheVersion
    from grc.demarches.services.demarches import workflow_problems

    workflow = default_workflow("sva")
    workflow["implicit"] = []
    version = DemarcheVersion(definition=FORM, workflow=workflow)
    problems = workflow_problems(Demarche(implicit_decision="sva"), version)
    assert any("« implicit » doit être un objet JSON" in p for p in problems)
