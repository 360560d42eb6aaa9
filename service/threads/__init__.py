"""The threads resource (Assistants API threads and messages, OpenAI's and Azure's shapes).

requests.py (bodies), events.py (its events and ids), state.py (an object's state from its
events), render.py (response objects), upcasting.py (older event shapes), projection.py (its
views, and what the kernel registers), views.py (view reads), operations.py (the verbs),
routes.py (HTTP), and its SQL in sql/threads/.
"""
