"""The TOML config file: tenants, their connections and flows, validated at load.

::

    [ledger]
    url = "sqlite:///fjordsync.db"        # relative SQLite paths are relative to this file
    key_file = "fjordsync.db.key"         # the fingerprint key (default: beside a SQLite file)

    secrets_file = "secrets.toml"         # optional: NAME = "value" lines, kept out of git

    [tenants.acme.connections.erp]
    plugin = "twentyfourseven"
    settings = { username = "api@acme.no", password = "${ACME_24SO_PASSWORD}" }

    [tenants.acme.flows.projects]
    source = "erp"
    target = "smartdok"
    scope = { projects = ["1001", "1002"] }
    schedule = { days = ["mon", "thu"], time = "06:30", timezone = "Europe/Oslo" }

    [distributed]                         # optional: fjordsync worker / scheduler
    broker_url = "redis://:${REDIS_PASSWORD}@redis.internal:6379/0"
    budget_redis_url = "redis://redis.internal:6379/1"   # default: the broker's Redis

    [notifications]                       # optional; a tenant may have its own
    on = ["failure", "new_problems"]
    webhooks = [{ url = "https://hooks.example/fjordsync?token=${HOOK_TOKEN}" }]
    email = { host = "smtp.example", sender = "fjordsync@acme.no", to = ["lonn@acme.no"] }

    [web]                                 # optional: fjordsync web
    host = "127.0.0.1"
    read_without_login = false            # users: the secrets file's [web_users] table

Every problem is reported with the file, the key path and what is wrong, all at once. Secrets
are written as ``${ENV_VAR}`` and resolved from the environment, then from the secrets file
(``secrets_file`` or ``FJORDSYNC_SECRETS_FILE``); a secret setting written out literally is an
error, so a config file can be committed to git safely (a URL's password in ``[distributed]``
too). Secret values never appear in errors, and no error quotes a setting's value. A secrets
file that others can read or write is refused.

Tenants are isolated: a problem inside one tenant (its connections, secrets, flows) marks that
tenant broken (``Config.broken``, with its problems) and the others load and run; only asking
for that tenant (``Config.tenant``) raises its problems. Problems of the file itself (TOML, the
``ledger``, ``secrets_file`` or ``distributed`` sections, no tenant at all) stop every tenant,
and so does a config in which every tenant is broken: nothing could run.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from fjordsync.errors import ConfigError
from fjordsync.flows.registry import FLOWS
from fjordsync.ports import Scope

__all__ = [
    "SECRETS_FILE_ENV",
    "Config",
    "ConnectionConfig",
    "DistributedConfig",
    "EmailConfig",
    "FlowConfig",
    "LedgerConfig",
    "NotificationsConfig",
    "ScheduleConfig",
    "ScopeConfig",
    "TenantConfig",
    "WebConfig",
    "WebhookConfig",
    "close_matches",
    "did_you_mean",
    "key_lines",
    "line_of",
    "load_config",
    "secret_settings",
]

SECRETS_FILE_ENV = "FJORDSYNC_SECRETS_FILE"
DEFAULT_TIMEZONE = "Europe/Oslo"
_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ScheduleConfig(_Strict):
    """Days of the week and a time of day in a time zone (default Europe/Oslo)."""

    days: list[Weekday] = Field(min_length=1)
    time: time
    timezone: str = DEFAULT_TIMEZONE
    enabled: bool = True

    @field_validator("time", mode="before")
    @classmethod
    def _clock_time(cls, value: Any) -> Any:
        if isinstance(value, str) and not re.fullmatch(r"\d{2}:\d{2}(:\d{2})?", value):
            raise ValueError("must be a time of day as HH:MM")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use an IANA name)") from None
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def text(self) -> str:
        """As a person reads it: "mon,thu 06:30 Europe/Oslo"."""
        return f"{','.join(self.days)} {self.time.strftime('%H:%M')} {self.timezone}"


class ScopeConfig(_Strict):
    """Record filters. Employee filters cascade to hours and absences."""

    employees: list[str] = []
    exclude_employees: list[str] = []
    departments: list[str] = []
    offices: list[str] = []
    projects: list[str] = []
    absence_types: list[str] = []
    active_only: bool = False

    def to_scope(self) -> Scope:
        def keys(values: list[str]) -> frozenset[str]:
            return frozenset(v.strip() for v in values)

        return Scope(
            employees=keys(self.employees),
            exclude_employees=keys(self.exclude_employees),
            departments=keys(self.departments),
            offices=keys(self.offices),
            projects=keys(self.projects),
            absence_codes=frozenset(v.strip().zfill(2) for v in self.absence_types),
            active_only=self.active_only,
        )


class FlowConfig(_Strict):
    source: str
    target: str
    enabled: bool = True
    scope: ScopeConfig = ScopeConfig()
    options: dict[str, Any] = {}
    mapping: dict[str, dict[str, str]] = {}
    schedule: ScheduleConfig | None = None


class ConnectionConfig(_Strict):
    plugin: str
    settings: dict[str, Any] = {}


class WebhookConfig(_Strict):
    """A URL that gets a JSON POST about a run (``fjordsync.notify``); ``${ENV}`` references in
    it (a token in its query) are resolved like secrets."""

    url: str
    headers: dict[str, str] = {}


class EmailConfig(_Strict):
    """SMTP for notifications: ``password`` only as ``${ENV}``."""

    host: str
    port: int = 25
    sender: str
    to: list[str] = Field(min_length=1)
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    ssl: bool = False


NotifyWhen = Literal["failure", "new_problems"]


class NotificationsConfig(_Strict):
    """Who is told about a run, and when: ``failure`` (a run that failed or was interrupted),
    ``new_problems`` (a run with problems not seen before; known ones are not told again)."""

    on: list[NotifyWhen] = ["failure", "new_problems"]
    webhooks: list[WebhookConfig] = []
    email: EmailConfig | None = None


class WebConfig(_Strict):
    """``fjordsync web``: where it listens (127.0.0.1 unless told otherwise) and whether its
    read-only pages open without a login. Its users and their password hashes are the secrets
    file's ``[web_users]`` table (name = "$argon2id$..."), never this file."""

    host: str = "127.0.0.1"
    port: int = 8765
    read_without_login: bool = False
    # Signs the session cookie; default: a key made once and kept beside the ledger key.
    session_secret: str | None = None
    secure_cookies: bool = True


