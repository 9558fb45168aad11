"""The shipped reference data: CARICOM's countries and the Action Plan catalogue."""

from __future__ import annotations

import pytest

from commands.reference import ReferenceDataError, load_catalogue, load_countries


def test_all_members_and_associates_with_zones():
    countries = load_countries()
    members = {c.code for c in countries if c.membership == "member"}
    associates = {c.code for c in countries if c.membership == "associate"}
    assert members == {
        "AG",
        "BS",
        "BB",
        "BZ",
        "DM",
        "GD",
        "GY",
        "HT",
        "JM",
        "MS",
        "KN",
        "LC",
        "VC",
        "SR",
        "TT",
    }
    assert associates == {"AI", "BM", "VG", "KY", "TC"}
    assert countries.by_code["BS"].zone == "America/Nassau"


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("jm", "JM"),
        ("Jamaica", "JM"),
        ("st. lucia", "LC"),
        ("SAINT LUCIA", "LC"),
        ("BVI", "VG"),
        ("Trinidad and Tobago", "TT"),
        ("the bahamas", "BS"),
        ("Bahamas", "BS"),
    ],
)
def test_countries_resolve_by_code_name_alias(typed, code):
    assert load_countries().resolve(typed).code == code


def test_unknown_country_suggests():
    countries = load_countries()
    assert countries.resolve("Jamaca") is None
    assert countries.suggest("Jamaca") == ["JM"]


def test_catalogue_covers_the_five_areas_and_section_5():
    catalogue = load_catalogue()
    assert [a.id for a in catalogue.areas] == [
        "awareness",
        "capacity",
        "technical",
        "legal",
        "coop",
    ]
    assert catalogue.item("legal.strategy").standard == "Approved"
    assert catalogue.item("COOP.CERT").need.startswith("Establishment of Computer Emergency")
    for area in catalogue.areas:
        assert catalogue.items_in(area.id), area.id
    assert "legal.strategy" in catalogue.suggest("legal.stratgy")
    assert "legal.strategy" in catalogue.suggest("strategy")


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", r"no \[\[country\]\] entries"),
        ('[[country]]\ncode = "JMX"\nname = "J"\nzone = "UTC"\n', "not a new two-letter"),
        ('[[country]]\ncode = "JM"\nzone = "UTC"\n', "`name` is missing"),
        ('[[country]]\ncode = "JM"\nname = "J"\nzone = "UTC"\nmembership = "x"\n', "membership"),
    ],
)
def test_bad_countries_file(tmp_path, text, error):
    path = tmp_path / "countries.toml"
    path.write_text(text)
    with pytest.raises(ReferenceDataError, match=error):
        load_countries(path)


def test_bad_catalogue_file(tmp_path):
    path = tmp_path / "catalogue.toml"
    path.write_text(
        '[[area]]\nid = "legal"\nname = "L"\n[[item]]\nid = "other.x"\nname = "n"\n'
        'standard = "s"\n'
    )
    with pytest.raises(ReferenceDataError, match="area known"):
        load_catalogue(path)
