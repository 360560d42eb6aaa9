"""How a modify request changes an object's metadata.

OpenAI documents no merge: its own .NET client calls the field "a replacement for" the map, and
compatible servers replace it. So: metadata sent replaces the whole map; metadata left out
leaves it as it is; `"metadata": null` clears it (the object then shows `{}`, as one created
without metadata does). The 16-pair limit applies to the map sent, which is the whole result.
"""


def updated_metadata(current: dict[str, str], update: dict[str, str] | None) -> dict[str, str]:
    """The metadata after a modify that sent `update` (only call when metadata was sent)."""
    del current  # replaced, never merged: see the module docstring
    return dict(update) if update else {}
