"""24SevenOffice Lønn: the payroll REST API (``client``), its JSON (``mapping``) and the adapter
of employees, employments and absences (``adapter``)."""
