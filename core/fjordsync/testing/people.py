"""Realistic, valid, invented personal data for the sandboxes' data generators.

Every number passes the same checks the domain applies (fødselsnummer and D-number check digits,
kontonummer MOD11, IBAN), so generated companies exercise the real rules. All of it is made up.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from stdnum import iban
from stdnum.no import fodselsnummer, kontonr

__all__ = ["FOREIGN", "Person", "email_handle", "invent_person", "kontonummer", "national_id"]

_ASCII = str.maketrans(
    {"æ": "ae", "ø": "o", "å": "a", "ü": "u", "ö": "o", "ä": "a", "ś": "s", "ū": "u", " ": ""}
)


def email_handle(first_name: str, last_name: str) -> str:
    """ "Øyvind Ødegård" -> "oyvind.odegard": the part of an address before the @."""
    return f"{first_name}.{last_name}".lower().translate(_ASCII)


FIRST_NAMES = (
    "Kari",
    "Ola",
    "Ingrid",
    "Lars",
    "Silje",
    "Per",
    "Marit",
    "Jonas",
    "Ida",
    "Henrik",
    "Nora",
    "Magnus",
    "Emma",
    "Sindre",
    "Ragnhild",
    "Eirik",
    "Thea",
    "Håkon",
    "Sofie",
    "Øyvind",
    "Åse",
    "Bjørn",
    "Live",
    "Tor",
    "Hanne",
    "Vegard",
    "Maja",
    "Kristian",
    "Tiril",
    "Anders",
)
LAST_NAMES = (
    "Nordmann",
    "Hansen",
    "Johansen",
    "Olsen",
    "Larsen",
    "Andersen",
    "Pedersen",
    "Nilsen",
    "Kristiansen",
    "Jensen",
    "Karlsen",
    "Johnsen",
    "Pettersen",
    "Eriksen",
    "Berg",
    "Haugen",
    "Hagen",
    "Johannessen",
    "Andreassen",
    "Jacobsen",
    "Dahl",
    "Jørgensen",
    "Henriksen",
    "Lund",
    "Halvorsen",
    "Sørensen",
    "Jakobsen",
    "Moen",
    "Gundersen",
    "Iversen",
    "Strand",
    "Solberg",
    "Svendsen",
    "Eide",
    "Knutsen",
    "Martinsen",
    "Paulsen",
    "Bakken",
    "Kristoffersen",
    "Mathisen",
    "Lie",
    "Amundsen",
    "Nguyen",
    "Rasmussen",
    "Ali",
    "Lunde",
    "Solheim",
    "Berntsen",
    "Moe",
    "Kaur",
    "Fredriksen",
    "Holm",
    "Lien",
    "Aas",
    "Kvam",
    "Ødegård",
    "Øien",
    "Haaland",
)
PLACES = (
    ("0150", "Oslo"),
    ("0557", "Oslo"),
    ("5003", "Bergen"),
    ("7010", "Trondheim"),
    ("4006", "Stavanger"),
    ("9008", "Tromsø"),
    ("3015", "Drammen"),
    ("1606", "Fredrikstad"),
    ("4612", "Kristiansand"),
    ("2317", "Hamar"),
    ("6002", "Ålesund"),
    ("8006", "Bodø"),
)
STREETS = (
    "Storgata",
    "Kirkegata",
    "Skolegata",
    "Parkveien",
    "Fjordveien",
    "Granveien",
    "Bjørkeveien",
    "Sjøgata",
    "Industriveien",
    "Elvegata",
    "Haugeveien",
    "Torget",
    "Solbakken",
    "Løkkeveien",
)
# Foreign colleagues: nationality, name pool, IBAN length of the national part, BIC
FOREIGN = {
    "SE": (
        ("Erik", "Anna", "Johan", "Elin"),
        ("Lindqvist", "Andersson", "Nyström"),
        20,
        "ESSESESS",
    ),
    "PL": (
        ("Piotr", "Anna", "Tomasz", "Kasia"),
        ("Nowak", "Kowalski", "Wiśniewski"),
        24,
        "BPKOPLPW",
    ),
    "LT": (("Tomas", "Rūta", "Mantas"), ("Kazlauskas", "Petrauskas", "Jankauskas"), 16, "CBVILT2X"),
    "DE": (("Jonas", "Lena", "Felix"), ("Müller", "Schmidt", "Fischer"), 18, "DEUTDEFF"),
}


def national_id(rng: random.Random, born: date, *, d_number: bool = False) -> str:
    """A fødselsnummer (or D-number: day + 40) with valid check digits."""
    day = born.day + (40 if d_number else 0)
    century = born.year // 100
    while True:
        # Individual numbers 000-499 are for 1900-1999, 500-999 for 2000-2039.
        individual = rng.randint(0, 499) if century == 19 else rng.randint(500, 999)
        stem = f"{day:02d}{born.month:02d}{born.year % 100:02d}{individual:03d}"
        first = fodselsnummer.calc_check_digit1(stem)
        if len(first) != 1:
            continue  # a remainder of 10: such numbers are never issued
        second = fodselsnummer.calc_check_digit2(stem + first)
        if len(second) == 1:
            return stem + first + second


def kontonummer(rng: random.Random) -> str:
    """A Norwegian account number with a valid MOD11 check digit."""
    while True:
        stem = f"{rng.choice((1503, 1506, 1644, 3000, 3201, 6011, 8601, 9710)):04d}"
        stem += f"{rng.randint(0, 999999):06d}"
        for digit in "0123456789":
            if kontonr.is_valid(stem + digit):
                return stem + digit


def foreign_iban(rng: random.Random, country: str) -> str:
    length = FOREIGN[country][2]
    bban = "".join(str(rng.randint(0, 9)) for _ in range(length))
    return f"{country}{iban.calc_check_digits(country + '00' + bban)}{bban}"


def mobile(rng: random.Random) -> str:
    return f"+47 {rng.choice((4, 9))}{rng.randint(0, 99):02d} {rng.randint(0, 99):02d} " + (
        f"{rng.randint(0, 999):03d}"
    )


@dataclass(frozen=True)
class Person:
    first_name: str
    last_name: str
    born: date
    national_id: str
    nationality: str
    street: str
    postal_code: str
    city: str
    mobile: str
    account_country: str
    account_number: str | None  # kontonummer, for Norwegian accounts
    iban: str | None
    bic: str | None


def invent_person(rng: random.Random, *, foreign: bool = False) -> Person:
    born = date(1960, 1, 1) + timedelta(days=rng.randint(0, 365 * 42))
    place = rng.choice(PLACES)
    street = f"{rng.choice(STREETS)} {rng.randint(1, 120)}"
    if foreign:
        country = rng.choice(sorted(FOREIGN))
        firsts, lasts, _, bic = FOREIGN[country]
        return Person(
            rng.choice(firsts),
            rng.choice(lasts),
            born,
            national_id(rng, born, d_number=True),
            country,
            street,
            place[0],
            place[1],
            mobile(rng),
            country,
            None,
            foreign_iban(rng, country),
            bic,
        )
    account = kontonummer(rng)
    return Person(
        rng.choice(FIRST_NAMES),
        rng.choice(LAST_NAMES),
        born,
        national_id(rng, born),
        "NO",
        street,
        place[0],
        place[1],
        mobile(rng),
        "NO",
        account,
        f"NO{iban.calc_check_digits('NO00' + account)}{account}",
        "DNBANOKK",
    )
