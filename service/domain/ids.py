"""Object ids in OpenAI's shape: a type prefix and 24 random alphanumerics."""

import secrets
import string

_ALPHABET = string.ascii_letters + string.digits


def _random_suffix(length: int = 24) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def new_thread_id() -> str:
    return "thread_" + _random_suffix()


def new_message_id() -> str:
    return "msg_" + _random_suffix()
