"""Settings of a SmartDok connection."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, HttpUrl, SecretStr


class SmartDokSettings(BaseModel):
    """``api_token`` is the API token an admin creates in SmartDok (valid one year)."""

    model_config = {"extra": "forbid"}

    base_url: HttpUrl = HttpUrl("https://api.smartdok.no")
    api_token: SecretStr
    username_strategy: Literal["mobile", "email"] = Field(
        "mobile", description="UserName of new users: the mobile number, else the e-mail"
    )
    only_attested: bool = Field(True, description="read only hours attested by an admin")
    max_concurrency: int = Field(4, ge=1, le=32)
    timeout_seconds: float = Field(30.0, gt=0)
