"""How SmartDok names itself, its codes and where they are edited, and its limits: what the
core's messages say about SmartDok (``fjordsync.ports.Wording``), registered with the connector."""

from __future__ import annotations

from fjordsync.ports import CodeField, Wording
from fjordsync_smartdok.mapping import PROJECT_NAME_LIMIT, USER_NAME_LIMIT

WORDING = Wording(
    system="SmartDok",
    codes={
        "employee": CodeField(
            label="user",
            name="Ansattnummer",
            noun="employee number",
            where="Firmaopplysninger -> Brukeroversikt (Ansattnummer)",
            fix="set Ansattnummer under Firmaopplysninger -> Brukeroversikt in SmartDok",
        ),
        "project": CodeField(
            label="project",
            name="number",
            noun="project number",
            where="the project's Detaljer (Nummer / Pro.Nr)",
            fix="set the prosjektnummer (Pro.Nr) of the project in SmartDok",
        ),
        "activity": CodeField(
            label="activity",
            name="Kode",
            noun="activity code",
            where="Firmaopplysninger -> Aktiviteter (Kode)",
            fix="set Kode under Firmaopplysninger -> Aktiviteter",
        ),
        "wage": CodeField(
            label="wage type",
            name="Kode",
            noun="wage code",
            where="Firmaopplysninger -> Lønnsarter (Kode)",
            fix="set Kode under Firmaopplysninger -> Lønnsarter",
        ),
    },
    limits={"project.name": PROJECT_NAME_LIMIT, "employee.name": USER_NAME_LIMIT},
)
