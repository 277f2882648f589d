"""The pure domain: records, value objects, code lists, matching, planning and business rules.

Nothing here does I/O, reads the clock or imports an outer library (an import-linter contract
checks it); only the standard library and pure validators (python-stdnum, email-validator,
phonenumbers, holidays).
"""
