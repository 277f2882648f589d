"""Settings of a 24SevenOffice connection (SOAP web services and payroll "Lønn" REST)."""

from __future__ import annotations

from pydantic import BaseModel, Field, HttpUrl, SecretStr


class TwentyFourSevenSettings(BaseModel):
    """SOAP credentials (``application_id`` is one per integration, ``username`` an e-mail) and,
    for payroll, the customer's Lønn access token."""

    model_config = {"extra": "forbid"}

    api_url: HttpUrl = Field(
        HttpUrl("https://api.24sevenoffice.com"), description="Authenticate and Client services"
    )
    webservices_url: HttpUrl = Field(
        HttpUrl("https://webservices.24sevenoffice.com"),
        description="Person, Project and Time services",
    )
    payroll_url: HttpUrl = HttpUrl("https://payroll.24sevenoffice.com/api")
    application_id: SecretStr | None = None
    username: str | None = None
    password: SecretStr | None = None
    identity_id: str | None = Field(None, description="the client (company) to act for")
    payroll_token: SecretStr | None = None
    requests_per_hour: int = Field(7200, ge=1)
    max_concurrency: int = Field(4, ge=1, le=32)
    timeout_seconds: float = Field(60.0, gt=0)
