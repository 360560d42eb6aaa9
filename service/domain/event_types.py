"""The names of the log's event types, and what each is published as."""

THREAD_CREATED = "ThreadCreated"
THREAD_MODIFIED = "ThreadModified"
THREAD_DELETED = "ThreadDeleted"
MESSAGE_CREATED = "MessageCreated"
MESSAGE_MODIFIED = "MessageModified"
MESSAGE_DELETED = "MessageDeleted"

# The OpenAI-style name each event type is published under. OpenAI names the first two; the
# others are this service's extensions, named in the same style.
EVENT_NAMES = {
    THREAD_CREATED: "thread.created",
    THREAD_MODIFIED: "thread.modified",
    THREAD_DELETED: "thread.deleted",
    MESSAGE_CREATED: "thread.message.created",
    MESSAGE_MODIFIED: "thread.message.modified",
    MESSAGE_DELETED: "thread.message.deleted",
}
