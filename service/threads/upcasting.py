"""Older shapes of the threads' event data, brought to today's (eventlog/upcasting.py).

The one change so far: MessageCreated first carried a v1-style `file_ids` list (Azure's
2024-02-15-preview shape, which is how the first threads were written) before `attachments`
replaced it. Such an event reads as one whose files are attachments with no tools.
"""

from eventlog.upcasting import Data


def message_file_ids_to_attachments(data: Data) -> Data:
    if "attachments" in data or "file_ids" not in data:
        return data
    upcast = {k: v for k, v in data.items() if k != "file_ids"}
    upcast["attachments"] = [{"file_id": f, "tools": []} for f in data["file_ids"]]
    return upcast
