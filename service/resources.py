"""The one place each resource registers: its events and projections with the log's kernel,
its routes with the HTTP app. A new resource is a folder beside service/threads/ and one line
here (docs/architecture.md lists the files it adds)."""

from eventlog import registry

from .threads import projection as threads
from .threads import routes as thread_routes

registry.register(threads.RESOURCE)

# Every route of every resource, under OpenAI's /v1 and Azure's /openai prefixes alike...
ROUTES = [*thread_routes.ROUTES]
# ...and those of Azure's v1 shape only, under /openai.
AZURE_V1_ROUTES = [*thread_routes.AZURE_V1_ROUTES]
