"""check_definition reads anything staff or an imported file may hand it: a malformed
document gets a list of problems, never an exception (a 500 in the builder or the import)."""

import copy
import json
import random

import pytest

from grc.demarches.definition import check_definition
from grc.demarches.services.exchange import CATALOGUE_DIR

ODD_VALUES = [
    None,
    True,
    0,
    -1,
    3.5,
    "",
    "x",
    "Nom Complet",
    [],
    ["x"],
    [{}],
    {},
    {"op": 1},
    {"key": []},
    [[1]],
    "page_1",
]


def _nodes(value, path=()):
    yield path
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _nodes(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _nodes(child, (*path, index))


def _replace(document, path, new):
    if not path:
        return new
    target = document
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = new
    return document


@pytest.mark.parametrize(
    "shape",
    [
        None,
        [],
        "x",
        1,
        {"schema": 1, "pages": "x"},
        {"schema": 1, "pages": ["x"]},
        {"schema": 1, "pages": [{"fields": "x"}]},
        {"schema": 1, "pages": [{"key": [], "fields": [{"key": []}]}]},
    ],
)
def test_odd_shapes_are_reported_not_raised(shape):
    assert check_definition(shape)


@pytest.mark.parametrize("slug", sorted(p.stem for p in CATALOGUE_DIR.glob("*.json")))
def test_random_corruptions_of_real_definitions_never_raise(slug):
    original = json.loads((CATALOGUE_DIR / f"{slug}.json").read_text())["definition"]
    paths = list(_nodes(original))
    rng = random.Random(slug)
    for _ in range(400):
        corrupted = copy.deepcopy(original)
        for path in rng.sample(paths, 3):
            try:
                corrupted = _replace(corrupted, path, copy.deepcopy(rng.choice(ODD_VALUES)))
            except (KeyError, IndexError, TypeError):
                continue  # an earlier replacement removed this path
        problems = check_definition(corrupted)
        assert isinstance(problems, list)
        assert all(isinstance(p, str) for p in problems)


def test_the_accepted_types_are_said_in_words_whatever_their_order():
    # "Texte" is a lazy translation: joined first or alone, it once raised a TypeError (a 500
    # on the form's page of a démarche accepting text files).
    from grc.demarches.pageform import file_types_label

    assert file_types_label(["text/plain"]) == "Texte"
    assert file_types_label(["text/plain", "application/pdf"]) == "Texte ou PDF"
