"""Settings, read from the environment once at start.

Each field names its environment variable (its validation alias) and holds its one default.
`Settings.from_env()` reads the environment, an empty variable meaning the default; building
`Settings(pool_min=1, ...)` by field name reads nothing but what it is given.
"""

import re
from contextvars import ContextVar
from typing import Annotated, Any

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from pydantic_settings.exceptions import SettingsError


class ConfigError(Exception):
    pass


def parse_api_keys(text: str) -> dict[str, str]:
    """THREADLOG_API_KEYS: comma-separated key:project pairs."""
    keys: dict[str, str] = {}
    for pair in filter(None, (p.strip() for p in text.split(","))):
        key, sep, project = pair.partition(":")
        if not sep or not key or not project:
            raise ConfigError(f"THREADLOG_API_KEYS: expected key:project, got {pair[:4]}...")
        keys[key] = project
    return keys


# Set only while `Settings.from_env` builds: then the environment is a source, else not.
_READING_ENVIRONMENT: ContextVar[bool] = ContextVar("_READING_ENVIRONMENT", default=False)


class _Environment(EnvSettingsSource):
    """The environment, looked up by each field's variable (THREADLOG_DB_POOL_MIN) only.

    `validate_by_name` lets code pass `pool_min=`; pydantic-settings would then also read a
    variable named `pool_min`, which is not one of ours."""

    def __init__(self, settings_cls: type[BaseSettings]) -> None:
        super().__init__(settings_cls)
        self.config = {**self.config, "validate_by_name": False, "populate_by_name": False}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        frozen=True,
        extra="forbid",
        case_sensitive=True,
        env_ignore_empty=True,
        validate_by_name=True,
        validate_by_alias=True,
    )

    database_url: str = Field(
        "postgresql://postgres@127.0.0.1:5432/postgres", validation_alias="DATABASE_URL"
    )
    redis_url: str = Field("redis://127.0.0.1:6379/0", validation_alias="REDIS_URL")
    api_keys: Annotated[dict[str, str], NoDecode] = Field(
        default_factory=dict, validation_alias="THREADLOG_API_KEYS", repr=False
    )
    redis_prefix: str = Field("threadlog", validation_alias="THREADLOG_REDIS_PREFIX")
    # How long a write waits for the projector before answering from the event itself.
    read_your_writes_timeout: float = Field(
        5.0, validation_alias="THREADLOG_READ_YOUR_WRITES_TIMEOUT", gt=0
    )
    max_body_bytes: int = Field(4 * 1024 * 1024, validation_alias="THREADLOG_MAX_BODY_BYTES", ge=1)
    # Opened at start (all of them by default), so no request waits for one to open.
    pool_min: int = Field(10, validation_alias="THREADLOG_DB_POOL_MIN", ge=1)
    pool_max: int = Field(10, validation_alias="THREADLOG_DB_POOL_MAX", ge=1)
    stream_maxlen: int = Field(1_000_000, validation_alias="THREADLOG_STREAM_MAXLEN", ge=1)
    thread_stream_maxlen: int = Field(
        10_000, validation_alias="THREADLOG_THREAD_STREAM_MAXLEN", ge=1
    )
    # Split the global stream into this many streams, by thread (for Redis Cluster).
    stream_partitions: int = Field(1, validation_alias="THREADLOG_STREAM_PARTITIONS", ge=1)
    # REDIS_URL names one node of a Redis Cluster; the client finds the others from it.
    redis_cluster: bool = Field(False, validation_alias="THREADLOG_REDIS_CLUSTER")
    sse_heartbeat_seconds: float = Field(
        15.0, validation_alias="THREADLOG_SSE_HEARTBEAT_SECONDS", gt=0
    )
    # 0: no rate limit.
    rate_limit_rpm: int = Field(0, validation_alias="THREADLOG_RATE_LIMIT_RPM", ge=0)
    # The limiter divides time by the window: at least a second.
    rate_limit_window_seconds: int = Field(
        60, validation_alias="THREADLOG_RATE_LIMIT_WINDOW_SECONDS", ge=1
    )
    request_timeout_seconds: float = Field(
        30.0, validation_alias="THREADLOG_REQUEST_TIMEOUT_SECONDS", gt=0
    )
    max_inflight: int = Field(512, validation_alias="THREADLOG_MAX_INFLIGHT", ge=1)
    ready_max_lag_seconds: float = Field(
        30.0, validation_alias="THREADLOG_READY_MAX_LAG_SECONDS", gt=0
    )
    # A Postgres read replica (streaming) for retrieve and list, or None for the primary.
    read_database_url: str | None = Field(None, validation_alias="THREADLOG_READ_DATABASE_URL")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Keywords first, so from_env's overrides win over the environment.
        if _READING_ENVIRONMENT.get():
            return init_settings, _Environment(settings_cls)
        return (init_settings,)

    @field_validator("api_keys", mode="before")
    @classmethod
    def _parse_api_keys(cls, value: Any) -> Any:
        return parse_api_keys(value) if isinstance(value, str) else value

    @field_validator("redis_cluster", mode="before")
    @classmethod
    def _strip_switch(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _pool_bounds(self) -> "Settings":
        if self.pool_min > self.pool_max:
            raise ValueError(
                f"THREADLOG_DB_POOL_MIN: expected at most THREADLOG_DB_POOL_MAX "
                f"({self.pool_max}), got {self.pool_min}"
            )
        return self

    @classmethod
    def from_env(cls, **overrides: object) -> "Settings":
        """The settings from the environment, with `overrides` (by field name) on top."""
        token = _READING_ENVIRONMENT.set(True)
        try:
            return cls(**overrides)
        except ValidationError as exc:
            raise ConfigError(_describe(exc)) from None
        except SettingsError as exc:
            raise ConfigError(str(exc)) from None
        finally:
            _READING_ENVIRONMENT.reset(token)


# Each field, by name or by variable, to its variable.
_VARIABLES: dict[str, str] = {
    key: str(field.validation_alias)
    for name, field in Settings.model_fields.items()
    for key in (name, str(field.validation_alias))
}
_SECRET = {"THREADLOG_API_KEYS"}
_URLS = {"DATABASE_URL", "REDIS_URL", "THREADLOG_READ_DATABASE_URL"}
_URL_PASSWORD = re.compile(r"(://[^/@:]*:)[^/@]*@")


def masked(url: str) -> str:
    """A server URL as it may be shown: its password, if any, replaced by ***."""
    return _URL_PASSWORD.sub(r"\1***@", url)


_EXPECTED = {
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "int_type": "an integer",
    "float_parsing": "a number",
    "float_type": "a number",
    "finite_number": "a finite number",
    "bool_parsing": "true or false",
    "bool_type": "true or false",
    "string_type": "a string",
    "dict_type": "key:project pairs",
}


def _shown(variable: str | None, value: object) -> str:
    if variable in _SECRET:
        return ""
    text = str(value)
    if variable in _URLS:
        text = masked(text)
    if len(text) > 32:
        text = text[:32] + "..."
    return f", got {text!r}"


def _problem(error: Any) -> str:
    """One pydantic error as `VARIABLE: expected ..., got '...'`."""
    loc = error.get("loc") or ()
    variable = _VARIABLES.get(str(loc[0])) if loc else None
    name = variable or ".".join(map(str, loc)) or "settings"
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "value_error":  # our own validators word the whole problem
        message = str(ctx.get("error", error["msg"]))
        return message if variable is None else f"{variable}: {message}"
    if kind == "extra_forbidden":
        return f"{name}: not a setting"
    if kind in _EXPECTED:
        expected = _EXPECTED[kind]
    elif kind == "greater_than_equal":
        expected = f"an integer of at least {ctx['ge']:g}"
    elif kind == "greater_than":
        expected = f"a number greater than {ctx['gt']:g}"
    else:
        expected = error["msg"][:1].lower() + error["msg"][1:]
    return f"{name}: expected {expected}{_shown(variable, error.get('input'))}"


def _describe(exc: ValidationError) -> str:
    return "; ".join(_problem(error) for error in exc.errors(include_url=False))
