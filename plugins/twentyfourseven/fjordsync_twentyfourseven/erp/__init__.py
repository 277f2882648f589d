"""The 24SevenOffice ERP: SOAP web services (``client``), their records (``mapping``) and the
adapter of projects, employees, code lists and hours (``adapter``)."""
