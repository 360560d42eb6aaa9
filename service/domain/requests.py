"""What every request body shares: strict pydantic models, metadata, and OpenAI-style errors.

Each resource's models (service/threads/requests.py, ...) build on these. Models are strict
(no coercion: an integer is not a string) and forbid unknown fields, as the hosted API does.
Unions use callable discriminators whose tags start with '#', so an error's location can be
turned back into the parameter path the client sent (``content[0].text``).
"""

from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)
from pydantic_core import PydanticCustomError

from .errors import InvalidRequest

M = TypeVar("M", bound=BaseModel)

# Metadata limits the hosted API documents or enforces: 16 pairs, keys <= 64, values <= 512.
METADATA_MAX_PAIRS = 16
METADATA_KEY_MAX = 64
METADATA_VALUE_MAX = 512


def _no_null_character(value: str) -> str:
    # Postgres text and jsonb cannot hold U+0000: refuse it here, as bad input, not a 500.
    if "\x00" in value:
        raise PydanticCustomError("null_character", "string contains a null character (U+0000)")
    return value


Text = Annotated[str, AfterValidator(_no_null_character)]


class Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


Metadata = dict[
    Annotated[Text, Field(max_length=METADATA_KEY_MAX)],
    Annotated[Text, Field(max_length=METADATA_VALUE_MAX)],
]


class HasMetadata(Strict):
    metadata: Metadata | None = None

    @field_validator("metadata")
    @classmethod
    def _at_most_16_pairs(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        if value is not None and len(value) > METADATA_MAX_PAIRS:
            raise InvalidRequest(
                "Invalid 'metadata': too many properties. Expected an object with at most "
                f"{METADATA_MAX_PAIRS} properties, but got an object with {len(value)} "
                "properties instead.",
                param="metadata",
                code="object_above_max_properties",
            )
        return value


def by_type(value: Any) -> str | None:
    """The union tag of a part or tool: from a JSON object, or a model when serialising."""
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return "#" + kind if isinstance(kind, str) else None


def parse_body(model: type[M], body: bytes) -> M:
    """Validates a JSON body; an empty body is an empty object, as the SDK may send none."""
    try:
        return model.model_validate_json(body or b"{}")
    except ValidationError as exc:
        raise _as_invalid_request(exc) from None


def _param_path(loc: tuple[int | str, ...]) -> str:
    if loc and loc[-1] == "[key]":
        # A metadata key was rejected: the parameter is the map, not the offending key.
        loc = loc[:-2]
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part.startswith("#") or part.startswith("function-"):
            continue
        else:
            path += f".{part}" if path else part
    return path


_TYPE_NAMES = {
    str: "a string",
    bool: "a boolean",
    int: "an integer",
    float: "a decimal",
    list: "an array",
    dict: "an object",
    type(None): "null",
}

_EXPECTED = {
    "string_type": "a string",
    "list_type": "an array",
    "dict_type": "an object",
    "model_type": "an object",
    "model_attributes_type": "an object",
    "bool_type": "a boolean",
    "int_type": "an integer",
    "literal_error": "a string",
}


def _got(value: Any) -> str:
    return _TYPE_NAMES.get(type(value), "an unsupported value")


def _as_invalid_request(exc: ValidationError) -> InvalidRequest:
    err = exc.errors(include_url=False)[0]
    kind, loc, value, ctx = err["type"], err["loc"], err.get("input"), err.get("ctx") or {}
    param = _param_path(loc) or None
    if kind == "json_invalid":
        return InvalidRequest(
            "We could not parse the JSON body of your request. (HINT: This likely means you "
            "aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, "
            "but what was sent was not valid JSON.)",
        )
    if param is None and kind in ("model_type", "model_attributes_type", "dict_type"):
        return InvalidRequest(
            f"Invalid body: expected an object, but got {_got(value)} instead.",
            code="invalid_type",
        )
    if kind == "extra_forbidden":
        name = str(loc[-1])
        return InvalidRequest(
            f"Unrecognized request argument supplied: {name}",
            param=param,
            code="unknown_parameter",
        )
    if kind == "missing":
        return InvalidRequest(
            f"Missing required parameter: '{param}'.",
            param=param,
            code="missing_required_parameter",
        )
    if kind == "literal_error" and isinstance(value, str):
        expected = ctx.get("expected", "")
        return InvalidRequest(
            f"Invalid value: '{value}'. Supported values are: {expected}.",
            param=param,
            code="invalid_value",
        )
    if kind in ("union_tag_invalid", "union_tag_not_found") or (
        kind == "model_attributes_type" and param and param.endswith("]")
    ):
        if isinstance(value, dict) and "type" in value:
            return InvalidRequest(
                f"Invalid value: '{value['type']}'. Supported values are: " + _tags_of(ctx) + ".",
                param=f"{param}.type" if param else "type",
                code="invalid_value",
            )
        expected = "a string or an array" if param == "content" else "an object"
        if isinstance(value, dict):
            return InvalidRequest(
                f"Missing required parameter: '{param}.type'.",
                param=f"{param}.type",
                code="missing_required_parameter",
            )
        return InvalidRequest(
            f"Invalid type for '{param}': expected {expected}, but got {_got(value)} instead.",
            param=param,
            code="invalid_type",
        )
    if kind in _EXPECTED or kind.endswith("_type"):
        expected = _EXPECTED.get(kind, "a " + kind.removesuffix("_type"))
        return InvalidRequest(
            f"Invalid type for '{param}': expected {expected}, but got {_got(value)} instead.",
            param=param,
            code="invalid_type",
        )
    if kind == "null_character":
        return InvalidRequest(
            f"Invalid '{param}': the string contains a null character (U+0000), which is not "
            "supported.",
            param=param,
            code="invalid_value",
        )
    if kind in ("too_short", "too_long") and isinstance(value, str):
        # Constraints on an annotated string report as generic length errors.
        kind = "string_" + kind
    if kind == "string_too_short":
        return InvalidRequest(
            f"Invalid '{param}': string too short. Expected a string with minimum length "
            f"{ctx.get('min_length')}, but got an empty string instead.",
            param=param,
            code="string_below_min_length",
        )
    if kind == "string_too_long":
        return InvalidRequest(
            f"Invalid '{param}': string too long. Expected a string with maximum length "
            f"{ctx.get('max_length')}, but got a string with length {len(value)} instead.",
            param=param,
            code="string_above_max_length",
        )
    if kind == "too_short":
        return InvalidRequest(
            f"Invalid '{param}': empty array. Expected an array with minimum length "
            f"{ctx.get('min_length')}, but got an empty array instead.",
            param=param,
            code="empty_array",
        )
    if kind == "too_long":
        return InvalidRequest(
            f"Invalid '{param}': array too long. Expected an array with maximum length "
            f"{ctx.get('max_length')}, but got an array with length {ctx.get('actual_length')} "
            "instead.",
            param=param,
            code="array_above_max_length",
        )
    return InvalidRequest(f"Invalid '{param}': {err['msg']}.", param=param, code="invalid_value")


def _tags_of(ctx: dict[str, Any]) -> str:
    tags = [t.strip(" '") for t in str(ctx.get("expected_tags", "")).split(",") if t.strip()]
    return ", ".join(f"'{t.lstrip('#')}'" for t in tags)
