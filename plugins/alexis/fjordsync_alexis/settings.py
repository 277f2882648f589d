"""Settings of an AlexisHR connection."""

from __future__ import annotations

from pydantic import BaseModel, Field, HttpUrl, SecretStr


class AlexisSettings(BaseModel):
    """``token`` is an access token created by an Owner in AlexisHR."""

    model_config = {"extra": "forbid"}

    base_url: HttpUrl = HttpUrl("https://api.alexishr.com/v1")
    token: SecretStr
    max_concurrency: int = Field(4, ge=1, le=32)
    page_size: int = Field(100, ge=1, le=1000)
    timeout_seconds: float = Field(30.0, gt=0)
    retry_attempts: int = Field(
        6, ge=1, le=20, description="attempts per request, the first included"
    )
    retry_max_wait_seconds: float = Field(
        30.0, gt=0, description="longest wait between attempts, Retry-After included"
    )
