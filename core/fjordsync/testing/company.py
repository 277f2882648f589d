"""Facts of the invented company every sandbox generator draws from, so that the sandboxes'
generated data line up the way a customer's aligned systems do (seed 000's id alignment):
24SevenOffice's work types and salary types have the ids that SmartDok's activities and wage
types carry as their codes.
"""

from __future__ import annotations

import random

from fjordsync.testing.people import Person, invent_person

# (24SevenOffice Work Type ID = SmartDok activity "Kode", name, active)
WORK_TYPES = (
    (10, "Ordinær arbeidstid", True),
    (11, "Overtid 50 %", True),
    (12, "Overtid 100 %", True),
    (20, "Reisetid", True),
    (30, "Rigg og drift", True),
    (40, "Opplæring og kurs", True),
    (90, "Gammel aktivitet (ikke i bruk)", False),
)
# (24SevenOffice Salary Type ID = SmartDok wage type "Kode", name, active)
SALARY_TYPES = (
    (100, "Timelønn", True),
    (110, "Overtidstillegg 50 %", True),
    (120, "Overtidstillegg 100 %", True),
    (200, "Reisetillegg", True),
    (300, "Kilometergodtgjørelse", True),
)
PROJECT_NAMES = (
    "Skolebygg Nord",
    "Rehabilitering Storgata 12",
    "Ny barnehage Solbakken",
    "Gang- og sykkelvei Fv. 17",
    "Kaianlegg Sjøgata",
    "Boligfelt Haugen trinn 2",
    "Omsorgsboliger Elvegata",
    "Vannledning Industriveien",
    "Idrettshall Moen",
    "Oppgradering av Bjørkeveien bru med ny gangbane, rekkverk og belysning i begge retninger",
    "Butikksenter Torget",
    "Tak og fasade Kirkegata 5",
    "Brannstasjon Vest",
    "Parkeringshus sentrum",
    "Utomhusanlegg Fjordparken",
    "Riving av gammelt lager",
    "Kontorbygg Sentrum Øst",
    "Ny adkomstvei til renseanlegget på Løkkeveien med rundkjøring",
)
CUSTOMERS = (
    "Fjordvik kommune",
    "Vestland fylkeskommune",
    "Boligbyggelaget Fjord",
    "Statens vegvesen",
    "Havnevesenet",
    "Nordbygg Eiendom AS",
)


def employee(seed: int, index: int, *, foreign: bool | None = None) -> Person:
    """The company's ``index``-th employee: the same person in every sandbox generated with
    the same seed (Alexis employee number 1001+index, 24SevenOffice Contact id and SmartDok
    employee number 2001+index)."""
    rng = random.Random(f"fjordsync-company:{seed}:{index}")
    is_foreign = rng.random() < 0.1 if foreign is None else foreign
    return invent_person(rng, foreign=is_foreign)
