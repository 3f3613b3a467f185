import pytest
from django.core.exceptions import ValidationError

from grc.base.validators import (
    contrast_ratio,
    display_phone,
    name_key,
    normalize_email,
    normalize_phone,
    validate_portal_colour,
    validate_siren,
)

PHONES = [
    # what people type                 E.164 or None for an error
    ("06 12 34 56 78", "+33612345678"),
    ("0612345678", "+33612345678"),
    ("06.12.34.56.78", "+33612345678"),
    ("06-12-34-56-78", "+33612345678"),
    (" 06 12 34 56 78 ", "+33612345678"),
    ("+33 6 12 34 56 78", "+33612345678"),
    ("+33 (0)6 12 34 56 78", "+33612345678"),
    ("0033 6 12 34 56 78", "+33612345678"),
    ("01 23 45 67 89", "+33123456789"),
    ("02.41.00.10.20", "+33241001020"),
    ("09 70 12 34 56", "+33970123456"),
    ("+44 20 7946 0958", "+442079460958"),
    ("+32 2 555 12 12", "+3225551212"),
    ("+1 (202) 555-0148", "+12025550148"),
    ("+262 262 12 34 56", "+262262123456"),  # La Réunion
    ("0612", None),
    ("06 12 34 56 78 9", None),
    ("00 00 00 00 00", None),
    ("+33 1 23", None),
    ("téléphone", None),
    ("", None),
]


@pytest.mark.parametrize(("raw", "expected"), PHONES)
def test_phone_inputs(raw, expected):
    if expected is None:
        with pytest.raises(ValidationError) as error:
            normalize_phone(raw)
        assert error.value.messages  # a sentence, not a stack trace
        assert raw.strip() in error.value.messages[0] or not raw.strip()
    else:
        assert normalize_phone(raw) == expected


def test_phone_display_is_national_for_france_and_international_otherwise():
    assert display_phone("+33612345678") == "06 12 34 56 78"
    assert display_phone("+442079460958") == "+44 20 7946 0958"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("Marie.Dubois@Exemple.TEST ", "marie.dubois@exemple.test"), ("a@b.fr", "a@b.fr")],
)
def test_email_is_trimmed_and_lower_cased(raw, expected):
    assert normalize_email(raw) == expected


@pytest.mark.parametrize("raw", ["marie", "marie@", "@exemple.fr", "marie dubois@exemple.fr", ""])
def test_invalid_email_is_refused_with_a_message(raw):
    with pytest.raises(ValidationError, match="adresse e-mail valide"):
        normalize_email(raw)


def test_siren():
    assert validate_siren("213 401 268") == "213401268"
    with pytest.raises(ValidationError, match="clé de contrôle"):
        validate_siren("213401269")
    with pytest.raises(ValidationError, match="9 chiffres"):
        validate_siren("2134012")
    with pytest.raises(ValidationError, match="que des chiffres"):
        validate_siren("21340126A")


def test_portal_colour_must_carry_white_text():
    validate_portal_colour("#000091")
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21)
    with pytest.raises(ValidationError, match="4,5:1"):
        validate_portal_colour("#ffcc00")
    with pytest.raises(ValidationError, match="#RRVVBB"):
        validate_portal_colour("blue")


def test_name_key_ignores_accents_case_and_punctuation():
    assert name_key("Hélène-Marie", "D'Œuvray") == "helene marie d oeuvray"
    assert name_key("  JEAN  ", None, "DUPONT") == "jean dupont"


def test_the_phone_filter_shows_numbers_as_people_read_them():
    from grc.base.templatetags.grc_format import phone

    assert phone("+33241001020") == "02 41 00 10 20"
    assert phone("+442079460958") == "+44 20 7946 0958"
    assert phone("pas un numéro") == "pas un numéro"
    assert phone("") == ""
