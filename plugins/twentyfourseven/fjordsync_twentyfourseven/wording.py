"""How 24SevenOffice (the ERP and its payroll, Lønn) names itself and its ids, and its limits:
what the core's messages say about it (``fjordsync.ports.Wording``), registered with the
connectors. 24SevenOffice's ids cannot be changed, so no ``where`` or ``fix`` is given."""

from __future__ import annotations

from fjordsync.ports import CodeField, Wording

MAX_HOURS = 255  # the most hours one ERP time entry takes

ERP_WORDING = Wording(
    system="24SevenOffice",
    codes={
        "employee": CodeField(label="contact", name="Contact id"),
        "project": CodeField(label="project", name="Project id"),
        "activity": CodeField(label="work type", name="Work Type ID"),
        "wage": CodeField(label="salary type", name="Salary Type ID"),
    },
    limits={"time_entry.hours": MAX_HOURS},
)

PAYROLL_WORDING = Wording(system="24SevenOffice Lønn", short="Lønn")