class TenantConfig(_Strict):
    connections: dict[str, ConnectionConfig] = {}
    flows: dict[str, FlowConfig] = {}
    # The tenant's own notifications; default: the file's [notifications].
    notifications: NotificationsConfig | None = None


class LedgerConfig(_Strict):
    url: str = "sqlite:///fjordsync.db"
    # The fingerprint key's file (relative to the config file). Default: FJORDSYNC_LEDGER_KEY,
    # else FJORDSYNC_LEDGER_KEY_FILE, else <ledger file>.key beside a SQLite ledger.
    key_file: str | None = None


class DistributedConfig(_Strict):
    """Where the distributed runtime's Redis is. The environment wins (FJORDSYNC_BROKER_URL,
    FJORDSYNC_BUDGET_REDIS_URL), so a deployment can keep both out of the file entirely."""

    broker_url: str | None = None
    budget_redis_url: str | None = None


class _FileModel(_Strict):
    ledger: LedgerConfig = LedgerConfig()
    secrets_file: str | None = None
    distributed: DistributedConfig = DistributedConfig()
    notifications: NotificationsConfig | None = None
    web: WebConfig = WebConfig()
    # Each tenant is validated on its own (TenantConfig), so one tenant's mistake is its own.
    tenants: dict[str, dict[str, Any]] = Field(min_length=1)


