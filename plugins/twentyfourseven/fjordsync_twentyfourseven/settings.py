"""Settings of the two 24SevenOffice connections: the ERP's SOAP web services, and payroll."""

from __future__ import annotations

from pydantic import BaseModel, Field, HttpUrl, SecretStr


class TwentyFourSevenSettings(BaseModel):
    """SOAP credentials: ``application_id`` is one per integration, ``username`` an e-mail."""

    model_config = {"extra": "forbid"}

    api_url: HttpUrl = Field(
        HttpUrl("https://api.24sevenoffice.com"), description="Authenticate and Client services"
    )
    webservices_url: HttpUrl = Field(
        HttpUrl("https://webservices.24sevenoffice.com"),
        description="Person, Project and Time services",
    )
    application_id: SecretStr
    username: str
    password: SecretStr
    identity_id: str | None = Field(None, description="the client (company) to act for")
    requests_per_hour: int = Field(7200, ge=1, description="shared by all uses of the login")
    max_concurrency: int = Field(4, ge=1, le=32)
    timeout_seconds: float = Field(60.0, gt=0)


class PayrollSettings(BaseModel):
    """24SevenOffice Lønn: the customer's access token (Lønn -> Innstillinger -> Diverse
    innstillinger -> API, e-post, integrasjoner -> Administrer integrasjoner)."""

    model_config = {"extra": "forbid"}

    payroll_url: HttpUrl = HttpUrl("https://payroll.24sevenoffice.com/api")
    access_token: SecretStr
    max_concurrency: int = Field(4, ge=1, le=32)
    timeout_seconds: float = Field(60.0, gt=0)
