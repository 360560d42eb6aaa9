"""The threads API's request bodies, as the official schema has them (Assistants v2), and
Azure's v1 shape (file_ids) beside them."""

from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, Discriminator, Field, Tag
from pydantic_core import PydanticCustomError

from ..domain.requests import HasMetadata, Strict, Text, by_type

# Limits the hosted API documents or enforces.
CONTENT_MAX_CHARS = 256_000
CONTENT_MAX_CHARS_V1 = 32_768
MESSAGES_PER_THREAD_CREATE_MAX = 32
ATTACHMENTS_MAX = 10
CONTENT_PARTS_MAX = 100


Detail = Literal["auto", "low", "high"]


class TextPart(Strict):
    type: Literal["text"]
    text: Annotated[Text, Field(min_length=1, max_length=CONTENT_MAX_CHARS)]


class ImageFile(Strict):
    file_id: Annotated[Text, Field(min_length=1)]
    detail: Detail | None = None


class ImageFilePart(Strict):
    type: Literal["image_file"]
    image_file: ImageFile


def _image_url(value: str) -> str:
    """The schema's `format: uri`, "the external URL of the image": an http(s) URL with a host,
    or a data URL of an image."""
    parts = urlsplit(value)
    if parts.scheme in ("http", "https") and parts.netloc:
        return value
    if parts.scheme == "data" and parts.path.startswith("image/"):
        return value
    raise PydanticCustomError(
        "image_url", "expected the URL of an image (http, https, or a data URL of an image)"
    )


class ImageUrl(Strict):
    url: Annotated[Text, Field(min_length=1), AfterValidator(_image_url)]
    detail: Detail | None = None


class ImageUrlPart(Strict):
    type: Literal["image_url"]
    image_url: ImageUrl


ContentPart = Annotated[
    Annotated[TextPart, Tag("#text")]
    | Annotated[ImageFilePart, Tag("#image_file")]
    | Annotated[ImageUrlPart, Tag("#image_url")],
    Discriminator(by_type),
]


def _str_or_list(value: Any) -> str | None:
    if isinstance(value, str):
        return "#string"
    if isinstance(value, list):
        return "#array"
    return None


Content = Annotated[
    Annotated[Annotated[Text, Field(min_length=1, max_length=CONTENT_MAX_CHARS)], Tag("#string")]
    | Annotated[
        Annotated[list[ContentPart], Field(min_length=1, max_length=CONTENT_PARTS_MAX)],
        Tag("#array"),
    ],
    Discriminator(_str_or_list),
]


class CodeInterpreterTool(Strict):
    type: Literal["code_interpreter"]


class FileSearchTool(Strict):
    type: Literal["file_search"]


Tool = Annotated[
    Annotated[CodeInterpreterTool, Tag("#code_interpreter")]
    | Annotated[FileSearchTool, Tag("#file_search")],
    Discriminator(by_type),
]


class Attachment(Strict):
    file_id: Annotated[Text, Field(min_length=1)]
    tools: list[Tool]


class CreateMessage(HasMetadata):
    role: Literal["user", "assistant"]
    content: Content
    attachments: Annotated[list[Attachment], Field(max_length=ATTACHMENTS_MAX)] | None = None


class CodeInterpreterResources(Strict):
    file_ids: Annotated[list[Text], Field(max_length=20, default_factory=list)]


class FileSearchResources(Strict):
    vector_store_ids: Annotated[list[Text], Field(max_length=1)] | None = None


class ToolResources(Strict):
    code_interpreter: CodeInterpreterResources | None = None
    file_search: FileSearchResources | None = None


class CreateThread(HasMetadata):
    messages: (
        Annotated[list[CreateMessage], Field(max_length=MESSAGES_PER_THREAD_CREATE_MAX)] | None
    ) = None
    tool_resources: ToolResources | None = None


class ModifyThread(HasMetadata):
    tool_resources: ToolResources | None = None


class ModifyMessage(HasMetadata):
    pass


# Azure's Assistants v1 shape (api-version 2024-02-15-preview and its siblings): a message is a
# user's string with up to 10 file ids; threads have no tool resources.
class CreateMessageV1(HasMetadata):
    role: Literal["user"]
    content: Annotated[Text, Field(min_length=1, max_length=CONTENT_MAX_CHARS_V1)]
    file_ids: Annotated[
        list[Annotated[Text, Field(min_length=1)]],
        Field(min_length=1, max_length=ATTACHMENTS_MAX, default_factory=list),
    ]

    def as_v2(self) -> CreateMessage:
        """The same message in the v2 shape: each file is an attachment with no tools."""
        return CreateMessage.model_construct(
            role=self.role,
            content=self.content,
            attachments=[Attachment.model_construct(file_id=f, tools=[]) for f in self.file_ids],
            metadata=self.metadata,
        )


class CreateThreadV1(HasMetadata):
    messages: (
        Annotated[list[CreateMessageV1], Field(max_length=MESSAGES_PER_THREAD_CREATE_MAX)] | None
    ) = None

    def as_v2(self) -> CreateThread:
        return CreateThread.model_construct(
            messages=[m.as_v2() for m in self.messages or ()],
            metadata=self.metadata,
            tool_resources=None,
        )


class ModifyThreadV1(HasMetadata):
    def as_v2(self) -> ModifyThread:
        return ModifyThread.model_construct(metadata=self.metadata, tool_resources=None)