@dataclass(frozen=True)
class Config:
    """A loaded, validated config. ``connection_settings[tenant][name]`` is the plugin's own
    settings model with secrets resolved."""

    path: Path
    ledger_url: str
    tenants: Mapping[str, TenantConfig]
    connection_settings: Mapping[str, Mapping[str, BaseModel]]
    warnings: tuple[str, ...] = ()
    ledger_key_file: str | None = None
    # Tenants whose own config is broken, with their problems (key path, what is wrong); they
    # are not in ``tenants`` and never run, the others do.
    broken: Mapping[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    distributed: DistributedConfig = field(default_factory=DistributedConfig)  # ${...} resolved
    notifications: NotificationsConfig | None = None  # the file's; ${...} resolved
    web: WebConfig = field(default_factory=WebConfig)  # ${...} resolved
    # The secrets file's [web_users] table: user name -> password hash (argon2).
    web_users: Mapping[str, str] = field(default_factory=dict)
    # Key path -> its line in the file (``key_lines``), for the line numbers of problems.
    key_lines: Mapping[str, int] = field(default_factory=dict, repr=False)

    def notifications_of(self, tenant: str) -> NotificationsConfig | None:
        """The tenant's notifications, else the file's, else None (nobody is told)."""
        own = self.tenants[tenant].notifications if tenant in self.tenants else None
        return own or self.notifications

    def secret_values(self) -> list[str]:
        """Every resolved secret of every connection, and the passwords of the distributed
        section's URLs, to be masked wherever they might show up
        (``fjordsync.logs.register_secrets``)."""
        values = [
            value.get_secret_value()
            for connections in self.connection_settings.values()
            for settings in connections.values()
            for value in vars(settings).values()
            if isinstance(value, SecretStr) and value.get_secret_value()
        ]
        for url in (self.distributed.broker_url, self.distributed.budget_redis_url):
            password = _url_password(url or "")
            if password:
                values.append(password)
        sections = [self.notifications, *(t.notifications for t in self.tenants.values())]
        for section in filter(None, sections):
            if section.email is not None and section.email.password:
                values.append(section.email.password)
            for webhook in section.webhooks:
                # A hook's URL often is its secret (a token in its path or query): masked from
                # load time, as httpx logs each request's URL; so are its header values.
                values.append(webhook.url)
                values.extend(value for value in webhook.headers.values() if value)
        if self.web.session_secret:
            values.append(self.web.session_secret)
        return values

    def broken_error(self, name: str | None = None) -> ConfigFileError | None:
        """The problems of broken tenant ``name`` (of every broken tenant when None) as one
        error, or None when there are none: ``config check`` fails on it, a run of that tenant
        raises it."""
        names = sorted(self.broken) if name is None else [name] if name in self.broken else []
        problems = [problem for tenant in names for problem in self.broken[tenant]]
        if not problems:
            return None
        lines = [line_of(self.key_lines, path) for path, _ in problems]
        return ConfigFileError(str(self.path), problems, lines)

    def broken_summary(self) -> list[str]:
        """One line per broken tenant, naming it and how many problems it has (never their
        text: that is for ``fjordsync config check``), for a scheduler's report."""
        return _broken_lines(self.path, self.broken)

    def tenant(self, name: str | None) -> tuple[str, TenantConfig]:
        """The named tenant, or the only one when no name is given; a broken tenant raises its
        own problems."""
        if name is None:
            every = sorted([*self.tenants, *self.broken])
            if len(every) != 1:
                raise ConfigError(
                    f"the config has {len(every)} tenants: choose one with --tenant "
                    f"({', '.join(every)})",
                    file=str(self.path),
                )
            name = every[0]
        error = self.broken_error(name)
        if error is not None:
            raise error
        if name not in self.tenants:
            raise ConfigError(f"no tenant {name!r}", file=str(self.path), path="tenants")
        return name, self.tenants[name]


class _Problems:
    def __init__(self, file: Path, key_lines: Mapping[str, int] | None = None) -> None:
        self.file = file
        self.key_lines: Mapping[str, int] = key_lines or {}
        self.items: list[tuple[str, str]] = []
        self.flows_without_adapter: dict[Any, list[str]] = {}

    @property
    def warnings(self) -> list[str]:
        return [
            f"connector {r.connector.name!r} ({r.plugin.distribution} {r.plugin.version}) has no "
            f"adapter in this version, so these flows cannot run yet: {', '.join(flows)}"
            for r, flows in self.flows_without_adapter.items()
        ]

    def add(self, path: str, problem: str) -> None:
        self.items.append((path, problem))

    def raise_if_any(self) -> None:
        if self.items:
            raise ConfigFileError(
                str(self.file),
                self.items,
                [line_of(self.key_lines, path) for path, _ in self.items],
            )


class ConfigFileError(ConfigError):
    """One or more problems in a config file; ``problems`` lists (key path, what is wrong) and
    ``lines``, beside it, the line of each key in the file (None where there is none: a missing
    file, a table not written at all). Two lists rather than triples, so that code reading
    ``problems`` as pairs goes on working. Each problem reads ``FILE:LINE: path: problem``."""

    def __init__(
        self,
        file: str,
        problems: list[tuple[str, str]],
        lines: list[int | None] | None = None,
    ) -> None:
        self.problems = problems
        self.lines: list[int | None] = list(lines) if lines else [None] * len(problems)
        # Read top to bottom, as the file is fixed (problems without a line first).
        in_file_order = sorted(
            zip(problems, self.lines, strict=True), key=lambda pair: pair[1] or 0
        )
        text = [
            (f"{file}:{line}" if line else file)
            + (f": {path}: {problem}" if path else f": {problem}")
            for (path, problem), line in in_file_order
        ]
        super().__init__("\n".join(text))
        self.file = file
        self.path = problems[0][0] if problems else None


def _dotted(location: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in location)


def close_matches(word: str, choices: Iterable[str]) -> list[str]:
    """The names among ``choices`` that ``word`` was probably meant to be: difflib's close
    matches, else the names it begins (``payroll`` -> ``payroll-employees``)."""
    choices = sorted(set(choices))
    found = difflib.get_close_matches(word, choices, n=2, cutoff=0.6)
    if not found and word:
        found = [choice for choice in choices if choice.startswith(word)][:2]
    return found


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``choices``, else nothing."""
    found = close_matches(word, choices)
    return f" (did you mean {' or '.join(repr(f) for f in found)}?)" if found else ""


def _guess(word: str, choices: Iterable[str]) -> str:
    """``did you mean 'x'? `` to begin a bracket that goes on with the choices, else nothing."""
    return did_you_mean(word, choices)[2:-1] + " " if close_matches(word, choices) else ""


def _without_none(annotation: Any) -> Any:
    args = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and len(args) == 1:
        return args[0]
    return annotation


def _fields_at(model: type[BaseModel] | None, location: tuple[Any, ...]) -> list[str]:
    """The fields of the model that holds the key at ``location`` (pydantic's ``loc`` of an
    unknown key), walking fields, dict values and list items; [] when it is not a model."""
    annotation: Any = model
    for part in location[:-1]:
        annotation = _without_none(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            known = annotation.model_fields.get(str(part))
            annotation = known.annotation if known is not None else None
        elif typing.get_origin(annotation) in (dict, list, Mapping):
            annotation = typing.get_args(annotation)[-1]
        else:
            return []
    annotation = _without_none(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return list(annotation.model_fields)
    return []


def _pydantic_problems(
    error: ValidationError,
    prefix: str,
    problems: _Problems,
    *,
    model: type[BaseModel] | None = None,
    secret_fields: frozenset[str] = frozenset(),
    sensitive: tuple[str, ...] = (),
    skip: frozenset[str] = frozenset(),
) -> None:
    """Pydantic's messages, without the input (``include_input=False``); a validator's own
    message may still quote its value, so for a secret field only the kind of problem is kept,
    and any known secret value left in a message is masked. An unknown key gets the closest of
    ``model``'s keys at its place. Problems of the fields in ``skip`` (reported already) are
    left out."""
    for item in error.errors(include_input=False, include_url=False):
        if item["loc"] and str(item["loc"][0]) in skip:
            continue
        path = _dotted(tuple(p for p in (prefix, *item["loc"]) if p != ""))
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            key = str(item["loc"][-1]) if item["loc"] else ""
            message = "is not a known setting" + did_you_mean(key, _fields_at(model, item["loc"]))
        elif item["type"] == "missing":
            message = "is required"
        elif item["loc"] and item["loc"][0] in secret_fields:
            message = (
                "is a secret and must be a string"
                if item["type"].endswith("_type")
                else "is a secret whose value is not valid for this connector (the value is "
                "not shown)"
            )
        for value in sensitive:
            if len(value) >= 3:
                message = message.replace(value, "***")
        problems.add(path, message)


def _is_secret(annotation: Any) -> bool:
    if annotation is SecretStr:
        return True
    return any(_is_secret(arg) for arg in typing.get_args(annotation))


def secret_settings(model: type[BaseModel]) -> tuple[str, ...]:
    """The settings of a connector's model that are secrets (typed ``SecretStr``): a config
    file names them as ``${NAME}``, their values come from the environment or the secrets file."""
    return tuple(name for name, field in model.model_fields.items() if _is_secret(field.annotation))


def _resolve(
    value: Any,
    path: str,
    secrets: Mapping[str, str],
    environ: Mapping[str, str],
    problems: _Problems,
) -> Any:
    """Replace ``${NAME}`` references inside ``value`` (recursively)."""
    if isinstance(value, dict):
        return {k: _resolve(v, f"{path}.{k}", secrets, environ, problems) for k, v in value.items()}
    if isinstance(value, list):
        return [
            _resolve(v, f"{path}[{i}]", secrets, environ, problems) for i, v in enumerate(value)
        ]
    if not isinstance(value, str):
        return value

    def lookup(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in environ:
            return environ[name]
        if name in secrets:
            return secrets[name]
        if not isinstance(secrets, _RefusedSecrets):  # else the refusal says it all
            problems.add(
                path, f"environment variable {name} is not set, nor is it in the secrets file"
            )
        return ""

    return _REFERENCE.sub(lookup, value)


class _RefusedSecrets(dict[str, str]):
    """No secrets, because the secrets file was refused (that problem is reported already)."""


WEB_USERS_TABLE = "web_users"


def _read_secrets(
    config: _FileModel,
    file: Path,
    environ: Mapping[str, str],
    problems: _Problems,
    secrets_web_users: dict[str, str],
) -> dict[str, str]:
    """The secrets file's NAME = "value" lines; its ``[web_users]`` table goes to
    ``secrets_web_users``."""
    configured = environ.get(SECRETS_FILE_ENV) or config.secrets_file
    if not configured:
        return {}
    path = Path(configured)
    if not path.is_absolute():
        path = file.parent / path
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        problems.add("secrets_file", f"secrets file {str(path)!r} does not exist")
        return _RefusedSecrets()
    if mode & 0o077 and os.name == "posix":
        # Secrets others can read are no secrets, and a file others can write feeds us theirs.
        problems.add(
            "secrets_file",
            f"secrets file {str(path)!r} can be read or written by others (mode {mode:04o}): "
            f"chmod 600 {path}",
        )
        return _RefusedSecrets()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        problems.add("secrets_file", f"secrets file {str(path)!r} cannot be read: {exc.strerror}")
        return _RefusedSecrets()
    except tomllib.TOMLDecodeError as exc:  # its message gives a position, never the text
        problems.add("secrets_file", f"secrets file {str(path)!r} is not valid TOML: {exc}")
        return _RefusedSecrets()
    users = data.pop(WEB_USERS_TABLE, None)
    if users is not None:
        if not isinstance(users, dict) or not all(isinstance(v, str) for v in users.values()):
            problems.add("secrets_file", f"[{WEB_USERS_TABLE}] must map user names to hashes")
        else:
            secrets_web_users.update(users)
    not_text = [k for k, v in data.items() if not isinstance(v, str)]
    for key in not_text:
        problems.add("secrets_file", f"secret {key} must be a string")
    return {k: v for k, v in data.items() if isinstance(v, str)}


def _ledger_url(url: str, file: Path) -> str:
    """Relative SQLite paths are taken relative to the config file, not the working directory."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and url != prefix + ":memory:":
        return prefix + str((file.parent / url[len(prefix) :]).resolve())
    return url


def load_config(
    path: str | os.PathLike[str],
    *,
    connectors: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Read and validate a config file.

    ``connectors`` (name -> ``RegisteredConnector``, from ``fjordsync.plugins.connectors``)
    validates each connection's settings against its plugin's model and each flow's wiring
    against the connectors' capabilities. Raises ``ConfigFileError`` listing every problem.
    """
    file = Path(path)
    environ = os.environ if environ is None else environ
    try:
        text = file.read_text(encoding="utf-8")
        raw = tomllib.loads(text)
    except FileNotFoundError:
        raise ConfigFileError(str(file), [("", "the file does not exist")]) from None
    except tomllib.TOMLDecodeError as exc:  # its message has the line and column
        raise ConfigFileError(str(file), [("", f"not valid TOML: {exc}")]) from None
    problems = _Problems(file, key_lines(text))
    model = _file_model(raw, problems)

    web_users: dict[str, str] = {}
    secrets = _read_secrets(model, file, environ, problems, web_users)
    distributed = _distributed(model.distributed, secrets, environ, problems)
    notifications = _notifications(model.notifications, "notifications", secrets, environ, problems)
    web = WebConfig(**_resolve(model.web.model_dump(), "web", secrets, environ, problems))
    file_problems = len(problems.items)
    # Tenant problems are all found even when the file has its own: one pass shows them all.
    tenants: dict[str, TenantConfig] = {}
    broken: dict[str, tuple[tuple[str, str], ...]] = {}
    connection_settings: dict[str, dict[str, BaseModel]] = {}
    for tenant_name, tenant_raw in model.tenants.items():
        before = len(problems.items)
        tenant, whole = _tenant_model(tenant_name, tenant_raw, problems)
        resolved = _tenant(
            tenant_name, tenant, connectors, secrets, environ, problems, _keys(tenant_raw)
        )
        if tenant.notifications is not None:
            tenant = tenant.model_copy(
                update={
                    "notifications": _notifications(
                        tenant.notifications,
                        f"tenants.{tenant_name}.notifications",
                        secrets,
                        environ,
                        problems,
                    )
                }
            )
        if not whole or len(problems.items) > before:
            broken[tenant_name] = tuple(problems.items[before:])
            continue
        tenants[tenant_name] = tenant
        connection_settings[tenant_name] = resolved
    # The file's own problems (secrets file, distributed section) concern every tenant: all
    # stop, with every problem listed. So does a file where no tenant could run.
    if file_problems or not tenants:
        problems.raise_if_any()
    key_file = model.ledger.key_file
    return Config(
        file,
        _ledger_url(model.ledger.url, file),
        tenants,
        connection_settings,
        (*problems.warnings, *_broken_lines(file, broken)),
        str(file.parent / key_file) if key_file else None,
        broken,
        distributed,
        notifications,
        web,
        web_users,
        problems.key_lines,
    )


def _keys(tenant_raw: Any) -> frozenset[str]:
    """The connection names a tenant's table writes, whether or not they are valid: a flow
    naming one that is broken is not told it is undefined on top."""
    connections = tenant_raw.get("connections") if isinstance(tenant_raw, dict) else None
    return frozenset(connections) if isinstance(connections, dict) else frozenset()


def _file_model(raw: dict[str, Any], problems: _Problems) -> _FileModel:
    """The file's model; when it has problems, they are reported and each broken section is
    left at its default (a tenant table that is not a table is dropped), so that the tenants'
    own problems are still looked for in the same pass."""
    try:
        return _FileModel.model_validate(raw)
    except ValidationError as exc:
        _pydantic_problems(exc, "", problems, model=_FileModel)
        broken = {str(item["loc"][0]) for item in exc.errors() if item["loc"]}
    kept = {
        key: value
        for key, value in raw.items()
        if key in _FileModel.model_fields and key not in broken and key != "tenants"
    }
    raw_tenants = raw.get("tenants")
    tenants = {
        name: value
        for name, value in (raw_tenants if isinstance(raw_tenants, dict) else {}).items()
        if isinstance(value, dict)
    }
    # The sections left validate now (their errors were their own); a stand-in tenant passes
    # the at-least-one rule, whose problem is reported already.
    sound = _FileModel.model_validate({**kept, "tenants": {"-": {}}})
    return sound.model_copy(update={"tenants": tenants})


def _notifications(
    section: NotificationsConfig | None,
    path: str,
    secrets: Mapping[str, str],
    environ: Mapping[str, str],
    problems: _Problems,
) -> NotificationsConfig | None:
    """The section with its ``${...}`` references resolved; an SMTP password written out is an
    error, as any secret written in the file is."""
    if section is None:
        return None
    email = section.email
    if email is not None and email.password and not _REFERENCE.fullmatch(email.password):
        problems.add(
            f"{path}.email.password",
            'write it as "${ENV_VAR}" and set that variable or put it in the secrets file, '
            "never in the config file",
        )
        return None
    return NotificationsConfig(**_resolve(section.model_dump(), path, secrets, environ, problems))


def _broken_lines(file: Path, broken: Mapping[str, tuple[tuple[str, str], ...]]) -> list[str]:
    return [
        f"tenant {name!r} is not run: its config has {len(problems)} problem"
        f"{'' if len(problems) == 1 else 's'} (fjordsync config check {file})"
        for name, problems in sorted(broken.items())
    ]


def _tenant_model(name: str, raw: Any, problems: _Problems) -> tuple[TenantConfig, bool]:
    """The tenant's model and whether it is whole. With structural problems (reported here),
    the model keeps the connections and flows that are sound on their own, so that their
    settings and wiring are still checked in this pass; the tenant is broken either way."""
    try:
        return TenantConfig.model_validate(raw), True
    except ValidationError as exc:
        _pydantic_problems(exc, f"tenants.{name}", problems, model=TenantConfig)
    raw = raw if isinstance(raw, dict) else {}

    def sound(section: str, model: type[_Strict]) -> dict[str, Any]:
        entries = raw.get(section)
        kept: dict[str, Any] = {}
        for key, value in (entries if isinstance(entries, dict) else {}).items():
            try:
                kept[key] = model.model_validate(value)
            except ValidationError:  # its problems are reported above
                given = value if isinstance(value, dict) else {}
                ends = {side: given.get(side) for side in ("source", "target")}
                if model is FlowConfig and all(isinstance(end, str) for end in ends.values()):
                    # Its wiring can still be checked: the connections it names exist or not.
                    kept[key] = FlowConfig.model_construct(**ends)
        return kept

    return (
        TenantConfig(
            connections=sound("connections", ConnectionConfig),
            flows=sound("flows", FlowConfig),
        ),
        False,
    )


def _tenant(
    tenant_name: str,
    tenant: TenantConfig,
    connectors: Mapping[str, Any] | None,
    secrets: Mapping[str, str],
    environ: Mapping[str, str],
    problems: _Problems,
    written: frozenset[str] = frozenset(),
) -> dict[str, BaseModel]:
    """One tenant's connection settings, its secrets resolved, and its flows checked; every
    problem goes to ``problems``. ``written``: every connection name the file gives the tenant,
    the broken ones too."""
    base = f"tenants.{tenant_name}"
    resolved: dict[str, BaseModel] = {}
    for conn_name, connection in tenant.connections.items():
        settings = _connection_settings(
            connection, f"{base}.connections.{conn_name}", connectors, secrets, environ, problems
        )
        if settings is not None:
            resolved[conn_name] = settings
    for flow_name, flow in tenant.flows.items():
        _check_flow(
            flow_name, flow, tenant, f"{base}.flows.{flow_name}", connectors, problems, written
        )
    return resolved


def _url_password(url: str) -> str | None:
    try:
        return urlsplit(url).password
    except ValueError:
        return None


def _distributed(
    section: DistributedConfig,
    secrets: Mapping[str, str],
    environ: Mapping[str, str],
    problems: _Problems,
) -> DistributedConfig:
    """The section with its ``${...}`` references resolved. A password written out in a URL is
    an error, as any secret written in the file is."""
    values: dict[str, str | None] = {}
    for name in ("broker_url", "budget_redis_url"):
        raw = getattr(section, name)
        if raw is None:
            values[name] = None
            continue
        path = f"distributed.{name}"
        password = _url_password(raw)
        if password and not _REFERENCE.fullmatch(password):
            problems.add(
                path,
                'holds a password: write it as "${ENV_VAR}" (redis://:${REDIS_PASSWORD}@host) '
                "and set that variable or put it in the secrets file, never in the config file",
            )
            values[name] = None
            continue
        values[name] = _resolve(raw, path, secrets, environ, problems)
    return DistributedConfig(**values)


def _connection_settings(
    connection: ConnectionConfig,
    path: str,
    connectors: Mapping[str, Any] | None,
    secrets: Mapping[str, str],
    environ: Mapping[str, str],
    problems: _Problems,
) -> BaseModel | None:
    if connectors is None:
        return None
    registered = connectors.get(connection.plugin)
    if registered is None:
        known = ", ".join(sorted(connectors)) or "none"
        problems.add(
            f"{path}.plugin",
            f"no installed plugin provides connector {connection.plugin!r} "
            f"({_guess(connection.plugin, connectors)}installed: {known})",
        )
        return None
    model: type[BaseModel] = registered.connector.settings
    secret_fields = secret_settings(model)
    before = len(problems.items)
    for name in secret_fields:
        raw = connection.settings.get(name)
        if raw is not None and not (isinstance(raw, str) and _REFERENCE.search(raw)):
            problems.add(
                f"{path}.settings.{name}",
                'is a secret: write it as "${ENV_VAR}" and set that variable or put it in '
                "the secrets file, never in the config file",
            )
    # An unknown setting is told as such (with the closest known one), not also as a
    # variable it refers to that is not set: it is not resolved.
    values = {
        key: (
            _resolve(value, f"{path}.settings.{key}", secrets, environ, problems)
            if key in model.model_fields
            else value
        )
        for key, value in connection.settings.items()
    }
    # A setting with a problem already (a secret written out, a variable not set) is not judged
    # again; the others still are, so that one pass names them all.
    prefix = f"{path}.settings."
    reported = frozenset(
        re.split(r"[.\[]", problem_path[len(prefix) :])[0]
        for problem_path, _ in problems.items[before:]
        if problem_path.startswith(prefix)
    )
    try:
        settings = model.model_validate(values)
    except ValidationError as exc:
        sensitive = tuple(
            str(values[name]) for name in secret_fields if isinstance(values.get(name), str)
        ) + tuple(secrets.values())
        _pydantic_problems(
            exc,
            f"{path}.settings",
            problems,
            model=model,
            secret_fields=frozenset(secret_fields),
            sensitive=tuple(sorted(sensitive, key=len, reverse=True)),
            skip=reported,
        )
        return None
    return None if len(problems.items) > before else settings


# What a port lets a connection do, in the words of the wiring messages.
_PORT_WORDS = {
    "EmployeeReader": "read employees",
    "EmployeeWriter": "write employees",
    "EmploymentReader": "read employments",
    "EmploymentWriter": "write employments",
    "CompensationReader": "read salaries",
    "AbsenceReader": "read absences",
    "AbsenceWriter": "write absences",
    "ChildReader": "read employees' children",
    "ProjectReader": "read projects",
    "ProjectWriter": "write projects",
    "TimeEntryReader": "read hours",
    "ExportMarker": "mark hours as exported",
    "TimeEntryWriter": "write hours",
    "CodeListReader": "read code lists",
    "LicenseReader": "count free licenses",
}


def _in_words(ports: Iterable[str]) -> str:
    words = [_PORT_WORDS.get(port, f"implement {port}") for port in ports]
    return ", ".join(words[:-1]) + f" or {words[-1]}" if len(words) > 1 else words[0]


def _system(registered: Any) -> str:
    """The connector as a person names it: its title without the technical part in brackets
    ("24SevenOffice ERP (SOAP web services)" -> "24SevenOffice ERP")."""
    title = str(registered.connector.title or registered.connector.name)
    return title.split(" (")[0]


def _a(noun: str) -> str:
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"


def _check_flow(
    name: str,
    flow: FlowConfig,
    tenant: TenantConfig,
    path: str,
    connectors: Mapping[str, Any] | None,
    problems: _Problems,
    written: frozenset[str] = frozenset(),
) -> None:
    definition = FLOWS.get(name)
    if definition is None:
        suggestion = did_you_mean(name, FLOWS)
        problems.add(
            path, f"unknown flow {name!r}" + (suggestion or f" (known: {', '.join(FLOWS)})")
        )
    sides = (
        (("source", definition.source_ports), ("target", definition.target_ports))
        if definition is not None
        else (("source", ()), ("target", ()))  # still: are its connections defined?
    )
    for side, ports in sides:
        conn_name = getattr(flow, side)
        connection = tenant.connections.get(conn_name)
        if connection is None:
            if conn_name in written:
                continue  # the connection is there but broken: its problems say so
            defined = sorted({*tenant.connections, *written})
            problems.add(
                f"{path}.{side}",
                f"connection {conn_name!r} is not defined "
                f"({_guess(conn_name, defined)}defined: {', '.join(defined) or 'none'})",
            )
            continue
        registered = (connectors or {}).get(connection.plugin)
        if registered is None or definition is None:
            continue  # plugins not loaded, or the plugin problem is reported already
        if not registered.connector.capabilities:
            waiting = problems.flows_without_adapter.setdefault(registered, [])
            if name not in waiting:
                waiting.append(name)
            continue
        missing = [port for port in ports if port not in registered.connector.capabilities]
        if missing:
            problems.add(
                f"{path}.{side}",
                _wiring_problem(name, side, conn_name, tenant, registered, missing, connectors),
            )


def _wiring_problem(
    flow: str,
    side: str,
    conn_name: str,
    tenant: TenantConfig,
    registered: Any,
    missing: list[str],
    connectors: Mapping[str, Any] | None,
) -> str:
    """A connection that cannot take its side of a flow, in plain words, with the connections
    of the tenant that could (else the installed connectors that could)."""
    definition = FLOWS[flow]
    ports = definition.source_ports if side == "source" else definition.target_ports
    takes = "takes its source from" if side == "source" else "writes to"
    able = [
        f"{other} ({connection.plugin})"
        for other, connection in sorted(tenant.connections.items())
        if other != conn_name
        and connection.plugin in (connectors or {})
        and set(ports) <= set((connectors or {})[connection.plugin].connector.capabilities)
    ]
    if able:
        alternative = f"connections that can: {', '.join(able)}"
    else:
        plugins = [  # a connector for tests and demos is no advice for a real tenant
            plugin
            for plugin, other in sorted((connectors or {}).items())
            if set(ports) <= set(other.connector.capabilities) and not other.connector.testing
        ]
        alternative = (
            f"none of this tenant's connections can; connectors that can: {', '.join(plugins)}"
            if plugins
            else "no installed connector can"
        )
    return (
        f"flow {flow!r} {takes} connection {conn_name!r}, which is {_a(_system(registered))} "
        f"connection ({registered.connector.name}): it cannot {_in_words(missing)}; "
        f"{alternative}"
    )


# --- where a key is in the file ------------------------------------------------------------
#
# tomllib gives values, never positions, so problems would name a key path and leave the user
# to find it. ``key_lines`` scans the text for keys only (values are skipped, not parsed): table
# headers, ``[[arrays of tables]]`` (numbered as pydantic numbers them), dotted and quoted keys,
# inline tables and arrays, multi-line strings. It runs on text tomllib has accepted, so it need
# not diagnose anything; on text it does not follow it gives up quietly with what it found.


class _KeyScanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.line = 1
        self.lines: dict[str, int] = {}

    def _peek(self, ahead: int = 0) -> str:
        index = self.pos + ahead
        return self.text[index] if index < len(self.text) else ""

    def _advance(self, count: int = 1) -> None:
        for _ in range(count):
            if self._peek() == "\n":
                self.line += 1
            self.pos += 1

    def _record(self, path: tuple[str, ...], line: int) -> None:
        for end in range(1, len(path) + 1):
            self.lines.setdefault(".".join(path[:end]), line)

    def _skip_blank(self, newlines: bool) -> None:
        """Spaces and tabs; with ``newlines`` also line ends and comments (inside arrays, and
        between statements)."""
        while self._peek():
            char = self._peek()
            if char in " \t\r" or (newlines and char == "\n"):
                self._advance()
            elif char == "#" and newlines:
                while self._peek() and self._peek() != "\n":
                    self._advance()
            else:
                return

    def _string(self) -> str:
        quote = self._peek()
        if self.text.startswith(quote * 3, self.pos):
            self._advance(3)
            while self._peek() and not self.text.startswith(quote * 3, self.pos):
                self._advance(2 if quote == '"' and self._peek() == "\\" else 1)
            self._advance(3)
            while self._peek() == quote:  # up to two quotes may end the content
                self._advance()
            return ""
        self._advance()
        chars: list[str] = []
        while self._peek() and self._peek() not in (quote, "\n"):
            if quote == '"' and self._peek() == "\\":
                chars.append(self._peek(1))  # keys with escapes are rare; close enough
                self._advance(2)
                continue
            chars.append(self._peek())
            self._advance()
        self._advance()
        return "".join(chars)

    def _key(self) -> tuple[str, ...]:
        parts: list[str] = []
        while True:
            self._skip_blank(newlines=False)
            if self._peek() in ('"', "'"):
                parts.append(self._string())
            else:
                start = self.pos
                while self._peek() and (self._peek().isalnum() or self._peek() in "_-"):
                    self._advance()
                if self.pos == start:
                    raise ValueError("not a key")
                parts.append(self.text[start : self.pos])
            self._skip_blank(newlines=False)
            if self._peek() != ".":
                return tuple(parts)
            self._advance()

    def _value(self, path: tuple[str, ...]) -> None:
        self._skip_blank(newlines=False)
        char = self._peek()
        if char in ('"', "'"):
            self._string()
        elif char == "{":
            self._advance()
            while True:
                self._skip_blank(newlines=True)
                if self._peek() in ("}", ""):
                    self._advance()
                    return
                line = self.line
                key = path + self._key()
                self._record(key, line)
                self._advance()  # "="
                self._value(key)
                self._skip_blank(newlines=True)
                if self._peek() == ",":
                    self._advance()
        elif char == "[":
            self._advance()
            index = 0
            while True:
                self._skip_blank(newlines=True)
                if self._peek() in ("]", ""):
                    self._advance()
                    return
                element = (*path, str(index))
                self._record(element, self.line)
                self._value(element)
                index += 1
                self._skip_blank(newlines=True)
                if self._peek() == ",":
                    self._advance()
        else:  # a number, date, boolean: up to whatever ends it
            while self._peek() and self._peek() not in ",]}\n#":
                self._advance()

    def scan(self) -> dict[str, int]:
        table: tuple[str, ...] = ()
        counts: dict[tuple[str, ...], int] = {}
        try:
            while True:
                self._skip_blank(newlines=True)
                if not self._peek():
                    break
                line = self.line
                if self._peek() == "[":
                    array = self._peek(1) == "["
                    self._advance(2 if array else 1)
                    path = self._key()
                    self._advance(2 if array else 1)
                    if array:
                        counts[path] = counts.get(path, -1) + 1
                        path = (*path, str(counts[path]))
                    table = path
                    self._record(path, line)
                else:
                    key = table + self._key()
                    self._record(key, line)
                    self._advance()  # "="
                    self._value(key)
        except (ValueError, IndexError):
            pass  # what was found so far is still right
        return self.lines


def key_lines(text: str) -> dict[str, int]:
    """Each key path of a TOML text (``tenants.acme.flows.hours.source``, array elements as
    ``.0``) -> the line (from 1) where it is first written; a table's path -> its header's
    line."""
    return _KeyScanner(text).scan()


def line_of(lines: Mapping[str, int], path: str) -> int | None:
    """The line of ``path`` (a problem's key path; ``a[0]`` is ``a.0``), else of the nearest
    key above it that is written (a missing setting: its table), else None."""
    parts = [part for part in re.sub(r"\[(\d+)\]", r".\1", path).split(".") if part]
    while parts:
        line = lines.get(".".join(parts))
        if line is not None:
            return line
        parts.pop()
    return None
