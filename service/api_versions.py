"""Azure OpenAI's api-version: which versions exist for threads, and the shape each speaks.

The version, not the OpenAI-Beta header (the SDK always sends v2's), decides the shape:
the 2024-02-15-preview family is the Assistants v1 shape (file_ids), 2024-05-01-preview and
later previews are v2 (attachments).
"""

from .domain.errors import InvalidRequest
from .domain.render import Shape

V1_VERSIONS = ("2024-02-15-preview", "2024-03-01-preview", "2024-04-01-preview")
V2_VERSIONS = (
    "2024-05-01-preview",
    "2024-07-01-preview",
    "2024-08-01-preview",
    "2024-09-01-preview",
    "2024-10-01-preview",
    "2024-12-01-preview",
    "2025-01-01-preview",
    "2025-02-01-preview",
    "2025-03-01-preview",
    "2025-04-01-preview",
)
SHAPES: dict[str, Shape] = {v: "v1" for v in V1_VERSIONS} | {v: "v2" for v in V2_VERSIONS}


def shape_of(api_version: str | None) -> Shape:
    if api_version is None or api_version not in SHAPES:
        supported = ", ".join(SHAPES)
        given = "Missing" if api_version is None else f"Unsupported api-version '{api_version}'"
        if api_version is None:
            given += " required query parameter 'api-version'"
        raise InvalidRequest(
            f"{given}. Supported versions: {supported}.",
            param="api-version",
            code="invalid_api_version" if api_version is not None else "missing_api_version",
        )
    return SHAPES[api_version]
